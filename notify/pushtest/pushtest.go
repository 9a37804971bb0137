// Package pushtest is a push service for tests, on 127.0.0.1, that does
// what a browser vendor's does with a push: it checks the VAPID
// authorization (RFC 8292: an ES256 JWT signed by the key it names, for
// this origin, not expired), decrypts the aes128gcm payload with the
// subscription's private key (RFC 8188, RFC 8291) and answers 201 Created
// — or 410 Gone for a subscription the test expired.
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the push service.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	subs     map[string]*Sub
	vapidKey string // the application server's key, once known
	pushes   []Push
	errs     []error
	notify   chan struct{}
}

// Sub is one browser's subscription: its keys and endpoint.
type Sub struct {
	ID       string
	Endpoint string
	P256DH   string // base64url, as a browser gives it
	Auth     string
	priv     *ecdh.PrivateKey
	secret   []byte
	gone     bool
}

// Push is a push the service accepted, decrypted.
type Push struct {
	Sub     string
	Payload []byte
	TTL     string
	Urgency string
	Topic   string
	Subject string // the JWT's sub
}

// New starts a push service on 127.0.0.1, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{subs: map[string]*Sub{}, notify: make(chan struct{}, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the service's origin.
func (s *Server) URL() string { return s.srv.URL }

// ExpectVAPIDKey makes every push that names another application server
// key fail (403), as a subscription made with key would.
func (s *Server) ExpectVAPIDKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vapidKey = key
}

// Subscribe makes a browser's subscription.
func (s *Server) Subscribe() *Sub {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	id := rand.Text()
	sub := &Sub{ID: id, Endpoint: s.srv.URL + "/push/" + id, priv: priv, secret: secret,
		P256DH: base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:   base64.RawURLEncoding.EncodeToString(secret)}
	s.mu.Lock()
	s.subs[id] = sub
	s.mu.Unlock()
	return sub
}

// JSON is the subscription as PushSubscription.toJSON gives it.
func (sub *Sub) JSON() map[string]any {
	return map[string]any{"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256DH, "auth": sub.Auth}}
}

// Expire makes the service answer 410 Gone to the subscription's pushes.
func (s *Server) Expire(sub *Sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.gone = true
}

// Pushes returns the pushes accepted so far.
func (s *Server) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Push(nil), s.pushes...)
}

// Errors returns the pushes refused as malformed, and why.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Wait waits until n pushes were accepted (or a push was refused as
// malformed: the test fails) and returns them.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Push {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, errs := len(s.pushes), len(s.errs)
		s.mu.Unlock()
		if errs > 0 {
			t.Fatalf("the push service refused a push: %v", s.Errors())
		}
		if got >= n {
			return s.Pushes()
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("%d pushes after %v, want %d", got, timeout, n)
		}
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	s.mu.Lock()
	sub := s.subs[id]
	gone := sub != nil && sub.gone
	key := s.vapidKey
	s.mu.Unlock()
	if r.Method != http.MethodPost || !ok || sub == nil {
		http.NotFound(w, r)
		return
	}
	p, status, err := s.check(r, sub, key)
	if err != nil {
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
		s.poke()
		http.Error(w, err.Error(), status)
		return
	}
	if gone {
		w.WriteHeader(http.StatusGone)
		return
	}
	s.mu.Lock()
	s.pushes = append(s.pushes, p)
	s.mu.Unlock()
	s.poke()
	w.Header().Set("Location", s.srv.URL+"/message/"+rand.Text())
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) poke() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// check verifies a push and decrypts it.
func (s *Server) check(r *http.Request, sub *Sub, wantKey string) (Push, int, error) {
	p := Push{Sub: sub.ID, TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")}
	if p.TTL == "" {
		return p, 400, errors.New("no TTL header (RFC 8030 5.2)")
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return p, 415, fmt.Errorf("Content-Encoding %q, want aes128gcm (RFC 8291 4)", ce)
	}
	sender, subject, err := s.vapid(r.Header.Get("Authorization"), wantKey)
	if err != nil {
		return p, 403, err
	}
	p.Subject = subject
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return p, 400, err
	}
	if len(body) > 4096 {
		return p, 413, errors.New("payload over 4096 bytes (RFC 8030 7.2)")
	}
	_ = sender
	p.Payload, err = decrypt(body, sub.priv, sub.secret)
	if err != nil {
		return p, 400, err
	}
	return p, 0, nil
}

// vapid checks "vapid t=JWT, k=KEY" (RFC 8292 3) and returns the key and
// the JWT's subject.
func (s *Server) vapid(header, wantKey string) (key, subject string, err error) {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return "", "", fmt.Errorf("Authorization %q is not the vapid scheme", header)
	}
	var token string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			key = v
		}
	}
	if token == "" || key == "" {
		return "", "", errors.New("vapid authorization without t= or k=")
	}
	if wantKey != "" && key != wantKey {
		return "", "", errors.New("the push names another application server key than the subscription's")
	}
	kb, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return "", "", fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return "", "", fmt.Errorf("k is not a P-256 public key: %w", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", errors.New("the JWT has not three parts")
	}
	var head struct{ Alg, Typ string }
	if err := decodePart(parts[0], &head); err != nil || head.Alg != "ES256" {
		return "", "", fmt.Errorf("JWT header %+v (%v), want alg ES256", head, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", "", errors.New("the JWT signature is not 64 bytes of r||s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "", "", errors.New("the JWT signature does not verify with k")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return "", "", err
	}
	if claims.Aud != s.srv.URL {
		return "", "", fmt.Errorf("JWT aud %q, want the push service's origin %q", claims.Aud, s.srv.URL)
	}
	now := time.Now().Unix()
	if claims.Exp <= now || claims.Exp > now+24*3600 {
		return "", "", fmt.Errorf("JWT exp %d is not within 24 hours from now (%d)", claims.Exp, now)
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return "", "", fmt.Errorf("JWT sub %q is not a mailto: or https: contact", claims.Sub)
	}
	return key, claims.Sub, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// decrypt opens an aes128gcm body (RFC 8188 2) whose key derives from the
// user agent's key pair and authentication secret (RFC 8291 3.4).
func decrypt(body []byte, ua *ecdh.PrivateKey, authSecret []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("the body is shorter than its header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid of %d bytes, want the sender's 65-byte public key (RFC 8291 4)", idlen)
	}
	asPublic := body[21 : 21+idlen]
	records := body[21+idlen:]
	if rs < 18 || len(records) > int(rs) {
		return nil, fmt.Errorf("record size %d for %d bytes: a push is one record", rs, len(records))
	}
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("keyid is not a P-256 point: %w", err)
	}
	shared, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	prkKey, err := hkdf.Extract(sha256.New, shared, authSecret)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(asPublic)
	ikm, err := hkdf.Expand(sha256.New, prkKey, info, 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, records, nil)
	if err != nil {
		return nil, fmt.Errorf("the payload does not decrypt with the subscription's keys: %w", err)
	}
	// The last (only) record ends with the delimiter 2, then padding
	// zeros (RFC 8188 2).
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("the last record does not end with the delimiter 0x02")
	}
	return plain[:len(plain)-1], nil
}
