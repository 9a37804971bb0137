package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/messaging"
)

func convPath(id int64, rest string) string {
	return fmt.Sprintf("/api/v1/conversations/%d%s", id, rest)
}

// TestDirectRequests is seed 000's request flow.
func TestDirectRequests(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		outsider := s.newUser(t, parley.RoleAdmin, "Olivia Outsider")

		a.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": a.id()}).wantErr(http.StatusBadRequest, parley.EINVALID)
		a.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": 999999}).wantErr(http.StatusBadRequest, parley.EINVALID)

		req := a.direct(b)
		if req.Kind != parley.KindDirect || req.State != parley.StateRequested || req.CreatedBy != a.id() {
			t.Fatalf("A's new direct: %+v", req.Conversation)
		}
		if ids := memberIDs(req); len(ids) != 2 || !hasMember(req, a.id()) || !hasMember(req, b.id()) {
			t.Errorf("members %v", ids)
		}
		// The members' presence is shown: nobody has a device connected.
		for _, m := range req.Members {
			if m.Presence != parley.PresenceOffline || m.Name == "" {
				t.Errorf("member %+v; want a name and offline", m)
			}
		}
		// Opening it again returns the same request.
		if again := a.direct(b); again.ID != req.ID || again.State != parley.StateRequested {
			t.Errorf("opening again: %+v", again.Conversation)
		}

		// B sees the request in their list, sent by A: so it was sent to B.
		seen := b.listed(req.ID)
		if seen == nil || seen.State != parley.StateRequested || seen.CreatedBy != a.id() {
			t.Fatalf("B's list shows %+v", seen)
		}

		// Nothing can be sent, by either side, until B allows.
		a.do("POST", convPath(req.ID, "/messages"), map[string]string{"text": "hi?"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		b.do("POST", convPath(req.ID, "/messages"), map[string]string{"text": "hi?"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		a.do("POST", convPath(req.ID, "/typing"), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		if got := texts(b.history(req.ID, "")); len(got) != 0 {
			t.Errorf("history of an unallowed request: %q", got)
		}
		// A cannot allow their own request; outsiders cannot see it at all.
		a.do("POST", convPath(req.ID, "/allow"), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		outsider.do("POST", convPath(req.ID, "/allow"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", convPath(req.ID, "/cancel"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("GET", convPath(req.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if v := a.conversation(req.ID); v.State != parley.StateRequested {
			t.Fatalf("refused allows changed the state: %s", v.State)
		}

		// B declines; nothing can be sent; A sees it was declined, not
		// withdrawn, and cannot ask again at once.
		var v convView
		b.do("POST", convPath(req.ID, "/cancel"), nil).want(http.StatusOK).decode(&v)
		if v.State != parley.StateDeclined || v.Declines != 1 {
			t.Errorf("after declining: %s, %d declines", v.State, v.Declines)
		}
		a.do("POST", convPath(req.ID, "/messages"), map[string]string{"text": "please?"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		b.do("POST", convPath(req.ID, "/allow"), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		b.do("POST", convPath(req.ID, "/cancel"), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		if seen := a.conversation(req.ID); seen.State != parley.StateDeclined || seen.AskAgainAt.Sub(seen.DeclinedAt) != 24*time.Hour {
			t.Errorf("A sees %s, ask again at %v (declined %v)", seen.State, seen.AskAgainAt, seen.DeclinedAt)
		}
		if e := a.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": b.id()}).wantErr(http.StatusConflict, parley.ECONFLICT); !strings.Contains(e.Message, "ask again after") {
			t.Errorf("the refusal: %q", e.Message)
		}
		// B changes their mind and asks: a fresh request.
		again := b.direct(a)
		if again.ID != req.ID || again.State != parley.StateRequested || again.CreatedBy != b.id() || again.Declines != 0 {
			t.Fatalf("B's request: %+v", again.Conversation)
		}
		// B may withdraw their own request, and ask again at once.
		b.do("POST", convPath(req.ID, "/cancel"), nil).want(http.StatusOK).decode(&v)
		if v.State != parley.StateCancelled {
			t.Errorf("after withdrawing: %s", v.State)
		}
		again = b.direct(a)
		if again.State != parley.StateRequested || again.CreatedBy != b.id() {
			t.Fatalf("B's request: %+v", again.Conversation)
		}
		b.do("POST", convPath(req.ID, "/allow"), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		a.do("POST", convPath(req.ID, "/allow"), nil).want(http.StatusOK).decode(&v)
		if v.State != parley.StateAllowed {
			t.Fatalf("after allow: %s", v.State)
		}
		a.send(req.ID, "finally")
		b.send(req.ID, "hello Anna")
		if got := texts(a.history(req.ID, "")); !sameStrings(got, []string{"finally", "hello Anna"}) {
			t.Errorf("history %q", got)
		}
		b.do("POST", convPath(req.ID, "/allow"), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		if v := b.direct(a); v.ID != req.ID || v.State != parley.StateAllowed {
			t.Errorf("opening an allowed direct: %+v", v.Conversation)
		}

		// Both asking is consent on both sides.
		c := s.newUser(t, parley.RoleMember, "Cyril Gamma")
		d := s.newUser(t, parley.RoleMember, "Dora Delta")
		first := c.direct(d)
		second := d.direct(c)
		if second.ID != first.ID || second.State != parley.StateAllowed {
			t.Errorf("both opening: %+v", second.Conversation)
		}
		c.send(first.ID, "we both asked")

		// Outsiders read nothing of it.
		outsider.do("GET", convPath(first.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", convPath(first.ID, "/messages"), map[string]string{"text": "intruding"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if outsider.listed(first.ID) != nil {
			t.Error("an outsider lists someone else's direct")
		}
		if got := outsider.search("q=asked"); len(got) != 0 {
			t.Errorf("an outsider finds %+v", got)
		}
		var page httpapi.ConversationPage
		c.get("/api/v1/conversations?kind=direct", &page)
		if len(page.Conversations) != 1 || page.Conversations[0].ID != first.ID {
			t.Errorf("C's directs: %+v", page.Conversations)
		}
		c.get("/api/v1/conversations?kind=group", &page)
		if len(page.Conversations) != 0 {
			t.Errorf("C's groups: %+v", page.Conversations)
		}
		// The list pages by last activity, newest first.
		for i := range 4 {
			c.group(fmt.Sprint("chat ", i), d)
		}
		c.send(first.ID, "the direct is the newest again")
		var paged []int64
		cursor := ""
		for range 10 {
			var p httpapi.ConversationPage
			c.get("/api/v1/conversations?limit=2&cursor="+url.QueryEscape(cursor), &p)
			for _, v := range p.Conversations {
				paged = append(paged, v.ID)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if len(paged) != 5 || paged[0] != first.ID || len(slices.Compact(slices.Sorted(slices.Values(paged)))) != 5 {
			t.Errorf("paged list %v; want 5 different conversations, the direct first", paged)
		}

	})
}

// TestPresenceOfMembers: with a device connected a member shows online,
// without one offline.
func TestPresenceOfMembers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a, b := s.newUser(t, parley.RoleMember, "Anna"), s.newUser(t, parley.RoleMember, "Boris")
	c := a.direct(b)
	presenceOf := func(id int64) parley.Presence {
		for _, m := range a.conversation(c.ID).Members {
			if m.UserID == id {
				return m.Presence
			}
		}
		t.Fatalf("member %d missing", id)
		return ""
	}
	if p := presenceOf(b.id()); p != parley.PresenceOffline {
		t.Fatalf("B without a device: %s", p)
	}
	ws := b.connect()
	ws.waitFor("hello")
	eventually(t, "B online", func() bool { return presenceOf(b.id()) == parley.PresenceOnline })
	var u parley.User
	a.get("/api/v1/users/"+itoa(b.id()), &u)
	if u.Presence != parley.PresenceOnline {
		t.Errorf("GET /users/{id} shows %s", u.Presence)
	}
	ws.ws.CloseNow()
	eventually(t, "B offline", func() bool { return presenceOf(b.id()) == parley.PresenceOffline })
}

// TestAssistance is seed 000's quick chat with the administrator.
func TestAssistance(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		admin1 := s.newUser(t, parley.RoleAdmin, "Ada First")
		admin2 := s.newUser(t, parley.RoleAdmin, "Abe Second")
		super := s.newUser(t, parley.RoleSupervisor, "Sue Supervisor")
		user := s.newUser(t, parley.RoleMember, "Uma User")
		agent := s.newUser(t, parley.RoleAgent, "Aga Agent")
		settings := func() messaging.ChatSettings {
			var cs messaging.ChatSettings
			user.get("/api/v1/chat/settings", &cs)
			return cs
		}

		// Disabled by default.
		if cs := settings(); cs.AssistanceEnabled {
			t.Fatalf("Assistance enabled on a fresh server: %+v", cs)
		}
		user.do("POST", "/api/v1/assistance", nil).wantErr(http.StatusConflict, parley.ECONFLICT)

		// Only chat administrators change the settings.
		enable := map[string]any{"assistance_enabled": true, "assistance_admin_id": admin1.id()}
		user.do("PUT", "/api/v1/chat/settings", enable).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		agent.do("PUT", "/api/v1/chat/settings", enable).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		// The responsible administrator must be one (admin or supervisor),
		// exactly one, and exist.
		for _, bad := range []map[string]any{
			{"assistance_enabled": true},
			{"assistance_enabled": true, "assistance_admin_id": user.id()},
			{"assistance_enabled": true, "assistance_admin_id": agent.id()},
			{"assistance_enabled": true, "assistance_admin_id": 999999},
			{"assistance_enabled": true, "assistance_admin_id": []int64{admin1.id(), admin2.id()}},
			{"assistance_enabled": true, "assistance_admin_ids": []int64{admin1.id()}},
		} {
			admin1.do("PUT", "/api/v1/chat/settings", bad).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		if cs := settings(); cs.AssistanceEnabled || cs.AssistanceAdminID != 0 {
			t.Fatalf("refused settings were saved: %+v", cs)
		}
		user.do("POST", "/api/v1/assistance", nil).wantErr(http.StatusConflict, parley.ECONFLICT)

		var cs messaging.ChatSettings
		admin1.do("PUT", "/api/v1/chat/settings", enable).want(http.StatusOK).decode(&cs)
		if !cs.AssistanceEnabled || cs.AssistanceAdminID != admin1.id() || settings() != cs {
			t.Fatalf("settings after enabling: %+v / %+v", cs, settings())
		}
		// The responsible administrator has no Assistance chat of their own.
		admin1.do("POST", "/api/v1/assistance", nil).wantErr(http.StatusBadRequest, parley.EINVALID)

		// A user opens Assistance: allowed at once, with only the named
		// administrator.
		var help convView
		user.do("POST", "/api/v1/assistance", nil).want(http.StatusOK).decode(&help)
		if help.Kind != parley.KindAssistance || help.State != parley.StateAllowed {
			t.Fatalf("Assistance chat: %+v", help.Conversation)
		}
		if ids := memberIDs(help); len(ids) != 2 || !hasMember(help, user.id()) || !hasMember(help, admin1.id()) {
			t.Fatalf("Assistance members %v; want the user and admin1", ids)
		}
		var again convView
		user.do("POST", "/api/v1/assistance", nil).want(http.StatusOK).decode(&again)
		if again.ID != help.ID {
			t.Errorf("opening Assistance twice gave %d and %d", help.ID, again.ID)
		}
		// Writing and attaching a file need no waiting.
		q := user.send(help.ID, "My screen is blank, help!")
		var f parley.File
		user.upload("screen.txt", "text/plain", []byte("error log")).want(http.StatusCreated).decode(&f)
		withFile := user.sendBody(help.ID, map[string]any{"text": "the log", "file_ids": []int64{f.ID}})
		if withFile.Kind != parley.MsgFile || len(withFile.Files) != 1 {
			t.Errorf("message with a file: %+v", withFile)
		}
		admin1.send(help.ID, "Looking into it")
		if got := texts(admin1.history(help.ID, "")); !sameStrings(got, []string{q.Text, "the log", "Looking into it"}) {
			t.Errorf("admin1 reads %q", got)
		}
		admin1.do("GET", fmt.Sprintf("/api/v1/files/%d", f.ID), nil).want(http.StatusOK)

		// Nobody else receives it, another administrator included.
		for _, other := range []*client{admin2, super, agent} {
			other.do("GET", convPath(help.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			other.do("GET", convPath(help.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			other.do("GET", fmt.Sprintf("/api/v1/files/%d", f.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			if other.listed(help.ID) != nil {
				t.Errorf("%s lists the Assistance chat", other.user.Name)
			}
			if got := other.search("q=blank"); len(got) != 0 {
				t.Errorf("%s finds %+v", other.user.Name, got)
			}
		}
		// Assistance chats have fixed members.
		user.do("POST", convPath(help.ID, "/members"), map[string]any{"user_ids": []int64{agent.id()}}).wantErr(http.StatusConflict, parley.ECONFLICT)
		user.do("PATCH", convPath(help.ID, ""), map[string]string{"title": "Mine"}).wantErr(http.StatusConflict, parley.ECONFLICT)

		// admin2 asks admin1 for help too, before becoming responsible.
		var own convView
		admin2.do("POST", "/api/v1/assistance", nil).want(http.StatusOK).decode(&own)
		admin2.send(own.ID, "where is the VPN config?")

		// A supervisor (chat administrator) hands the line to admin2: admin2
		// gets the open chat with its whole history, admin1 leaves it.
		super.do("PUT", "/api/v1/chat/settings", map[string]any{"assistance_enabled": true, "assistance_admin_id": admin2.id()}).
			want(http.StatusOK)
		v := admin2.conversation(help.ID)
		if ids := memberIDs(v); len(ids) != 2 || !hasMember(v, user.id()) || !hasMember(v, admin2.id()) {
			t.Errorf("members after hand-over: %v", ids)
		}
		if got := texts(admin2.history(help.ID, "")); !sameStrings(got, []string{q.Text, "the log", "Looking into it"}) {
			t.Errorf("admin2 reads %q", got)
		}
		msgs := admin2.history(help.ID, "")
		if last := msgs[len(msgs)-1]; last.Kind != parley.MsgEvent || last.Event == nil || last.Event.Action != parley.ActionReassigned {
			t.Errorf("no hand-over line at the end: %+v", last)
		}
		admin2.do("GET", fmt.Sprintf("/api/v1/files/%d", f.ID), nil).want(http.StatusOK)
		admin1.do("GET", convPath(help.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin1.do("GET", convPath(help.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin1.do("POST", convPath(help.ID, "/messages"), map[string]string{"text": "still here?"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin1.do("GET", fmt.Sprintf("/api/v1/files/%d", f.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if got := admin1.search("q=blank"); len(got) != 0 {
			t.Errorf("the previous administrator still finds %+v", got)
		}
		user.send(help.ID, "thanks")
		admin2.send(help.ID, "you're welcome")
		// admin2 cannot answer their own question: it stays with admin1.
		if v := admin2.conversation(own.ID); len(v.Members) != 2 || !hasMember(v, admin1.id()) {
			t.Errorf("admin2's own Assistance chat after the hand-over has members %v; want admin2 and admin1", memberIDs(v))
		}
		if got := texts(admin1.history(own.ID, "")); !sameStrings(got, []string{"where is the VPN config?"}) {
			t.Errorf("admin1 reads %q in admin2's Assistance chat", got)
		}
		// New Assistance chats go to admin2 as well.
		var help2 convView
		agent.do("POST", "/api/v1/assistance", nil).want(http.StatusOK).decode(&help2)
		if !hasMember(help2, admin2.id()) || hasMember(help2, admin1.id()) {
			t.Errorf("new Assistance chat members: %v", memberIDs(help2))
		}

		// Disabling closes the line to new chats.
		admin1.do("PUT", "/api/v1/chat/settings", map[string]any{"assistance_enabled": false}).want(http.StatusOK)
		super.do("POST", "/api/v1/assistance", nil).wantErr(http.StatusConflict, parley.ECONFLICT)
	})
}

// TestMultiChats is seed 001's "Add interlocutors" and multi-chat rules.
func TestMultiChats(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		c := s.newUser(t, parley.RoleMember, "Cyril Gamma")
		d := s.newUser(t, parley.RoleMember, "Dora Delta")
		outsider := s.newUser(t, parley.RoleAdmin, "Olivia Outsider")
		super := s.newUser(t, parley.RoleSupervisor, "Sue Supervisor")

		a.do("POST", "/api/v1/conversations/group", map[string]any{"title": "Alone"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		a.do("POST", "/api/v1/conversations/group", map[string]any{"title": "X", "user_ids": []int64{999999}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		long := strings.Repeat("x", 101)
		a.do("POST", "/api/v1/conversations/group", map[string]any{"title": long, "user_ids": []int64{b.id()}}).wantErr(http.StatusBadRequest, parley.EINVALID)

		team := a.group("Launch team", b, c)
		if team.Kind != parley.KindGroup || team.Title != "Launch team" || team.State != parley.StateAllowed || len(team.Members) != 3 {
			t.Fatalf("created %+v with %v", team.Conversation, memberIDs(team))
		}
		a.send(team.ID, "kick-off at ten")
		b.send(team.ID, "ok")

		// Add interlocutors: from a direct chat, a new multi-chat with its
		// two people and the added one; the direct stays as it was.
		dm := a.directAllowed(b)
		a.send(dm.ID, "just between us")
		var added convView
		a.do("POST", "/api/v1/conversations/group", map[string]any{"user_ids": []int64{d.id()}, "from_conversation_id": dm.ID}).
			want(http.StatusCreated).decode(&added)
		if added.ID == dm.ID || added.Kind != parley.KindGroup || len(added.Members) != 3 ||
			!hasMember(added, a.id()) || !hasMember(added, b.id()) || !hasMember(added, d.id()) {
			t.Fatalf("Add interlocutors made %+v with %v", added.Conversation, memberIDs(added))
		}
		if added.Title == "" {
			t.Error("a multi-chat without a title gets one from its members' names")
		}
		if got := texts(d.history(added.ID, "")); len(got) != 0 {
			t.Errorf("the new multi-chat carries the direct's messages: %q", got)
		}
		if v := b.conversation(dm.ID); v.Kind != parley.KindDirect || v.State != parley.StateAllowed || len(v.Members) != 2 {
			t.Errorf("the direct after Add interlocutors: %+v %v", v.Conversation, memberIDs(v))
		}
		d.do("GET", convPath(dm.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		// Only a member can start from a conversation.
		outsider.do("POST", "/api/v1/conversations/group", map[string]any{"user_ids": []int64{d.id()}, "from_conversation_id": dm.ID}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// A non-member reads nothing.
		outsider.do("GET", convPath(team.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("GET", convPath(team.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", convPath(team.ID, "/messages"), map[string]string{"text": "let me in"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", convPath(team.ID, "/members"), map[string]any{"user_ids": []int64{outsider.id()}}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("PATCH", convPath(team.ID, ""), map[string]string{"title": "Mine now"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("DELETE", convPath(team.ID, "/members/"+itoa(b.id())), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", convPath(team.ID, "/read"), map[string]int64{"seq": 0}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("PUT", convPath(team.ID, "/draft"), map[string]string{"text": "x"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if got := outsider.search("q=kick"); len(got) != 0 {
			t.Errorf("search by a non-member returns %+v", got)
		}
		outsider.do("GET", fmt.Sprintf("/api/v1/search?q=kick&conversation_id=%d", team.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Add and rename: any member may.
		var v convView
		c.do("POST", convPath(team.ID, "/members"), map[string]any{"user_ids": []int64{d.id()}}).want(http.StatusOK).decode(&v)
		if len(v.Members) != 4 || !hasMember(v, d.id()) {
			t.Fatalf("after adding D: %v", memberIDs(v))
		}
		c.do("POST", convPath(team.ID, "/members"), map[string]any{"user_ids": []int64{d.id()}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		c.do("POST", convPath(team.ID, "/members"), map[string]any{"user_ids": []int64{999999}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		if got := texts(d.history(team.ID, "")); !sameStrings(got, []string{"kick-off at ten", "ok"}) {
			t.Errorf("a new member reads %q; want the whole history", got)
		}
		if dv := d.listed(team.ID); dv == nil || dv.Unread != 0 {
			t.Errorf("a new member's unread: %+v", dv)
		}
		b.do("PATCH", convPath(team.ID, ""), map[string]string{"title": "  Launch   crew "}).want(http.StatusOK).decode(&v)
		if v.Title != "Launch crew" || a.conversation(team.ID).Title != "Launch crew" {
			t.Errorf("title after rename: %q", v.Title)
		}
		b.do("PATCH", convPath(team.ID, ""), map[string]string{"title": " "}).wantErr(http.StatusBadRequest, parley.EINVALID)
		a.do("PATCH", convPath(dm.ID, ""), map[string]string{"title": "Not a group"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		a.do("POST", convPath(dm.ID, "/members"), map[string]any{"user_ids": []int64{c.id()}}).wantErr(http.StatusConflict, parley.ECONFLICT)
		a.do("DELETE", convPath(dm.ID, "/members/"+itoa(b.id())), nil).wantErr(http.StatusConflict, parley.ECONFLICT)

		// Only the owner or a chat administrator removes others.
		b.do("DELETE", convPath(team.ID, "/members/"+itoa(c.id())), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		if !hasMember(a.conversation(team.ID), c.id()) {
			t.Fatal("a refused removal removed C")
		}
		a.do("DELETE", convPath(team.ID, "/members/"+itoa(c.id())), nil).want(http.StatusNoContent)
		c.do("GET", convPath(team.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		c.do("GET", convPath(team.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		c.do("POST", convPath(team.ID, "/messages"), map[string]string{"text": "am I out?"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if c.listed(team.ID) != nil {
			t.Error("a removed member still lists the chat")
		}
		if got := c.search("q=kick"); len(got) != 0 {
			t.Errorf("a removed member still finds %+v", got)
		}
		// A member who is a chat administrator may remove others too.
		a.do("POST", convPath(team.ID, "/members"), map[string]any{"user_ids": []int64{super.id()}}).want(http.StatusOK)
		super.do("DELETE", convPath(team.ID, "/members/"+itoa(b.id())), nil).want(http.StatusNoContent)
		b.do("GET", convPath(team.ID, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		// Anyone may leave.
		d.do("DELETE", convPath(team.ID, "/members/"+itoa(d.id())), nil).want(http.StatusNoContent)
		d.do("GET", convPath(team.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		// Removing someone who is not a member changes nothing.
		a.do("DELETE", convPath(team.ID, "/members/"+itoa(outsider.id())), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		final := a.conversation(team.ID)
		if ids := memberIDs(final); len(ids) != 2 || !hasMember(final, a.id()) || !hasMember(final, super.id()) {
			t.Errorf("members at the end: %v", ids)
		}
		var actions []string
		for _, m := range a.history(team.ID, "") {
			if m.Event != nil {
				actions = append(actions, m.Event.Action)
			}
		}
		want := []string{parley.ActionCreated, parley.ActionJoined, parley.ActionRenamed, parley.ActionRemoved,
			parley.ActionJoined, parley.ActionRemoved, parley.ActionLeft}
		if !slices.Equal(actions, want) {
			t.Errorf("system lines %q, want %q", actions, want)
		}
	})
}

// A declined request can be asked again after a day, then after a week,
// then never: only the other user can start the conversation.
func TestDeclinedRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	later := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := newServer(t, func(c *Config) { c.Now = clock })
	a := s.newUser(t, parley.RoleMember, "Anna Alpha")
	b := s.newUser(t, parley.RoleMember, "Boris Beta")
	ask := func() *response {
		return a.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": b.id()})
	}

	req := a.direct(b)
	for i, pause := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour} {
		b.do("POST", convPath(req.ID, "/cancel"), nil).want(http.StatusOK)
		v := a.conversation(req.ID)
		if v.State != parley.StateDeclined || v.Declines != i+1 || !v.AskAgainAt.Equal(v.DeclinedAt.Add(pause)) {
			t.Fatalf("decline %d: %s, %d declines, again at %v", i+1, v.State, v.Declines, v.AskAgainAt)
		}
		later(pause - time.Minute)
		ask().wantErr(http.StatusConflict, parley.ECONFLICT)
		later(2 * time.Minute)
		if v := a.direct(b); v.State != parley.StateRequested || v.CreatedBy != a.id() {
			t.Fatalf("asking again after %v: %+v", pause, v.Conversation)
		}
	}
	b.do("POST", convPath(req.ID, "/cancel"), nil).want(http.StatusOK)
	if v := a.conversation(req.ID); v.Declines != 3 || !v.AskAgainAt.IsZero() {
		t.Fatalf("third decline: %d declines, again at %v", v.Declines, v.AskAgainAt)
	}
	later(365 * 24 * time.Hour)
	if e := ask().wantErr(http.StatusConflict, parley.ECONFLICT); !strings.Contains(e.Message, "cannot ask again") {
		t.Errorf("the refusal: %q", e.Message)
	}
	// Refused attempts changed nothing; B can still start it, and allowing
	// clears the count.
	if v := a.conversation(req.ID); v.State != parley.StateDeclined || v.Declines != 3 {
		t.Fatalf("after refused attempts: %s %d", v.State, v.Declines)
	}
	b.direct(a)
	a.do("POST", convPath(req.ID, "/allow"), nil).want(http.StatusOK)
	if v := a.conversation(req.ID); v.State != parley.StateAllowed || v.Declines != 0 {
		t.Fatalf("allowed: %s %d", v.State, v.Declines)
	}
}
