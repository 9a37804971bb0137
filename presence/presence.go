// Package presence tracks which users are online, away or offline,
// aggregated over all their devices: online if any device is active, away if
// every connected device is away, offline with none.
package presence

import (
	"context"
	"log/slog"
	"sync"

	"github.com/parley-chat/parley"
)

// Tracker holds the connected devices of every user on this node.
type Tracker struct {
	mu    sync.Mutex
	users map[int64]*devices

	store parley.Store
	bus   parley.Bus
	log   *slog.Logger
}

type devices struct{ active, away int }

func (d *devices) presence() parley.Presence {
	switch {
	case d == nil || d.active+d.away == 0:
		return parley.PresenceOffline
	case d.active > 0:
		return parley.PresenceOnline
	}
	return parley.PresenceAway
}

// New returns a tracker that announces changes on bus to the users who can
// see them (store.ContactIDs).
func New(store parley.Store, bus parley.Bus, log *slog.Logger) *Tracker {
	if log == nil {
		log = slog.Default()
	}
	return &Tracker{users: make(map[int64]*devices), store: store, bus: bus, log: log}
}

// Device is one connected device of a user. Its methods are safe to call
// from the connection's own goroutines.
type Device struct {
	t      *Tracker
	userID int64
	away   bool
	gone   bool
}

// Connect registers a device, active, and returns it.
func (t *Tracker) Connect(userID int64) *Device {
	d := &Device{t: t, userID: userID}
	t.change(userID, func(ds *devices) { ds.active++ })
	return d
}

// SetAway marks the device away (idle, hidden) or active again.
func (d *Device) SetAway(away bool) {
	d.t.change(d.userID, func(ds *devices) {
		if d.gone || d.away == away {
			return
		}
		d.away = away
		if away {
			ds.active--
			ds.away++
		} else {
			ds.away--
			ds.active++
		}
	})
}

// Disconnect unregisters the device; calling it twice is harmless.
func (d *Device) Disconnect() {
	d.t.change(d.userID, func(ds *devices) {
		if d.gone {
			return
		}
		d.gone = true
		if d.away {
			ds.away--
		} else {
			ds.active--
		}
	})
}

func (t *Tracker) change(userID int64, fn func(*devices)) {
	t.mu.Lock()
	ds := t.users[userID]
	if ds == nil {
		ds = new(devices)
		t.users[userID] = ds
	}
	before := ds.presence()
	fn(ds)
	after := ds.presence()
	if after == parley.PresenceOffline {
		delete(t.users, userID)
	}
	t.mu.Unlock()
	if before != after {
		go t.announce(userID)
	}
}

// announce tells the user's contacts (and the user's own devices) the
// user's presence as it is when the announcement goes out, so that quick
// changes announced out of order still end on the latest state.
func (t *Tracker) announce(userID int64) {
	ctx := context.Background()
	ids, err := t.store.ContactIDs(ctx, userID)
	if err != nil {
		t.log.Warn("presence contacts", "user_id", userID, "err", err)
		return
	}
	e := parley.NewEvent(parley.EventPresence, 0, 0, map[string]any{"user_id": userID, "presence": t.Of(userID)})
	e.Audience = append(ids, userID)
	if err := t.bus.Publish(ctx, []parley.Event{e}); err != nil {
		t.log.Warn("presence publish", "err", err)
	}
}

// Of returns a user's presence.
func (t *Tracker) Of(userID int64) parley.Presence {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users[userID].presence()
}

// Fill sets the Presence of each user.
func (t *Tracker) Fill(users ...*parley.User) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range users {
		u.Presence = t.users[u.ID].presence()
	}
}

// Online reports whether any device of the user is connected.
func (t *Tracker) Online(userID int64) bool { return t.Of(userID) != parley.PresenceOffline }
