package realtime

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/jsontext"
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
//
// A connection has no context of its own: the library's reads and writes
// take none (a context per read or write costs allocations, and a
// cancellable one per connection costs memory while it idles). Closing the
// WebSocket ends both loops; the socket's deadline bounds each write.
type conn struct {
	g       *Gateway
	ws      *websocket.Conn
	sock    *socket
	user    *parley.User    // a user's device,
	contact *parley.Contact // or a visitor's widget
	session int64
	client  string
	version string

	mu       sync.Mutex
	queue    []item
	held     []item // live events that arrived while resuming
	resuming bool
	// sent is the newest stream position queued for the client. A node's
	// stream is in order but may lag behind the cursor a client brings
	// from another node: what is at or below it is the client's already.
	sent    int64
	writing bool
	closed  bool
	// closeCode and closeReason, once set (shut), are what the reader
	// closes the WebSocket with.
	closeCode   websocket.StatusCode
	closeReason string
	// backlog is how many queued frames are resume backlog, bounded by
	// ResumeLimit rather than QueueLimit, until the writer takes them.
	backlog int

	// routed is the part of a published batch for this connection, while
	// route gathers it. Only route touches it, and the bus never runs
	// route on two goroutines at once.
	routed []item
}

// enqueue queues a batch of live events (taking ownership of the slice)
// and reports whether the caller must start the writer (go
// c.writeLoop()). The whole batch is queued at once, so a writer already
// running takes all of it or none.
func (c *conn) enqueue(batch []item) (start bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if c.resuming {
		c.held = append(c.held, batch...)
		return false
	}
	return c.enqueueLocked(batch)
}

// pushFrame queues a control frame (ack, error, pong) and starts the
// writer if it is not running.
func (c *conn) pushFrame(frame []byte) {
	if c.enqueue([]item{{frame: frame}}) {
		go c.writeLoop()
	}
}

// release queues the resume backlog, then the live events held meanwhile
// that the client does not already have (at or before its cursor: a live
// event can reach the old connection and be held by the new one) or that
// the backlog contains, ends resuming and starts the writer.
func (c *conn) release(backlog []item, cursor int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := cursor
	for _, it := range backlog {
		last = max(last, it.id)
	}
	c.queue = append(c.queue, backlog...)
	c.backlog = len(backlog)
	live := c.held[:0]
	for _, it := range c.held {
		if it.id == 0 || it.id > last {
			live = append(live, it)
		}
	}
	c.held, c.resuming, c.sent = nil, false, last
	start := c.enqueueLocked(live)
	if !c.writing && !c.closed && len(c.queue) > 0 {
		c.writing, start = true, true
	}
	if start {
		go c.writeLoop()
	}
}

// unseen drops the events the client has (at or below sent) and moves
// sent to the newest of the others.
func (c *conn) unseen(items []item) []item {
	keep := items[:0]
	for _, it := range items {
		if it.id == 0 {
			keep = append(keep, it)
		} else if it.id > c.sent {
			keep = append(keep, it)
			c.sent = it.id
		}
	}
	return keep
}

// enqueueLocked queues items, which it may keep as the queue, and reports
// whether a writer must be started; the writer then counts as started
// (writing), so one batch starts one writer.
func (c *conn) enqueueLocked(items []item) (start bool) {
	if c.closed || len(items) == 0 {
		return false
	}
	if items = c.unseen(items); len(items) == 0 {
		return false
	}
	if len(c.queue)-c.backlog+len(items) > c.g.cfg.QueueLimit {
		// The client cannot keep up. Dropping frames silently would lose
		// messages; closing tells it to resume from its cursor instead.
		c.shutLocked(CloseSlowConsumer, "too slow; reconnect and resume from your cursor")
		return false
	}
	if len(c.queue) == 0 {
		c.queue = items
	} else {
		c.queue = append(c.queue, items...)
	}
	if c.writing {
		return false
	}
	c.writing = true
	return true
}

// shut stops the writer and has the reader close the WebSocket with code.
// The reader does it because the library's close handshake reads from the
// connection, and only the reader reads (socket.Read); a read deadline in
// the past wakes it from its wait.
func (c *conn) shut(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shutLocked(code, reason)
}

