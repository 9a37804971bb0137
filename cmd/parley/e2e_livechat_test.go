package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
)

const shopOrigin = "https://shop.example"

// visitorClient is a widget session: requests carry the shop's Origin and
// the visitor token.
type visitorClient struct {
	*client
	session livechat.VisitorSession
}

func (s *testServer) visitor(t testing.TB, project string, extra map[string]any) *visitorClient {
	t.Helper()
	c := s.anon(t)
	c.header.Set("Origin", shopOrigin)
	body := map[string]any{"project": project}
	for k, v := range extra {
		body[k] = v
	}
	v := &visitorClient{client: c}
	c.do("POST", "/api/v1/widget/sessions", body).want(http.StatusOK).decode(&v.session)
	if v.session.Token == "" {
		t.Fatal("no visitor token")
	}
	c.token = v.session.Token
	return v
}

func (v *visitorClient) send(text string) livechat.VisitorMessage {
	v.t.Helper()
	var m livechat.VisitorMessage
	v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": fmt.Sprint(time.Now().UnixNano()), "text": text}).
		want(http.StatusCreated).decode(&m)
	return m
}

func (v *visitorClient) history() livechat.VisitorHistory {
	v.t.Helper()
	var h livechat.VisitorHistory
	v.do("GET", "/api/v1/widget/messages", nil).want(http.StatusOK).decode(&h)
	return h
}

func (v *visitorClient) connect(cursor int64) *socket {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := strings.Replace(v.s.url, "http://", "ws://", 1) + fmt.Sprintf("/api/v1/widget/ws?token=%s&cursor=%d", v.token, cursor)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {shopOrigin}}})
	if err != nil {
		v.t.Fatalf("connecting the visitor socket: %v", err)
	}
	return newSocket(v.t, ws)
}

// liveChat is a project with two level-1 consultants and a level-2 specialist.
type liveChat struct {
	s               *testServer
	admin, a, b, l2 *client
	project         parley.Project
	aSock           *socket
	bSock, l2Sock   *socket
}

func newLiveChat(t *testing.T, s *testServer) *liveChat {
	lc := &liveChat{s: s, admin: s.newUser(t, parley.RoleAdmin, "Ada Admin"), a: s.newUser(t, parley.RoleAgent, "Anna Agent"),
		b: s.newUser(t, parley.RoleAgent, "Boris Agent"), l2: s.newUser(t, parley.RoleAgent, "Lena Expert")}
	lc.admin.do("POST", "/api/v1/projects", map[string]any{"name": "Shop", "origins": []string{shopOrigin}}).
		want(http.StatusCreated).decode(&lc.project)
	for _, sp := range []struct {
		c     *client
		level int
	}{{lc.a, 1}, {lc.b, 1}, {lc.l2, 2}} {
		lc.admin.do("POST", fmt.Sprintf("/api/v1/projects/%d/specialists", lc.project.ID),
			map[string]any{"user_id": sp.c.id(), "level": sp.level}).want(http.StatusCreated)
	}
	return lc
}

func (lc *liveChat) path(format string, args ...any) string {
	return fmt.Sprintf("/api/v1/projects/%d"+format, append([]any{lc.project.ID}, args...)...)
}

// waitData waits on a socket for a frame of type typ whose data, decoded,
// matches cond.
func waitData[T any](t testing.TB, s *socket, typ string, cond func(*T) bool) T {
	t.Helper()
	for {
		f := s.waitFor(typ)
		b, _ := json.Marshal(f["data"])
		var v T
		json.Unmarshal(b, &v)
		if cond(&v) {
			return v
		}
	}
}

// waitDialog waits on a staff socket for a dialog.updated frame matching cond.
func waitDialog(t testing.TB, s *socket, cond func(d *livechat.Dialog) bool) livechat.Dialog {
	t.Helper()
	return waitData(t, s, parley.EventDialogUpdated, cond)
}

func TestLiveChatProjectsAndSpecialists(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		member := s.newUser(t, parley.RoleMember, "")

		// Only managers configure; the secret is theirs alone.
		member.do("POST", "/api/v1/projects", map[string]any{"name": "Mine"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PATCH", lc.path(""), map[string]any{"name": "X"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("GET", lc.path(""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var seen parley.Project
		lc.a.do("GET", lc.path(""), nil).want(http.StatusOK).decode(&seen)
		if seen.Secret != "" || seen.Name != "Shop" {
			t.Fatalf("a specialist sees %+v", seen)
		}

		// Bad settings are refused and change nothing.
		lc.admin.do("PATCH", lc.path(""), map[string]any{"origins": []string{"not a url"}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.admin.do("PATCH", lc.path(""), map[string]any{"hours": map[string]any{"days": []map[string]any{{"weekday": 9, "from": "09:00", "to": "18:00"}}}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.admin.do("POST", lc.path("/specialists"), map[string]any{"user_id": member.id(), "level": 3}).wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.admin.do("POST", lc.path("/specialists"), map[string]any{"user_id": lc.a.id(), "level": 1}).wantErr(http.StatusConflict, parley.ECONFLICT)

		// A template with mandatory fields cannot be chosen for chat cases.
		var strict, loose parley.CaseTemplate
		lc.admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Strict",
			"fields": []map[string]any{{"name": "order", "label": "Order", "required": true}}}).want(http.StatusCreated).decode(&strict)
		lc.admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Chat",
			"fields": []map[string]any{{"name": "priority", "label": "Priority", "required": true, "default": "normal"}}}).want(http.StatusCreated).decode(&loose)
		e := lc.admin.do("PATCH", lc.path(""), map[string]any{"case_template_id": strict.ID}).wantErr(http.StatusBadRequest, parley.EINVALID)
		if e.Field != "case_template_id" || !strings.Contains(e.Message, "mandatory") {
			t.Fatalf("choosing a strict template: %+v", e)
		}
		lc.admin.do("PATCH", lc.path(""), map[string]any{"case_template_id": loose.ID}).want(http.StatusOK)

		// Groups associate their members; Erase removes selected rows.
		var g parley.Group
		lc.admin.do("POST", "/api/v1/groups", map[string]any{"name": "Night shift", "member_ids": []int64{member.id()}}).want(http.StatusCreated).decode(&g)
		var sp parley.Specialist
		lc.admin.do("POST", lc.path("/specialists"), map[string]any{"group_id": g.ID, "level": 1}).want(http.StatusCreated).decode(&sp)
		var mine struct{ Projects []livechat.MyProject }
		member.do("GET", "/api/v1/me/projects", nil).want(http.StatusOK).decode(&mine)
		if len(mine.Projects) != 1 || mine.Projects[0].Level != 1 {
			t.Fatalf("through the group: %+v", mine)
		}
		lc.admin.do("POST", lc.path("/specialists/erase"), map[string]any{"ids": []int64{sp.ID}}).want(http.StatusOK)
		member.do("GET", "/api/v1/me/projects", nil).want(http.StatusOK).decode(&mine)
		if len(mine.Projects) != 0 {
			t.Fatalf("after Erase: %+v", mine)
		}
	})
}

