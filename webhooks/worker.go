package webhooks

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Delivery: one node at a time holds each active webhook (a lease, as for
// channels), reads the stream after the webhook's cursor and posts each
// event it chose, in order. A receiver that fails is tried again, 2 s
// doubling to 5 minutes, with the events after it waiting (order is the
// point of a stream); an event that still fails after GiveUp is skipped
// and the log says so. The cursor moves in the same write as the log, so
// a node that dies mid-call repeats at most that call.

// Start begins the lease loop.
func (s *Service) Start() error {
	unsub, err := s.bus.Subscribe(func(events []parley.Event) {
		for _, e := range events {
			if e.ID != 0 {
				s.wakeAll()
				return
			}
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
		t := time.NewTicker(s.cfg.Lease / 3)
		defer t.Stop()
		for {
			if err := s.lease(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("webhook leases", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-s.kick:
			}
		}
	}()
	return nil
}

// Close stops delivering and gives up this node's leases.
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
			_, err := tx.LeaseWebhook(ctx, id, s.cfg.Node, time.Time{}, time.Unix(0, 0))
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

func (s *Service) lease(ctx context.Context) error {
	list, err := s.store.Webhooks(ctx)
	if err != nil {
		return err
	}
	want := map[int64]*parley.Webhook{}
	for _, w := range list {
		if !w.Active {
			continue
		}
		now := s.now()
		var held bool
		_, err := s.store.Write(ctx, func(tx parley.Tx) error {
			var err error
			held, err = tx.LeaseWebhook(ctx, w.ID, s.cfg.Node, now, now.Add(s.cfg.Lease))
			return err
		})
		if err != nil {
			return err
		}
		if held {
			want[w.ID] = w
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, wk := range s.workers {
		if w := want[id]; w == nil || !w.UpdatedAt.Equal(wk.w.UpdatedAt) {
			wk.cancel()
			<-wk.done
			delete(s.workers, id)
		}
	}
	for id, w := range want {
		if s.workers[id] == nil {
			ctx, cancel := context.WithCancel(context.Background())
			wk := &worker{w: w, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
			s.workers[id] = wk
			go func() {
				defer close(wk.done)
				s.run(ctx, wk)
			}()
		}
	}
	return nil
}

// run delivers a webhook's events until ctx ends.
func (s *Service) run(ctx context.Context, wk *worker) {
	// The cursor is read again: another node may have moved it.
	w, err := s.store.WebhookByID(ctx, wk.w.ID)
	if err != nil {
		return
	}
	attempt, failingSince := 0, time.Time{}
	for ctx.Err() == nil {
		pause := s.cfg.Poll
		events, err := s.store.WebhookEvents(ctx, w, w.Cursor, 100)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reading a webhook's events", "webhook_id", w.ID, "err", err)
		}
		for _, e := range events {
			if len(w.Events) > 0 && !slices.Contains(w.Events, e.Type) {
				w.Cursor = e.ID
				continue
			}
			attempt++
			d := s.post(ctx, w, e, attempt)
			if ctx.Err() != nil {
				return // not logged: the next holder posts it again
			}
			next, lastError := w.Cursor, d.Error
			if d.OK {
				next, lastError, attempt, failingSince = e.ID, "", 0, time.Time{}
			} else {
				if failingSince.IsZero() {
					failingSince = s.now()
				}
				if s.now().Sub(failingSince) > s.cfg.GiveUp {
					d.Error += "; skipped after failing for " + s.cfg.GiveUp.String()
					next, attempt, failingSince = e.ID, 0, time.Time{}
				}
			}
			if err := s.record(ctx, w, d, next, lastError); err != nil {
				return
			}
			if !d.OK && next != e.ID {
				pause = backoff(attempt - 1)
				break
			}
		}
		if len(events) > 0 && pause == s.cfg.Poll {
			if err := s.record(ctx, w, nil, w.Cursor, w.LastError); err != nil {
				return
			}
			if len(events) == 100 {
				continue
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-wk.wake:
			if pause != s.cfg.Poll {
				// A failing receiver waits out its backoff.
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		}
		t.Stop()
	}
}

// record logs an attempt and moves the cursor in one write.
func (s *Service) record(ctx context.Context, w *parley.Webhook, d *parley.WebhookDelivery, cursor int64, lastError string) error {
	at := time.Time{}
	if lastError != "" {
		at = s.now()
	}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if d != nil {
			if err := tx.AddWebhookDelivery(ctx, d); err != nil {
				return err
			}
		}
		return tx.SetWebhookCursor(ctx, w.ID, cursor, lastError, at)
	})
	if err == nil {
		w.Cursor, w.LastError = cursor, lastError
	}
	return err
}

func backoff(attempts int) time.Duration {
	return min(2*time.Second<<min(attempts, 10), 5*time.Minute)
}
