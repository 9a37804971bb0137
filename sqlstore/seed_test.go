package sqlstore_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestSeedHistory seeds a small history on both databases and checks what
// the benchmarks rely on: every message has its seq and its stream event,
// the counters match, the measured user is in the conversations named, the
// absent words are absent from them only, and a second call reuses the
// database.
func TestSeedHistory(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var dsn string
			if db == "sqlite" {
				dsn = "sqlite:" + filepath.Join(t.TempDir(), "seed.db")
			} else {
				dsn = sqltest.PostgresURL(t)
			}
			ctx := context.Background()
			opt := sqlstore.SeedOptions{Messages: 3_000, Users: 60, Conversations: 50, UserConversations: 10}
			info, err := sqlstore.SeedHistory(ctx, dsn, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !info.Complete || info.Messages != 3_000 || len(info.Conversations) != 10 || len(info.Dropped) != 0 {
				t.Fatalf("info = %+v", info)
			}
			s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			convs, _, err := s.Conversations(ctx, parley.ConvFilter{UserID: info.UserID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(convs) != 10 {
				t.Errorf("the measured user is in %d conversations, want 10", len(convs))
			}
			var total, userMsgs int64
			for _, c := range convs {
				userMsgs += c.LastSeq
			}
			if userMsgs != info.UserMessages {
				t.Errorf("user messages = %d, info says %d", userMsgs, info.UserMessages)
			}
			// Every conversation's history is seq 1..last_seq, each message
			// with its message.created event.
			events, err := s.EventsSince(ctx, info.UserID, 0, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(events)) != userMsgs {
				t.Errorf("%d events for the measured user, want %d", len(events), userMsgs)
			}
			for _, e := range events {
				var m parley.Message
				if e.Type != parley.EventMessageCreated || json.Unmarshal(e.Data, &m) != nil || m.Seq != e.Seq || m.ConversationID != e.ConversationID {
					t.Fatalf("event %+v (%s)", e, e.Data)
				}
			}
			for _, c := range convs {
				msgs, err := s.Messages(ctx, c.ID, parley.MessagePage{Limit: 200})
				if err != nil {
					t.Fatal(err)
				}
				total += int64(len(msgs))
				for i, m := range msgs {
					if want := c.LastSeq - int64(len(msgs)-1-i); m.Seq != want {
						t.Fatalf("conversation %d: seq %d at %d, want %d", c.ID, m.Seq, i, want)
					}
				}
			}
			if total == 0 {
				t.Error("the measured user's conversations are empty")
			}
			// "zanzibar" is in a tenth of the other conversations' messages
			// and in none of the measured user's.
			got, err := s.Search(ctx, parley.SearchQuery{UserID: info.UserID, Text: "zanzibar"})
			if err != nil || len(got) != 0 {
				t.Errorf("the measured user finds zanzibar %d times, %v", len(got), err)
			}
			other, err := s.Members(ctx, firstOther(t, s, info))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.Search(ctx, parley.SearchQuery{UserID: other[0].UserID, Text: "zanzibar"}); err != nil || len(got) == 0 {
				t.Errorf("another user finds zanzibar %d times, %v", len(got), err)
			}
			s.Close()

			again, err := sqlstore.SeedHistory(ctx, dsn, opt, nil)
			if err != nil || again.Messages != 3_000 || again.Seconds != info.Seconds {
				t.Errorf("seeding again = %+v, %v; want the first run's info", again, err)
			}
			opt.Messages++
			if _, err := sqlstore.SeedHistory(ctx, dsn, opt, nil); err == nil {
				t.Error("seeding with other options succeeded")
			}
			if err := sqlstore.ResetSeeded(ctx, dsn); err != nil {
				t.Fatal(err)
			}
			if info, err := sqlstore.SeedHistory(ctx, dsn, opt, nil); err != nil || info.Messages != 3_001 {
				t.Errorf("seeding after a reset = %+v, %v", info, err)
			}
		})
	}
}

// firstOther returns a conversation of the seeded history that the
// measured user is not in.
func firstOther(t *testing.T, s *sqlstore.Store, info *sqlstore.SeedInfo) int64 {
	t.Helper()
	in := map[int64]bool{}
	for _, c := range info.Conversations {
		in[c] = true
	}
	for id := int64(1); id < 1000; id++ {
		if c, err := s.ConversationByID(context.Background(), id); err == nil && !in[id] && c.LastSeq > 50 {
			return id
		}
	}
	t.Fatal("no other conversation")
	return 0
}
