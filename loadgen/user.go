package loadgen

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// record is one planned message of a user. The sender fills it in and
// other users' readers count its deliveries, so every field is atomic.
type record struct {
	sentAt atomic.Int64 // nanoseconds since the run's epoch; 0 until sent
	ackAt  atomic.Int64 // nanoseconds since the run's epoch; 0 until acknowledged
	state  atomic.Int32 // pending, acked or failed
	got    atomic.Int32 // members other than the sender that received it
}

// planned is one message a user sends: when, after the start of the send
// phase, and to which conversation.
type planned struct {
	at   time.Duration
	conv int64
}

const (
	pending int32 = iota
	acked
	failed
)

// simUser is a simulated user: one WebSocket with a reader goroutine, and
// a sender goroutine during the send phase.
type simUser struct {
	idx   int
	id    int64
	email string
	token string
	convs []int64   // the conversations it is a member of
	plan  []planned // its messages, in the order it sends them
	recs  []record  // message k (plan[k]) has req k+1 and client id "<idx>.<k>"

	mu      sync.Mutex
	ws      *websocket.Conn // nil once it could not reconnect
	changed chan struct{}   // closed when ws is replaced
	cursor  atomic.Int64    // the last stream position received, to resume from

	// Owned by whichever goroutine reads the socket; read by finish after
	// every reader ended.
	buf     bytes.Buffer
	lastSeq map[int64]int64 // conversation → last message seq received
	lat     []int64         // delivery latencies of other users' messages (ns)
	ackLat  []int64         // acknowledgement latencies of its own messages (ns)
	// A socket that replaces a lost one: when the loss was seen and when
	// the new socket's hello came (ns since epoch), and each such wait.
	lostAt, helloAt int64
	reconn          []int64
	resp            *http.Response // the current socket's handshake answer, for the Observer
	// Owned by the sender.
	lag []int64 // how late each send was against its schedule (ns)
}

// conn returns the current socket and a channel closed when it changes.
func (u *simUser) conn() (*websocket.Conn, chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ws, u.changed
}

// swap replaces the socket and wakes senders waiting for a new one. It
// refuses (closing ws) once the run is ending.
func (r *runner) swap(u *simUser, ws *websocket.Conn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if r.ending.Load() && ws != nil {
		ws.CloseNow()
		return false
	}
	u.ws = ws
	close(u.changed)
	u.changed = make(chan struct{})
	return true
}

// connect opens u's socket and starts its reader.
func (r *runner) connect(ctx context.Context, u *simUser) error {
	ws, err := r.open(ctx, u)
	if err != nil {
		return err
	}
	if !r.swap(u, ws) {
		return context.Canceled
	}
	r.readers.Add(1)
	r.userReaders.Add(1)
	go func() {
		defer r.userReaders.Done()
		r.read(u, ws)
	}()
	return nil
}

// open dials u's socket, resuming from its cursor, and handles the first
// message, which must begin with hello (a resumed stream continues with the
// missed events in the same message).
func (r *runner) open(ctx context.Context, u *simUser) (*websocket.Conn, error) {
	ws, resp, err := r.dialResp(ctx, u.token, u.cursor.Load())
	if err != nil {
		return nil, err
	}
	if r.opt.Observer != nil {
		u.resp = resp
	}
	if err := r.readOne(u, ws, true); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return ws, nil
}

var errNoHello = errors.New("loadgen: the first frame was not hello")

// readOne reads one message of ws and handles its frames.
func (r *runner) readOne(u *simUser, ws *websocket.Conn, first bool) error {
	typ, rd, err := ws.Reader(context.Background())
	if err != nil {
		return err
	}
	u.buf.Reset()
	if _, err := u.buf.ReadFrom(rd); err != nil {
		return err
	}
	if typ != websocket.MessageText {
		r.st.fail("bad_frame", 1)
		return nil
	}
	if hello := r.handle(u, u.buf.Bytes()); first && !hello {
		return errNoHello
	}
	return nil
}

