package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The visitor mode loads the live chat: website visitors write through the
// widget API (HTTP, as the widget does) and listen on their visitor
// socket; consultants of one project listen on the staff socket, connect
// to the dialogs they are alerted to and answer every visitor message on
// their socket. docs/bench.md describes what is measured.

// visitorName is how visitor i is named ("Visitor 12"): a dialog names its
// contact, and the visitor's own card carries no id.
const visitorName = "Visitor "

// visitorIndex reads i from a visitor's name.
func visitorIndex(name []byte) (int, bool) {
	n, ok := bytes.CutPrefix(name, []byte(visitorName))
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(n))
	return i, err == nil && i >= 0
}

// benchOrigin is the website the bench's visitors come from. It is only a
// header: nothing is fetched from it.
const benchOrigin = "http://127.0.0.1"

// visitor is one simulated website visitor.
type visitor struct {
	idx     int
	token   string
	sends   []record // its messages; got counts the consultants that received one
	replies []record // the answer to each of its messages; got is 1 once it arrived
	alerts  atomic.Int32

	// The dialog, as the consultant who serves it sees it.
	mu        sync.Mutex
	conv      int64 // 0 until the serving consultant was alerted
	connected bool  // the serving consultant has connected
	pending   []int // messages received before the consultant connected
	ws        *websocket.Conn
	lat       []int64 // answer latencies, owned by the socket's reader
	lag       []int64 // owned by the sender
	ackLat    []int64 // owned by the sender
}

// consultant is one simulated consultant.
type consultant struct {
	idx      int
	id       int64
	token    string
	ws       *websocket.Conn
	answers  chan answer
	lastSeq  map[int64]int64 // owned by the reader
	alerted  map[int]bool    // visitors whose alert arrived, owned by the reader
	lat      []int64         // visitor message latencies, owned by the reader
	alertLat []int64         // owned by the reader
}

// answer is a consultant's reply to visitor v's message k.
type answer struct{ v, k int }

// vrunner holds the state of one visitor-mode run.
type vrunner struct {
	opt    Options
	api    *api // staff calls
	widget *api // visitor calls, with the Origin header
	base   string
	wsHC   *http.Client
	epoch  time.Time
	runID  string
	pass   string
	key    string // the project's public key
	vis    []*visitor
	cons   []*consultant
	mgrs   []*manager // managers with the inbox list open (managers.go)

	readers                                     sync.WaitGroup
	writers                                     sync.WaitGroup
	done                                        chan struct{} // closed when the run ends
	sockets                                                   // every socket, to close at the end
	cutoff                                      int64
	st                                          stats        // deliveries counts visitor messages at consultants
	dialogs                                     atomic.Int64 // first messages acknowledged: dialogs that must alert
	answerAcked, answerGot, alertsGot, connects atomic.Int64
	managerGot                                  atomic.Int64 // visitor messages in a manager's list, once per manager
	seedGot                                     atomic.Int64 // seeded dialogs' messages at managers
}

