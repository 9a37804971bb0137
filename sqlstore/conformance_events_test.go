package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

func TestWriteRollback(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		a := newUser(t, s, "Ann", "ann@x.test")
		c := newConv(t, s, parley.KindGroup, "", a)
		mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c.ID, 0, c))
			return tx.PutSetting(ctx, "greeting", "hello")
		})
		oldest, newest, err := s.EventBounds(ctx)
		must(t, err)

		boom := errors.New("boom")
		tests := []struct {
			name string
			ret  error
		}{
			{"plain error", boom},
			{"wrapped error", fmt.Errorf("sending: %w", boom)},
			{"parley error", parley.Errorf(parley.EFORBIDDEN, "no")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				evs, err := s.Write(ctx, func(tx parley.Tx) error {
					u := &parley.User{Email: "new@x.test", Name: "New", Role: parley.RoleMember}
					if err := tx.CreateUser(ctx, u, ""); err != nil {
						return err
					}
					c2 := &parley.Conversation{Kind: parley.KindDirect, State: parley.StateAllowed, Key: "k"}
					if err := tx.CreateConversation(ctx, c2); err != nil {
						return err
					}
					if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u.ID}); err != nil {
						return err
					}
					m := &parley.Message{ConversationID: c.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "lost", ClientID: "x"}
					if err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
					if err := tx.PutSetting(ctx, "greeting", "changed"); err != nil {
						return err
					}
					if err := tx.CreateGroup(ctx, &parley.Group{Name: "g", MemberIDs: []int64{a.ID}}); err != nil {
						return err
					}
					tx.Emit(parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m))
					tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
					return tt.ret
				})
				if evs != nil {
					t.Errorf("a failed write returned events %+v", evs)
				}
				if !errors.Is(err, tt.ret) || parley.ErrorCode(err) != parley.ErrorCode(tt.ret) {
					t.Fatalf("Write returned %v, want %v", err, tt.ret)
				}
				if n, err := s.CountUsers(ctx); err != nil || n != 1 {
					t.Errorf("CountUsers = %d, %v, want 1", n, err)
				}
				if _, err := s.ConversationByKey(ctx, "k"); parley.ErrorCode(err) != parley.ENOTFOUND {
					t.Errorf("rolled-back conversation: %v", err)
				}
				if got, err := s.ConversationByID(ctx, c.ID); err != nil || got.LastSeq != 0 {
					t.Errorf("rolled-back message moved LastSeq: %+v, %v", got, err)
				}
				if _, err := s.MessageByClientID(ctx, a.ID, "x"); parley.ErrorCode(err) != parley.ENOTFOUND {
					t.Errorf("rolled-back message: %v", err)
				}
				if ms, err := s.Members(ctx, c.ID); err != nil || len(ms) != 1 {
					t.Errorf("rolled-back member: %v, %v", ms, err)
				}
				if gs, err := s.Groups(ctx); err != nil || len(gs) != 0 {
					t.Errorf("rolled-back group: %v, %v", gs, err)
				}
				var greeting string
				if err := s.Setting(ctx, "greeting", &greeting); err != nil || greeting != "hello" {
					t.Errorf("rolled-back setting: %q, %v", greeting, err)
				}
				if o, n, err := s.EventBounds(ctx); err != nil || o != oldest || n != newest {
					t.Errorf("EventBounds after rollback = %d, %d, %v, want %d, %d", o, n, err, oldest, newest)
				}
			})
		}

		// The store works after failed writes, and the next event follows
		// the last committed one.
		evs := mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, a))
			return nil
		})
		if len(evs) != 1 || evs[0].ID <= newest {
			t.Errorf("events after rollbacks = %+v, want one after %d", evs, newest)
		}
	})
}

func TestWritePanic(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic in fn did not reach the caller of Write")
				}
			}()
			s.Write(ctx, func(tx parley.Tx) error {
				if err := tx.CreateUser(ctx, &parley.User{Email: "p@x.test", Name: "P", Role: parley.RoleMember}, ""); err != nil {
					return err
				}
				panic("fn failed")
			})
		}()
		// A panic in fn rolls its transaction back: the store is not left
		// holding the write lock or the new row's locks.
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := s.Write(wctx, func(tx parley.Tx) error {
			return tx.CreateUser(wctx, &parley.User{Email: "p@x.test", Name: "P", Role: parley.RoleMember}, "")
		})
		if err != nil {
			t.Fatalf("write after a panic: %v", err)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 1 {
			t.Errorf("CountUsers = %d, %v, want 1", n, err)
		}
	})
}

