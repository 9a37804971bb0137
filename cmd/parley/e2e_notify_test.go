package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/email/emailtest"
	"github.com/parley-chat/parley/notify"
	"github.com/parley-chat/parley/notify/pushtest"
)

// withNotify makes the notifier quick: pushes after delay, rounds every
// 20 ms, and a minute of the e-mail setting lasting unit.
func withNotify(delay, unit time.Duration) serverOption {
	return func(c *Config) {
		c.Notify.PushDelay = delay
		c.Notify.Tick = 20 * time.Millisecond
		c.Notify.EmailEvery = 20 * time.Millisecond
		c.Notify.EmailUnit = unit
		c.Notify.InsecureEndpoints = "127.0.0.1"
	}
}

func subscribe(c *client, sub *pushtest.Sub) parley.PushSubscription {
	c.t.Helper()
	var out parley.PushSubscription
	c.do("POST", "/api/v1/push/subscriptions", sub.JSON()).want(http.StatusCreated).decode(&out)
	return out
}

type pushed struct {
	notify.Payload
	sub string
}

func payloads(t testing.TB, ps []pushtest.Push) []pushed {
	var out []pushed
	for _, p := range ps {
		var pl notify.Payload
		if err := json.Unmarshal(p.Payload, &pl); err != nil {
			t.Fatalf("payload %q: %v", p.Payload, err)
		}
		out = append(out, pushed{pl, p.Sub})
	}
	return out
}

