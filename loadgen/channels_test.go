package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBenchChannel runs a small channel mode against a server started the
// way `parley bench` starts it: every webhook message reaches every
// manager once, updates posted twice are stored once, and the replies
// queued while the fake throttles the bot all leave, once each, in order,
// with the status sent. Timings are logged, never asserted.
func TestBenchChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServer(t, ctx)
	var progress bytes.Buffer
	rep, err := RunChannels(ctx, ChannelOptions{URL: srv.URL, Customers: 50, Rate: 100, Duration: 2 * time.Second, Managers: 2,
		Redeliver: 0.05, Replies: 20, Dialogs: 10, Throttle: 2 * time.Second, RetryAfter: 1, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s\nserver log:\n%s", err, progress.String(), srv.Log())
	}
	b := rep.JSON()
	t.Logf("report: %s", b)
	if rep.Errors != 0 || rep.Lost != 0 || rep.Duplicates != 0 || rep.DuplicateFrames != 0 || rep.StoredDuplicates != 0 ||
		rep.StoredMissing != 0 || rep.ManagerMissing != 0 {
		t.Errorf("errors %d (%v), lost %d, duplicates %d (frames %d, stored %d), stored missing %d, manager receipts missing %d; want none",
			rep.Errors, rep.ErrorCodes, rep.Lost, rep.Duplicates, rep.DuplicateFrames, rep.StoredDuplicates, rep.StoredMissing, rep.ManagerMissing)
	}
	// 200 messages of 50 customers (four each), each in both managers'
	// inboxes; about 10 posted twice.
	if rep.MessagesPlanned != 200 || rep.WebhookPosted != 200 || rep.WebhookAccepted != 200 || rep.WebhookFailed != 0 ||
		rep.ManagerDeliveries != 400 {
		t.Errorf("planned %d, posted %d, accepted %d, failed %d, manager deliveries %d; want 200, 200, 200, 0, 400",
			rep.MessagesPlanned, rep.WebhookPosted, rep.WebhookAccepted, rep.WebhookFailed, rep.ManagerDeliveries)
	}
	if rep.Redelivered == 0 || rep.RedeliveredAccepted != rep.Redelivered || rep.StoredChecked == 0 {
		t.Errorf("redelivered %d (%d accepted), stored checked %d; want some, all accepted", rep.Redelivered, rep.RedeliveredAccepted, rep.StoredChecked)
	}
	if rep.WebhookP50Ms <= 0 || rep.WebhookP99Ms < rep.WebhookP50Ms || rep.WebhookMaxMs < rep.WebhookP99Ms ||
		rep.DeliveryP50Ms <= 0 || rep.DeliveryP95Ms < rep.DeliveryP50Ms || rep.DeliveryP99Ms < rep.DeliveryP95Ms ||
		rep.DeliveryMaxMs < rep.DeliveryP99Ms || rep.SteadyP50Ms <= 0 || rep.SteadyP99Ms < rep.SteadyP50Ms || rep.OpeningP50Ms <= 0 {
		t.Errorf("latencies are not positive and ordered: %s", b)
	}
	// The outbound phase: 20 replies over 10 dialogs, throttled, all taken
	// once and in order, within the channel's rate.
	if rep.OutDialogs != 10 || rep.OutAccepted != 20 || rep.OutReceived != 20 || rep.OutMissing != 0 || rep.OutDuplicates != 0 ||
		rep.OutOutOfOrder != 0 || rep.OutMisdelivered != 0 || rep.OutUnexpected != 0 || rep.OutStatusSent != 20 || rep.OutStatusNotSent != 0 {
		t.Errorf("outbound: dialogs %d, accepted %d, received %d, missing %d, duplicates %d, out of order %d, misdelivered %d, unexpected %d, sent %d, not sent %d; want 10, 20, 20, 0, 0, 0, 0, 0, 20, 0",
			rep.OutDialogs, rep.OutAccepted, rep.OutReceived, rep.OutMissing, rep.OutDuplicates, rep.OutOutOfOrder,
			rep.OutMisdelivered, rep.OutUnexpected, rep.OutStatusSent, rep.OutStatusNotSent)
	}
	if rep.Out429s == 0 || rep.OutRateLimit <= 0 || rep.OutMaxPerSec <= 0 || rep.OutDrainS <= 0 {
		t.Errorf("outbound figures missing: 429s %d, rate limit %g, max per second %d, drain %g s", rep.Out429s, rep.OutRateLimit,
			rep.OutMaxPerSec, rep.OutDrainS)
	}

	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"webhook_posted", "webhook_accepted", "webhook_failed", "webhook_p50_ms", "webhook_p95_ms", "webhook_p99_ms",
		"webhook_max_ms", "delivery_p50_ms", "delivery_p95_ms", "delivery_p99_ms", "delivery_max_ms", "steady_p99_ms", "lost",
		"duplicates", "stored_duplicates", "out_received", "out_missing", "out_duplicates", "out_out_of_order", "out_429s",
		"out_max_per_sec", "out_rate_limit", "out_drain_s", "out_status_sent"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON report has no %q", k)
		}
	}
	var text bytes.Buffer
	rep.Print(&text)
	for _, want := range []string{"webhook", "inbox", "steady", "outbound", "drain", "rate", "lost"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestChannelOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  ChannelOptions
		fail bool
	}{
		{ChannelOptions{URL: "http://127.0.0.1:1", Customers: 10}, false},
		{ChannelOptions{Customers: 10}, false},  // RunChannels requires the URL; Validate does not
		{ChannelOptions{URL: "http://x"}, true}, // no customers
		{ChannelOptions{URL: "ftp://x", Customers: 10}, true},
		{ChannelOptions{URL: "http://x", Customers: 10, Redeliver: 0.9}, true},
		{ChannelOptions{URL: "http://x", Customers: 10, Dialogs: 11}, true},
		{ChannelOptions{URL: "http://x", Customers: 10, Replies: -1}, true},
		{ChannelOptions{URL: "http://x", Customers: 10, Throttle: -time.Second}, true},
		{ChannelOptions{URL: "http://x", Customers: 10, Rate: 0.01, Duration: time.Second}, true}, // nothing sent
	} {
		if err := tc.opt.Validate(); (err != nil) != tc.fail {
			t.Errorf("%+v: error %v, want failure %v", tc.opt, err, tc.fail)
		}
	}
	o := ChannelOptions{URL: "http://x", Customers: 1000}
	if err := o.Validate(); err != nil || o.Rate != 1000 || o.Managers != 10 || o.Dialogs != 100 || o.Duration != 10*time.Second ||
		o.RetryAfter != 1 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if _, err := RunChannels(context.Background(), ChannelOptions{Customers: 1}); err == nil {
		t.Error("RunChannels without a URL: no error")
	}
}
