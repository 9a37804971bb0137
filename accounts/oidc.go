package accounts

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parley-chat/parley"
)

// Sign-in with an OpenID Connect provider (Keycloak, Google, Entra ID,
// Authentik, ...): the authorization code flow with PKCE, a state bound to
// the browser by a cookie, a nonce in the ID token, and the ID token
// verified (signature by the provider's published keys, issuer, audience,
// expiry). The person is matched to a Parley account by a verified e-mail
// address; accounts may be created on first sign-in when the
// administrator allows it. The provider's own second factor counts:
// accounts with Parley's two-factor sign-in on are let in only when the
// ID token's amr claim says the provider asked for a second factor.

// OIDCSettings configure the provider (administrators). ClientSecret is
// write-only: it is never returned; an empty one keeps the stored secret.
type OIDCSettings struct {
	Enabled         bool   `json:"enabled"`
	Issuer          string `json:"issuer"`
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret,omitempty"`
	ClientSecretSet bool   `json:"client_secret_set"`
	// ButtonLabel names the provider on the sign-in page: "Sign in with
	// <label>".
	ButtonLabel string `json:"button_label"`
	// AllowSignup creates an account, with SignupRole, for a verified
	// address that has none (off: such people are refused).
	AllowSignup bool        `json:"allow_signup"`
	SignupRole  parley.Role `json:"signup_role"`
}

// OIDCPublic is what the sign-in page needs to know.
type OIDCPublic struct {
	Enabled bool   `json:"enabled"`
	Label   string `json:"label,omitempty"`
}

const oidcKey = "oidc"

// oidcCache keeps the provider's discovery document (and, inside it, the
// key set, which refreshes itself when a token names an unknown key).
type oidcCache struct {
	mu       sync.Mutex
	issuer   string
	provider *oidc.Provider
	once     sync.Once
	http     *http.Client
}

// client is the HTTP client that talks to the provider.
func (c *oidcCache) client() *http.Client {
	c.once.Do(func() {
		c.http = &http.Client{Timeout: 15 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	})
	return c.http
}

func (c *oidcCache) close() {
	c.client().CloseIdleConnections()
}

func (s *Service) oidcSettings(ctx context.Context) (OIDCSettings, error) {
	var o OIDCSettings
	err := s.store.Setting(ctx, oidcKey, &o)
	o.ClientSecretSet = o.ClientSecret != ""
	return o, err
}

// OIDC returns the provider settings (administrators), without the secret.
func (s *Service) OIDC(ctx context.Context, actor *parley.User) (OIDCSettings, error) {
	if !actor.IsAdmin() {
		return OIDCSettings{}, parley.Errorf(parley.EFORBIDDEN, "only an administrator may see the sign-in provider settings")
	}
	o, err := s.oidcSettings(ctx)
	o.ClientSecret = ""
	return o, err
}

// OIDCPublic says whether the sign-in page offers the provider.
func (s *Service) OIDCPublic(ctx context.Context) (OIDCPublic, error) {
	o, err := s.oidcSettings(ctx)
	if err != nil || !o.Enabled {
		return OIDCPublic{}, err
	}
	return OIDCPublic{Enabled: true, Label: o.ButtonLabel}, nil
}

// SetOIDC changes the provider settings (administrators; audited, the
// secret never). Turning it on reads the provider's discovery document, so
// a wrong issuer is reported now rather than at the first sign-in.
func (s *Service) SetOIDC(ctx context.Context, actor *parley.User, in OIDCSettings) (OIDCSettings, error) {
	if !actor.IsAdmin() {
		return OIDCSettings{}, parley.Errorf(parley.EFORBIDDEN, "only an administrator may change the sign-in provider")
	}
	old, err := s.oidcSettings(ctx)
	if err != nil {
		return OIDCSettings{}, err
	}
	in.Issuer = strings.TrimSpace(in.Issuer)
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.ButtonLabel = strings.Join(strings.Fields(in.ButtonLabel), " ")
	if in.Issuer != "" {
		u, err := url.Parse(in.Issuer)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))) {
			return OIDCSettings{}, parley.Invalid("issuer", "the issuer is an https:// URL (http:// only on this machine), e.g. https://keycloak.example.com/realms/staff")
		}
	}
	if len(in.Issuer) > 500 || len(in.ClientID) > 500 || len(in.ClientSecret) > 1000 {
		return OIDCSettings{}, parley.Invalid("issuer", "the issuer, client id or secret is too long")
	}
	if utf8.RuneCountInString(in.ButtonLabel) > 40 || !utf8.ValidString(in.ButtonLabel) {
		return OIDCSettings{}, parley.Invalid("button_label", "the button label has at most 40 characters")
	}
	if in.ButtonLabel == "" {
		in.ButtonLabel = "single sign-on"
	}
	if in.SignupRole == "" {
		in.SignupRole = parley.RoleMember
	}
	if !in.SignupRole.Valid() || in.SignupRole == parley.RoleAdmin {
		return OIDCSettings{}, parley.Invalid("signup_role", "accounts created on first sign-in are supervisors, agents or members")
	}
	secretChanged := in.ClientSecret != ""
	if !secretChanged {
		in.ClientSecret = old.ClientSecret
	}
	if in.Enabled {
		if in.Issuer == "" || in.ClientID == "" || in.ClientSecret == "" {
			return OIDCSettings{}, parley.Invalid("issuer", "the issuer, client id and client secret are needed to turn the provider on")
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.provider(dctx, in.Issuer, true)
		cancel()
		if err != nil {
			return OIDCSettings{}, parley.Invalid("issuer", "the provider's discovery document could not be read: %s", parley.ErrorMessage(err))
		}
	}
	in.ClientSecretSet = false
	err = s.write(ctx, func(tx parley.Tx) error {
		if err := tx.PutSetting(ctx, oidcKey, in); err != nil {
			return err
		}
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), parley.AuditOIDCSettings, "settings", 0, map[string]any{
			"enabled": in.Enabled, "issuer": in.Issuer, "client_id": in.ClientID, "secret_changed": secretChanged,
			"allow_signup": in.AllowSignup, "signup_role": in.SignupRole}))
	})
	if err != nil {
		return OIDCSettings{}, err
	}
	in.ClientSecret, in.ClientSecretSet = "", in.ClientSecret != ""
	return in, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// provider returns the issuer's provider, from the cache unless fresh.