func TestLiveChatVisitorIdentity(t *testing.T) {
	s := newServer(t)
	lc := newLiveChat(t, s)
	key := lc.project.Key

	// Origins: none, unknown, allowed.
	anon := s.anon(t)
	anon.do("POST", "/api/v1/widget/sessions", map[string]any{"project": key}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	anon.header.Set("Origin", "https://evil.example")
	anon.do("GET", "/api/v1/widget/projects/"+key, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	anon.do("POST", "/api/v1/widget/sessions", map[string]any{"project": key}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	v := s.visitor(t, key, map[string]any{"page_url": "https://shop.example/p/1", "referrer": "https://search.example/",
		"utm_source": "newsletter", "name": "Vera"})

	// The same token is the same visitor; a forged one is refused; a
	// token used from another site is refused.
	again := s.visitor(t, key, map[string]any{"token": v.token})
	v.send("first")
	if h := again.history(); len(h.Messages) == 0 || h.Messages[0].Text != "first" {
		t.Fatalf("the returning visitor sees %+v", h)
	}
	forged := s.anon(t)
	forged.header.Set("Origin", shopOrigin)
	forged.token = v.token[:len(v.token)-2] + "xx"
	forged.do("GET", "/api/v1/widget/messages", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	elsewhere := s.anon(t)
	elsewhere.header.Set("Origin", "https://evil.example")
	elsewhere.token = v.token
	elsewhere.do("GET", "/api/v1/widget/messages", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)

	// Verified visitors: a valid HMAC makes every device the same contact.
	sig := func(id string) string {
		m := hmac.New(sha256.New, []byte(lc.project.Secret))
		m.Write([]byte(id))
		return hex.EncodeToString(m.Sum(nil))
	}
	bad := s.anon(t)
	bad.header.Set("Origin", shopOrigin)
	bad.do("POST", "/api/v1/widget/sessions", map[string]any{"project": key, "user_id": "42", "user_hash": sig("43")}).
		wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	phone := s.visitor(t, key, map[string]any{"user_id": "42", "user_hash": sig("42")})
	phone.send("from my phone")
	laptop := s.visitor(t, key, map[string]any{"user_id": "42", "user_hash": sig("42")})
	if h := laptop.history(); len(h.Messages) == 0 || h.Messages[0].Text != "from my phone" || !laptop.session.Contact.Verified {
		t.Fatalf("the verified visitor on another device sees %+v", h)
	}

	// The contact card records where the visitor came from.
	var ds struct{ Dialogs []livechat.Dialog }
	lc.a.do("GET", "/api/v1/dialogs", nil).want(http.StatusOK).decode(&ds)
	var card *parley.Contact
	for _, d := range ds.Dialogs {
		if d.Contact != nil && d.Contact.Name == "Vera" {
			card = d.Contact
		}
	}
	if card == nil || card.PageURL != "https://shop.example/p/1" || card.UTMSource != "newsletter" || card.Referrer != "https://search.example/" {
		t.Fatalf("contact card %+v", card)
	}

	// Bad input and floods.
	v.do("POST", "/api/v1/widget/messages", map[string]any{"text": strings.Repeat("x", 2001)}).wantErr(http.StatusBadRequest, parley.EINVALID)
	v.do("POST", "/api/v1/widget/rating", map[string]any{"score": 6}).wantErr(http.StatusBadRequest, parley.EINVALID)
	v.do("POST", "/api/v1/widget/messages", map[string]any{"text": "hi", "whisper": true}).wantErr(http.StatusBadRequest, parley.EINVALID)
	var limited *response
	for i := 0; i < 40 && limited == nil; i++ {
		if r := v.do("POST", "/api/v1/widget/messages", map[string]any{"text": "flood"}); r.Status == http.StatusTooManyRequests {
			limited = r
		}
	}
	if limited == nil {
		t.Fatal("a flood of visitor messages was not limited")
	}
	// The widget (another origin) may read how long to wait.
	if h := limited.Header; h.Get("Retry-After") == "" || h.Get("Access-Control-Allow-Origin") != shopOrigin ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("the 429's headers do not let the widget read Retry-After: %v", h)
	}
}

func TestLiveChatDialog(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		key := lc.project.Key

		// Nobody online: the message becomes a case, and the visitor is told.
		off := s.visitor(t, key, map[string]any{"name": "Olga"})
		off.send("Is my order shipped?")
		off.send("Order 123")
		h := off.history()
		if last := h.Messages[1]; last.Event == nil || last.Event.Action != parley.ActionOffline || !strings.Contains(last.Event.Text, "case #") {
			t.Fatalf("offline visitor sees %+v", h.Messages)
		}
		var cases struct{ Cases []parley.Case }
		lc.a.do("GET", "/api/v1/cases?status=open", nil).want(http.StatusOK).decode(&cases)
		if len(cases.Cases) != 1 || cases.Cases[0].Description != "Is my order shipped?" || cases.Cases[0].Source != parley.CaseFromOffline {
			t.Fatalf("offline case %+v", cases)
		}
		var cv livechat.CaseView
		lc.a.do("GET", fmt.Sprintf("/api/v1/cases/%d", cases.Cases[0].ID), nil).want(http.StatusOK).decode(&cv)
		if len(cv.Comments) != 1 || cv.Comments[0].Text != "Order 123" {
			t.Fatalf("the later message is not a comment: %+v", cv.Comments)
		}
		s.newUser(t, parley.RoleMember, "").do("GET", fmt.Sprintf("/api/v1/cases/%d", cv.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Consultants online: a new dialog alerts both.
		lc.aSock, lc.bSock, lc.l2Sock = lc.a.connect(), lc.b.connect(), lc.l2.connect()
		v := s.visitor(t, key, map[string]any{"name": "Vera"})
		vSock := v.connect(0)
		vSock.waitFor("hello")
		v.send("Hello, anyone?")
		for _, sock := range []*socket{lc.aSock, lc.bSock, lc.l2Sock} {
			waitDialog(t, sock, func(d *livechat.Dialog) bool { return d.Waiting && d.Contact.Name == "Vera" })
		}

		// Anna connects: the dialog stops waiting for everyone; Vera sees her name.
		var d livechat.Dialog
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", v.history().Conversation.ID), nil).want(http.StatusOK).decode(&d)
		conv := d.Conversation.ID
		if d.Waiting || len(d.Consultants) != 1 || d.Consultants[0].Name != "Anna Agent" {
			t.Fatalf("after connecting: %+v", d)
		}
		waitDialog(t, lc.bSock, func(d *livechat.Dialog) bool { return !d.Waiting && len(d.Consultants) == 1 })
		lc.b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)

		// A reply, and a whisper the visitor never gets by any path.
		lc.a.send(conv, "Hi Vera, how can I help?")
		secret := "psst: she ordered twice"
		lc.b.sendBody(conv, map[string]any{"text": secret, "whisper": true})
		lc.a.send(conv, "after the whisper")
		for {
			f := vSock.waitFor(parley.EventMessageCreated)
			raw, _ := json.Marshal(f)
			if bytes.Contains(raw, []byte("psst")) {
				t.Fatalf("the whisper reached the visitor's socket: %s", raw)
			}
			if bytes.Contains(raw, []byte("after the whisper")) {
				if !bytes.Contains(raw, []byte(`"name":"Anna"`)) || bytes.Contains(raw, []byte("@example.com")) {
					t.Fatalf("the visitor's projection: %s", raw)
				}
				break
			}
		}
		// A reconnecting widget replays its own events only: never the whisper.
		resumed := v.connect(1)
		resumed.waitFor("hello")
		for {
			raw, _ := json.Marshal(resumed.waitFor(parley.EventMessageCreated))
			if bytes.Contains(raw, []byte("psst")) {
				t.Fatalf("the whisper was replayed to the visitor: %s", raw)
			}
			if bytes.Contains(raw, []byte("after the whisper")) {
				break
			}
		}
		for _, path := range []string{"/api/v1/widget/messages", "/api/v1/widget/transcript"} {
			r := v.do("GET", path, nil).want(http.StatusOK)
			if bytes.Contains(r.Body, []byte("psst")) {
				t.Fatalf("%s shows the whisper: %s", path, r.Body)
			}
		}
		staff := lc.a.history(conv, "")
		if !strings.Contains(strings.Join(texts(staff), "|"), secret) {
			t.Fatalf("staff cannot see the whisper: %v", texts(staff))
		}
		// Another visitor cannot read this one's dialog or files.
		other := s.visitor(t, key, nil)
		if h := other.history(); h.Conversation != nil || len(h.Messages) != 0 {
			t.Fatalf("a new visitor sees %+v", h)
		}

		// Files both ways.
		var vf livechat.VisitorFile
		v.do("POST", "/api/v1/widget/files?name=photo.png", makePNG(t, 64, 48)).want(http.StatusCreated).decode(&vf)
		v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "f1", "file_ids": []int64{vf.ID}}).want(http.StatusCreated)
		lc.a.do("GET", fmt.Sprintf("/api/v1/files/%d", vf.ID), nil).want(http.StatusOK)
		up := lc.a.upload("answer.txt", "text/plain", []byte("the answer"))
		var sf parley.File
		up.want(http.StatusCreated).decode(&sf)
		lc.a.sendBody(conv, map[string]any{"file_ids": []int64{sf.ID}})
		if r := v.do("GET", fmt.Sprintf("/api/v1/widget/files/%d?token=%s", sf.ID, v.token), nil).want(http.StatusOK); string(r.Body) != "the answer" {
			t.Fatalf("the visitor downloads %q", r.Body)
		}
		other.do("GET", fmt.Sprintf("/api/v1/widget/files/%d", vf.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// An <img src> or <a href> on the host page sends no Origin: the
		// token alone fetches the visitor's own files, and nothing else.
		link := s.anon(t)
		fileURL := func(id int64, token string) string { return fmt.Sprintf("/api/v1/widget/files/%d?token=%s", id, token) }
		if r := link.do("GET", fileURL(sf.ID, v.token), nil).want(http.StatusOK); string(r.Body) != "the answer" {
			t.Fatalf("the visitor's file by link: %q", r.Body)
		}
		link.do("GET", fileURL(vf.ID, v.token), nil).want(http.StatusOK)
		link.do("GET", fileURL(vf.ID, other.token), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		link.do("GET", fmt.Sprintf("/api/v1/widget/files/%d", sf.ID), nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		link.do("GET", fileURL(sf.ID, v.token[:len(v.token)-2]+"xx"), nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		// A present Origin must still be allowed, and other endpoints still need one.
		evil := s.anon(t)
		evil.header.Set("Origin", "https://evil.example")
		evil.do("GET", fileURL(sf.ID, v.token), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		link.token = v.token
		link.do("GET", "/api/v1/widget/messages", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		link.do("GET", "/api/v1/widget/transcript?token="+v.token, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)

		// Convert to case: the transcript has no whisper.
		var k parley.Case
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", conv), map[string]any{"title": "Double order"}).want(http.StatusCreated).decode(&k)
		if strings.Contains(k.Description, "psst") || !strings.Contains(k.Description, "how can I help") || k.Fields == nil {
			t.Fatalf("case from dialog: %+v", k)
		}
		// A second click (or a colleague) gets the same case, not a copy.
		var again parley.Case
		lc.b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", conv), map[string]any{"title": "Double order"}).want(http.StatusCreated).decode(&again)
		var all httpapi.CaseList
		lc.a.do("GET", "/api/v1/cases", nil).want(http.StatusOK).decode(&all)
		n := 0
		for _, c := range all.Cases {
			if c.ConversationID == conv && c.Source == parley.CaseFromConversation {
				n++
			}
		}
		if again.ID != k.ID || n != 1 {
			t.Fatalf("converting twice: case %d then %d, %d cases of the dialog", k.ID, again.ID, n)
		}

		// Transfer to level 2: only then does Lena serve it.
		lc.b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/disconnect", conv), nil).want(http.StatusOK)
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/transfer", conv), map[string]any{"user_id": lc.b.id()}).wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/transfer", conv), map[string]any{"user_id": lc.l2.id()}).want(http.StatusOK).decode(&d)
		if d.Support.Level != 2 || d.Support.TransferTo != lc.l2.id() || len(d.Consultants) != 0 {
			t.Fatalf("after transfer: %+v", d)
		}
		// The transfer alone alerts level 2; so does the visitor's next message.
		if !d.Waiting {
			t.Fatalf("a transferred dialog does not wait for level 2: %+v", d)
		}
		waitDialog(t, lc.l2Sock, func(d *livechat.Dialog) bool { return d.Waiting && d.Support.Level == 2 })
		v.send("still there?")
		waitDialog(t, lc.l2Sock, func(d *livechat.Dialog) bool {
			return d.Waiting && d.LastMessage != nil && d.LastMessage.Text == "still there?"
		})
		lc.l2.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
		lc.l2.send(conv, "Level 2 here.")
		lc.l2.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", conv), nil).want(http.StatusOK)

		// Rating, once, after the end.
		v.do("POST", "/api/v1/widget/rating", map[string]any{"score": 5, "comment": "Great"}).want(http.StatusCreated)
		v.do("POST", "/api/v1/widget/rating", map[string]any{"score": 1}).wantErr(http.StatusConflict, parley.ECONFLICT)
		if !v.history().Conversation.Rated {
			t.Fatal("the visitor's dialog is not marked rated")
		}
		// The next message reopens the dialog (seed 003).
		v.send("one more question")
		if h := v.history(); h.Conversation.ID != conv || h.Conversation.Status != parley.SupportOpen {
			t.Fatalf("after closing, a new message went to %+v", h.Conversation)
		}

		// Metrics: Anna and Boris connected, Lena too; Anna answered first;
		// the rating is Lena's, who closed the dialog she served.
		var m livechat.Metrics
		lc.admin.do("GET", lc.path("/metrics"), nil).want(http.StatusOK).decode(&m)
		by := map[int64]*livechat.SpecialistMetrics{}
		for _, sm := range m.Specialists {
			by[sm.UserID] = sm
		}
		if a := by[lc.a.id()]; a == nil || a.Conversations != 1 || a.MedianFirstMS <= 0 || a.Ratings != 0 {
			t.Fatalf("Anna's metrics: %+v", a)
		}
		if l := by[lc.l2.id()]; l == nil || l.Conversations != 1 || l.MedianHandlMS < 0 || l.Ratings != 1 || l.AverageRating != 5 {
			t.Fatalf("Lena's metrics: %+v", l)
		}
		lc.a.do("GET", lc.path("/metrics"), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var detail struct{ Dialogs []livechat.Dialog }
		lc.admin.do("GET", lc.path("/metrics/%d/dialogs", lc.a.id()), nil).want(http.StatusOK).decode(&detail)
		if len(detail.Dialogs) != 1 || detail.Dialogs[0].Conversation.ID != conv {
			t.Fatalf("View detail: %+v", detail)
		}
		if len(lc.admin.history(conv, "")) == 0 {
			t.Fatal("the administrator cannot open the full record")
		}
	})
}

// testClock is the services' clock in tests that script time (Config.Now):
// the real time moved by an offset, or a fixed time once set.
type testClock struct {
	mu  sync.Mutex
	at  time.Time
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		return c.at
	}
	return time.Now().Add(c.off)
}

// set stops the clock at t.
func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.at = t
	c.mu.Unlock()
}

// advance moves the clock on by d.
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	if c.at.IsZero() {
		c.off += d
	} else {
		c.at = c.at.Add(d)
	}
	c.mu.Unlock()
}

func withClock(c *testClock) serverOption { return func(cfg *Config) { cfg.Now = c.Now } }

// waitOnline waits until the widget says a level-1 specialist is online.
func (lc *liveChat) waitOnline(t testing.TB, want bool) {
	t.Helper()
	anon := lc.s.anon(t)
	anon.header.Set("Origin", shopOrigin)
	eventually(t, fmt.Sprintf("the project online=%v", want), func() bool {
		var p livechat.PublicProject
		anon.do("GET", "/api/v1/widget/projects/"+lc.project.Key, nil).want(http.StatusOK).decode(&p)
		return p.Online == want
	})
}

// TestLiveChatExpiredToken: a visitor token is valid for Config.TokenTTL
// (a year) after its session; after that every widget endpoint and the
// visitor socket answer 401 with the error shape, and a new session with
// the old token starts a new visitor.
func TestLiveChatExpiredToken(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		clk := &testClock{}
		s := newServer(t, append(opts, withClock(clk))...)
		lc := newLiveChat(t, s)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		sent := v.send("hello")
		var vf livechat.VisitorFile
		v.do("POST", "/api/v1/widget/files?name=a.txt", []byte("a file")).want(http.StatusCreated).decode(&vf)

		// Just before the year is out the token still works.
		clk.advance(365*24*time.Hour - time.Hour)
		if h := v.history(); len(h.Messages) == 0 || h.Messages[0].ID != sent.ID {
			t.Fatalf("before expiry: %+v", h)
		}

		clk.advance(2 * time.Hour)
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/widget/messages", nil},
			{"POST", "/api/v1/widget/messages", map[string]any{"client_id": "late", "text": "still there?"}},
			{"PATCH", "/api/v1/widget/contact", map[string]any{"name": "Vera B."}},
			{"GET", "/api/v1/widget/transcript", nil},
			{"GET", fmt.Sprintf("/api/v1/widget/files/%d?token=%s", vf.ID, v.token), nil},
		} {
			e := v.do(req.method, req.path, req.body).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
			if !strings.Contains(e.Message, "expired") {
				t.Errorf("%s %s: the error does not say the token expired: %+v", req.method, req.path, e)
			}
		}

		// The visitor socket is refused before the upgrade, with the same error.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		u := strings.Replace(s.url, "http://", "ws://", 1) + "/api/v1/widget/ws?cursor=0&token=" + v.token
		ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {shopOrigin}}})
		if err == nil {
			ws.Close(websocket.StatusNormalClosure, "")
			t.Fatal("the visitor socket accepted an expired token")
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the socket with an expired token: %v, %+v", err, resp)
		}
		var eb httpapi.ErrorBody
		body, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(body, &eb) != nil || eb.Error.Code != parley.EUNAUTHORIZED || !strings.Contains(eb.Error.Message, "expired") {
			t.Fatalf("the socket's refusal: %s", body)
		}

		// A new session with the expired token is a new visitor, not a lock-out.
		again := s.visitor(t, lc.project.Key, map[string]any{"token": v.token})
		if again.token == v.token || again.session.Conversation != nil {
			t.Fatalf("a session with the expired token resumed the old visitor: %+v", again.session)
		}
		if h := again.history(); len(h.Messages) != 0 {
			t.Fatalf("the new visitor sees %+v", h)
		}
	})
}

