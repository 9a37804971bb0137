package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// api calls the server's REST API.
type api struct {
	base   string
	hc     *http.Client
	origin string // sent as Origin when set: the widget API requires one
}

func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // the bench talks to the given server only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
}

// wsTransport returns the transport for up to conns WebSockets to the
// server at base, and how many source addresses it dials from. Each
// connection to one server address needs its own local port per source
// address, and the kernel has about 28,000 of them (ip_local_port_range),
// so for more connections to a loopback server the sockets come from
// several addresses of 127.0.0.0/8 in turn: 127.0.0.2, 127.0.0.3, ...,
// each used for at most two thirds of the ports. Everything stays on
// loopback.
func wsTransport(base string, conns int) (tr *http.Transport, sources int) {
	tr = newTransport(0)
	u, err := url.Parse(base)
	if err != nil || !manySources {
		return tr, 1
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return tr, 1
	}
	perSource := max(ephemeralPorts()*2/3, 1)
	sources = min((conns+perSource-1)/perSource, 250)
	if sources <= 1 {
		return tr, 1
	}
	dialers := make([]*net.Dialer, sources)
	for i := range dialers {
		dialers[i] = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: bindNoPort,
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}}
	}
	var next atomic.Uint64
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialers[next.Add(1)%uint64(len(dialers))].DialContext(ctx, network, addr)
	}
	return tr, sources
}

// apiError is an error answer of the server.
type apiError struct {
	Status  int
	Code    string
	Message string
	Call    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Call, e.Status, e.Code, e.Message)
}

