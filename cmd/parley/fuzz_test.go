package main

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// offline are the routes FuzzAPI leaves out: those that make the server
// call a URL or a service the request names (tests talk to 127.0.0.1
// only), and those that end the fuzzer's own session or socket.
var offline = []string{
	"POST /api/v1/channels", "POST /api/v1/channels/{id}/test",
	"POST /api/v1/webhooks", "PATCH /api/v1/webhooks/{id}", "POST /api/v1/webhooks/{id}/deliveries/{delivery}/resend", "POST /api/v1/bots",
	"POST /api/v1/auth/logout", "DELETE /api/v1/me/tokens/{id}", "GET /api/v1/ws", "GET /api/v1/widget/ws",
}

// pathValues are what FuzzAPI puts in a route's {id}s: ids of things that
// exist, ids that do not, and what is not an id.
var pathValues = []string{"1", "2", "3", "4", "7", "0", "-1", "x", "9223372036854775808", "01"}

// FuzzAPI sends any request to any route of a running server (the whole
// of it, on SQLite; PARLEY_FUZZ_DB=postgres runs it on PostgreSQL): route
// names a route of the OpenAPI document, ids picks its path's ids
// (pathValues), and the query and body are the fuzzer's. Signed-in
// routes are called as an administrator, the widget's as a visitor. No
// request, however malformed, may get a 5xx, an error without the error
// shape, a secret in the answer (client.do checks all three) or make the
// server log an error.
func FuzzAPI(f *testing.F) {
	var opts []serverOption
	if os.Getenv("PARLEY_FUZZ_DB") == "postgres" {
		opts = append(opts, withDatabase(postgresURL(f)))
	}
	s := newServer(f, opts...)
	admin := s.newUser(f, parley.RoleAdmin, "Ada Admin")
	agent := s.newUser(f, parley.RoleAgent, "Anna Agent")
	var project parley.Project
	admin.do("POST", "/api/v1/projects", map[string]any{"name": "Shop", "origins": []string{shopOrigin}}).want(http.StatusCreated).decode(&project)
	admin.do("POST", fmt.Sprintf("/api/v1/projects/%d/specialists", project.ID), map[string]any{"user_id": agent.id(), "level": 1}).want(http.StatusCreated)
	conv := admin.directAllowed(agent)
	admin.send(conv.ID, "hello")
	visitor := s.visitor(f, project.Key, map[string]any{"name": "Vera"})
	visitor.send("I need help")
	admin.do("POST", "/api/v1/tags", map[string]any{"name": "vip", "color": "#3b82f6"}).want(http.StatusCreated)

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	admin.do("GET", "/api/v1/openapi.json", nil).want(http.StatusOK).decode(&doc)
	var routes []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if rt := strings.ToUpper(method) + " " + path; !slices.Contains(offline, rt) {
				routes = append(routes, rt)
			}
		}
	}
	slices.Sort(routes)
	if len(routes) < 100 {
		f.Fatalf("only %d routes in the OpenAPI document", len(routes))
	}
	f.Add("GET /api/v1/me", uint8(0), "", []byte(nil))
	f.Fuzz(func(t *testing.T, route string, ids uint8, query string, body []byte) {
		// A route is named, so that seeds stay valid as routes are added;
		// any other string picks one.
		if !slices.Contains(routes, route) {
			route = routes[crc32.ChecksumIEEE([]byte(route))%uint32(len(routes))]
		}
		method, path, _ := strings.Cut(route, " ")
		for n := int(ids); strings.Contains(path, "{"); n /= len(pathValues) {
			i, j := strings.IndexByte(path, '{'), strings.IndexByte(path, '}')
			path = path[:i] + pathValues[n%len(pathValues)] + path[j+1:]
		}
		if query != "" {
			path += "?" + escapeQuery(query)
		}
		c := admin
		if strings.HasPrefix(path, "/api/v1/widget/") {
			c = visitor.client
		}
		caller := *c
		caller.t = t
		before := len(s.logs.problems())
		var b any
		if body != nil {
			b = body
		}
		r := caller.do(method, path, b)
		if r.Status == http.StatusUnauthorized && c.token != "" {
			t.Logf("%s %s signed the caller out", method, path)
		}
		if p := s.logs.problems(); len(p) > before {
			t.Fatalf("%s %s with %q: the server logged %q", method, path, body, p[before:])
		}
	})
}

// escapeQuery makes a fuzzed query string one an HTTP request line can
// carry (the server's query parsing sees the rest as it is).
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
