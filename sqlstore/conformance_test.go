package sqlstore_test

// Helpers shared by the conformance suite (conformance_*_test.go). Every
// test runs against SQLite and PostgreSQL through sqltest.Each, on a fresh
// database each time.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
)

// baseTime is a fixed, millisecond-precise instant for tests that need to
// control ordering by time.
var baseTime = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// mustWrite runs fn in one Write and fails the test on error.
func mustWrite(tb testing.TB, s *sqlstore.Store, fn func(tx parley.Tx) error) []parley.Event {
	tb.Helper()
	evs, err := s.Write(context.Background(), fn)
	if err != nil {
		tb.Fatalf("write: %v", err)
	}
	return evs
}

// writeErr runs fn in one Write and returns its error, checking that a failed
// Write returns no events.
func writeErr(tb testing.TB, s *sqlstore.Store, fn func(tx parley.Tx) error) error {
	tb.Helper()
	evs, err := s.Write(context.Background(), fn)
	if err != nil && evs != nil {
		tb.Errorf("failed write returned events %+v", evs)
	}
	return err
}

// wantCode fails the test unless err carries the parley error code code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := parley.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// must fails the test on a non-nil error.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// newUser creates an active member with the given name and e-mail.
func newUser(tb testing.TB, s *sqlstore.Store, name, email string) *parley.User {
	tb.Helper()
	u := &parley.User{Email: email, Name: name, Role: parley.RoleMember, Active: true}
	mustWrite(tb, s, func(tx parley.Tx) error { return tx.CreateUser(context.Background(), u, "hash:"+email) })
	return u
}

// newUsers creates n users named "User 0", "User 1", ...
func newUsers(tb testing.TB, s *sqlstore.Store, n int) []*parley.User {
	tb.Helper()
	users := make([]*parley.User, n)
	mustWrite(tb, s, func(tx parley.Tx) error {
		for i := range users {
			users[i] = &parley.User{Email: fmt.Sprintf("user%d@x.test", i), Name: fmt.Sprintf("User %d", i), Role: parley.RoleMember, Active: true}
			if err := tx.CreateUser(context.Background(), users[i], "h"); err != nil {
				return err
			}
		}
		return nil
	})
	return users
}

// newConv creates an allowed conversation of kind with the given key (may be
// empty) and members.
func newConv(tb testing.TB, s *sqlstore.Store, kind parley.ConvKind, key string, members ...*parley.User) *parley.Conversation {
	tb.Helper()
	c := &parley.Conversation{Kind: kind, State: parley.StateAllowed, Key: key}
	if len(members) > 0 {
		c.CreatedBy = members[0].ID
	}
	mustWrite(tb, s, func(tx parley.Tx) error {
		ctx := context.Background()
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		for _, u := range members {
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

// send inserts a text message from a user (nil: a system line).
func send(tb testing.TB, s *sqlstore.Store, c *parley.Conversation, from *parley.User, text string) *parley.Message {
	tb.Helper()
	m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgText, Text: text}
	if from != nil {
		m.SenderID = from.ID
	}
	mustWrite(tb, s, func(tx parley.Tx) error { return tx.InsertMessage(context.Background(), m) })
	return m
}

// ids returns the IDs of users, conversations or messages.
func userIDs(us []*parley.User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func convIDs(cs []*parley.Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func msgIDs(ms []*parley.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func eventIDs(es []parley.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// sorted returns a sorted copy of ids.
func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
