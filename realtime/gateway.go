package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/reminders"
)

// Config tunes the gateway.
type Config struct {
	// QueueLimit is how many frames may wait for a slow client before it
	// is disconnected with CloseSlowConsumer (default 8192).
	QueueLimit int
	// ResumeLimit is how many missed events a reconnecting client is sent;
	// beyond it the client is told to refetch its state (default 5000).
	ResumeLimit int
	// WriteTimeout bounds one socket write (default 10 s).
	WriteTimeout time.Duration
	// OriginPatterns are extra origins allowed to open a socket with a
	// session cookie (the server's own origin always is).
	OriginPatterns []string
	Logger         *slog.Logger
	// Calls takes the call.* frames of users' sockets (nil: none).
	Calls CallFrames
}

// CallFrames acts on a user's call.* frame (docs/calls.md); a non-nil
// result is answered as an ack with its fields, nil as ok.
type CallFrames interface {
	Frame(ctx context.Context, actor *parley.User, typ string, raw []byte) (map[string]any, error)
}

// Gateway holds every WebSocket connection of this node.
type Gateway struct {
	store     parley.Store
	msgs      *messaging.Service
	reminders *reminders.Service
	presence  *presence.Tracker
	cfg       Config
	log       *slog.Logger
	cancel    func()

	mu       sync.RWMutex
	users    map[int64]map[*conn]struct{}
	contacts map[int64]map[*conn]struct{} // visitors' widgets
	all      map[*conn]struct{}           // every user connection (not visitors)

	closed bool // no new connections

	// touched is route's list of the connections a batch is for. The bus
	// never runs route on two goroutines at once.
	touched []*conn

	conns atomic.Int64
	stats counters
}

// New returns a gateway routing the events published on bus.
func New(store parley.Store, bus parley.Bus, msgs *messaging.Service, rem *reminders.Service, pres *presence.Tracker, cfg Config) (*Gateway, error) {
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = 8192
	}
	if cfg.ResumeLimit <= 0 {
		cfg.ResumeLimit = 5000
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	g := &Gateway{store: store, msgs: msgs, reminders: rem, presence: pres, cfg: cfg, log: cfg.Logger,
		users: make(map[int64]map[*conn]struct{}), contacts: make(map[int64]map[*conn]struct{}), all: make(map[*conn]struct{})}
	cancel, err := bus.Subscribe(g.route)
	if err != nil {
		return nil, err
	}
	g.cancel = cancel
	return g, nil
}

// Connections returns the number of open connections on this node.
func (g *Gateway) Connections() int64 { return g.conns.Load() }

// Stats are a gateway's totals since it started.
type Stats struct {
	// Frames is how many frames were sent: events, acknowledgements and
	// the gateway's other frames, many to a WebSocket message.
	Frames uint64
	// Writes is how many socket writes carried them (and the WebSocket
	// control frames: closes, pongs).
	Writes uint64
}

// Stats returns the gateway's totals since it started.
func (g *Gateway) Stats() Stats {
	return Stats{Frames: g.stats.frames.Load(), Writes: g.stats.writes.Load()}
}

// Close disconnects every client with "going away"; they reconnect to
// another node or to this one after restart and resume. It returns once
// every connection has closed, or after the close handshake's timeout.
func (g *Gateway) Close() {
	g.cancel()
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.all))
	for c := range g.all {
		conns = append(conns, c)
	}
	for _, m := range g.contacts {
		for c := range m {
			conns = append(conns, c)
		}
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.shut(websocket.StatusGoingAway, goingAway)
	}
	// The readers close their sockets, in parallel; the library gives a
	// client 5 s to answer a close.
	for deadline := time.Now().Add(6 * time.Second); g.conns.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

const goingAway = "server restarting; reconnect and resume"

