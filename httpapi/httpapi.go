// Package httpapi is Parley's HTTP transport: JSON handlers under /api/v1,
// authentication (session cookie with CSRF protection, bearer tokens),
// health and metrics endpoints and the OpenAPI document. Handlers decode,
// call a service and encode; every rule lives in the services.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/calls"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/internal/jsontext"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/realtime"
	"github.com/parley-chat/parley/reminders"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/webhooks"
)

// Cookie names. The session cookie is HttpOnly; the CSRF cookie is read by
// the web app and echoed in the X-CSRF-Token header.
const (
	SessionCookie = "parley_session"
	CSRFCookie    = "parley_csrf"
	// DeviceCookie holds the browser's device token: a browser that signed
	// in to an account before keeps its own budget of failed attempts.
	DeviceCookie = "parley_device"
	CSRFHeader   = "X-CSRF-Token"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// Server holds what the handlers call.
type Server struct {
	Accounts  *accounts.Service
	Messaging *messaging.Service
	Reminders *reminders.Service
	Presence  *presence.Tracker
	LiveChat  *livechat.Service
	Channels  *channel.Service  // nil: no channel routes
	Webhooks  *webhooks.Service // nil: no webhook routes
	Routing   *routing.Service  // nil: no distribution routes
	Gateway   *realtime.Gateway
	Calls     *calls.Service // nil: no call routes
	// Ready reports whether the node can serve (database, bus).
	Ready func(ctx context.Context) error
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// PublicURL is the server's address as the outside reaches it; a
	// webhook's signature may cover the URL the service called.
	PublicURL string
	// UploadTempDir holds uploads sent without Content-Length while
	// they are read ("": the system's temporary directory).
	UploadTempDir string
	// Web serves everything outside /api (the web app), if set.
	Web    http.Handler
	Logger *slog.Logger
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry

	requests *prometheus.HistogramVec
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "parley_http_request_duration_seconds", Help: "HTTP requests by route and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "code"})
	s.Registry.MustRegister(s.requests)
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("OPTIONS /api/v1/widget/", s.widgetPreflight)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	if s.Web != nil {
		mux.Handle("/", s.Web)
	}
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
	visitorKey
)

func actor(r *http.Request) *parley.User { u, _ := r.Context().Value(userKey).(*parley.User); return u }

func session(r *http.Request) *parley.Session {
	s, _ := r.Context().Value(sessionKey).(*parley.Session)
	return s
}

// wrap adds authentication, CSRF protection, error encoding and metrics
// to a route's handler.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		// Services read the client's address for the audit log.
		r = r.WithContext(parley.WithClientAddr(r.Context(), s.clientAddr(r)))
		err := s.serve(sw, r, rt)
		if err != nil {
			switch {
			case parley.ErrorCode(err) != parley.EINTERNAL:
			case r.Context().Err() != nil:
				// The client hung up mid-request: not the server's failure.
				s.Logger.Debug("request abandoned", "method", r.Method, "path", r.URL.Path, "err", err)
			default:
				s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(sw, err)
		}
		if rt.Path != "/api/v1/ws" {
			s.requests.WithLabelValues(rt.Method+" "+rt.Path, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		}
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) error {
	if rt.Widget {
		return s.serveWidget(w, r, rt)
	}
	if rt.Public {
		return rt.Handle(s, w, r)
	}
	token, fromCookie := bearer(r)
	u, sess, err := s.Accounts.Authenticate(r.Context(), token)
	if err != nil {
		return err
	}
	if fromCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A cookie is sent by the browser on any site's request; only
		// the web app can read the CSRF cookie and echo it.
		if h := r.Header.Get(CSRFHeader); h == "" || h != sess.CSRF {
			return parley.Errorf(parley.EFORBIDDEN, "missing or wrong %s header", CSRFHeader)
		}
	}
	if !rt.Setup {
		pending, err := s.Accounts.MustSetUpTwoFactor(r.Context(), u)
		if err != nil {
			return err
		}
		if pending {
			return parley.Errorf(parley.ESETUPTWOFACTOR, "the organisation requires administrators to use two-factor sign-in: set it up first")
		}
	}
	ctx := context.WithValue(context.WithValue(r.Context(), userKey, u), sessionKey, sess)
	return rt.Handle(s, w, r.WithContext(ctx))
}

// bearer returns the request's token: the Authorization header, else the
// session cookie (fromCookie true).
func bearer(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return "", false
		}
		return strings.TrimSpace(t), false
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusOf maps an error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case parley.EINVALID:
		return http.StatusBadRequest
	case parley.EUNAUTHORIZED, parley.ETWOFACTOR:
		return http.StatusUnauthorized
	case parley.EFORBIDDEN, parley.ESETUPTWOFACTOR:
		return http.StatusForbidden
	case parley.ENOTFOUND:
		return http.StatusNotFound
	case parley.ECONFLICT:
		return http.StatusConflict
	case parley.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case parley.ERATELIMITED:
		return http.StatusTooManyRequests
	case parley.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, err error) {
	code := parley.ErrorCode(err)
	body := ErrorBody{Error: ErrorDetail{Code: code, Message: parley.ErrorMessage(err)}}
	var pe *parley.Error
	retry := 10 * time.Second
	if errors.As(err, &pe) {
		body.Error.Field = pe.Field
		if pe.RetryAfter > 0 {
			retry = pe.RetryAfter
		}
	}
	if code == parley.ERATELIMITED {
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	}
	writeJSON(w, statusOf(code), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// decode reads a JSON body into v, whatever its Content-Type says (scripts
// often send JSON as a form; cookie sessions are protected by the CSRF
// header, not by the type). It refuses bodies over the limit,
// invalid UTF-8, unpaired surrogate escapes, unknown fields, wrong types and trailing data, with an
// EINVALID naming the problem; nothing has been changed at that point.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return parley.Invalid("body", "reading the body: %v", err)
	}
	if len(body) > maxJSONBody {
		return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", maxJSONBody)
	}
	if err := jsontext.Check(body, "body"); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return parley.Invalid(field, "%s must be %s", field, jsonKind(te.Type.Kind().String()))
		case strings.Contains(err.Error(), "Time.UnmarshalJSON"):
			return parley.Invalid("body", "times must be RFC 3339 strings, e.g. 2025-01-31T09:00:00Z")
		case errors.As(err, &se):
			return parley.Invalid("body", "malformed JSON at byte %d", se.Offset)
		case errors.Is(err, io.EOF):
			return parley.Invalid("body", "a JSON body is required")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return parley.Invalid("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return parley.Invalid("body", "malformed JSON: %v", err)
	}
	if dec.More() {
		return parley.Invalid("body", "unexpected data after the JSON value")
	}
	return nil
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice":
		return "an array"
	}
	return "an object"
}

