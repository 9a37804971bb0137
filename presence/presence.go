// Package presence tracks which users are online, away or offline,
// aggregated over all their devices on every node: online if any device is
// active, away if every connected device is away, offline with none.
//
// Each node counts its own devices and tells the others over the bus: a
// change at once (a delta), and everything it holds with every heartbeat
// (a snapshot, every few heartbeats, in chunks; a plain heartbeat
// between). A node that is not heard for Expiry is gone, and its devices
// with it: a node killed without a word stops counting within seconds. A
// node that stops says so, and its devices go at once.
//
// Users see a change of the aggregate as a presence event, announced once:
// by the node whose device changed it, in the same bus batch as its delta,
// or, for a node that went silent, by the first of the nodes still alive.
// Every node remembers the last announced state of each user, so a change
// that a race between two nodes hid from both is announced by whichever
// hears the other first.
package presence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// EventNode is the bus message a node sends about its own devices. Its
// audience is user 0, whom no one is: it reaches other nodes, never a
// client. (An empty audience would not do: the bus's batch format reads
// it as none, and an event with none goes to every signed-in user.)
const EventNode = "presence.node"

// Defaults for a Tracker's timing.
const (
	DefaultHeartbeat = time.Second
	DefaultExpiry    = 3 * time.Second
	snapshotEvery    = 10    // heartbeats between snapshots
	snapshotChunk    = 10000 // users per snapshot message (NATS keeps messages under 1 MB)
)