// route hands each event to the local connections of its audience. It
// runs on the bus's goroutine: it only encodes and queues. It gathers the
// events of the batch per connection first and queues each connection's
// share at once, then starts the writers, so that a connection receives a
// published batch in one write however many of its events are for it.
func (g *Gateway) route(events []parley.Event) {
	touched := g.touched[:0]
	g.mu.RLock()
	for i := range events {
		e := &events[i]
		var frame []byte
		push := func(c *conn) {
			if frame == nil {
				frame = appendEvent(make([]byte, 0, 128+len(e.Data)), e)
			}
			if len(c.routed) == 0 {
				touched = append(touched, c)
			}
			c.routed = append(c.routed, item{frame: frame, id: e.ID, conv: e.ConversationID, seq: e.Seq, msg: e.Type == parley.EventMessageCreated})
		}
		switch {
		case e.ContactID != 0:
			for c := range g.contacts[e.ContactID] {
				push(c)
			}
		case e.Broadcast():
			for c := range g.all {
				push(c)
			}
		default:
			for _, uid := range e.Audience {
				for c := range g.users[uid] {
					push(c)
				}
			}
		}
		g.control(e)
	}
	g.mu.RUnlock()
	for _, c := range touched {
		batch := c.routed
		c.routed = nil // the queue may keep the slice
		if c.enqueue(batch) {
			go c.writeLoop()
		}
	}
	clear(touched)
	g.touched = touched[:0]
}

// control acts on events that end connections: a deactivated user, a
// signed-out session, an erased visitor.
func (g *Gateway) control(e *parley.Event) {
	switch e.Type {
	case parley.EventContactErased:
		for c := range g.contacts[e.ContactID] {
			c.shut(CloseUnauthorized, "visitor erased")
		}
	case parley.EventUserUpdated:
		var u struct {
			ID     int64 `json:"id"`
			Active bool  `json:"active"`
		}
		if json.Unmarshal(e.Data, &u) == nil && !u.Active {
			for c := range g.users[u.ID] {
				c.shut(CloseUnauthorized, "account deactivated")
			}
		}
	case parley.EventSessionEnded:
		var s struct {
			SessionID int64 `json:"session_id"`
		}
		if json.Unmarshal(e.Data, &s) == nil {
			for c := range g.users[e.UserID] {
				if c.session == s.SessionID {
					c.shut(CloseUnauthorized, "signed out")
				}
			}
		}
	}
}

// set returns the map and key a connection is routed by.
func (g *Gateway) set(c *conn) (map[int64]map[*conn]struct{}, int64) {
	if c.contact != nil {
		return g.contacts, c.contact.ID
	}
	return g.users, c.user.ID
}

// add registers c, or reports false once the gateway is closed.
func (g *Gateway) add(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	byID, id := g.set(c)
	m := byID[id]
	if m == nil {
		m = make(map[*conn]struct{}, 1)
		byID[id] = m
	}
	m[c] = struct{}{}
	if c.user != nil {
		g.all[c] = struct{}{}
	}
	g.conns.Add(1)
	return true
}

func (g *Gateway) remove(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	byID, id := g.set(c)
	if m := byID[id]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(byID, id)
		}
	}
	delete(g.all, c)
	g.conns.Add(-1)
}

// Serve upgrades the request to a WebSocket for an authenticated user,
// resumes it and returns; the connection runs on until it ends. cursor is the last event the client
// saw (0: a fresh client that will fetch its state).
func (g *Gateway) Serve(w http.ResponseWriter, r *http.Request, user *parley.User, session int64, cursor int64, client, version string) {
	ws, sock := g.accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  g.cfg.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled,
	})
	if ws == nil {
		return // Accept has answered the request
	}
	ws.SetReadLimit(64 << 10)
	// The connection outlives this handler and its request's context.
	ctx := context.Background()
	c := &conn{g: g, ws: ws, sock: sock, user: user, session: session, client: client, version: version, resuming: true}
	if !g.add(c) {
		ws.Close(websocket.StatusGoingAway, goingAway)
		return
	}
	device := g.presence.Connect(user.ID)
	end := func() {
		g.remove(c)
		device.Disconnect()
		c.closeWriter()
		ws.CloseNow() // ends a write under way
	}
	if err := g.resume(ctx, c, cursor); err != nil {
		g.log.Warn("resume", "user_id", user.ID, "err", err)
		ws.Close(websocket.StatusInternalError, "resume failed; reconnect")
		end()
		return
	}
	if err := g.msgs.Connected(ctx, user.ID); err != nil {
		g.log.Warn("marking delivered on connect", "user_id", user.ID, "err", err)
	}
	g.reminders.Connected(ctx, user.ID)
	// Read on a fresh goroutine and let this one, with the deep stack it
	// grew authenticating and resuming, and the request it holds, go: an
	// idle connection then costs a small stack.
	go func() {
		defer end()
		c.readLoop(device)
	}()
}

// CloseTokenExpired ends a visitor's socket when the token it was opened
// with expires (docs/realtime.md): the widget renews its token (it should
// have before expiry) and reconnects at once, resuming from its cursor.
const CloseTokenExpired websocket.StatusCode = 4401

