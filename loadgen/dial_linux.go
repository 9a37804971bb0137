package loadgen

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// manySources reports whether sockets may come from any 127.0.0.0/8
// address: on Linux the whole block is local.
const manySources = true

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h): a socket
// bound to an address before it connects gets its port when it connects,
// chosen so that only the four-tuple must be unique (and a port in
// TIME_WAIT on loopback may be reused), instead of at bind, where the port
// must be free on that address for any destination.
const ipBindAddressNoPort = 24

// bindNoPort is the dialer's Control function for sockets bound to a
// source address.
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); err != nil {
		return err
	}
	return serr
}

// ephemeralPorts returns how many local ports the kernel hands out to
// outgoing connections (net.ipv4.ip_local_port_range).
func ephemeralPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 28232
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 28232
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 28232
	}
	return hi - lo + 1
}
