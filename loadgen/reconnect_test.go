package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// helloCounter is an Observer that counts hellos.
type helloCounter struct {
	first, again atomic.Int64
	mu           sync.Mutex
	waits        []time.Duration // lost to hello, per resume
}

func (h *helloCounter) Hello(_ int64, resp *http.Response, lost, at time.Time) {
	if lost.IsZero() {
		h.first.Add(1)
		return
	}
	h.again.Add(1)
	h.mu.Lock()
	h.waits = append(h.waits, at.Sub(lost))
	h.mu.Unlock()
}
func (h *helloCounter) Received(int64, int64, int64, int64) {}
func (h *helloCounter) Acked(int64, string)                 {}

// TestBenchReconnectTime kills the server with SIGKILL in the middle of
// the send phase and starts it again on the same port and data: every
// socket resumes, the report gives their reconnect times, and nothing
// acknowledged is lost.
func TestBenchReconnectTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opt := ServerOptions{Dir: t.TempDir()}
	srv := startServerWith(t, ctx, opt)
	obs := &helloCounter{}
	var progress bytes.Buffer
	const users = 20
	done := make(chan struct{})
	var rep *Report
	var err error
	go func() {
		defer close(done)
		rep, err = Run(ctx, Options{URL: srv.URL, Users: users, GroupSize: 5, Rate: 100, Duration: 4 * time.Second,
			Progress: &progress, Observer: obs})
	}()
	for obs.first.Load() < users {
		select {
		case <-done:
			t.Fatalf("the bench ended before its users connected: %v\n%s", err, progress.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(time.Second) // into the send phase
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	srv.Kill()
	down := time.Now()
	opt.Args = []string{"--addr", "127.0.0.1:" + port}
	srv = startServerWith(t, ctx, opt)
	t.Logf("the server was down %s", time.Since(down).Round(time.Millisecond))
	<-done
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("report: %s", rep.JSON())
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("errors %d (%v), lost %d; want none", rep.Errors, rep.ErrorCodes, rep.Lost)
	}
	if rep.Reconnects != users || rep.Resumed != users || int(obs.again.Load()) != users {
		t.Errorf("reconnects %d, resumed %d, hellos after a loss %d; want %d each", rep.Reconnects, rep.Resumed, obs.again.Load(), users)
	}
	obs.mu.Lock()
	var longest time.Duration
	for _, w := range obs.waits {
		longest = max(longest, w)
	}
	obs.mu.Unlock()
	if rep.ReconnectP50Ms <= 0 || rep.ReconnectP99Ms < rep.ReconnectP50Ms || rep.ReconnectMaxMs < rep.ReconnectP99Ms ||
		rep.ReconnectMaxMs != ms(longest.Nanoseconds()) {
		t.Errorf("reconnect times p50 %.1f, p99 %.1f, max %.1f ms; the observer's longest %s", rep.ReconnectP50Ms,
			rep.ReconnectP99Ms, rep.ReconnectMaxMs, longest)
	}
	var text bytes.Buffer
	rep.Print(&text)
	if !strings.Contains(text.String(), fmt.Sprintf("%d resumed: p50", users)) {
		t.Errorf("the printed report lacks the reconnect times:\n%s", text.String())
	}
}
