package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/realtime"
)

// withVisitorTokenTTL shortens visitor tokens' life, so a test sees one
// expire in seconds.
func withVisitorTokenTTL(d time.Duration) serverOption {
	return func(c *Config) { c.VisitorTokenTTL = d }
}

// visitorFrames is what a visitor socket received until the server closed it.
type visitorFrames struct {
	cursor int64    // the highest event id received
	texts  []string // the texts of message.created, in order
	code   websocket.StatusCode
	reason string
	at     time.Time // when the close arrived
}

// readUntilClosed reads a visitor socket's frames until the server closes
// it, keeping the cursor a widget would keep.
func readUntilClosed(t *testing.T, s *socket, cursor int64) visitorFrames {
	t.Helper()
	out := visitorFrames{cursor: cursor}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				out.at = time.Now()
				var ce websocket.CloseError
				if errors.As(s.err, &ce) {
					out.code, out.reason = ce.Code, ce.Reason
				}
				return out
			}
			out.note(f)
		case <-timeout:
			t.Fatal("the server did not close the visitor socket")
		}
	}
}

// note records a frame as the widget would: the cursor, and new messages.
func (v *visitorFrames) note(f map[string]any) {
	id, _ := f["id"].(float64)
	if f["type"] == "hello" {
		if c, _ := f["cursor"].(float64); c > 0 {
			v.cursor = int64(c)
		}
		return
	}
	if id == 0 {
		return
	}
	if int64(id) <= v.cursor {
		return // already had it
	}
	v.cursor = int64(id)
	if f["type"] == parley.EventMessageCreated {
		d, _ := f["data"].(map[string]any)
		text, _ := d["text"].(string)
		v.texts = append(v.texts, text)
	}
}

// TestWidgetSocketEndsAtTokenExpiry: a visitor socket ends when the token
// it was opened with expires, with close code 4401 (docs/realtime.md);
// the session answer says when that is. A visitor who renewed the token
// before (a new session with it: the same visitor) reconnects with the new
// one from its cursor and gets everything sent meanwhile, once; the
// expired token is refused.
func TestWidgetSocketEndsAtTokenExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		const ttl = 4 * time.Second
		s := newServer(t, append(opts, withVisitorTokenTTL(ttl))...)
		lc := newLiveChat(t, s)
		lc.aSock = lc.a.connect()
		lc.waitOnline(t, true)

		start := time.Now()
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		sess := v.session
		// The token expires to the second: at most ttl from when it was made.
		if left := time.Until(sess.ExpiresAt); left <= 0 || left > ttl || sess.ExpiresAt.Before(start.Add(ttl-time.Second)) {
			t.Fatalf("expires_at %v is %v away; the lifetime is %v", sess.ExpiresAt, left, ttl)
		}
		if sess.ExpiresIn < int64(ttl/time.Second)-1 || sess.ExpiresIn > int64(ttl/time.Second) {
			t.Fatalf("expires_in %d for a lifetime of %v", sess.ExpiresIn, ttl)
		}
		v.send("hello")
		conv := v.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)

		old := v.connect(0)
		first := readUntilHello(t, old)
		lc.a.send(conv, "before the renewal")

		// The widget renews its token while some of its life is left: the
		// same visitor, a later expiry (tokens expire to the second, so in
		// a later second). The open socket keeps its own.
		for time.Now().Unix() <= sess.ExpiresAt.Add(-ttl).Unix() {
			time.Sleep(20 * time.Millisecond)
		}
		if time.Until(sess.ExpiresAt) < time.Second {
			t.Fatalf("too slow: the token expires in %v, before it can be renewed", time.Until(sess.ExpiresAt))
		}
		var renewed livechat.VisitorSession
		v.do("POST", "/api/v1/widget/sessions", map[string]any{"project": lc.project.Key, "token": v.token}).
			want(http.StatusOK).decode(&renewed)
		if renewed.Token == v.token || renewed.Conversation == nil || renewed.Conversation.ID != conv {
			t.Fatalf("renewing the token: %+v", renewed)
		}
		if !renewed.ExpiresAt.After(sess.ExpiresAt) {
			t.Fatalf("the renewed token expires at %v, not after the first (%v)", renewed.ExpiresAt, sess.ExpiresAt)
		}

		got := readUntilClosed(t, old, first)
		if got.code != realtime.CloseTokenExpired || !strings.Contains(got.reason, "expired") {
			t.Fatalf("the visitor socket closed with %d %q, want %d", got.code, got.reason, realtime.CloseTokenExpired)
		}
		// Not before the token expired, and promptly after (timers, a busy CI box).
		if got.at.Before(sess.ExpiresAt) || got.at.After(sess.ExpiresAt.Add(2*time.Second)) {
			t.Fatalf("the socket closed at %v; the token expired at %v", got.at.Format(time.StampMilli), sess.ExpiresAt.Format(time.StampMilli))
		}
		if len(got.texts) != 1 || got.texts[0] != "before the renewal" {
			t.Fatalf("before the close the visitor got %q", got.texts)
		}

		// While the widget is away, the consultant writes.
		missed := []string{"one", "two", "three"}
		for _, text := range missed {
			lc.a.send(conv, text)
		}

		// The expired token opens nothing any more.
		v.do("GET", "/api/v1/widget/ws?cursor=0&token="+v.token, nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)

		// The renewed token resumes from the cursor: every missed message, once, in order.
		v.token = renewed.Token
		again := v.connect(got.cursor)
		hello := again.waitFor("hello")
		if hello["resync"] == true {
			t.Fatalf("the resume after expiry was a resync: %v", hello)
		}
		back := visitorFrames{cursor: got.cursor}
		for len(back.texts) < len(missed) {
			back.note(again.waitFor(parley.EventMessageCreated))
		}
		if !sameStrings(back.texts, missed) {
			t.Fatalf("after the reconnect the visitor got %q, want %q", back.texts, missed)
		}
		lc.a.send(conv, "live again")
		back.note(again.waitFor(parley.EventMessageCreated))
		if want := append(missed, "live again"); !sameStrings(back.texts, want) {
			t.Fatalf("after the reconnect the visitor got %q, want %q", back.texts, want)
		}
		// The whole dialog, as the history has it: nothing lost, nothing twice.
		var texts []string
		for _, m := range v.history().Messages {
			if m.Kind == parley.MsgText {
				texts = append(texts, m.Text)
			}
		}
		if want := []string{"hello", "before the renewal", "one", "two", "three", "live again"}; !sameStrings(texts, want) {
			t.Fatalf("the history is %q, want %q", texts, want)
		}

		// The new socket ends at the renewed token's expiry too.
		end := readUntilClosed(t, again, back.cursor)
		if end.code != realtime.CloseTokenExpired || end.at.Before(renewed.ExpiresAt) {
			t.Fatalf("the second socket closed with %d at %v; its token expired at %v", end.code, end.at, renewed.ExpiresAt)
		}
	})
}

// readUntilHello waits for a socket's hello and returns its cursor.
func readUntilHello(t *testing.T, s *socket) int64 {
	t.Helper()
	c, _ := s.waitFor("hello")["cursor"].(float64)
	return int64(c)
}
