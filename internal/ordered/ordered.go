// Package ordered makes a node's event bus deliver the durable stream in
// order, each event once, with no gap, whichever node committed it.
//
// The store gives every durable event its position under one lock held
// until the commit (the events lock on PostgreSQL, the single writer on
// SQLite), so positions commit in order across the cluster: once position
// n is committed, every lower position is committed or never will be. The
// bus does not keep that order. Each node publishes its own commits, and
// batches from different nodes reach a node in any order; core NATS may
// drop a batch, and a node killed between its commit and its publish never
// sends one. A client that got n+1 live and lost its socket before n
// arrived would resume after n+1 and never see n.
//
// Bus therefore hands its subscribers position n only after every lower
// one. A batch that arrives ahead of a missing position waits for it; a
// gap that lasts (Config.Wait) is read from the store, where, below a
// committed position, it is final; a quiet stream is compared with the
// store's newest position now and then (Config.Tail), so a batch that
// never came is found even when nothing follows it. Ephemeral events
// (typing, presence: ID 0) pass at once.
package ordered

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/fanout"
)

// Source is the stream as stored (parley.Store has both).
type Source interface {
	EventBounds(ctx context.Context) (oldest, newest int64, err error)
	EventsBetween(ctx context.Context, after, upto int64, limit int) ([]parley.Event, error)
}

// Config tunes a Bus.
type Config struct {
	// Wait is how long a missing position may be awaited on the bus
	// before it is read from the store (default 200 ms): batches from
	// other nodes arrive a little out of order all the time, and the
	// store is only for what the bus lost.
	Wait time.Duration
	// Tail is how often a quiet stream is checked against the store's
	// newest position (default 1 s).
	Tail time.Duration
	Log  *slog.Logger
}

