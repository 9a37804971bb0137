package loadgen

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// sockets are a run's open WebSockets, closed together when it ends.
type sockets struct {
	ending atomic.Bool
	sockMu sync.Mutex
	socks  []*websocket.Conn
}

// open dials a socket and reads its hello. A socket opened while the run
// ends is closed at once.
func (s *sockets) open(ctx context.Context, hc *http.Client, url string, h http.Header) (*websocket.Conn, error) {
	ws, err := dialWS(ctx, hc, url, h)
	if err != nil {
		return nil, err
	}
	_, data, err := ws.Read(ctx)
	if err == nil && !bytes.Contains(data, []byte(`"type":"hello"`)) {
		err = errNoHello
	}
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	s.sockMu.Lock()
	defer s.sockMu.Unlock()
	if s.ending.Load() {
		ws.CloseNow()
		return nil, context.Canceled
	}
	s.socks = append(s.socks, ws)
	return ws, nil
}

// closeAll ends the run's sockets, once: it reports whether this call did.
func (s *sockets) closeAll() bool {
	s.sockMu.Lock()
	defer s.sockMu.Unlock()
	if s.ending.Swap(true) {
		return false
	}
	for _, ws := range s.socks {
		ws.CloseNow()
	}
	return true
}
