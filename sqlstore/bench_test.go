package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// BenchmarkHistoryPage reads a page of 50 messages from the middle of one
// conversation's history while PARLEY_BENCH_MESSAGES messages (default
// 1,000,000) are stored over 100 conversations. The target: under
// 1 ms at the median on SQLite.
func BenchmarkHistoryPage(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_MESSAGES")); err == nil {
		n = v
	}
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var s *sqlstore.Store
			if db == "sqlite" {
				s = sqltest.MustOpenSQLite(b)
			} else {
				s = sqltest.MustOpenPostgres(b)
			}
			conv := fillHistory(b, s, n, 100)
			ctx := context.Background()
			perConv := int64(n / 100)
			b.ResetTimer()
			b.ReportAllocs()
			for i := range b.N {
				before := perConv/4 + int64(i)%(perConv/2)
				msgs, err := s.Messages(ctx, conv, parley.MessagePage{Before: before, Limit: 50})
				if err != nil || len(msgs) != 50 {
					b.Fatalf("page: %d messages, %v", len(msgs), err)
				}
			}
		})
	}
}

// fillHistory stores n messages round-robin over convs conversations of two
// users and returns one conversation's id.
func fillHistory(b *testing.B, s *sqlstore.Store, n, convs int) int64 {
	b.Helper()
	ctx := context.Background()
	var ids []int64
	_, err := s.Write(ctx, func(tx parley.Tx) error {
		u1 := &parley.User{Email: "a@bench.test", Name: "A", Role: parley.RoleMember, Active: true}
		u2 := &parley.User{Email: "b@bench.test", Name: "B", Role: parley.RoleMember, Active: true}
		if err := tx.CreateUser(ctx, u1, ""); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u2, ""); err != nil {
			return err
		}
		for i := 0; i < convs; i++ {
			c := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, CreatedBy: u1.ID}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			for _, u := range []int64{u1.ID, u2.ID} {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u}); err != nil {
					return err
				}
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 20_000
	for done := 0; done < n; done += chunk {
		_, err := s.Write(ctx, func(tx parley.Tx) error {
			for i := done; i < min(done+chunk, n); i++ {
				m := &parley.Message{ConversationID: ids[i%convs], SenderID: 1, Kind: parley.MsgText,
					Text: fmt.Sprintf("message number %d about the quarterly report and lunch plans", i)}
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ids[0]
}

// BenchmarkWriteCost measures what storing a message costs, per message,
// in transactions of 1,000 sends ("insert": the messages and their indexes;
// on PostgreSQL this includes the full-text index) and, on SQLite, what
// adding them to the full-text index costs afterwards ("index", done by
// the store's indexLoop on the single writer). Compare builds to see what
// an index adds to every send.
func BenchmarkWriteCost(b *testing.B) {
	const perTx = 1000
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var s *sqlstore.Store
			if db == "sqlite" {
				s = sqltest.MustOpenSQLite(b)
			} else {
				s = sqltest.MustOpenPostgres(b)
			}
			ctx := context.Background()
			const convs = 100
			ids := make([]int64, 0, convs)
			mustWrite(b, s, func(tx parley.Tx) error {
				u := &parley.User{Email: "w@bench.test", Name: "W", Role: parley.RoleMember, Active: true}
				if err := tx.CreateUser(ctx, u, ""); err != nil {
					return err
				}
				for range convs {
					c := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, CreatedBy: u.ID}
					if err := tx.CreateConversation(ctx, c); err != nil {
						return err
					}
					ids = append(ids, c.ID)
				}
				return nil
			})
			words := strings.Fields("the meeting is at ten tomorrow please review the deploy ticket before lunch thanks everyone great work on the release")
			n := 0
			insert := func() {
				mustWrite(b, s, func(tx parley.Tx) error {
					for range perTx {
						n++
						text := strings.Join(words[n%5:n%5+3+n%12], " ") + " " + strconv.Itoa(n)
						if err := tx.InsertMessage(ctx, &parley.Message{ConversationID: ids[n%convs], SenderID: 1, Kind: parley.MsgText, Text: text}); err != nil {
							return err
						}
					}
					return nil
				})
			}
			b.Run("insert", func(b *testing.B) {
				for range b.N {
					insert()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perTx), "ns/message")
			})
			if db != "sqlite" {
				return
			}
			b.Run("index", func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					insert()
					b.StartTimer()
					// A search indexes everything pending first.
					if _, err := s.Search(ctx, parley.SearchQuery{UserID: 1, Text: "x"}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perTx), "ns/message")
			})
		})
	}
}