func (c *conn) shutLocked(code websocket.StatusCode, reason string) {
	c.closed, c.queue, c.held = true, nil, nil
	if c.closeCode == 0 {
		c.closeCode, c.closeReason = code, reason
		c.sock.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) closeWriter() {
	c.mu.Lock()
	c.closed, c.queue, c.held = true, nil, nil
	c.mu.Unlock()
}

// writeLoop sends queued frames until the queue is empty, then ends. Each
// round sends everything queued as one message (a JSON array of frames),
// in one socket write.
func (c *conn) writeLoop() {
	var batch []item
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			// An idle connection keeps no queue storage.
			c.writing, c.queue = false, nil
			c.mu.Unlock()
			return
		}
		batch, c.queue, c.backlog = c.queue, batch[:0], 0
		c.mu.Unlock()

		bp := getBuf()
		buf := append((*bp)[:0], '[')
		for i, it := range batch {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, it.frame...)
		}
		buf = append(buf, ']')
		// The library writes the header and the payload in pieces; the
		// socket gathers them and sends the message in one write.
		c.sock.hold()
		err := c.ws.Write(context.Background(), websocket.MessageText, buf)
		if rerr := c.sock.release(); err == nil {
			err = rerr
		}
		*bp = buf
		putBuf(bp)
		if err != nil {
			c.closeWriter()
			c.ws.CloseNow()
			return
		}
		c.g.stats.frames.Add(uint64(len(batch)))
		c.delivered(batch)
		clear(batch) // drop frame references before reuse
	}
}

// delivered records that new messages reached this device.
func (c *conn) delivered(batch []item) {
	if c.contact != nil {
		return // a visitor's delivery is not tracked
	}
	// The newest seq per conversation; a batch spans few conversations.
	type newest struct{ conv, seq int64 }
	var arr [8]newest
	list := arr[:0]
next:
	for _, it := range batch {
		if !it.msg {
			continue
		}
		for i := range list {
			if list[i].conv == it.conv {
				list[i].seq = max(list[i].seq, it.seq)
				continue next
			}
		}
		list = append(list, newest{it.conv, it.seq})
	}
	for _, n := range list {
		c.g.msgs.Delivered(c.user.ID, n.conv, n.seq)
	}
}

// readLoop handles client frames until the connection ends. Between
// frames it waits for readability without a buffer, on a small stack.
func (c *conn) readLoop(device *presence.Device) {
	ctx := context.Background()
	for {
		err := c.sock.waitReadable()
		var typ websocket.MessageType
		var data []byte
		if err == nil {
			typ, data, err = c.ws.Read(ctx)
		}
		if err != nil {
			c.mu.Lock()
			code, reason := c.closeCode, c.closeReason
			c.mu.Unlock()
			if code != 0 {
				c.sock.SetReadDeadline(time.Time{})
				c.ws.Close(code, reason)
			}
			return
		}
		if typ != websocket.MessageText {
			c.ws.Close(CloseBadFrame, "frames are JSON text")
			return
		}
		var f clientFrame
		if err := jsontext.Check(data, "frame"); err != nil {
			c.pushFrame(errorFrame(0, err))
			continue
		}
		if err := json.Unmarshal(data, &f); err != nil {
			c.pushFrame(errorFrame(0, parley.Invalid("frame", "the frame is not valid JSON")))
			continue
		}
		c.handle(&f, data, device)
	}
}

// handle acts on one client frame. Its work runs to completion even if
// the connection closes meanwhile: a send waiting for room in the commit
// queue is still committed, and a client that retries it with its client
// id gets that message.
func (c *conn) handle(f *clientFrame, data []byte, device *presence.Device) {
	ctx := context.Background()
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
		err = c.g.msgs.Typing(ctx, c.user, f.ConversationID, f.Whisper)
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
		if strings.HasPrefix(f.Type, "call.") && c.g.cfg.Calls != nil {
			// Calls (docs/calls.md) take their frames whole.
			res, err := c.g.cfg.Calls.Frame(ctx, c.user, f.Type, data)
			if err != nil {
				c.pushFrame(errorFrame(f.Req, err))
			} else if res != nil {
				c.pushFrame(controlFrame("ack", f.Req, res))
			} else if f.Req != 0 {
				c.pushFrame(controlFrame("ok", f.Req, nil))
			}
			return
		}
		err = parley.Invalid("type", "unknown frame type %q", f.Type)
	}
	if err != nil {
		c.pushFrame(errorFrame(f.Req, err))
	} else if f.Req != 0 {
		c.pushFrame(controlFrame("ok", f.Req, nil))
	}
}