// ServeVisitor upgrades a widget's request to its WebSocket: the
// visitor's own events (their projection of their dialog), resumed from
// cursor. The caller has checked the visitor token and the origin, so any
// origin is accepted here; tokenLeft is how long that token stays valid,
// and the socket ends when it runs out, so no socket outlives its token.
func (g *Gateway) ServeVisitor(w http.ResponseWriter, r *http.Request, contact *parley.Contact, cursor int64, tokenLeft time.Duration) {
	ws, sock := g.accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if ws == nil {
		return
	}
	ws.SetReadLimit(4 << 10)
	ctx := context.Background()
	c := &conn{g: g, ws: ws, sock: sock, contact: contact, resuming: true}
	if !g.add(c) {
		ws.Close(websocket.StatusGoingAway, goingAway)
		return
	}
	expiry := time.AfterFunc(tokenLeft, func() {
		c.shut(CloseTokenExpired, "visitor token expired; renew it and reconnect")
	})
	end := func() {
		expiry.Stop()
		g.remove(c)
		c.closeWriter()
		ws.CloseNow()
	}
	if err := g.resume(ctx, c, cursor); err != nil {
		g.log.Warn("visitor resume", "contact_id", contact.ID, "err", err)
		ws.Close(websocket.StatusInternalError, "resume failed; reconnect")
		end()
		return
	}
	go func() {
		defer end()
		c.readLoop(nil)
	}()
}

// accept upgrades the request through an upgrader (socket.go), so that
// the connection keeps small buffers and its writes are gathered and
// counted. It returns nil if the upgrade failed; Accept has then answered.
func (g *Gateway) accept(w http.ResponseWriter, r *http.Request, opts *websocket.AcceptOptions) (*websocket.Conn, *socket) {
	u := &upgrader{ResponseWriter: w, timeout: g.cfg.WriteTimeout, stats: &g.stats}
	ws, err := websocket.Accept(u, r, opts)
	if err != nil {
		return nil, nil
	}
	if u.sock == nil {
		// The library hijacked through something else: it would write
		// around the socket. It never does; refuse rather than guess.
		g.log.Error("websocket upgrade bypassed the gateway's upgrader")
		ws.CloseNow()
		return nil, nil
	}
	if u.early > 0 {
		// The library put the early bytes back in front of the socket
		// rather than in its buffer; bring them into the buffer, where
		// the reader's wait for readability sees them.
		u.sock.lib.Peek(u.early)
	}
	return ws, u.sock
}

// resume sends hello and every durable event after cursor, then releases
// the live events held back meanwhile, skipping those already sent.
func (g *Gateway) resume(ctx context.Context, c *conn, cursor int64) error {
	oldest, newest, err := g.store.EventBounds(ctx)
	if err != nil {
		return err
	}
	hello := map[string]any{"cursor": newest}
	since := func(after int64, n int) ([]parley.Event, error) {
		if c.contact != nil {
			return g.store.ContactEventsSince(ctx, c.contact.ID, after, n)
		}
		return g.store.EventsSince(ctx, c.user.ID, after, n)
	}
	if c.user != nil {
		hello["user"] = c.user
	}
	var backlog []parley.Event
	switch {
	case cursor > newest:
		// A cursor from beyond the stream: every event was pruned, or
		// the database was restored from a backup. What the client
		// missed cannot be known; it starts again from here.
		hello["resync"], cursor = true, newest
	case cursor <= 0 || cursor == newest:
	case cursor < oldest-1:
		hello["resync"] = true // events after the cursor were pruned
	default:
		backlog, err = since(cursor, g.cfg.ResumeLimit+1)
		if err != nil {
			return err
		}
		if len(backlog) > g.cfg.ResumeLimit {
			backlog, hello["resync"] = nil, true
		}
	}
	if cursor > 0 && cursor < newest {
		hello["cursor"] = cursor
	}
	items := make([]item, 0, len(backlog)+1)
	items = append(items, item{frame: controlFrame("hello", 0, hello)})
	for i := range backlog {
		e := &backlog[i]
		items = append(items, item{frame: appendEvent(nil, e), id: e.ID, conv: e.ConversationID, seq: e.Seq,
			msg: e.Type == parley.EventMessageCreated})
	}
	c.release(items, cursor)
	return nil
}