// read handles u's frames until the run ends. A connection the server
// closes (a slow consumer, a restart) is resumed from the cursor, the way a
// real client does, and unacknowledged sends are sent again with the same
// client id.
func (r *runner) read(u *simUser, ws *websocket.Conn) {
	defer r.readers.Done()
	for {
		var err error
		for err == nil {
			err = r.readOne(u, ws, false)
		}
		ws.CloseNow()
		if r.ending.Load() || r.storming.Load() {
			return
		}
		// The reconnect time runs from here, when the loss is seen (a
		// node that died: its sockets end at once), to the new socket's
		// hello: the wait a user sees.
		u.lostAt = time.Since(r.epoch).Nanoseconds()
		if n := r.st.reconnects.Add(1); n <= 5 {
			r.progress("user %d lost its connection (%v); resuming", u.idx, err)
		}
		ws = nil
		for attempt := 0; attempt < 10 && ws == nil && !r.ending.Load(); attempt++ {
			time.Sleep(time.Duration(50<<min(attempt, 5)) * time.Millisecond)
			ws, _ = r.open(context.Background(), u)
		}
		if ws == nil {
			if !r.ending.Load() {
				r.st.fail("disconnected", 1)
			}
			r.swap(u, nil)
			return
		}
		u.reconn = append(u.reconn, u.helloAt-u.lostAt)
		if !r.swap(u, ws) {
			return
		}
		r.writers.Add(1)
		go func() {
			defer r.writers.Done()
			r.resend(u)
		}()
	}
}

// handle reads the frames of one server message and reports whether one
// was hello.
func (r *runner) handle(u *simUser, msg []byte) (hello bool) {
	now := time.Since(r.epoch).Nanoseconds()
	it := arrayIter{b: msg}
	var f frame
	for {
		el, ok, err := it.next()
		if err != nil {
			r.st.fail("bad_frame", 1)
			return hello
		}
		if !ok {
			return hello
		}
		if err := parseFrame(el, &f); err != nil {
			r.st.fail("bad_frame", 1)
			continue
		}
		switch string(f.typ) {
		case `"message.created"`:
			r.onMessage(u, &f, now)
		case `"ack"`:
			r.onAck(u, &f, now)
		case `"error"`:
			r.onError(u, &f)
		case `"hello"`:
			hello = true
			u.helloAt = now
			if f.resync {
				r.st.fail("resync", 1) // events were missed for good
			}
			if o := r.opt.Observer; o != nil {
				var lost time.Time
				if u.lostAt != 0 {
					lost = r.epoch.Add(time.Duration(u.lostAt))
				}
				o.Hello(u.id, u.resp, lost, r.epoch.Add(time.Duration(now)))
			}
		}
		if f.id > u.cursor.Load() {
			u.cursor.Store(f.id)
		}
	}
}

func (r *runner) onMessage(u *simUser, f *frame, now int64) {
	sender, cid, err := messageFields(f.data)
	if err != nil {
		r.st.fail("bad_frame", 1)
		return
	}
	if o := r.opt.Observer; o != nil {
		o.Received(u.id, f.id, f.conv, f.seq)
	}
	if f.seq <= u.lastSeq[f.conv] {
		r.st.fail("duplicate_delivery", 1) // or out of order: either breaks the stream's promise
		return
	}
	u.lastSeq[f.conv] = f.seq
	if sender == u.id {
		r.st.echoes.Add(1) // the sender's own device; not counted as a delivery
		return
	}
	s, k, ok := parseClientID(cid)
	if !ok || s >= len(r.users) || k >= len(r.users[s].recs) || r.users[s].id != sender {
		return // not a bench message
	}
	rec := &r.users[s].recs[k]
	rec.got.Add(1)
	if t := rec.sentAt.Load(); t > 0 {
		u.lat = append(u.lat, now-t)
	}
	r.st.deliveries.Add(1)
	storeMax(&r.st.lastDeliv, now)
}