// TestLiveChatMetricsScriptedDay checks the metrics against a scripted day
// of dialogs with known times (the services' clock is set before every
// step), before and after a restart on the same database.
func TestLiveChatMetricsScriptedDay(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		clk := &testClock{}
		clk.set(day.Add(7 * time.Hour))
		cfg := testConfig(t)
		for _, o := range append(opts, withClock(clk)) {
			o(&cfg)
		}
		s := newServer(t, func(c *Config) { *c = cfg })
		lc := newLiveChat(t, s)
		lc.aSock, lc.bSock = lc.a.connect(), lc.b.connect()
		lc.waitOnline(t, true)

		at := func(d time.Duration) { clk.set(day.Add(d)) }
		const h, m, sec = time.Hour, time.Minute, time.Second
		open := func(name, text string) (*visitorClient, int64) {
			v := s.visitor(t, lc.project.Key, map[string]any{"name": name})
			v.send(text)
			return v, v.history().Conversation.ID
		}
		act := func(c *client, conv int64, action string, body any) {
			t.Helper()
			c.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/%s", conv, action), body).want(http.StatusOK)
		}
		rate := func(v *visitorClient, score int) {
			v.do("POST", "/api/v1/widget/rating", map[string]any{"score": score}).want(http.StatusCreated)
		}

		// The day before (outside the period): Anna, rated 1.
		at(-14 * h)
		v0, d0 := open("Zoe", "yesterday's question")
		at(-14*h + m)
		act(lc.a, d0, "connect", nil)
		lc.a.send(d0, "answer")
		at(-14*h + 5*m)
		act(lc.a, d0, "close", nil)
		rate(v0, 1)

		// 09:00 Anna: first response 2 min, handled 9 min, rated 5.
		at(9 * h)
		v1, d1 := open("Vera", "hello")
		at(9*h + m)
		act(lc.a, d1, "connect", nil)
		at(9*h + 2*m)
		lc.a.send(d1, "Hi Vera")
		at(9*h + 10*m)
		act(lc.a, d1, "close", nil)
		rate(v1, 5)

		// 10:00 Anna: the visitor writes twice; first response 1 min from
		// the first message, handled 20.5 min, rated 3.
		at(10 * h)
		v2, d2 := open("Walt", "my order")
		at(10*h + 30*sec)
		act(lc.a, d2, "connect", nil)
		at(10*h + 45*sec)
		v2.send("order 77")
		at(10*h + m)
		lc.a.send(d2, "Looking")
		at(10*h + 21*m)
		act(lc.a, d2, "close", nil)
		rate(v2, 3)

		// 11:00 Boris, a whisper, then a transfer to Lena: Boris's first
		// response 5 min (the whisper is no answer); Lena's 3 min, from
		// the transfer (when she got the dialog) to her answer, though she
		// answered a minute after connecting; both handled until the close
		// at 11:20 (Boris 19 min, Lena 12); the rating 4 is Lena's alone,
		// who served the visitor when they rated (docs/decisions.md).
		at(11 * h)
		v3, d3 := open("Xena", "a hard one")
		at(11*h + m)
		act(lc.b, d3, "connect", nil)
		at(11*h + 3*m)
		lc.b.sendBody(d3, map[string]any{"text": "for Lena", "whisper": true})
		at(11*h + 5*m)
		lc.b.send(d3, "Let me ask")
		at(11*h + 6*m)
		act(lc.b, d3, "transfer", map[string]any{"user_id": lc.l2.id()})
		at(11*h + 8*m)
		act(lc.l2, d3, "connect", nil)
		at(11*h + 9*m)
		lc.l2.send(d3, "Lena here")
		at(11*h + 20*m)
		act(lc.l2, d3, "close", nil)
		rate(v3, 4)

		// 12:00 Anna: first response 4 min; still open, so no handling time.
		at(12 * h)
		_, d4 := open("Yann", "quick one")
		at(12*h + 3*m)
		act(lc.a, d4, "connect", nil)
		at(12*h + 4*m)
		lc.a.send(d4, "Sure")

		// 13:00 Boris: first response 2.5 min, handled 10 min, rated 1.
		at(13 * h)
		v5, d5 := open("Yuri", "complaint")
		at(13*h + 2*m)
		act(lc.b, d5, "connect", nil)
		at(13*h + 2*m + 30*sec)
		lc.b.send(d5, "Sorry to hear")
		at(13*h + 12*m)
		act(lc.b, d5, "close", nil)
		rate(v5, 1)

		want := map[int64]livechat.SpecialistMetrics{
			lc.a.id():  {Conversations: 3, MedianFirstMS: 120_000, MedianHandlMS: 540_000, Ratings: 2, AverageRating: 4},
			lc.b.id():  {Conversations: 2, MedianFirstMS: 150_000, MedianHandlMS: 600_000, Ratings: 1, AverageRating: 1},
			lc.l2.id(): {Conversations: 1, MedianFirstMS: 180_000, MedianHandlMS: 720_000, Ratings: 1, AverageRating: 4},
		}
		query := "?from=" + day.Format(time.RFC3339) + "&to=" + day.Add(24*h).Format(time.RFC3339)
		check := func(when string, admin *client) {
			t.Helper()
			var got livechat.Metrics
			admin.do("GET", lc.path("/metrics")+query, nil).want(http.StatusOK).decode(&got)
			if len(got.Specialists) != len(want) {
				t.Errorf("%s: %d specialists, want %d: %+v", when, len(got.Specialists), len(want), got.Specialists)
			}
			for _, sm := range got.Specialists {
				w, ok := want[sm.UserID]
				w.UserID, w.Name = sm.UserID, sm.Name
				if !ok || *sm != w {
					t.Errorf("%s: user %d: got %+v, want %+v", when, sm.UserID, *sm, w)
				}
			}
		}
		check("before the restart", lc.admin)

		s.stop()
		s2 := newServer(t, func(c *Config) { *c = cfg })
		check("after the restart", s2.login(t, lc.admin.user.Email, testPassword))
	})
}

