package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/messaging"
)

// badInputWorld is a server with a little of everything, and a snapshot of
// everything a bad request could change.
type badInputWorld struct {
	s        *testServer
	admin    *client
	member   *client
	conv     convView
	msg      parley.Message
	group    parley.Group
	fileID   int64
	adminKey string // the admin's e-mail
}

func newBadInputWorld(t *testing.T) *badInputWorld {
	s := newServer(t)
	w := &badInputWorld{s: s}
	w.admin = s.newUser(t, parley.RoleAdmin, "Ada Admin")
	w.member = s.newUser(t, parley.RoleMember, "Max Member")
	w.conv = w.admin.group("Team", w.member)
	w.msg = w.admin.send(w.conv.ID, "the only message")
	w.admin.do("POST", "/api/v1/groups", map[string]any{"name": "Sales", "member_ids": []int64{w.member.id()}}).
		want(http.StatusCreated).decode(&w.group)
	w.admin.do("PUT", reminderPath(w.msg.ID, ""), map[string]any{"remind_at": time.Now().Add(time.Hour)}).want(http.StatusOK)
	w.admin.do("PUT", convPath(w.conv.ID, "/draft"), map[string]string{"text": "draft"}).want(http.StatusOK)
	var f parley.File
	w.admin.upload("a.txt", "text/plain", []byte("a file")).want(http.StatusCreated).decode(&f)
	w.fileID = f.ID
	return w
}

// snapshot is everything visible through the API that a request could
// change, as one string.
func (w *badInputWorld) snapshot() string {
	var b strings.Builder
	add := func(c *client, path string) {
		r := c.do("GET", path, nil).want(http.StatusOK)
		var v any
		r.decode(&v)
		scrub(v)
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", path, j)
	}
	for _, c := range []*client{w.admin, w.member} {
		add(c, "/api/v1/me")
		add(c, "/api/v1/me/settings")
		add(c, "/api/v1/conversations")
		add(c, convPath(w.conv.ID, "/messages?limit=200"))
		add(c, "/api/v1/reminders")
		add(c, "/api/v1/friends")
	}
	add(w.admin, "/api/v1/users?limit=500")
	add(w.admin, "/api/v1/groups")
	add(w.admin, "/api/v1/chat/settings")
	add(w.admin, "/api/v1/setup")
	r := w.admin.do("GET", "/api/v1/me/tokens", nil).want(http.StatusOK)
	var tokens []map[string]any
	r.decode(&tokens)
	fmt.Fprintf(&b, "tokens %d\n", len(tokens))
	return b.String()
}

// scrub removes what changes without anyone changing it: presence and
// the sessions' last use.
func scrub(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "presence")
		delete(x, "last_used_at")
		for _, e := range x {
			scrub(e)
		}
	case []any:
		for _, e := range x {
			scrub(e)
		}
	}
}

