package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley"
)

// maxGroup bounds how many writes share one transaction.
const maxGroup = 2048

// groupWriter runs every write of the store. It is the only batching
// layer: writes queue here, the writes that arrive while a transaction is
// under way run in the next one, and writes of one kind (sends) can also
// share statements through a parley.Batcher, whose items that share a
// transaction are applied in one call.
//
// Executors run the transactions; the completer publishes each committed
// transaction's events and answers its writes, in commit order, while the
// executors go on. A transaction that emits events takes the events lock
// before it stores them (a no-op on SQLite) and joins the completer's line
// while it holds it, so the line is in commit order, which is stream order.
//
// On SQLite, which has one writer and an fsync per commit, one executor
// runs everything queued as one transaction (a group), without savepoints
// (each would copy every page it touches): a write that fails before
// changing anything is simply left out; one that fails after (or breaks
// the transaction, or panics) makes the group roll back and start again
// without it, so it is undone alone.
//
// On PostgreSQL, pgExecutors executors run at once, each taking one write
// (or every queued item of one Batcher) as its own transaction, so that
// several are in flight and the database's cores and commit flushes are
// shared. Each transaction locks rows in one order (a contact's row before
// its conversations', a conversation's row before anything in it, several
// conversations in ID order; see lockConversations): transactions of this
// node or any other then wait for each other in one order and never
// deadlock, which one transaction gathering unrelated writes could not
// promise.
type groupWriter struct {
	s       *Store
	mu      sync.Mutex
	queue   []*writeReq
	closed  bool
	wake    chan struct{}
	quit    chan struct{}    // closed by close
	busy    map[laneKey]bool // PostgreSQL: lanes an executor works
	slots   chan struct{}    // a token per queued or unanswered write
	running sync.WaitGroup

	// The completer's line, in commit order.
	lineMu  sync.Mutex
	line    []*group
	lineEnd bool          // no executor is left to join it
	next    chan struct{} // signalled when the line grows or ends
	stopped chan struct{} // closed once every write is answered

	commits, writes, restarts atomic.Int64 // for Stats
}

// pgExecutors is how many transactions one node runs at once on
// PostgreSQL. A Batcher's items go into as many lanes by their BatchKey;
// one executor at a time works a lane, so that the node's concurrent
// transactions of one kind touch different rows (sends: different
// conversations) instead of waiting for each other's locks.
const pgExecutors = 4

// laneKey names a lane: a Batcher's items whose keys are equal modulo
// pgExecutors.
type laneKey struct {
	b    parley.Batcher
	lane int64
}

func laneOf(r *writeReq) laneKey {
	k := r.batch.BatchKey(r.item) % pgExecutors
	if k < 0 {
		k += pgExecutors
	}
	return laneKey{r.batch, k}
}

// writeReq is one write waiting for the writer: a function (Write) or an
// item of a batch (Submit).
type writeReq struct {
	ctx   context.Context
	fn    func(tx parley.Tx) error
	batch parley.Batcher
	item  any
	// done answers the write once its group committed or failed.
	done func(events []parley.Event, err error, panicked any)

	events   []parley.Event
	err      error
	panicked any
	stack    []byte // where it panicked
}

// unit is what runs as one step of a group: a Write's function, or every
// item of one Batcher in the group.
type unit struct {
	reqs        []*writeReq
	excluded    bool // failed after changing something: left out of the group
	first, last int  // its events in the group's
}

// group is one transaction's worth of writes, on its way to the completer.
type group struct {
	reqs      []*writeReq
	events    []parley.Event // stored, in stream order
	err       error          // the group as a whole failed
	committed chan struct{}  // closed once it committed or failed (err)
}

func newGroupWriter(s *Store, maxPending int) *groupWriter {
	w := &groupWriter{s: s, wake: make(chan struct{}, 1), quit: make(chan struct{}), busy: make(map[laneKey]bool), slots: make(chan struct{}, maxPending),
		next: make(chan struct{}, 1), stopped: make(chan struct{})}
	n := 1
	if s.dialect.name() == "postgres" {
		n = pgExecutors
	}
	for range n {
		w.running.Add(1)
		go w.run()
	}
	go func() {
		w.running.Wait()
		w.lineMu.Lock()
		w.lineEnd = true
		w.lineMu.Unlock()
		w.signal(w.next)
	}()
	go w.complete()
	return w
}