// VisitorReport is the outcome of a visitor-mode run; docs/bench.md
// explains each field.
type VisitorReport struct {
	Target      string  `json:"target"`
	Visitors    int     `json:"visitors"`
	Consultants int     `json:"consultants"`
	Rate        float64 `json:"rate"` // visitor messages per second, in total
	DurationS   float64 `json:"duration_s"`
	ElapsedS    float64 `json:"elapsed_s"`
	SetupS      float64 `json:"setup_s"`

	Dialogs         int64   `json:"dialogs"` // dialogs opened, each with a consultant connected
	MessagesPlanned int64   `json:"messages_planned"`
	MessagesSent    int64   `json:"messages_sent"` // by visitors
	MessagesAcked   int64   `json:"messages_acked"`
	AnswersSent     int64   `json:"answers_sent"` // by consultants, one per visitor message
	AnswersAcked    int64   `json:"answers_acked"`
	SentPerSec      float64 `json:"sent_per_sec"` // visitor messages and answers acknowledged per second
	Deliveries      int64   `json:"deliveries"`   // receipts: visitor messages at each consultant, answers at the visitor

	// Latency of every message from its send to each receipt, both ways.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// Visitor → each consultant of the project.
	VisitorP50Ms float64 `json:"visitor_p50_ms"`
	VisitorP99Ms float64 `json:"visitor_p99_ms"`
	// Consultant's answer → the visitor.
	AnswerP50Ms float64 `json:"answer_p50_ms"`
	AnswerP99Ms float64 `json:"answer_p99_ms"`
	// A visitor's message until the widget API answered (after commit).
	AckP99Ms float64 `json:"ack_p99_ms"`
	// From a visitor's first message to the new-dialog alert at each
	// consultant.
	Alerts        int64   `json:"alerts"`
	AlertsMissing int64   `json:"alerts_missing"`
	AlertP50Ms    float64 `json:"alert_p50_ms"`
	AlertP99Ms    float64 `json:"alert_p99_ms"`
	AlertMaxMs    float64 `json:"alert_max_ms"`
	SendLagP99Ms  float64 `json:"send_lag_p99_ms"`

	// Managers (chat settings right, connected to no dialog) and the list
	// each keeps live: from a visitor's send to the first event that puts
	// the message in that manager's list (managers.go).
	Managers          int     `json:"managers"`
	SeededDialogs     int64   `json:"seeded_dialogs"`
	SeedS             float64 `json:"seed_s"`
	ManagerDeliveries int64   `json:"manager_deliveries"` // (message, manager) pairs that arrived
	ManagerMissing    int64   `json:"manager_missing"`    // acknowledged (message, manager) pairs that never did
	ManagerP50Ms      float64 `json:"manager_p50_ms"`
	ManagerP95Ms      float64 `json:"manager_p95_ms"`
	ManagerP99Ms      float64 `json:"manager_p99_ms"`
	ManagerMaxMs      float64 `json:"manager_max_ms"`
	ManagerWorstP99Ms float64 `json:"manager_worst_p99_ms"` // the p99 of the manager served worst
	// The same for messages in dialogs already open: every visitor
	// message but the first, which opens the dialog (and alerts).
	ManagerExistingP50Ms float64 `json:"manager_existing_p50_ms"`
	ManagerExistingP95Ms float64 `json:"manager_existing_p95_ms"`
	ManagerExistingP99Ms float64 `json:"manager_existing_p99_ms"`
	ManagerExistingMaxMs float64 `json:"manager_existing_max_ms"`
	ManagerSteadyP50Ms   float64 `json:"manager_steady_p50_ms"`
	ManagerSteadyP95Ms   float64 `json:"manager_steady_p95_ms"`
	ManagerSteadyP99Ms   float64 `json:"manager_steady_p99_ms"`
	ManagerSteadyMaxMs   float64 `json:"manager_steady_max_ms"`
	ManagerViaCreated    int64   `json:"manager_via_message_created"`
	ManagerViaDialog     int64   `json:"manager_via_dialog_updated"`
	ManagerCreatedP99Ms  float64 `json:"manager_message_created_p99_ms"`
	ManagerDialogP99Ms   float64 `json:"manager_dialog_updated_p99_ms"`
	ManagerDialogUpdates int64   `json:"manager_dialog_updates"` // dialog.updated frames carrying a visitor message as the last

	Errors     int64            `json:"errors"`
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	Lost       int64            `json:"lost"` // acknowledged messages or answers missing somewhere after the drain

	MetricsAvailable bool    `json:"metrics_available"`
	ServerRSSBytes   int64   `json:"server_rss_bytes"`
	ServerCPUCores   float64 `json:"server_cpu_cores"`
	BenchCPUCores    float64 `json:"bench_cpu_cores"`

	Server string `json:"server,omitempty"`
}