func TestEventIDsAndAudience(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		if o, n, err := s.EventBounds(ctx); err != nil || o != 0 || n != 0 {
			t.Fatalf("EventBounds of an empty stream = %d, %d, %v", o, n, err)
		}
		us := newUsers(t, s, 4)
		a, b, c, d := us[0], us[1], us[2], us[3]
		c1 := newConv(t, s, parley.KindGroup, "", a, b)
		var c2 *parley.Conversation
		evs := mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventSettings, 0, d.ID, map[string]int{"n": 1}))
			tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c1.ID, 0, c1))
			// c joins after the event was emitted, in the same transaction:
			// the audience is resolved at commit, so c hears of it.
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c1.ID, UserID: c.ID}); err != nil {
				return err
			}
			tx.Emit(parley.NewEvent(parley.EventPresence, 0, 0, map[string]string{"p": "online"}))
			tx.Emit(parley.NewEvent(parley.EventReadState, c1.ID, a.ID, map[string]int{"read": 1}))
			c2 = &parley.Conversation{Kind: parley.KindDirect, State: parley.StateAllowed, Key: "a:d"}
			if err := tx.CreateConversation(ctx, c2); err != nil {
				return err
			}
			for _, u := range []*parley.User{a, d} {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: c2.ID, UserID: u.ID}); err != nil {
					return err
				}
			}
			tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c2.ID, 0, c2))
			return nil
		})
		want := []struct {
			typ      string
			conv     int64
			audience []int64 // sorted; nil: broadcast
		}{
			{parley.EventSettings, 0, []int64{d.ID}},
			{parley.EventConversationUpdated, c1.ID, sorted([]int64{a.ID, b.ID, c.ID})},
			{parley.EventPresence, 0, nil},
			{parley.EventReadState, c1.ID, []int64{a.ID}},
			{parley.EventConversationUpdated, c2.ID, sorted([]int64{a.ID, d.ID})},
		}
		if len(evs) != len(want) {
			t.Fatalf("Write returned %d events, want %d", len(evs), len(want))
		}
		for i, w := range want {
			e := evs[i]
			if i > 0 && e.ID <= evs[i-1].ID {
				t.Errorf("event %d has ID %d after %d: not increasing in emit order", i, e.ID, evs[i-1].ID)
			}
			if e.ID == 0 || e.Type != w.typ || e.ConversationID != w.conv || e.At.IsZero() || len(e.Data) == 0 {
				t.Errorf("event %d = %+v", i, e)
			}
			if !slices.Equal(sorted(e.Audience), w.audience) || (w.audience == nil) != (e.Audience == nil) {
				t.Errorf("event %d (%s) audience = %v, want %v", i, e.Type, e.Audience, w.audience)
			}
		}
		if !evs[2].Broadcast() || evs[0].Broadcast() || evs[1].Broadcast() {
			t.Errorf("Broadcast() wrong: %v %v %v", evs[0].Broadcast(), evs[1].Broadcast(), evs[2].Broadcast())
		}

		// A member removed in the transaction no longer hears the
		// conversation's events; IDs keep increasing across writes.
		evs2 := mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c1.ID, 0, c1))
			tx.Emit(parley.NewEvent(parley.EventConversationRemoved, c1.ID, b.ID, c1))
			return tx.RemoveMember(ctx, c1.ID, b.ID)
		})
		if len(evs2) != 2 || evs2[0].ID <= evs[len(evs)-1].ID || evs2[1].ID <= evs2[0].ID {
			t.Fatalf("second write's event IDs %v do not follow %v", eventIDs(evs2), eventIDs(evs))
		}
		if got := sorted(evs2[0].Audience); !slices.Equal(got, sorted([]int64{a.ID, c.ID})) {
			t.Errorf("audience after removal = %v", got)
		}
		if !slices.Equal(evs2[1].Audience, []int64{b.ID}) {
			t.Errorf("the removed user's own event went to %v", evs2[1].Audience)
		}

		// A write without events returns none.
		if evs3 := mustWrite(t, s, func(tx parley.Tx) error { return tx.PutSetting(ctx, "k", 1) }); len(evs3) != 0 {
			t.Errorf("a write without events returned %+v", evs3)
		}
		o, n, err := s.EventBounds(ctx)
		must(t, err)
		if o != evs[0].ID || n != evs2[1].ID {
			t.Errorf("EventBounds = %d, %d, want %d, %d", o, n, evs[0].ID, evs2[1].ID)
		}
	})
}