func (w *groupWriter) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// enqueue queues r once there is room, and reports whether it did; if
// the store is closed or ctx ends first it answers r itself.
func (w *groupWriter) enqueue(r *writeReq) {
	select {
	case w.slots <- struct{}{}:
	case <-r.ctx.Done():
		r.done(nil, parley.Errorf(parley.EUNAVAILABLE, "the server is busy; retry"), nil)
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.slots
		r.done(nil, parley.Errorf(parley.EUNAVAILABLE, "the server is shutting down; retry"), nil)
		return
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// write queues fn and waits for its group. Once queued it is not
// abandoned when ctx ends: it may commit, and the caller learns the
// outcome.
func (w *groupWriter) write(ctx context.Context, fn func(tx parley.Tx) error) ([]parley.Event, error) {
	type result struct {
		events   []parley.Event
		err      error
		panicked any
	}
	ch := make(chan result, 1)
	w.enqueue(&writeReq{ctx: ctx, fn: fn, done: func(evs []parley.Event, err error, p any) { ch <- result{evs, err, p} }})
	r := <-ch
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.events, r.err
}

// submit queues an item of b; done is called from the completer.
func (w *groupWriter) submit(ctx context.Context, b parley.Batcher, item any, done func(error)) {
	r := &writeReq{ctx: ctx, batch: b, item: item}
	r.done = func(_ []parley.Event, err error, p any) {
		if p != nil {
			// Nobody waits to panic again: log where it happened.
			w.s.log.Error("a batch panicked", "panic", fmt.Sprint(p), "stack", string(r.stack))
			err = fmt.Errorf("sqlstore: batch panicked: %v", p)
		}
		done(err)
	}
	w.enqueue(r)
}

// close refuses new writes and returns once the queued ones are answered.
func (w *groupWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.stopped
}

// run is an executor.
func (w *groupWriter) run() {
	defer w.running.Done()
	pg := w.s.dialect.name() == "postgres"
	for {
		w.mu.Lock()
		reqs, lane := w.take(pg)
		closed := w.closed
		w.mu.Unlock()
		if len(reqs) > 0 {
			w.execute(reqs)
			if lane != nil {
				w.mu.Lock()
				delete(w.busy, *lane)
				w.mu.Unlock()
				w.signal(w.wake) // the lane's next items may wait
			}
			continue
		}
		if closed {
			if w.idle() {
				w.signal(w.wake) // another executor may wait for a lane
				return
			}
			<-w.wake // a lane is being worked: wait for it to be done
			continue
		}
		select {
		case <-w.wake:
		case <-w.quit:
		}
	}
}

// idle reports whether the queue is empty.
func (w *groupWriter) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue) == 0
}

// take removes the next transaction's writes from the queue: on SQLite
// everything queued (up to maxGroup); on PostgreSQL the first plain write,
// or the queued items of the first lane no executor works (up to
// maxGroup), which the caller works until it calls for more. The caller
// holds w.mu.
func (w *groupWriter) take(pg bool) (reqs []*writeReq, lane *laneKey) {
	if len(w.queue) == 0 {
		return nil, nil
	}
	if !pg {
		n := min(len(w.queue), maxGroup)
		reqs = w.queue[:n:n]
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil
		}
		return reqs, nil
	}
	first := -1
	for i, r := range w.queue {
		if r.batch == nil || !w.busy[laneOf(r)] {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, nil // every queued item's lane is being worked
	}
	rest := make([]*writeReq, 0, len(w.queue))
	rest = append(rest, w.queue[:first]...)
	if r := w.queue[first]; r.batch == nil {
		reqs = []*writeReq{r}
		rest = append(rest, w.queue[first+1:]...)
	} else {
		k := laneOf(r)
		lane = &k
		w.busy[k] = true
		for _, r := range w.queue[first:] {
			if r.batch != nil && len(reqs) < maxGroup && laneOf(r) == k {
				reqs = append(reqs, r)
			} else {
				rest = append(rest, r)
			}
		}
	}
	w.queue = rest
	if len(w.queue) == 0 {
		w.queue = nil
	} else {
		w.signal(w.wake) // more for another executor
	}
	return reqs, lane
}

// join puts g in the completer's line.
func (w *groupWriter) join(g *group) {
	w.lineMu.Lock()
	w.line = append(w.line, g)
	w.lineMu.Unlock()
	w.signal(w.next)
}

// complete publishes and answers groups in the order of the line.
func (w *groupWriter) complete() {
	defer close(w.stopped)
	for {
		w.lineMu.Lock()
		var g *group
		if len(w.line) > 0 {
			g = w.line[0]
			w.line[0] = nil
			w.line = w.line[1:]
		}
		end := w.lineEnd
		w.lineMu.Unlock()
		if g == nil {
			if end {
				return
			}
			<-w.next
			continue
		}
		<-g.committed
		if g.err == nil {
			w.s.publishEvents(context.Background(), g.events)
		}
		for _, r := range g.reqs {
			if g.err != nil && r.err == nil && r.panicked == nil {
				r.events, r.err = nil, g.err
			}
			r.done(r.events, r.err, r.panicked)
			<-w.slots
		}
	}
}