// TestWidgetScript: /widget.js keeps its URL across releases, so it is
// cached briefly and revalidated by ETag, and sent gzipped to browsers
// that accept it.
func TestWidgetScript(t *testing.T) {
	s := newServer(t)
	get := func(header ...string) *response {
		c := s.anon(t)
		for i := 0; i < len(header); i += 2 {
			c.header.Set(header[i], header[i+1])
		}
		return c.do("GET", "/widget.js", nil)
	}
	plain := get("Accept-Encoding", "identity").want(http.StatusOK)
	if plain.Header.Get("Content-Encoding") != "" || !strings.Contains(plain.Header.Get("Content-Type"), "javascript") || len(plain.Body) == 0 {
		t.Fatalf("identity: %v, %d bytes", plain.Header, len(plain.Body))
	}
	gz := get("Accept-Encoding", "gzip, deflate, br").want(http.StatusOK)
	h := gz.Header
	if h.Get("Content-Encoding") != "gzip" || !strings.Contains(h.Get("Vary"), "Accept-Encoding") || h.Get("ETag") == "" ||
		h.Get("ETag") == plain.Header.Get("ETag") || !strings.Contains(h.Get("Content-Type"), "javascript") {
		t.Fatalf("gzip: headers %v", h)
	}
	if len(gz.Body) >= len(plain.Body) {
		t.Errorf("gzipped %d bytes, plain %d", len(gz.Body), len(plain.Body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, plain.Body) {
		t.Fatalf("the gzipped script differs from the plain one (%v)", err)
	}
	cc := h.Get("Cache-Control")
	if !strings.Contains(cc, "max-age=") || strings.Contains(cc, "immutable") || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q: want a short max-age, then revalidation", cc)
	}
	// Revalidation: the same ETag gets 304 with no body, per encoding.
	if r := get("Accept-Encoding", "gzip", "If-None-Match", h.Get("ETag")); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("revalidating the gzipped script: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := get("Accept-Encoding", "identity", "If-None-Match", plain.Header.Get("ETag")); r.Status != http.StatusNotModified {
		t.Errorf("revalidating the plain script: %d", r.Status)
	}
	if r := get("Accept-Encoding", "identity", "If-None-Match", h.Get("ETag")); r.Status != http.StatusOK {
		t.Errorf("the gzip ETag validated the plain script: %d", r.Status)
	}
}

// TestLiveChatVisitorHistoryPaging: the widget pages its history back
// with before_seq (and forward with after_seq) as staff history does, and
// a page counts only what the visitor sees, so whispers never end it early.
func TestLiveChatVisitorHistoryPaging(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		v.send("start")
		conv := v.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
		var want []string // the visitor's texts, in order
		want = append(want, "start")
		for i := 1; i <= 230; i++ {
			want = append(want, fmt.Sprintf("m%d", i))
			lc.a.send(conv, want[len(want)-1])
			if i%10 == 0 {
				lc.a.sendBody(conv, map[string]any{"text": "psst", "whisper": true})
			}
		}
		for i := 0; i < 12; i++ { // the newest raw page is all whispers
			lc.a.sendBody(conv, map[string]any{"text": "psst", "whisper": true})
		}
		page := func(query string) []livechat.VisitorMessage {
			t.Helper()
			var h livechat.VisitorHistory
			v.do("GET", "/api/v1/widget/messages"+query, nil).want(http.StatusOK).decode(&h)
			out := make([]livechat.VisitorMessage, len(h.Messages))
			for i, m := range h.Messages {
				if m.Kind == parley.MsgWhisper || m.Text == "psst" {
					t.Fatalf("%s: a whisper reached the visitor: %+v", query, m)
				}
				out[i] = *m
			}
			return out
		}
		texts := func(ms []livechat.VisitorMessage) []string {
			out := []string{}
			for _, m := range ms {
				if m.Kind == parley.MsgText {
					out = append(out, m.Text)
				}
			}
			return out
		}

		// The newest page: 200 by default, ending with the newest message.
		newest := page("")
		if len(newest) != 200 || newest[len(newest)-1].Text != "m230" {
			t.Fatalf("the newest page: %d messages, last %+v", len(newest), newest[len(newest)-1])
		}
		if got := page("?limit=5"); !sameStrings(texts(got), want[len(want)-5:]) {
			t.Fatalf("limit=5 behind 12 whispers: %v", texts(got))
		}

		// Back to the start with before_seq, 40 at a time.
		all := []livechat.VisitorMessage{}
		for before, pages := int64(0), 0; ; pages++ {
			q := "?limit=40"
			if before > 0 {
				q += fmt.Sprintf("&before_seq=%d", before)
			}
			p := page(q)
			if len(p) == 0 {
				break
			}
			if pages > 20 || (len(p) < 40 && before == 0) {
				t.Fatalf("paging back: page %d has %d messages", pages, len(p))
			}
			all = append(p, all...)
			before = p[0].Seq
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq <= all[i-1].Seq {
				t.Fatalf("paging back repeats or reorders: seq %d after %d", all[i].Seq, all[i-1].Seq)
			}
		}
		if !sameStrings(texts(all), want) {
			t.Fatalf("paging back gave %d texts, want %d: %v", len(texts(all)), len(want), texts(all))
		}

		// Forward from a seq with after_seq: exactly the next ones.
		var m200 int64
		for _, m := range all {
			if m.Text == "m200" {
				m200 = m.Seq
			}
		}
		if got := texts(page(fmt.Sprintf("?after_seq=%d&limit=10", m200))); !sameStrings(got, want[201:211]) {
			t.Fatalf("after m200: %v", got)
		}
		v.do("GET", "/api/v1/widget/messages?before_seq=x", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	})
}

