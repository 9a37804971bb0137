package routing_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/sqlstore"
)

// env is a server's services on a real store, without transports, with a
// clock the test moves: what the distribution runs on.
type env struct {
	tb    testing.TB
	store *sqlstore.Store
	bus   *inmem.Bus
	pres  *presence.Tracker
	msgs  *messaging.Service
	chat  *livechat.Service
	clock *clock
	admin *parley.User
	seq   atomic.Int64

	mu      sync.Mutex
	devices map[int64]*presence.Device
}

// clock is a settable clock, safe for concurrent use.
type clock struct{ at atomic.Int64 }

func (c *clock) Now() time.Time          { return time.UnixMilli(c.at.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.at.Add(d.Milliseconds()) }

func newEnv(tb testing.TB, s *sqlstore.Store) *env {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{tb: tb, store: s, bus: inmem.NewBus(), clock: &clock{}, devices: map[int64]*presence.Device{}}
	e.clock.at.Store(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC).UnixMilli())
	tb.Cleanup(func() { e.bus.Close() })
	e.pres = presence.New(s, e.bus, log)
	tb.Cleanup(e.pres.Close)
	e.msgs = messaging.New(s, e.bus, nil, e.pres, messaging.Config{Now: e.clock.Now, Logger: log})
	tb.Cleanup(e.msgs.Close)
	var err error
	if e.chat, err = livechat.New(ctx, s, e.bus, nil, e.msgs, e.pres, livechat.Config{Now: e.clock.Now, Logger: log}); err != nil {
		tb.Fatal(err)
	}
	e.admin = e.user(parley.RoleAdmin)
	return e
}

// node is one server's distribution, driven by the test (not started).
func (e *env) node() *routing.Service {
	return routing.New(e.store, e.bus, e.chat, e.pres, routing.Config{Now: e.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func (e *env) write(fn func(tx parley.Tx) error) {
	e.tb.Helper()
	if _, err := e.store.Write(context.Background(), fn); err != nil {
		e.tb.Fatal(err)
	}
}

func (e *env) user(role parley.Role) *parley.User {
	e.tb.Helper()
	n := e.seq.Add(1)
	u := &parley.User{Email: fmt.Sprintf("u%d@routing.test", n), Name: fmt.Sprint("Manager ", n), Role: role, Active: true}
	e.write(func(tx parley.Tx) error { return tx.CreateUser(context.Background(), u, "") })
	return u
}

func (e *env) project(d parley.Distribution) *parley.Project {
	e.tb.Helper()
	n := e.seq.Add(1)
	p, err := e.chat.CreateProject(context.Background(), e.admin, livechat.ProjectInput{Name: ptr(fmt.Sprint("Project ", n)),
		Origins: &[]string{"*"}, ChatEnabled: ptr(true)})
	if err != nil {
		e.tb.Fatal(err)
	}
	return e.setDistribution(p, d)
}

func (e *env) setDistribution(p *parley.Project, d parley.Distribution) *parley.Project {
	e.tb.Helper()
	p, err := e.chat.UpdateProject(context.Background(), e.admin, p.ID, livechat.ProjectInput{Distribution: &d})
	if err != nil {
		e.tb.Fatal(err)
	}
	return p
}

// manager adds an agent to the project at a level, online.
func (e *env) manager(p *parley.Project, level int) *parley.User {
	e.tb.Helper()
	u := e.user(parley.RoleAgent)
	if _, err := e.chat.AddSpecialist(context.Background(), e.admin, p.ID, livechat.SpecialistInput{UserID: u.ID, Level: level}); err != nil {
		e.tb.Fatal(err)
	}
	e.online(u.ID, true)
	return u
}

func (e *env) online(userID int64, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.devices[userID]
	switch {
	case on && d == nil:
		e.devices[userID] = e.pres.Connect(userID)
	case !on && d != nil:
		d.Disconnect()
		delete(e.devices, userID)
	}
}

// arrive is a new customer's first message: a new dialog.
func (e *env) arrive(p *parley.Project) *parley.Contact {
	e.tb.Helper()
	k := &parley.Contact{ProjectID: p.ID, Name: fmt.Sprint("Customer ", e.seq.Add(1))}
	e.write(func(tx parley.Tx) error { return tx.CreateContact(context.Background(), k) })
	e.say(k)
	return k
}

// say sends a customer's message (reopening their closed dialog).
func (e *env) say(k *parley.Contact) *parley.Message {
	e.tb.Helper()
	m, err := e.msgs.SendAsContact(context.Background(), k, messaging.SendInput{Text: "hello", ClientID: fmt.Sprint("c", e.seq.Add(1))})
	if err != nil {
		e.tb.Fatal(err)
	}
	return m
}

func (e *env) dialog(contactID int64) *parley.Conversation {
	e.tb.Helper()
	c, err := e.store.LastDialog(context.Background(), contactID)
	if err != nil {
		e.tb.Fatal(err)
	}
	return c
}

// lines returns a dialog's system lines with the given action.
func (e *env) lines(convID int64, action string) []*parley.SystemEvent {
	e.tb.Helper()
	ms, err := e.store.Messages(context.Background(), convID, parley.MessagePage{Limit: 500})
	if err != nil {
		e.tb.Fatal(err)
	}
	slices.SortFunc(ms, func(a, b *parley.Message) int { return cmp.Compare(a.Seq, b.Seq) })
	var out []*parley.SystemEvent
	for _, m := range ms {
		if m.Kind == parley.MsgEvent && m.Event != nil && m.Event.Action == action {
			out = append(out, m.Event)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// decisions returns the whole decisions behind a dialog's routed lines,
// in order, each checked against its line.
func (e *env) decisions(convID int64) []*parley.RoutingDecision {
	e.tb.Helper()
	ms, err := e.store.Messages(context.Background(), convID, parley.MessagePage{Limit: 500})
	if err != nil {
		e.tb.Fatal(err)
	}
	slices.SortFunc(ms, func(a, b *parley.Message) int { return cmp.Compare(a.Seq, b.Seq) })
	var out []*parley.RoutingDecision
	for _, m := range ms {
		if m.Kind != parley.MsgEvent || m.Event == nil || m.Event.Action != parley.ActionRouted {
			continue
		}
		d, err := e.store.RoutingDecision(context.Background(), m.ID)
		if err != nil {
			e.tb.Fatalf("the decision of line %d: %v", m.ID, err)
		}
		if want, got := mustJSON(e.tb, d.Line()), mustJSON(e.tb, m.Event.Routing); string(want) != string(got) {
			e.tb.Fatalf("line %d says %s; its decision in brief is %s", m.ID, got, want)
		}
		out = append(out, d)
	}
	return out
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