// execute runs one group in a transaction of its own, and puts it in the
// completer's line.
func (w *groupWriter) execute(reqs []*writeReq) {
	g := &group{reqs: reqs, committed: make(chan struct{})}
	units := unitsOf(reqs)
	w.writes.Add(int64(len(reqs)))
	for {
		restart, err := w.attempt(g, units)
		if restart {
			w.restarts.Add(1)
			continue
		}
		g.err = err
		break
	}
	close(g.committed)
}

// attempt runs the units not excluded in one transaction and commits it,
// putting g in the completer's line: just after the events lock is taken
// if it stores events (the lock orders the commits), otherwise when it is
// done. It reports restart when it excluded a unit and the group must run
// again without it.
func (w *groupWriter) attempt(g *group, units []*unit) (restart bool, err error) {
	s := w.s
	ctx := context.Background()
	g.events = g.events[:0]
	joined := false
	defer func() {
		if !joined && !restart {
			w.join(g)
		}
	}()
	live := 0
	for _, u := range units {
		if !u.excluded {
			live++
		}
	}
	if live == 0 {
		return false, nil
	}
	sqltx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer sqltx.Rollback() // a no-op once committed
	for _, u := range units {
		if u.excluded {
			continue
		}
		b := &book{ctx: ctx}
		evs, ok := u.run(s, sqltx, b)
		switch {
		case ok && b.broken == nil:
			u.first = len(g.events)
			g.events = append(g.events, evs...)
			u.last = len(g.events)
		case ok:
			// It went on after a statement broke the transaction.
			u.fail(fmt.Errorf("sqlstore: %w", b.broken))
			u.excluded = true
			return true, nil
		case b.wrote || b.broken != nil || u.panicked():
			u.excluded = true
			return true, nil
		}
	}
	if len(g.events) > 0 {
		if err := s.storeEvents(ctx, sqltx, g.events); err != nil {
			return false, err
		}
		for _, u := range units {
			if !u.excluded && u.reqs[0].batch == nil && u.reqs[0].err == nil {
				u.reqs[0].events = g.events[u.first:u.last:u.last]
			}
		}
		// The events lock is held until the commit: no other transaction
		// with events can join the line before this one.
		w.join(g)
		joined = true
	}
	if err := sqltx.Commit(); err != nil {
		return false, fmt.Errorf("sqlstore: commit: %w", err)
	}
	w.commits.Add(1)
	return false, nil
}

// unitsOf groups a batch's requests into units: each Write alone, the
// items of each Batcher together, in the order they first appear.
func unitsOf(reqs []*writeReq) []*unit {
	units := make([]*unit, 0, len(reqs))
	var byBatcher map[parley.Batcher]*unit
	for _, r := range reqs {
		if r.batch == nil {
			units = append(units, &unit{reqs: []*writeReq{r}})
			continue
		}
		if byBatcher == nil {
			byBatcher = make(map[parley.Batcher]*unit)
		}
		u := byBatcher[r.batch]
		if u == nil {
			u = &unit{}
			byBatcher[r.batch] = u
			units = append(units, u)
		}
		u.reqs = append(u.reqs, r)
	}
	return units
}

func (u *unit) panicked() bool {
	for _, r := range u.reqs {
		if r.panicked != nil {
			return true
		}
	}
	return false
}

func (u *unit) fail(err error) {
	for _, r := range u.reqs {
		r.events, r.err, r.panicked = nil, err, nil
	}
}

// run runs the unit in tx and reports whether it succeeded, with the
// events it emitted. Requests whose caller has gone are left out.
func (u *unit) run(s *Store, tx *sql.Tx, b *book) (events []parley.Event, ok bool) {
	t := &txn{q: q{s: s, db: tx, tx: tx, b: b}}
	var items []any
	for _, r := range u.reqs {
		r.events, r.err, r.panicked = nil, nil, nil
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		items = append(items, r.item)
	}
	if len(items) == 0 {
		return nil, false
	}
	var err error
	p, stack := protect(func() {
		if u.reqs[0].batch != nil {
			err = u.reqs[0].batch.ApplyBatch(b.ctx, t, items)
		} else {
			err = u.reqs[0].fn(t)
		}
	})
	for _, r := range u.reqs {
		switch {
		case r.err != nil: // its caller had gone
		case p != nil:
			r.panicked, r.stack = p, stack
		case err != nil:
			r.err = err
		}
	}
	return t.events, p == nil && err == nil
}

// protect calls fn and returns what it panicked with, if it did, and
// where: the panic is raised again in the caller of Write, far from there.
func protect(fn func()) (panicked any, stack []byte) {
	defer func() {
		if p := recover(); p != nil {
			panicked, stack = p, debug.Stack()
		}
	}()
	fn()
	return nil, nil
}