// TestLiveChatOutOfHours: outside working hours a visitor's messages
// become a case, the visitor is told with the offline text, and no
// consultant is called, even one who is online; in hours the next message
// is a chat again.
func TestLiveChatOutOfHours(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		monday := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // 11:00 in Madrid
		sunday := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC) // 21:00 in Madrid
		clk := &testClock{}
		clk.set(monday)
		s := newServer(t, append(opts, withClock(clk))...)
		lc := newLiveChat(t, s)
		days := []map[string]any{}
		for wd := 1; wd <= 5; wd++ {
			days = append(days, map[string]any{"weekday": wd, "from": "09:00", "to": "18:00"})
		}
		closed := "We are closed; we answer on weekdays from 9:00."
		lc.admin.do("PATCH", lc.path(""), map[string]any{"hours": map[string]any{"time_zone": "Europe/Madrid", "days": days},
			"messages": map[string]any{"offline": closed}}).want(http.StatusOK)
		lc.aSock = lc.a.connect()
		lc.waitOnline(t, true) // Anna is online in hours...
		clk.set(sunday)
		lc.waitOnline(t, false) // ...and the project is not, out of them.

		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Nick"})
		v.send("Please call me back about invoice 77")
		h := v.history()
		conv := h.Conversation.ID
		if last := h.Messages[len(h.Messages)-1]; last.Event == nil || last.Event.Action != parley.ActionOffline ||
			!strings.Contains(last.Event.Text, closed) || !strings.Contains(last.Event.Text, "case #") {
			t.Fatalf("out of hours the visitor sees %+v", h.Messages)
		}
		v.send("My number is 555-0100")
		// Neither message calls Anna: not in what her socket is told, not in the dialog.
		d := waitDialog(t, lc.aSock, func(d *livechat.Dialog) bool {
			return d.Conversation.ID == conv && d.LastMessage != nil && d.LastMessage.Text == "My number is 555-0100"
		})
		if d.Waiting {
			t.Fatalf("a message out of hours rings the consultants: %+v", d)
		}
		lc.a.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", conv), nil).want(http.StatusOK).decode(&d)
		if d.Waiting {
			t.Fatalf("the dialog waits out of hours: %+v", d)
		}
		var cases struct{ Cases []parley.Case }
		lc.a.do("GET", fmt.Sprintf("/api/v1/cases?project=%d", lc.project.ID), nil).want(http.StatusOK).decode(&cases)
		if len(cases.Cases) != 1 || cases.Cases[0].Source != parley.CaseFromOffline || cases.Cases[0].ConversationID != conv ||
			!strings.Contains(cases.Cases[0].Description, "invoice 77") {
			t.Fatalf("the case made out of hours: %+v", cases.Cases)
		}
		var cv livechat.CaseView
		lc.a.do("GET", fmt.Sprintf("/api/v1/cases/%d", cases.Cases[0].ID), nil).want(http.StatusOK).decode(&cv)
		if len(cv.Comments) != 1 || cv.Comments[0].Text != "My number is 555-0100" {
			t.Fatalf("the later message is not the case's comment: %+v", cv.Comments)
		}

		// Monday morning: the next message is a chat and calls Anna.
		clk.set(monday.Add(7 * 24 * time.Hour))
		lc.waitOnline(t, true)
		v.send("Are you open now?")
		d = waitDialog(t, lc.aSock, func(d *livechat.Dialog) bool {
			return d.Conversation.ID == conv && d.LastMessage != nil && d.LastMessage.Text == "Are you open now?"
		})
		if !d.Waiting {
			t.Fatalf("in hours the visitor's message does not call the consultants: %+v", d)
		}
		lc.a.do("GET", fmt.Sprintf("/api/v1/cases/%d", cv.ID), nil).want(http.StatusOK).decode(&cv)
		if len(cv.Comments) != 1 {
			t.Fatalf("a message in hours went to the case: %+v", cv.Comments)
		}
	})
}