func TestEventsSince(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 4)
		a, b, c, stranger := us[0], us[1], us[2], us[3]
		ab := newConv(t, s, parley.KindDirect, "ab", a, b)
		bc := newConv(t, s, parley.KindDirect, "bc", b, c)
		old := parley.Now().Add(-time.Hour)
		var evs []parley.Event
		for _, e := range []parley.Event{
			parley.NewEvent(parley.EventSettings, 0, a.ID, "for a"),                 // 0
			parley.NewEvent(parley.EventSettings, 0, b.ID, "for b"),                 // 1
			parley.NewEvent(parley.EventMessageCreated, ab.ID, 0, "in ab"),          // 2
			parley.NewEvent(parley.EventMessageCreated, bc.ID, 0, "in bc"),          // 3
			parley.NewEvent(parley.EventPresence, 0, 0, "everyone"),                 // 4
			parley.NewEvent(parley.EventReadState, bc.ID, a.ID, "for a, about bc"),  // 5
			parley.NewEvent(parley.EventReadState, ab.ID, b.ID, "for b, about ab"),  // 6
			parley.NewEvent(parley.EventMessageUpdated, ab.ID, 0, map[string]int{}), // 7
		} {
			e.At = old
			if e.Type == parley.EventMessageCreated {
				e.Seq = 7
			}
			evs = append(evs, mustWrite(t, s, func(tx parley.Tx) error { tx.Emit(e); return nil })...)
		}
		pick := func(idx ...int) []int64 {
			var out []int64
			for _, i := range idx {
				out = append(out, evs[i].ID)
			}
			return out
		}
		tests := []struct {
			name  string
			user  int64
			after int64
			limit int
			want  []int64
		}{
			{"a sees own, ab, broadcast", a.ID, 0, 0, pick(0, 2, 4, 5, 7)},
			{"b sees own, ab, bc, broadcast", b.ID, 0, 0, pick(1, 2, 3, 4, 6, 7)},
			{"c sees bc, broadcast", c.ID, 0, 0, pick(3, 4)},
			{"a stranger sees broadcast", stranger.ID, 0, 0, pick(4)},
			{"after a position", a.ID, evs[2].ID, 0, pick(4, 5, 7)},
			{"after the last", a.ID, evs[7].ID, 0, nil},
			{"limit", b.ID, 0, 3, pick(1, 2, 3)},
			{"limit after a position", b.ID, evs[2].ID, 2, pick(3, 4)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.EventsSince(ctx, tt.user, tt.after, tt.limit)
				must(t, err)
				if !slices.Equal(eventIDs(got), tt.want) {
					t.Errorf("EventsSince(%d, %d, %d) = %v, want %v", tt.user, tt.after, tt.limit, eventIDs(got), tt.want)
				}
			})
		}

		// Stored events read back as they were committed.
		got, err := s.EventsSince(ctx, b.ID, 0, 0)
		must(t, err)
		byID := map[int64]parley.Event{}
		for _, e := range got {
			byID[e.ID] = e
		}
		for _, i := range []int{1, 2, 3, 6} {
			w, g := evs[i], byID[evs[i].ID]
			if g.Type != w.Type || g.ConversationID != w.ConversationID || g.UserID != w.UserID || g.Seq != w.Seq ||
				string(g.Data) != string(w.Data) || !g.At.Equal(old) {
				t.Errorf("stored event %d = %+v, want %+v", i, g, w)
			}
		}

		// Pruning drops events older than a time; the stream goes on.
		recent := mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventPresence, 0, 0, "new"))
			return nil
		})
		var n int64
		mustWrite(t, s, func(tx parley.Tx) error {
			var err error
			n, err = tx.DeleteEventsBefore(ctx, old.Add(time.Minute))
			return err
		})
		if n != int64(len(evs)) {
			t.Errorf("DeleteEventsBefore removed %d, want %d", n, len(evs))
		}
		o, nw, err := s.EventBounds(ctx)
		if err != nil || o != recent[0].ID || nw != recent[0].ID {
			t.Errorf("EventBounds after pruning = %d, %d, %v, want %d", o, nw, err, recent[0].ID)
		}
		if got, err := s.EventsSince(ctx, a.ID, 0, 0); err != nil || !slices.Equal(eventIDs(got), eventIDs(recent)) {
			t.Errorf("EventsSince after pruning = %v, %v", eventIDs(got), err)
		}
	})
}

