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

// groupWriter runs every write of the store, in groups: the writes that
// arrive while a group is under way run together in the next transaction,
// and one commit (one fsync) answers all of them. It is the only batching
// layer: writes of one kind (sends) can also share statements through a
// parley.Batcher, whose items of one group are applied in one call.
//
// One goroutine (the executor) runs the transactions one at a time, so
// that two of this node's never wait for each other's row locks: one only
// ever waits for those before it to commit. A second goroutine (the
// completer) publishes each committed transaction's events and answers
// its writes, in commit order, while the executor runs the next.
//
// On SQLite, which has one writer and an fsync per commit, the writes of a
// group share one transaction, without savepoints (each would copy every
// page it touches): a write that fails before changing anything is simply
// left out; one that fails after (or breaks the transaction, or panics)
// makes the group roll back and start again without it, so it is undone
// alone.
//
// On PostgreSQL each write (or a batch's items) is its own transaction:
// rows are then locked in one order by each transaction (a conversation's
// row before anything in it, several conversations in ID order), so that
// writers on other nodes cannot deadlock with it, which one transaction
// gathering unrelated writes could not promise. The executor hands each
// COMMIT to a goroutine and goes on (the database shares the flushes of
// commits that arrive together); the events lock taken before a
// transaction inserts its events keeps commits in stream order.
type groupWriter struct {
	s        *Store
	mu       sync.Mutex
	queue    []*writeReq
	closed   bool
	wake     chan struct{}
	slots    chan struct{} // a token per queued or unanswered write
	inflight chan struct{} // PostgreSQL: a token per group committing
	groups   chan *group   // to the completer, in commit order
	stopped  chan struct{} // closed once every write is answered

	commits, writes, restarts atomic.Int64 // for Stats
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
	reqs   []*writeReq
	events []parley.Event // stored, in stream order
	commit chan error     // PostgreSQL: the outcome of the COMMIT
	err    error          // the group as a whole failed
}

func newGroupWriter(s *Store, maxPending, inflight int) *groupWriter {
	w := &groupWriter{s: s, wake: make(chan struct{}, 1), slots: make(chan struct{}, maxPending),
		inflight: make(chan struct{}, inflight), groups: make(chan *group, inflight+1), stopped: make(chan struct{})}
	go w.run()
	go w.complete()
	return w
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
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.stopped
}

// run is the executor.
func (w *groupWriter) run() {
	defer close(w.groups)
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxGroup)
		reqs := w.queue[:n:n]
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil
		}
		closed := w.closed
		w.mu.Unlock()
		if n == 0 && closed {
			return
		}
		if n == 0 {
			<-w.wake
			continue
		}
		if w.s.dialect.name() != "postgres" {
			w.groups <- w.execute(reqs)
			continue
		}
		for _, u := range unitsOf(reqs) {
			w.groups <- w.execute(u.reqs)
		}
	}
}

// complete publishes and answers groups in the order they were run.
func (w *groupWriter) complete() {
	defer close(w.stopped)
	for g := range w.groups {
		if g.commit != nil {
			if err := <-g.commit; err != nil && g.err == nil {
				g.err = fmt.Errorf("sqlstore: commit: %w", err)
			}
			<-w.inflight
		}
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

// execute runs one group and returns it committed (or committing), or
// failed as a whole.
func (w *groupWriter) execute(reqs []*writeReq) *group {
	g := &group{reqs: reqs}
	units := unitsOf(reqs)
	w.writes.Add(int64(len(reqs)))
	for {
		restart, err := w.attempt(g, units)
		if !restart {
			g.err = err
			return g
		}
		w.restarts.Add(1)
	}
}

// attempt runs the units not excluded in one transaction and commits it.
// It reports restart when it excluded a unit and the group must run again
// without it.
func (w *groupWriter) attempt(g *group, units []*unit) (restart bool, err error) {
	s := w.s
	ctx := context.Background()
	g.events = g.events[:0]
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
	committing := false
	defer func() {
		if !committing {
			sqltx.Rollback() // a no-op once committed
		}
	}()
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
	}
	if s.dialect.name() != "postgres" {
		if err := sqltx.Commit(); err != nil {
			return false, fmt.Errorf("sqlstore: commit: %w", err)
		}
		w.commits.Add(1)
		return false, nil
	}
	// The events lock (taken by storeEvents) orders this COMMIT before the
	// next group's; the executor goes on meanwhile.
	w.inflight <- struct{}{}
	committing = true
	g.commit = make(chan error, 1)
	go func() {
		err := sqltx.Commit()
		if err == nil {
			w.commits.Add(1)
		}
		g.commit <- err
	}()
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
