package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parley-chat/parley/loadgen"
)

// The kill test's load: small enough for the race detector on two shared
// cores (the bench runs inside the test process), large enough that every
// node has sockets and sends in flight when it dies.
const (
	killUsers     = 60
	killGroupSize = 6
	killRate      = 150 // messages a second, in total
	// killCycle is what one kill takes: the kill, the resumes, the node's
	// restart until HAProxy has it back, and a second of steady load.
	killCycle = 5 * time.Second
	// killResumeWithin is issue 12's bound: from the kill to each of the
	// dead node's clients receiving hello on another node.
	killResumeWithin = 2 * time.Second
)

// TestKillNodeBehindHAProxy runs three `parley serve` processes on one
// PostgreSQL, one NATS and one S3 server behind HAProxy with the shipped
// docs/haproxy.cfg, puts `parley bench` load through the balancer and kills
// the node with the most sockets with SIGKILL, PARLEY_KILL_REPEATS times
// (default 3), restarting it in between. It checks the promise of issue
// 12: every acknowledged message is stored exactly once, every member's
// sockets received every message of their conversations exactly once and
// in order, and the dead node's clients resumed on another node within 2 s
// of the kill.
func TestKillNodeBehindHAProxy(t *testing.T) {
	haproxy := haproxyPath(t)
	nats := natsURL(t)
	db := postgresURL(t)
	repeats := 3
	if v := os.Getenv("PARLEY_KILL_REPEATS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PARLEY_KILL_REPEATS=%q: want a positive count", v)
		}
		repeats = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+time.Duration(repeats)*2*killCycle)
	defer cancel()
	exe := buildParley(t)

	args, nonce := clusterArgs(t, nats)
	c := &killCluster{t: t, ctx: ctx, exe: exe, db: db, args: args}
	t.Cleanup(c.stopAll)
	for i := range 3 {
		// One at a time: the first applies the migrations under the
		// advisory lock, which the others would wait seconds for.
		c.nodes = append(c.nodes, c.start(&node{name: fmt.Sprintf("node%d", i+1), dir: t.TempDir()}))
	}
	lb := startHAProxy(t, ctx, haproxy, c.nodes)

	// The administrator is ours, so that the test can upload a file.
	adminEmail, adminPass := "kill-admin@example.com", "kill-admin-password"
	adminToken := setupAdmin(t, ctx, lb.url, adminEmail, adminPass)
	file := []byte("stored once in S3, served by every node " + nonce)
	fileID := uploadFile(t, ctx, lb.url, adminToken, file)

	obs := newKillObserver()
	sendEnd, wait := startLoad(t, ctx, lb, adminEmail, adminPass, obs, time.Duration(repeats)*killCycle+3*time.Second)
	time.Sleep(time.Second)
	var kills []killRecord
	for k := range repeats {
		if time.Until(sendEnd) < killCycle/2 {
			t.Errorf("only %d of %d kills happened while the load ran: a cycle took longer than %s", k, repeats, killCycle)
			break
		}
		kills = append(kills, c.killOne(lb, obs, k))
		time.Sleep(time.Second)
	}

	rep := wait()
	t.Logf("bench report: %s", rep.JSON())

	// Reconnects: every client of a killed node had hello on another node
	// within killResumeWithin of the kill.
	var fromKill []time.Duration
	victims := 0
	for _, k := range kills {
		victims += len(k.clients)
		for _, u := range k.clients {
			h, ok := obs.helloAfter(u, k.at)
			switch {
			case !ok:
				t.Errorf("kill %d (%s): user %d never resumed", k.n+1, k.node, u)
			case h.node == k.node:
				t.Errorf("kill %d (%s): user %d resumed on the node that was killed, %s after the kill", k.n+1, k.node, u, h.at.Sub(k.at))
			default:
				d := h.at.Sub(k.at)
				fromKill = append(fromKill, d)
				if d > killResumeWithin {
					t.Errorf("kill %d (%s): user %d resumed on %s %s after the kill (socket lost after %s); want within %s",
						k.n+1, k.node, u, h.node, d.Round(time.Millisecond), h.lost.Sub(k.at).Round(time.Millisecond), killResumeWithin)
				}
			}
		}
	}
	if victims == 0 {
		t.Errorf("no socket was on a killed node: the kills tested nothing")
	}
	if rep.Resumed < int64(victims) || rep.ReconnectMaxMs <= 0 {
		t.Errorf("the bench reports %d sockets resumed (max %.1f ms); the killed nodes had %d", rep.Resumed, rep.ReconnectMaxMs, victims)
	}

	stats := c.checkDatabase(obs, kills)
	slices.Sort(fromKill)
	t.Logf("%d kills, %d sockets on the killed nodes; from the kill to hello on another node: p50 %s, max %s (the bench, from the loss seen: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d resumes)",
		len(kills), victims, quantileDur(fromKill, 0.5), quantileDur(fromKill, 1), rep.ReconnectP50Ms, rep.ReconnectP99Ms, rep.ReconnectMaxMs, rep.Resumed)
	t.Logf("messages: %d acknowledged, %d stored, %d stored twice, %d acknowledged but not stored; deliveries: %d received, %d missing, %d twice, %d out of order",
		stats.acked, stats.stored, stats.storedTwice, stats.ackedMissing, stats.received, stats.missing, stats.duplicates, stats.outOfOrder)
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("the bench counted %d errors (%v) and %d messages lost", rep.Errors, rep.ErrorCodes, rep.Lost)
	}

	// Files live in S3, not on a node: every node serves the one uploaded
	// before the load, the restarted ones too.
	for _, n := range c.nodes {
		got, err := download(ctx, n.srv.URL+"/api/v1/files/"+fileID, adminToken)
		if err != nil || !bytes.Equal(got, file) {
			t.Errorf("%s serves the uploaded file as %q, %v", n.name, got, err)
		}
	}
	for _, n := range c.nodes {
		if w := n.srv.Warnings(); w > 0 {
			t.Logf("%s logged %d warnings or errors; its last lines:\n%s", n.name, w, n.srv.Log())
		}
	}
	t.Logf("haproxy took nodes out and back:\n%s", lb.log.grep(" is DOWN", " is UP"))
	if t.Failed() {
		t.Logf("haproxy's log (last lines):\n%s", lb.log.tail(40))
		c.dumpGoroutines()
	}
}