func (s *Service) provider(ctx context.Context, issuer string, fresh bool) (*oidc.Provider, error) {
	c := &s.oidc
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fresh && c.issuer == issuer && c.provider != nil {
		return c.provider, nil
	}
	// The key set fetches keys later with this context's client; it must
	// outlive the request.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), c.client()), issuer)
	if err != nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "%v", err)
	}
	c.issuer, c.provider = issuer, p
	return p, nil
}

// OIDCStart is the start of a sign-in: the provider's URL to send the
// browser to, and the cookie binding the flow to this browser.
type OIDCStart struct {
	URL    string
	Cookie string
}

func (s *Service) oauth(ctx context.Context, redirectURL string) (*oauth2.Config, *oidc.Provider, OIDCSettings, error) {
	o, err := s.oidcSettings(ctx)
	if err != nil {
		return nil, nil, o, err
	}
	if !o.Enabled {
		return nil, nil, o, parley.Errorf(parley.ENOTFOUND, "sign-in with a provider is not set up")
	}
	p, err := s.provider(ctx, o.Issuer, false)
	if err != nil {
		return nil, nil, o, err
	}
	// client_secret_basic unless the provider says otherwise: it is the
	// specification's default, and guessing would spend the code on a
	// first attempt.
	ep := p.Endpoint()
	if ep.AuthStyle == oauth2.AuthStyleAutoDetect {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: ep, RedirectURL: redirectURL,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, p, o, nil
}

// BeginOIDC starts a sign-in; redirectURL is Parley's callback.
func (s *Service) BeginOIDC(ctx context.Context, redirectURL string) (*OIDCStart, error) {
	cfg, _, _, err := s.oauth(ctx, redirectURL)
	if err != nil {
		return nil, err
	}
	state, nonce, verifier := newSecret(), newSecret(), oauth2.GenerateVerifier()
	return &OIDCStart{URL: cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)),
		Cookie: state + "." + nonce + "." + verifier}, nil
}

// OIDCCallback is what the provider sent the browser back with.
type OIDCCallback struct {
	Cookie      string // the cookie BeginOIDC set
	State, Code string
	// Error and ErrorDescription: the provider refused (RFC 6749 4.1.2.1).
	Error, ErrorDescription string
	RedirectURL             string
	Addr, Client            string
}

