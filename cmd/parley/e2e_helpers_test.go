package main

// The end-to-end tests start the whole server in-process on port 0 and talk
// to it over real HTTP (and, where the behaviour needs a connected device,
// a real WebSocket). This file holds the test server, a small API client
// and the assertions they share.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// testServer is a running Parley on 127.0.0.1:<random port>.
type testServer struct {
	t    testing.TB
	m    *Main
	url  string
	http *http.Client
	logs *serverLog
	n    atomic.Int64 // for unique e-mail addresses

	stopOnce sync.Once
}

type serverOption func(*Config)

var pgStart sync.Mutex

// withDatabase runs the server on the given database URL.
func withDatabase(dsn string) serverOption { return func(c *Config) { c.Database = dsn } }

// withPublicURL gives the server a public URL, as a deployment that
// services call back has: its port is chosen before it starts.
func withPublicURL() serverOption {
	return func(c *Config) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		c.Addr = ln.Addr().String()
		c.PublicURL = "http://" + c.Addr
		ln.Close()
	}
}

// withDataDir runs the server on a data directory a previous one used.
func withDataDir(dir string) serverOption { return func(c *Config) { c.DataDir = dir } }

// testConfig is what every test server starts from: DefaultConfig with a
// random port, a fresh data directory, cheap password hashing and limits
// generous enough that only the tests about limits meet them.
func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PasswordMemoryKiB = 64
	cfg.LoginRate = 1e6
	cfg.SendRate = 1e6
	cfg.SendBurst = 1e6
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.DrainDelay = 0 // TestDrain sets it
	return cfg
}

// newServer starts a server and stops it when the test ends. Anything the
// server logs at error level fails the test (an internal error is a bug),
// and so does any log record with a password, hash or token in it.
func newServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	cfg := testConfig(t)
	for _, o := range opts {
		o(&cfg)
	}
	logs := &serverLog{}
	m := NewMain(cfg)
	m.Logger = slog.New(logs)
	if strings.HasPrefix(cfg.Database, "postgres") {
		// Migrations take a database-wide advisory lock and retry it only
		// every few seconds: servers of this package start one at a time.
		pgStart.Lock()
		defer pgStart.Unlock()
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	s := &testServer{t: t, m: m, url: m.URL(), logs: logs,
		// Redirects are answers to check (sign-in with a provider), not to follow.
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(s.stop)
	return s
}

// stop shuts the server down (once) and reports what it logged as errors.
func (s *testServer) stop() {
	s.stopOnce.Do(func() {
		s.http.CloseIdleConnections()
		if err := s.m.Close(); err != nil {
			s.t.Errorf("closing the server: %v", err)
		}
		for _, p := range s.logs.problems() {
			s.t.Errorf("server log: %s", p)
		}
	})
}

// eachDB runs fn as a subtest on SQLite and on PostgreSQL (a fresh schema of
// PARLEY_TEST_POSTGRES; skipped without it, a failure under CI).
func eachDB(t *testing.T, fn func(t *testing.T, opts ...serverOption)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, withDatabase(postgresURL(t)))
	})
}

// postgresURL is a fresh, empty schema in the test PostgreSQL.
func postgresURL(t testing.TB) string {
	t.Helper()
	return sqltest.PostgresURL(t)
}

// serverLog is a slog handler that keeps every record the server logs, at
// every level, to check what must never be logged.
type serverLog struct {
	mu      sync.Mutex
	all     []string
	errs    []string
	secrets []string // tokens handed out; never to be logged
}

func (l *serverLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *serverLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.all = append(l.all, b.String())
	if r.Level >= slog.LevelError {
		l.errs = append(l.errs, b.String())
	}
	l.mu.Unlock()
	return nil
}
func (l *serverLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *serverLog) WithGroup(string) slog.Handler      { return l }

// secret records a token the server handed out.
func (l *serverLog) secret(s string) {
	l.mu.Lock()
	l.secrets = append(l.secrets, s)
	l.mu.Unlock()
}

// logged reports whether some record contains s.
func (l *serverLog) logged(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rec := range l.all {
		if strings.Contains(rec, s) {
			return true
		}
	}
	return false
}

// problems returns the error records and every record with a secret.
func (l *serverLog) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]string(nil), l.errs...)
	for _, rec := range l.all {
		for _, s := range append([]string{testPassword, "argon2"}, l.secrets...) {
			if strings.Contains(rec, s) {
				out = append(out, fmt.Sprintf("a secret (%.8s…) is logged: %s", s, rec))
			}
		}
	}
	return out
}

// client is one signed-in user (or nobody, with an empty token).
type client struct {
	s     *testServer
	t     testing.TB
	token string
	csrf  string
	// cookie sends the session as the browser does, in the cookie, instead
	// of the Authorization header.
	cookie bool
	user   parley.User
	// header is added to every request.
	header http.Header
}

// anon is a client that has not signed in.
func (s *testServer) anon(t testing.TB) *client {
	return &client{s: s, t: t, header: http.Header{}}
}