// Web Push end to end: a message to someone with no tab open reaches their
// browsers, signed (VAPID) and encrypted (aes128gcm) so that a push
// service that checks both takes it; someone with a tab open gets none;
// a paused user gets none; a subscription the push service says is gone
// is deleted.
func TestPushNotifications(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		ps := pushtest.New(t)
		s := newServer(t, append(opts, withNotify(100*time.Millisecond, time.Minute))...)
		ann, bob := s.newUser(t, parley.RoleMember, "Ann Lee"), s.newUser(t, parley.RoleMember, "Bob Stone")
		var key httpapi_VAPID
		bob.do("GET", "/api/v1/push/vapid-key", nil).want(http.StatusOK).decode(&key)
		if len(key.PublicKey) != 87 {
			t.Fatalf("VAPID public key %q", key.PublicKey)
		}
		ps.ExpectVAPIDKey(key.PublicKey)
		phone, laptop := ps.Subscribe(), ps.Subscribe()
		subscribe(bob, phone)
		lap := subscribe(bob, laptop)
		// Subscribing again keeps one row.
		subscribe(bob, laptop)
		var list []parley.PushSubscription
		bob.do("GET", "/api/v1/push/subscriptions", nil).want(http.StatusOK).decode(&list)
		if len(list) != 2 {
			t.Fatalf("%d subscriptions, want 2", len(list))
		}

		dm := ann.directAllowed(bob)
		long := strings.Repeat("word ", 100)
		ann.send(dm.ID, long)
		got := payloads(t, ps.Wait(t, 2, 10*time.Second))
		for _, p := range got {
			if p.Kind != "message" || p.Title != "Ann Lee" || p.URL != fmt.Sprintf("/c/%d", dm.ID) || p.Tag != fmt.Sprintf("conv-%d", dm.ID) {
				t.Errorf("push %+v", p)
			}
			if len([]rune(p.Body)) > 140 || !strings.HasPrefix(p.Body, "word word") {
				t.Errorf("push body %q: want the text cut to 140 characters", p.Body)
			}
		}
		if got[0].sub == got[1].sub {
			t.Errorf("both pushes went to one browser")
		}
		// Not again for the same message.
		time.Sleep(300 * time.Millisecond)
		if n := len(ps.Pushes()); n != 2 {
			t.Fatalf("%d pushes, want still 2", n)
		}

		// With a tab open, no push.
		sock := bob.connect()
		sock.waitFor("hello")
		ann.send(dm.ID, "are you there?")
		time.Sleep(400 * time.Millisecond)
		if n := len(ps.Pushes()); n != 2 {
			t.Fatalf("%d pushes with a tab open, want still 2", n)
		}
		sock.ws.CloseNow()
		eventually(t, "Bob offline", func() bool { return !s.m.presence.Online(bob.id()) })

		// Paused: no push.
		var set notify.SettingsView
		bob.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&set)
		set.PausedUntil = time.Now().Add(time.Hour)
		bob.do("PUT", "/api/v1/me/notifications", set.NotifySettings).want(http.StatusOK)
		ann.send(dm.ID, "paused?")
		time.Sleep(400 * time.Millisecond)
		if n := len(ps.Pushes()); n != 2 {
			t.Fatalf("%d pushes while paused, want still 2", n)
		}
		set.PausedUntil = time.Time{}
		bob.do("PUT", "/api/v1/me/notifications", set.NotifySettings).want(http.StatusOK)

		// The laptop's subscription expired: the push service answers 410
		// and the subscription is deleted; the phone still gets it.
		ps.Expire(laptop)
		ann.send(dm.ID, "lunch?")
		eventually(t, "the expired subscription deleted", func() bool {
			var list []parley.PushSubscription
			bob.do("GET", "/api/v1/push/subscriptions", nil).want(http.StatusOK).decode(&list)
			return len(list) == 1 && list[0].ID != lap.ID
		})
		got = payloads(t, ps.Wait(t, 3, 10*time.Second))
		if got[2].sub != phone.ID || got[2].Body != "lunch?" {
			t.Errorf("third push %+v", got[2])
		}

		// A chat Bob muted is not pushed, unless a message mentions him:
		// that one is, as a mention.
		grp := ann.group("Launch", bob)
		bob.do("PUT", fmt.Sprintf("/api/v1/conversations/%d/mute", grp.ID), map[string]any{}).want(http.StatusOK)
		ann.send(grp.ID, "muted chatter")
		time.Sleep(400 * time.Millisecond)
		if n := len(ps.Pushes()); n != 3 {
			t.Fatalf("%d pushes after a message in a muted chat, want still 3", n)
		}
		ann.send(grp.ID, "@Bob Stone can you look?")
		got = payloads(t, ps.Wait(t, 4, 10*time.Second))
		if got[3].Kind != "mention" || got[3].URL != fmt.Sprintf("/c/%d", grp.ID) {
			t.Errorf("push for a mention in a muted chat: %+v", got[3])
		}

		// A test notification, and the hook other services call (an
		// incoming call), which a tab-less user gets at once.
		bob.do("POST", "/api/v1/push/test", nil).want(http.StatusNoContent)
		if err := s.m.Notify.Notify(t.Context(), notify.CallNote(bob.id(), "Ann Lee", false, fmt.Sprintf("/c/%d", dm.ID), "call")); err != nil {
			t.Fatal(err)
		}
		got = payloads(t, ps.Wait(t, 6, 10*time.Second))
		kinds := map[string]bool{got[4].Kind: true, got[5].Kind: true}
		if !kinds["test"] || !kinds["call"] {
			t.Errorf("pushes %+v, want a test and a call", got[4:])
		}
		for _, p := range ps.Pushes()[4:] {
			if p.Payload != nil && strings.Contains(string(p.Payload), `"call"`) && p.Urgency != "high" {
				t.Errorf("a call's push has urgency %q, want high", p.Urgency)
			}
		}
		if errs := ps.Errors(); len(errs) > 0 {
			t.Fatalf("the push service refused pushes: %v", errs)
		}
	})
}

type httpapi_VAPID struct {
	PublicKey string `json:"public_key"`
}

