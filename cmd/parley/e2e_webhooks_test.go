package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/signature"
	"github.com/parley-chat/parley/webhooks"
)

// receiver is another system's webhook endpoint on 127.0.0.1: it checks
// each call's signature and keeps the events.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	events []parley.Event
	fail   int // answer 500 to the next n calls
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := signature.Verify([]byte(rc.secret), r.Header.Get(signature.Header), body, time.Now(), 0); err != nil {
			t.Errorf("a webhook call's signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if rc.fail > 0 {
			rc.fail--
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var e parley.Event
		if err := json.Unmarshal(body, &e); err != nil || r.Header.Get("X-Parley-Event") != e.Type {
			t.Errorf("a webhook call: %v, %s", err, body)
		}
		rc.events = append(rc.events, e)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) failNext(n int) {
	rc.mu.Lock()
	rc.fail = n
	rc.mu.Unlock()
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.events)
}

// texts returns the texts of the messages delivered (not system lines).
func (rc *receiver) texts() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		if e.Type == parley.EventMessageCreated {
			var m parley.Message
			json.Unmarshal(e.Data, &m)
			if m.Kind != parley.MsgEvent {
				out = append(out, m.Text)
			}
		}
	}
	return out
}

func TestWebhooks(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		rc := newReceiver(t)

		lc.a.do("POST", "/api/v1/webhooks", map[string]any{"url": rc.srv.URL}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.admin.do("POST", "/api/v1/webhooks", map[string]any{"url": "ftp://x"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.admin.do("POST", "/api/v1/webhooks", map[string]any{"url": rc.srv.URL, "events": []string{"nope"}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		var wh webhooks.View
		lc.admin.do("POST", "/api/v1/webhooks", map[string]any{"project_id": lc.project.ID, "url": rc.srv.URL,
			"events": []string{"message.created"}}).want(http.StatusCreated).decode(&wh)
		if wh.Secret == "" {
			t.Fatal("the secret is not shown on creation")
		}
		rc.setSecret(wh.Secret)
		s.logs.secret(wh.Secret)

		// A visitor's messages reach the receiver in order; a failing
		// receiver gets them again, and nothing after overtakes.
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vic"})
		v.send("first")
		// Nobody is online: the message and the offline notice's system
		// line are both delivered.
		eventually(t, "the first message is delivered", func() bool { return rc.count() == 2 })
		rc.failNext(1)
		v.send("second")
		v.send("third")
		eventually(t, "the retried messages are delivered in order", func() bool {
			return sameStrings(rc.texts(), []string{"first", "second", "third"})
		})

		// The log: each attempt, the failed one with its status.
		var log struct {
			Deliveries []parley.WebhookDelivery `json:"deliveries"`
		}
		lc.admin.do("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", wh.ID), nil).want(http.StatusOK).decode(&log)
		var failed, retried *parley.WebhookDelivery
		for i, d := range log.Deliveries {
			if !d.OK {
				failed = &log.Deliveries[i]
			}
		}
		for i, d := range log.Deliveries {
			if failed != nil && d.OK && d.EventID == failed.EventID && d.Attempt == 2 {
				retried = &log.Deliveries[i]
			}
		}
		if failed == nil || failed.StatusCode != 500 || failed.Error == "" || retried == nil {
			t.Fatalf("the log: %+v", log.Deliveries)
		}
		whPath := fmt.Sprintf("/api/v1/webhooks/%d", wh.ID)
		lc.a.do("GET", whPath+"/deliveries", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("GET", whPath, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("PATCH", whPath, map[string]any{"url": "http://127.0.0.1:1/elsewhere", "rotate_secret": true}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("POST", fmt.Sprintf("%s/deliveries/%d/resend", whPath, failed.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("DELETE", whPath, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var kept webhooks.View
		lc.admin.do("GET", whPath, nil).want(http.StatusOK).decode(&kept)
		if kept.URL != rc.srv.URL || kept.Secret != "" {
			t.Fatalf("a refused change changed the webhook: %+v", kept.Webhook)
		}

		// Resending delivers the event again and logs it.
		var again parley.WebhookDelivery
		lc.admin.do("POST", fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/resend", wh.ID, failed.ID), nil).want(http.StatusOK).decode(&again)
		if !again.OK || again.Attempt != failed.Attempt+1 {
			t.Fatalf("resent: %+v", again)
		}
		if got := rc.texts(); len(got) != 4 || got[3] != "second" {
			t.Fatalf("after the resend: %q", got)
		}

		// A new secret, shown once, signs the calls from then on.
		var rotated webhooks.View
		lc.admin.do("PATCH", fmt.Sprintf("/api/v1/webhooks/%d", wh.ID), map[string]any{"rotate_secret": true}).want(http.StatusOK).decode(&rotated)
		if rotated.Secret == "" || rotated.Secret == wh.Secret {
			t.Fatal("the secret did not change")
		}
		s.logs.secret(rotated.Secret)
		rc.setSecret(rotated.Secret)
		var got webhooks.View
		lc.admin.do("GET", fmt.Sprintf("/api/v1/webhooks/%d", wh.ID), nil).want(http.StatusOK).decode(&got)
		if got.Secret != "" {
			t.Fatal("the secret came back")
		}

		// Paused, nothing is delivered; resumed, it catches up.
		lc.admin.do("PATCH", fmt.Sprintf("/api/v1/webhooks/%d", wh.ID), map[string]any{"active": false}).want(http.StatusOK)
		time.Sleep(200 * time.Millisecond)
		v.send("while paused")
		time.Sleep(time.Second)
		if n := len(rc.texts()); n != 4 {
			t.Fatalf("a paused webhook delivered: %q", rc.texts())
		}
		lc.admin.do("PATCH", fmt.Sprintf("/api/v1/webhooks/%d", wh.ID), map[string]any{"active": true}).want(http.StatusOK)
		eventually(t, "the webhook catches up", func() bool { n := len(rc.texts()); return n == 5 && rc.texts()[4] == "while paused" })
	})
}

// A bot answers the customers assigned to it through the API, with its
// events by webhook, and hands the dialog to a person.
func TestBots(t *testing.T) {
	s := newServer(t)
	lc := newLiveChat(t, s)
	rc := newReceiver(t)
	lc.a.do("POST", "/api/v1/bots", map[string]any{"name": "Helper"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	var bot webhooks.Bot
	lc.admin.do("POST", "/api/v1/bots", map[string]any{"name": "Helper", "webhook_url": rc.srv.URL,
		"events": []string{"message.created", "dialog.updated"}}).want(http.StatusCreated).decode(&bot)
	if bot.Token == "" || bot.Webhook == nil || !bot.User.Bot {
		t.Fatalf("the bot: %+v", bot)
	}
	s.logs.secret(bot.Token)
	rc.setSecret(bot.Webhook.Secret)
	b := &client{s: s, t: t, token: bot.Token, user: *bot.User, header: http.Header{}}
	lc.admin.do("POST", lc.path("/specialists"), map[string]any{"user_id": bot.User.ID, "level": 1}).want(http.StatusCreated)

	v := s.visitor(t, lc.project.Key, map[string]any{"name": "Bea"})
	v.send("I need help")
	id := v.history().Conversation.ID
	lc.admin.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/reassign", id), map[string]any{"user_id": bot.User.ID}).want(http.StatusOK)
	eventually(t, "the bot hears of the customer", func() bool { return len(rc.texts()) >= 1 && rc.texts()[0] == "I need help" })

	var page livechat.DialogPage
	lc.admin.do("GET", "/api/v1/dialogs?bots=true", nil).want(http.StatusOK).decode(&page)
	if len(page.Dialogs) != 1 || page.Dialogs[0].Conversation.ID != id || !page.Dialogs[0].Assignee.Bot {
		t.Fatalf("the bots filter: %d dialogs", len(page.Dialogs))
	}
	var bots httpapi.UserPage
	lc.admin.do("GET", "/api/v1/users?bots=true", nil).want(http.StatusOK).decode(&bots)
	if len(bots.Users) != 1 || bots.Users[0].ID != bot.User.ID {
		t.Fatalf("the bots: %+v", bots.Users)
	}
	b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", id), nil).want(http.StatusOK)
	b.send(id, "Hello, I am a bot. Passing you to a person.")
	b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/reassign", id), map[string]any{"user_id": lc.a.id()}).want(http.StatusOK)
	lc.admin.do("GET", "/api/v1/dialogs?bots=true", nil).want(http.StatusOK).decode(&page)
	if len(page.Dialogs) != 0 {
		t.Fatalf("handed to a person, still listed under bots")
	}
	msgs := v.history().Messages
	if last := msgs[len(msgs)-1]; last.Text != "Hello, I am a bot. Passing you to a person." {
		t.Fatalf("the visitor sees %q last", last.Text)
	}
}
