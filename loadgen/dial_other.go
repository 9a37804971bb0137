//go:build !linux

package loadgen

import "syscall"

// manySources reports whether sockets may come from any 127.0.0.0/8
// address; elsewhere than on Linux usually only 127.0.0.1 is configured.
const manySources = false

func bindNoPort(network, address string, c syscall.RawConn) error { return nil }

func ephemeralPorts() int { return 28232 }