func (r *runner) onAck(u *simUser, f *frame, now int64) {
	k := int(f.req - 1)
	if k < 0 || k >= len(u.recs) {
		return
	}
	rec := &u.recs[k]
	if !rec.state.CompareAndSwap(pending, acked) {
		r.st.dupAcks.Add(1) // a resend answered with the first result
		return
	}
	rec.ackAt.Store(now)
	if o := r.opt.Observer; o != nil {
		o.Acked(u.id, strconv.Itoa(u.idx)+"."+strconv.Itoa(k))
	}
	r.st.acked.Add(1)
	r.st.expected.Add(int64(r.opt.GroupSize - 1))
	u.ackLat = append(u.ackLat, now-rec.sentAt.Load())
	storeMax(&r.st.lastAck, now)
}

func (r *runner) onError(u *simUser, f *frame) {
	if k := int(f.req - 1); k >= 0 && k < len(u.recs) && u.recs[k].state.CompareAndSwap(pending, failed) {
		r.st.failed.Add(1)
	}
	r.st.fail(errorCode(f.err), 1)
}

// send sends u's planned messages on schedule (runner.plan), so that the
// users' sends interleave evenly at the total rate. A late send goes at
// once (the schedule does not slip), and the lateness is recorded.
func (r *runner) send(u *simUser, start time.Time, stop <-chan struct{}) {
	if len(u.recs) == 0 {
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	u.lag = make([]int64, 0, len(u.recs))
	var buf []byte
	for k := range u.recs {
		due := start.Add(u.plan[k].at)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-stop:
				return
			}
		} else {
			select {
			case <-stop:
				return
			default:
			}
		}
		u.lag = append(u.lag, time.Since(due).Nanoseconds())
		buf = r.appendSend(buf[:0], u, k)
		u.recs[k].sentAt.Store(time.Since(r.epoch).Nanoseconds())
		r.st.sent.Add(1)
		if !r.write(u, buf) {
			return
		}
	}
}

// resend sends again, with their client ids, the messages sent but not
// yet answered, after a reconnect.
func (r *runner) resend(u *simUser) {
	var buf []byte
	for k := range u.recs {
		rec := &u.recs[k]
		if rec.sentAt.Load() == 0 {
			return // sends go in order: nothing later was sent either
		}
		if rec.state.Load() != pending {
			continue
		}
		buf = r.appendSend(buf[:0], u, k)
		if !r.write(u, buf) {
			return
		}
	}
}

// write sends one frame on u's socket; if the socket fails it waits for
// the reader to reconnect and tries again.
func (r *runner) write(u *simUser, b []byte) bool {
	for {
		ws, changed := u.conn()
		if ws == nil || r.ending.Load() {
			return false
		}
		if ws.Write(context.Background(), websocket.MessageText, b) == nil {
			return true
		}
		if r.ending.Load() {
			return false
		}
		select {
		case <-changed:
		case <-time.After(15 * time.Second):
			r.st.fail("write_failed", 1)
			return false
		}
	}
}

// appendSend appends the send frame of u's message k.
func (r *runner) appendSend(b []byte, u *simUser, k int) []byte {
	b = append(b, `{"type":"send","req":`...)
	b = strconv.AppendInt(b, int64(k+1), 10)
	b = append(b, `,"conversation_id":`...)
	b = strconv.AppendInt(b, u.plan[k].conv, 10)
	b = append(b, `,"client_id":"`...)
	id := len(b)
	b = strconv.AppendInt(b, int64(u.idx), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(k), 10)
	end := len(b)
	b = append(b, `","text":"`...)
	text := len(b)
	b = append(b, "parley bench message "...)
	b = append(b, b[id:end]...)
	b = append(b, ' ')
	for len(b)-text < r.opt.MessageSize {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}