// RunVisitors runs the visitor mode against the server at opt.URL.
func RunVisitors(ctx context.Context, opt Options) (*VisitorReport, error) {
	if opt.URL == "" {
		return nil, errors.New("loadgen: the server URL is required")
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Visitors == 0 {
		return nil, errors.New("loadgen: the visitor mode needs visitors")
	}
	if err := RaiseFileLimit(opt.FilesNeeded()); err != nil {
		return nil, err
	}
	wsTr, _ := wsTransport(opt.URL, opt.Visitors+opt.Consultants+opt.Managers)
	secret := make([]byte, 12)
	rand.Read(secret)
	base := strings.TrimRight(opt.URL, "/")
	// Visitors send over HTTP, up to one request each at a time.
	hc := &http.Client{Transport: newTransport(max(opt.Parallel*4, 256)), Timeout: time.Minute}
	r := &vrunner{
		opt:    opt,
		api:    &api{base: base, hc: hc},
		widget: &api{base: base, hc: hc, origin: benchOrigin},
		base:   base,
		wsHC:   &http.Client{Transport: wsTr},
		epoch:  time.Now(),
		runID:  hex.EncodeToString(secret[:4]),
		pass:   "bench-" + hex.EncodeToString(secret[4:]),
		done:   make(chan struct{}),
	}
	defer hc.CloseIdleConnections()
	stop := context.AfterFunc(ctx, r.closeSockets)
	defer stop()
	defer func() {
		r.closeSockets()
		r.readers.Wait()
		r.writers.Wait()
	}()
	return r.run(ctx)
}

func (r *vrunner) progress(format string, args ...any) {
	if r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, "bench: "+format+"\n", args...)
	}
}

func (r *vrunner) run(ctx context.Context) (*VisitorReport, error) {
	o := r.opt
	rep := &VisitorReport{Target: o.URL, Visitors: o.Visitors, Consultants: o.Consultants, Rate: o.Rate,
		DurationS: o.Duration.Seconds(), Managers: o.Managers}
	t0 := time.Now()
	r.progress("creating a project with %d consultants and %d visitors, and %d managers", o.Consultants, o.Visitors, o.Managers)
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	rep.SetupS = round(time.Since(t0).Seconds(), 2)
	if err := r.seedDialogs(ctx, rep); err != nil {
		return nil, err
	}
	if err := r.sendPhase(ctx, rep); err != nil {
		return nil, err
	}
	r.closeSockets()
	r.readers.Wait()
	r.writers.Wait()
	r.finish(rep)
	return rep, nil
}

// setUp creates the project, its consultants (level 1, connected) and the
// visitors (sessions and sockets).
func (r *vrunner) setUp(ctx context.Context) error {
	o := r.opt
	admin, err := r.api.admin(ctx, o, r.runID, r.pass)
	if err != nil {
		return err
	}
	var project struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	if err := r.api.call(ctx, "POST", "/api/v1/projects", admin, map[string]any{
		"name": "Bench " + r.runID, "origins": []string{benchOrigin}, "chat_enabled": true}, &project); err != nil {
		return fmt.Errorf("creating the project: %w", err)
	}
	r.key = project.Key

	r.cons = make([]*consultant, o.Consultants)
	if err := forEach(ctx, o.Consultants, o.Parallel, func(ctx context.Context, i int) error {
		c := &consultant{idx: i, answers: make(chan answer, 1<<16), lastSeq: map[int64]int64{}, alerted: map[int]bool{}}
		var err error
		c.id, c.token, err = r.api.createUser(ctx, admin, fmt.Sprintf("bench-%s-consultant-%d@example.com", r.runID, i),
			fmt.Sprintf("Consultant %d", i), r.pass, "agent")
		if err != nil {
			return err
		}
		if err := r.api.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/specialists", project.ID), admin,
			map[string]any{"user_id": c.id, "level": 1}, nil); err != nil {
			return err
		}
		r.cons[i] = c
		return nil
	}); err != nil {
		return fmt.Errorf("creating consultants: %w", err)
	}
	if err := r.createManagers(ctx, admin); err != nil {
		return err
	}

	planned := int(o.Rate*o.Duration.Seconds() + 0.5)
	r.vis = make([]*visitor, o.Visitors)
	if err := forEach(ctx, o.Visitors, o.Parallel, func(ctx context.Context, i int) error {
		v := &visitor{idx: i}
		n := (planned - i + o.Visitors - 1) / o.Visitors // message j is visitor j%Visitors's
		v.sends, v.replies = make([]record, n), make([]record, n)
		var out struct {
			Token string `json:"token"`
		}
		if err := r.widget.call(ctx, "POST", "/api/v1/widget/sessions", "", map[string]any{"project": r.key,
			"name": visitorName + strconv.Itoa(i), "page_url": benchOrigin + "/pricing"}, &out); err != nil {
			return err
		}
		v.token = out.Token
		r.vis[i] = v
		return nil
	}); err != nil {
		return fmt.Errorf("starting visitor sessions: %w", err)
	}

	r.progress("connecting %d consultants, %d managers and %d visitors", o.Consultants, o.Managers, o.Visitors)
	for _, c := range r.cons {
		ws, err := r.open(ctx, r.base+"/api/v1/ws?client=bench&version=1", http.Header{"Authorization": {"Bearer " + c.token}})
		if err != nil {
			return fmt.Errorf("connecting a consultant: %w", err)
		}
		c.ws = ws
		r.readers.Add(1)
		go r.readConsultant(c)
		r.writers.Add(1)
		go r.answer(c)
	}
	if err := r.connectManagers(ctx); err != nil {
		return err
	}
	return forEach(ctx, o.Visitors, 4*o.Parallel, func(ctx context.Context, i int) error {
		v := r.vis[i]
		ws, err := r.open(ctx, r.base+"/api/v1/widget/ws?token="+v.token, http.Header{"Origin": {benchOrigin}})
		if err != nil {
			return fmt.Errorf("connecting a visitor: %w", err)
		}
		v.mu.Lock()
		v.ws = ws
		v.mu.Unlock()
		r.readers.Add(1)
		go r.readVisitor(v)
		return nil
	})
}

