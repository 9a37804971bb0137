//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package realtime

import "syscall"

// canWaitReadable reports whether readable works on this system.
const canWaitReadable = true

// readable reports whether the socket fd has data, its end or an error to
// read, without taking any of it; false makes syscall.RawConn.Read wait
// for readability and ask again. (Go's sockets are non-blocking, so the
// peek never blocks.)
func readable(fd uintptr) bool {
	var b [1]byte
	for {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		return true
	}
}