func TestConcurrentWrites(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := newConv(t, s, parley.KindGroup, "", us...)
		const writers, perWriter = 8, 50
		type result struct{ seq, eventID int64 }
		results := make([][]result, writers)
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					m := &parley.Message{ConversationID: c.ID, SenderID: us[w%2].ID, Kind: parley.MsgText,
						Text: fmt.Sprintf("writer %d message %d", w, i), ClientID: fmt.Sprintf("%d-%d", w, i)}
					evs, err := s.Write(ctx, func(tx parley.Tx) error {
						if err := tx.InsertMessage(ctx, m); err != nil {
							return err
						}
						e := parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m)
						e.Seq = m.Seq
						tx.Emit(e)
						return nil
					})
					if err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					if len(evs) != 1 || len(evs[0].Audience) != 2 {
						t.Errorf("writer %d: events %+v", w, evs)
						return
					}
					results[w] = append(results[w], result{m.Seq, evs[0].ID})
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}

		var all []result
		for w, rs := range results {
			for i := 1; i < len(rs); i++ {
				if rs[i].seq <= rs[i-1].seq || rs[i].eventID <= rs[i-1].eventID {
					t.Errorf("writer %d: write %d got seq %d event %d after seq %d event %d",
						w, i, rs[i].seq, rs[i].eventID, rs[i-1].seq, rs[i-1].eventID)
				}
			}
			all = append(all, rs...)
		}
		// Seqs are exactly 1..400, and ordering by event ID orders by seq:
		// both were taken in commit order.
		slices.SortFunc(all, func(x, y result) int { return int(x.eventID - y.eventID) })
		for i, r := range all {
			if r.seq != int64(i+1) {
				t.Fatalf("in event order, write %d has seq %d, want %d", i, r.seq, i+1)
			}
			if i > 0 && r.eventID == all[i-1].eventID {
				t.Fatalf("event ID %d given twice", r.eventID)
			}
		}
		got, err := s.ConversationByID(ctx, c.ID)
		must(t, err)
		if got.LastSeq != writers*perWriter {
			t.Errorf("LastSeq = %d, want %d", got.LastSeq, writers*perWriter)
		}
		// A reader replaying the stream sees every event once, in order.
		stream, err := s.EventsSince(ctx, us[0].ID, 0, 0)
		must(t, err)
		if len(stream) != len(all) {
			t.Fatalf("EventsSince returned %d events, want %d", len(stream), len(all))
		}
		for i, e := range stream {
			if e.ID != all[i].eventID || e.Seq != all[i].seq {
				t.Fatalf("stream event %d = id %d seq %d, want id %d seq %d", i, e.ID, e.Seq, all[i].eventID, all[i].seq)
			}
		}
		var seen int
		for p := (parley.MessagePage{Before: 0, Limit: 200}); ; {
			msgs, err := s.Messages(ctx, c.ID, p)
			must(t, err)
			if len(msgs) == 0 {
				break
			}
			seen += len(msgs)
			p.Before = msgs[0].Seq
		}
		if seen != writers*perWriter {
			t.Errorf("history holds %d messages, want %d", seen, writers*perWriter)
		}
	})
}

