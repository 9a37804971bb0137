package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchEndToEnd builds the parley command, starts it the way
// `parley bench` does, and runs a small bench against it. It checks that
// everything arrives and that the report is filled in; it asserts no
// timings.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	exe := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", exe, "./cmd/parley")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := StartServer(ctx, exe)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
			t.Errorf("the data directory %s is still there", srv.dir)
		}
	}()

	var progress bytes.Buffer
	rep, err := Run(ctx, Options{URL: srv.URL, Users: 20, GroupSize: 5, Rate: 200, Duration: 2 * time.Second,
		Idle: 50, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s\nserver log:\n%s", err, progress.String(), srv.Log())
	}
	b := rep.JSON()
	t.Logf("report: %s", b)
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("errors %d (%v), lost %d; want none", rep.Errors, rep.ErrorCodes, rep.Lost)
	}
	if rep.Conversations != 4 || rep.MessagesPlanned != 400 || rep.MessagesSent != 400 || rep.MessagesAcked != 400 {
		t.Errorf("conversations %d, planned %d, sent %d, acknowledged %d; want 4, 400, 400, 400",
			rep.Conversations, rep.MessagesPlanned, rep.MessagesSent, rep.MessagesAcked)
	}
	if rep.Deliveries != 400*4 || rep.OwnEchoes != 400 {
		t.Errorf("deliveries %d, own echoes %d; want 1600, 400", rep.Deliveries, rep.OwnEchoes)
	}
	if rep.SentPerSec <= 0 || rep.DeliveriesPerSec <= 0 || rep.P50Ms <= 0 || rep.P99Ms < rep.P50Ms || rep.MaxMs < rep.P99Ms {
		t.Errorf("rates and latencies are not positive and ordered: %s", b)
	}
	if !rep.MetricsAvailable || rep.ServerRSSBytes <= 0 || rep.IdleConnections != 50 || rep.ServerConnections < 70 {
		t.Errorf("memory figures missing: %s", b)
	}

	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sent_per_sec", "deliveries_per_sec", "p50_ms", "p99_ms", "max_ms", "errors", "lost",
		"bytes_per_idle_conn_rss", "bytes_per_idle_conn_go"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON report has no %q", k)
		}
	}
	var text bytes.Buffer
	rep.Print(&text)
	for _, want := range []string{"committed", "deliveries/s", "p99", "lost", "idle"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		fail bool
	}{
		{Options{URL: "http://127.0.0.1:1"}, false},
		{Options{}, false}, // Run requires the URL; Validate does not
		{Options{URL: "ftp://x"}, true},
		{Options{URL: "http://x", Users: 1}, true},
		{Options{URL: "http://x", Users: 10, GroupSize: 11}, true},
		{Options{URL: "http://x", Users: 100, GroupSize: 10, Conversations: 9}, true},
		{Options{URL: "http://x", Rate: -1}, true},
		{Options{URL: "http://x", AdminEmail: "a@b.c"}, true},
	} {
		err := tc.opt.Validate()
		if (err != nil) != tc.fail {
			t.Errorf("%+v: error %v, want failure %v", tc.opt, err, tc.fail)
		}
	}
	if _, err := Run(context.Background(), Options{}); err == nil {
		t.Error("Run without a URL: no error")
	}
	o := Options{URL: "http://x", Users: 25, GroupSize: 10, Idle: 3}
	if err := o.Validate(); err != nil || o.Conversations != 3 || o.IdleUsers != 3 || o.Rate != 1000 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}