// TestLiveChatCaseTemplateForSpecialists: a project's specialists may read
// (only read) its case template, so their cases show the fields' labels;
// others are refused.
func TestLiveChatCaseTemplateForSpecialists(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		var chat, other parley.CaseTemplate
		lc.admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Chat",
			"fields": []map[string]any{{"name": "priority", "label": "Priority", "default": "normal"}}}).want(http.StatusCreated).decode(&chat)
		lc.admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Returns",
			"fields": []map[string]any{{"name": "order", "label": "Order number"}}}).want(http.StatusCreated).decode(&other)
		lc.admin.do("PATCH", lc.path(""), map[string]any{"case_template_id": chat.ID}).want(http.StatusOK)
		// Another project, with its own template and specialist.
		var returns parley.Project
		lc.admin.do("POST", "/api/v1/projects", map[string]any{"name": "Returns", "case_template_id": other.ID}).
			want(http.StatusCreated).decode(&returns)
		rita := s.newUser(t, parley.RoleAgent, "Rita Returns")
		lc.admin.do("POST", fmt.Sprintf("/api/v1/projects/%d/specialists", returns.ID), map[string]any{"user_id": rita.id(), "level": 1}).
			want(http.StatusCreated)

		list := func(c *client) []parley.CaseTemplate {
			t.Helper()
			var out struct{ Templates []parley.CaseTemplate }
			c.do("GET", "/api/v1/case-templates", nil).want(http.StatusOK).decode(&out)
			return out.Templates
		}
		for _, c := range []*client{lc.a, lc.l2} {
			got := list(c)
			if len(got) != 1 || got[0].ID != chat.ID || len(got[0].Fields) != 1 || got[0].Fields[0].Label != "Priority" {
				t.Fatalf("%s reads %+v, want the Shop project's template alone", c.user.Name, got)
			}
		}
		if got := list(rita); len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("Rita reads %+v, want the Returns template alone", got)
		}
		if got := list(lc.admin); len(got) != 2 {
			t.Fatalf("the administrator reads %+v", got)
		}
		// Read only.
		body := map[string]any{"name": "Mine", "fields": []map[string]any{}}
		lc.a.do("PATCH", fmt.Sprintf("/api/v1/case-templates/%d", chat.ID), body).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("POST", "/api/v1/case-templates", body).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("DELETE", fmt.Sprintf("/api/v1/case-templates/%d", other.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		// Neither a specialist nor a manager: refused.
		s.newUser(t, parley.RoleAgent, "Otto Outsider").do("GET", "/api/v1/case-templates", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		s.newUser(t, parley.RoleMember, "").do("GET", "/api/v1/case-templates", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	})
}

// TestLiveChatTranscriptTransfers: a transfer line in the visitor's
// transcript and in a case's description says who transferred the dialog
// and to whom (a level-2 specialist, or the level-2 queue), as the staff
// timeline does.
func TestLiveChatTranscriptTransfers(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		v.send("I need an expert")
		conv := v.history().Conversation.ID
		dialog := func(c *client, action string, body any) {
			t.Helper()
			c.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/%s", conv, action), body).want(http.StatusOK)
		}
		dialog(lc.a, "connect", nil)
		dialog(lc.a, "transfer", map[string]any{}) // to the queue
		dialog(lc.b, "connect", nil)               // a level-1 colleague takes it back...
		dialog(lc.b, "transfer", map[string]any{"user_id": lc.l2.id()})

		lines := []string{"Anna transferred the dialog to the level-2 queue", "Boris transferred the dialog to Lena (level 2)"}
		transcript := string(v.do("GET", "/api/v1/widget/transcript", nil).want(http.StatusOK).Body)
		var k parley.Case
		dialog(lc.l2, "connect", nil)
		lc.l2.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", conv), map[string]any{"title": "Expert help"}).
			want(http.StatusCreated).decode(&k)
		for _, want := range lines {
			if !strings.Contains(transcript, want) {
				t.Errorf("the visitor's transcript lacks %q:\n%s", want, transcript)
			}
			if !strings.Contains(k.Description, want) {
				t.Errorf("the case's description lacks %q:\n%s", want, k.Description)
			}
		}
		// The visitor's projection carries the names (first names only).
		var got []livechat.VisitorEvent
		for _, m := range v.history().Messages {
			if m.Event != nil && m.Event.Action == parley.ActionTransferred {
				got = append(got, *m.Event)
			}
		}
		if len(got) != 2 || got[0].Name != "Anna" || got[0].To != "" || got[1].Name != "Boris" || got[1].To != "Lena" {
			t.Fatalf("the visitor's transfer lines: %+v", got)
		}
	})
}