// dumpGoroutines writes every node's goroutines to PARLEY_KILL_DUMPS, if
// set, to see where a node that stopped delivering is stuck.
func (c *killCluster) dumpGoroutines() {
	dir := os.Getenv("PARLEY_KILL_DUMPS")
	if dir == "" {
		c.t.Logf("set PARLEY_KILL_DUMPS to a directory to get the nodes' goroutines on failure")
		return
	}
	for _, n := range c.nodes {
		b, err := download(context.Background(), "http://"+n.debug+"/debug/pprof/goroutine?debug=2", "")
		if err != nil {
			c.t.Logf("%s's goroutines: %v", n.name, err)
			continue
		}
		f := filepath.Join(dir, n.name+"-goroutines.txt")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			c.t.Log(err)
			continue
		}
		c.t.Logf("%s's goroutines: %s", n.name, f)
	}
}

// haproxyPath is Debian's HAProxy; without it the test skips, except under
// CI, where it fails (.ci/run installs it).
func haproxyPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("/usr/sbin/haproxy is missing; CI must run the kill test (apt-get install haproxy)")
	}
	t.Skip("/usr/sbin/haproxy is missing (apt-get install haproxy)")
	return ""
}

// buildParley builds this command into the test's temporary directory: the
// nodes are real processes, so that SIGKILL is a real crash.
// PARLEY_KILL_BINARY runs a binary built otherwise instead.
func buildParley(t *testing.T) string {
	t.Helper()
	if exe := os.Getenv("PARLEY_KILL_BINARY"); exe != "" {
		t.Logf("nodes run %s (PARLEY_KILL_BINARY)", exe)
		return exe
	}
	exe := filepath.Join(t.TempDir(), "parley")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the parley binary in %s", time.Since(start).Round(100*time.Millisecond))
	return exe
}

