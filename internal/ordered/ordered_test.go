package ordered_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/internal/ordered"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// heard collects what a subscriber of the ordered bus receives.
type heard struct {
	mu     sync.Mutex
	events []parley.Event
}

func (h *heard) add(events []parley.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, events...)
}

func (h *heard) ids() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []int64
	for _, e := range h.events {
		ids = append(ids, e.ID)
	}
	return ids
}

func (h *heard) waitFor(t *testing.T, want []int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !slices.Equal(h.ids(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("heard %v, want %v", h.ids(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// commit stores one batch of n events for user 7 and returns them as the
// store gives them to its publisher.
func commit(t *testing.T, s *sqlstore.Store, n int) []parley.Event {
	t.Helper()
	events, err := s.Write(context.Background(), func(tx parley.Tx) error {
		for range n {
			tx.Emit(parley.NewEvent("test.event", 0, 7, map[string]int{"n": n}))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func setUp(t *testing.T, s *sqlstore.Store) (*inmem.Bus, *heard) {
	inner := inmem.NewBus()
	b, err := ordered.New(inner, s, ordered.Config{Wait: 50 * time.Millisecond, Tail: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	h := &heard{}
	if _, err := b.Subscribe(h.add); err != nil {
		t.Fatal(err)
	}
	return inner, h
}

// TestOrder: batches published out of order, twice, or never reach the
// subscriber once each, in stream order, with their audiences.
func TestOrder(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		commit(t, s, 1) // before the bus: not heard
		inner, h := setUp(t, s)
		a, b, c := commit(t, s, 2), commit(t, s, 2), commit(t, s, 1)
		ids := func(batches ...[]parley.Event) []int64 {
			var out []int64
			for _, batch := range batches {
				for _, e := range batch {
					out = append(out, e.ID)
				}
			}
			return out
		}

		// b arrives first: it waits for a, then both go, in order.
		inner.Publish(ctx, b)
		if got := h.ids(); len(got) != 0 {
			t.Fatalf("heard %v ahead of a missing position", got)
		}
		// Ephemeral events do not wait behind a gap.
		inner.Publish(ctx, []parley.Event{{Type: "typing", ConversationID: 1}})
		if got := h.ids(); !slices.Equal(got, []int64{0}) {
			t.Fatalf("heard %v, want the ephemeral event at once", got)
		}
		inner.Publish(ctx, a)
		want := append([]int64{0}, ids(a, b)...)
		h.waitFor(t, want, time.Second)
		inner.Publish(ctx, a) // again: dropped
		// c is never published: the quiet stream finds it in the store,
		// addressed as it was written.
		h.waitFor(t, append(want, ids(c)...), 5*time.Second)
		h.mu.Lock()
		e := h.events[len(h.events)-1]
		h.mu.Unlock()
		if !slices.Equal(e.Audience, []int64{7}) || e.Type != "test.event" {
			t.Fatalf("filled event %+v, want user 7's test.event", e)
		}

		// d is lost, e arrives: d is read from the store once e has
		// waited, then e follows.
		d, f := commit(t, s, 3), commit(t, s, 1)
		inner.Publish(ctx, f)
		h.waitFor(t, append(append(want, ids(c)...), ids(d, f)...), 5*time.Second)
		inner.Publish(ctx, d) // late: dropped
		time.Sleep(100 * time.Millisecond)
		if got := h.ids(); len(got) != 1+len(ids(a, b, c, d, f)) {
			t.Fatalf("heard %v after late and repeated batches", got)
		}
	})
}

// replayBus hands a new subscriber a batch at once, as NATS may between
// the subscription and the read of where the stream starts.
type replayBus struct {
	*inmem.Bus
	batch []parley.Event
}

func (b *replayBus) Subscribe(fn func([]parley.Event)) (func(), error) {
	cancel, err := b.Bus.Subscribe(fn)
	fn(b.batch)
	return cancel, err
}

// TestStartWithOldBatch: a batch from before the start, heard while the
// bus starts, is dropped, and does not stop later gaps being filled.
func TestStartWithOldBatch(t *testing.T) {
	s := sqltest.MustOpenSQLite(t)
	ctx := context.Background()
	inner := &replayBus{Bus: inmem.NewBus(), batch: commit(t, s, 1)}
	b, err := ordered.New(inner, s, ordered.Config{Wait: 20 * time.Millisecond, Tail: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	h := &heard{}
	b.Subscribe(h.add)
	lost, arrived := commit(t, s, 1), commit(t, s, 1)
	inner.Publish(ctx, arrived)
	h.waitFor(t, []int64{lost[0].ID, arrived[0].ID}, 5*time.Second)
}