// open dials a socket and reads its hello.
func (r *vrunner) open(ctx context.Context, url string, h http.Header) (*websocket.Conn, error) {
	return r.sockets.open(ctx, r.wsHC, url, h)
}

// readFrames calls fn for every frame of every message on ws until it
// closes; a close the run did not cause (ending not set) counts as a
// failure, as do frames that do not parse.
func readFrames(ws *websocket.Conn, epoch time.Time, ending *atomic.Bool, st *stats, fn func(f *frame, now int64)) {
	var buf bytes.Buffer
	var f frame
	for {
		typ, rd, err := ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			if !ending.Load() {
				st.fail("disconnected", 1)
			}
			return
		}
		if typ != websocket.MessageText {
			st.fail("bad_frame", 1)
			continue
		}
		now := time.Since(epoch).Nanoseconds()
		it := arrayIter{b: buf.Bytes()}
		for {
			el, ok, err := it.next()
			if err != nil {
				st.fail("bad_frame", 1)
			}
			if err != nil || !ok {
				break
			}
			if parseFrame(el, &f) != nil {
				st.fail("bad_frame", 1)
				continue
			}
			fn(&f, now)
		}
	}
}

// readFrames reads one of the run's sockets (see the function).
func (r *vrunner) readFrames(ws *websocket.Conn, fn func(f *frame, now int64)) {
	defer r.readers.Done()
	readFrames(ws, r.epoch, &r.ending, &r.st, fn)
}