// clusterArgs are the `parley serve` arguments every node of a cluster
// test shares: the NATS subject of this test alone, an in-process S3
// server, and the balancer's X-Forwarded-For trusted. nonce is the
// subject's random part, for content that must be this run's.
func clusterArgs(t *testing.T, nats string) (args []string, nonce string) {
	t.Helper()
	s3 := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(s3.Close)
	var b [6]byte
	rand.Read(b[:])
	nonce = hex.EncodeToString(b[:])
	return []string{"--nats", nats, "--nats-subject", "parley.test." + nonce,
		"--s3-endpoint", strings.TrimPrefix(s3.URL, "http://"), "--s3-bucket", "parley",
		"--s3-access-key", "parley-test", "--s3-secret-key", "parley-test-secret", "--s3-region", "us-east-1",
		"--trust-proxy"}, nonce
}

// node is one `parley serve` process; its port stays the same across
// restarts, as HAProxy's configuration names it.
type node struct {
	name  string
	dir   string
	port  int
	debug string // its profiler's address, for goroutine dumps
	srv   *loadgen.Server
	// exe and args, when set, are this node's binary instead of the
	// cluster's and its own arguments after the cluster's: the upgrade
	// test runs two releases side by side.
	exe  string
	args []string
}

type killCluster struct {
	t     *testing.T
	ctx   context.Context
	exe   string
	db    string
	args  []string
	nodes []*node

	mu      sync.Mutex
	servers []*loadgen.Server // every process started, for stopAll
}

// stopAll stops the nodes together: each drains (its /readyz fails for a
// while) before it shuts down, and one after another would add up.
func (c *killCluster) stopAll() {
	c.mu.Lock()
	servers := c.servers
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.Stop() // at once for the killed ones
		}()
	}
	wg.Wait()
}

// start starts n (again, on its port, once it has one).
func (c *killCluster) start(n *node) *node {
	c.t.Helper()
	args := slices.Clone(c.args)
	if n.debug == "" {
		n.debug = freeAddr(c.t)
	}
	args = append(args, "--debug-addr", n.debug)
	if n.port != 0 {
		args = append(args, "--addr", fmt.Sprintf("127.0.0.1:%d", n.port)) // after the bench's 127.0.0.1:0: wins
	}
	args = append(args, n.args...)
	exe := c.exe
	if n.exe != "" {
		exe = n.exe
	}
	srv, err := loadgen.StartServer(c.ctx, exe, loadgen.ServerOptions{Dir: n.dir, Database: c.db, Args: args})
	if err != nil {
		c.t.Fatalf("starting %s: %v", n.name, err)
	}
	c.mu.Lock()
	c.servers = append(c.servers, srv)
	c.mu.Unlock()
	n.srv = srv
	if n.port == 0 {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		n.port, _ = strconv.Atoi(port)
	}
	return n
}

// killRecord is one kill: which node, when, and the users whose sockets
// were on it.
type killRecord struct {
	n       int
	node    string
	at      time.Time
	clients []int64
	what    string // how the node ended, in failures: "kill" when empty
}

func (k killRecord) verb() string {
	if k.what == "" {
		return "kill"
	}
	return k.what
}

// killOne kills the node with the most sockets with SIGKILL, waits for its
// clients to resume elsewhere (or 10 s), restarts it and waits until
// HAProxy has it back.
func (c *killCluster) killOne(lb *balancer, obs *killObserver, k int) killRecord {
	t := c.t
	counts := obs.perNode()
	// The node with the most sockets; among equals, each in turn, so that
	// every node dies now and then.
	victim := c.nodes[k%len(c.nodes)]
	for i := range c.nodes {
		if n := c.nodes[(k+i)%len(c.nodes)]; counts[n.name] > counts[victim.name] {
			victim = n
		}
	}
	clients := obs.clientsOn(victim.name)
	at := time.Now()
	victim.srv.Kill()
	rec := killRecord{n: k, node: victim.name, at: at, clients: clients}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !obs.allResumed(clients, at) {
		time.Sleep(20 * time.Millisecond)
	}
	resumed := time.Since(at)
	c.start(victim)
	if err := lb.waitUp(c.ctx, victim.name, 30*time.Second); err != nil {
		t.Fatalf("kill %d: %v\nhaproxy:\n%s", k+1, err, lb.log.tail(40))
	}
	t.Logf("kill %d: %s with %d of %d sockets (%v); resumed elsewhere within %s; back in HAProxy %s after the kill",
		k+1, victim.name, len(clients), killUsers, counts, resumed.Round(time.Millisecond), time.Since(at).Round(time.Millisecond))
	return rec
}

// balancer is the HAProxy the test runs.
type balancer struct {
	url   string // the entrance
	stats string // its status page
	log   *lockedBuffer
}