// Bus wraps a node's bus: Publish passes through, subscribers hear the
// stream in order.
type Bus struct {
	inner parley.Bus
	src   Source
	cfg   Config
	subs  fanout.List
	unsub func()

	// mu is held while the state changes and while subscribers are
	// called, so that they are called one batch at a time.
	mu      sync.Mutex
	last    int64                  // every position up to last is delivered
	pending map[int64]parley.Event // arrived ahead of a missing position
	gapAt   time.Time              // since when the stream waits for a missing position
	seen    int64                  // the store's newest position at the last quiet look
	seenAt  time.Time
	started bool // last is set: until then batches only wait

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// New subscribes to inner and starts from the store's newest position:
// what was committed before is for resumes to read.
func New(inner parley.Bus, src Source, cfg Config) (*Bus, error) {
	if cfg.Wait <= 0 {
		cfg.Wait = 200 * time.Millisecond
	}
	if cfg.Tail <= 0 {
		cfg.Tail = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	b := &Bus{inner: inner, src: src, cfg: cfg, pending: map[int64]parley.Event{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	// Subscribe first, then read the position: a batch in between is
	// either at or below it (dropped) or above it (kept).
	unsub, err := inner.Subscribe(b.receive)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, newest, err := src.EventBounds(ctx)
	if err != nil {
		unsub()
		cancel()
		return nil, err
	}
	b.mu.Lock()
	b.last, b.unsub, b.cancel, b.started = newest, unsub, cancel, true
	for id := range b.pending {
		if id <= newest {
			delete(b.pending, id)
		}
	}
	b.deliverLocked(nil, 0)
	b.mu.Unlock()
	go b.fill(ctx)
	return b, nil
}

// Publish hands events to every node's bus.
func (b *Bus) Publish(ctx context.Context, events []parley.Event) error {
	return b.inner.Publish(ctx, events)
}

// Subscribe calls fn with each batch, durable events in stream order
// with no gap, one batch at a time; fn must not block, nor publish.
func (b *Bus) Subscribe(fn func([]parley.Event)) (func(), error) { return b.subs.Add(fn) }

// Ready is the inner bus's readiness, if it has one.
func (b *Bus) Ready() error {
	if r, ok := b.inner.(interface{ Ready() error }); ok {
		return r.Ready()
	}
	return nil
}

// Close stops the gap filler and closes the inner bus.
func (b *Bus) Close() error {
	b.cancel()
	<-b.done
	b.unsub()
	err := b.inner.Close()
	b.subs.Close()
	return err
}

// receive is the inner bus's subscriber.
func (b *Bus) receive(events []parley.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]parley.Event, 0, len(events))
	for _, e := range events {
		switch {
		case e.ID == 0:
			out = append(out, e)
		case e.ID > b.last:
			b.pending[e.ID] = e
		}
	}
	if !b.started {
		// Where the stream starts is not known yet: New sorts these.
		if len(out) > 0 {
			b.subs.Deliver(out)
		}
		return
	}
	b.deliverLocked(out, 0)
}

// deliverLocked adds the pending events that are next in order to out,
// skipping positions up to known that the store says do not exist, and
// calls the subscribers.
func (b *Bus) deliverLocked(out []parley.Event, known int64) {
	from := b.last
	for {
		next := b.last + 1
		if e, ok := b.pending[next]; ok {
			out = append(out, e)
			delete(b.pending, next)
		} else if next > known {
			break
		}
		b.last = next
	}
	// A gap's age counts from the last progress: positions arriving a
	// little out of order keep the stream moving and are never read.
	if len(b.pending) == 0 {
		b.gapAt = time.Time{}
	} else if b.gapAt.IsZero() || b.last > from {
		b.gapAt = time.Now()
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	if len(out) > 0 {
		b.subs.Deliver(out)
	}
}

// fill reads from the store what the bus lost: a gap that outlasted
// Wait, or positions the store has and the bus never brought.
func (b *Bus) fill(ctx context.Context) {
	defer close(b.done)
	tick := time.NewTicker(b.cfg.Tail)
	defer tick.Stop()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		case <-tick.C:
		case <-timer:
		}
		timer = nil
		upto, wait := b.due(ctx)
		if wait > 0 {
			timer = time.After(wait)
			continue
		}
		if upto > 0 {
			if err := b.read(ctx, upto); err != nil && ctx.Err() == nil {
				b.cfg.Log.Warn("reading the event stream to fill a gap", "upto", upto, "err", err)
				timer = time.After(b.cfg.Wait)
			}
		}
	}
}

// due says up to which position the store must be read now, or how long
// to wait before looking again.
func (b *Bus) due(ctx context.Context) (upto int64, wait time.Duration) {
	b.mu.Lock()
	last, gapAt := b.last, b.gapAt
	var lowest int64
	for id := range b.pending {
		if lowest == 0 || id < lowest {
			lowest = id
		}
	}
	b.mu.Unlock()
	if lowest != 0 {
		// Below a position that is committed, the missing ones are
		// final.
		if wait := time.Until(gapAt.Add(b.cfg.Wait)); wait > 0 {
			return 0, wait
		}
		return lowest - 1, 0
	}
	// A quiet stream: is the store ahead of it? What it is ahead by is
	// read only if it still is a Wait later, so that batches merely on
	// their way are not read twice.
	_, newest, err := b.src.EventBounds(ctx)
	if err != nil || newest <= last {
		b.mu.Lock()
		b.seen = 0
		b.mu.Unlock()
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == 0 || b.seen > newest {
		b.seen, b.seenAt = newest, time.Now()
		return 0, b.cfg.Wait
	}
	if wait := time.Until(b.seenAt.Add(b.cfg.Wait)); wait > 0 {
		return 0, wait
	}
	upto, b.seen = b.seen, 0
	return upto, 0
}

// read delivers the stored events up to upto that are not delivered yet.
func (b *Bus) read(ctx context.Context, upto int64) error {
	for {
		b.mu.Lock()
		after := b.last
		b.mu.Unlock()
		if after >= upto {
			return nil
		}
		events, err := b.src.EventsBetween(ctx, after, upto, 1000)
		if err != nil {
			return err
		}
		known := upto
		if len(events) == 1000 {
			known = events[len(events)-1].ID
		}
		b.mu.Lock()
		for _, e := range events {
			if e.ID > b.last {
				if _, ok := b.pending[e.ID]; !ok {
					b.pending[e.ID] = e
				}
			}
		}
		b.deliverLocked(nil, known)
		b.mu.Unlock()
	}
}

var _ parley.Bus = (*Bus)(nil)