// newUser creates an active user directly through the accounts service
// (the operator's path, like `parley user create`) and signs them in over
// HTTP. name may be empty.
func (s *testServer) newUser(t testing.TB, role parley.Role, name string) *client {
	t.Helper()
	n := s.n.Add(1)
	if name == "" {
		name = fmt.Sprintf("User %d", n)
	}
	email := fmt.Sprintf("%s.%d@example.com", strings.ToLower(strings.Fields(name)[0]), n)
	if _, err := s.m.Accounts.CreateUser(context.Background(), nil, accounts.NewUser{
		Email: email, Name: name, Password: testPassword, Role: role}); err != nil {
		t.Fatalf("creating %s: %v", email, err)
	}
	return s.login(t, email, testPassword)
}

// login signs in over HTTP and returns the signed-in client.
func (s *testServer) login(t testing.TB, email, password string) *client {
	t.Helper()
	var out httpapi.LoginOutput
	s.anon(t).do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}).
		want(http.StatusOK).decode(&out)
	if out.Token == "" || out.User == nil || out.CSRFToken == "" {
		t.Fatalf("login answered %+v", out)
	}
	return &client{s: s, t: t, token: out.Token, csrf: out.CSRFToken, user: *out.User, header: http.Header{}}
}

// response is an answer from the server.
type response struct {
	t      testing.TB
	req    string
	Status int
	Body   []byte
	Header http.Header
}

// do sends a request. body is nil (none), []byte or string (sent as is),
// an io.Reader (streamed, no length) or anything else (encoded as JSON).
// Every answer is checked for what must never leave the server.
func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	var rd io.Reader
	var length int64 = -1
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, length = bytes.NewReader(b), int64(len(b))
	case string:
		rd, length = strings.NewReader(b), int64(len(b))
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, length = bytes.NewReader(j), int64(len(j))
	}
	req, err := http.NewRequest(method, c.s.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if length >= 0 {
		req.ContentLength = length
		if length == 0 {
			req.Body = http.NoBody
		}
	}
	if rd != nil {
		if _, raw := body.(io.Reader); !raw {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.token != "" {
		if c.cookie {
			req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.token})
		} else {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
	}
	resp, err := c.s.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	r := &response{t: c.t, req: method + " " + path, Status: resp.StatusCode, Body: data, Header: resp.Header}
	observed.add(c.t.Name(), method, path, resp.StatusCode)
	var issued struct {
		Token string `json:"token"`
		CSRF  string `json:"csrf_token"`
	}
	if json.Unmarshal(data, &issued) == nil {
		for _, s := range []string{issued.Token, issued.CSRF} {
			if s != "" {
				c.s.logs.secret(s)
			}
		}
	}
	if resp.StatusCode >= 500 {
		c.t.Errorf("%s: server error %d: %s", r.req, resp.StatusCode, data)
	}
	for _, secret := range []string{"argon2", "password_hash", "token_hash", testPassword} {
		if bytes.Contains(bytes.ToLower(data), []byte(secret)) {
			c.t.Errorf("%s: the answer contains %q: %s", r.req, secret, data)
		}
	}
	if resp.StatusCode >= 400 && strings.HasPrefix(path, "/api/") {
		var e httpapi.ErrorBody
		if err := json.Unmarshal(data, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			c.t.Errorf("%s: error %d without the error shape: %s", r.req, resp.StatusCode, data)
		}
	}
	return r
}

// want fails the test unless the status is one of codes.
func (r *response) want(codes ...int) *response {
	r.t.Helper()
	for _, c := range codes {
		if r.Status == c {
			return r
		}
	}
	r.t.Fatalf("%s: status %d, want %v; body: %s", r.req, r.Status, codes, r.Body)
	return r
}

// decode decodes the JSON body into v.
func (r *response) decode(v any) *response {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("%s: decoding %s: %v", r.req, r.Body, err)
	}
	return r
}

// wantErr checks the status and error code and returns the error.
func (r *response) wantErr(status int, code string) httpapi.ErrorDetail {
	r.t.Helper()
	r.want(status)
	var e httpapi.ErrorBody
	r.decode(&e)
	if e.Error.Code != code {
		r.t.Fatalf("%s: error code %q, want %q; body: %s", r.req, e.Error.Code, code, r.Body)
	}
	return e.Error
}

// Shortcuts for what many tests do.

func (c *client) get(path string, out any) {
	c.t.Helper()
	c.do("GET", path, nil).want(http.StatusOK).decode(out)
}

func (c *client) me() parley.User {
	c.t.Helper()
	var u parley.User
	c.get("/api/v1/me", &u)
	return u
}

func (c *client) id() int64 { return c.user.ID }

type convView = messaging.ConversationView

func (c *client) conversation(id int64) convView {
	c.t.Helper()
	var v convView
	c.get(fmt.Sprintf("/api/v1/conversations/%d", id), &v)
	return v
}

func (c *client) conversations() []*convView {
	c.t.Helper()
	var p httpapi.ConversationPage
	c.get("/api/v1/conversations?limit=200", &p)
	return p.Conversations
}