// Tracker holds this node's devices and what other nodes said of theirs.
type Tracker struct {
	store parley.Store
	bus   parley.Bus
	log   *slog.Logger
	node  string
	// heartbeat and expiry are fixed at New.
	heartbeat, expiry time.Duration

	mu        sync.Mutex
	users     map[int64]*devices // this node's
	peers     map[string]*peer
	announced map[int64]parley.Presence // the last state users were told
	dirty     map[int64]struct{}        // this node's changes not yet sent
	gen       int64                     // this node's snapshot generation
	newPeer   bool                      // a node came: send it a snapshot

	// announcing counts the announcements receive sends on goroutines of
	// their own; closing (under mu) stops new ones, and Close waits for
	// the rest, so none writes to a store that has closed.
	announcing sync.WaitGroup
	closing    bool

	kick      chan struct{}
	closeOnce sync.Once
	unsub     func()
	cancel    context.CancelFunc
	done      chan struct{}
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

// peer is another node as last heard.
type peer struct {
	seen  time.Time
	users map[int64]peerUser
	// synced once a whole snapshot came: before, what the node holds was
	// announced before this node heard it, and changes are not this
	// node's to announce.
	synced bool
}

type peerUser struct {
	presence parley.Presence
	gen      int64 // the snapshot that last listed the user
}

// nodeMessage is EventNode's data.
type nodeMessage struct {
	Node string `json:"node"`
	// Users are [user id, state] pairs: 1 online, 2 away, 0 offline.
	Users [][2]int64 `json:"users,omitempty"`
	// Gen numbers a snapshot; Done ends one (users it did not list are
	// gone). A message without Gen is a delta or a heartbeat.
	Gen  int64 `json:"gen,omitempty"`
	Done bool  `json:"done,omitempty"`
	Gone bool  `json:"gone,omitempty"` // the node is stopping
}

var states = []parley.Presence{parley.PresenceOffline, parley.PresenceOnline, parley.PresenceAway}

// New returns a tracker that hears the other nodes on bus and announces
// changes to the users who can see them (store.ContactIDs); Close stops
// it.
func New(store parley.Store, bus parley.Bus, log *slog.Logger) *Tracker {
	return newTracker(store, bus, log, DefaultHeartbeat, DefaultExpiry)
}

func newTracker(store parley.Store, bus parley.Bus, log *slog.Logger, heartbeat, expiry time.Duration) *Tracker {
	if log == nil {
		log = slog.Default()
	}
	var b [8]byte
	rand.Read(b[:])
	t := &Tracker{store: store, bus: bus, log: log, node: hex.EncodeToString(b[:]),
		heartbeat: heartbeat, expiry: expiry,
		users: map[int64]*devices{}, peers: map[string]*peer{}, announced: map[int64]parley.Presence{},
		dirty: map[int64]struct{}{}, kick: make(chan struct{}, 1), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	if unsub, err := bus.Subscribe(t.receive); err != nil {
		log.Warn("presence: hearing other nodes", "err", err)
		t.unsub = func() {}
	} else {
		t.unsub = unsub
	}
	go t.run(ctx)
	return t
}

// Close stops the tracker and tells the other nodes that its devices are
// gone, announcing what that changes.
func (t *Tracker) Close() { t.closeOnce.Do(t.close) }

func (t *Tracker) close() {
	t.cancel()
	<-t.done
	t.unsub()
	t.mu.Lock()
	t.closing = true
	for id := range t.users {
		t.dirty[id] = struct{}{}
	}
	clear(t.users)
	t.mu.Unlock()
	t.announcing.Wait()
	t.flush(context.Background(), true)
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
	if before != after {
		t.dirty[userID] = struct{}{}
	}
	t.mu.Unlock()
	if before != after {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// Of returns a user's presence across the cluster.
func (t *Tracker) Of(userID int64) parley.Presence {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ofLocked(userID)
}

func (t *Tracker) ofLocked(userID int64) parley.Presence {
	p := t.users[userID].presence()
	if p == parley.PresenceOnline {
		return p
	}
	for _, n := range t.peers {
		switch n.users[userID].presence {
		case parley.PresenceOnline:
			return parley.PresenceOnline
		case parley.PresenceAway:
			p = parley.PresenceAway
		}
	}
	return p
}

// Fill sets the Presence of each user.
func (t *Tracker) Fill(users ...*parley.User) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range users {
		u.Presence = t.ofLocked(u.ID)
	}
}

// Online reports whether any device of the user is connected, on any
// node.
func (t *Tracker) Online(userID int64) bool { return t.Of(userID) != parley.PresenceOffline }

// run sends this node's changes as they happen and its heartbeats, and
// forgets the nodes that fell silent.
func (t *Tracker) run(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(t.heartbeat)
	defer tick.Stop()
	for beat := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
			t.flush(ctx, false)
		case <-tick.C:
			t.flush(ctx, false)
			t.mu.Lock()
			snapshot := beat%snapshotEvery == 0 || t.newPeer
			t.newPeer = false
			t.mu.Unlock()
			beat++
			t.beat(ctx, snapshot)
			t.expire(ctx)
		}
	}
}

// flush sends this node's changes, with the announcements they make, in
// one batch: a node that hears the delta hears that it was announced. The
// last one (gone) says the node is stopping.
func (t *Tracker) flush(ctx context.Context, gone bool) {
	t.mu.Lock()
	if len(t.dirty) == 0 && !gone {
		t.mu.Unlock()
		return
	}
	msg := nodeMessage{Gone: gone}
	var changed []int64
	for id := range t.dirty {
		msg.Users = append(msg.Users, [2]int64{id, stateCode(t.users[id].presence())})
		if t.noteLocked(id) {
			changed = append(changed, id)
		}
	}
	clear(t.dirty)
	t.mu.Unlock()
	t.send(ctx, append([]parley.Event{t.nodeEvent(msg)}, t.announcements(ctx, changed)...))
}

// noteLocked records a user's aggregate as announced and reports whether
// it changed.
func (t *Tracker) noteLocked(userID int64) bool {
	p := t.ofLocked(userID)
	if t.announced[userID] == p || (p == parley.PresenceOffline && t.announced[userID] == "") {
		return false
	}
	if p == parley.PresenceOffline {
		delete(t.announced, userID)
	} else {
		t.announced[userID] = p
	}
	return true
}

// beat tells the other nodes this one is alive, with everything it holds
// when snapshot is set.
func (t *Tracker) beat(ctx context.Context, snapshot bool) {
	if !snapshot {
		t.send(ctx, []parley.Event{t.nodeEvent(nodeMessage{})})
		return
	}
	t.mu.Lock()
	t.gen++
	gen := t.gen
	users := make([][2]int64, 0, len(t.users))
	for id, ds := range t.users {
		users = append(users, [2]int64{id, stateCode(ds.presence())})
	}
	t.mu.Unlock()
	for len(users) > snapshotChunk {
		t.send(ctx, []parley.Event{t.nodeEvent(nodeMessage{Users: users[:snapshotChunk], Gen: gen})})
		users = users[snapshotChunk:]
	}
	t.send(ctx, []parley.Event{t.nodeEvent(nodeMessage{Users: users, Gen: gen, Done: true})})
}

// expire forgets the nodes not heard for Expiry; the first live node
// announces what their devices' going changed.
func (t *Tracker) expire(ctx context.Context) {
	now := time.Now()
	t.mu.Lock()
	var touched []int64
	for id, n := range t.peers {
		if now.Sub(n.seen) > t.expiry {
			delete(t.peers, id)
			touched = append(touched, slices.Collect(maps.Keys(n.users))...)
			t.log.Info("presence: a node fell silent; its devices are gone", "node", id, "users", len(n.users))
		}
	}
	first := true
	for id := range t.peers {
		if id < t.node {
			first = false
		}
	}
	var changed []int64
	if first {
		for _, id := range touched {
			if t.noteLocked(id) {
				changed = append(changed, id)
			}
		}
	}
	t.mu.Unlock()
	if len(changed) > 0 {
		t.send(ctx, t.announcements(ctx, changed))
	}
}

// receive hears the other nodes: their devices and what was announced.
func (t *Tracker) receive(events []parley.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var touched []int64
	now := time.Now()
	for _, e := range events {
		switch e.Type {
		case parley.EventPresence:
			var a struct {
				UserID   int64           `json:"user_id"`
				Presence parley.Presence `json:"presence"`
			}
			if json.Unmarshal(e.Data, &a) == nil {
				if a.Presence == parley.PresenceOffline {
					delete(t.announced, a.UserID)
				} else {
					t.announced[a.UserID] = a.Presence
				}
			}
		case EventNode:
			var m nodeMessage
			if json.Unmarshal(e.Data, &m) != nil || m.Node == t.node {
				continue
			}
			touched = append(touched, t.applyLocked(m, now)...)
		}
	}
	// What the other node did not announce (a race with this node's own
	// change) is announced here.
	var changed []int64
	for _, id := range touched {
		if t.noteLocked(id) {
			changed = append(changed, id)
		}
	}
	if len(changed) > 0 && !t.closing {
		t.announcing.Add(1)
		go func() {
			defer t.announcing.Done()
			ctx := context.Background()
			t.send(ctx, t.announcements(ctx, changed))
		}()
	}
}

// applyLocked takes in a node's message and returns the users whose
// presence on it changed (none from a node heard for the first time: what
// it holds was announced before this node came).
func (t *Tracker) applyLocked(m nodeMessage, now time.Time) []int64 {
	n := t.peers[m.Node]
	if n == nil {
		if m.Gone {
			return nil
		}
		n = &peer{users: map[int64]peerUser{}}
		t.peers[m.Node] = n
		t.newPeer = true
	}
	n.seen = now
	first := !n.synced
	var touched []int64
	for _, u := range m.Users {
		id, p := u[0], states[min(max(u[1], 0), 2)]
		old, had := n.users[id]
		switch {
		case p == parley.PresenceOffline:
			delete(n.users, id)
		default:
			n.users[id] = peerUser{presence: p, gen: max(m.Gen, old.gen)}
		}
		if !first && old.presence != p && (had || p != parley.PresenceOffline) {
			touched = append(touched, id)
		}
	}
	if m.Done {
		for id, u := range n.users {
			if u.gen < m.Gen {
				delete(n.users, id)
				if !first {
					touched = append(touched, id)
				}
			}
		}
		n.synced = true
	}
	if m.Gone {
		// Its last delta listed its devices as gone; nothing is left.
		delete(t.peers, m.Node)
	}
	return touched
}

// announcements are the presence events of users whose state changed,
// each to the user's contacts and the user's own devices.
func (t *Tracker) announcements(ctx context.Context, userIDs []int64) []parley.Event {
	var out []parley.Event
	for _, id := range userIDs {
		ids, err := t.store.ContactIDs(ctx, id)
		if err != nil {
			t.log.Warn("presence contacts", "user_id", id, "err", err)
			continue
		}
		e := parley.NewEvent(parley.EventPresence, 0, 0, map[string]any{"user_id": id, "presence": t.Of(id)})
		e.Audience = append(ids, id)
		out = append(out, e)
	}
	return out
}

func (t *Tracker) nodeEvent(m nodeMessage) parley.Event {
	m.Node = t.node
	e := parley.NewEvent(EventNode, 0, 0, m)
	e.Audience = []int64{0} // other nodes only (see EventNode)
	return e
}

func (t *Tracker) send(ctx context.Context, events []parley.Event) {
	if len(events) == 0 {
		return
	}
	if err := t.bus.Publish(ctx, events); err != nil {
		t.log.Warn("presence publish", "err", err)
	}
}

func stateCode(p parley.Presence) int64 {
	return int64(slices.Index(states, p))
}