// startHAProxy runs HAProxy in the foreground with docs/haproxy.cfg, its
// addresses given by the environment the file reads, and waits until it
// sees every node up.
func startHAProxy(t *testing.T, ctx context.Context, exe string, nodes []*node) *balancer {
	t.Helper()
	cfg, err := filepath.Abs("../../docs/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	lb := &balancer{url: "http://" + freeAddr(t), stats: "http://" + freeAddr(t), log: &lockedBuffer{}}
	if out, err := exec.Command(exe, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "-db", "-f", cfg)
	cmd.Env = append(os.Environ(), "PARLEY_LB_BIND="+strings.TrimPrefix(lb.url, "http://"),
		"PARLEY_LB_STATS="+strings.TrimPrefix(lb.stats, "http://"))
	for i, n := range nodes {
		cmd.Env = append(cmd.Env, fmt.Sprintf("PARLEY_NODE%d=127.0.0.1:%d", i+1, n.port))
	}
	cmd.Stdout, cmd.Stderr = lb.log, lb.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for _, n := range nodes {
		if err := lb.waitUp(ctx, n.name, 30*time.Second); err != nil {
			t.Fatalf("%v\nhaproxy:\n%s", err, lb.log.String())
		}
	}
	// The frontend answers (the headers say which node).
	resp, err := http.Get(lb.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Parley-Node") == "" {
		t.Fatalf("GET /readyz through HAProxy: %s, X-Parley-Node %q", resp.Status, resp.Header.Get("X-Parley-Node"))
	}
	if resp, err := http.Get(lb.url + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET /metrics through HAProxy: %s; the config keeps it to operators", resp.Status)
		}
	}
	return lb
}

