package loadgen

import (
	"context"
	"fmt"
	"net"
	"testing"
)

// TestWSTransportSpreadsSources: with more connections than one source
// address has ports for, sockets to a loopback server come from
// 127.0.0.2, 127.0.0.3, ... in turn; with few, from the default address.
func TestWSTransportSpreadsSources(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Addr, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c.RemoteAddr()
			defer c.Close()
		}
	}()
	base := "http://" + ln.Addr().String()

	if _, sources := wsTransport(base, 100); sources != 1 {
		t.Fatalf("100 connections use %d source addresses, want 1", sources)
	}
	conns := 2*(ephemeralPorts()*2/3) + 1 // just over two addresses' worth
	tr, sources := wsTransport(base, conns)
	if !manySources {
		if sources != 1 {
			t.Fatalf("%d source addresses where only 127.0.0.1 can be relied on", sources)
		}
		t.Skip("one source address on this system")
	}
	if sources != 3 {
		t.Fatalf("%d connections use %d source addresses, want 3", conns, sources)
	}
	seen := map[string]int{}
	for range 6 {
		c, err := tr.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		local := c.LocalAddr().(*net.TCPAddr).IP.String()
		if remote := (<-accepted).(*net.TCPAddr).IP.String(); remote != local {
			t.Fatalf("the server saw %s, the client dialled from %s", remote, local)
		}
		seen[local]++
	}
	for i := 2; i <= 4; i++ {
		if ip := fmt.Sprintf("127.0.0.%d", i); seen[ip] != 2 {
			t.Errorf("%s used %d times, want 2 (all: %v)", ip, seen[ip], seen)
		}
	}
}

// TestRaiseFileLimitKeepsEnough: asking for no more than the current
// soft limit succeeds and lowers nothing.
func TestRaiseFileLimitKeepsEnough(t *testing.T) {
	before := fileLimit(t)
	if err := RaiseFileLimit(64); err != nil {
		t.Fatal(err)
	}
	if after := fileLimit(t); after != before {
		t.Fatalf("the limit went from %v to %v", before, after)
	}
}
