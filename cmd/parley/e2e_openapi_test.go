package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/internal/leaktest"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.golden.json from the server")

const goldenOpenAPI = "testdata/openapi.golden.json"

// isNoSuchEndpoint reports whether an answer is the router's generic 404,
// as opposed to a handler's "not found".
func isNoSuchEndpoint(r *response) bool {
	if r.Status != http.StatusNotFound {
		return false
	}
	var e httpapi.ErrorBody
	return json.Unmarshal(r.Body, &e) == nil && strings.HasPrefix(e.Error.Message, "no such endpoint")
}

// TestOpenAPI checks that the document lists exactly the routes the server
// serves, and keeps it under review through a golden file.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	r := s.anon(t).do("GET", "/api/v1/openapi.json", nil).want(http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	r.decode(&doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("not an OpenAPI 3 document: %.200s", r.Body)
	}

	// Every operation is served: none answers with the router's 404.
	// Requests use ids that exist nowhere and fresh sessions, so they
	// change nothing that matters (logout ends only its own session).
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	opIDs := map[string]string{}
	n := 0
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Errorf("path %s is outside /api/v1", path)
		}
		for method, op := range ops {
			n++
			id, _ := op["operationId"].(string)
			if id == "" || op["summary"] == "" || op["responses"] == nil {
				t.Errorf("%s %s lacks an operationId, summary or responses", method, path)
			}
			if prev, dup := opIDs[id]; dup {
				t.Errorf("operationId %s is used by %s and %s %s", id, prev, method, path)
			}
			opIDs[id] = method + " " + path
			c := s.login(t, admin.user.Email, testPassword)
			res := c.do(strings.ToUpper(method), param.ReplaceAllString(path, "987654"), nil)
			if isNoSuchEndpoint(res) {
				t.Errorf("%s %s is in the document but not served", strings.ToUpper(method), path)
			}
			checkSecurity(t, s, strings.ToUpper(method), param.ReplaceAllString(path, "987654"), op)
		}
	}
	if n < 40 {
		t.Errorf("only %d operations documented", n)
	}
	// What is not in the document is not served.
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/nothing-here"},
		{"GET", "/api/v1/conversations/1/secrets"},
		{"DELETE", "/api/v1/me"},
		{"POST", "/api/v1/openapi.json"},
		{"PUT", "/api/v1/conversations/1/messages"},
		{"GET", "/api/v2/me"},
	} {
		if doc.Paths[rt.path][strings.ToLower(rt.method)] != nil {
			t.Fatalf("%s %s is documented", rt.method, rt.path)
		}
		if res := admin.do(rt.method, rt.path, nil); !isNoSuchEndpoint(res) {
			t.Errorf("%s %s answered %d %s; want the router's 404", rt.method, rt.path, res.Status, res.Body)
		}
	}

	// The golden file shows every API change in review.
	var v any
	r.decode(&v)
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenOpenAPI), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenOpenAPI, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenOpenAPI)
	if err != nil {
		t.Fatalf("%v (create it with go test ./cmd/parley -run OpenAPI -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "<end>"
		}
		t.Errorf("the OpenAPI document differs from %s at line %d:\n got: %s\nwant: %s\n"+
			"if the change is intended, run go test ./cmd/parley -run OpenAPI -update and commit the file",
			goldenOpenAPI, i+1, line(gl), line(wl))
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a := s.newUser(t, parley.RoleMember, "Anna")
	a.me()
	anon := s.anon(t)
	if r := anon.do("GET", "/healthz", nil).want(http.StatusOK); !strings.Contains(string(r.Body), "ok") {
		t.Errorf("/healthz: %s", r.Body)
	}
	if r := anon.do("GET", "/readyz", nil).want(http.StatusOK); !strings.Contains(string(r.Body), "ready") {
		t.Errorf("/readyz: %s", r.Body)
	}
	r := anon.do("GET", "/metrics", nil).want(http.StatusOK)
	for _, metric := range []string{"parley_http_request_duration_seconds", `route="GET /api/v1/me"`,
		"parley_websocket_connections", "go_goroutines", "process_resident_memory_bytes"} {
		if !bytes.Contains(r.Body, []byte(metric)) {
			t.Errorf("/metrics lacks %s", metric)
		}
	}
	// Metrics are labelled by route pattern, never by the ids in paths.
	a.do("GET", "/api/v1/users/123456", nil).want(http.StatusNotFound)
	r = anon.do("GET", "/metrics", nil).want(http.StatusOK)
	if bytes.Contains(r.Body, []byte("123456")) || !bytes.Contains(r.Body, []byte(`route="GET /api/v1/users/{id}"`)) {
		t.Error("/metrics labels requests by their raw path")
	}
	if slices.Contains(r.Header["Content-Type"], "") {
		t.Error("/metrics without a content type")
	}
}

