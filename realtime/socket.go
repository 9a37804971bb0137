package realtime

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// An idle connection should cost as little memory as possible: tens of
// thousands of them sit on a node, almost all of them quiet. net/http
// keeps a 4 KiB reader and a 4 KiB writer for each connection it serves,
// the WebSocket library would keep both for the connection's whole life,
// and a goroutine blocked deep inside the library's read needs a 4 KiB
// stack. The gateway instead hands the library a socket (below) whose
// buffers come from pools only while bytes pass through, and parks each
// connection's reader in a shallow wait for readability (waitReadable).
const (
	// bufSize is the size of the pooled buffers reads and writes go
	// through.
	bufSize = 4096
	// libReadBufferSize is the library's own read buffer: the minimum
	// bufio allows. The socket's pooled buffer does the buffering.
	libReadBufferSize = 16
	// libWriteBufferSize fits any control frame (at most 127 bytes: a
	// close, a pong), so that one goes out in one write. Data messages do
	// not depend on it: the socket gathers them while it holds (hold).
	libWriteBufferSize = 128
	// maxPooled is the largest buffer returned to a pool: a burst of
	// resume backlog can take megabytes, which should not stay around.
	maxPooled = 64 << 10
)

// counters are the gateway's totals since start, exported as metrics.
type counters struct {
	frames atomic.Uint64 // frames written (events, acks, control frames)
	writes atomic.Uint64 // socket writes
}

// socket is the network connection under a WebSocket.
//
// Writing, it counts writes and bounds each one with the write timeout,
// and while hold is in effect it gathers what the library writes (a frame
// header, then the payload, in pieces) so that the whole message leaves
// in one write. Every write to the network goes through mu, so bytes
// gathered while holding cannot be overtaken by a control frame the
// library writes from another goroutine.
//
// Reading, it waits for the connection to be readable before it takes a
// buffer from the pool, and gives the buffer back once the library has
// read it all. Only the connection's reader goroutine reads (conn.readLoop
// runs even the library's close handshake), so the read side needs no
// lock.
type socket struct {
	net.Conn
	raw     syscall.RawConn // nil when the connection has none: reads then block holding a buffer
	lib     *bufio.Reader   // the library's reader, which the socket feeds
	timeout time.Duration
	stats   *counters

	mu      sync.Mutex
	holding bool
	out     *[]byte // from pool, only while holding

	in    []byte  // bytes read and not yet taken
	inBuf *[]byte // the pooled buffer in points into
}

// pool holds the buffers that bytes pass through on their way to and from
// the network.
var pool = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

func getBuf() *[]byte { return pool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	*b = (*b)[:0]
	pool.Put(b)
}

// Write writes p to the network, or gathers it while holding.
func (s *socket) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding {
		*s.out = append(*s.out, p...)
		return len(p), nil
	}
	return s.write(p)
}

func (s *socket) write(p []byte) (int, error) {
	if err := s.Conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return 0, err
	}
	s.stats.writes.Add(1)
	return s.Conn.Write(p)
}

// hold starts gathering writes.
func (s *socket) hold() {
	s.mu.Lock()
	s.holding = true
	s.out = getBuf()
	s.mu.Unlock()
}

// release writes what was gathered since hold in one write, and stops
// gathering.
func (s *socket) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding = false
	b := s.out
	s.out = nil
	var err error
	if len(*b) > 0 {
		_, err = s.write(*b)
	}
	putBuf(b)
	return err
}

// Read reads into p: what a pooled buffer still holds, or, once the
// connection is readable, what it has. A read as large as a pooled buffer
// goes straight into p.
func (s *socket) Read(p []byte) (int, error) {
	if len(s.in) > 0 {
		n := copy(p, s.in)
		s.in = s.in[n:]
		if len(s.in) == 0 {
			putBuf(s.inBuf)
			s.in, s.inBuf = nil, nil
		}
		return n, nil
	}
	if len(p) >= bufSize {
		return s.Conn.Read(p)
	}
	if err := s.wait(); err != nil {
		return 0, err
	}
	b := getBuf()
	n, err := s.Conn.Read((*b)[:bufSize])
	m := copy(p, (*b)[:n])
	if m < n {
		s.in, s.inBuf = (*b)[m:n], b
	} else {
		putBuf(b)
	}
	if m > 0 {
		return m, nil // an error comes back with the next read
	}
	return 0, err
}

// waitReadable returns once there is something to read: bytes the library
// or the socket holds, data on the connection, its end, or an error (a
// read deadline passing, the connection closing). It holds no buffer and
// needs little stack while it waits.
func (s *socket) waitReadable() error {
	if s.lib.Buffered() > 0 || len(s.in) > 0 {
		return nil
	}
	return s.wait()
}

func (s *socket) wait() error {
	if s.raw == nil {
		return nil
	}
	return s.raw.Read(readable)
}

// upgrader is the http.ResponseWriter the WebSocket library upgrades
// through: its Hijack hands the library the connection wrapped in a
// socket, with small buffers of the gateway's instead of net/http's.
type upgrader struct {
	http.ResponseWriter
	timeout time.Duration
	stats   *counters
	sock    *socket // set by Hijack
	early   int     // bytes that followed the upgrade request
}

// Unwrap lets http.ResponseController reach the server's writer.
func (u *upgrader) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Hijack takes the connection over from net/http. Bytes the client sent
// right after its upgrade request (a first frame in the same TCP segment)
// are already in net/http's reader; they are moved into the new reader's
// buffer, where the library looks for them, and come first.
func (u *upgrader) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	s := &socket{Conn: nc, timeout: u.timeout, stats: u.stats}
	if sc, ok := nc.(syscall.Conn); ok && canWaitReadable {
		if s.raw, err = sc.SyscallConn(); err != nil {
			s.raw = nil
		}
	}
	var src io.Reader = s
	n := brw.Reader.Buffered()
	if n > 0 {
		early := make([]byte, n)
		io.ReadFull(brw.Reader, early) // buffered: cannot fail or block
		src = io.MultiReader(bytes.NewReader(early), s)
	}
	s.lib = bufio.NewReaderSize(src, max(libReadBufferSize, n))
	if n > 0 {
		s.lib.Peek(n) // from early, not from the network
	}
	u.sock, u.early = s, n
	return s, bufio.NewReadWriter(s.lib, bufio.NewWriterSize(s, libWriteBufferSize)), nil
}
