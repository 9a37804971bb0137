package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// runner holds the state of one run.
type runner struct {
	opt   Options
	api   *api
	wsURL string       // the WebSocket endpoint, without the cursor
	wsHC  *http.Client // for WebSocket handshakes (no client timeout)
	// sources is how many loopback addresses the sockets come from.
	sources int
	epoch   time.Time // time stamps are nanoseconds since epoch (monotonic)
	runID   string
	pass    string

	users  []*simUser // the senders and receivers
	idlers []*simUser // owners of the idle connections
	convs  []int64    // conversation ids

	idleMu sync.Mutex
	idle   []*websocket.Conn

	readers     sync.WaitGroup // every goroutine reading a socket
	userReaders sync.WaitGroup // those reading the users' sockets
	writers     sync.WaitGroup // senders and resenders
	ending      atomic.Bool    // sockets are being closed on purpose
	storming    atomic.Bool    // the users' sockets drop on purpose (storm)
	cutoff      int64          // end of the drain (ns since epoch): later acknowledgements cannot be lost
	st          stats
	progressMu  sync.Mutex
}

// stats are the counters every goroutine adds to.
type stats struct {
	sent, acked, failed  atomic.Int64
	deliveries, expected atomic.Int64 // receipts by other members; receipts due for acknowledged messages
	echoes, dupAcks      atomic.Int64
	reconnects           atomic.Int64
	lastAck, lastDeliv   atomic.Int64 // nanoseconds since epoch

	mu    sync.Mutex
	codes map[string]int64 // errors by code
}

func (s *stats) fail(code string, n int64) {
	s.mu.Lock()
	if s.codes == nil {
		s.codes = make(map[string]int64)
	}
	s.codes[code] += n
	s.mu.Unlock()
}

// errorCodes returns a copy of the error counts by code.
func (s *stats) errorCodes() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.codes)
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// Run runs the bench against the server at opt.URL and returns its report.
// It stops by itself: after setting up, it sends for opt.Duration, waits at
// most opt.Drain for what is outstanding, and closes every connection.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.URL == "" {
		return nil, errors.New("loadgen: the server URL is required")
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := RaiseFileLimit(opt.FilesNeeded()); err != nil {
		return nil, err
	}
	wsTr, sources := wsTransport(opt.URL, opt.Users+opt.Idle)
	secret := make([]byte, 12)
	crand.Read(secret)
	r := &runner{
		opt:     opt,
		api:     &api{base: strings.TrimRight(opt.URL, "/"), hc: &http.Client{Transport: newTransport(opt.Parallel * 4), Timeout: time.Minute}},
		wsURL:   strings.TrimRight(opt.URL, "/") + "/api/v1/ws?client=bench&version=1",
		wsHC:    &http.Client{Transport: wsTr},
		sources: sources,
		epoch:   time.Now(),
		runID:   hex.EncodeToString(secret[:4]),
		pass:    "bench-" + hex.EncodeToString(secret[4:]),
	}
	defer r.api.hc.CloseIdleConnections()
	stop := context.AfterFunc(ctx, r.closeSockets) // an interrupt ends every socket at once
	defer stop()
	defer func() {
		r.closeSockets()
		r.readers.Wait()
		r.writers.Wait()
	}()
	return r.run(ctx)
}

