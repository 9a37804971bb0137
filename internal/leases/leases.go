// Package leases runs background work that must happen on one node of a
// cluster at a time: a channel's poll and reply queue, a webhook's
// deliveries. Each item has a lease row in the database; every node tries
// to take or renew the leases of the items that want running a few times
// per lease period and runs a worker for each one it holds. A node that
// dies stops renewing, and another takes its items over once the leases
// expire; a node that stops gives its leases up at once.
package leases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Runner keeps a worker running for each item this node holds.
type Runner[T any] struct {
	// List returns the items that want a worker now (active ones).
	List func(ctx context.Context) ([]T, error)
	// ID is an item's id in its lease table; Version changes when the
	// item does, and its worker starts again.
	ID      func(T) int64
	Version func(T) time.Time
	// Take takes or renews the lease of id until until, or says another
	// node holds it; Take with a zero now and until gives it up.
	Take func(ctx context.Context, id int64, now, until time.Time) (bool, error)
	// Run is the worker: it runs until ctx ends, woken by wake.
	Run   func(ctx context.Context, item T, wake <-chan struct{})
	Lease time.Duration // how long a lease lasts (default 15 s)
	Now   func() time.Time
	Log   *slog.Logger
	// Bus, with OnEvents, hears what every node commits while the runner
	// runs: OnEvents wakes the workers the events concern (Wake, WakeAll,
	// Kick). It runs on the bus's goroutine and must not block.
	Bus      parley.Bus
	OnEvents func([]parley.Event)

	unsub   func()
	mu      sync.Mutex
	workers map[int64]*worker[T]
	kick    chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type worker[T any] struct {
	item   T
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Start begins hearing the bus (if set), taking leases and running
// workers.
func (r *Runner[T]) Start() error {
	if r.Lease <= 0 {
		r.Lease = 15 * time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	r.workers, r.kick = map[int64]*worker[T]{}, make(chan struct{}, 1)
	if r.Bus != nil && r.OnEvents != nil {
		unsub, err := r.Bus.Subscribe(r.OnEvents)
		if err != nil {
			return err
		}
		r.unsub = unsub
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.Lease / 3)
		defer t.Stop()
		for {
			if err := r.lease(ctx); err != nil && ctx.Err() == nil {
				r.Log.Warn("taking leases", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-r.kick:
			}
		}
	}()
	return nil
}

// Stop stops hearing the bus and the workers, and gives this node's
// leases up.
func (r *Runner[T]) Stop() {
	if r.cancel == nil {
		return
	}
	if r.unsub != nil {
		r.unsub()
	}
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	ws := r.workers
	r.workers = map[int64]*worker[T]{}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, w := range ws {
		w.cancel()
		<-w.done
		r.Take(ctx, id, time.Time{}, time.Time{})
	}
}

// Kick looks at the items again now (one was created, changed or
// removed).
func (r *Runner[T]) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Wake wakes the worker of one item, if this node runs it.
func (r *Runner[T]) Wake(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.workers[id]; w != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// WakeAll wakes every worker this node runs.
func (r *Runner[T]) WakeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// lease takes or renews the leases of the items that want a worker and
// starts or stops workers to match.
func (r *Runner[T]) lease(ctx context.Context) error {
	items, err := r.List(ctx)
	if err != nil {
		return err
	}
	held := map[int64]T{}
	for _, it := range items {
		now := r.Now()
		ok, err := r.Take(ctx, r.ID(it), now, now.Add(r.Lease))
		if err != nil {
			return err
		}
		if ok {
			held[r.ID(it)] = it
		}
	}
	// Lost, paused, removed or changed items' workers stop (a changed one
	// starts again below, as it is now, once its old worker has ended).
	// They are waited for without the lock: WakeAll, called from the
	// bus, must never wait on a worker that waits on a commit.
	r.mu.Lock()
	var stopping []*worker[T]
	for id, w := range r.workers {
		if it, ok := held[id]; !ok || !r.Version(it).Equal(r.Version(w.item)) {
			w.cancel()
			stopping = append(stopping, w)
			delete(r.workers, id)
		}
	}
	r.mu.Unlock()
	for _, w := range stopping {
		<-w.done
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, it := range held {
		if r.workers[id] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		w := &worker[T]{item: it, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
		r.workers[id] = w
		go func() {
			defer close(w.done)
			r.Run(ctx, it, w.wake)
		}()
	}
	return nil
}

// TakeIn returns a Take that takes or renews a lease with lease, in a
// transaction of store: the lease tables are the items' own (a channel's,
// a webhook's, a project's row).
func TakeIn(store parley.Store, lease func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error)) func(
	ctx context.Context, id int64, now, until time.Time) (bool, error) {
	return func(ctx context.Context, id int64, now, until time.Time) (bool, error) {
		var held bool
		_, err := store.Write(ctx, func(tx parley.Tx) error {
			var err error
			held, err = lease(ctx, tx, id, now, until)
			return err
		})
		return held, err
	}
}

// Grace returns a context that ends grace after ctx does (or on cancel):
// a worker's call the other side may already have acted on (a send, a
// post) finishes and is recorded when its node stops, so that the next
// holder does not make it again.
func Grace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return g, func() { stop(); cancel() }
}

// NodeID names this process as a lease holder when the configuration
// gives no name: random, so two processes never share one.
func NodeID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