// waitUp waits until HAProxy's status page says the node is UP.
func (lb *balancer) waitUp(ctx context.Context, name string, within time.Duration) error {
	deadline := time.Now().Add(within)
	status := "unknown"
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if s, err := lb.status(name); err == nil {
			if status = s; s == "UP" {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("haproxy does not see %s up within %s (status %s)", name, within, status)
}

// status reads a node's status from HAProxy's CSV.
func (lb *balancer) status(name string) (string, error) {
	resp, err := http.Get(lb.stats + "/;csv")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return "", fmt.Errorf("haproxy's CSV: %v", err)
	}
	col := slices.Index(rows[0], "status")
	for _, row := range rows[1:] {
		if len(row) > col && row[0] == "parley_nodes" && row[1] == name {
			return row[col], nil
		}
	}
	return "", fmt.Errorf("no %s in haproxy's CSV", name)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hello is one socket's hello as the observer saw it.
type hello struct {
	node     string // X-Parley-Node: the node HAProxy chose
	cursor   string // the cursor it resumed from
	lost, at time.Time
	events   int   // events received on this socket
	maxEvent int64 // the newest of them
}

// receipt is a message as one user's sockets received it.
type receipt struct {
	event int64
	conn  int // which of the user's sockets (0: the first)
	node  string
	n     int // how many times
}

// anomaly is a delivery that broke the stream's promise.
type anomaly struct {
	user, conv, seq, event int64
	node                   string
	conn                   int
	what                   string
	prevSeq                int64
}

// killUser is what the observer knows of one user.
type killUser struct {
	hellos  []hello
	got     map[[2]int64]*receipt // (conversation, seq)
	lastSeq map[int64]int64
}

// killObserver records what every bench socket saw (loadgen.Observer).
type killObserver struct {
	mu        sync.Mutex
	users     map[int64]*killUser
	acks      map[string]ackRecord // "<user id>/<client id>"
	anomalies []anomaly
	received  int64
}

type ackRecord struct {
	node string // the node of the sender's socket when the ack came
	at   time.Time
}

func newKillObserver() *killObserver {
	return &killObserver{users: map[int64]*killUser{}, acks: map[string]ackRecord{}}
}

func (o *killObserver) user(id int64) *killUser {
	u := o.users[id]
	if u == nil {
		u = &killUser{got: map[[2]int64]*receipt{}, lastSeq: map[int64]int64{}}
		o.users[id] = u
	}
	return u
}

func (o *killObserver) Hello(user int64, resp *http.Response, lost, at time.Time) {
	node, cursor := "", ""
	if resp != nil {
		node = resp.Header.Get("X-Parley-Node")
		if resp.Request != nil {
			cursor = resp.Request.URL.Query().Get("cursor")
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.user(user)
	u.hellos = append(u.hellos, hello{node: node, cursor: cursor, lost: lost, at: at})
}

func (o *killObserver) Received(user, event, conv, seq int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.received++
	u := o.user(user)
	conn, node := len(u.hellos)-1, ""
	if conn >= 0 {
		h := &u.hellos[conn]
		node, h.events, h.maxEvent = h.node, h.events+1, max(h.maxEvent, event)
	}
	key := [2]int64{conv, seq}
	if r := u.got[key]; r != nil {
		r.n++
		what := "again on the same socket"
		if r.conn != conn {
			what = fmt.Sprintf("again after a resume (first on socket %d, %s)", r.conn, r.node)
		}
		if r.event != event {
			what += fmt.Sprintf(", as event %d (first as %d)", event, r.event)
		}
		o.anomalies = append(o.anomalies, anomaly{user: user, conv: conv, seq: seq, event: event, node: node, conn: conn, what: what})
		return
	}
	u.got[key] = &receipt{event: event, conn: conn, node: node, n: 1}
	if prev := u.lastSeq[conv]; seq < prev {
		o.anomalies = append(o.anomalies, anomaly{user: user, conv: conv, seq: seq, event: event, node: node, conn: conn,
			what: "out of order", prevSeq: prev})
	} else {
		u.lastSeq[conv] = seq
	}
}

func (o *killObserver) Acked(user int64, clientID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	node := ""
	if u := o.users[user]; u != nil && len(u.hellos) > 0 {
		node = u.hellos[len(u.hellos)-1].node
	}
	o.acks[fmt.Sprintf("%d/%s", user, clientID)] = ackRecord{node: node, at: time.Now()}
}

// waitHellos waits until n users have a socket.
func (o *killObserver) waitHellos(ctx context.Context, n int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		o.mu.Lock()
		got := len(o.users)
		o.mu.Unlock()
		if got >= n {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// perNode counts the users whose current socket is on each node.
func (o *killObserver) perNode() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for _, u := range o.users {
		if len(u.hellos) > 0 {
			out[u.hellos[len(u.hellos)-1].node]++
		}
	}
	return out
}

// clientsOn returns the users whose current socket is on node.
func (o *killObserver) clientsOn(node string) []int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []int64
	for id, u := range o.users {
		if len(u.hellos) > 0 && u.hellos[len(u.hellos)-1].node == node {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// helloAfter returns the user's first hello after t.
func (o *killObserver) helloAfter(user int64, t time.Time) (hello, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, h := range o.users[user].hellos {
		if h.at.After(t) {
			return h, true
		}
	}
	return hello{}, false
}

func (o *killObserver) allResumed(users []int64, t time.Time) bool {
	for _, u := range users {
		if _, ok := o.helloAfter(u, t); !ok {
			return false
		}
	}
	return true
}

// killStats are the database check's totals.
type killStats struct {
	acked, stored, storedTwice, ackedMissing  int
	received, missing, duplicates, outOfOrder int64
}

// checkDatabase compares what the sockets saw with what PostgreSQL holds:
// each acknowledged message stored once, and each user's sockets received
// every stored bench message of their conversations exactly once, in order.
// Every failure names the event, its commit time against the kills, and the
// nodes involved.
func (c *killCluster) checkDatabase(obs *killObserver, kills []killRecord) killStats {
	t := c.t
	sqlDB, err := sql.Open("pgx", c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	type stored struct {
		id, conv, seq, sender, createdAt int64
		clientID                         string
	}
	var msgs []stored
	rows, err := sqlDB.QueryContext(c.ctx, `SELECT id, conversation_id, seq, sender_id, client_id, created_at
		FROM messages WHERE client_id IS NOT NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m stored
		if err := rows.Scan(&m.id, &m.conv, &m.seq, &m.sender, &m.clientID, &m.createdAt); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	members := map[int64][]int64{} // conversation → users
	rows, err = sqlDB.QueryContext(c.ctx, `SELECT conversation_id, user_id FROM members`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var conv, user int64
		if err := rows.Scan(&conv, &user); err != nil {
			t.Fatal(err)
		}
		members[conv] = append(members[conv], user)
	}
	rows.Close()
	events := map[[2]int64][2]int64{} // (conversation, seq) → event id, created_at
	rows, err = sqlDB.QueryContext(c.ctx, `SELECT id, conversation_id, seq, created_at FROM events WHERE type = 'message.created'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, conv, seq, at int64
		if err := rows.Scan(&id, &conv, &seq, &at); err != nil {
			t.Fatal(err)
		}
		events[[2]int64{conv, seq}] = [2]int64{id, at}
	}
	rows.Close()

	obs.mu.Lock()
	defer obs.mu.Unlock()
	var st killStats
	st.acked, st.stored, st.received = len(obs.acks), len(msgs), obs.received
	// when places a commit time (created_at, Unix ms) against the kills.
	when := func(ms int64) string {
		at := time.UnixMilli(ms)
		var parts []string
		for _, k := range kills {
			if d := at.Sub(k.at); d > -3*time.Second && d < 3*time.Second {
				parts = append(parts, fmt.Sprintf("%+dms from %s %d of %s", d.Milliseconds(), k.verb(), k.n+1, k.node))
			}
		}
		if len(parts) == 0 {
			return at.UTC().Format("15:04:05.000")
		}
		return at.UTC().Format("15:04:05.000") + " (" + strings.Join(parts, ", ") + ")"
	}
	byClient := map[string]int{}
	for _, m := range msgs {
		byClient[fmt.Sprintf("%d/%s", m.sender, m.clientID)]++
	}
	for key, n := range byClient {
		if n > 1 {
			st.storedTwice++
			t.Errorf("message %s is stored %d times", key, n)
		}
	}
	for key, a := range obs.acks {
		if byClient[key] == 0 {
			st.ackedMissing++
			t.Errorf("message %s was acknowledged (through %s at %s) and is not stored", key, a.node, a.at.UTC().Format("15:04:05.000"))
		}
	}

	// Deliveries: a user's sockets received every stored message of the
	// bench's conversations they are in (their own too: the echo).
	var missing []string
	type span struct {
		n, first, last  int64 // missing: how many, the lowest and highest event id
		firstAt, lastAt int64 // their commit times
	}
	perUser := map[int64]*span{}
	for _, m := range msgs {
		ev := events[[2]int64{m.conv, m.seq}]
		for _, uid := range members[m.conv] {
			u := obs.users[uid]
			if u == nil {
				continue // not a bench user (the administrator is in no bench conversation)
			}
			if u.got[[2]int64{m.conv, m.seq}] != nil {
				continue
			}
			st.missing++
			sp := perUser[uid]
			if sp == nil {
				sp = &span{first: ev[0], last: ev[0], firstAt: ev[1], lastAt: ev[1]}
				perUser[uid] = sp
			}
			sp.n++
			if ev[0] < sp.first {
				sp.first, sp.firstAt = ev[0], ev[1]
			}
			if ev[0] > sp.last {
				sp.last, sp.lastAt = ev[0], ev[1]
			}
			ack := obs.acks[fmt.Sprintf("%d/%s", m.sender, m.clientID)]
			sockets := socketsOf(u)
			missing = append(missing, fmt.Sprintf("event %d (message %d, conversation %d seq %d, from user %d, client id %s) committed %s, acknowledged through %s; never reached user %d, whose sockets were: %s",
				ev[0], m.id, m.conv, m.seq, m.sender, m.clientID, when(m.createdAt), orNone(ack.node), uid, strings.Join(sockets, "; ")))
		}
	}
	for i, s := range missing {
		if i == 30 {
			t.Errorf("... and %d more missing deliveries", len(missing)-30)
			break
		}
		t.Errorf("missing: %s", s)
	}
	for _, uid := range slices.Sorted(maps.Keys(perUser)) {
		sp := perUser[uid]
		t.Errorf("user %d missed %d messages, events %d (committed %s) to %d (committed %s); its sockets: %s",
			uid, sp.n, sp.first, when(sp.firstAt), sp.last, when(sp.lastAt), strings.Join(socketsOf(obs.users[uid]), "; "))
	}
	for i, a := range obs.anomalies {
		if a.what == "out of order" {
			st.outOfOrder++
		} else {
			st.duplicates++
		}
		if i < 30 {
			ev := events[[2]int64{a.conv, a.seq}]
			extra := ""
			if a.prevSeq != 0 {
				extra = fmt.Sprintf(" after seq %d", a.prevSeq)
			}
			t.Errorf("user %d received event %d (conversation %d seq %d, committed %s) %s%s, on socket #%d (%s)",
				a.user, a.event, a.conv, a.seq, when(ev[1]), a.what, extra, a.conn, a.node)
		}
	}
	if len(obs.anomalies) > 30 {
		t.Errorf("... and %d more deliveries twice or out of order", len(obs.anomalies)-30)
	}
	if st.acked == 0 || st.stored < st.acked {
		t.Errorf("%d messages acknowledged, %d stored", st.acked, st.stored)
	}
	return st
}

// socketsOf describes a user's sockets: node, cursor, when, what came.
func socketsOf(u *killUser) []string {
	var out []string
	for i, h := range u.hellos {
		out = append(out, fmt.Sprintf("#%d %s cursor %s hello %s, %d messages up to event %d",
			i, h.node, orZero(h.cursor), h.at.UTC().Format("15:04:05.000"), h.events, h.maxEvent))
	}
	return out
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none (never acknowledged)"
	}
	return s
}

func quantileDur(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(max(int(q*float64(len(sorted))+0.999999)-1, 0), len(sorted)-1)
	return sorted[i].Round(time.Millisecond)
}

// jsonCall sends in as JSON and decodes the answer into out.
func jsonCall(ctx context.Context, method, url, token string, in, out any) error {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}

// startLoad puts the kill tests' bench load through the balancer: killUsers
// users sending for sendFor, with obs watching every frame. It returns once
// every user has its socket, with the time the sending ends; wait returns
// the bench's report, failing the test if the bench failed.
func startLoad(t *testing.T, ctx context.Context, lb *balancer, adminEmail, adminPass string, obs *killObserver,
	sendFor time.Duration) (sendEnd time.Time, wait func() *loadgen.Report) {
	t.Helper()
	var progress lockedBuffer
	opt := loadgen.Options{URL: lb.url, AdminEmail: adminEmail, AdminPassword: adminPass,
		Users: killUsers, GroupSize: killGroupSize, Rate: killRate,
		Duration: sendFor, Drain: 10 * time.Second,
		Parallel: 8, Progress: &progress, Observer: obs}
	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := loadgen.Run(ctx, opt)
		done <- result{rep, err}
	}()
	// The send phase begins once every user has its socket.
	if !obs.waitHellos(ctx, killUsers, 2*time.Minute) {
		t.Fatalf("the users did not all connect\nbench:\n%s\nhaproxy:\n%s", progress.String(), lb.log.String())
	}
	sendEnd = time.Now().Add(sendFor)
	return sendEnd, func() *loadgen.Report {
		t.Helper()
		res := <-done
		if res.err != nil {
			t.Fatalf("bench: %v\nbench:\n%s", res.err, progress.String())
		}
		var text bytes.Buffer
		res.rep.Print(&text)
		t.Logf("bench report:\n%s", text.String())
		return res.rep
	}
}

// setupAdmin creates a new server's first administrator and returns their
// token.
func setupAdmin(t *testing.T, ctx context.Context, base, email, password string) string {
	t.Helper()
	var admin struct {
		Token string `json:"token"`
	}
	if err := jsonCall(ctx, "POST", base+"/api/v1/setup", "", map[string]string{"email": email, "name": "Administrator",
		"password": password}, &admin); err != nil {
		t.Fatal(err)
	}
	return admin.Token
}

func uploadFile(t *testing.T, ctx context.Context, base, token string, data []byte) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/files?name=kill.txt", bytes.NewReader(data))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID json.RawMessage `json:"id"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &out) != nil {
		t.Fatalf("upload: %s: %s", resp.Status, body)
	}
	return strings.Trim(string(out.ID), `"`)
}

func download(ctx context.Context, url, token string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// lockedBuffer collects a process's output, or the bench's progress, from
// several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// grep returns the lines that contain one of subs.
func (l *lockedBuffer) grep(subs ...string) string {
	var out []string
	for line := range strings.Lines(l.String()) {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				out = append(out, strings.TrimRight(line, "\n"))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// tail returns the last n lines.
func (l *lockedBuffer) tail(n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
