package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/parley-chat/parley"
)

// maxGroup bounds how many writes share one SQLite transaction.
const maxGroup = 256

// groupWriter commits SQLite's writes in groups. SQLite runs one writing
// transaction at a time and, with synchronous=FULL, each commit waits for
// an fsync of a few milliseconds: one at a time, a few hundred small writes
// a second would saturate the disk while the CPU idles. Instead, the writes
// that arrive while a commit is under way run together in the next
// transaction, each in its own savepoint so that one that fails is undone
// alone, and one fsync acknowledges them all. Every write still returns
// only after its commit.
type groupWriter struct {
	s       *Store
	mu      sync.Mutex
	queue   []*writeReq
	closed  bool
	wake    chan struct{}
	stopped chan struct{}
}

// writeReq is one Write waiting for the writer.
type writeReq struct {
	ctx      context.Context
	fn       func(tx parley.Tx) error
	events   []parley.Event
	err      error
	panicked any // fn panicked with this: the caller panics again
	done     chan struct{}
}

func newGroupWriter(s *Store) *groupWriter {
	w := &groupWriter{s: s, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.run()
	return w
}

// write queues fn for the next group and waits for its commit. Once
// queued it is not abandoned when ctx ends: it may commit, and the caller
// learns the outcome.
func (w *groupWriter) write(ctx context.Context, fn func(tx parley.Tx) error) ([]parley.Event, error) {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, parley.Errorf(parley.EUNAVAILABLE, "store closed")
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-r.done
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.events, r.err
}

func (w *groupWriter) run() {
	defer close(w.stopped)
	var batch []*writeReq
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxGroup)
		batch = append(batch[:0], w.queue[:n]...)
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil
		}
		closed := w.closed
		w.mu.Unlock()
		if len(batch) > 0 {
			w.commit(batch)
			clear(batch)
			continue
		}
		if closed {
			return
		}
		<-w.wake
	}
}

// close refuses new writes and returns once the queued ones committed.
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

// commit runs a group in one transaction and answers each write.
func (w *groupWriter) commit(batch []*writeReq) {
	s := w.s
	// The group outlives any one caller's context.
	ctx := context.Background()
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil && r.panicked == nil {
				r.events, r.err = nil, err
			}
		}
	}
	sqltx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		failAll(fmt.Errorf("sqlstore: begin: %w", err))
		return
	}
	defer sqltx.Rollback() // a no-op once committed
	single := len(batch) == 1
	ok := 0
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if !single {
			if _, err := sqltx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
				failAll(fmt.Errorf("sqlstore: savepoint: %w", err))
				return
			}
		}
		t := &txn{q: q{s: s, db: sqltx, tx: sqltx}}
		r.err = r.run(t)
		if r.err == nil {
			r.events, r.err = t.storeEvents(r.ctx)
		}
		switch {
		case r.err == nil && r.panicked == nil:
			ok++
			if !single {
				if _, err := sqltx.ExecContext(ctx, "RELEASE w"); err != nil {
					failAll(fmt.Errorf("sqlstore: release: %w", err))
					return
				}
			}
		case single:
			return // the deferred rollback undoes it
		default:
			r.events = nil
			// Undo this write alone. If SQLite rolled back the whole
			// transaction (an I/O error, say), the savepoint is gone and
			// so is the work of the group.
			if err := exec(ctx, sqltx, "ROLLBACK TO w", "RELEASE w"); err != nil {
				failAll(fmt.Errorf("sqlstore: the transaction was aborted: %w", err))
				return
			}
		}
	}
	if ok == 0 {
		return
	}
	if err := sqltx.Commit(); err != nil {
		failAll(fmt.Errorf("sqlstore: commit: %w", err))
		return
	}
	// One publish for the group, in commit order, by the only goroutine
	// that commits: this node's live stream leaves in stream order.
	var events []parley.Event
	for _, r := range batch {
		events = append(events, r.events...)
	}
	s.publishEvents(ctx, events)
}

// run calls the write's function, turning a panic into a failure of this
// write alone; the caller panics again with the same value.
func (r *writeReq) run(t *txn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("sqlstore: write panicked: %v", p)
		}
	}()
	return r.fn(t)
}

func exec(ctx context.Context, tx *sql.Tx, stmts ...string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
