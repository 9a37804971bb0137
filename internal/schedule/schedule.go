// Package schedule runs the timers of things that fire at a stored time
// (reminders, tasks falling due): the times live in the store, so they
// survive restarts, and a loop only keeps a timer to the next one.
package schedule

import (
	"context"
	"log/slog"
	"time"
)

// Safety is the longest the loop sleeps: a safety net for times written
// by other nodes, which cannot poke this one.
const Safety = time.Minute

// Loop calls Fire for what is due, then sleeps until Next says something
// falls due (at most Safety), or until Poke.
type Loop struct {
	// Next returns the next time something falls due after now (zero:
	// nothing pending).
	Next func(ctx context.Context, now time.Time) (time.Time, error)
	// Fire handles everything due at the time it runs.
	Fire func(ctx context.Context)
	Now  func() time.Time
	Log  *slog.Logger
	Name string // for the log

	wake, stop, done chan struct{}
}

// Start starts the loop; Close stops it.
func (l *Loop) Start() {
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.Log == nil {
		l.Log = slog.Default()
	}
	l.wake, l.stop, l.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go l.run()
}

// Poke makes the loop look again at once: a time was set or moved.
func (l *Loop) Poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Close stops the loop and waits for it.
func (l *Loop) Close() {
	close(l.stop)
	<-l.done
}

func (l *Loop) run() {
	defer close(l.done)
	for {
		ctx := context.Background()
		now := l.Now()
		l.Fire(ctx)
		wait := Safety
		if next, err := l.Next(ctx, now); err != nil {
			l.Log.Warn("next "+l.Name, "err", err)
		} else if !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), 5*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-l.stop:
			t.Stop()
			return
		case <-l.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