// observed records the status of every answer the tests' client got, by
// operation, so that TestMain can hold the OpenAPI document to them.
var observed = &statusLog{seen: map[string]map[int]string{}}

type statusLog struct {
	mu   sync.Mutex
	seen map[string]map[int]string // "METHOD /raw/path" → status → a test that saw it
}

func (l *statusLog) add(test, method, path string, status int) {
	path, _, _ = strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/api/") {
		return
	}
	key := method + " " + path
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[key] == nil {
		l.seen[key] = map[int]string{}
	}
	l.seen[key][status] = test
}

// undocumented returns every observed status the document does not list
// for its operation (a 2xx is covered by 2XX). Paths the document has no
// operation for are the router's 404s, which TestOpenAPI checks.
func (l *statusLog) undocumented(doc openAPIDoc) []string {
	type op struct {
		method string
		re     *regexp.Regexp
		params int
		codes  map[string]any
		name   string
	}
	var ops []op
	param := regexp.MustCompile(`\\\{[a-z_]+\\\}`)
	for path, methods := range doc.Paths {
		for method, o := range methods {
			re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
			codes, _ := o["responses"].(map[string]any)
			ops = append(ops, op{strings.ToUpper(method), re, strings.Count(path, "{"), codes, strings.ToUpper(method) + " " + path})
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	found := map[string]string{}
	for key, statuses := range l.seen {
		method, path, _ := strings.Cut(key, " ")
		// The most specific template wins, as in the router.
		var match *op
		for i := range ops {
			o := &ops[i]
			if o.method == method && o.re.MatchString(path) && (match == nil || o.params < match.params) {
				match = o
			}
		}
		if match == nil {
			continue
		}
		for status, test := range statuses {
			s := strconv.Itoa(status)
			if match.codes[s] != nil || (status >= 200 && status < 300 && match.codes["2XX"] != nil) {
				continue
			}
			found[fmt.Sprintf("%s answered %d", match.name, status)] = fmt.Sprintf(" (%s in %s)", path, test)
		}
	}
	var out []string
	for k, v := range found {
		out = append(out, k+v)
	}
	slices.Sort(out)
	return out
}

type openAPIDoc struct {
	Paths map[string]map[string]map[string]any `json:"paths"`
}

// TestMain runs the tests, then fails if any answer they got has a status
// the OpenAPI document does not list for its operation (the document's
// error answers are kept true by everything the tests do), or if a
// goroutine outlived them (leaktest).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := leaktest.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines outlived the tests: %v\n", err)
			code = 1
		}
	}
	golden, err := os.ReadFile(goldenOpenAPI)
	var doc openAPIDoc
	if err == nil {
		err = json.Unmarshal(golden, &doc)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reading %s: %v\n", goldenOpenAPI, err)
		os.Exit(1)
	}
	if bad := observed.undocumented(doc); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: answers the OpenAPI document does not list (add the status to the route's Errors in httpapi, "+
			"or fix the handler):\n  %s\n", strings.Join(bad, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// checkSecurity calls an operation without credentials: an operation with
// security: [] never answers 401 nor 403 for it; one that needs a token
// answers 401; a widget operation that needs only the page's Origin
// never answers 401.
func checkSecurity(t *testing.T, s *testServer, method, path string, op map[string]any) {
	t.Helper()
	sec, ok := op["security"].([]any)
	if !ok {
		t.Errorf("%s %s has no security (public operations have an explicit [])", method, path)
		return
	}
	token, originOnly := false, len(sec) > 0
	for _, alt := range sec {
		for scheme := range alt.(map[string]any) {
			if scheme != "origin" {
				token, originOnly = true, false
			}
		}
	}
	got := s.anon(t).do(method, path, nil).Status
	switch {
	case len(sec) == 0 && (got == http.StatusUnauthorized || got == http.StatusForbidden):
		t.Errorf("%s %s has security [] but answers %d without credentials", method, path, got)
	case token && got != http.StatusUnauthorized:
		t.Errorf("%s %s needs a token but answers %d without one", method, path, got)
	case originOnly && got == http.StatusUnauthorized:
		// The Origin is checked against the project the request names,
		// so a made-up one answers 404 first (TestWidgetCORS refuses
		// Origins of a real project).
		t.Errorf("%s %s needs only an Origin but answers 401", method, path)
	}
}
