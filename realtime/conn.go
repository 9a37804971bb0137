package realtime

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
)

// item is one queued frame with what the writer needs to know about it.
type item struct {
	frame []byte
	id    int64 // stream position; 0 for ephemeral and control frames
	conv  int64
	seq   int64
	msg   bool // a new message: writing it records delivery
}

// conn is one WebSocket connection. Frames wait in a growable queue (an
// idle connection holds no buffers) and a writer goroutine, started only
// while frames wait, sends everything queued as one WebSocket message: one
// write for many frames.
type conn struct {
	g       *Gateway
	ws      *websocket.Conn
	user    *parley.User    // a user's device,
	contact *parley.Contact // or a visitor's widget
	session int64
	client  string
	version string
	ctx     context.Context

	mu       sync.Mutex
	queue    []item
	held     []item // live events that arrived while resuming
	resuming bool
	writing  bool
	closed   bool
	// backlog is how many queued frames are resume backlog, bounded by
	// ResumeLimit rather than QueueLimit, until the writer takes them.
	backlog int
}

// push queues a live event.
func (c *conn) push(it item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.resuming {
		c.held = append(c.held, it)
		return
	}
	c.enqueueLocked(it)
}

// pushFrame queues a control frame (ack, error, pong).
func (c *conn) pushFrame(frame []byte) { c.push(item{frame: frame}) }

// release queues the resume backlog, then the live events held meanwhile
// that the client does not already have (at or before its cursor: a live
// event can reach the old connection and be held by the new one) or that
// the backlog contains, and ends resuming.
func (c *conn) release(backlog []item, cursor int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := cursor
	for _, it := range backlog {
		c.queue = append(c.queue, it)
		last = max(last, it.id)
	}
	c.backlog = len(backlog)
	for _, it := range c.held {
		if it.id == 0 || it.id > last {
			c.enqueueLocked(it)
		}
	}
	c.startWriter()
	c.held, c.resuming = nil, false
}

func (c *conn) enqueueLocked(it item) {
	if c.closed {
		return
	}
	if len(c.queue)-c.backlog >= c.g.cfg.QueueLimit {
		// The client cannot keep up. Dropping frames silently would lose
		// messages; closing tells it to resume from its cursor instead.
		c.closed, c.queue = true, nil
		go c.ws.Close(CloseSlowConsumer, "too slow; reconnect and resume from your cursor")
		return
	}
	c.queue = append(c.queue, it)
	c.startWriter()
}

func (c *conn) startWriter() {
	if !c.writing && len(c.queue) > 0 && !c.closed {
		c.writing = true
		go c.writeLoop()
	}
}

func (c *conn) closeWriter() {
	c.mu.Lock()
	c.closed, c.queue, c.held = true, nil, nil
	c.mu.Unlock()
}

// writeLoop sends queued frames until the queue is empty, then ends.
func (c *conn) writeLoop() {
	var buf []byte
	var batch []item
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch, c.queue, c.backlog = c.queue, batch[:0], 0
		c.mu.Unlock()

		buf = append(buf[:0], '[')
		for i, it := range batch {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, it.frame...)
		}
		buf = append(buf, ']')
		ctx, cancel := context.WithTimeout(c.ctx, c.g.cfg.WriteTimeout)
		err := c.ws.Write(ctx, websocket.MessageText, buf)
		cancel()
		if err != nil {
			c.closeWriter()
			c.ws.CloseNow()
			return
		}
		c.g.stats.frames.Add(uint64(len(batch)))
		// The library's 4 KiB buffered writer sends a message in one
		// write, or in two when it does not fit.
		if len(buf)+10 > 4096 {
			c.g.stats.writes.Add(2)
		} else {
			c.g.stats.writes.Add(1)
		}
		c.delivered(batch)
		clear(batch) // drop frame references before reuse
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a huge buffer for a quiet connection
		}
	}
}

// delivered records that new messages reached this device.
func (c *conn) delivered(batch []item) {
	if c.contact != nil {
		return // a visitor's delivery is not tracked
	}
	var newest map[int64]int64 // conversation → seq
	for _, it := range batch {
		if it.msg && it.seq > newest[it.conv] {
			if newest == nil {
				newest = make(map[int64]int64)
			}
			newest[it.conv] = it.seq
		}
	}
	for conv, seq := range newest {
		c.g.msgs.Delivered(c.user.ID, conv, seq)
	}
}

// readLoop handles client frames until the connection ends.
func (c *conn) readLoop(device *presence.Device) {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.ws.Close(CloseBadFrame, "frames are JSON text")
			return
		}
		var f clientFrame
		if err := json.Unmarshal(data, &f); err != nil {
			c.pushFrame(errorFrame(0, parley.Invalid("frame", "the frame is not valid JSON")))
			continue
		}
		c.handle(&f, device)
	}
}

func (c *conn) handle(f *clientFrame, device *presence.Device) {
	ctx := c.ctx
	var err error
	if c.contact != nil && f.Type != "ping" {
		// The widget sends over HTTP; its socket only listens.
		c.pushFrame(errorFrame(f.Req, parley.Invalid("type", "visitors send with the HTTP API; this socket takes ping only")))
		return
	}
	switch f.Type {
	case "send":
		req := f.Req
		c.g.msgs.SendAsync(ctx, c.user, messaging.SendInput{ConversationID: f.ConversationID, ClientID: f.ClientID,
			Text: f.Text, QuoteID: f.QuoteID, FileIDs: f.FileIDs, Whisper: f.Whisper, Client: c.client, ClientVersion: c.version},
			func(m *parley.Message, err error) {
				if err != nil {
					c.pushFrame(errorFrame(req, err))
					return
				}
				c.pushFrame(controlFrame("ack", req, map[string]any{"message": m}))
			})
		return
	case "typing":
		err = c.g.msgs.Typing(ctx, c.user, f.ConversationID)
	case "read":
		err = c.g.msgs.MarkRead(ctx, c.user, f.ConversationID, f.Seq)
	case "presence":
		switch f.Status {
		case "away":
			device.SetAway(true)
		case "online":
			device.SetAway(false)
		default:
			err = parley.Invalid("status", "status must be online or away")
		}
	case "ping":
		c.pushFrame(controlFrame("pong", f.Req, nil))
		return
	default:
		err = parley.Invalid("type", "unknown frame type %q", f.Type)
	}
	if err != nil {
		c.pushFrame(errorFrame(f.Req, err))
	} else if f.Req != 0 {
		c.pushFrame(controlFrame("ok", f.Req, nil))
	}
}