// call sends in as JSON (if not nil) and decodes the answer into out (if
// not nil).
func (a *api) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if a.origin != "" {
		req.Header.Set("Origin", a.origin)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(data, &e)
		if e.Error.Code == "" {
			e.Error.Code, e.Error.Message = "http", strings.TrimSpace(string(data))
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Call: method + " " + path}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

type loginOutput struct {
	Token string `json:"token"`
	User  struct {
		ID int64 `json:"id"`
	} `json:"user"`
}

func (a *api) login(ctx context.Context, email, password string) (*loginOutput, error) {
	var out loginOutput
	err := a.call(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &out)
	if e, ok := err.(*apiError); ok && e.Code == "rate_limited" {
		err = fmt.Errorf("%w (start the server with a high --login-rate, e.g. --login-rate 100000, to benchmark it)", err)
	}
	return &out, err
}

// admin returns the token of the administrator who sets the bench up: the
// one given in o, or a new first administrator (a new server).
func (a *api) admin(ctx context.Context, o Options, runID, pass string) (string, error) {
	var admin *loginOutput
	var err error
	if o.AdminEmail == "" {
		admin = new(loginOutput)
		err = a.call(ctx, "POST", "/api/v1/setup", "", map[string]string{
			"email": "bench-admin-" + runID + "@example.com", "name": "Bench Admin", "password": pass}, admin)
		if e, ok := err.(*apiError); ok && e.Code == "conflict" {
			err = fmt.Errorf("%w (the server has users: pass --admin-email and --admin-password)", err)
		}
	} else {
		admin, err = a.login(ctx, o.AdminEmail, o.AdminPassword)
	}
	if err != nil {
		return "", fmt.Errorf("signing in the administrator: %w", err)
	}
	return admin.Token, nil
}

// createUser creates a user with the administrator's token and signs them
// in.
func (a *api) createUser(ctx context.Context, adminToken, email, name, pass, role string) (id int64, token string, err error) {
	var out struct {
		ID int64 `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/v1/users", adminToken, map[string]string{"email": email,
		"name": name, "password": pass, "role": role}, &out); err != nil {
		return 0, "", err
	}
	in, err := a.login(ctx, email, pass)
	if err != nil {
		return 0, "", err
	}
	return out.ID, in.Token, nil
}

// metrics is a scrape of the server's /metrics.
type metrics struct {
	RSS       float64 // process_resident_memory_bytes
	HeapInuse float64 // go_memstats_heap_inuse_bytes
	StackUse  float64 // go_memstats_stack_inuse_bytes
	CPU       float64 // process_cpu_seconds_total
	GCs       float64 // go_gc_duration_seconds_count
	Conns     float64 // parley_websocket_connections
	Frames    float64 // parley_websocket_frames_total
	Writes    float64 // parley_websocket_writes_total
	// The store's writes and commits (parley_store_writes_total,
	// parley_store_commits_total).
	StoreWrites, Commits float64
	Goroutines           float64 // go_goroutines
	FDs                  float64 // process_open_fds
	// The database pools' connections, summed over the pools
	// (go_sql_open_connections, go_sql_in_use_connections,
	// go_sql_max_open_connections); DBMax is 0 on a server without them.
	DBOpen, DBInUse, DBMax float64
}

func (m metrics) goBytes() float64 { return m.HeapInuse + m.StackUse }

func (a *api) metrics(ctx context.Context) (metrics, error) {
	var m metrics
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/metrics", nil)
	if err != nil {
		return m, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return m, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	fields := map[string]*float64{
		"process_resident_memory_bytes": &m.RSS,
		"go_memstats_heap_inuse_bytes":  &m.HeapInuse,
		"go_memstats_stack_inuse_bytes": &m.StackUse,
		"process_cpu_seconds_total":     &m.CPU,
		"go_gc_duration_seconds_count":  &m.GCs,
		"parley_websocket_connections":  &m.Conns,
		"parley_websocket_frames_total": &m.Frames,
		"parley_websocket_writes_total": &m.Writes,
		"parley_store_writes_total":     &m.StoreWrites,
		"parley_store_commits_total":    &m.Commits,
		"go_goroutines":                 &m.Goroutines,
		"process_open_fds":              &m.FDs,
	}
	// Labelled per pool; summed.
	sums := map[string]*float64{
		"go_sql_open_connections":     &m.DBOpen,
		"go_sql_in_use_connections":   &m.DBInUse,
		"go_sql_max_open_connections": &m.DBMax,
	}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		if p := fields[name]; p != nil {
			*p = v
			found++
		} else if base, _, labelled := strings.Cut(name, "{"); labelled && sums[base] != nil {
			*sums[base] += v
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.RSS == 0 || m.HeapInuse == 0 {
		return m, fmt.Errorf("GET /metrics: no process_resident_memory_bytes or go_memstats_heap_inuse_bytes")
	}
	return m, nil
}

// settledMetrics scrapes the metrics twice: raw, as they are, and settled,
// just after a garbage collection of the server, so that the Go heap counts
// live memory rather than garbage waiting for the next cycle. The server has
// no endpoint to force a collection, so the bench makes it allocate: each
// GET /api/v1/openapi.json builds a document of a few hundred kilobytes.
// That churn raises the RSS a little, which is why RSS comparisons take the
// raw scrape after a change and the settled one before it. It gives up
// waiting for a collection after 20 s.
func (a *api) settledMetrics(ctx context.Context) (raw, settled metrics, err error) {
	raw, err = a.metrics(ctx)
	if err != nil {
		return raw, raw, err
	}
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for round := 0; round < 2000 && time.Now().Before(deadline); round++ {
		// Two requests at a time, then a look at the collection count.
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.call(ctx, "GET", "/api/v1/openapi.json", "", nil, nil)
			}()
		}
		wg.Wait()
		m, err := a.metrics(ctx)
		if err != nil {
			return raw, m, err
		}
		if m.GCs > raw.GCs {
			break
		}
	}
	// Let the sweeper return the freed spans before reading.
	select {
	case <-ctx.Done():
		return raw, raw, ctx.Err()
	case <-time.After(200 * time.Millisecond):
	}
	settled, err = a.metrics(ctx)
	return raw, settled, err
}
