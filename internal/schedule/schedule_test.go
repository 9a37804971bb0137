package schedule

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLoopFiresOnTime sets a time after the loop has started and pokes it:
// Fire runs when the time comes, not a Safety later, and stops after Close.
func TestLoopFiresOnTime(t *testing.T) {
	var mu sync.Mutex
	var due time.Time
	fired := make(chan time.Time, 10)
	l := &Loop{Name: "test",
		Next: func(ctx context.Context, now time.Time) (time.Time, error) {
			mu.Lock()
			defer mu.Unlock()
			if due.After(now) {
				return due, nil
			}
			return time.Time{}, nil
		},
		Fire: func(ctx context.Context) {
			mu.Lock()
			defer mu.Unlock()
			if !due.IsZero() && !time.Now().Before(due) {
				fired <- time.Now()
				due = time.Time{}
			}
		}}
	l.Start()
	defer l.Close()
	mu.Lock()
	due = time.Now().Add(150 * time.Millisecond)
	want := due
	mu.Unlock()
	l.Poke()
	select {
	case at := <-fired:
		if at.Before(want) || at.Sub(want) > 2*time.Second {
			t.Errorf("fired at %v, due %v", at, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the loop never fired")
	}
	select {
	case <-fired:
		t.Error("fired twice")
	case <-time.After(200 * time.Millisecond):
	}
}
