package channel

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
)

// worker runs one channel on this node while the node holds its lease:
// its queue, and its poll when the channel polls.
type worker struct {
	ch     *parley.Channel
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Start begins the lease loop: this node takes the channels no live node
// holds, and runs them until Close.
func (s *Service) Start(ctx context.Context) error {
	if err := s.loadKey(ctx); err != nil {
		return err
	}
	unsub, err := s.bus.Subscribe(func(events []parley.Event) {
		if queuedIn(events) {
			s.wakeAll()
		}
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.unsub = cancel, unsub
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.leaseLoop(ctx)
	}()
	return nil
}

// Close stops the workers and gives up this node's leases, so that
// another node takes the channels at once. Messages being sent stay
// queued.
func (s *Service) Close() {
	if s.cancel == nil {
		return
	}
	s.unsub()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	ws := s.workers
	s.workers = map[int64]*worker{}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, w := range ws {
		w.cancel()
		<-w.done
		s.store.Write(ctx, func(tx parley.Tx) error {
			_, err := tx.LeaseChannel(ctx, id, s.cfg.Node, time.Time{}, time.Unix(0, 0))
			return err
		})
	}
}

func (s *Service) kickLeases() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) wakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// leaseLoop renews this node's leases a few times per lease period, takes
// expired ones, and starts or stops workers to match.
func (s *Service) leaseLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Lease / 3)
	defer t.Stop()
	for {
		if err := s.lease(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("channel leases", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

func (s *Service) lease(ctx context.Context) error {
	list, err := s.store.Channels(ctx, 0)
	if err != nil {
		return err
	}
	want := map[int64]*parley.Channel{}
	for _, ch := range list {
		if _, ok := s.adapters[ch.Kind]; !ok || ch.Paused {
			continue
		}
		now := s.now()
		var held bool
		_, err := s.store.Write(ctx, func(tx parley.Tx) error {
			var err error
			held, err = tx.LeaseChannel(ctx, ch.ID, s.cfg.Node, now, now.Add(s.cfg.Lease))
			return err
		})
		if err != nil {
			return err
		}
		if held {
			want[ch.ID] = ch
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, w := range s.workers {
		if ch := want[id]; ch == nil || !ch.UpdatedAt.Equal(w.ch.UpdatedAt) {
			// Lost, paused, removed or changed: stop (a changed one
			// starts again below with its new settings).
			w.cancel()
			<-w.done
			delete(s.workers, id)
		}
	}
	for id, ch := range want {
		if s.workers[id] == nil {
			s.workers[id] = s.run(ch)
		}
	}
	return nil
}

// run starts a channel's worker.
func (s *Service) run(ch *parley.Channel) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{ch: ch, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	a := s.adapters[ch.Kind]
	poller, polls := a.(Poller)
	polls = polls && poller.Polls(ch)
	go func() {
		defer close(w.done)
		pollDone := make(chan struct{})
		if polls {
			go func() {
				defer close(pollDone)
				s.poll(ctx, ch, poller)
			}()
		} else {
			close(pollDone)
		}
		s.sendLoop(ctx, w, a)
		<-pollDone
	}()
	return w
}

// sendLoop sends the channel's queue whenever something is due.
func (s *Service) sendLoop(ctx context.Context, w *worker, a Adapter) {
	r := a.Spec().Rate
	if r <= 0 {
		r = 10
	}
	limit := rate.NewLimiter(rate.Limit(r), max(1, int(r)))
	for ctx.Err() == nil {
		wait, err := s.sendQueue(ctx, w.ch, limit)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sending a channel's queue", "channel_id", w.ch.ID, "err", err)
		}
		pause := s.cfg.Poll
		if wait > 0 {
			pause = wait
		} else if next, err := s.store.NextChannelMessageAt(ctx, w.ch.ID); err == nil && !next.IsZero() {
			pause = min(pause, max(next.Sub(s.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-w.wake:
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