// readConsultant handles a consultant's staff socket: new-dialog alerts,
// visitors' messages, and the acknowledgements of its answers.
func (r *vrunner) readConsultant(c *consultant) {
	r.readFrames(c.ws, func(f *frame, now int64) {
		switch string(f.typ) {
		case `"dialog.updated"`:
			name, waiting := dialogFields(f.data)
			i, ok := visitorIndex(name)
			if !ok || i >= len(r.vis) || !waiting || c.alerted[i] {
				return
			}
			c.alerted[i] = true
			v := r.vis[i]
			if t := v.sends[0].sentAt.Load(); t > 0 {
				c.alertLat = append(c.alertLat, now-t)
			}
			v.alerts.Add(1)
			r.alertsGot.Add(1)
			if v.idx%len(r.cons) == c.idx {
				r.writers.Add(1)
				go r.connect(c, v, f.conv)
			}
		case `"message.created"`:
			_, cid, err := messageFields(f.data)
			if err != nil {
				r.st.fail("bad_frame", 1)
				return
			}
			if f.seq <= c.lastSeq[f.conv] {
				r.st.fail("duplicate_delivery", 1)
				return
			}
			c.lastSeq[f.conv] = f.seq
			if len(cid) < 2 || cid[0] != 'v' {
				return // an answer or a system line
			}
			i, k, ok := parseClientID(cid[1:])
			if !ok || i >= len(r.vis) || k >= len(r.vis[i].sends) {
				return
			}
			v := r.vis[i]
			rec := &v.sends[k]
			rec.got.Add(1)
			if t := rec.sentAt.Load(); t > 0 {
				c.lat = append(c.lat, now-t)
			}
			r.st.deliveries.Add(1)
			if v.idx%len(r.cons) == c.idx {
				v.mu.Lock()
				if v.connected {
					r.queue(c, answer{i, k})
				} else {
					v.pending = append(v.pending, k)
				}
				v.mu.Unlock()
			}
		case `"ack"`:
			if v, k, ok := r.answerOf(f.req); ok && v.replies[k].state.CompareAndSwap(pending, acked) {
				v.replies[k].ackAt.Store(now)
				r.answerAcked.Add(1)
			}
		case `"error"`:
			if v, k, ok := r.answerOf(f.req); ok {
				v.replies[k].state.CompareAndSwap(pending, failed)
			}
			r.st.fail(errorCode(f.err), 1)
		}
	})
}

// The req of an answer encodes the visitor and the message it answers.
func (r *vrunner) answerReq(v, k int) int64 {
	return int64(v)*int64(len(r.vis[0].sends)+1) + int64(k) + 1
}

func (r *vrunner) answerOf(req int64) (*visitor, int, bool) {
	per := int64(len(r.vis[0].sends) + 1)
	v, k := int((req-1)/per), int((req-1)%per)
	if req < 1 || v >= len(r.vis) || k >= len(r.vis[v].replies) {
		return nil, 0, false
	}
	return r.vis[v], k, true
}

// connect connects consultant c to v's dialog and then answers what v
// wrote meanwhile.
func (r *vrunner) connect(c *consultant, v *visitor, conv int64) {
	defer r.writers.Done()
	v.mu.Lock()
	v.conv = conv
	v.mu.Unlock()
	if err := r.api.call(context.Background(), "POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), c.token, nil, nil); err != nil {
		if !r.ending.Load() {
			r.st.fail("connect_failed", 1)
			r.progress("connecting to dialog %d: %v", conv, err)
		}
		return
	}
	r.connects.Add(1)
	v.mu.Lock()
	v.connected = true
	for _, k := range v.pending {
		r.queue(c, answer{v.idx, k})
	}
	v.pending = nil
	v.mu.Unlock()
}

// queue hands an answer to c's writer, unless the run is ending.
func (r *vrunner) queue(c *consultant, a answer) {
	select {
	case c.answers <- a:
	case <-r.done:
	}
}

// answer sends c's answers on its socket, in the order they were due.
func (r *vrunner) answer(c *consultant) {
	defer r.writers.Done()
	var b []byte
	for {
		var a answer
		select {
		case a = <-c.answers:
		case <-r.done:
			return
		}
		v := r.vis[a.v]
		v.mu.Lock()
		conv := v.conv
		v.mu.Unlock()
		b = append(b[:0], `{"type":"send","req":`...)
		b = strconv.AppendInt(b, r.answerReq(a.v, a.k), 10)
		b = append(b, `,"conversation_id":`...)
		b = strconv.AppendInt(b, conv, 10)
		b = append(b, `,"client_id":"a`...)
		b = strconv.AppendInt(b, int64(a.v), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(a.k), 10)
		b = append(b, `","text":"bench answer `...)
		b = strconv.AppendInt(b, int64(a.v), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(a.k), 10)
		b = append(b, `"}`...)
		v.replies[a.k].sentAt.Store(time.Since(r.epoch).Nanoseconds())
		if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
			if !r.ending.Load() {
				r.st.fail("write_failed", 1)
			}
			return
		}
	}
}