// eachWith opens a store on each database with options the sqltest helpers
// do not set.
func eachWith(t *testing.T, opt sqlstore.Options, fn func(t *testing.T, s *sqlstore.Store)) {
	dsns := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "parley.db") }},
		{"postgres", func(t *testing.T) string { return sqltest.PostgresURL(t) }},
	}
	for _, d := range dsns {
		t.Run(d.name, func(t *testing.T) {
			s, err := sqlstore.Open(t.Context(), d.dsn(t), opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}

func TestPublish(t *testing.T) {
	var (
		mu      sync.Mutex
		batches [][]parley.Event
		fail    bool
	)
	opt := sqlstore.Options{
		Logger: slog.New(slog.DiscardHandler),
		Publish: func(_ context.Context, evs []parley.Event) error {
			mu.Lock()
			defer mu.Unlock()
			batches = append(batches, slices.Clone(evs))
			if fail {
				return errors.New("bus down")
			}
			return nil
		},
	}
	eachWith(t, opt, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		mu.Lock()
		batches, fail = nil, false
		mu.Unlock()
		published := func() [][]parley.Event {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(batches)
		}
		a := newUser(t, s, "Ann", "ann@x.test")
		c := newConv(t, s, parley.KindGroup, "", a)
		if got := published(); len(got) != 0 {
			t.Fatalf("writes without events published %v", got)
		}

		_, err := s.Write(ctx, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, a))
			return errors.New("no")
		})
		if err == nil || len(published()) != 0 {
			t.Fatalf("a failed write published %v (err %v)", published(), err)
		}

		evs := mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, a))
			tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c.ID, 0, c))
			return nil
		})
		got := published()
		if len(got) != 1 || !slices.Equal(eventIDs(got[0]), eventIDs(evs)) || len(got[0][1].Audience) != 1 {
			t.Fatalf("published %+v, want the committed %+v", got, evs)
		}

		// A failing bus does not undo or fail the committed write.
		mu.Lock()
		fail = true
		mu.Unlock()
		evs = mustWrite(t, s, func(tx parley.Tx) error {
			tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, a))
			return nil
		})
		if len(evs) != 1 {
			t.Fatalf("write with a failing bus returned %+v", evs)
		}
		mu.Lock()
		fail = false
		mu.Unlock()

		// Concurrent writers: batches leave in stream order.
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					_, err := s.Write(ctx, func(tx parley.Tx) error {
						m := &parley.Message{ConversationID: c.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "x"}
						if err := tx.InsertMessage(ctx, m); err != nil {
							return err
						}
						tx.Emit(parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m))
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var ids []int64
		for _, b := range published() {
			ids = append(ids, eventIDs(b)...)
		}
		if len(ids) != 3+160 {
			t.Fatalf("published %d events, want %d", len(ids), 3+160)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("published event %d after %d: not in stream order", ids[i], ids[i-1])
			}
		}
	})
}

// TestConcurrentWritesFailAlone runs writes side by side (on SQLite they
// share a group commit): the ones that fail or panic leave nothing behind,
// not even their events, and the others are all stored.
func TestConcurrentWritesFailAlone(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		a := newUser(t, s, "Ann", "ann@x.test")
		c := newConv(t, s, parley.KindGroup, "", a)
		_, from, err := s.EventBounds(ctx)
		must(t, err)

		// The first write holds SQLite's writer until the others queue
		// behind it, so they commit as one group.
		release := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, err := s.Write(ctx, func(tx parley.Tx) error {
				<-release
				return tx.PutSetting(ctx, "first", true)
			})
			first <- err
		}()
		const n = 30
		fails := func(i int) bool { return i%3 == 1 }
		var wg sync.WaitGroup
		errs := make([]error, n)
		panics := make([]any, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				_, errs[i] = s.Write(ctx, func(tx parley.Tx) error {
					if err := tx.PutSetting(ctx, fmt.Sprintf("k%d", i), i); err != nil {
						return err
					}
					tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c.ID, 0, map[string]int{"i": i}))
					switch {
					case i == n-1:
						panic("write panicked on purpose")
					case fails(i):
						return errors.New("refused")
					}
					return nil
				})
			}()
		}
		time.Sleep(50 * time.Millisecond) // let the writes queue; the assertions hold either way
		close(release)
		wg.Wait()
		must(t, <-first)

		stored := 0
		for i := range n {
			v := -1 // Setting leaves it as it is when there is no such setting
			must(t, s.Setting(ctx, fmt.Sprintf("k%d", i), &v))
			switch {
			case i == n-1:
				if panics[i] != "write panicked on purpose" {
					t.Errorf("write %d: recovered %v, want its own panic", i, panics[i])
				}
			case fails(i):
				if errs[i] == nil || errs[i].Error() != "refused" {
					t.Errorf("write %d returned %v, want its own error", i, errs[i])
				}
			default:
				if errs[i] != nil || panics[i] != nil || v != i {
					t.Errorf("write %d: %v, %v; setting %d", i, errs[i], panics[i], v)
				}
				stored++
				continue
			}
			if v != -1 {
				t.Errorf("failed write %d was stored", i)
			}
		}
		evs, err := s.EventsSince(ctx, a.ID, from, 1000)
		must(t, err)
		if len(evs) != stored {
			t.Errorf("%d events stored, want %d (one per successful write)", len(evs), stored)
		}
		for _, e := range evs {
			var d struct{ I int }
			must(t, json.Unmarshal(e.Data, &d))
			if fails(d.I) || d.I == n-1 {
				t.Errorf("the event of failed write %d was stored", d.I)
			}
		}
	})
}
