package messaging_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestNoDeadlocksOnPostgres runs three nodes on one PostgreSQL database,
// each with its own group writer, and drives the writes that share rows
// all at once: sends (which move the senders' pointers), delivery receipts
// (everyone's pointers), reads, unread marks, drafts, and members leaving
// and being added back. Any deadlock, serialization failure or other
// database error, whether returned or logged, fails the test.
func TestNoDeadlocksOnPostgres(t *testing.T) {
	url := sqltest.PostgresURL(t)
	rec := &errorLog{}
	log := slog.New(rec)
	const nodes, users, size = 3, 60, 6
	type node struct {
		store *sqlstore.Store
		svc   *messaging.Service
	}
	var ns []node
	for range nodes {
		bus := inmem.NewBus()
		s, err := sqlstore.Open(t.Context(), url, sqlstore.Options{Publish: bus.Publish, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		pres := presence.New(s, bus, log)
		svc := messaging.New(s, bus, nil, pres,
			messaging.Config{SendRate: 1e9, SendBurst: 1e9, DeliveryFlush: 10 * time.Millisecond, Logger: log})
		ns = append(ns, node{s, svc})
		t.Cleanup(func() {
			svc.Close()
			pres.Close()
			s.Close()
			bus.Close()
		})
	}
	us, convs := benchChats(t, ns[0].store, users, size)

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	var mu sync.Mutex
	unexpected := map[string]int{}
	check := func(what string, err error) {
		switch parley.ErrorCode(err) {
		case "", parley.ENOTFOUND, parley.EINVALID, parley.ECONFLICT, parley.EFORBIDDEN:
			// A member who just left, a user added twice: the races of
			// the test, not failures of the store.
			return
		}
		if ctx.Err() != nil {
			return // cut off by the end of the test
		}
		failed.Add(1)
		mu.Lock()
		unexpected[what+": "+err.Error()]++
		mu.Unlock()
	}
	run := func(n int, fn func(rng *rand.Rand, nd node)) {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(n)))
				for ctx.Err() == nil {
					fn(rng, ns[rng.IntN(nodes)])
				}
			}()
		}
	}
	pick := func(rng *rand.Rand) (benchConv, *parley.User) {
		c := convs[rng.IntN(len(convs))]
		return c, us[c.members[rng.IntN(len(c.members))]]
	}
	run(48, func(rng *rand.Rand, nd node) {
		c, u := pick(rng)
		m, err := nd.svc.Send(ctx, u, messaging.SendInput{ConversationID: c.id, ClientID: fmt.Sprint(rng.Uint64()), Text: "hello"})
		check("send", err)
		if err != nil {
			return
		}
		sent.Add(1)
		for _, other := range c.members {
			nd.svc.Delivered(us[other].ID, c.id, m.Seq)
		}
	})
	run(6, func(rng *rand.Rand, nd node) {
		c, u := pick(rng)
		check("read", nd.svc.MarkRead(ctx, u, c.id, 0))
	})
	run(3, func(rng *rand.Rand, nd node) {
		c, u := pick(rng)
		check("unread", nd.svc.MarkUnread(ctx, u, c.id))
	})
	run(3, func(rng *rand.Rand, nd node) {
		c, u := pick(rng)
		_, err := nd.svc.SetDraft(ctx, u, c.id, "draft")
		check("draft", err)
	})
	run(3, func(rng *rand.Rand, nd node) {
		c, u := pick(rng)
		if u.ID == us[c.members[0]].ID {
			return // the first member stays, to add people back
		}
		check("leave", nd.svc.RemoveMember(ctx, u, c.id, u.ID))
		_, err := nd.svc.AddMembers(ctx, us[c.members[0]], c.id, []int64{u.ID})
		check("add", err)
	})
	wg.Wait()

	for what, n := range unexpected {
		t.Errorf("%d × %s", n, what)
	}
	for _, l := range rec.lines() {
		t.Errorf("logged: %s", l)
	}
	if sent.Load() < 100 {
		t.Errorf("only %d messages were sent: the test did not load the store", sent.Load())
	}
	t.Logf("%d messages sent, %d unexpected errors", sent.Load(), failed.Load())
}

// errorLog keeps the warnings and errors logged.
type errorLog struct {
	mu sync.Mutex
	l  []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *errorLog) WithGroup(string) slog.Handler                { return h }
func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.l = append(h.l, b.String())
	h.mu.Unlock()
	return nil
}

func (h *errorLog) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.l
}
