package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/realtime"
)

// TestUserCreateCommand runs `parley user create` as the operator would
// (through run, which main turns into the exit code), then signs in.
func TestUserCreateCommand(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		cfg := testConfig(t)
		for _, o := range opts {
			o(&cfg)
		}
		db := []string{"--data", cfg.DataDir}
		if cfg.Database != "" {
			db = append(db, "--database", cfg.Database)
		}
		userCreate := func(args ...string) (string, error) {
			var stdout, stderr bytes.Buffer
			all := append([]string{"user", "create", "--password-memory", "64"}, db...)
			if cfg.Database != "" {
				pgStart.Lock() // see newServer
				defer pgStart.Unlock()
			}
			err := run(context.Background(), append(all, args...), &stdout, &stderr)
			return stdout.String() + stderr.String(), err
		}
		out, err := userCreate("--email", "Root@Example.com", "--name", "Root Admin", "--password", testPassword, "--role", "admin")
		if err != nil {
			t.Fatalf("parley user create: %v (%s)", err, out)
		}
		if !strings.Contains(out, "root@example.com") {
			t.Errorf("output %q does not name the user", out)
		}
		for _, bad := range [][]string{
			{"--email", "x@example.com", "--name", "X", "--password", testPassword, "--role", "owner"},
			{"--email", "not-an-address", "--name", "X", "--password", testPassword, "--role", "member"},
			{"--email", "y@example.com", "--name", "Y", "--password", "short", "--role", "member"},
			{"--email", "z@example.com", "--name", "", "--password", testPassword},
			{"--email", "root@example.com", "--name", "Again", "--password", testPassword},
			{"--email", "w@example.com", "--bogus-flag"},
		} {
			if out, err := userCreate(bad...); err == nil {
				t.Errorf("user create %v succeeded: %s", bad, out)
			}
		}
		pgStart.Lock()
		if err := run(context.Background(), append([]string{"migrate"}, db...), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Errorf("parley migrate: %v", err)
		}
		pgStart.Unlock()

		s := newServer(t, func(c *Config) { c.DataDir, c.Database = cfg.DataDir, cfg.Database })
		admin := s.login(t, "root@example.com", testPassword)
		if admin.user.Role != parley.RoleAdmin || admin.user.Name != "Root Admin" {
			t.Errorf("signed in as %+v", admin.user)
		}
		var page httpapi.UserPage
		admin.get("/api/v1/users", &page)
		if len(page.Users) != 1 {
			t.Errorf("refused commands created users: %+v", page.Users)
		}
		for _, email := range []string{"x@example.com", "not-an-address", "y@example.com", "z@example.com", "w@example.com"} {
			s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": testPassword}).
				wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		}
	})
}