// TestLiveChatFirstMessagesAtOnce: a visitor's first messages sent at once
// (two tabs, a double click) open one dialog between them, with each
// message in it once. The dialog opens in the group commit of the first
// message that reaches the store, whichever it is.
func TestLiveChatFirstMessagesAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		lc.aSock = lc.a.connect()
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Tess"})
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": fmt.Sprint("first-", i), "text": fmt.Sprint("hello ", i)}).
					want(http.StatusCreated)
			}()
		}
		wg.Wait()
		h := v.history()
		if h.Conversation == nil || len(h.Messages) != n {
			t.Fatalf("history of the dialog: %+v", h)
		}
		seen := map[string]bool{}
		for i, m := range h.Messages {
			if seen[m.Text] || (i > 0 && m.Seq <= h.Messages[i-1].Seq) {
				t.Fatalf("messages %+v: not each once, in order", h.Messages)
			}
			seen[m.Text] = true
		}
		var dialogs struct{ Dialogs []livechat.Dialog }
		lc.a.do("GET", "/api/v1/dialogs?status=open", nil).want(http.StatusOK).decode(&dialogs)
		if len(dialogs.Dialogs) != 1 || dialogs.Dialogs[0].Conversation.ID != h.Conversation.ID || !dialogs.Dialogs[0].Waiting {
			t.Fatalf("open dialogs %+v: want the one, waiting", dialogs.Dialogs)
		}
		waitDialog(t, lc.aSock, func(d *livechat.Dialog) bool { return d.Waiting && d.Contact.Name == "Tess" })
	})
}

// waitVisitorConv waits on a visitor socket for a conversation.updated
// frame matching cond.
func waitVisitorConv(t testing.TB, s *socket, cond func(c *livechat.VisitorConversation) bool) livechat.VisitorConversation {
	t.Helper()
	return waitData(t, s, parley.EventConversationUpdated, cond)
}

// TestLiveChatDisconnectAlerts: when the last consultant disconnects from
// an open dialog the visitor is still in, the dialog waits again at once
// and alerts their colleagues (seed 002), rather than only on the
// visitor's next message; the visitor learns nobody is with them now,
// and whether someone can answer.
func TestLiveChatDisconnectAlerts(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		lc.aSock, lc.bSock = lc.a.connect(), lc.b.connect()
		lc.waitOnline(t, true)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Dora"})
		vSock := v.connect(0)
		vSock.waitFor("hello")
		v.send("hello")
		conv := v.history().Conversation.ID
		act := func(c *client, action string) livechat.Dialog {
			t.Helper()
			var d livechat.Dialog
			c.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/%s", conv, action), nil).want(http.StatusOK).decode(&d)
			return d
		}
		act(lc.a, "connect")
		act(lc.b, "connect")
		lc.a.send(conv, "Hi Dora, one moment")

		// One of two leaves: Boris still serves the visitor; nobody is called.
		if d := act(lc.a, "disconnect"); d.Waiting {
			t.Fatalf("the dialog waits while Boris is connected: %+v", d)
		}
		// The last one leaves: it waits at once, for every level-1 colleague.
		if d := act(lc.b, "disconnect"); !d.Waiting || len(d.Consultants) != 0 {
			t.Fatalf("after the last consultant left: %+v", d)
		}
		for _, sock := range []*socket{lc.aSock, lc.bSock} {
			waitDialog(t, sock, func(d *livechat.Dialog) bool { return d.Conversation.ID == conv && d.Waiting })
		}
		var ds struct{ Dialogs []livechat.Dialog }
		lc.a.do("GET", "/api/v1/dialogs?status=open", nil).want(http.StatusOK).decode(&ds)
		if len(ds.Dialogs) != 1 || !ds.Dialogs[0].Waiting {
			t.Fatalf("the list after the last consultant left: %+v", ds.Dialogs)
		}
		// The visitor: nobody with them, and someone who can answer is online.
		waitVisitorConv(t, vSock, func(c *livechat.VisitorConversation) bool { return len(c.Consultants) == 0 && c.Online })
		if c := v.history().Conversation; len(c.Consultants) != 0 || !c.Online {
			t.Fatalf("the visitor's conversation after the disconnect: %+v", c)
		}

		// Connecting ends the wait.
		if d := act(lc.a, "connect"); d.Waiting {
			t.Fatalf("after Anna connected again: %+v", d)
		}
		// A closed dialog does not call anyone when its consultant leaves.
		act(lc.a, "close")
		if d := act(lc.a, "disconnect"); d.Waiting {
			t.Fatalf("a closed dialog waits: %+v", d)
		}
	})
}

