package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/leaktest"
)

// startServer builds the parley command (once per test binary) and starts
// it the way `parley bench` does; the server stops when the test ends.
func startServer(t *testing.T, ctx context.Context) *Server {
	t.Helper()
	buildServer(t)
	srv, err := StartServer(ctx, build.exe, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
			t.Errorf("the data directory %s is still there", srv.dir)
		}
	})
	return srv
}

// buildServer builds the parley command once per test binary.
func buildServer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	build.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			build.err = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "parley-exe-")
		if err != nil {
			build.err = err
			return
		}
		build.exe = filepath.Join(dir, "parley")
		cmd := exec.Command("go", "build", "-o", build.exe, "./cmd/parley")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/parley: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
}

var build struct {
	sync.Once
	exe string
	err error
}

// TestMain removes the built server, and fails the tests if a goroutine
// outlives them.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.exe != "" {
		os.RemoveAll(filepath.Dir(build.exe))
	}
	if code == 0 {
		if err := leaktest.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestBenchEndToEnd runs a small bench against a server started the way
// `parley bench` starts it. It checks that everything arrives and that the
// report is filled in; it asserts no timings.
func TestBenchEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)

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

// TestBenchVisitors runs the visitor mode: every visitor's dialog alerts
// every consultant, is connected, and every message is answered.
func TestBenchVisitors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	var progress bytes.Buffer
	rep, err := RunVisitors(ctx, Options{URL: srv.URL, Visitors: 30, Consultants: 3, Rate: 20, Duration: 3 * time.Second,
		Progress: &progress})
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s\nserver log:\n%s", err, progress.String(), srv.Log())
	}
	b := rep.JSON()
	t.Logf("report: %s", b)
	if rep.Errors != 0 || rep.Lost != 0 || rep.AlertsMissing != 0 {
		t.Errorf("errors %d (%v), lost %d, alerts missing %d; want none", rep.Errors, rep.ErrorCodes, rep.Lost, rep.AlertsMissing)
	}
	// 60 messages of 30 visitors: each reaches the 3 consultants and is
	// answered once.
	if rep.Dialogs != 30 || rep.MessagesSent != 60 || rep.MessagesAcked != 60 || rep.AnswersAcked != 60 ||
		rep.Alerts != 90 || rep.Deliveries != 60*3+60 {
		t.Errorf("dialogs %d, sent %d, acknowledged %d, answers %d, alerts %d, deliveries %d; want 30, 60, 60, 60, 90, 240",
			rep.Dialogs, rep.MessagesSent, rep.MessagesAcked, rep.AnswersAcked, rep.Alerts, rep.Deliveries)
	}
	if rep.P50Ms <= 0 || rep.P99Ms < rep.P50Ms || rep.AlertP50Ms <= 0 || rep.AlertMaxMs < rep.AlertP99Ms {
		t.Errorf("latencies are not positive and ordered: %s", b)
	}
	var text bytes.Buffer
	rep.Print(&text)
	for _, want := range []string{"visitors", "alert", "answer", "lost"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, text.String())
		}
	}
}

