package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/notify/pushtest"
)

// TestQuiet checks do-not-disturb hours across midnight, by day of the
// week and time zone, the pause, and what breaks through.
func TestQuiet(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	weekdays := []int{1, 2, 3, 4, 5}
	night := parley.NotifySettings{DNDEnabled: true, DNDFrom: "22:00", DNDTo: "07:30", DNDDays: weekdays, TimeZone: "Europe/Berlin"}
	for _, tc := range []struct {
		name   string
		set    parley.NotifySettings
		now    string
		urgent bool
		want   bool
	}{
		// 2026-12-07 is a Monday; Berlin is UTC+1 in December.
		{"Monday 23:30 in Berlin", night, "2026-12-07T22:30:00Z", false, true},
		{"Monday 21:59 in Berlin", night, "2026-12-07T20:59:00Z", false, false},
		{"Tuesday 07:00, the hours began Monday", night, "2026-12-08T06:00:00Z", false, true},
		{"Tuesday 07:30, the hours are over", night, "2026-12-08T06:30:00Z", false, false},
		{"Saturday 23:00, not a listed day", night, "2026-12-12T22:00:00Z", false, false},
		{"Saturday 06:00, the hours of Friday night", night, "2026-12-12T05:00:00Z", false, true},
		{"Sunday 06:00, Saturday not listed", night, "2026-12-13T05:00:00Z", false, false},
		{"off", parley.NotifySettings{DNDFrom: "00:00", DNDTo: "00:00", DNDDays: weekdays}, "2026-12-07T12:00:00Z", false, false},
		{"whole day", parley.NotifySettings{DNDEnabled: true, DNDFrom: "00:00", DNDTo: "00:00", DNDDays: []int{1}, TimeZone: "UTC"}, "2026-12-07T12:00:00Z", false, true},
		{"a call in the hours, not let through", night, "2026-12-07T22:30:00Z", true, true},
		{"a call in the hours, let through", func() parley.NotifySettings { s := night; s.CallsBreakThrough = true; return s }(), "2026-12-07T22:30:00Z", true, false},
		{"paused", parley.NotifySettings{PausedUntil: at("2026-12-07T13:00:00Z")}, "2026-12-07T12:00:00Z", false, true},
		{"paused, a call let through still waits", parley.NotifySettings{PausedUntil: at("2026-12-07T13:00:00Z"), CallsBreakThrough: true}, "2026-12-07T12:00:00Z", true, true},
		{"pause over", parley.NotifySettings{PausedUntil: at("2026-12-07T13:00:00Z")}, "2026-12-07T13:00:00Z", false, false},
	} {
		if got := Quiet(tc.set, at(tc.now), tc.urgent); got != tc.want {
			t.Errorf("%s: Quiet = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPushService checks the test push service against webpush-go: a push
// it accepts was signed and encrypted as RFC 8291/8292 say, and one
// signed with other keys, or for another subscription's keys, is refused.
func TestPushService(t *testing.T) {
	ps := pushtest.New(t)
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	ps.ExpectVAPIDKey(pub)
	sub := ps.Subscribe()
	send := func(s *pushtest.Sub, p256dh, pub, priv string) int {
		res, err := webpush.SendNotificationWithContext(context.Background(), []byte(`{"title":"hi"}`),
			&webpush.Subscription{Endpoint: s.Endpoint, Keys: webpush.Keys{P256dh: p256dh, Auth: s.Auth}},
			&webpush.Options{Subscriber: "ops@example.com", VAPIDPublicKey: pub, VAPIDPrivateKey: priv, TTL: 60})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := send(sub, sub.P256DH, pub, priv); code != http.StatusCreated {
		t.Fatalf("push answered %d: %v", code, ps.Errors())
	}
	got := ps.Wait(t, 1, 5*time.Second)
	var p map[string]string
	if err := json.Unmarshal(got[0].Payload, &p); err != nil || p["title"] != "hi" || got[0].Subject != "mailto:ops@example.com" {
		t.Fatalf("decrypted %q (%v), subject %q", got[0].Payload, err, got[0].Subject)
	}
	other := ps.Subscribe()
	if code := send(sub, other.P256DH, pub, priv); code != http.StatusBadRequest {
		t.Errorf("a payload for other keys answered %d, want 400", code)
	}
	priv2, pub2, _ := webpush.GenerateVAPIDKeys()
	if code := send(sub, sub.P256DH, pub2, priv2); code != http.StatusForbidden {
		t.Errorf("a push from another application server answered %d, want 403", code)
	}
	if code := send(sub, sub.P256DH, pub, priv2); code != http.StatusForbidden {
		t.Errorf("a push signed with the wrong key answered %d, want 403", code)
	}
	ps.Expire(sub)
	if code := send(sub, sub.P256DH, pub, priv); code != http.StatusGone {
		t.Errorf("an expired subscription answered %d, want 410", code)
	}
	if n := len(ps.Errors()); n != 3 {
		t.Errorf("%d refusals recorded, want 3", n)
	}
}
