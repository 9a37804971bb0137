package presence

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// announced counts the presence events users are sent, per user and
// state.
type announced struct {
	mu sync.Mutex
	n  map[int64]map[parley.Presence]int
}

func (a *announced) hear(events []parley.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range events {
		if e.Type != parley.EventPresence {
			continue
		}
		var d struct {
			UserID   int64           `json:"user_id"`
			Presence parley.Presence `json:"presence"`
		}
		json.Unmarshal(e.Data, &d)
		if a.n[d.UserID] == nil {
			a.n[d.UserID] = map[parley.Presence]int{}
		}
		a.n[d.UserID][d.Presence]++
	}
}

func (a *announced) count(user int64, p parley.Presence) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[user][p]
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// halt stops a tracker as a killed node does: without a word.
func (t *Tracker) halt() {
	t.cancel()
	<-t.done
	t.unsub()
}

// TestCluster: three nodes on one bus see each user's devices on all of
// them, announce each change of a user's presence once, and forget a
// silent node's devices within the expiry.
func TestCluster(t *testing.T) {
	store := sqltest.MustOpenSQLite(t)
	bus := inmem.NewBus()
	heard := &announced{n: map[int64]map[parley.Presence]int{}}
	bus.Subscribe(heard.hear)
	const beat, expiry = 50 * time.Millisecond, 300 * time.Millisecond
	a := newTracker(store, bus, nil, beat, expiry)
	b := newTracker(store, bus, nil, beat, expiry)
	c := newTracker(store, bus, nil, beat, expiry)
	t.Cleanup(func() { a.Close(); c.Close() })
	all := []*Tracker{a, b, c}
	everywhere := func(user int64, p parley.Presence) func() bool {
		return func() bool {
			for _, n := range all {
				if n.Of(user) != p {
					return false
				}
			}
			return true
		}
	}
	// The nodes know each other before the first device connects.
	waitUntil(t, "the nodes hear each other", time.Second, func() bool {
		for _, n := range all {
			n.mu.Lock()
			ok := len(n.peers) == 2
			n.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	})

	const ann = 1
	onA := a.Connect(ann)
	waitUntil(t, "every node sees Ann online", time.Second, everywhere(ann, parley.PresenceOnline))
	onB := b.Connect(ann)
	onB.SetAway(true)
	onA.SetAway(true)
	waitUntil(t, "every node sees Ann away", time.Second, everywhere(ann, parley.PresenceAway))
	onA.SetAway(false)
	waitUntil(t, "Ann back online", time.Second, everywhere(ann, parley.PresenceOnline))
	onA.Disconnect() // away on B is what is left
	waitUntil(t, "Ann away again", time.Second, everywhere(ann, parley.PresenceAway))
	time.Sleep(4 * beat)
	if n := heard.count(ann, parley.PresenceOnline); n != 2 {
		t.Fatalf("Ann's coming online was announced %d times, want 2 (connect, back from away)", n)
	}

	// B dies with Ann's device on it: the others drop it within the
	// expiry, and one of them says so, once.
	b.halt()
	waitUntil(t, "Ann offline after her node died", expiry+10*beat, func() bool {
		return a.Of(ann) == parley.PresenceOffline && c.Of(ann) == parley.PresenceOffline
	})
	time.Sleep(4 * beat)
	if n := heard.count(ann, parley.PresenceOffline); n != 1 {
		t.Fatalf("Ann's going offline was announced %d times, want 1", n)
	}

	// A node that stops says so: its devices go at once.
	c.Connect(ann)
	waitUntil(t, "A sees Ann on C", time.Second, func() bool { return a.Of(ann) == parley.PresenceOnline })
	c.Close()
	if a.Of(ann) != parley.PresenceOffline {
		t.Fatalf("Ann is %s on A after C stopped", a.Of(ann))
	}
	if n := heard.count(ann, parley.PresenceOffline); n != 2 {
		t.Fatalf("Ann's going offline with C was announced %d times in all, want 2", n)
	}
}