// readVisitor handles a visitor's socket: the consultants' answers.
func (r *vrunner) readVisitor(v *visitor) {
	prefix := []byte("bench answer ")
	r.readFrames(v.ws, func(f *frame, now int64) {
		if string(f.typ) != `"message.created"` {
			return
		}
		from, text := visitorMessageFields(f.data)
		if string(from) != "consultant" || !bytes.HasPrefix(text, prefix) {
			return
		}
		i, k, ok := parseClientID(text[len(prefix):])
		if !ok || i != v.idx || k >= len(v.replies) {
			r.st.fail("misdelivered", 1) // another visitor's answer: never acceptable
			return
		}
		rec := &v.replies[k]
		if rec.got.Add(1) > 1 {
			r.st.fail("duplicate_delivery", 1)
			return
		}
		if t := rec.sentAt.Load(); t > 0 {
			v.lat = append(v.lat, now-t)
		}
		r.answerGot.Add(1)
	})
}

// send writes v's messages through the widget API on schedule: message k
// at (idx + k·Visitors)/Rate seconds after start.
func (r *vrunner) send(v *visitor, start time.Time, stop <-chan struct{}) {
	n := len(r.vis)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := range v.sends {
		due := start.Add(time.Duration(float64(v.idx+k*n) / r.opt.Rate * 1e9))
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-stop:
				return
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		v.lag = append(v.lag, time.Since(due).Nanoseconds())
		rec := &v.sends[k]
		sent := time.Since(r.epoch).Nanoseconds()
		rec.sentAt.Store(sent)
		r.st.sent.Add(1)
		id := strconv.Itoa(v.idx) + "." + strconv.Itoa(k)
		err := r.widget.call(context.Background(), "POST", "/api/v1/widget/messages", v.token,
			map[string]string{"client_id": "v" + id, "text": "bench visitor " + id}, nil)
		now := time.Since(r.epoch).Nanoseconds()
		if err != nil {
			rec.state.Store(failed)
			r.st.failed.Add(1)
			code := "http"
			if e, ok := err.(*apiError); ok {
				code = e.Code
			}
			r.st.fail(code, 1)
			continue
		}
		rec.ackAt.Store(now)
		rec.state.Store(acked)
		if k == 0 {
			r.dialogs.Add(1)
		}
		r.st.acked.Add(1)
		r.st.expected.Add(int64(len(r.cons)))
		v.ackLat = append(v.ackLat, now-sent)
		storeMax(&r.st.lastAck, now)
	}
}

// sendPhase runs the visitors' schedules, then waits at most Drain for
// the answers, deliveries and alerts still due.
func (r *vrunner) sendPhase(ctx context.Context, rep *VisitorReport) error {
	o := r.opt
	rep.MessagesPlanned = int64(o.Rate*o.Duration.Seconds() + 0.5)
	r.progress("%d visitors write %g messages/s for %s; consultants answer each", o.Visitors, o.Rate, o.Duration)
	m0, merr := r.api.metrics(ctx)
	cpu0 := cpuTime()
	// A visitor's send is an HTTP call: 5 s more for those in flight.
	start, end, err := sendAndDrain(ctx, len(r.vis), o.Duration+5*time.Second, o.Drain,
		func(i int, start time.Time, stop <-chan struct{}) { r.send(r.vis[i], start, stop) },
		r.drained,
		func(start, now time.Time) {
			r.progress("%5.1fs  visitors sent %d, acknowledged %d  answers %d  dialogs connected %d  alerts %d  in managers' lists %d", now.Sub(start).Seconds(),
				r.st.sent.Load(), r.st.acked.Load(), r.answerGot.Load(), r.connects.Load(), r.alertsGot.Load(), r.managerGot.Load())
		})
	if err != nil {
		return err
	}
	r.cutoff = end.Sub(r.epoch).Nanoseconds()
	elapsed := end.Sub(start).Seconds()
	rep.ElapsedS = round(elapsed, 2)
	rep.BenchCPUCores = round((cpuTime()-cpu0).Seconds()/elapsed, 2)
	if merr == nil {
		if m1, err := r.api.metrics(ctx); err == nil {
			rep.MetricsAvailable = true
			rep.ServerCPUCores = round((m1.CPU-m0.CPU)/elapsed, 2)
			rep.ServerRSSBytes = int64(m1.RSS)
		}
	}
	return nil
}

