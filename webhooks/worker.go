package webhooks

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
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
	s.leases = &leases.Runner[*parley.Webhook]{
		List: func(ctx context.Context) ([]*parley.Webhook, error) {
			list, err := s.store.Webhooks(ctx)
			out := list[:0]
			for _, w := range list {
				if w.Active {
					out = append(out, w)
				}
			}
			return out, err
		},
		ID:      func(w *parley.Webhook) int64 { return w.ID },
		Version: func(w *parley.Webhook) time.Time { return w.UpdatedAt },
		Take: leases.TakeIn(s.store, func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error) {
			return tx.LeaseWebhook(ctx, id, s.cfg.Node, now, until)
		}),
		Run: s.run, Lease: s.cfg.Lease, Now: s.now, Log: s.log,
		Bus: s.bus, OnEvents: func(events []parley.Event) {
			for _, e := range events {
				if e.ID != 0 {
					s.leases.WakeAll()
					return
				}
			}
		},
	}
	return s.leases.Start()
}

// Close stops delivering and gives up this node's leases.
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

// run delivers a webhook's events until ctx ends.
func (s *Service) run(ctx context.Context, held *parley.Webhook, wake <-chan struct{}) {
	// The cursor is read again: another node may have moved it.
	w, err := s.store.WebhookByID(ctx, held.ID)
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
			// A post in flight when the node stops finishes and is
			// logged; cut off, it is posted again by the next holder.
			pctx, cancel := leases.Grace(ctx, postGrace)
			d := s.post(pctx, w, e, attempt)
			cancel()
			if !d.OK && ctx.Err() != nil {
				return
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
		case <-wake:
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

// postGrace is how long a post in flight may finish once its node stops.
const postGrace = 5 * time.Second

// record logs an attempt and moves the cursor in one write, even when
// this node is stopping: a delivery the receiver took is not posted again
// by the next holder.
func (s *Service) record(ctx context.Context, w *parley.Webhook, d *parley.WebhookDelivery, cursor int64, lastError string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
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