// progress writes a progress line. Readers write too (a socket lost), so
// lines are serialised: Options.Progress need not be safe for concurrent use.
func (r *runner) progress(format string, args ...any) {
	if r.opt.Progress != nil {
		r.progressMu.Lock()
		defer r.progressMu.Unlock()
		fmt.Fprintf(r.opt.Progress, "bench: "+format+"\n", args...)
	}
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	o := r.opt
	rep := &Report{Target: o.URL, Users: o.Users, GroupSize: o.GroupSize, Conversations: o.Conversations,
		Rate: o.Rate, Schedule: o.Schedule, MessageSize: o.MessageSize, DurationS: o.Duration.Seconds(), IdleConnections: o.Idle}
	t0 := time.Now()
	r.progress("creating %d users and %d conversations of %d members", o.Users+o.IdleUsers, o.Conversations, o.GroupSize)
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	setup := time.Since(t0)

	r.progress("connecting %d users", o.Users)
	_, before, merr := r.api.settledMetrics(ctx)
	t1 := time.Now()
	if err := forEach(ctx, len(r.users), 4*o.Parallel, func(ctx context.Context, i int) error {
		return r.connect(ctx, r.users[i])
	}); err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	setup += time.Since(t1)
	rep.SetupS = round(setup.Seconds(), 2)
	if merr != nil {
		r.progress("no server metrics, so no memory figures: %v", merr)
	} else {
		var raw, after metrics
		if raw, after, merr = r.api.settledMetrics(ctx); merr == nil {
			rep.MetricsAvailable = true
			rep.BytesPerConnRSS = int64((raw.RSS - before.RSS) / float64(o.Users))
			rep.BytesPerConnGo = int64((after.goBytes() - before.goBytes()) / float64(o.Users))
			before = after
		}
	}

	if o.Idle > 0 {
		from := ""
		if r.sources > 1 {
			from = fmt.Sprintf(" from %d source addresses (127.0.0.2-%d)", r.sources, r.sources+1)
		}
		r.progress("opening %d idle connections%s", o.Idle, from)
		var opened atomic.Int64
		if err := forEach(ctx, o.Idle, 4*o.Parallel, func(ctx context.Context, i int) error {
			if err := r.openIdle(ctx, r.idlers[i%len(r.idlers)]); err != nil {
				return err
			}
			if n := opened.Add(1); n%20000 == 0 && n < int64(o.Idle) {
				r.progress("%d idle connections open", n)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("opening idle connections: %w", err)
		}
		if merr == nil {
			if raw, after, err := r.api.settledMetrics(ctx); err == nil {
				rep.BytesPerIdleConnRSS = int64((raw.RSS - before.RSS) / float64(o.Idle))
				rep.BytesPerIdleConnGo = int64((after.goBytes() - before.goBytes()) / float64(o.Idle))
				rep.ServerConnections = int64(after.Conns)
			}
		}
	}

	var soak *soakRun
	if o.Soak {
		var err error
		if soak, err = r.startSoak(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.sendPhase(ctx, rep); err != nil {
		if soak != nil {
			soak.abort()
		}
		return nil, err
	}
	if soak != nil {
		rep.Soak = soak.finish(ctx)
	}
	if o.Reconnect {
		if err := r.storm(ctx, rep); err != nil {
			return nil, err
		}
	}
	r.closeSockets()
	r.readers.Wait()
	r.writers.Wait()
	r.finish(rep)
	return rep, nil
}

// setUp signs in the administrator, creates and signs in the users and
// creates the conversations.
func (r *runner) setUp(ctx context.Context) error {
	o := r.opt
	admin, err := r.api.admin(ctx, o, r.runID, r.pass)
	if err != nil {
		return err
	}

	all := make([]*simUser, o.Users+o.IdleUsers)
	for i := range all {
		all[i] = &simUser{idx: i, email: fmt.Sprintf("bench-%s-%d@example.com", r.runID, i), changed: make(chan struct{})}
	}
	r.users, r.idlers = all[:o.Users], all[o.Users:]
	if err := forEach(ctx, len(all), o.Parallel, func(ctx context.Context, i int) error {
		u := all[i]
		var err error
		u.id, u.token, err = r.api.createUser(ctx, admin, u.email, fmt.Sprintf("Bench %s %d", r.runID, i), r.pass, "member")
		return err
	}); err != nil {
		return fmt.Errorf("creating users: %w", err)
	}

	// Conversation c has the GroupSize users from c*GroupSize on, wrapping
	// around: every user is in at least one.
	members := make([][]*simUser, o.Conversations)
	for c := range members {
		for k := range o.GroupSize {
			u := r.users[(c*o.GroupSize+k)%o.Users]
			members[c] = append(members[c], u)
		}
	}
	r.convs = make([]int64, o.Conversations)
	if err := forEach(ctx, o.Conversations, o.Parallel, func(ctx context.Context, c int) error {
		ids := make([]int64, 0, o.GroupSize-1)
		for _, u := range members[c][1:] {
			ids = append(ids, u.id)
		}
		var out struct {
			ID int64 `json:"id"`
		}
		if err := r.api.call(ctx, "POST", "/api/v1/conversations/group", members[c][0].token,
			map[string]any{"title": fmt.Sprintf("bench %s %d", r.runID, c), "user_ids": ids}, &out); err != nil {
			return err
		}
		r.convs[c] = out.ID
		return nil
	}); err != nil {
		return fmt.Errorf("creating conversations: %w", err)
	}
	for c, ms := range members {
		for _, u := range ms {
			u.convs = append(u.convs, r.convs[c])
		}
	}

	r.plan(members)
	return nil
}

// plan decides who sends each message of the run, to which conversation
// and when: message j goes out at j/Rate seconds. With the spread schedule
// it goes to conversation j mod Conversations from a member of it drawn at
// random (seeded by the run, so two runs of one build send alike); with
// the runs schedule user j mod Users sends it to its own conversations in
// turn.
func (r *runner) plan(members [][]*simUser) {
	o := r.opt
	n := int(o.Rate*o.Duration.Seconds() + 0.5)
	rng := rand.New(rand.NewPCG(uint64(o.Users), uint64(o.Conversations)))
	next := make([]int, len(r.users)) // runs: each user's next conversation
	for j := range n {
		at := time.Duration(float64(j) / o.Rate * 1e9)
		var u *simUser
		var conv int64
		if o.Schedule == ScheduleRuns {
			u = r.users[j%len(r.users)]
			conv = u.convs[next[u.idx]%len(u.convs)]
			next[u.idx]++
		} else {
			c := j % len(members)
			u = members[c][rng.IntN(len(members[c]))]
			conv = r.convs[c]
		}
		u.plan = append(u.plan, planned{at: at, conv: conv})
	}
	for _, u := range r.users {
		u.recs = make([]record, len(u.plan))
		u.lastSeq = make(map[int64]int64, len(u.convs))
	}
}

// forEach calls fn(i) for every i in [0, n) on at most par goroutines and
// returns the first error; calls not yet begun are then skipped.
func forEach(ctx context.Context, n, par int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, max(par, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// sendPhase sends at the configured rate for the configured time, then
// waits for what is outstanding, at most Drain.
func (r *runner) sendPhase(ctx context.Context, rep *Report) error {
	o := r.opt
	rep.MessagesPlanned = int64(o.Rate*o.Duration.Seconds() + 0.5)
	r.progress("sending %d messages/s for %s", int(o.Rate), o.Duration)
	m0, merr := r.api.metrics(ctx)
	cpu0 := cpuTime()
	var lastAcked, lastDeliv int64
	var lastTick time.Time
	// Senders that fell behind get one more second, then stop.
	start, end, err := sendAndDrain(ctx, len(r.users), o.Duration+time.Second, o.Drain,
		func(i int, start time.Time, stop <-chan struct{}) { r.send(r.users[i], start, stop) },
		r.drained,
		func(start, now time.Time) {
			if lastTick.IsZero() {
				lastTick = start
			}
			a, d := r.st.acked.Load(), r.st.deliveries.Load()
			dt := now.Sub(lastTick).Seconds()
			r.progress("%5.1fs  sent %d  acknowledged %d (%.0f/s)  delivered %d (%.0f/s)", now.Sub(start).Seconds(),
				r.st.sent.Load(), a, float64(a-lastAcked)/dt, d, float64(d-lastDeliv)/dt)
			lastAcked, lastDeliv, lastTick = a, d, now
		})
	if err != nil {
		return err
	}
	elapsed := end.Sub(start).Seconds()
	r.cutoff = end.Sub(r.epoch).Nanoseconds()
	if !r.drained() {
		// An acknowledgement and the deliveries of the same message leave
		// the server together; those acknowledged just before the cutoff
		// get a moment to arrive before they count as lost.
		grace := time.After(2 * time.Second)
	waiting:
		for !r.lateDelivered() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-grace:
				break waiting
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	rep.BenchCPUCores = (cpuTime() - cpu0).Seconds() / elapsed
	if merr == nil {
		if m1, err := r.api.metrics(ctx); err == nil {
			rep.ServerCPUCores = (m1.CPU - m0.CPU) / elapsed
			rep.ServerRSSBytes = int64(m1.RSS)
			rep.ServerGoBytes = int64(m1.goBytes())
			rep.WSFrames, rep.WSWrites = int64(m1.Frames-m0.Frames), int64(m1.Writes-m0.Writes)
			if commits := m1.Commits - m0.Commits; commits > 0 {
				rep.CommitsPerSec = round(commits/elapsed, 1)
				rep.WritesPerCommit = round((m1.StoreWrites-m0.StoreWrites)/commits, 2)
			}
		}
	}
	// Rates are over the time from the first send to the last
	// acknowledgement or delivery: a server that falls behind takes longer
	// than Duration and gets a lower rate.
	first := start.Sub(r.epoch).Nanoseconds()
	if t := r.st.lastAck.Load() - first; t > 0 {
		rep.SentPerSec = float64(r.st.acked.Load()) / (float64(t) / 1e9)
	}
	if t := r.st.lastDeliv.Load() - first; t > 0 {
		rep.DeliveriesPerSec = float64(r.st.deliveries.Load()) / (float64(t) / 1e9)
	}
	rep.ElapsedS = elapsed
	return nil
}

// sendAndDrain runs send(i, …) for every i in [0, n) on a goroutine each,
// prints report every second, tells the senders still going to stop once
// deadline has passed, waits for them, and then waits at most drain until
// drained() holds. It returns when the sending began and when it all
// ended.
func sendAndDrain(ctx context.Context, n int, deadline, drain time.Duration,
	send func(i int, start time.Time, stop <-chan struct{}), drained func() bool,
	report func(start, now time.Time)) (start, end time.Time, err error) {
	start = time.Now()
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for i := range n {
		senders.Add(1)
		go func() {
			defer senders.Done()
			send(i, start, stop)
		}()
	}
	sent := make(chan struct{})
	go func() {
		senders.Wait()
		close(sent)
	}()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stopping := sync.OnceFunc(func() { close(stop) })
	defer func() {
		stopping()
		<-sent // a send in flight ends with its socket write or HTTP call
	}()
sending:
	for {
		select {
		case <-sent:
			break sending
		case <-timer.C:
			break sending
		case now := <-tick.C:
			report(start, now)
		case <-ctx.Done():
			return start, time.Now(), ctx.Err()
		}
	}
	stopping()
	<-sent
	drainEnd := time.Now().Add(drain)
	for !drained() && time.Now().Before(drainEnd) {
		select {
		case <-ctx.Done():
			return start, time.Now(), ctx.Err()
		case now := <-tick.C:
			report(start, now)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return start, time.Now(), nil
}

// drained reports whether every message sent has an answer and every
// acknowledged message reached every other member of its conversation.
func (r *runner) drained() bool {
	s := &r.st
	return s.acked.Load()+s.failed.Load() >= s.sent.Load() && s.deliveries.Load() >= s.expected.Load()
}

// lateDelivered reports whether every message acknowledged before the
// cutoff reached every other member.
func (r *runner) lateDelivered() bool {
	want := int32(r.opt.GroupSize - 1)
	for _, u := range r.users {
		for k := range u.recs {
			rec := &u.recs[k]
			if at := rec.ackAt.Load(); at != 0 && at <= r.cutoff && rec.got.Load() < want {
				return false
			}
		}
	}
	return true
}

// closeSockets ends every connection; readers see the end as expected.
func (r *runner) closeSockets() {
	r.ending.Store(true)
	r.closeUserSockets()
	r.idleMu.Lock()
	for _, ws := range r.idle {
		ws.CloseNow()
	}
	r.idleMu.Unlock()
}

// closeUserSockets ends the users' connections.
func (r *runner) closeUserSockets() {
	for _, u := range r.users {
		u.mu.Lock()
		if u.ws != nil {
			u.ws.CloseNow()
		}
		u.mu.Unlock()
	}
}

// dial opens a WebSocket for token, resuming after cursor if it is not 0.
func (r *runner) dial(ctx context.Context, token string, cursor int64) (*websocket.Conn, error) {
	ws, _, err := r.dialResp(ctx, token, cursor)
	return ws, err
}

// dialResp is dial that also returns the handshake's answer.
func (r *runner) dialResp(ctx context.Context, token string, cursor int64) (*websocket.Conn, *http.Response, error) {
	u := r.wsURL
	if cursor > 0 {
		u += fmt.Sprintf("&cursor=%d", cursor)
	}
	return dialWSResp(ctx, r.wsHC, u, http.Header{"Authorization": {"Bearer " + token}})
}

// dialWS opens a WebSocket at url with the given request headers.
func dialWS(ctx context.Context, hc *http.Client, url string, h http.Header) (*websocket.Conn, error) {
	ws, _, err := dialWSResp(ctx, hc, url, h)
	return ws, err
}

// dialWSResp is dialWS that also returns the handshake's answer.
func dialWSResp(ctx context.Context, hc *http.Client, url string, h http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	// The server sends many frames as one message; there is no bound to
	// what a burst can hold.
	ws.SetReadLimit(1 << 30)
	return ws, resp, nil
}

// openIdle opens one idle connection of u and waits for its hello.
func (r *runner) openIdle(ctx context.Context, u *simUser) error {
	ws, err := r.dial(ctx, u.token, 0)
	if err != nil {
		return err
	}
	typ, data, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return err
	}
	var f frame
	var it = arrayIter{b: data}
	el, ok, err := it.next()
	if typ != websocket.MessageText || err != nil || !ok || parseFrame(el, &f) != nil || string(f.typ) != `"hello"` {
		ws.CloseNow()
		return fmt.Errorf("the first frame on an idle connection was not hello: %.200s", data)
	}
	r.idleMu.Lock()
	if r.ending.Load() {
		r.idleMu.Unlock()
		ws.CloseNow()
		return context.Canceled
	}
	r.idle = append(r.idle, ws)
	r.idleMu.Unlock()
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		// Presence changes of the idle user's own devices may arrive;
		// nothing else should. Reading keeps control frames flowing.
		for {
			_, rd, err := ws.Reader(context.Background())
			if err != nil {
				if !r.ending.Load() {
					r.st.fail("idle_connection_closed", 1)
				}
				return
			}
			io.Copy(io.Discard, rd) // with a pooled buffer, not one per socket
		}
	}()
	return nil
}