// What the push routes refuse: someone else's subscription, endpoints
// that are not a push service's, keys that are not keys, too many
// browsers, settings out of range; each changes nothing.
func TestPushRefusals(t *testing.T) {
	ps := pushtest.New(t)
	s := newServer(t, withNotify(time.Hour, time.Minute))
	ann, bob := s.newUser(t, parley.RoleMember, "Ann"), s.newUser(t, parley.RoleMember, "Bob")
	annSub := subscribe(ann, ps.Subscribe())
	bob.do("DELETE", fmt.Sprintf("/api/v1/push/subscriptions/%d", annSub.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	var list []parley.PushSubscription
	ann.do("GET", "/api/v1/push/subscriptions", nil).want(http.StatusOK).decode(&list)
	if len(list) != 1 {
		t.Fatalf("Ann has %d subscriptions after Bob's delete, want 1", len(list))
	}
	good := ps.Subscribe()
	for name, body := range map[string]map[string]any{
		"http, not an allowed host":  {"endpoint": "http://push.example.com/x", "keys": map[string]string{"p256dh": good.P256DH, "auth": good.Auth}},
		"https on a private address": {"endpoint": "https://10.0.0.1/x", "keys": map[string]string{"p256dh": good.P256DH, "auth": good.Auth}},
		"not a URL":                  {"endpoint": "push service", "keys": map[string]string{"p256dh": good.P256DH, "auth": good.Auth}},
		"credentials":                {"endpoint": "https://u:p@push.example.com/x", "keys": map[string]string{"p256dh": good.P256DH, "auth": good.Auth}},
		"javascript":                 {"endpoint": "javascript:alert(1)", "keys": map[string]string{"p256dh": good.P256DH, "auth": good.Auth}},
		"a short key":                {"endpoint": good.Endpoint, "keys": map[string]string{"p256dh": good.Auth, "auth": good.Auth}},
		"not a point":                {"endpoint": good.Endpoint, "keys": map[string]string{"p256dh": "BA" + strings.Repeat("A", 85), "auth": good.Auth}},
		"no auth":                    {"endpoint": good.Endpoint, "keys": map[string]string{"p256dh": good.P256DH}},
	} {
		e := bob.do("POST", "/api/v1/push/subscriptions", body).wantErr(http.StatusBadRequest, parley.EINVALID)
		if e.Message == "" {
			t.Errorf("%s: no message", name)
		}
	}
	for range 10 {
		subscribe(bob, ps.Subscribe())
	}
	bob.do("POST", "/api/v1/push/subscriptions", ps.Subscribe().JSON()).wantErr(http.StatusConflict, parley.ECONFLICT)
	bob.do("GET", "/api/v1/push/subscriptions", nil).want(http.StatusOK).decode(&list)
	if len(list) != 10 {
		t.Fatalf("Bob has %d subscriptions, want 10", len(list))
	}
	// Settings: without a mailer there is no e-mail to choose.
	var set notify.SettingsView
	bob.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&set)
	if set.EmailAvailable || set.EmailAfterMinutes != 0 {
		t.Fatalf("settings without a mailer: %+v", set)
	}
	for name, change := range map[string]func(*parley.NotifySettings){
		"e-mail without a mailer": func(s *parley.NotifySettings) { s.EmailAfterMinutes = 60 },
		"e-mail after 7 minutes":  func(s *parley.NotifySettings) { s.EmailAfterMinutes = 7 },
		"from 25:00":              func(s *parley.NotifySettings) { s.DNDFrom = "25:00" },
		"to 8":                    func(s *parley.NotifySettings) { s.DNDTo = "8" },
		"day 7":                   func(s *parley.NotifySettings) { s.DNDDays = []int{7} },
		"no days":                 func(s *parley.NotifySettings) { s.DNDEnabled, s.DNDDays = true, nil },
		"time zone":               func(s *parley.NotifySettings) { s.TimeZone = "Mars/Olympus" },
		"pause for a month":       func(s *parley.NotifySettings) { s.PausedUntil = time.Now().Add(30 * 24 * time.Hour) },
	} {
		in := set.NotifySettings
		in.DNDDays = append([]int(nil), in.DNDDays...)
		change(&in)
		if e := bob.do("PUT", "/api/v1/me/notifications", in).wantErr(http.StatusBadRequest, parley.EINVALID); e.Message == "" {
			t.Errorf("%s: no message", name)
		}
	}
	var after notify.SettingsView
	bob.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&after)
	if fmt.Sprint(after) != fmt.Sprint(set) {
		t.Errorf("refused changes changed the settings: %+v, was %+v", after, set)
	}
}

