package main

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/accounts/oidctest"
	"github.com/parley-chat/parley/channel/email/emailtest"
	"github.com/parley-chat/parley/httpapi"
)

// withMailer sends Parley's own mail to a local SMTP server.
func withMailer(smtp *emailtest.SMTP) serverOption {
	return func(c *Config) { c.SMTPURL, c.MailFrom = smtp.URL(), "Parley <parley@example.com>" }
}

var mailLink = regexp.MustCompile(`http://[0-9.:]+/(invite|reset)/([A-Za-z0-9_-]+)`)

func tokenInMail(t *testing.T, m emailtest.Mail) string {
	t.Helper()
	got := mailLink.FindSubmatch(m.Data)
	if got == nil {
		t.Fatalf("no link in the mail:\n%s", m.Data)
	}
	return string(got[2])
}

// TestAccountsByMail: an administrator invites by e-mail, the mail
// arrives, the invitee accepts and is signed in; a password reset by
// e-mail ends the old sessions; used links change nothing; the audit log
// exports what happened.
func TestAccountsByMail(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		smtp := emailtest.NewSMTP(t, emailtest.SMTPOptions{NoAuth: true})
		s := newServer(t, append(opts, withPublicURL(), withMailer(smtp))...)
		admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
		member := s.newUser(t, parley.RoleMember, "Mel Member")
		var g parley.Group
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "Support"}).want(http.StatusCreated).decode(&g)

		// A member cannot invite.
		member.do("POST", "/api/v1/invites", map[string]any{"email": "x@example.com"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)

		var sent accounts.InviteSent
		admin.do("POST", "/api/v1/invites", map[string]any{"email": "nina@example.com", "role": "agent", "group_ids": []int64{g.ID}}).
			want(http.StatusCreated).decode(&sent)
		if !sent.Mailed || sent.Link != "" {
			t.Fatalf("invitation %+v", sent)
		}
		var list httpapi.InviteList
		admin.get("/api/v1/invites", &list)
		if len(list.Invites) != 1 || !list.Mailer || list.Invites[0].Email != "nina@example.com" {
			t.Fatalf("pending %+v", list)
		}
		token := tokenInMail(t, smtp.WaitSent(t, 1)[0])
		s.logs.secret(token)

		anon := s.anon(t)
		var info accounts.InviteInfo
		anon.get("/api/v1/auth/invites/"+token, &info)
		if info.Email != "nina@example.com" || info.Role != parley.RoleAgent {
			t.Fatalf("info %+v", info)
		}
		var in httpapi.LoginOutput
		anon.do("POST", "/api/v1/auth/invites/accept", map[string]any{"token": token, "name": "Nina", "password": "nina-password"}).
			want(http.StatusOK).decode(&in)
		s.logs.secret(in.Token)
		nina := &client{s: s, t: t, token: in.Token, header: http.Header{}}
		if me := nina.me(); me.Email != "nina@example.com" || me.Role != parley.RoleAgent || len(me.Groups) != 1 {
			t.Fatalf("signed in as %+v", me)
		}
		// The link worked once; a second try changes nothing.
		anon.do("POST", "/api/v1/auth/invites/accept", map[string]any{"token": token, "name": "Eve", "password": "eve-password"}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin.get("/api/v1/invites", &list)
		if len(list.Invites) != 0 {
			t.Fatalf("still pending %+v", list.Invites)
		}

		// Password reset by e-mail: the same answer for anyone.
		var r1, r2 httpapi.ResetRequested
		anon.do("POST", "/api/v1/auth/password-reset", map[string]any{"email": "nobody@example.com"}).want(http.StatusAccepted).decode(&r1)
		anon.do("POST", "/api/v1/auth/password-reset", map[string]any{"email": "nina@example.com"}).want(http.StatusAccepted).decode(&r2)
		if r1 != r2 {
			t.Fatalf("answers differ: %q, %q", r1.Message, r2.Message)
		}
		mails := smtp.WaitSent(t, 2)
		if mails[1].To[0] != "nina@example.com" {
			t.Fatalf("reset mail to %v", mails[1].To)
		}
		reset := tokenInMail(t, mails[1])
		s.logs.secret(reset)
		anon.do("POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": reset, "password": "nina-new-password"}).
			want(http.StatusNoContent)
		nina.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		anon.do("POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": reset, "password": "another-password"}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		s.login(t, "nina@example.com", "nina-new-password")

		// The audit log, exported.
		r := admin.do("GET", "/api/v1/audit/export?format=csv&since=2000-01-01T00:00:00Z", nil).want(http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export headers %v", r.Header)
		}
		rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, row := range rows[1:] {
			actions = append(actions, row[4])
		}
		if got := strings.Join(actions, " "); got != "audit.exported user.password_reset invite.accepted user.invited" {
			t.Fatalf("exported actions %q", got)
		}
		member.do("GET", "/api/v1/audit/export", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		admin.do("GET", "/api/v1/audit/export?since=yesterday", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	})
}

