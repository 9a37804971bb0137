// Package reminders lets users set a reminder on a message (seed 001): at
// the chosen time a notification reaches the user's devices, or, if none is
// connected then, as soon as one connects. Reminders survive restarts: they
// live in the store, and the scheduler only keeps a timer to the next one.
package reminders

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/schedule"
	"github.com/parley-chat/parley/presence"
)

// Service schedules and fires reminders.
type Service struct {
	store    parley.Store
	presence *presence.Tracker
	log      *slog.Logger
	now      func() time.Time
	loop     *schedule.Loop
}

// New returns the service and starts its scheduler; Close stops it.
func New(store parley.Store, pres *presence.Tracker, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: store, presence: pres, log: log, now: parley.Now}
	s.loop = &schedule.Loop{Name: "reminder", Next: store.NextReminderAt, Now: s.now, Log: log,
		Fire: func(ctx context.Context) { s.fireDue(ctx, 0) }}
	s.loop.Start()
	return s
}

// Close stops the scheduler.
func (s *Service) Close() { s.loop.Close() }

// maxAhead bounds how far ahead a reminder may be set.
const maxAhead = 5 * 365 * 24 * time.Hour

// Set sets (or moves, or snoozes) the actor's reminder on a message in one
// of their conversations. The time must be in the future.
func (s *Service) Set(ctx context.Context, actor *parley.User, messageID int64, at time.Time) (*parley.Reminder, error) {
	now := s.now()
	if at.IsZero() || !at.After(now) {
		return nil, parley.Invalid("remind_at", "the reminder time must be in the future")
	}
	if at.After(now.Add(maxAhead)) {
		return nil, parley.Invalid("remind_at", "the reminder time is too far ahead")
	}
	r := &parley.Reminder{UserID: actor.ID, MessageID: messageID, RemindAt: at.UTC().Truncate(time.Millisecond)}
	err := s.write(ctx, func(tx parley.Tx) error {
		m, err := visibleMessage(ctx, tx, actor.ID, messageID)
		if err != nil {
			return err
		}
		r.ConversationID = m.ConversationID
		if err := tx.PutReminder(ctx, r); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventReminderUpdated, 0, actor.ID, r))
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.poke()
	return r, nil
}

// Snooze moves the reminder on a message the given number of hours from now.
func (s *Service) Snooze(ctx context.Context, actor *parley.User, messageID int64, hours int) (*parley.Reminder, error) {
	if hours < 1 || hours > 24*31 {
		return nil, parley.Invalid("hours", "snooze for 1 to 744 hours")
	}
	if _, err := s.store.Reminder(ctx, actor.ID, messageID); err != nil {
		return nil, err
	}
	return s.Set(ctx, actor, messageID, s.now().Add(time.Duration(hours)*time.Hour))
}

// Clear removes the reminder ("Do not notify").
func (s *Service) Clear(ctx context.Context, actor *parley.User, messageID int64) error {
	return s.write(ctx, func(tx parley.Tx) error {
		r, err := tx.Reminder(ctx, actor.ID, messageID)
		if err != nil {
			return err
		}
		if err := tx.DeleteReminder(ctx, actor.ID, messageID); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventReminderUpdated, 0, actor.ID, map[string]any{
			"id": r.ID, "message_id": messageID, "conversation_id": r.ConversationID, "deleted": true}))
		return nil
	})
}

// List returns the actor's reminders, pending and fired, each with its
// message for the text.
func (s *Service) List(ctx context.Context, actor *parley.User) ([]*parley.Reminder, error) {
	rs, err := s.store.Reminders(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		m, err := visibleMessage(ctx, s.store, actor.ID, r.MessageID)
		if err != nil {
			continue // the user left the conversation
		}
		r.Message = m
		out = append(out, r)
	}
	if out == nil {
		out = []*parley.Reminder{}
	}
	return out, nil
}

func visibleMessage(ctx context.Context, r parley.Reader, userID, messageID int64) (*parley.Message, error) {
	m, err := r.MessageByID(ctx, messageID)
	if err != nil {
		return nil, err
	}
	if _, err := r.Member(ctx, m.ConversationID, userID); err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	return m, nil
}

// Connected fires the user's due reminders: they were waiting for a device.
func (s *Service) Connected(ctx context.Context, userID int64) {
	s.fireDue(ctx, userID)
}

func (s *Service) poke() { s.loop.Poke() }

// fireDue fires due reminders of connected users (of one user if userID is
// set). Reminders of users with no device stay due until one connects.
func (s *Service) fireDue(ctx context.Context, userID int64) {
	for {
		due, err := s.store.DueReminders(ctx, s.now(), userID, 200)
		if err != nil {
			s.log.Warn("due reminders", "err", err)
			return
		}
		fired := 0
		for _, r := range due {
			if !s.presence.Online(r.UserID) {
				continue
			}
			if s.fire(ctx, r) {
				fired++
			}
		}
		if len(due) < 200 || fired == 0 {
			return
		}
	}
}

func (s *Service) fire(ctx context.Context, r *parley.Reminder) bool {
	err := s.write(ctx, func(tx parley.Tx) error {
		at := s.now()
		if err := tx.MarkReminderFired(ctx, r.ID, at); err != nil {
			return err
		}
		r.FiredAt = at
		m, err := visibleMessage(ctx, tx, r.UserID, r.MessageID)
		if err == nil {
			r.Message = m
		}
		tx.Emit(parley.NewEvent(parley.EventReminderDue, 0, r.UserID, r))
		return nil
	})
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false // fired by another node, or cleared meanwhile
	}
	if err != nil {
		s.log.Warn("firing reminder", "reminder_id", r.ID, "err", err)
		return false
	}
	return true
}

// write runs fn in a transaction; the store publishes its events.
func (s *Service) write(ctx context.Context, fn func(tx parley.Tx) error) error {
	_, err := s.store.Write(ctx, fn)
	return err
}
