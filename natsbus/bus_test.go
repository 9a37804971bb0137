package natsbus_test

import (
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/natsbus"
)

// TestBusEmbedded runs the conformance suite against a NATS server started
// inside the test, so it needs nothing installed.
func TestBusEmbedded(t *testing.T) {
	url := runServer(t, -1).ClientURL()
	bustest.Run(t, newPair(url))
}

// TestBusExternal runs the conformance suite against the real server named
// by PARLEY_TEST_NATS. CI must run it, so there a missing server fails.
func TestBusExternal(t *testing.T) {
	url := os.Getenv("PARLEY_TEST_NATS")
	if url == "" {
		if inCI() {
			t.Fatal("PARLEY_TEST_NATS is not set; CI must run the NATS suite against a real server (e.g. PARLEY_TEST_NATS=nats://127.0.0.1:4222)")
		}
		t.Skip("PARLEY_TEST_NATS is not set; set it (e.g. nats://127.0.0.1:4222) to run the suite against a real NATS server")
	}
	bus := mustNew(t, url, natsbus.WithSubjectPrefix(uniquePrefix()))
	if err := bus.Ready(); err != nil {
		t.Fatalf("Ready = %v, want nil", err)
	}
	bustest.Run(t, newPair(url))
}

// TestReconnect stops the server under a bus and starts it again on the same
// port: the bus must report that it is not ready meanwhile, buffer what is
// published, and resume delivery, its subscription restored, on reconnect.
func TestReconnect(t *testing.T) {
	srv := runServer(t, -1)
	port := srv.Addr().(*net.TCPAddr).Port
	bus := mustNew(t, srv.ClientURL(),
		natsbus.WithSubjectPrefix(uniquePrefix()),
		natsbus.WithNATSOptions(nats.ReconnectWait(20*time.Millisecond)),
	)
	got := make(chan []parley.Event, 10)
	cancel, err := bus.Subscribe(func(events []parley.Event) { got <- events })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if err := bus.Ready(); err != nil {
		t.Fatalf("Ready = %v, want nil", err)
	}

	srv.Shutdown()
	srv.WaitForShutdown()
	waitUntil(t, "Ready to fail", func() bool { return bus.Ready() != nil })
	if code := parley.ErrorCode(bus.Ready()); code != parley.EUNAVAILABLE {
		t.Errorf("Ready while disconnected: code %q, want %q", code, parley.EUNAVAILABLE)
	}
	if err := bus.Publish(t.Context(), []parley.Event{{ID: 1, Type: parley.EventMessageCreated}}); err != nil {
		t.Fatalf("Publish while disconnected = %v, want nil (buffered)", err)
	}

	runServer(t, port)
	waitUntil(t, "Ready to succeed", func() bool { return bus.Ready() == nil })
	if err := bus.Publish(t.Context(), []parley.Event{{ID: 2, Type: parley.EventMessageCreated}}); err != nil {
		t.Fatalf("Publish after reconnect: %v", err)
	}
	for want := int64(1); want <= 2; want++ {
		select {
		case events := <-got:
			if len(events) != 1 || events[0].ID != want {
				t.Fatalf("received %+v, want event %d", events, want)
			}
		case <-time.After(bustest.Timeout):
			t.Fatalf("event %d not delivered after reconnect", want)
		}
	}

	if err := bus.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if code := parley.ErrorCode(bus.Ready()); code != parley.EUNAVAILABLE {
		t.Errorf("Ready after Close: code %q, want %q", code, parley.EUNAVAILABLE)
	}
}

func TestNewUnreachable(t *testing.T) {
	// Nothing listens on port 1; the connection is refused at once.
	if bus, err := natsbus.New("nats://127.0.0.1:1", natsbus.WithLogger(testLogger(t))); err == nil {
		bus.Close()
		t.Fatal("New succeeded without a server")
	}
}

func TestNewInvalidPrefix(t *testing.T) {
	url := runServer(t, -1).ClientURL()
	for _, prefix := range []string{"", "parley events", "parley.*", "parley.>", "parley..events", ".parley", "parley."} {
		if bus, err := natsbus.New(url, natsbus.WithSubjectPrefix(prefix), natsbus.WithLogger(testLogger(t))); err == nil {
			bus.Close()
			t.Errorf("New with prefix %q succeeded", prefix)
		}
	}
}

// TestTooLarge checks that a batch over the server's maximum payload fails
// with ETOOLARGE instead of being lost silently.
func TestTooLarge(t *testing.T) {
	bus := mustNew(t, runServer(t, -1).ClientURL(), natsbus.WithSubjectPrefix(uniquePrefix()))
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = 'x'
	}
	err := bus.Publish(t.Context(), []parley.Event{{Type: "big", Data: append(append([]byte{'"'}, big...), '"')}})
	if code := parley.ErrorCode(err); code != parley.ETOOLARGE {
		t.Fatalf("Publish of 2 MB = %v, want code %s", err, parley.ETOOLARGE)
	}
}

// newPair returns a bustest constructor: two buses, two nodes, on url with a
// prefix of their own, so neither earlier subtests nor other users of a
// shared server can leak batches into the test.
func newPair(url string) func(t *testing.T) (a, b parley.Bus) {
	return func(t *testing.T) (a, b parley.Bus) {
		prefix := natsbus.WithSubjectPrefix(uniquePrefix())
		return mustNew(t, url, prefix), mustNew(t, url, prefix)
	}
}

// mustNew connects a bus that logs to the test and is closed when it ends.
func mustNew(t *testing.T, url string, opts ...natsbus.Option) *natsbus.Bus {
	t.Helper()
	bus, err := natsbus.New(url, append([]natsbus.Option{natsbus.WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("natsbus.New: %v", err)
	}
	t.Cleanup(func() {
		if err := bus.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return bus
}

// runServer starts a NATS server on 127.0.0.1 and the given port (-1 for a
// random one) and shuts it down when the test ends.
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(bustest.Timeout) {
		t.Fatal("nats server did not start")
	}
	return srv
}

func uniquePrefix() string { return "parley.test." + rand.Text() }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitUntil polls cond, which watches a connection state nothing signals,
// and fails the test if it does not hold within bustest.Timeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bustest.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", bustest.Timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inCI reports whether the tests run in CI, where every service suite must
// run rather than skip.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}