// TestLiveChatTransferNote: a transfer carries an optional hand-over note
// for level 2, a staff-only system line the visitor never gets by any
// path; after the transfer the visitor's dialog is answerable while the
// level-2 specialist is online, though nobody at level 1 is, so their
// next message rings her instead of becoming an offline case.
func TestLiveChatTransferNote(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		lc.l2Sock = lc.l2.connect() // only Lena is online
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		vSock := v.connect(0)
		vSock.waitFor("hello")
		v.send("My order was charged twice") // nobody at level 1: an offline case
		conv := v.history().Conversation.ID
		if c := v.history().Conversation; c.Online {
			t.Fatalf("the visitor is told someone can answer while nobody at level 1 is online: %+v", c)
		}
		path := fmt.Sprintf("/api/v1/dialogs/%d/", conv)
		lc.a.do("POST", path+"connect", nil).want(http.StatusOK)
		lc.a.send(conv, "Let me pass you to our billing expert")

		note := "Order 77 was charged twice; the refund needs level 2"
		e := lc.a.do("POST", path+"transfer", map[string]any{"user_id": lc.l2.id(), "note": strings.Repeat("x", 2001)}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		if e.Field != "note" {
			t.Fatalf("a long note: %+v", e)
		}
		var d livechat.Dialog
		lc.a.do("POST", path+"transfer", map[string]any{"user_id": lc.l2.id(), "note": note}).want(http.StatusOK).decode(&d)
		last := d.LastMessage
		if !d.Waiting || last == nil || last.Event == nil || last.Event.Action != parley.ActionTransferNote ||
			last.Event.Title != note || last.Event.ActorID != lc.a.id() || len(last.Event.UserIDs) != 1 || last.Event.UserIDs[0] != lc.l2.id() {
			t.Fatalf("the receiver's row after a transfer with a note: %+v, last %+v", d, last)
		}
		waitDialog(t, lc.l2Sock, func(d *livechat.Dialog) bool {
			return d.Waiting && d.LastMessage != nil && d.LastMessage.Event != nil && d.LastMessage.Event.Title == note
		})
		var lines []string
		for _, m := range lc.l2.history(conv, "") {
			if m.Event != nil {
				lines = append(lines, m.Event.Action+":"+m.Event.Title)
			}
		}
		if want := "transfer_note:" + note; lines[len(lines)-1] != want || lines[len(lines)-2] != parley.ActionTransferred+":" {
			t.Fatalf("the staff timeline ends %q, want the transfer then %q", lines, want)
		}

		// The visitor never gets the note: not live, not in history or the transcript.
		for {
			raw, _ := json.Marshal(vSock.waitFor(parley.EventMessageCreated))
			if bytes.Contains(raw, []byte("charged twice; the refund")) {
				t.Fatalf("the note reached the visitor's socket: %s", raw)
			}
			if bytes.Contains(raw, []byte(`"transferred"`)) {
				break
			}
		}
		for _, p := range []string{"/api/v1/widget/messages", "/api/v1/widget/transcript"} {
			if r := v.do("GET", p, nil).want(http.StatusOK); bytes.Contains(r.Body, []byte("refund needs")) {
				t.Fatalf("%s shows the note: %s", p, r.Body)
			}
		}
		// Lena is online: the visitor can be answered, and is told so.
		eventually(t, "the visitor's dialog answerable by Lena", func() bool { return v.history().Conversation.Online })
		var before livechat.CaseView
		var cases struct{ Cases []parley.Case }
		lc.l2.do("GET", "/api/v1/cases?status=open", nil).want(http.StatusOK).decode(&cases)
		if len(cases.Cases) != 1 {
			t.Fatalf("cases: %+v", cases)
		}
		lc.l2.do("GET", fmt.Sprintf("/api/v1/cases/%d", cases.Cases[0].ID), nil).want(http.StatusOK).decode(&before)
		v.send("Hello? Still there?")
		d = waitDialog(t, lc.l2Sock, func(d *livechat.Dialog) bool {
			return d.LastMessage != nil && d.LastMessage.Text == "Hello? Still there?"
		})
		if !d.Waiting {
			t.Fatalf("the visitor's message after the transfer does not ring Lena: %+v", d)
		}
		var after livechat.CaseView
		lc.l2.do("GET", fmt.Sprintf("/api/v1/cases/%d", before.ID), nil).want(http.StatusOK).decode(&after)
		if len(after.Comments) != len(before.Comments) {
			t.Fatalf("the message went to the offline case: %+v", after.Comments)
		}

		// Lena converts it mid-chat: the visitor is told who saved it.
		lc.l2.do("POST", path+"connect", nil).want(http.StatusOK)
		lc.l2.do("POST", path+"case", map[string]any{"title": "Refund"}).want(http.StatusCreated)
		var saved *livechat.VisitorEvent
		for _, m := range v.history().Messages {
			if m.Event != nil && m.Event.Action == parley.ActionCaseCreated {
				saved = m.Event
			}
		}
		if saved == nil || saved.Name != "Lena" || !strings.HasPrefix(saved.Text, "#") {
			t.Fatalf("the visitor's case line: %+v", saved)
		}

		// A transfer without a note adds no note line.
		lc.l2.do("POST", path+"transfer", map[string]any{}).want(http.StatusOK).decode(&d)
		if d.LastMessage == nil || d.LastMessage.Event == nil || d.LastMessage.Event.Action != parley.ActionTransferred {
			t.Fatalf("a transfer without a note ends with %+v", d.LastMessage)
		}
	})
}

// TestLiveChatOfflineReplyTo: with nobody online the widget asks the
// visitor for an e-mail address to reply to; given before the message,
// the case's contact carries it; given after the case was filed, the case
// records it as the visitor's comment. The widget's project settings say
// the limits of what a visitor may send.
func TestLiveChatOfflineReplyTo(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, append(opts, func(c *Config) { c.MaxFileSize = 3 << 20 })...)
		lc := newLiveChat(t, s)
		anon := s.anon(t)
		anon.header.Set("Origin", shopOrigin)
		var p livechat.PublicProject
		anon.do("GET", "/api/v1/widget/projects/"+lc.project.Key, nil).want(http.StatusOK).decode(&p)
		if p.Online || p.MaxMessageLength != 2000 || p.MaxFileSize != 3<<20 {
			t.Fatalf("the widget's project: %+v", p)
		}

		caseOf := func(v *visitorClient) livechat.CaseView {
			t.Helper()
			conv := v.history().Conversation.ID
			var list httpapi.CaseList
			lc.a.do("GET", "/api/v1/cases", nil).want(http.StatusOK).decode(&list)
			for _, k := range list.Cases {
				if k.ConversationID == conv {
					var cv livechat.CaseView
					lc.a.do("GET", fmt.Sprintf("/api/v1/cases/%d", k.ID), nil).want(http.StatusOK).decode(&cv)
					return cv
				}
			}
			t.Fatalf("no case of dialog %d", conv)
			return livechat.CaseView{}
		}

		// The e-mail first, then the message: the case's contact has it.
		first := s.visitor(t, lc.project.Key, nil)
		first.do("PATCH", "/api/v1/widget/contact", map[string]any{"email": "not-an-address"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		first.do("PATCH", "/api/v1/widget/contact", map[string]any{"email": "ann@example.com"}).want(http.StatusOK)
		first.send("Do you ship to Norway?")
		if cv := caseOf(first); cv.Contact == nil || cv.Contact.Email != "ann@example.com" || len(cv.Comments) != 0 {
			t.Fatalf("the case of a visitor who gave her e-mail first: %+v", cv)
		}

		// The message first, then the e-mail: the case records where to reply.
		late := s.visitor(t, lc.project.Key, map[string]any{"name": "Ben"})
		late.send("Is the shop open on Sunday?")
		late.do("PATCH", "/api/v1/widget/contact", map[string]any{"email": "ben@example.com"}).want(http.StatusOK)
		late.do("PATCH", "/api/v1/widget/contact", map[string]any{"email": "ben@example.com"}).want(http.StatusOK) // the same again: nothing new
		cv := caseOf(late)
		if cv.Contact == nil || cv.Contact.Email != "ben@example.com" || len(cv.Comments) != 1 ||
			cv.Comments[0].Text != "Reply to ben@example.com" || cv.Comments[0].ContactID == 0 {
			t.Fatalf("the case after the visitor gave an e-mail: %+v, comments %+v", cv.Case, cv.Comments)
		}
	})
}
