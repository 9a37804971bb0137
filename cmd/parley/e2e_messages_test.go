package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/messaging"
)

func TestMessages(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		outsider := s.newUser(t, parley.RoleAdmin, "Olivia Outsider")
		dm := a.directAllowed(b)
		other := a.group("Elsewhere", outsider)
		sendPath := convPath(dm.ID, "/messages")
		count := func() int { return len(a.history(dm.ID, "limit=200")) }

		t.Run("length limit", func(t *testing.T) {
			n := count()
			exact := strings.Repeat("é", 1999) + "🎉" // 2000 characters, more bytes
			if m := a.send(dm.ID, exact); m.Text != exact {
				t.Errorf("2000 characters came back as %d", len([]rune(m.Text)))
			}
			e := a.do("POST", sendPath, map[string]string{"text": exact + "!"}).wantErr(http.StatusBadRequest, parley.EINVALID)
			if e.Field != "text" || !strings.Contains(e.Message, "2001") || !strings.Contains(e.Message, "2000") {
				t.Errorf("the error does not say what is wrong: %+v", e)
			}
			a.do("POST", sendPath, map[string]string{"text": ""}).wantErr(http.StatusBadRequest, parley.EINVALID)
			a.do("POST", sendPath, map[string]string{"text": " \n\t "}).wantErr(http.StatusBadRequest, parley.EINVALID)
			a.do("POST", sendPath, map[string]string{"text": "x", "client_id": strings.Repeat("c", 65)}).wantErr(http.StatusBadRequest, parley.EINVALID)
			if got := count(); got != n+1 {
				t.Errorf("%d messages after one good send and refused ones, want %d", got, n+1)
			}
		})

		t.Run("emoji round trip", func(t *testing.T) {
			text := "Hi 👋🏽 — ça va? 🇫🇷 👨‍👩‍👧‍👦 日本語 \U0001F9D1\u200D\U0001F4BB"
			m := a.send(dm.ID, text)
			if m.Text != text {
				t.Errorf("sent %q, answer %q", text, m.Text)
			}
			h := b.history(dm.ID, "")
			if last := h[len(h)-1]; last.Text != text || last.ID != m.ID {
				t.Errorf("B reads %q", last.Text)
			}
		})

		t.Run("quotes", func(t *testing.T) {
			orig := b.send(dm.ID, "Shall we meet at noon?")
			reply := a.sendBody(dm.ID, map[string]any{"text": "Yes!", "quote_id": orig.ID})
			if reply.Quote == nil || reply.QuoteID != orig.ID || reply.Quote.ID != orig.ID ||
				reply.Quote.SenderID != b.id() || reply.Quote.Text != orig.Text {
				t.Errorf("reply's quote: %+v", reply.Quote)
			}
			h := b.history(dm.ID, "")
			if last := h[len(h)-1]; last.Quote == nil || last.Quote.Text != orig.Text {
				t.Errorf("history's quote: %+v", last.Quote)
			}
			n := count()
			elsewhere := a.send(other.ID, "in another chat")
			e := a.do("POST", sendPath, map[string]any{"text": "quoting across", "quote_id": elsewhere.ID}).wantErr(http.StatusBadRequest, parley.EINVALID)
			if e.Field != "quote_id" {
				t.Errorf("error %+v", e)
			}
			a.do("POST", sendPath, map[string]any{"text": "quoting nothing", "quote_id": 999999}).wantErr(http.StatusBadRequest, parley.EINVALID)
			system := a.history(dm.ID, "before=2")[0] // the "allowed" line
			if system.Kind != parley.MsgEvent {
				t.Fatalf("first message %+v is not a system line", system)
			}
			a.do("POST", sendPath, map[string]any{"text": "quoting a system line", "quote_id": system.ID}).wantErr(http.StatusBadRequest, parley.EINVALID)
			if got := count(); got != n {
				t.Errorf("refused quotes stored messages: %d, want %d", got, n)
			}
		})

		t.Run("idempotent client id", func(t *testing.T) {
			n := count()
			first := a.sendBody(dm.ID, map[string]any{"text": "only once", "client_id": "retry-1"})
			second := a.sendBody(dm.ID, map[string]any{"text": "only once", "client_id": "retry-1"})
			if first.ID != second.ID || first.Seq != second.Seq || second.ClientID != "retry-1" {
				t.Errorf("a retry gave %+v after %+v", second, first)
			}
			if got := count(); got != n+1 {
				t.Errorf("%d messages after a send and its retry, want %d", got, n+1)
			}
			// Client ids are per sender.
			other := b.sendBody(dm.ID, map[string]any{"text": "mine", "client_id": "retry-1"})
			if other.ID == first.ID {
				t.Error("B's send with A's client id returned A's message")
			}
			a.do("POST", convPath(other.ConversationID, "/messages"), map[string]any{"text": "x", "client_id": "retry-1"}).want(http.StatusCreated)
			a.do("POST", convPath(dm.ID+1000, "/messages"), map[string]any{"text": "x", "client_id": "retry-2"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		})

		t.Run("edit and delete", func(t *testing.T) {
			m := a.send(dm.ID, "tpyo")
			var edited parley.Message
			a.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": "typo"}).want(http.StatusOK).decode(&edited)
			if edited.Text != "typo" || edited.EditedAt.IsZero() || edited.ID != m.ID || edited.Seq != m.Seq {
				t.Errorf("edited %+v", edited)
			}
			h := b.history(dm.ID, fmt.Sprintf("after=%d&limit=1", m.Seq-1))
			if len(h) != 1 || h[0].Text != "typo" || h[0].EditedAt.IsZero() {
				t.Errorf("B reads %+v", h)
			}
			b.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": "hijacked"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
			b.do("DELETE", "/api/v1/messages/"+itoa(m.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
			outsider.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": "hijacked"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			outsider.do("DELETE", "/api/v1/messages/"+itoa(m.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			a.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": strings.Repeat("x", 2001)}).wantErr(http.StatusBadRequest, parley.EINVALID)
			a.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": "  "}).wantErr(http.StatusBadRequest, parley.EINVALID)
			a.do("PATCH", "/api/v1/messages/999999", map[string]string{"text": "x"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			system := a.history(dm.ID, "before=2")[0]
			a.do("PATCH", "/api/v1/messages/"+itoa(system.ID), map[string]string{"text": "x"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
			if h := b.history(dm.ID, fmt.Sprintf("after=%d&limit=1", m.Seq-1)); h[0].Text != "typo" {
				t.Errorf("refused edits changed the text: %q", h[0].Text)
			}

			var deleted parley.Message
			a.do("DELETE", "/api/v1/messages/"+itoa(m.ID), nil).want(http.StatusOK).decode(&deleted)
			if deleted.Text != "" || deleted.DeletedAt.IsZero() {
				t.Errorf("deleted %+v", deleted)
			}
			h = b.history(dm.ID, fmt.Sprintf("after=%d&limit=1", m.Seq-1))
			if len(h) != 1 || h[0].Text != "" || h[0].DeletedAt.IsZero() {
				t.Errorf("B reads the deleted message as %+v", h)
			}
			if got := b.search("q=typo"); len(got) != 0 {
				t.Errorf("search finds a deleted message: %+v", got)
			}
			a.do("PATCH", "/api/v1/messages/"+itoa(m.ID), map[string]string{"text": "back"}).wantErr(http.StatusConflict, parley.ECONFLICT)
			a.do("DELETE", "/api/v1/messages/"+itoa(m.ID), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		})

		t.Run("a message to a user with no device stays sent", func(t *testing.T) {
			m := a.send(dm.ID, "are you there?")
			if m.Status != parley.StatusSent {
				t.Errorf("the answer's status is %q", m.Status)
			}
			h := a.history(dm.ID, "")
			if last := h[len(h)-1]; last.ID != m.ID || last.Status != parley.StatusSent {
				t.Errorf("history shows %+v", last)
			}
			if v := a.listed(dm.ID); v.LastMessage == nil || v.LastMessage.ID != m.ID || v.LastMessage.Status != parley.StatusSent {
				t.Errorf("the list shows %+v", v.LastMessage)
			}
		})
	})
}

func TestMessageLengthConfigurable(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *Config) { c.MaxMessageLength = 10 })
	a, b := s.newUser(t, parley.RoleMember, "Anna"), s.newUser(t, parley.RoleMember, "Boris")
	var lim httpapi.Limits
	a.get("/api/v1/config", &lim)
	if lim.MaxMessageLength != 10 || lim.MaxFileSize != DefaultConfig().MaxFileSize || lim.MaxFilesPerMsg == 0 {
		t.Errorf("config %+v", lim)
	}
	c := a.directAllowed(b)
	a.send(c.ID, "0123456789")
	e := a.do("POST", convPath(c.ID, "/messages"), map[string]string{"text": "0123456789A"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	if !strings.Contains(e.Message, "10") {
		t.Errorf("error %+v does not name the limit", e)
	}
}

// TestDeliveryStatus: sent while the recipient has no device, delivered
// once one connects, read once they read.
func TestDeliveryStatus(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a, b := s.newUser(t, parley.RoleMember, "Anna"), s.newUser(t, parley.RoleMember, "Boris")
	c := a.directAllowed(b)
	m := a.send(c.ID, "while you were out")
	status := func(id int64) parley.MsgStatus {
		for _, x := range a.history(c.ID, "") {
			if x.ID == id {
				return x.Status
			}
		}
		t.Fatalf("message %d missing", id)
		return ""
	}
	if st := status(m.ID); st != parley.StatusSent {
		t.Fatalf("before B connects: %s", st)
	}
	ws := b.connect()
	ws.waitFor("hello")
	eventually(t, "delivered after B connects", func() bool { return status(m.ID) == parley.StatusDelivered })

	// A live message reaches the socket and becomes delivered; typing too.
	live := a.send(c.ID, "now you are here")
	f := ws.waitFor(parley.EventMessageCreated)
	for f["seq"] != float64(live.Seq) {
		f = ws.waitFor(parley.EventMessageCreated)
	}
	eventually(t, "live message delivered", func() bool { return status(live.ID) == parley.StatusDelivered })
	a.do("POST", convPath(c.ID, "/typing"), nil).want(http.StatusNoContent)
	if f := ws.waitFor(parley.EventTyping); f["conversation_id"] != float64(c.ID) {
		t.Errorf("typing frame %v", f)
	}

	b.do("POST", convPath(c.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)
	if st := status(live.ID); st != parley.StatusRead {
		t.Errorf("after B read: %s", st)
	}
}

func TestReadStateDraftsAndClient(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		c := s.newUser(t, parley.RoleMember, "Cyril Gamma")
		g := a.group("Team", b, c)
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		c.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)

		var sent []parley.Message
		for i := range 3 {
			sent = append(sent, a.send(g.ID, fmt.Sprint("news ", i)))
		}
		unread := func(cl *client) (int64, bool) {
			v := cl.listed(g.ID)
			if v == nil {
				t.Fatalf("%s does not list the chat", cl.user.Name)
			}
			return v.Unread, v.MarkedUnread
		}
		if n, _ := unread(b); n != 3 {
			t.Errorf("B's unread %d, want 3", n)
		}
		if n, _ := unread(a); n != 0 {
			t.Errorf("the sender's unread %d, want 0", n)
		}
		if v := b.conversation(g.ID); v.Unread != 3 || v.ReadSeq != sent[0].Seq-1 {
			t.Errorf("B's conversation: unread %d read_seq %d", v.Unread, v.ReadSeq)
		}
		// The total counts every conversation of the user.
		dm := b.direct(a)
		a.do("POST", convPath(dm.ID, "/allow"), nil).want(http.StatusOK)
		a.send(dm.ID, "one more, elsewhere")
		var total messaging.Unread
		b.do("GET", "/api/v1/me/unread", nil).want(http.StatusOK).decode(&total)
		// 3 in the group; in the direct chat the "allowed" line (news to
		// the requester) and the message.
		if total.Messages != 5 || total.Conversations != 2 {
			t.Errorf("B's unread total %+v, want 5 messages in 2 conversations", total)
		}
		b.do("POST", convPath(dm.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": sent[1].Seq}).want(http.StatusNoContent)
		if n, _ := unread(b); n != 1 {
			t.Errorf("B's unread after reading two: %d", n)
		}
		// Read pointers never move back.
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": 1}).want(http.StatusNoContent)
		if n, _ := unread(b); n != 1 {
			t.Errorf("B's unread after reading an older seq: %d", n)
		}
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": -1}).wantErr(http.StatusBadRequest, parley.EINVALID)
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		if n, m := unread(b); n != 0 || m {
			t.Errorf("after reading everything: %d %v", n, m)
		}

		// Mark as unread is for the marker only.
		aUnread, _ := unread(a)
		cUnread, _ := unread(c)
		b.do("POST", convPath(g.ID, "/unread"), nil).want(http.StatusNoContent)
		if n, m := unread(b); n != 1 || !m {
			t.Errorf("B after marking unread: unread %d marked %v", n, m)
		}
		if n, m := unread(a); n != aUnread || m {
			t.Errorf("A sees unread %d marked %v after B marked it", n, m)
		}
		if n, m := unread(c); n != cUnread || m {
			t.Errorf("C sees unread %d marked %v after B marked it", n, m)
		}
		b.do("POST", convPath(g.ID, "/read"), map[string]int64{"seq": 0}).want(http.StatusNoContent)
		if n, m := unread(b); n != 0 || m {
			t.Errorf("B after reading again: %d %v", n, m)
		}
		b.do("POST", convPath(g.ID, "/unread"), nil).want(http.StatusNoContent)
		b.send(g.ID, "my own message ends my unread mark")
		if n, m := unread(b); n != 0 || m {
			t.Errorf("B after writing: %d %v", n, m)
		}

		// A draft is kept for its writer only.
		var d messaging.Draft
		b.do("PUT", convPath(g.ID, "/draft"), map[string]string{"text": "half a thought…"}).want(http.StatusOK).decode(&d)
		if d.Text != "half a thought…" || d.ConversationID != g.ID {
			t.Errorf("draft answer %+v", d)
		}
		if v := b.listed(g.ID); v.Draft != "half a thought…" {
			t.Errorf("B's list shows draft %q", v.Draft)
		}
		if v := b.conversation(g.ID); v.Draft != "half a thought…" {
			t.Errorf("B's conversation shows draft %q", v.Draft)
		}
		for _, other := range []*client{a, c} {
			if v := other.listed(g.ID); v.Draft != "" {
				t.Errorf("%s sees B's draft %q", other.user.Name, v.Draft)
			}
			if r := other.do("GET", convPath(g.ID, ""), nil); strings.Contains(string(r.Body), "half a thought") {
				t.Errorf("%s's view contains B's draft: %s", other.user.Name, r.Body)
			}
		}
		b.do("PUT", convPath(g.ID, "/draft"), map[string]string{"text": strings.Repeat("x", 2001)}).wantErr(http.StatusBadRequest, parley.EINVALID)
		if v := b.listed(g.ID); v.Draft != "half a thought…" {
			t.Errorf("a refused draft replaced the draft: %q", v.Draft)
		}
		b.do("PUT", convPath(g.ID, "/draft"), map[string]string{"text": ""}).want(http.StatusOK)
		if v := b.listed(g.ID); v.Draft != "" {
			t.Errorf("the draft was not cleared: %q", v.Draft)
		}
		// Sending what was drafted clears the draft.
		b.do("PUT", convPath(g.ID, "/draft"), map[string]string{"text": "almost sent"}).want(http.StatusOK)
		sentDraft := b.send(g.ID, "almost sent")
		if v := b.listed(g.ID); v.Draft != "" {
			t.Errorf("the draft survived sending: %q", v.Draft)
		}

		// One message by id: for its members only.
		var one parley.Message
		a.do("GET", "/api/v1/messages/"+itoa(sentDraft.ID), nil).want(http.StatusOK).decode(&one)
		if one.ID != sentDraft.ID || one.Text != "almost sent" || one.Status == "" {
			t.Errorf("GET /messages/{id} = %+v", one)
		}
		outsider := newOutsider(t, a)
		outsider.do("GET", "/api/v1/messages/"+itoa(sentDraft.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// The client a user last wrote from is shown on their user card.
		userCard := func() parley.User {
			var u parley.User
			c.get("/api/v1/users/"+itoa(a.id()), &u)
			return u
		}
		if u := userCard(); u.LastClient != "" {
			t.Errorf("last client before any client wrote: %q", u.LastClient)
		}
		a.header.Set("X-Parley-Client", "web/1.4.0")
		a.send(g.ID, "from the browser")
		if u := userCard(); u.LastClient != "web" || u.LastClientVersion != "1.4.0" {
			t.Errorf("after writing from web/1.4.0: %q %q", u.LastClient, u.LastClientVersion)
		}
		a.header.Set("X-Parley-Client", "desktop/2.0.1")
		a.send(g.ID, "from the desktop app")
		if u := userCard(); u.LastClient != "desktop" || u.LastClientVersion != "2.0.1" {
			t.Errorf("after writing from desktop/2.0.1: %q %q", u.LastClient, u.LastClientVersion)
		}
		a.header.Del("X-Parley-Client")
		a.send(g.ID, "from a script that says nothing")
		if u := userCard(); u.LastClient != "desktop" {
			t.Errorf("a send without a client changed the last client to %q", u.LastClient)
		}
	})
}

// insertAt writes a message with the given time straight through the store:
// the API stamps messages with the current time.
func insertAt(t *testing.T, s *testServer, convID, senderID int64, text string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	_, err := s.m.store.Write(ctx, func(tx parley.Tx) error {
		return tx.InsertMessage(ctx, &parley.Message{ConversationID: convID, SenderID: senderID, Kind: parley.MsgText,
			Text: text, CreatedAt: at.UTC().Truncate(time.Millisecond)})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		c := s.newUser(t, parley.RoleMember, "Cyril Gamma")
		d := s.newUser(t, parley.RoleMember, "Dora Delta")

		t.Run("paging", func(t *testing.T) {
			g := a.group("Paging", b) // seq 1 is the "created" line
			var want []string
			for i := 1; i <= 30; i++ {
				want = append(want, fmt.Sprintf("m%02d", i))
				a.send(g.ID, want[i-1])
			}
			page := func(q string) []string { return texts(b.history(g.ID, q)) }
			for _, tc := range []struct {
				query string
				want  []string
			}{
				{"limit=10", want[20:]},
				{"before=22&limit=10", want[10:20]},
				{"before=12&limit=10", want[:10]},
				{"before=2", nil},
				{"after=1&limit=5", want[:5]},
				{"after=6&limit=5", want[5:10]},
				{"after=26", want[25:]},
				{"after=31", nil},
				{"after=5&before=10", want[4:8]},
				{"", want},
			} {
				if got := page(tc.query); !sameStrings(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
					t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
				}
			}
			// Pages are in ascending seq order.
			msgs := b.history(g.ID, "")
			if !slices.IsSortedFunc(msgs, func(x, y *parley.Message) int { return int(x.Seq - y.Seq) }) {
				t.Error("history is not in seq order")
			}
			// Walking backwards from the newest page reaches the start.
			seen := 0
			before := int64(0)
			for range 20 {
				q := "limit=7"
				if before > 0 {
					q += fmt.Sprintf("&before=%d", before)
				}
				p := b.history(g.ID, q)
				if len(p) == 0 {
					break
				}
				seen += len(p)
				before = p[0].Seq
			}
			if seen != 31 {
				t.Errorf("walking backwards saw %d messages, want 31", seen)
			}
		})

		t.Run("periods", func(t *testing.T) {
			g := a.group("Periods", b)
			now := time.Now().UTC()
			day := 24 * time.Hour
			y, mo, dd := now.AddDate(0, 0, -1).Date()
			startOfYesterday := time.Date(y, mo, dd, 0, 0, 0, 0, time.UTC)
			old := []struct {
				text string
				at   time.Time
			}{
				{"y400", now.Add(-400 * day)},
				{"y360", now.Add(-360 * day)},
				{"m100", now.Add(-100 * day)},
				{"m80", now.Add(-80 * day)},
				{"d31", now.Add(-31 * day)},
				{"d29", now.Add(-29 * day)},
				{"d8", now.Add(-8 * day)},
				{"d6", now.Add(-6 * day)},
				{"before-yesterday", startOfYesterday.Add(-time.Minute)},
				{"yesterday", startOfYesterday.Add(time.Minute)},
			}
			for _, o := range old {
				insertAt(t, s, g.ID, a.id(), o.text, o.at)
			}
			a.send(g.ID, "today")
			all := []string{"y400", "y360", "m100", "m80", "d31", "d29", "d8", "d6", "before-yesterday", "yesterday", "today"}
			for _, tc := range []struct {
				period string
				want   []string
			}{
				{"yesterday", all[9:]},
				{"7d", all[7:]},
				{"30d", all[5:]},
				{"3m", all[3:]},
				{"1y", all[1:]},
				{"", all},
			} {
				got := texts(b.history(g.ID, "period="+tc.period))
				if tc.period == "yesterday" && time.Now().UTC().YearDay() != now.YearDay() {
					t.Logf("midnight passed since the messages were written; yesterday moved")
					continue
				}
				if !sameStrings(got, tc.want) {
					t.Errorf("period=%s: %q, want %q", tc.period, got, tc.want)
				}
			}
			since := url.QueryEscape(now.Add(-10 * day).Format(time.RFC3339Nano))
			until := url.QueryEscape(now.Add(-5 * day).Format(time.RFC3339Nano))
			if got := texts(b.history(g.ID, "since="+since+"&until="+until)); !sameStrings(got, []string{"d8", "d6"}) {
				t.Errorf("since/until: %q", got)
			}
			if got := texts(b.history(g.ID, "period=yesterday&tz=Europe/Paris")); len(got) == 0 || got[len(got)-1] != "today" {
				t.Errorf("yesterday in Paris: %q", got)
			}
			b.do("GET", convPath(g.ID, "/messages?period=2w"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
			b.do("GET", convPath(g.ID, "/messages?period=7d&tz=Mars/Olympus"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
			b.do("GET", convPath(g.ID, "/messages?since=yesterday"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
			c.do("GET", convPath(g.ID, "/messages?period=1y"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		})

		t.Run("search", func(t *testing.T) {
			ab := a.group("Pizza club", b)
			cd := c.group("Secret plans", d)
			ac := a.directAllowed(c)
			p1 := a.send(ab.ID, "the pineapple pizza debate")
			p2 := b.send(ab.ID, "Pineapples are great")
			a.send(ab.ID, "nothing to see")
			p4 := c.send(cd.ID, "secret pineapple plan")
			p3 := c.send(ac.ID, "pineapple delivery tomorrow")
			gone := a.send(ab.ID, "pineapple regrets")
			a.do("DELETE", "/api/v1/messages/"+itoa(gone.ID), nil).want(http.StatusOK)

			ids := func(msgs []*parley.Message) []int64 {
				var out []int64
				for _, m := range msgs {
					out = append(out, m.ID)
				}
				return out
			}
			for _, tc := range []struct {
				who   *client
				query string
				want  []int64 // newest first
			}{
				{a, "q=pineapple", []int64{p3.ID, p2.ID, p1.ID}},
				{a, "q=PINEAPP", []int64{p3.ID, p2.ID, p1.ID}},
				{a, fmt.Sprintf("q=pineapple&conversation_id=%d", ab.ID), []int64{p2.ID, p1.ID}},
				{a, "q=pizza+pineapple", []int64{p1.ID}},
				{a, "q=secret", nil},
				{b, "q=pineapple", []int64{p2.ID, p1.ID}},
				{d, "q=pineapple", []int64{p4.ID}},
				{a, "q=pineapple&limit=1", []int64{p3.ID}},
				{a, fmt.Sprintf("q=pineapple&limit=1&before=%d", p3.ID), []int64{p2.ID}},
				{a, "q=" + url.QueryEscape(`"*) OR (x:* & !|`), nil},
				{a, "q=", nil},
			} {
				if got := ids(tc.who.search(tc.query)); !slices.Equal(got, tc.want) {
					t.Errorf("%s searching %s: %v, want %v", tc.who.user.Name, tc.query, got, tc.want)
				}
			}
			c.send(cd.ID, "secret pineapple plan 2")
			if got := c.search("q=secret"); len(got) != 2 {
				t.Errorf("C finds %d secrets", len(got))
			}
			a.do("GET", fmt.Sprintf("/api/v1/search?q=secret&conversation_id=%d", cd.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			a.do("GET", "/api/v1/search?q="+strings.Repeat("x", 501), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		})
	})
}

func TestPeriodStart(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 31 March 2024, 15:04 in Paris: summer time began at 02:00 that day.
	now := time.Date(2024, 3, 31, 15, 4, 0, 0, paris)
	for _, tc := range []struct {
		period string
		now    time.Time
		want   time.Time
	}{
		{"yesterday", now, utc("2024-03-29T23:00:00Z")}, // midnight in Paris, still winter time
		{"7d", now, utc("2024-03-24T14:04:00Z")},
		{"30d", now, utc("2024-03-01T14:04:00Z")},
		{"3m", now, utc("2023-12-31T14:04:00Z")},
		{"1y", now, utc("2023-03-31T13:04:00Z")}, // summer time a year earlier
		{"yesterday", utc("2024-01-01T00:30:00Z"), utc("2023-12-31T00:00:00Z")},
		{"7d", utc("2024-01-03T10:00:00Z"), utc("2023-12-27T10:00:00Z")},
	} {
		got, err := httpapi.PeriodStart(tc.period, tc.now)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("PeriodStart(%q, %v) = %v, %v; want %v", tc.period, tc.now, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2w", "7D", "today", "1y "} {
		if _, err := httpapi.PeriodStart(bad, now); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("PeriodStart(%q) error %v, want invalid", bad, err)
		}
	}
}

// newOutsider is a fresh user of c's server who shares no conversation.
func newOutsider(t testing.TB, c *client) *client {
	t.Helper()
	return c.s.newUser(t, parley.RoleMember, "Outsider")
}