// TestFirstRunSetup is the README's first-run path: a fresh server lets the
// first administrator in once, and never again.
func TestFirstRunSetup(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	anon := s.anon(t)
	var st httpapi.SetupStatus
	anon.get("/api/v1/setup", &st)
	if !st.NeedsSetup {
		t.Fatal("a fresh server does not need set-up")
	}
	anon.do("POST", "/api/v1/setup", map[string]string{"email": "first@example.com", "name": "First", "password": "short"}).
		wantErr(http.StatusBadRequest, parley.EINVALID)
	anon.get("/api/v1/setup", &st)
	if !st.NeedsSetup {
		t.Fatal("a refused set-up changed the state")
	}

	var out httpapi.LoginOutput
	anon.do("POST", "/api/v1/setup", map[string]string{"email": "first@example.com", "name": "First Admin", "password": testPassword, "role": "member"}).
		want(http.StatusOK).decode(&out)
	if out.Token == "" || out.User == nil || out.User.Role != parley.RoleAdmin {
		t.Fatalf("setup answered %+v; want a signed-in administrator", out)
	}
	admin := &client{s: s, t: t, token: out.Token, header: http.Header{}}
	if u := admin.me(); u.Email != "first@example.com" || u.Role != parley.RoleAdmin {
		t.Errorf("me = %+v", u)
	}
	anon.get("/api/v1/setup", &st)
	if st.NeedsSetup {
		t.Error("still needs set-up after the first administrator")
	}
	anon.do("POST", "/api/v1/setup", map[string]string{"email": "second@example.com", "name": "Intruder", "password": testPassword}).
		wantErr(http.StatusConflict, parley.ECONFLICT)
	anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "second@example.com", "password": testPassword}).
		wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	alice := s.newUser(t, parley.RoleMember, "Alice Anderson")
	anon := s.anon(t)

	// The server's log is checked for secrets when it stops (newServer).
	t.Cleanup(func() {
		if !s.logs.logged("signed in") {
			t.Error("the server's log is not captured: the check for secrets in it proves nothing")
		}
	})

	t.Run("wrong password and unknown e-mail answer alike", func(t *testing.T) {
		a := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": alice.user.Email, "password": "wrong password"})
		b := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "wrong password"})
		ea, eb := a.wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED), b.wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		if ea != eb {
			t.Errorf("wrong password: %+v; unknown e-mail: %+v", ea, eb)
		}
		anon.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		bad := *anon
		bad.token = "not-a-token"
		bad.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		// E-mail addresses are not case-sensitive.
		s.login(t, strings.ToUpper(alice.user.Email), testPassword)
	})

	t.Run("session cookie and CSRF", func(t *testing.T) {
		r := anon.do("POST", "/api/v1/auth/login", map[string]string{"email": alice.user.Email, "password": testPassword}).want(http.StatusOK)
		var out httpapi.LoginOutput
		r.decode(&out)
		cookies := map[string]*http.Cookie{}
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			cookies[c.Name] = c
		}
		sc, cc := cookies[httpapi.SessionCookie], cookies[httpapi.CSRFCookie]
		if sc == nil || cc == nil {
			t.Fatalf("login set cookies %v", r.Header["Set-Cookie"])
		}
		if !sc.HttpOnly || sc.Value != out.Token || sc.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie %+v", sc)
		}
		if cc.HttpOnly || cc.Value != out.CSRFToken {
			t.Errorf("CSRF cookie %+v (the web app must read it)", cc)
		}

		browser := &client{s: s, t: t, token: out.Token, cookie: true, header: http.Header{}}
		if u := browser.me(); u.ID != alice.id() {
			t.Errorf("cookie session is %+v", u)
		}
		browser.do("POST", "/api/v1/me/tokens", map[string]string{"name": "no csrf"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		browser.header.Set(httpapi.CSRFHeader, "wrong")
		browser.do("POST", "/api/v1/me/tokens", map[string]string{"name": "wrong csrf"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		browser.do("PUT", "/api/v1/me/settings", parley.Settings{}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var set parley.Settings
		browser.get("/api/v1/me/settings", &set)
		if set != parley.DefaultSettings() {
			t.Errorf("a write refused for CSRF changed the settings: %+v", set)
		}
		browser.header.Set(httpapi.CSRFHeader, out.CSRFToken)
		browser.do("POST", "/api/v1/me/tokens", map[string]string{"name": "with csrf"}).want(http.StatusCreated)

		// A page on another site cannot open the WebSocket with the cookie.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		wsURL := strings.Replace(s.url, "http://", "ws://", 1) + "/api/v1/ws"
		hdr := http.Header{"Cookie": {httpapi.SessionCookie + "=" + out.Token}, "Origin": {"https://evil.example"}}
		if ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: hdr}); err == nil {
			ws.CloseNow()
			t.Error("a cross-site page opened the WebSocket with the session cookie")
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site WebSocket: %v %v", resp, err)
		}
		hdr.Set("Origin", s.url)
		ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			t.Fatalf("the app's own page cannot open the WebSocket with the cookie: %v", err)
		}
		ws.CloseNow()

		// The same token as a bearer needs no CSRF header.
		bearer := &client{s: s, t: t, token: out.Token, header: http.Header{}}
		bearer.do("POST", "/api/v1/me/tokens", map[string]string{"name": "bearer"}).want(http.StatusCreated)

		// Logging out ends the session and clears the cookies.
		browser.header.Del(httpapi.CSRFHeader)
		browser.do("POST", "/api/v1/auth/logout", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		browser.header.Set(httpapi.CSRFHeader, out.CSRFToken)
		lr := browser.do("POST", "/api/v1/auth/logout", nil).want(http.StatusNoContent)
		cleared := 0
		for _, c := range (&http.Response{Header: lr.Header}).Cookies() {
			if (c.Name == httpapi.SessionCookie || c.Name == httpapi.CSRFCookie) && c.MaxAge < 0 {
				cleared++
			}
		}
		if cleared != 2 {
			t.Errorf("logout set cookies %v; want both cleared", lr.Header["Set-Cookie"])
		}
		browser.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		bearer.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		// Other sessions of the user go on.
		alice.me()
	})

	t.Run("API tokens", func(t *testing.T) {
		alice.do("POST", "/api/v1/me/tokens", map[string]string{"name": "  "}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var tok httpapi.TokenOutput
		alice.do("POST", "/api/v1/me/tokens", map[string]string{"name": "CI bot"}).want(http.StatusCreated).decode(&tok)
		if tok.Token == "" || tok.Session == nil || tok.Session.Kind != parley.SessionToken || tok.Session.Name != "CI bot" {
			t.Fatalf("token answer %+v", tok)
		}
		bot := &client{s: s, t: t, token: tok.Token, header: http.Header{}}
		if u := bot.me(); u.ID != alice.id() {
			t.Errorf("the token signs in as %+v", u)
		}
		r := alice.do("GET", "/api/v1/me/tokens", nil).want(http.StatusOK)
		if bytes.Contains(r.Body, []byte(tok.Token)) || bytes.Contains(r.Body, []byte(alice.token)) {
			t.Errorf("the token list shows secrets: %s", r.Body)
		}
		var list []*parley.Session
		r.decode(&list)
		found := false
		for _, sess := range list {
			if sess.ID == tok.Session.ID && sess.Name == "CI bot" {
				found = true
			}
			if sess.UserID != alice.id() {
				t.Errorf("the list has another user's session %+v", sess)
			}
		}
		if !found {
			t.Errorf("the token is not listed: %s", r.Body)
		}

		bob := s.newUser(t, parley.RoleAdmin, "Bob Admin")
		bob.do("DELETE", "/api/v1/me/tokens/"+itoa(tok.Session.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		bot.me()
		alice.do("DELETE", "/api/v1/me/tokens/"+itoa(tok.Session.ID), nil).want(http.StatusNoContent)
		bot.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		alice.do("DELETE", "/api/v1/me/tokens/"+itoa(tok.Session.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// A bearer token's logout revokes that token only.
		var tok2 httpapi.TokenOutput
		alice.do("POST", "/api/v1/me/tokens", map[string]string{"name": "short-lived"}).want(http.StatusCreated).decode(&tok2)
		bot2 := &client{s: s, t: t, token: tok2.Token, header: http.Header{}}
		bot2.do("POST", "/api/v1/auth/logout", nil).want(http.StatusNoContent)
		bot2.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		alice.me()
	})
}

func TestDeactivateEndsSessions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	bob := s.newUser(t, parley.RoleMember, "Bob Brown")
	var tok httpapi.TokenOutput
	bob.do("POST", "/api/v1/me/tokens", map[string]string{"name": "script"}).want(http.StatusCreated).decode(&tok)
	script := &client{s: s, t: t, token: tok.Token, header: http.Header{}}
	ws := bob.connect()
	ws.waitFor("hello")

	// Only someone with users.manage may deactivate; nobody may deactivate
	// themselves.
	carol := s.newUser(t, parley.RoleMember, "Carol Cooper")
	carol.do("PATCH", "/api/v1/users/"+itoa(bob.id()), map[string]any{"active": false}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	bob.me()
	admin.do("PATCH", "/api/v1/users/"+itoa(admin.id()), map[string]any{"active": false}).wantErr(http.StatusBadRequest, parley.EINVALID)

	var u parley.User
	admin.do("PATCH", "/api/v1/users/"+itoa(bob.id()), map[string]any{"active": false}).want(http.StatusOK).decode(&u)
	if u.Active {
		t.Errorf("patched user %+v is still active", u)
	}
	bob.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	script.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	if code := ws.closed(); code != realtime.CloseUnauthorized {
		t.Errorf("the deactivated user's socket closed with %d, want %d", code, realtime.CloseUnauthorized)
	}
	s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": bob.user.Email, "password": testPassword}).
		wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	// Nobody can open a conversation with a deactivated user.
	admin.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": bob.id()}).wantErr(http.StatusBadRequest, parley.EINVALID)

	// Reactivated, Bob signs in again; the old sessions stay ended.
	admin.do("PATCH", "/api/v1/users/"+itoa(bob.id()), map[string]any{"active": true}).want(http.StatusOK)
	script.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	bob.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	s.login(t, bob.user.Email, testPassword).me()
}

func TestSendRateLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *Config) { c.SendRate, c.SendBurst = 0.001, 3 })
	a, b := s.newUser(t, parley.RoleMember, "Ann"), s.newUser(t, parley.RoleMember, "Ben")
	c := a.directAllowed(b)
	for i := range 3 {
		a.send(c.ID, fmt.Sprint("message ", i))
	}
	r := a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", c.ID), map[string]string{"text": "one too many"})
	r.wantErr(http.StatusTooManyRequests, parley.ERATELIMITED)
	if got := texts(a.history(c.ID, "")); len(got) != 3 {
		t.Errorf("history after the limit: %q", got)
	}
	// The limit is per user.
	b.send(c.ID, "Ben is not limited by Ann")
}

func TestRoles(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	member := s.newUser(t, parley.RoleMember, "Max Member")
	other := s.newUser(t, parley.RoleMember, "Olga Other")
	super := s.newUser(t, parley.RoleSupervisor, "Sue Supervisor")
	path := func(c *client) string { return "/api/v1/users/" + itoa(c.id()) }
	newUser := func(email string, role parley.Role) map[string]any {
		return map[string]any{"email": email, "name": "New " + string(role), "password": testPassword, "role": role}
	}

	t.Run("a member cannot create users or change roles", func(t *testing.T) {
		member.do("POST", "/api/v1/users", newUser("m1@example.com", parley.RoleMember)).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		super.do("POST", "/api/v1/users", newUser("s1@example.com", parley.RoleMember)).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PATCH", path(other), map[string]any{"role": "agent"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PATCH", path(other), map[string]any{"name": "Renamed"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PATCH", path(member), map[string]any{"role": "admin"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PATCH", path(member), map[string]any{"email": "new@example.com"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		if u := other.me(); u.Role != parley.RoleMember || u.Name != "Olga Other" {
			t.Errorf("refused changes changed %+v", u)
		}
		if u := member.me(); u.Role != parley.RoleMember || u.Email != member.user.Email {
			t.Errorf("refused changes changed %+v", u)
		}
		anon := s.anon(t)
		anon.do("POST", "/api/v1/users", newUser("a1@example.com", parley.RoleAdmin)).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	})

	t.Run("users change their own name and password", func(t *testing.T) {
		var u parley.User
		member.do("PATCH", path(member), map[string]any{"name": "  Max   Mustermann "}).want(http.StatusOK).decode(&u)
		if u.Name != "Max Mustermann" {
			t.Errorf("name = %q", u.Name)
		}
		member.do("POST", "/api/v1/me/password", map[string]any{"current_password": testPassword, "password": "short"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var rot accounts.Rotated
		member.do("POST", "/api/v1/me/password", map[string]any{"current_password": testPassword, "password": "a brand new password"}).
			want(http.StatusOK).decode(&rot)
		member.token, member.csrf = rot.Token, rot.CSRFToken
		s.login(t, member.user.Email, "a brand new password")
		s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": member.user.Email, "password": testPassword}).
			wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	})

	t.Run("only an administrator creates administrators", func(t *testing.T) {
		// A manager holds users.manage through a group, not the admin role.
		manager := s.newUser(t, parley.RoleAgent, "Manny Manager")
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "HR", "rights": []string{parley.RightUsersManage},
			"member_ids": []int64{manager.id()}}).want(http.StatusCreated)

		var u parley.User
		manager.do("POST", "/api/v1/users", newUser("agent@example.com", parley.RoleAgent)).want(http.StatusCreated).decode(&u)
		if u.Role != parley.RoleAgent || !u.Active {
			t.Errorf("created %+v", u)
		}
		manager.do("POST", "/api/v1/users", newUser("boss@example.com", parley.RoleAdmin)).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		manager.do("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"role": "admin"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		manager.do("PATCH", path(admin), map[string]any{"role": "member"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		manager.do("PATCH", path(admin), map[string]any{"active": false}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		manager.do("PATCH", path(other), map[string]any{"role": "supervisor"}).want(http.StatusOK)
		var got parley.User
		admin.get(path(other), &got)
		if got.Role != parley.RoleSupervisor {
			t.Errorf("role after the change: %s", got.Role)
		}
		admin.get(path(admin), &got)
		if got.Role != parley.RoleAdmin || !got.Active {
			t.Errorf("refused changes changed the admin: %+v", got)
		}
		s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": "boss@example.com", "password": testPassword}).
			wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)

		admin.do("POST", "/api/v1/users", newUser("admin2@example.com", parley.RoleAdmin)).want(http.StatusCreated).decode(&u)
		if u.Role != parley.RoleAdmin {
			t.Errorf("created %+v", u)
		}
		s.login(t, "admin2@example.com", testPassword)
		admin.do("POST", "/api/v1/users", newUser("ADMIN2@example.com", parley.RoleMember)).wantErr(http.StatusConflict, parley.ECONFLICT)
		admin.do("POST", "/api/v1/users", newUser("bad", parley.RoleMember)).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("POST", "/api/v1/users", newUser("r@example.com", "root")).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PATCH", path(admin), map[string]any{"role": "member"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PATCH", path(other), map[string]any{"role": "owner"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PATCH", "/api/v1/users/999999", map[string]any{"name": "Ghost"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin.do("PATCH", path(other), map[string]any{"email": "ADMIN2@example.com"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		admin.do("PATCH", path(other), map[string]any{"email": "not an address"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PATCH", path(other), map[string]any{"email": "Olga.New@Example.com"}).want(http.StatusOK).decode(&got)
		if got.Email != "olga.new@example.com" {
			t.Errorf("e-mail after the change: %q", got.Email)
		}
		s.login(t, "olga.new@example.com", testPassword)
	})
}

func TestGroups(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	member := s.newUser(t, parley.RoleMember, "Max Member")
	agent := s.newUser(t, parley.RoleAgent, "Aga Agent")

	groups := func(c *client) map[int64]*parley.Group {
		var l httpapi.GroupList
		c.get("/api/v1/groups", &l)
		out := map[int64]*parley.Group{}
		for _, g := range l.Groups {
			out[g.ID] = g
		}
		return out
	}
	if len(groups(member)) != 0 {
		t.Fatal("a fresh server has groups")
	}

	var sales parley.Group
	admin.do("POST", "/api/v1/groups", map[string]any{"name": "Sales", "rights": []string{parley.RightDialogsDelete},
		"member_ids": []int64{member.id(), agent.id(), member.id()}}).want(http.StatusCreated).decode(&sales)
	if sales.ID == 0 || sales.Name != "Sales" || len(sales.MemberIDs) != 2 || len(sales.Rights) != 1 {
		t.Fatalf("created %+v", sales)
	}
	var north parley.Group
	admin.do("POST", "/api/v1/groups", map[string]any{"name": "Sales North", "parent_id": sales.ID}).want(http.StatusCreated).decode(&north)

	// Everyone browses the tree; users show their groups.
	gs := groups(member)
	if len(gs) != 2 || gs[north.ID].ParentID != sales.ID {
		t.Errorf("groups as a member sees them: %+v", gs)
	}
	var u parley.User
	member.get("/api/v1/users/"+itoa(agent.id()), &u)
	if len(u.Groups) != 1 || u.Groups[0].ID != sales.ID || u.Groups[0].Name != "Sales" {
		t.Errorf("agent's groups: %+v", u.Groups)
	}
	var page httpapi.UserPage
	member.get(fmt.Sprintf("/api/v1/users?group_id=%d", sales.ID), &page)
	if len(page.Users) != 2 {
		t.Errorf("users of Sales: %+v", page.Users)
	}

	before := groups(admin)
	t.Run("a member cannot create or change groups", func(t *testing.T) {
		member.do("POST", "/api/v1/groups", map[string]any{"name": "Mine"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("PUT", "/api/v1/groups/"+itoa(sales.ID), map[string]any{"name": "Taken over", "member_ids": []int64{member.id()}}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		member.do("DELETE", "/api/v1/groups/"+itoa(sales.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	})
	t.Run("bad groups are refused", func(t *testing.T) {
		admin.do("POST", "/api/v1/groups", map[string]any{"name": " "}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "X", "rights": []string{"root"}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "X", "member_ids": []int64{999999}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "X", "parent_id": 999999}).wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PUT", "/api/v1/groups/"+itoa(sales.ID), map[string]any{"name": "Sales", "parent_id": north.ID}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		admin.do("PUT", "/api/v1/groups/999999", map[string]any{"name": "Ghost"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	})
	if after := groups(admin); len(after) != len(before) || after[sales.ID].Name != "Sales" || len(after[sales.ID].MemberIDs) != 2 {
		t.Fatalf("refused changes changed the groups: %+v", after)
	}

	// Rights come from groups: a users.manage group lets its members manage
	// groups, but they cannot grant a right they do not hold.
	var hr parley.Group
	admin.do("POST", "/api/v1/groups", map[string]any{"name": "HR", "rights": []string{parley.RightUsersManage},
		"member_ids": []int64{agent.id()}}).want(http.StatusCreated).decode(&hr)
	agent.do("POST", "/api/v1/groups", map[string]any{"name": "Chat admins", "rights": []string{parley.RightChatSettings}}).
		wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	var sub parley.Group
	agent.do("POST", "/api/v1/groups", map[string]any{"name": "Support", "rights": []string{parley.RightUsersManage}}).
		want(http.StatusCreated).decode(&sub)

	var renamed parley.Group
	admin.do("PUT", "/api/v1/groups/"+itoa(sales.ID), map[string]any{"name": "Sales & Marketing", "member_ids": []int64{member.id()}}).
		want(http.StatusOK).decode(&renamed)
	if renamed.Name != "Sales & Marketing" || len(renamed.MemberIDs) != 1 || len(renamed.Rights) != 0 {
		t.Errorf("replaced group %+v", renamed)
	}
	admin.do("DELETE", "/api/v1/groups/"+itoa(sales.ID), nil).want(http.StatusNoContent)
	gs = groups(member)
	if gs[sales.ID] != nil || gs[north.ID] == nil || gs[north.ID].ParentID != 0 {
		t.Errorf("after deleting Sales: %+v (its child moves to the top)", gs)
	}
	admin.do("DELETE", "/api/v1/groups/"+itoa(sales.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
}

func TestDirectoryAndFriends(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	alice := s.newUser(t, parley.RoleMember, "Alice Anderson")
	bob := s.newUser(t, parley.RoleMember, "Bob Brown")
	carol := s.newUser(t, parley.RoleAgent, "Carol Cooper")

	search := func(q string) []string {
		var p httpapi.UserPage
		alice.get("/api/v1/users?q="+q, &p)
		var names []string
		for _, u := range p.Users {
			names = append(names, u.Name)
		}
		return names
	}
	for q, want := range map[string][]string{
		"ander":          {"Alice Anderson"},
		"BROWN":          {"Bob Brown"},
		"bob.":           {"Bob Brown"}, // e-mail
		"carol.3%40exam": {"Carol Cooper"},
		"example.com":    {"Alice Anderson", "Bob Brown", "Carol Cooper"},
		"zzz":            nil,
		"%25":            nil, // a literal %, not a wildcard
		"_":              nil,
	} {
		if got := search(q); !sameStrings(got, want) {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
	// Paging through the directory returns everyone once.
	var seen []string
	cursor := ""
	for range 10 {
		var p httpapi.UserPage
		alice.get("/api/v1/users?limit=2&cursor="+cursor, &p)
		for _, u := range p.Users {
			seen = append(seen, u.Name)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if !sameStrings(seen, []string{"Alice Anderson", "Bob Brown", "Carol Cooper"}) {
		t.Errorf("paged directory: %q", seen)
	}
	var p httpapi.UserPage
	alice.get(fmt.Sprintf("/api/v1/users?ids=%d,%d", bob.id(), carol.id()), &p)
	if len(p.Users) != 2 {
		t.Errorf("ids filter: %+v", p.Users)
	}
	for _, u := range p.Users {
		if u.Presence != parley.PresenceOffline {
			t.Errorf("%s has presence %q with no device", u.Name, u.Presence)
		}
	}

	friends := func(c *client) []int64 {
		var p httpapi.UserPage
		c.get("/api/v1/friends", &p)
		var ids []int64
		for _, u := range p.Users {
			ids = append(ids, u.ID)
		}
		return ids
	}
	if got := friends(alice); len(got) != 0 {
		t.Errorf("friends at start: %v", got)
	}
	alice.do("PUT", "/api/v1/friends/"+itoa(bob.id()), nil).want(http.StatusNoContent)
	alice.do("PUT", "/api/v1/friends/"+itoa(bob.id()), nil).want(http.StatusNoContent) // idempotent
	alice.do("PUT", "/api/v1/friends/"+itoa(carol.id()), nil).want(http.StatusNoContent)
	alice.do("PUT", "/api/v1/friends/"+itoa(alice.id()), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	alice.do("PUT", "/api/v1/friends/999999", nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	if got := friends(alice); len(got) != 2 {
		t.Errorf("friends after adding Bob and Carol: %v", got)
	}
	if got := friends(bob); len(got) != 0 {
		t.Errorf("Bob's friends are %v; the list is Alice's own", got)
	}
	alice.do("DELETE", "/api/v1/friends/"+itoa(bob.id()), nil).want(http.StatusNoContent)
	if got := friends(alice); len(got) != 1 || got[0] != carol.id() {
		t.Errorf("friends after removing Bob: %v", got)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	alice, bob := s.newUser(t, parley.RoleMember, "Alice"), s.newUser(t, parley.RoleMember, "Bob")
	var set parley.Settings
	alice.get("/api/v1/me/settings", &set)
	if set != parley.DefaultSettings() {
		t.Errorf("new user's settings %+v, want the defaults", set)
	}
	want := parley.Settings{DesktopNotifications: false, TypingNotifications: true, SendOnEnter: false, Sound: false, AlwaysScrollToEnd: true}
	alice.do("PUT", "/api/v1/me/settings", want).want(http.StatusOK).decode(&set)
	if set != want {
		t.Errorf("PUT answered %+v", set)
	}
	alice.get("/api/v1/me/settings", &set)
	if set != want {
		t.Errorf("settings after PUT: %+v, want %+v", set, want)
	}
	bob.get("/api/v1/me/settings", &set)
	if set != parley.DefaultSettings() {
		t.Errorf("Bob's settings changed with Alice's: %+v", set)
	}
	alice.do("PUT", "/api/v1/me/settings", map[string]any{"sound": "loud"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	alice.do("PUT", "/api/v1/me/settings", map[string]any{"sound": true, "theme": "dark"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	alice.get("/api/v1/me/settings", &set)
	if set != want {
		t.Errorf("refused PUTs changed the settings: %+v", set)
	}
}
