package sqlstore_test

import (
	"context"
	"fmt"
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