// pathID parses the {name} path value as a positive ID.
func pathID(r *http.Request, name string) (int64, error) {
	return parseID(r.PathValue(name), name)
}

func parseID(s, name string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Invalid(name, "%s must be a positive integer", name)
	}
	return id, nil
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, parley.Invalid(name, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// queryInts reads a comma-separated list of non-negative integers; nil
// when the parameter is absent.
func queryInts(r *http.Request, name string) ([]int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	var out []int64
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n < 0 {
			return nil, parley.Invalid(name, "%s must be a comma-separated list of non-negative integers", name)
		}
		out = append(out, n)
	}
	return out, nil
}

// queryStrings reads a comma-separated list; nil when absent.
func queryStrings(r *http.Request, name string) []string {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil
	}
	out := strings.Split(v, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

func queryBool(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, parley.Invalid(name, "%s must be true or false", name)
}

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, parley.Invalid(name, "%s must be an RFC 3339 time", name)
	}
	return t, nil
}

// clientAddr is the address login attempts are limited by.
func (s *Server) clientAddr(r *http.Request) string {
	if s.TrustProxy {
		// The last address is the one the trusted proxy appended; those
		// before it are whatever the client sent.
		if fs := r.Header.Values("X-Forwarded-For"); len(fs) > 0 {
			f := fs[len(fs)-1]
			return strings.TrimSpace(f[strings.LastIndexByte(f, ',')+1:])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) setDeviceCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: token, Path: "/api/v1/auth/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (s *Server) setSessionCookies(w http.ResponseWriter, token string, sess *parley.Session) {
	maxAge := 0
	if !sess.ExpiresAt.IsZero() {
		maxAge = int(time.Until(sess.ExpiresAt).Seconds())
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: sess.CSRF, Path: "/", MaxAge: maxAge,
		Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func clearSessionCookies(w http.ResponseWriter) {
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1})
	}
}
