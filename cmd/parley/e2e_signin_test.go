package main

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/httpapi"
)

// signIn posts the sign-in form and returns the answer.
func signIn(c *client, email, password string, extra map[string]string) *response {
	body := map[string]string{"email": email, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	return c.do("POST", "/api/v1/auth/login", body)
}

// signedIn turns a successful sign-in answer into a client.
func signedIn(t *testing.T, s *testServer, r *response) (*client, httpapi.LoginOutput) {
	t.Helper()
	var out httpapi.LoginOutput
	r.want(http.StatusOK).decode(&out)
	return &client{s: s, t: t, token: out.Token, csrf: out.CSRFToken, user: *out.User, header: http.Header{}}, out
}

// An office behind one address signs in at nine with the right passwords
// and nobody is refused; failures are limited per account and per
// address; a browser that signed in before keeps its own budget.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *Config) { c.LoginRate = 3 }) // 3 failures per account, 30 per address
	anon := s.anon(t)
	office := make([]*client, 100)
	devices := map[int64]string{}
	for i := range office {
		office[i] = s.newUser(t, parley.RoleMember, "")
	}
	// Nine o'clock: everyone signs in again from the same address.
	for _, c := range office {
		_, out := signedIn(t, s, signIn(anon, c.user.Email, testPassword, nil))
		if out.DeviceToken == "" {
			t.Fatal("a first sign-in from a client gets no device token")
		}
		devices[c.id()] = out.DeviceToken
	}
	alice, bob := office[0], office[1]

	// Someone guesses Alice's password: after three failures her account
	// is refused to anyone without her browser, with a real wait.
	for range 3 {
		signIn(anon, alice.user.Email, "guess", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	}
	r := signIn(anon, alice.user.Email, testPassword, nil)
	if e := r.wantErr(http.StatusTooManyRequests, parley.ERATELIMITED); !strings.Contains(e.Message, "this account") {
		t.Errorf("the refusal does not say why: %q", e.Message)
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Alice, from the browser she signed in with, is not locked out.
	signedIn(t, s, signIn(anon, alice.user.Email, testPassword, map[string]string{"device_token": devices[alice.id()]}))
	// Her device token does not help anyone with Bob's account.
	for range 3 {
		signIn(anon, bob.user.Email, "guess", map[string]string{"device_token": devices[alice.id()]}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	}
	signIn(anon, bob.user.Email, testPassword, nil).wantErr(http.StatusTooManyRequests, parley.ERATELIMITED)

	// Failures spread over many accounts exhaust the address's budget
	// (30): then only browsers known to their account get in from it.
	for i := range 24 {
		signIn(anon, "nobody"+strconv.Itoa(i)+"@example.com", "guess", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	}
	carol, dan := office[2], office[3]
	if e := signIn(anon, carol.user.Email, testPassword, nil).wantErr(http.StatusTooManyRequests, parley.ERATELIMITED); !strings.Contains(e.Message, "network") {
		t.Errorf("the address refusal does not say why: %q", e.Message)
	}
	signedIn(t, s, signIn(anon, dan.user.Email, testPassword, map[string]string{"device_token": devices[dan.id()]}))
	// A wrong password from a known browser still counts, on its own budget.
	for range 3 {
		signIn(anon, dan.user.Email, "typo", map[string]string{"device_token": devices[dan.id()]}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	}
	signIn(anon, dan.user.Email, testPassword, map[string]string{"device_token": devices[dan.id()]}).wantErr(http.StatusTooManyRequests, parley.ERATELIMITED)
	// Sessions already open are not affected.
	carol.me()
}

// totpCode is the authenticator app's code for secret at a time step
// offset from now (the server accepts one step either way).
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestTwoFactor(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ada := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	laptop := s.login(t, ada.user.Email, testPassword) // another session of Ada's
	anon := s.anon(t)

	var st accounts.TwoFactorStatus
	ada.get("/api/v1/me/two-factor", &st)
	if st.Enabled || st.Required {
		t.Fatalf("status before: %+v", st)
	}
	// Enabling needs a set-up first, then a code from it.
	ada.do("POST", "/api/v1/me/two-factor/enable", map[string]string{"code": "123456"}).wantErr(http.StatusConflict, parley.ECONFLICT)
	var setup accounts.TwoFactorSetup
	ada.do("POST", "/api/v1/me/two-factor/setup", nil).want(http.StatusOK).decode(&setup)
	if setup.Secret == "" || !strings.HasPrefix(setup.URL, "otpauth://totp/") || !strings.HasPrefix(setup.QR, "data:image/png;base64,") {
		t.Fatalf("set-up: %+v", setup)
	}
	if e := ada.do("POST", "/api/v1/me/two-factor/enable", map[string]string{"code": "000000"}).wantErr(http.StatusBadRequest, parley.EINVALID); e.Field != "code" {
		t.Errorf("field %q", e.Field)
	}
	signedIn(t, s, signIn(anon, ada.user.Email, testPassword, nil)) // still off: a wrong code changed nothing
	var on accounts.Rotated
	ada.do("POST", "/api/v1/me/two-factor/enable", map[string]string{"code": totpCode(t, setup.Secret, 0)}).want(http.StatusOK).decode(&on)
	if len(on.RecoveryCodes) != 10 || on.Token == "" || on.Token == ada.token {
		t.Fatalf("enabled: %+v", on)
	}
	adaCodes := slices.Clone(on.RecoveryCodes) // on is decoded into again
	// A privilege change rotates the token: the old one and the other
	// sessions are gone, the new one works.
	ada.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	laptop.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	ada.token, ada.csrf = on.Token, on.CSRFToken
	if !ada.me().TwoFactor {
		t.Error("the user does not show two-factor sign-in")
	}

	// Signing in now needs the code; a wrong one counts as a failure; a
	// code works once.
	signIn(anon, ada.user.Email, testPassword, nil).wantErr(http.StatusUnauthorized, parley.ETWOFACTOR)
	signIn(anon, ada.user.Email, "wrong", map[string]string{"code": totpCode(t, setup.Secret, 1)}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	signIn(anon, ada.user.Email, testPassword, map[string]string{"code": "000000"}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	next := totpCode(t, setup.Secret, 1)
	signedIn(t, s, signIn(anon, ada.user.Email, testPassword, map[string]string{"code": next}))
	signIn(anon, ada.user.Email, testPassword, map[string]string{"code": next}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	// A recovery code works once, with or without its dash.
	rc := adaCodes[3]
	signedIn(t, s, signIn(anon, ada.user.Email, testPassword, map[string]string{"code": strings.ToUpper(strings.ReplaceAll(rc, "-", ""))}))
	signIn(anon, ada.user.Email, testPassword, map[string]string{"code": rc}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	ada.get("/api/v1/me/two-factor", &st)
	if !st.Enabled || st.RecoveryCodes != 9 {
		t.Errorf("status after: %+v", st)
	}

	// The organisation requires it of administrators: another
	// administrator without it can only set it up.
	member := s.newUser(t, parley.RoleMember, "Max Member")
	member.do("PUT", "/api/v1/security", map[string]bool{"require_admin_two_factor": true}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	ben := s.newUser(t, parley.RoleAdmin, "Ben Admin")
	if e := ben.do("PUT", "/api/v1/security", map[string]bool{"require_admin_two_factor": true}).wantErr(http.StatusBadRequest, parley.EINVALID); e.Field != "require_admin_two_factor" {
		t.Errorf("field %q", e.Field)
	}
	ada.do("PUT", "/api/v1/security", map[string]bool{"require_admin_two_factor": true}).want(http.StatusOK)
	ben, out := signedIn(t, s, signIn(anon, ben.user.Email, testPassword, nil))
	if !out.TwoFactorSetupRequired {
		t.Error("the sign-in does not say two-factor set-up is required")
	}
	ben.do("GET", "/api/v1/conversations", nil).wantErr(http.StatusForbidden, parley.ESETUPTWOFACTOR)
	ben.do("GET", "/api/v1/users", nil).wantErr(http.StatusForbidden, parley.ESETUPTWOFACTOR)
	ben.me()
	ben.do("POST", "/api/v1/me/two-factor/setup", nil).want(http.StatusOK).decode(&setup)
	ben.do("POST", "/api/v1/me/two-factor/enable", map[string]string{"code": totpCode(t, setup.Secret, 0)}).want(http.StatusOK).decode(&on)
	ben.token, ben.csrf = on.Token, on.CSRFToken
	ben.do("GET", "/api/v1/conversations", nil).want(http.StatusOK)
	member.do("GET", "/api/v1/conversations", nil).want(http.StatusOK) // the rule is for administrators

	// Turning it off asks for the password and one of Ada's codes, and is
	// refused while the organisation requires it.
	ada.do("POST", "/api/v1/me/two-factor/disable", map[string]string{"password": testPassword, "code": adaCodes[5]}).
		wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	ada.do("PUT", "/api/v1/security", map[string]bool{"require_admin_two_factor": false}).want(http.StatusOK)
	if e := ada.do("POST", "/api/v1/me/two-factor/disable", map[string]string{"password": "wrong", "code": adaCodes[5]}).
		wantErr(http.StatusBadRequest, parley.EINVALID); e.Field != "password" {
		t.Errorf("field %q", e.Field)
	}
	for _, wrong := range []string{on.RecoveryCodes[0], totpCode(t, setup.Secret, 0), rc} { // Ben's code, Ben's app, a used code
		if e := ada.do("POST", "/api/v1/me/two-factor/disable", map[string]string{"password": testPassword, "code": wrong}).
			wantErr(http.StatusBadRequest, parley.EINVALID); e.Field != "code" {
			t.Errorf("field %q", e.Field)
		}
	}
	var off accounts.Rotated
	ada.do("POST", "/api/v1/me/two-factor/disable", map[string]string{"password": testPassword, "code": adaCodes[5]}).
		want(http.StatusOK).decode(&off)
	ada.token, ada.csrf = off.Token, off.CSRFToken
	if ada.me().TwoFactor {
		t.Error("still on")
	}
	signedIn(t, s, signIn(anon, ada.user.Email, testPassword, nil))
}

// Changing a password asks for the current one and rotates the session;
// a new role ends the user's browser sessions; sessions are listed with
// where they come from and can be ended.
func TestPasswordAndSessions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	alice := s.newUser(t, parley.RoleMember, "Alice")
	phone := s.login(t, alice.user.Email, testPassword)
	var tok httpapi.TokenOutput
	alice.do("POST", "/api/v1/me/tokens", map[string]string{"name": "deploy script"}).want(http.StatusCreated).decode(&tok)
	token := tok.Token
	script := &client{s: s, t: t, token: token, user: alice.user, header: http.Header{}}

	alice.do("PATCH", "/api/v1/me", map[string]string{"password": "a new password"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	if e := alice.do("POST", "/api/v1/me/password", map[string]string{"current_password": "wrong", "password": "a new password"}).
		wantErr(http.StatusBadRequest, parley.EINVALID); e.Field != "current_password" {
		t.Errorf("field %q", e.Field)
	}
	alice.do("POST", "/api/v1/me/password", map[string]string{"current_password": testPassword, "password": "short"}).
		wantErr(http.StatusBadRequest, parley.EINVALID)
	phone.me() // nothing changed
	s.login(t, alice.user.Email, testPassword)

	var list []parley.Session
	alice.get("/api/v1/me/tokens", &list)
	current := 0
	for _, x := range list {
		if x.Current {
			current++
			if x.Addr != "127.0.0.1" || x.Client == "" {
				t.Errorf("the current session does not say where it is from: %+v", x)
			}
		}
	}
	if len(list) != 4 || current != 1 {
		t.Fatalf("sessions: %+v", list)
	}

	var rot accounts.Rotated
	alice.do("POST", "/api/v1/me/password", map[string]string{"current_password": testPassword, "password": "a new password"}).
		want(http.StatusOK).decode(&rot)
	alice.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	phone.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	script.me() // API tokens are credentials of their own
	alice.token, alice.csrf = rot.Token, rot.CSRFToken
	alice.me()
	s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": alice.user.Email, "password": testPassword}).
		wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	other := s.login(t, alice.user.Email, "a new password")

	var ended httpapi.EndedOutput
	alice.do("POST", "/api/v1/me/tokens/sign-out-others", nil).want(http.StatusOK).decode(&ended)
	if ended.Ended != 1 {
		t.Errorf("ended %d sessions", ended.Ended)
	}
	other.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	alice.me()
	script.me()

	// A new role: Alice signs in again with a fresh token.
	admin.do("PATCH", "/api/v1/users/"+itoa(alice.id()), map[string]any{"role": "agent"}).want(http.StatusOK)
	alice.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	if s.login(t, alice.user.Email, "a new password").me().Role != parley.RoleAgent {
		t.Error("the role did not change")
	}
	// An administrator may set another user's password without the old
	// one; it ends that user's sessions.
	bob := s.newUser(t, parley.RoleMember, "Bob")
	admin.do("PATCH", "/api/v1/users/"+itoa(bob.id()), map[string]any{"password": "reset by admin"}).want(http.StatusOK)
	bob.do("GET", "/api/v1/me", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	s.login(t, bob.user.Email, "reset by admin")
	// Nobody else may.
	alice2 := s.login(t, alice.user.Email, "a new password")
	alice2.do("PATCH", "/api/v1/users/"+itoa(bob.id()), map[string]any{"password": "stolen account"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	s.login(t, bob.user.Email, "reset by admin")
}
