// Package fanout is the subscriber list the event buses share: delivery
// reads it with one atomic load and no lock, while subscribe and cancel
// replace it under a mutex without touching a list a delivery may be reading.
package fanout

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley"
)

// List is a set of subscriber functions. The zero value is ready to use.
type List struct {
	mu     sync.Mutex
	closed bool
	subs   atomic.Pointer[[]*subscriber]
}

type subscriber struct {
	fn func([]parley.Event)
	// cancelled keeps a delivery that loaded the list before cancel from
	// calling fn afterwards.
	cancelled atomic.Bool
}

// Add registers fn for every batch delivered after it returns. The returned
// cancel may be called more than once, from any goroutine, including from
// inside fn. Add returns EUNAVAILABLE after Close.
func (l *List) Add(fn func([]parley.Event)) (cancel func(), err error) {
	s := &subscriber{fn: fn}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed()
	}
	var next []*subscriber
	if cur := l.subs.Load(); cur != nil {
		// Clip makes append copy instead of writing into the array that
		// a delivery may be reading.
		next = append(slices.Clip(*cur), s)
	} else {
		next = []*subscriber{s}
	}
	l.subs.Store(&next)
	return func() { l.remove(s) }, nil
}

func (l *List) remove(s *subscriber) {
	if s.cancelled.Swap(true) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.subs.Load()
	if cur == nil {
		return
	}
	i := slices.Index(*cur, s)
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(*cur), i, i+1)
	if len(next) == 0 {
		l.subs.Store(nil)
		return
	}
	l.subs.Store(&next)
}

// Empty reports whether no subscriber is registered, so a bus can skip the
// work of preparing a batch nobody will receive.
func (l *List) Empty() bool { return l.subs.Load() == nil }

// Deliver calls every subscriber's function with events, one after another
// in the caller's goroutine.
func (l *List) Deliver(events []parley.Event) {
	if subs := l.subs.Load(); subs != nil {
		for _, s := range *subs {
			if !s.cancelled.Load() {
				s.fn(events)
			}
		}
	}
}

// Close drops every subscriber and refuses new ones. A delivery under way
// on another goroutine may finish its current call, but calls no further
// subscriber.
func (l *List) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if cur := l.subs.Load(); cur != nil {
		for _, s := range *cur {
			s.cancelled.Store(true)
		}
	}
	l.subs.Store(nil)
}

// ErrClosed is the error of a bus used after Close.
func ErrClosed() error { return parley.Errorf(parley.EUNAVAILABLE, "event bus is closed") }
