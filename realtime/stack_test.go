package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/realtime"
	"github.com/parley-chat/parley/reminders"
	"github.com/parley-chat/parley/sqlstore"
)

// stack is the whole server on a real SQLite database, served by httptest.
type stack struct {
	t        testing.TB
	dir      string
	store    *sqlstore.Store
	bus      *inmem.Bus
	accounts *accounts.Service
	msgs     *messaging.Service
	rem      *reminders.Service
	pres     *presence.Tracker
	gw       *realtime.Gateway
	srv      *httptest.Server
	closed   bool
}

func newStack(t testing.TB, dir string, cfg realtime.Config) *stack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	s := &stack{t: t, dir: dir, bus: inmem.NewBus()}
	var err error
	s.store, err = sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "parley.db"), sqlstore.Options{Publish: s.bus.Publish, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDisk(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	pres := presence.New(s.store, s.bus, log)
	s.pres = pres
	s.accounts = accounts.New(s.store, accounts.Options{Argon2: accounts.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1},
		Logger: log, LoginRate: rate.Inf})
	s.msgs = messaging.New(s.store, s.bus, blobs, pres, messaging.Config{SendRate: rate.Inf, Logger: log})
	s.rem = reminders.New(s.store, pres, log)
	cfg.Logger = log
	if s.gw, err = realtime.New(s.store, s.bus, s.msgs, s.rem, pres, cfg); err != nil {
		t.Fatal(err)
	}
	api := &httpapi.Server{Accounts: s.accounts, Messaging: s.msgs, Reminders: s.rem, Presence: pres, Gateway: s.gw, Logger: log}
	s.srv = httptest.NewServer(api.Handler())
	t.Cleanup(s.close)
	return s
}

// close shuts down in the order cmd/parley does.
func (s *stack) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.srv.Config.SetKeepAlivesEnabled(false)
	s.gw.Close()
	s.srv.Close()
	s.msgs.Close()
	s.rem.Close()
	s.pres.Close()
	s.bus.Close()
	s.store.Close()
}

type user struct {
	*parley.User
	token string
}

func (s *stack) user(name string) user {
	s.t.Helper()
	ctx := context.Background()
	u, err := s.accounts.CreateUser(ctx, nil, accounts.NewUser{Email: strings.ToLower(name) + "@example.com", Name: name, Password: "password1", Role: parley.RoleMember})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.login(u)
}

func (s *stack) login(u *parley.User) user {
	s.t.Helper()
	in, err := s.accounts.Login(context.Background(), accounts.Credentials{Email: u.Email, Password: "password1", Addr: "127.0.0.1"})
	if err != nil {
		s.t.Fatal(err)
	}
	return user{u, in.Token}
}

// direct makes an allowed direct conversation between a and b.
func (s *stack) direct(a, b user) int64 {
	s.t.Helper()
	ctx := context.Background()
	v, err := s.msgs.OpenDirect(ctx, a.User, b.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.msgs.Allow(ctx, b.User, v.ID); err != nil {
		s.t.Fatal(err)
	}
	return v.ID
}

// frame is a server frame as a test sees it.
type frame struct {
	Type           string          `json:"type"`
	ID             int64           `json:"id"`
	Req            int64           `json:"req"`
	ConversationID int64           `json:"conversation_id"`
	Seq            int64           `json:"seq"`
	Data           json.RawMessage `json:"data"`
	Message        *parley.Message `json:"message"`
	Cursor         int64           `json:"cursor"`
	Resync         bool            `json:"resync"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`

	Msg int `json:"-"` // the WebSocket message it came in, counted from 1
}

// client is a WebSocket client that collects every frame it receives.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{}
	status websocket.StatusCode // close status once done
	cursor int64                // highest event id seen
	msgs   int                  // messages received
	nfr    int                  // frames received
	mu     sync.Mutex
}

func (s *stack) dial(u user, cursor int64) *client {
	s.t.Helper()
	c, err := s.tryDial(u, cursor)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stack) tryDial(u user, cursor int64) (*client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := strings.Replace(s.srv.URL, "http", "ws", 1) + fmt.Sprintf("/api/v1/ws?cursor=%d&client=test&version=1", cursor)
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token}}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(64 << 20)
	c := &client{t: s.t, ws: ws, frames: make(chan frame, 100000), done: make(chan struct{}), cursor: cursor}
	go c.read()
	return c, nil
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.status = websocket.CloseStatus(err)
			return
		}
		var fs []frame
		if err := json.Unmarshal(data, &fs); err != nil {
			c.t.Errorf("server sent a non-array message %q: %v", data, err)
			return
		}
		c.mu.Lock()
		c.msgs++
		c.nfr += len(fs)
		msg := c.msgs
		c.mu.Unlock()
		for _, f := range fs {
			c.mu.Lock()
			c.cursor = max(c.cursor, f.ID)
			c.mu.Unlock()
			f.Msg = msg
			c.frames <- f
		}
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame of the given type, skipping others.
func (c *client) next(typ string) frame {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-c.frames:
			if f.Type == typ {
				return f
			}
		case <-timeout:
			c.t.Fatalf("no %s frame within 10 s", typ)
		}
	}
}

// none asserts no frame of the given type arrives within d.
func (c *client) none(typ string, d time.Duration) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if f.Type == typ {
				c.t.Fatalf("unexpected %s frame: %+v", typ, f)
			}
		case <-timeout:
			return
		}
	}
}

func (c *client) close() {
	c.ws.CloseNow()
	<-c.done
}

// counts returns how many messages and frames the client received.
func (c *client) counts() (msgs, frames int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs, c.nfr
}

func (c *client) lastCursor() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

func decodeMessage(t testing.TB, f frame) *parley.Message {
	t.Helper()
	var m parley.Message
	if err := json.Unmarshal(f.Data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}
