package accounts_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/accounts/oidctest"
)

const callback = "https://chat.example.com/api/v1/auth/oidc/callback"

// signIn runs the flow as a browser would: start, follow the provider's
// redirect, and come back with its code and state; change may tamper
// with the callback before Parley sees it.
func signIn(t *testing.T, e *env, change func(cb *accounts.OIDCCallback)) (*accounts.SignedIn, error) {
	t.Helper()
	ctx := context.Background()
	start, err := e.acc.BeginOIDC(ctx, callback)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), callback) {
		t.Fatalf("provider answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	cb := accounts.OIDCCallback{Cookie: start.Cookie, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		RedirectURL: callback, Addr: "127.0.0.1", Client: "test"}
	if change != nil {
		change(&cb)
	}
	return e.acc.FinishOIDC(ctx, cb)
}

func TestOIDC(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false)
	p := oidctest.New(t, oidctest.Options{ClientID: "parley", ClientSecret: "s3cret", RedirectURIs: []string{callback},
		Person: oidctest.Person{Subject: "1", Email: "mel@example.com", EmailVerified: true, Name: "Mel"}})

	// Settings: administrators only; the secret is write-only.
	set := accounts.OIDCSettings{Enabled: true, Issuer: p.Issuer(), ClientID: "parley", ClientSecret: "s3cret", ButtonLabel: "Company SSO"}
	if _, err := e.acc.SetOIDC(ctx, e.member, set); code(err) != parley.EFORBIDDEN {
		t.Fatalf("member sets OIDC: %v", err)
	}
	if _, err := e.acc.OIDC(ctx, e.member); code(err) != parley.EFORBIDDEN {
		t.Fatalf("member reads OIDC: %v", err)
	}
	for _, bad := range []accounts.OIDCSettings{
		{Enabled: true, Issuer: "http://idp.example.com", ClientID: "parley", ClientSecret: "x"}, // http off this machine
		{Enabled: true, Issuer: p.Issuer() + "/nothing-here", ClientID: "parley", ClientSecret: "x"},
		{Enabled: true, Issuer: p.Issuer(), ClientID: "parley"}, // no secret
		{Enabled: true, Issuer: p.Issuer(), ClientID: "parley", ClientSecret: "x", SignupRole: parley.RoleAdmin},
	} {
		if _, err := e.acc.SetOIDC(ctx, e.admin, bad); code(err) != parley.EINVALID {
			t.Fatalf("settings %+v: %v", bad, err)
		}
	}
	if pub, _ := e.acc.OIDCPublic(ctx); pub.Enabled {
		t.Fatal("refused settings turned the provider on")
	}
	got, err := e.acc.SetOIDC(ctx, e.admin, set)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != "" || !got.ClientSecretSet {
		t.Fatalf("settings answer %+v", got)
	}
	// Saving again without the secret keeps it.
	set.ClientSecret = ""
	if _, err := e.acc.SetOIDC(ctx, e.admin, set); err != nil {
		t.Fatal(err)
	}
	if pub, _ := e.acc.OIDCPublic(ctx); !pub.Enabled || pub.Label != "Company SSO" {
		t.Fatalf("public %+v", pub)
	}
	page, _ := e.acc.AuditLog(ctx, e.admin, parley.AuditFilter{Action: parley.AuditOIDCSettings})
	if len(page.Entries) != 2 || strings.Contains(string(page.Entries[1].Detail), "s3cret") {
		t.Fatalf("audit %+v", page.Entries)
	}

	// The whole flow signs Mel in.
	in, err := signIn(t, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.User.ID != e.member.ID {
		t.Fatalf("signed in as %+v", in.User)
	}
	if u, _, err := e.acc.Authenticate(ctx, in.Token); err != nil || u.ID != e.member.ID {
		t.Fatalf("session: %v", err)
	}

	refused := func(name, want string, change func(cb *accounts.OIDCCallback)) {
		t.Helper()
		if _, err := signIn(t, e, change); code(err) != parley.EUNAUTHORIZED || !strings.Contains(parley.ErrorMessage(err), want) {
			t.Fatalf("%s: %v, want unauthorized with %q", name, err, want)
		}
	}
	refused("wrong state", "did not start in this browser", func(cb *accounts.OIDCCallback) { cb.State = "forged" })
	refused("no cookie", "did not start in this browser", func(cb *accounts.OIDCCallback) { cb.Cookie = "" })
	refused("another browser's flow", "did not start in this browser", func(cb *accounts.OIDCCallback) {
		other, _ := e.acc.BeginOIDC(ctx, callback)
		cb.Cookie = other.Cookie
	})
	// The cookie's verifier is someone else's: the provider refuses PKCE.
	refused("wrong verifier", "did not accept", func(cb *accounts.OIDCCallback) {
		parts := strings.Split(cb.Cookie, ".")
		cb.Cookie = parts[0] + "." + parts[1] + ".x" + parts[2]
	})
	if r := p.Refusals(); len(r) == 0 || !strings.Contains(r[len(r)-1], "PKCE") {
		t.Fatalf("provider refusals %q", r)
	}
	refused("code used twice", "did not accept", func(cb *accounts.OIDCCallback) {
		ok := *cb
		if _, err := e.acc.FinishOIDC(ctx, ok); err != nil {
			t.Fatalf("first use: %v", err)
		}
	})
	refused("provider error", "refused: access_denied", func(cb *accounts.OIDCCallback) { cb.Error, cb.Code = "access_denied", "" })

	p.SetNonce("someone-elses")
	refused("wrong nonce", "nonce", nil)
	p.SetNonce("")
	p.SetLifetime(-time.Minute)
	refused("expired ID token", "expired", nil)
	p.SetLifetime(5 * time.Minute)

	p.SetPerson(oidctest.Person{Subject: "2", Email: "mel@example.com", EmailVerified: false})
	refused("unverified e-mail", "not verified", nil)
	p.SetPerson(oidctest.Person{Subject: "3", Email: "stranger@example.com", EmailVerified: true, Name: "Stranger"})
	refused("unknown user, sign-up off", "no Parley account", nil)
	if _, _, err := e.store.UserByEmail(ctx, "stranger@example.com"); code(err) != parley.ENOTFOUND {
		t.Fatal("a refused sign-in created an account")
	}

	// Parley's own second factor: the provider must report one (amr).
	p.SetPerson(oidctest.Person{Subject: "1", Email: "mel@example.com", EmailVerified: true, AMR: []string{"pwd"}})
	if _, err := e.store.Write(ctx, func(tx parley.Tx) error { return tx.SetTOTP(ctx, e.member.ID, "JBSWY3DPEHPK3PXP", true) }); err != nil {
		t.Fatal(err)
	}
	refused("two-factor account, no second factor at the provider", "two-factor", nil)
	p.SetPerson(oidctest.Person{Subject: "1", Email: "mel@example.com", EmailVerified: true, AMR: []string{"pwd", "otp"}})
	if in, err := signIn(t, e, nil); err != nil || in.User.ID != e.member.ID {
		t.Fatalf("two-factor account with the provider's second factor: %v", err)
	}
	p.SetPerson(oidctest.Person{Subject: "3", Email: "stranger@example.com", EmailVerified: true, Name: "Stranger"})

	// Sign-up on: the account is made with the default role.
	set.AllowSignup, set.SignupRole = true, parley.RoleAgent
	if _, err := e.acc.SetOIDC(ctx, e.admin, set); err != nil {
		t.Fatal(err)
	}
	in, err = signIn(t, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.User.Email != "stranger@example.com" || in.User.Role != parley.RoleAgent || in.User.Name != "Stranger" {
		t.Fatalf("created %+v", in.User)
	}

	// A deactivated account is refused.
	off := false
	if _, err := e.acc.UpdateUser(ctx, e.admin, in.User.ID, accounts.UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	refused("deactivated", "deactivated", nil)

	// Turned off: nothing starts.
	set.Enabled = false
	if _, err := e.acc.SetOIDC(ctx, e.admin, set); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.BeginOIDC(ctx, callback); code(err) != parley.ENOTFOUND {
		t.Fatalf("begin while off: %v", err)
	}
}
