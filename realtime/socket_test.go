package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/realtime"
)

// earlyConn is a client connection whose first write (the upgrade
// request) carries extra bytes: WebSocket frames the server finds in the
// same TCP segment, already read into net/http's buffer when it hands the
// connection over.
type earlyConn struct {
	net.Conn
	once  sync.Once
	extra []byte
}

func (c *earlyConn) Write(p []byte) (int, error) {
	first := false
	c.once.Do(func() { first = true })
	if !first {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(append(append([]byte(nil), p...), c.extra...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// maskedText encodes a client text frame (RFC 6455 section 5.2), which a
// client must mask. Test input only: the client library writes every
// other frame.
func maskedText(payload string) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		panic("frame too long for this test")
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	for i := 0; i < len(payload); i++ {
		b = append(b, payload[i]^key[i%4])
	}
	return b
}

// TestFrameInUpgradeSegment: frames that follow the upgrade request in the
// same segment (more than the gateway's read buffer holds) are read, in
// order, and the connection works on.
func TestFrameInUpgradeSegment(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann := s.user("Ann")
	padding := strings.Repeat("x", 1500)
	var extra []byte
	extra = append(extra, maskedText(fmt.Sprintf(`{"type":"ping","req":1,"text":%q}`, padding))...)
	extra = append(extra, maskedText(`{"type":"ping","req":2}`)...)
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &earlyConn{Conn: nc, extra: extra}, nil
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := strings.Replace(s.srv.URL, "http", "ws", 1) + "/api/v1/ws"
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc,
		HTTPHeader: http.Header{"Authorization": {"Bearer " + ann.token}}})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws, frames: make(chan frame, 100), done: make(chan struct{})}
	go c.read()
	defer c.close()
	c.next("hello")
	for req := int64(1); req <= 2; req++ {
		if f := c.next("pong"); f.Req != req {
			t.Fatalf("pong for req %d, want %d", f.Req, req)
		}
	}
	c.send(map[string]any{"type": "ping", "req": 3})
	if f := c.next("pong"); f.Req != 3 {
		t.Fatalf("pong for req %d, want 3", f.Req)
	}
}

// TestBatchInOneMessage publishes batches of events for one user back to
// back: each batch reaches the device in one WebSocket message (batches
// may share one), in order, and every message is one socket write.
func TestBatchInOneMessage(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann := s.user("Ann")
	a := s.dial(ann, 0)
	a.next("hello")
	const batches, perBatch = 40, 25
	published := make(chan struct{})
	t.Cleanup(func() { <-published }) // before the stack closes
	go func() {
		defer close(published)
		for b := range batches {
			events := make([]parley.Event, perBatch)
			for i := range events {
				events[i] = parley.NewEvent(parley.EventTyping, 0, 0, map[string]any{"batch": b, "i": i})
				events[i].Audience = []int64{ann.ID}
			}
			if err := s.bus.Publish(context.Background(), events); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	msgOf := map[int]int{} // batch → message
	want := 0              // the next batch*perBatch+i expected
	for want < batches*perBatch {
		f := a.next(parley.EventTyping)
		var d struct{ Batch, I int }
		if err := json.Unmarshal(f.Data, &d); err != nil {
			t.Fatal(err)
		}
		if got := d.Batch*perBatch + d.I; got != want {
			t.Fatalf("event %d of batch %d arrived as number %d, want %d", d.I, d.Batch, got, want)
		}
		want++
		if m, ok := msgOf[d.Batch]; ok && m != f.Msg {
			t.Fatalf("batch %d came in messages %d and %d", d.Batch, m, f.Msg)
		}
		msgOf[d.Batch] = f.Msg
	}

	// Every frame the gateway counts reached the client, and every
	// message took one socket write.
	var st realtime.Stats
	var msgs, frames int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		st = s.gw.Stats()
		if msgs, frames = a.counts(); st.Frames == uint64(frames) && st.Writes == uint64(msgs) {
			break
		}
	}
	if st.Frames != uint64(frames) || st.Writes != uint64(msgs) {
		t.Fatalf("the gateway counts %d frames in %d writes; the client received %d frames in %d messages",
			st.Frames, st.Writes, frames, msgs)
	}
	t.Logf("%d frames in %d messages", frames, msgs)
}