// E-mail digests: a message left unread for the user's delay is mailed
// once, with the conversation, the count and a cut preview, a link to the
// app and to the settings; not again for the same messages; not to a
// user in do-not-disturb hours; and again for new messages.
func TestEmailDigest(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		smtp := emailtest.NewSMTP(t, emailtest.SMTPOptions{NoAuth: true})
		// A minute of the setting lasts 40 ms: "after 15 minutes" is 600 ms.
		s := newServer(t, append(opts, withPublicURL(), withMailer(smtp), withNotify(time.Hour, 40*time.Millisecond))...)
		ann, bob, cat := s.newUser(t, parley.RoleMember, "Ann Lee"), s.newUser(t, parley.RoleMember, "Bob Stone"), s.newUser(t, parley.RoleMember, "Cat")
		var set notify.SettingsView
		bob.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&set)
		if !set.EmailAvailable || set.EmailAfterMinutes != 60 {
			t.Fatalf("default settings with a mailer: %+v", set)
		}
		// Paused while the messages come, so that one digest has them all
		// however slowly they are sent.
		set.EmailAfterMinutes, set.PausedUntil = 15, time.Now().Add(time.Hour)
		bob.do("PUT", "/api/v1/me/notifications", set.NotifySettings).want(http.StatusOK)
		// Cat is in do-not-disturb hours all day, every day.
		var cs notify.SettingsView
		cat.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&cs)
		cs.EmailAfterMinutes, cs.DNDEnabled, cs.DNDFrom, cs.DNDTo = 15, true, "00:00", "00:00"
		cat.do("PUT", "/api/v1/me/notifications", cs.NotifySettings).want(http.StatusOK)

		dm := ann.directAllowed(bob)
		group := ann.group("Launch", bob, cat)
		// Bob and Cat read what the group's creation said.
		bob.do("POST", fmt.Sprintf("/api/v1/conversations/%d/read", group.ID), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		cat.do("POST", fmt.Sprintf("/api/v1/conversations/%d/read", group.ID), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		ann.send(dm.ID, "first")
		ann.send(dm.ID, strings.Repeat("long text ", 60)+"THE END")
		ann.send(group.ID, "all hands at ten")
		time.Sleep(900 * time.Millisecond) // older than the delay
		if n := len(smtp.Sent()); n != 0 {
			t.Fatalf("%d mails while paused", n)
		}
		set.PausedUntil = time.Time{}
		bob.do("PUT", "/api/v1/me/notifications", set.NotifySettings).want(http.StatusOK)
		sent := smtp.WaitSent(t, 1)
		time.Sleep(500 * time.Millisecond)
		if n := len(smtp.Sent()); n != 1 {
			t.Fatalf("%d mails, want one digest for Bob and none for Cat", n)
		}
		m := sent[0]
		text := mailText(t, m)
		for _, want := range []string{"Subject: 3 messages unread in 2 conversations", "Ann Lee: 2 messages unread", "Launch: 1 message unread", "Ann Lee: all hands at ten",
			"all hands at ten", s.url + fmt.Sprintf("/c/%d", dm.ID), s.url + "/settings#notifications"} {
			if !strings.Contains(text, want) {
				t.Errorf("the digest lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "THE END") {
			t.Errorf("the digest has the whole of a long text:\n%s", text)
		}
		if len(m.To) != 1 || m.To[0] != bob.me().Email {
			t.Errorf("sent to %v", m.To)
		}
		// Something new: a second digest, with only the new.
		ann.send(group.ID, "agenda attached")
		sent = smtp.WaitSent(t, 2)
		if second := mailText(t, sent[1]); !strings.Contains(second, "Launch: 2 messages unread") || strings.Contains(second, fmt.Sprintf("/c/%d\n", dm.ID)) {
			t.Errorf("second digest:\n%s", second)
		}
		// Cat's hours end: the digest comes.
		cs.DNDEnabled = false
		cat.do("PUT", "/api/v1/me/notifications", cs.NotifySettings).want(http.StatusOK)
		sent = smtp.WaitSent(t, 3)
		if len(sent[2].To) != 1 || sent[2].To[0] != cat.me().Email || !strings.Contains(mailText(t, sent[2]), "agenda attached") {
			t.Errorf("Cat's digest to %v:\n%s", sent[2].To, sent[2].Data)
		}
	})
}

var _ = websocket.StatusNormalClosure

// mailText is a sent mail's headers and decoded text.
func mailText(t testing.TB, m emailtest.Mail) string {
	head, body, _ := strings.Cut(string(m.Data), "\r\n\r\n")
	text, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return head + "\n\n" + string(text)
}

// Pushes across a cluster: whichever node holds the notifier's lease
// sends each push once (never once per node), a tab open on another node
// counts, and when a node stops another takes the deliveries over.
func TestPushAcrossNodes(t *testing.T) {
	cluster := newCluster(t)
	ps := pushtest.New(t)
	quick := withNotify(100*time.Millisecond, time.Minute)
	n1 := newServer(t, cluster, quick)
	n2 := newServer(t, cluster, quick)
	n3 := newServer(t, cluster, quick)
	ann := n1.newUser(t, parley.RoleMember, "Ann")
	bob := n2.login(t, n1.newUser(t, parley.RoleMember, "Bob").user.Email, testPassword)
	var k1, k2 httpapi_VAPID
	ann.do("GET", "/api/v1/push/vapid-key", nil).want(http.StatusOK).decode(&k1)
	bob.do("GET", "/api/v1/push/vapid-key", nil).want(http.StatusOK).decode(&k2)
	if k1.PublicKey == "" || k1 != k2 {
		t.Fatalf("the nodes sign with different keys: %q, %q", k1.PublicKey, k2.PublicKey)
	}
	ps.ExpectVAPIDKey(k1.PublicKey)
	subscribe(bob, ps.Subscribe())
	dm := ann.directAllowed(bob)
	for i := range 3 {
		ann.send(dm.ID, fmt.Sprintf("message %d", i))
		ps.Wait(t, i+1, 15*time.Second)
		time.Sleep(300 * time.Millisecond) // time for a duplicate to show
		if n := len(ps.Pushes()); n != i+1 {
			t.Fatalf("%d pushes after %d messages: sent by more than one node", n, i+1)
		}
	}
	// A tab on node 3: no node pushes.
	tab := n3.login(t, bob.user.Email, testPassword).connect()
	tab.waitFor("hello")
	eventually(t, "every node seeing Bob online", func() bool {
		return n1.m.presence.Online(bob.id()) && n2.m.presence.Online(bob.id()) && n3.m.presence.Online(bob.id())
	})
	ann.send(dm.ID, "while the tab is open")
	time.Sleep(600 * time.Millisecond)
	if n := len(ps.Pushes()); n != 3 {
		t.Fatalf("%d pushes with a tab open on another node, want 3", n)
	}
	tab.ws.CloseNow()
	eventually(t, "Bob offline everywhere", func() bool {
		return !n1.m.presence.Online(bob.id()) && !n2.m.presence.Online(bob.id())
	})
	// Node 1 stops (giving its lease up if it held it): another delivers.
	n1.stop()
	ann2 := n2.login(t, ann.user.Email, testPassword)
	ann2.send(dm.ID, "after a node left")
	got := payloads(t, ps.Wait(t, 4, 20*time.Second))
	time.Sleep(300 * time.Millisecond)
	if n := len(ps.Pushes()); n != 4 || got[3].Body != "after a node left" {
		t.Fatalf("%d pushes, the last %+v", n, got[len(got)-1])
	}
}

// A reminder that comes due while its user has no tab open is pushed
// once, and listed in the e-mail digest once.
func TestReminderNotifications(t *testing.T) {
	ps := pushtest.New(t)
	smtp := emailtest.NewSMTP(t, emailtest.SMTPOptions{NoAuth: true})
	s := newServer(t, withMailer(smtp), withNotify(time.Hour, 20*time.Millisecond))
	ann, bob := s.newUser(t, parley.RoleMember, "Ann"), s.newUser(t, parley.RoleMember, "Bob")
	subscribe(bob, ps.Subscribe())
	dm := ann.directAllowed(bob)
	m := ann.send(dm.ID, "send the contract on Monday")
	bob.do("POST", fmt.Sprintf("/api/v1/conversations/%d/read", dm.ID), map[string]int64{"seq": 0}).want(http.StatusNoContent)
	var set notify.SettingsView
	bob.do("GET", "/api/v1/me/notifications", nil).want(http.StatusOK).decode(&set)
	set.EmailAfterMinutes = 15 // 300 ms here
	bob.do("PUT", "/api/v1/me/notifications", set.NotifySettings).want(http.StatusOK)
	bob.do("PUT", fmt.Sprintf("/api/v1/messages/%d/reminder", m.ID), map[string]any{"remind_at": time.Now().Add(time.Second)}).want(http.StatusOK)
	got := payloads(t, ps.Wait(t, 1, 15*time.Second))
	want := fmt.Sprintf("/c/%d?m=%d&snooze=1", dm.ID, m.ID)
	if got[0].Kind != "reminder" || got[0].Title != "Reminder" || got[0].Body != "send the contract on Monday" || got[0].URL != want {
		t.Fatalf("reminder push %+v", got[0])
	}
	mail := mailText(t, smtp.WaitSent(t, 1)[0])
	if !strings.Contains(mail, "Reminders that came due while you were away") || !strings.Contains(mail, "send the contract on Monday") ||
		!strings.Contains(mail, "Subject: 1 reminder due in Parley") {
		t.Errorf("digest:\n%s", mail)
	}
	time.Sleep(500 * time.Millisecond)
	if p, n := len(ps.Pushes()), len(smtp.Sent()); p != 1 || n != 1 {
		t.Errorf("%d pushes and %d mails, want one of each", p, n)
	}
}

// A 1:1 call rings a callee with no tab open through Web Push.
func TestCallRingPush(t *testing.T) {
	ps := pushtest.New(t)
	s := newServer(t, withCalls(t), withNotify(time.Hour, time.Minute))
	alice, bob := s.newUser(t, parley.RoleMember, "Alice Hart"), s.newUser(t, parley.RoleMember, "Bob Stone")
	var key httpapi_VAPID
	bob.do("GET", "/api/v1/push/vapid-key", nil).want(http.StatusOK).decode(&key)
	ps.ExpectVAPIDKey(key.PublicKey)
	subscribe(bob, ps.Subscribe())
	conv := alice.directAllowed(bob)
	sa := alice.callSocket()
	ack := sa.do(map[string]any{"type": "call.start", "conversation_id": conv.ID, "video": true})
	if ack["type"] != "ack" {
		t.Fatalf("call.start: %v", ack)
	}
	got := payloads(t, ps.Wait(t, 1, 10*time.Second))
	if p := got[0]; p.Kind != "call" || p.Title != "Alice Hart is calling" || p.Body != "Video call" || p.URL != fmt.Sprintf("/c/%d", conv.ID) {
		t.Errorf("ring push %+v", p)
	}
	callID := ack["call"].(map[string]any)["id"]
	if r := sa.do(map[string]any{"type": "call.leave", "call_id": callID}); r["type"] != "ok" {
		t.Fatalf("call.leave: %v", r)
	}
}
