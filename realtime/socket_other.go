//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package realtime

// canWaitReadable reports whether readable works on this system. Where it
// does not, a reader blocks in its read holding a pooled buffer, which
// costs memory but nothing else.
const canWaitReadable = false

func readable(fd uintptr) bool { return true }