// bodyRoutes are the endpoints that take a JSON body, each with one of its
// fields and a valid body.
func (w *badInputWorld) bodyRoutes() []struct {
	method, path, field string
	valid               any
} {
	m, c, g, u := itoa(w.msg.ID), itoa(w.conv.ID), itoa(w.group.ID), itoa(w.member.id())
	return []struct {
		method, path, field string
		valid               any
	}{
		{"POST", "/api/v1/auth/login", "email", httpapi.LoginInput{Email: "x@example.com", Password: "x"}},
		{"POST", "/api/v1/setup", "email", nil},
		{"PATCH", "/api/v1/me", "name", map[string]string{"name": "Ada"}},
		{"PUT", "/api/v1/me/settings", "sound", nil},
		{"POST", "/api/v1/me/tokens", "name", nil},
		{"POST", "/api/v1/users", "email", nil},
		{"PATCH", "/api/v1/users/" + u, "role", nil},
		{"POST", "/api/v1/groups", "name", nil},
		{"PUT", "/api/v1/groups/" + g, "name", nil},
		{"PUT", "/api/v1/chat/settings", "assistance_admin_id", nil},
		{"POST", "/api/v1/conversations/direct", "user_id", nil},
		{"POST", "/api/v1/conversations/group", "user_ids", nil},
		{"PATCH", "/api/v1/conversations/" + c, "title", nil},
		{"POST", "/api/v1/conversations/" + c + "/members", "user_ids", nil},
		{"POST", "/api/v1/conversations/" + c + "/messages", "text", nil},
		{"POST", "/api/v1/conversations/" + c + "/read", "seq", nil},
		{"PUT", "/api/v1/conversations/" + c + "/draft", "text", nil},
		{"PATCH", "/api/v1/messages/" + m, "text", nil},
		{"PUT", "/api/v1/messages/" + m + "/reminder", "remind_at", nil},
		{"POST", "/api/v1/messages/" + m + "/reminder/snooze", "hours", nil},
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	w := newBadInputWorld(t)
	want := w.snapshot()
	check := func(t *testing.T, what string) {
		t.Helper()
		if got := w.snapshot(); got != want {
			t.Fatalf("%s changed the state:\n got %s\nwant %s", what, got, want)
		}
	}

	t.Run("bodies", func(t *testing.T) {
		huge := `{"x":"` + strings.Repeat("a", 1<<20) + `"}`
		for _, rt := range w.bodyRoutes() {
			for _, tc := range []struct {
				name   string
				body   string
				status int
				code   string
			}{
				{"malformed", `{"` + rt.field + `": `, http.StatusBadRequest, parley.EINVALID},
				{"not JSON", `field=value`, http.StatusBadRequest, parley.EINVALID},
				{"wrong type", `{"` + rt.field + `": {"nested": true}}`, http.StatusBadRequest, parley.EINVALID},
				{"array", `[]`, http.StatusBadRequest, parley.EINVALID},
				{"unknown field", `{"` + rt.field + `_typo": 1}`, http.StatusBadRequest, parley.EINVALID},
				{"invalid UTF-8", "{\"" + rt.field + "\": \"\xff\xfe\"}", http.StatusBadRequest, parley.EINVALID},
				{"invalid UTF-8 in a key", "{\"\xff\": 1}", http.StatusBadRequest, parley.EINVALID},
				{"lone surrogate", `{"` + rt.field + `": "\ud800"}`, http.StatusBadRequest, parley.EINVALID},
				{"empty", ``, http.StatusBadRequest, parley.EINVALID},
				{"trailing data", `{} {}`, http.StatusBadRequest, parley.EINVALID},
				{"oversized", huge, http.StatusRequestEntityTooLarge, parley.ETOOLARGE},
			} {
				e := w.admin.do(rt.method, rt.path, tc.body).wantErr(tc.status, tc.code)
				// A clear error: it names the field (or the body) and no
				// decoder internals.
				if strings.Contains(e.Message, "UnmarshalJSON") || strings.Contains(e.Message, "json:") ||
					(tc.code == parley.EINVALID && (e.Field == "" || strings.HasPrefix(e.Message, " "))) {
					t.Errorf("%s %s %s: unclear error %+v", rt.method, rt.path, tc.name, e)
				}
				if tc.name == "wrong type" && e.Field != rt.field && !(rt.field == "remind_at" && strings.Contains(e.Message, "RFC 3339")) {
					t.Errorf("%s %s %s: error %+v does not name the field", rt.method, rt.path, tc.name, e)
				}
			}
			check(t, rt.method+" "+rt.path+" with bad bodies")
		}
	})

	idRoutes := []struct{ method, path string }{
		{"GET", "/api/v1/users/%s"},
		{"PATCH", "/api/v1/users/%s"},
		{"PUT", "/api/v1/groups/%s"},
		{"DELETE", "/api/v1/groups/%s"},
		{"PUT", "/api/v1/friends/%s"},
		{"DELETE", "/api/v1/me/tokens/%s"},
		{"GET", "/api/v1/conversations/%s"},
		{"PATCH", "/api/v1/conversations/%s"},
		{"POST", "/api/v1/conversations/%s/allow"},
		{"POST", "/api/v1/conversations/%s/cancel"},
		{"POST", "/api/v1/conversations/%s/members"},
		{"DELETE", "/api/v1/conversations/%s/members/" + itoa(w.member.id())},
		{"GET", "/api/v1/conversations/%s/messages"},
		{"POST", "/api/v1/conversations/%s/messages"},
		{"POST", "/api/v1/conversations/%s/read"},
		{"POST", "/api/v1/conversations/%s/unread"},
		{"PUT", "/api/v1/conversations/%s/draft"},
		{"POST", "/api/v1/conversations/%s/typing"},
		{"PATCH", "/api/v1/messages/%s"},
		{"DELETE", "/api/v1/messages/%s"},
		{"PUT", "/api/v1/messages/%s/reminder"},
		{"POST", "/api/v1/messages/%s/reminder/snooze"},
		{"DELETE", "/api/v1/messages/%s/reminder"},
		{"GET", "/api/v1/files/%s"},
		{"GET", "/api/v1/files/%s/thumbnail"},
	}
	// A body valid for the route, so only the id is wrong.
	validBody := map[string]any{
		"/api/v1/users/%s": map[string]string{"name": "Ghost"}, "/api/v1/groups/%s": map[string]string{"name": "Ghost"},
		"/api/v1/conversations/%s": map[string]string{"title": "Ghost"}, "/api/v1/conversations/%s/members": map[string][]int64{"user_ids": {w.member.id()}},
		"/api/v1/conversations/%s/messages": map[string]string{"text": "ghost"}, "/api/v1/conversations/%s/read": map[string]int64{"seq": 0},
		"/api/v1/conversations/%s/draft": map[string]string{"text": "ghost"}, "/api/v1/messages/%s": map[string]string{"text": "ghost"},
		"/api/v1/messages/%s/reminder": map[string]any{"remind_at": time.Now().Add(time.Hour)}, "/api/v1/messages/%s/reminder/snooze": map[string]int{"hours": 1},
	}
	t.Run("unknown ids", func(t *testing.T) {
		for _, rt := range idRoutes {
			var body any
			if rt.method != "GET" && rt.method != "DELETE" {
				body = validBody[rt.path]
			}
			w.admin.do(rt.method, fmt.Sprintf(rt.path, "987654"), body).wantErr(http.StatusNotFound, parley.ENOTFOUND)
			check(t, rt.method+" "+rt.path+" with an unknown id")
		}
		// Unknown ids inside bodies.
		w.admin.do("DELETE", convPath(w.conv.ID, "/members/987654"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		w.admin.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": 987654}).wantErr(http.StatusBadRequest, parley.EINVALID)
		w.admin.do("POST", convPath(w.conv.ID, "/members"), map[string][]int64{"user_ids": {987654}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		w.admin.do("POST", "/api/v1/conversations/group", map[string]any{"user_ids": []int64{w.member.id()}, "from_conversation_id": 987654}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		check(t, "unknown ids in bodies")
	})
	t.Run("malformed ids", func(t *testing.T) {
		for _, rt := range idRoutes {
			for _, id := range []string{"abc", "0", "-1", "1.5", "1e3", "99999999999999999999", "%20"} {
				var body any
				if rt.method != "GET" && rt.method != "DELETE" {
					body = validBody[rt.path]
				}
				w.admin.do(rt.method, fmt.Sprintf(rt.path, id), body).wantErr(http.StatusBadRequest, parley.EINVALID)
			}
			check(t, rt.method+" "+rt.path+" with malformed ids")
		}
		w.admin.do("DELETE", convPath(w.conv.ID, "/members/me"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		check(t, "a malformed member id")
	})
	t.Run("query parameters", func(t *testing.T) {
		c := itoa(w.conv.ID)
		for _, q := range []string{
			"/api/v1/users?limit=ten", "/api/v1/users?group_id=x", "/api/v1/users?ids=1,x", "/api/v1/users?ids=0",
			"/api/v1/users?q=%FF", "/api/v1/users?cursor=not-a-cursor", "/api/v1/users?limit=-1",
			"/api/v1/conversations?kind=channel", "/api/v1/conversations?limit=x", "/api/v1/conversations?cursor=not-a-cursor",
			"/api/v1/conversations/" + c + "/messages?before=x", "/api/v1/conversations/" + c + "/messages?after=-5",
			"/api/v1/conversations/" + c + "/messages?since=2024-13-01", "/api/v1/conversations/" + c + "/messages?until=now",
			"/api/v1/conversations/" + c + "/messages?limit=1.5", "/api/v1/conversations/" + c + "/messages?period=week",
			"/api/v1/search?q=x&conversation_id=x", "/api/v1/search?q=x&before=x", "/api/v1/search?q=x&limit=x",
			"/api/v1/search?q=%FF%FE",
			"/api/v1/ws?cursor=x",
		} {
			w.admin.do("GET", q, nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		check(t, "bad query parameters")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		anon := w.s.anon(t)
		for _, rt := range w.bodyRoutes() {
			if strings.HasSuffix(rt.path, "/login") || strings.HasSuffix(rt.path, "/setup") {
				continue
			}
			anon.do(rt.method, rt.path, `{}`).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		}
		check(t, "unauthenticated requests")
	})
	t.Run("members cannot administer", func(t *testing.T) {
		w.member.do("PUT", "/api/v1/chat/settings", messaging.ChatSettings{AssistanceEnabled: true, AssistanceAdminID: w.admin.id()}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		w.member.do("DELETE", "/api/v1/messages/"+itoa(w.msg.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		w.member.do("DELETE", convPath(w.conv.ID, "/members/"+itoa(w.admin.id())), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		w.member.do("DELETE", "/api/v1/groups/"+itoa(w.group.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		check(t, "refused administration")
	})
}