// listed returns the conversation as it appears in the user's list, or nil.
func (c *client) listed(id int64) *convView {
	c.t.Helper()
	for _, v := range c.conversations() {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// direct opens (or requests) the direct conversation with u.
func (c *client) direct(u *client) convView {
	c.t.Helper()
	var v convView
	c.do("POST", "/api/v1/conversations/direct", map[string]int64{"user_id": u.id()}).want(http.StatusOK).decode(&v)
	return v
}

// directAllowed opens a direct conversation between c and u and allows it.
func (c *client) directAllowed(u *client) convView {
	c.t.Helper()
	v := c.direct(u)
	u.do("POST", fmt.Sprintf("/api/v1/conversations/%d/allow", v.ID), nil).want(http.StatusOK)
	return c.conversation(v.ID)
}

// group creates a multi-chat of c and others.
func (c *client) group(title string, others ...*client) convView {
	c.t.Helper()
	ids := make([]int64, len(others))
	for i, o := range others {
		ids[i] = o.id()
	}
	var v convView
	c.do("POST", "/api/v1/conversations/group", map[string]any{"title": title, "user_ids": ids}).
		want(http.StatusCreated).decode(&v)
	return v
}

// send sends a text message and returns it.
func (c *client) send(convID int64, text string) parley.Message {
	c.t.Helper()
	return c.sendBody(convID, map[string]any{"text": text})
}

func (c *client) sendBody(convID int64, body any) parley.Message {
	c.t.Helper()
	var m parley.Message
	c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", convID), body).want(http.StatusCreated).decode(&m)
	return m
}

// history returns a page of history with the given query ("" for the
// newest page).
func (c *client) history(convID int64, query string) []*parley.Message {
	c.t.Helper()
	var p httpapi.MessagePage
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", convID)
	if query != "" {
		path += "?" + query
	}
	c.get(path, &p)
	return p.Messages
}

// texts returns the text messages' texts, in order (system lines skipped).
func texts(msgs []*parley.Message) []string {
	out := []string{}
	for _, m := range msgs {
		if m.Kind != parley.MsgEvent {
			out = append(out, m.Text)
		}
	}
	return out
}

func (c *client) search(query string) []*parley.Message {
	c.t.Helper()
	var p httpapi.MessagePage
	c.get("/api/v1/search?"+query, &p)
	return p.Messages
}

// upload uploads data as a file with the given name and content type.
func (c *client) upload(name, contentType string, data []byte) *response {
	c.t.Helper()
	hc := *c
	hc.header = c.header.Clone()
	hc.header.Set("Content-Type", contentType)
	return hc.do("POST", "/api/v1/files?name="+url.QueryEscape(name), data)
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func memberIDs(v convView) []int64 {
	var ids []int64
	for _, m := range v.Members {
		ids = append(ids, m.UserID)
	}
	return ids
}

func hasMember(v convView, id int64) bool {
	for _, m := range v.Members {
		if m.UserID == id {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// filesIn counts the files under dir (the disk blob store).
func filesIn(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or a generous timeout passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// socket is a real-time connection of a client.
type socket struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan map[string]any
	err    error // why reading ended, set before frames closes
}

// connect opens the client's WebSocket as a fresh client and starts
// reading its frames.
func (c *client) connect() *socket {
	c.t.Helper()
	return c.connectAt(0)
}

// connectAt opens the client's WebSocket resuming from cursor (0: fresh).
func (c *client) connectAt(cursor int64) *socket {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := strings.Replace(c.s.url, "http://", "ws://", 1) + fmt.Sprintf("/api/v1/ws?cursor=%d", cursor)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + c.token}}})
	if err != nil {
		c.t.Fatalf("connecting the WebSocket: %v", err)
	}
	return newSocket(c.t, ws)
}

// newSocket starts reading a connected WebSocket's frames.
func newSocket(t testing.TB, ws *websocket.Conn) *socket {
	ws.SetReadLimit(16 << 20)
	s := &socket{t: t, ws: ws, frames: make(chan map[string]any, 1024)}
	go func() {
		defer close(s.frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				s.err = err
				return
			}
			// One WebSocket message carries an array of frames.
			var batch []map[string]any
			if json.Unmarshal(data, &batch) != nil {
				var f map[string]any
				if json.Unmarshal(data, &f) != nil {
					continue
				}
				batch = append(batch, f)
			}
			for _, f := range batch {
				select {
				case s.frames <- f:
				default: // the test is not reading these
				}
			}
		}
	}()
	t.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	return s
}

// waitFor returns the first frame of the given type, with a generous timeout.
func (s *socket) waitFor(typ string) map[string]any {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("the WebSocket closed while waiting for %s", typ)
			}
			if f["type"] == typ {
				return f
			}
		case <-timeout:
			s.t.Fatalf("timed out waiting for a %s frame", typ)
		}
	}
}

// closed waits for the server to close the socket and returns its status.
func (s *socket) closed() websocket.StatusCode {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case _, ok := <-s.frames:
			if !ok {
				return websocket.CloseStatus(s.err)
			}
		case <-timeout:
			s.t.Fatalf("timed out waiting for the server to close the WebSocket")
		}
	}
}