// drained reports whether every visitor message reached every consultant
// and every manager's list and was answered, every answer arrived, and
// every consultant was alerted to every dialog.
func (r *vrunner) drained() bool {
	s := &r.st
	acked := s.acked.Load()
	return acked+s.failed.Load() >= s.sent.Load() && s.deliveries.Load() >= s.expected.Load() &&
		r.answerGot.Load() >= acked && r.alertsGot.Load() >= r.dialogs.Load()*int64(len(r.cons)) &&
		r.managerGot.Load() >= acked*int64(len(r.mgrs))
}

// closeSockets ends every connection and the consultants' answer writers.
func (r *vrunner) closeSockets() {
	if r.sockets.closeAll() {
		close(r.done)
	}
}

// finish computes the report once every goroutine has ended.
func (r *vrunner) finish(rep *VisitorReport) {
	var all, vis, ans, alerts, ack, lag []int64
	for _, c := range r.cons {
		vis = append(vis, c.lat...)
		alerts = append(alerts, c.alertLat...)
	}
	want := int32(len(r.cons))
	notListed := r.finishManagers(rep)
	for _, v := range r.vis {
		ans, ack, lag = append(ans, v.lat...), append(ack, v.ackLat...), append(lag, v.lag...)
		if v.sends[0].state.Load() == acked {
			rep.Dialogs++
			rep.AlertsMissing += int64(want - min(v.alerts.Load(), want))
		}
		for k := range v.sends {
			s, a := &v.sends[k], &v.replies[k]
			if s.state.Load() == acked && s.ackAt.Load() <= r.cutoff {
				rep.MessagesAcked++
				if s.got.Load() < want || a.got.Load() == 0 || notListed[[2]int{v.idx, k}] {
					rep.Lost++ // not at every consultant or manager, or never answered to the visitor
				}
			}
			if a.sentAt.Load() != 0 {
				rep.AnswersSent++
			}
			if a.state.Load() == acked {
				rep.AnswersAcked++
			}
		}
	}
	all = append(append(all, vis...), ans...)
	for _, s := range [][]int64{all, vis, ans, alerts, ack, lag} {
		slices.Sort(s)
	}
	rep.P50Ms, rep.P99Ms, rep.MaxMs = ms(quantile(all, 0.5)), ms(quantile(all, 0.99)), ms(quantile(all, 1))
	rep.VisitorP50Ms, rep.VisitorP99Ms = ms(quantile(vis, 0.5)), ms(quantile(vis, 0.99))
	rep.AnswerP50Ms, rep.AnswerP99Ms = ms(quantile(ans, 0.5)), ms(quantile(ans, 0.99))
	rep.AlertP50Ms, rep.AlertP99Ms, rep.AlertMaxMs = ms(quantile(alerts, 0.5)), ms(quantile(alerts, 0.99)), ms(quantile(alerts, 1))
	rep.AckP99Ms, rep.SendLagP99Ms = ms(quantile(ack, 0.99)), ms(quantile(lag, 0.99))
	rep.Alerts = int64(len(alerts))
	rep.MessagesSent = r.st.sent.Load()
	rep.Deliveries = r.st.deliveries.Load() + r.answerGot.Load()
	if rep.ElapsedS > 0 {
		rep.SentPerSec = round(float64(rep.MessagesAcked+rep.AnswersAcked)/rep.ElapsedS, 1)
	}
	rep.ErrorCodes = r.st.errorCodes()
	for _, n := range rep.ErrorCodes {
		rep.Errors += n
	}
}