// TestInviteWithoutMailer: with no mail server the administrator gets the
// link to pass on, and is told so.
func TestInviteWithoutMailer(t *testing.T) {
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	var sent accounts.InviteSent
	admin.do("POST", "/api/v1/invites", map[string]any{"email": "nina@example.com"}).want(http.StatusCreated).decode(&sent)
	if sent.Mailed || !strings.Contains(sent.MailError, "--smtp-url") || !strings.HasPrefix(sent.Link, s.url+"/invite/") {
		t.Fatalf("without a mailer: %+v", sent)
	}
	s.logs.secret(sent.Link[strings.LastIndexByte(sent.Link, '/')+1:])
	var avail httpapi.ResetAvailability
	s.anon(t).get("/api/v1/auth/password-reset", &avail)
	if avail.Available {
		t.Fatal("reset by e-mail offered without a mailer")
	}
	s.anon(t).do("POST", "/api/v1/auth/password-reset", map[string]any{"email": "nina@example.com"}).wantErr(http.StatusConflict, parley.ECONFLICT)
}

// TestOIDCSignIn runs the whole sign-in through a local provider as a
// browser does: start, the provider, the callback with the flow's cookie.
func TestOIDCSignIn(t *testing.T) {
	s := newServer(t, withPublicURL())
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	member := s.newUser(t, parley.RoleMember, "Mel Member")
	p := oidctest.New(t, oidctest.Options{ClientID: "parley", ClientSecret: "client-secret",
		RedirectURIs: []string{s.url + "/api/v1/auth/oidc/callback"},
		Person:       oidctest.Person{Subject: "42", Email: member.user.Email, EmailVerified: true, Name: "Mel"}})
	s.logs.secret("client-secret")
	set := map[string]any{"enabled": true, "issuer": p.Issuer(), "client_id": "parley", "client_secret": "client-secret", "button_label": "Company"}
	member.do("PUT", "/api/v1/oidc", set).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	var got accounts.OIDCSettings
	admin.do("PUT", "/api/v1/oidc", set).want(http.StatusOK).decode(&got)
	if got.ClientSecret != "" || !got.ClientSecretSet {
		t.Fatalf("settings answer %+v", got)
	}
	admin.do("GET", "/api/v1/oidc", nil).want(http.StatusOK).decode(&got)
	if got.ClientSecret != "" || got.Issuer != p.Issuer() {
		t.Fatalf("settings %+v", got)
	}
	var pub accounts.OIDCPublic
	s.anon(t).get("/api/v1/auth/oidc", &pub)
	if !pub.Enabled || pub.Label != "Company" {
		t.Fatalf("public %+v", pub)
	}

	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer browser.CloseIdleConnections()
	get := func(u string, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		return resp
	}
	cookie := func(resp *http.Response, name string) *http.Cookie {
		for _, c := range resp.Cookies() {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	// flow signs in and returns the callback's answer; tamper may change
	// the callback URL or drop the cookie.
	flow := func(tamper func(cb *url.URL, c **http.Cookie)) *http.Response {
		start := get(s.url + "/api/v1/auth/oidc/start")
		flowCookie := cookie(start, httpapi.OIDCCookie)
		if flowCookie == nil || !flowCookie.HttpOnly {
			t.Fatalf("start set no HttpOnly flow cookie: %v", start.Cookies())
		}
		authz := get(start.Header.Get("Location"))
		cb, _ := url.Parse(authz.Header.Get("Location"))
		if tamper != nil {
			tamper(cb, &flowCookie)
		}
		if flowCookie == nil {
			return get(cb.String())
		}
		return get(cb.String(), flowCookie)
	}
	resp := flow(nil)
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("callback sent the browser to %q", resp.Header.Get("Location"))
	}
	sess := cookie(resp, httpapi.SessionCookie)
	if sess == nil {
		t.Fatal("no session cookie")
	}
	s.logs.secret(sess.Value)
	mel := &client{s: s, t: t, token: sess.Value, cookie: true, header: http.Header{}}
	if me := mel.me(); me.ID != member.user.ID {
		t.Fatalf("signed in as %+v", me)
	}

	refused := func(name, want string, tamper func(cb *url.URL, c **http.Cookie)) {
		t.Helper()
		resp := flow(tamper)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Path != "/" || !strings.Contains(loc.Query().Get("sign_in_error"), want) || cookie(resp, httpapi.SessionCookie) != nil {
			t.Fatalf("%s: sent to %q, want a sign-in error with %q", name, resp.Header.Get("Location"), want)
		}
	}
	refused("wrong state", "did not start in this browser", func(cb *url.URL, _ **http.Cookie) {
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
	})
	refused("no flow cookie", "did not start in this browser", func(_ *url.URL, c **http.Cookie) { *c = nil })
	p.SetPerson(oidctest.Person{Subject: "7", Email: "stranger@example.com", EmailVerified: true})
	refused("unknown user", "no Parley account", nil)
	off := false
	p.SetPerson(oidctest.Person{Subject: "42", Email: member.user.Email, EmailVerified: true})
	admin.do("PATCH", "/api/v1/users/"+itoa(member.user.ID), map[string]any{"active": off}).want(http.StatusOK)
	refused("deactivated", "deactivated", nil)

	// The audit log has the settings change, not the secret.
	var page accounts.AuditPage
	admin.get("/api/v1/audit?action=oidc.settings_changed", &page)
	if len(page.Entries) != 1 || strings.Contains(string(page.Entries[0].Detail), "client-secret") {
		t.Fatalf("audit %+v", page.Entries)
	}
}

// TestLanguageSetting: a user's language is one of their preferences
// (GET/PUT /me/settings); a language the app does not speak is refused
// with the field named and changes nothing; each user has their own.
func TestLanguageSetting(t *testing.T) {
	s := newServer(t)
	ann := s.newUser(t, parley.RoleAgent, "Ann Agent")
	bob := s.newUser(t, parley.RoleMember, "Bob Member")
	var set parley.Settings
	ann.get("/api/v1/me/settings", &set)
	if set.Language != "" {
		t.Fatalf("a new user's language is the browser's (\"\"), got %q", set.Language)
	}
	set.Language = "ru"
	ann.do("PUT", "/api/v1/me/settings", set).want(http.StatusOK)
	for _, bad := range []string{"de", "RU", "ru-RU", " en"} {
		set.Language = bad
		if d := ann.do("PUT", "/api/v1/me/settings", set).wantErr(http.StatusBadRequest, parley.EINVALID); d.Field != "language" {
			t.Fatalf("language %q: the error names %q, not language", bad, d.Field)
		}
	}
	var got, other parley.Settings
	ann.get("/api/v1/me/settings", &got)
	bob.get("/api/v1/me/settings", &other)
	if got.Language != "ru" || other.Language != "" {
		t.Fatalf("Ann's language %q (want ru), Bob's %q (want \"\")", got.Language, other.Language)
	}
}
