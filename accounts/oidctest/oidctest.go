// Package oidctest is an OpenID Connect provider on 127.0.0.1 for tests:
// it publishes a discovery document (OpenID Connect Discovery 1.0) and a
// key set (RS256), approves every authorization request at once for the
// person it is set to (no login page), and answers the token endpoint
// only for the right code (once), client secret, redirect_uri and PKCE
// verifier (RFC 7636, S256), with an ID token signed by its key.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Person is who the provider signs in.
type Person struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// AMR lists the authentication methods (RFC 8176), e.g. "pwd", "otp".
	AMR []string
}

// Options configure the provider.
type Options struct {
	ClientID, ClientSecret string
	// RedirectURIs are the registered callbacks; empty: any.
	RedirectURIs []string
	Person       Person
}

// Provider is a running provider.
type Provider struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	sign jose.Signer
	opts Options

	mu    sync.Mutex
	codes map[string]grant
	// Tampering for tests: lifetime of ID tokens (default 5 minutes; a
	// negative one issues expired tokens), and a nonce to put in place
	// of the one asked for.
	lifetime time.Duration
	nonce    string
	// Requests counts token endpoint calls and what they were refused for.
	refusals []string
}

type grant struct {
	clientID, redirectURI, nonce, challenge string
	person                                  Person
}

// New starts a provider, stopped when the test ends.
func New(tb testing.TB, opts Options) *Provider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	sign, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "test-key", Algorithm: "RS256", Use: "sig"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	p := &Provider{key: key, sign: sign, opts: opts, codes: map[string]grant{}, lifetime: 5 * time.Minute}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	tb.Cleanup(p.Close)
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.srv.URL }

// Close stops the provider.
func (p *Provider) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// SetPerson changes who the next authorizations sign in.
func (p *Provider) SetPerson(who Person) {
	p.mu.Lock()
	p.opts.Person = who
	p.mu.Unlock()
}

// SetLifetime sets the lifetime of the ID tokens issued next (negative:
// already expired).
func (p *Provider) SetLifetime(d time.Duration) {
	p.mu.Lock()
	p.lifetime = d
	p.mu.Unlock()
}

// SetNonce makes the next ID tokens carry this nonce instead of the one
// the client asked for ("": the right one).
func (p *Provider) SetNonce(n string) {
	p.mu.Lock()
	p.nonce = n
	p.mu.Unlock()
}

// Refusals lists why token requests were refused, in order.
func (p *Provider) Refusals() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.refusals...)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                p.Issuer() + "/authorize",
		"token_endpoint":                        p.Issuer() + "/token",
		"jwks_uri":                              p.Issuer() + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "amr", "nonce"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "test-key", Algorithm: "RS256", Use: "sig"}}})
}

// authorize approves at once and sends the browser back with a code; a
// bad request is answered as the specification says: an error at the
// redirect_uri, or a plain 400 when the redirect_uri itself is wrong.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != p.opts.ClientID || !p.allowedRedirect(redirect) {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		http.Redirect(w, r, redirect+sep+params.Encode(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		back(url.Values{"error": {"invalid_scope"}, "error_description": {"openid is required"}})
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	}
	code := randomString()
	p.mu.Lock()
	p.codes[code] = grant{clientID: q.Get("client_id"), redirectURI: redirect, nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), person: p.opts.Person}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

func (p *Provider) allowedRedirect(u string) bool {
	if u == "" {
		return false
	}
	if len(p.opts.RedirectURIs) == 0 {
		return true
	}
	for _, r := range p.opts.RedirectURIs {
		if r == u {
			return true
		}
	}
	return false
}

func (p *Provider) refuse(w http.ResponseWriter, status int, code, why string) {
	p.mu.Lock()
	p.refusals = append(p.refusals, why)
	p.mu.Unlock()
	writeJSON(w, status, map[string]string{"error": code, "error_description": why})
}

// token exchanges a code (RFC 6749 4.1.3) for an ID token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.refuse(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		p.refuse(w, http.StatusUnauthorized, "invalid_client", "wrong client id or secret")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		p.refuse(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code) // a code works once, right or wrong
	lifetime, nonce := p.lifetime, p.nonce
	p.mu.Unlock()
	if !ok || g.clientID != id {
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "PKCE verifier does not match the challenge")
		return
	}
	if nonce == "" {
		nonce = g.nonce
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer(), "sub": g.person.Subject, "aud": id, "iat": now.Unix(), "exp": now.Add(lifetime).Unix(),
		"nonce": nonce, "email": g.person.Email, "email_verified": g.person.EmailVerified, "name": g.person.Name,
	}
	if len(g.person.AMR) > 0 {
		claims["amr"] = g.person.AMR
	}
	payload, _ := json.Marshal(claims)
	jws, err := p.sign.Sign(payload)
	if err != nil {
		p.refuse(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	idToken, err := jws.CompactSerialize()
	if err != nil {
		p.refuse(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomString(), "token_type": "Bearer",
		"expires_in": int(lifetime.Seconds()), "id_token": idToken})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
