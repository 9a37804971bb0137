package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiler is off by default, and with --debug-addr it is served on its
// own listener, never on the API's.
func TestDebugListener(t *testing.T) {
	off := newServer(t)
	if off.m.debugURL != "" {
		t.Fatalf("profiler on by default at %s", off.m.debugURL)
	}
	on := newServer(t, func(c *Config) { c.DebugAddr = "127.0.0.1:0" })
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	const profile = "goroutine profile:"
	if code, body := get(on.m.debugURL + "goroutine?debug=1"); code != 200 || !strings.Contains(body, profile) {
		t.Errorf("profiler: %d %.100q", code, body)
	}
	// (The API answers unknown paths with the web app.)
	for _, s := range []*testServer{off, on} {
		if _, body := get(s.url + "/debug/pprof/goroutine?debug=1"); strings.Contains(body, profile) {
			t.Errorf("the API at %s serves the profiler", s.url)
		}
	}
}
