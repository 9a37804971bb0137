package messaging_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// BenchmarkSend measures the write path without sockets: 1,000 users in
// 100 conversations of 10 send through messaging, as fast as it commits,
// each message to the next conversation from a random member (the bench's
// spread schedule), 512 sends in flight. ns/op is the wall time per
// committed message; cpu-µs/msg the process's CPU time per message (user +
// system), which a busy machine disturbs less.
//
//	go test ./messaging -run '^$' -bench Send -benchtime 20000x
func BenchmarkSend(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			bus := inmem.NewBus()
			defer bus.Close()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			var s *sqlstore.Store
			var err error
			if db == "sqlite" {
				s, err = sqlstore.Open(context.Background(), "sqlite:"+b.TempDir()+"/parley.db", sqlstore.Options{Publish: bus.Publish, Logger: log})
			} else {
				s, err = sqlstore.Open(context.Background(), sqltest.PostgresURL(b), sqlstore.Options{Publish: bus.Publish, Logger: log})
			}
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			pres := presence.New(s, bus, log)
			defer pres.Close()
			svc := messaging.New(s, bus, nil, pres, messaging.Config{SendRate: 1e9, SendBurst: 1e9, Logger: log})
			defer svc.Close()
			users, convs := benchChats(b, s, 1000, 10)

			const inFlight = 512
			sem := make(chan struct{}, inFlight)
			var wg sync.WaitGroup
			var failed atomic.Int64
			rng := rand.New(rand.NewPCG(1, 2))
			ctx := context.Background()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				c := i % len(convs)
				u := users[convs[c].members[rng.IntN(len(convs[c].members))]]
				sem <- struct{}{}
				wg.Add(1)
				svc.SendAsync(ctx, u, messaging.SendInput{ConversationID: convs[c].id, ClientID: fmt.Sprint(i),
					Text: "parley bench message, about a hundred bytes long, like the load generator's messages: xxxxxxxxxxxxx"},
					func(_ *parley.Message, err error) {
						if err != nil {
							failed.Add(1)
						}
						<-sem
						wg.Done()
					})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d sends failed", n)
			}
		})
	}
}

type benchConv struct {
	id      int64
	members []int
}

// benchChats creates n users and n/size conversations: conversation c holds
// users c·size … c·size+size−1.
func benchChats(b testing.TB, s *sqlstore.Store, n, size int) ([]*parley.User, []benchConv) {
	ctx := context.Background()
	users := make([]*parley.User, n)
	convs := make([]benchConv, n/size)
	_, err := s.Write(ctx, func(tx parley.Tx) error {
		for i := range users {
			users[i] = &parley.User{Email: fmt.Sprintf("u%d@bench.test", i), Name: fmt.Sprint("User ", i), Role: parley.RoleMember, Active: true}
			if err := tx.CreateUser(ctx, users[i], ""); err != nil {
				return err
			}
		}
		for c := range convs {
			conv := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, CreatedBy: users[c*size].ID}
			if err := tx.CreateConversation(ctx, conv); err != nil {
				return err
			}
			convs[c] = benchConv{id: conv.ID}
			for k := range size {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: conv.ID, UserID: users[c*size+k].ID}); err != nil {
					return err
				}
				convs[c].members = append(convs[c].members, c*size+k)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return users, convs
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