// mfaMethods are the amr values (RFC 8176) that mean a second factor.
var mfaMethods = []string{"mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "retina", "vbm", "sc"}

// FinishOIDC completes a sign-in and opens a browser session.
func (s *Service) FinishOIDC(ctx context.Context, cb OIDCCallback) (*SignedIn, error) {
	denied := func(format string, args ...any) (*SignedIn, error) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, format, args...)
	}
	if !s.throttle.attempts.Allow(cb.Addr) {
		return nil, limited(s.throttle.attempts.Wait(cb.Addr), "too many sign-in attempts from your address; try again in a minute")
	}
	parts := strings.Split(cb.Cookie, ".")
	if len(parts) != 3 || cb.State == "" || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(cb.State)) != 1 {
		return denied("this sign-in did not start in this browser, or took too long; start again")
	}
	nonce, verifier := parts[1], parts[2]
	if cb.Error != "" {
		return denied("the sign-in provider refused: %s", clip(strings.TrimSpace(cb.Error+" "+cb.ErrorDescription), 200))
	}
	cfg, p, o, err := s.oauth(ctx, cb.RedirectURL)
	if err != nil {
		return nil, err
	}
	xctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.oidc.client()), 15*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(xctx, cb.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		s.log.Warn("oidc code exchange failed", "err", err)
		return denied("the sign-in provider did not accept the sign-in; start again")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return denied("the sign-in provider sent no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.ClientID, Now: s.opt.Now}).Verify(xctx, raw)
	if err != nil {
		s.log.Warn("oidc ID token refused", "err", err)
		return denied("the sign-in provider's ID token is not valid (%s)", tokenProblem(err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return denied("the ID token is not for this sign-in (nonce); start again")
	}
	var claims struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Name          string          `json:"name"`
		AMR           []string        `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		return denied("the ID token's claims could not be read")
	}
	email, err := normalizeEmail(claims.Email)
	if err != nil {
		return denied("the sign-in provider gave no e-mail address (ask for the email scope)")
	}
	if v := strings.Trim(string(claims.EmailVerified), `"`); v != "true" {
		return denied("the sign-in provider has not verified %s; verify it there first", email)
	}
	mfa := slices.ContainsFunc(claims.AMR, func(m string) bool { return slices.Contains(mfaMethods, m) })
	out := &SignedIn{Token: newSecret(), Device: newSecret()}
	err = s.write(ctx, func(tx parley.Tx) error {
		u, _, err := tx.UserByEmail(ctx, email)
		switch {
		case parley.ErrorCode(err) == parley.ENOTFOUND:
			if !o.AllowSignup {
				return parley.Errorf(parley.EUNAUTHORIZED, "%s has no Parley account; ask an administrator for an invitation", email)
			}
			name, err := normalizeName(claims.Name)
			if err != nil {
				name = email[:strings.IndexByte(email, '@')]
			}
			u = &parley.User{Email: email, Name: clip(name, maxName), Role: o.SignupRole, Active: true}
			if err := tx.CreateUser(ctx, u, ""); err != nil {
				return err
			}
			tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
			if err := tx.Audit(ctx, parley.NewAudit(ctx, u, s.now(), parley.AuditUserCreatedByOIDC, "user", u.ID,
				map[string]any{"issuer": o.Issuer, "role": u.Role})); err != nil {
				return err
			}
		case err != nil:
			return err
		case !u.Active || u.Bot:
			return parley.Errorf(parley.EUNAUTHORIZED, "this account is deactivated")
		case u.TwoFactor && !mfa:
			return parley.Errorf(parley.EUNAUTHORIZED, "this account uses two-factor sign-in, and the provider did not ask for a second factor: sign in with your password and code")
		}
		out.User = u
		out.Session = &parley.Session{UserID: u.ID, Kind: parley.SessionBrowser, TokenHash: tokenHash(out.Token), CSRF: newSecret(),
			ExpiresAt: s.now().Add(s.opt.SessionTTL), Client: clip(cb.Client, 200), Addr: clip(cb.Addr, 64)}
		if err := tx.AddKnownDevice(ctx, tokenHash(out.Device), u.ID); err != nil {
			return err
		}
		return tx.CreateSession(ctx, out.Session)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("signed in with the provider", "user_id", out.User.ID, "provider_mfa", mfa)
	return out, nil
}

// tokenProblem names what was wrong with an ID token, without its text.
func tokenProblem(err error) string {
	var exp *oidc.TokenExpiredError
	switch msg := err.Error(); {
	case errors.As(err, &exp):
		return "expired"
	case strings.Contains(msg, "audience"):
		return "wrong audience"
	case strings.Contains(msg, "issuer"):
		return "wrong issuer"
	case strings.Contains(msg, "signature"):
		return "bad signature"
	default:
		return "malformed"
	}
}