// TestBenchVisitorsManagers runs the visitor mode with managers who keep
// the inbox list open, over a backlog of seeded dialogs: every visitor
// message reaches every manager's list and the report says so. Timings
// are logged, never asserted.
func TestBenchVisitorsManagers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	var progress bytes.Buffer
	rep, err := RunVisitors(ctx, Options{URL: srv.URL, Visitors: 10, Consultants: 2, Managers: 2, Dialogs: 20,
		Rate: 10, Duration: 3 * time.Second, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s\nserver log:\n%s", err, progress.String(), srv.Log())
	}
	b := rep.JSON()
	t.Logf("report: %s", b)
	if rep.Errors != 0 || rep.Lost != 0 || rep.AlertsMissing != 0 || rep.ManagerMissing != 0 {
		t.Errorf("errors %d (%v), lost %d, alerts missing %d, manager deliveries missing %d; want none",
			rep.Errors, rep.ErrorCodes, rep.Lost, rep.AlertsMissing, rep.ManagerMissing)
	}
	// 30 messages of 10 visitors (three each), each in the lists of both managers.
	if rep.Managers != 2 || rep.SeededDialogs != 20 || rep.MessagesAcked != 30 || rep.ManagerDeliveries != 60 ||
		rep.ManagerViaCreated+rep.ManagerViaDialog != 60 {
		t.Errorf("managers %d, seeded %d, acknowledged %d, manager deliveries %d (%d by message.created, %d by dialog.updated); want 2, 20, 30, 60",
			rep.Managers, rep.SeededDialogs, rep.MessagesAcked, rep.ManagerDeliveries, rep.ManagerViaCreated, rep.ManagerViaDialog)
	}
	if rep.ManagerP50Ms <= 0 || rep.ManagerP95Ms < rep.ManagerP50Ms || rep.ManagerP99Ms < rep.ManagerP95Ms ||
		rep.ManagerMaxMs < rep.ManagerP99Ms || rep.ManagerWorstP99Ms <= 0 {
		t.Errorf("manager latencies are not positive and ordered: %s", b)
	}
	// Each visitor's third message is in the steady state.
	if rep.ManagerSteadyP50Ms <= 0 || rep.ManagerSteadyP99Ms < rep.ManagerSteadyP50Ms || rep.ManagerSteadyMaxMs < rep.ManagerSteadyP99Ms {
		t.Errorf("steady-state manager latencies are not positive and ordered: %s", b)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"managers", "seeded_dialogs", "manager_deliveries", "manager_missing", "manager_p50_ms",
		"manager_p95_ms", "manager_p99_ms", "manager_max_ms", "manager_via_message_created", "manager_via_dialog_updated",
		"manager_steady_p50_ms", "manager_steady_p95_ms", "manager_steady_p99_ms", "manager_steady_max_ms"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON report has no %q", k)
		}
	}
	var text bytes.Buffer
	rep.Print(&text)
	for _, want := range []string{"managers", "p95", "missed", "seeded", "steady"} {
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
		{Options{URL: "http://x", Consultants: 3}, true},                                     // consultants without visitors
		{Options{URL: "http://x", Visitors: 100, Rate: 200}, true},                           // a flood
		{Options{URL: "http://x", Visitors: 100, Rate: 10, Duration: 5 * time.Second}, true}, // not everyone writes
		{Options{URL: "http://x", Visitors: 100, Idle: 5}, true},                             // idle belongs to the chat mode
		{Options{URL: "http://x", Visitors: 100, Consultants: 1001}, true},
		{Options{URL: "http://x", Managers: 2}, true},  // managers belong to the visitor mode
		{Options{URL: "http://x", Dialogs: 100}, true}, // so do seeded dialogs
		{Options{URL: "http://x", Visitors: 100, Managers: -1}, true},
		{Options{URL: "http://x", Visitors: 100, Managers: 20, Dialogs: 1000}, false},
		{Options{URL: "http://x", Schedule: "burst"}, true},
		{Options{URL: "http://x", Schedule: ScheduleRuns, MessageSize: 39}, true},
		{Options{URL: "http://x", Visitors: 100, Schedule: ScheduleSpread}, true},
		{Options{URL: "http://x", Visitors: 100, Consultants: 2, Rate: 10, Duration: 10 * time.Second}, false},
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
	if err := o.Validate(); err != nil || o.Conversations != 3 || o.IdleUsers != 3 || o.Rate != 1000 ||
		o.Schedule != ScheduleSpread || o.MessageSize != 100 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o = Options{URL: "http://x", Visitors: 2000}
	if err := o.Validate(); err != nil || o.Consultants != 10 || o.Rate != 200 || o.Duration != 30*time.Second {
		t.Errorf("visitor defaults: %+v, %v", o, err)
	}
}

// TestPlan checks the schedules: every planned message is sent by a member
// of its conversation at j/Rate seconds; with the spread schedule
// consecutive messages go to different conversations from varied senders,
// with the runs schedule user j mod Users sends message j.
func TestPlan(t *testing.T) {
	for _, schedule := range []string{ScheduleSpread, ScheduleRuns} {
		o := Options{URL: "http://x", Users: 30, GroupSize: 5, Rate: 100, Duration: 3 * time.Second, Schedule: schedule}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		r := &runner{opt: o}
		members := make([][]*simUser, o.Conversations)
		for i := range o.Users {
			r.users = append(r.users, &simUser{idx: i})
		}
		for c := range members {
			r.convs = append(r.convs, int64(100+c))
			for k := range o.GroupSize {
				u := r.users[(c*o.GroupSize+k)%o.Users]
				members[c] = append(members[c], u)
				u.convs = append(u.convs, r.convs[c])
			}
		}
		r.plan(members)
		type send struct {
			user int
			conv int64
		}
		byTime := make(map[time.Duration]send)
		for _, u := range r.users {
			if len(u.recs) != len(u.plan) {
				t.Fatalf("%s: user %d has %d records for %d messages", schedule, u.idx, len(u.recs), len(u.plan))
			}
			for k, p := range u.plan {
				if !slices.Contains(u.convs, p.conv) {
					t.Fatalf("%s: user %d sends to conversation %d, not theirs", schedule, u.idx, p.conv)
				}
				if k > 0 && p.at <= u.plan[k-1].at {
					t.Fatalf("%s: user %d's messages are out of order", schedule, u.idx)
				}
				byTime[p.at] = send{u.idx, p.conv}
			}
		}
		if len(byTime) != 300 {
			t.Fatalf("%s: %d messages planned, want 300", schedule, len(byTime))
		}
		senders := make(map[int]bool)
		for j := range 300 {
			s, ok := byTime[time.Duration(float64(j)/o.Rate*1e9)]
			if !ok {
				t.Fatalf("%s: no message %d", schedule, j)
			}
			senders[s.user] = true
			switch schedule {
			case ScheduleSpread:
				if s.conv != r.convs[j%len(r.convs)] {
					t.Fatalf("spread: message %d goes to %d, want the next conversation %d", j, s.conv, r.convs[j%len(r.convs)])
				}
			case ScheduleRuns:
				if s.user != j%o.Users {
					t.Fatalf("runs: message %d is sent by user %d, want %d", j, s.user, j%o.Users)
				}
			}
		}
		if len(senders) < o.Users/2 {
			t.Errorf("%s: only %d of %d users send", schedule, len(senders), o.Users)
		}
	}
}
