package channel

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
)

// Start begins the lease loop: this node takes the channels no live node
// holds, and runs them (run) until Close.
func (s *Service) Start(ctx context.Context) error {
	if err := s.loadKey(ctx); err != nil {
		return err
	}
	s.leases = &leases.Runner[*parley.Channel]{
		List: func(ctx context.Context) ([]*parley.Channel, error) {
			list, err := s.store.Channels(ctx, 0)
			out := list[:0]
			for _, ch := range list {
				if _, ok := s.adapters[ch.Kind]; ok && !ch.Paused {
					out = append(out, ch)
				}
			}
			return out, err
		},
		ID:      func(ch *parley.Channel) int64 { return ch.ID },
		Version: func(ch *parley.Channel) time.Time { return ch.UpdatedAt },
		Take: leases.TakeIn(s.store, func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error) {
			return tx.LeaseChannel(ctx, id, s.cfg.Node, now, until)
		}),
		Run: s.run, Lease: s.cfg.Lease, Now: s.now, Log: s.log,
		Bus: s.bus, OnEvents: func(events []parley.Event) {
			if queuedIn(events) {
				s.leases.WakeAll()
			}
		},
	}
	return s.leases.Start()
}

// Close stops the workers and gives up this node's leases, so that
// another node takes the channels at once. Messages being sent stay
// queued.
func (s *Service) Close() {
	if s.leases == nil {
		return
	}
	s.leases.Stop()
}

func (s *Service) kickLeases() {
	if s.leases != nil {
		s.leases.Kick()
	}
}

// run is a channel's worker, on the node holding the channel: its poll,
// when it polls, and its queue.
func (s *Service) run(ctx context.Context, ch *parley.Channel, wake <-chan struct{}) {
	a := s.adapters[ch.Kind]
	poller, polls := a.(Poller)
	pollDone := make(chan struct{})
	if polls && poller.Polls(ch) {
		go func() {
			defer close(pollDone)
			s.poll(ctx, ch, poller)
		}()
	} else {
		close(pollDone)
	}
	s.sendLoop(ctx, ch, a, wake)
	<-pollDone
}

// sendLoop sends the channel's queue whenever something is due.
func (s *Service) sendLoop(ctx context.Context, ch *parley.Channel, a Adapter, wake <-chan struct{}) {
	spec := a.Spec()
	if spec.Rate <= 0 {
		spec.Rate = 10
	}
	// A burst of one: a channel idle for a while (or throttled) does not
	// save up sends to spend at once above the service's rate.
	q := &queue{limit: rate.NewLimiter(rate.Limit(spec.Rate), 1), chats: map[int64]*rate.Limiter{},
		chatRate: spec.ChatRate, chatBurst: max(1, spec.ChatBurst)}
	for ctx.Err() == nil {
		wait, err := s.sendQueue(ctx, ch, q)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sending a channel's queue", "channel_id", ch.ID, "err", err)
		}
		pause := s.cfg.Poll
		if wait > 0 {
			pause = wait
		} else if next, err := s.store.NextChannelMessageAt(ctx, ch.ID); err == nil && !next.IsZero() {
			pause = min(pause, max(next.Sub(s.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-wake:
			if wait > 0 {
				// Throttled: new replies wait behind the queue.
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		}
		t.Stop()
	}
}

// poll runs the adapter's poll, starting it again after a failure with a
// growing pause, until ctx ends.
func (s *Service) poll(ctx context.Context, ch *parley.Channel, p Poller) {
	failures := 0
	for ctx.Err() == nil {
		err := p.Poll(ctx, ch, func(ctx context.Context, in *Inbound) error { return s.Receive(ctx, ch, in) })
		if ctx.Err() != nil {
			return
		}
		s.noteError(ctx, ch, err)
		failures++
		t := time.NewTimer(backoff(failures - 1))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if err == nil {
			failures = 0
		}
	}
}
