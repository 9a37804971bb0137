package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestSearchIndexCatchesUp covers SQLite's batched full-text indexing: a
// message edited before it was indexed is found by its new words only, and
// a search right after many inserts finds the newest and the oldest.
func TestSearchIndexCatchesUp(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		var user, conv int64
		_, err := s.Write(ctx, func(tx parley.Tx) error {
			u := &parley.User{Email: "idx@example.com", Name: "Idx", Role: parley.RoleMember, Active: true}
			if err := tx.CreateUser(ctx, u, ""); err != nil {
				return err
			}
			c := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, CreatedBy: u.ID}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			user, conv = u.ID, c.ID
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u.ID}); err != nil {
				return err
			}
			// Stored and edited in one transaction: never indexed before
			// the edit.
			m := &parley.Message{ConversationID: c.ID, SenderID: u.ID, Kind: parley.MsgText, Text: "walrus before"}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			m.Text = "narwhal after"
			m.EditedAt = parley.Now()
			if err := tx.UpdateMessage(ctx, m); err != nil {
				return err
			}
			for i := 0; i < 2500; i++ {
				if err := tx.InsertMessage(ctx, &parley.Message{ConversationID: c.ID, SenderID: u.ID, Kind: parley.MsgText,
					Text: fmt.Sprintf("filler%d", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		search := func(text string) int {
			got, err := s.Search(ctx, parley.SearchQuery{UserID: user, ConversationID: conv, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return len(got)
		}
		if n := search("walrus"); n != 0 {
			t.Errorf("the old text of an edited message matched %d times", n)
		}
		for _, w := range []string{"narwhal", "filler0", "filler2499"} {
			if n := search(w); n != 1 {
				t.Errorf("%q matched %d times, want 1", w, n)
			}
		}
	})
}

// TestSearchStepsAgree checks that a search gives the same pages whether
// it finds its results in the window of newest messages, through the
// full-text index, or partly in each (search.go): for several queries, it
// pages through every result with small pages under windows of several
// sizes and compares with the pages found with everything in the window.
func TestSearchStepsAgree(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		us := newUsers(t, s, 3)
		convs := []*parley.Conversation{
			newConv(t, s, parley.KindGroup, "", us[0], us[1]),
			newConv(t, s, parley.KindGroup, "", us[0], us[2]),
			newConv(t, s, parley.KindGroup, "", us[1], us[2]), // not us[0]'s
			newConv(t, s, parley.KindDirect, "d", us[0], us[1]),
		}
		words := []string{"alpha", "alpine", "beta", "gamma", "Ärger", "delta", "épée", "al"}
		r := rand.New(rand.NewPCG(7, 8))
		mustWrite(t, s, func(tx parley.Tx) error {
			for i := range 400 {
				var text []string
				for range 1 + r.IntN(4) {
					text = append(text, words[r.IntN(len(words))])
				}
				m := &parley.Message{ConversationID: convs[r.IntN(len(convs))].ID, SenderID: us[0].ID, Kind: parley.MsgText,
					Text: strings.Join(text, " ")}
				if i%50 == 7 {
					m.Kind = parley.MsgEvent
				}
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
				if i%40 == 3 { // some are deleted
					m.Text, m.DeletedAt = "", baseTime
					if err := tx.UpdateMessage(ctx, m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		pages := func(q parley.SearchQuery) [][]int64 {
			var out [][]int64
			for {
				got, err := s.Search(ctx, q)
				must(t, err)
				if len(got) == 0 {
					return out
				}
				out = append(out, msgIDs(got))
				q.Before = got[len(got)-1].ID
			}
		}
		for _, text := range []string{"alp", "al", "a", "beta gamma", "arger", "ÄRG", "epee", "delta al", "zeta"} {
			for _, conv := range []int64{0, convs[1].ID, convs[2].ID} {
				q := parley.SearchQuery{UserID: us[0].ID, Text: text, ConversationID: conv, Limit: 7}
				want := pages(q)
				if text == "alp" && conv == 0 && len(want) < 5 {
					t.Fatalf("%q: only %d pages", text, len(want))
				}
				for _, w := range []int64{0, 1, 5, 40} {
					restore := sqlstore.SetSearchWindow(w)
					got := pages(q)
					restore()
					if !slices.EqualFunc(got, want, slices.Equal) {
						t.Errorf("%q in %d, window %d: %v, want %v", text, conv, w, got, want)
					}
				}
			}
		}
	})
}

// TestSearchIndexMerge checks that idle merging of SQLite's index has work
// after many small indexing transactions, ends, and changes no result.
func TestSearchIndexMerge(t *testing.T) {
	s := sqltest.MustOpenSQLite(t)
	ctx := context.Background()
	us := newUsers(t, s, 2)
	c := newConv(t, s, parley.KindDirect, "d", us...)
	for i := range 12 {
		send(t, s, c, us[0], fmt.Sprintf("merge%d common", i))
		// Each search indexes what is pending in its own transaction: a
		// segment each.
		if _, err := s.Search(ctx, parley.SearchQuery{UserID: us[0].ID, Text: "common"}); err != nil {
			t.Fatal(err)
		}
	}
	merged, err := s.MergeSearchIndex(100)
	if err != nil || !merged {
		t.Fatalf("first merge: %v, %v; want work done", merged, err)
	}
	for i := 0; merged; i++ {
		if merged, err = s.MergeSearchIndex(100); err != nil || i > 100 {
			t.Fatalf("merge %d: %v, %v", i, merged, err)
		}
	}
	got, err := s.Search(ctx, parley.SearchQuery{UserID: us[0].ID, Text: "merge1"})
	if err != nil || len(got) != 3 { // merge1, merge10, merge11
		t.Errorf("after merging, merge1 matched %d, %v", len(got), err)
	}
}
