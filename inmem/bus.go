// Package inmem implements parley.Bus inside one process: the default for a
// single node, where every subscriber lives in the same binary as every
// publisher and nothing needs to cross a network.
package inmem

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley/internal/fanout"

	"github.com/parley-chat/parley"
)

// Bus delivers each published batch to every subscriber synchronously, in the
// publisher's goroutine. Deliveries are serialized: all subscribers see the
// batches in one order, the order in which Publish calls took the bus, and a
// subscriber's function is never called by two goroutines at once. A NATS
// subscription gives the same guarantee, so a subscriber written for one bus
// is correct on the other.
//
// Because a delivery holds the bus, a subscriber's function must not call
// Publish on the same bus: it would deadlock. It may call Subscribe, a cancel
// function or Close.
type Bus struct {
	// pubMu serializes deliveries; nothing else takes it, so Subscribe,
	// cancel and Close never wait for a delivery.
	pubMu  sync.Mutex
	closed atomic.Bool
	subs   fanout.List
}

// NewBus returns an open bus with no subscribers.
func NewBus() *Bus { return &Bus{} }

// Publish calls every subscriber's function with events, in the caller's
// goroutine, and returns when all have returned. The events are passed on
// without copying: the caller must not modify them after Publish, since a
// subscriber may keep them. An empty batch is not delivered. ctx is not
// consulted: delivery never waits on anything that could be cancelled, and
// dropping a batch that is already committed would lose it.
//
// Publish returns EUNAVAILABLE after Close.
func (b *Bus) Publish(_ context.Context, events []parley.Event) error {
	if b.closed.Load() {
		return fanout.ErrClosed()
	}
	if len(events) == 0 {
		return nil
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	b.subs.Deliver(events)
	return nil
}

// Subscribe registers fn for every batch published after it returns. fn runs
// in a publisher's goroutine while that publisher holds the bus: it must not
// block and must not publish on this bus. The returned cancel may be called
// more than once, from any goroutine, including from inside fn; a call of fn
// already under way on another goroutine may finish after cancel returns.
//
// Subscribe returns EUNAVAILABLE after Close.
func (b *Bus) Subscribe(fn func([]parley.Event)) (cancel func(), err error) {
	return b.subs.Add(fn)
}

// Close drops every subscriber; later calls of Publish and Subscribe return
// EUNAVAILABLE. A delivery under way on another goroutine may finish its
// current call after Close returns, but calls no further subscriber. Closing
// twice is harmless.
func (b *Bus) Close() error {
	b.closed.Store(true)
	b.subs.Close()
	return nil
}

var _ parley.Bus = (*Bus)(nil)
