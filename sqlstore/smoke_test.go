package sqlstore_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

func TestSmoke(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		var a, b parley.User
		var c parley.Conversation
		var m parley.Message
		evs, err := s.Write(ctx, func(tx parley.Tx) error {
			a = parley.User{Email: "a@x.test", Name: "Ann", Role: parley.RoleAdmin, Active: true}
			b = parley.User{Email: "b@x.test", Name: "Bob", Role: parley.RoleMember, Active: true}
			if err := tx.CreateUser(ctx, &a, "h"); err != nil {
				return err
			}
			if err := tx.CreateUser(ctx, &b, "h"); err != nil {
				return err
			}
			c = parley.Conversation{Kind: parley.KindDirect, State: parley.StateAllowed, CreatedBy: a.ID, Key: "d:1:2"}
			if err := tx.CreateConversation(ctx, &c); err != nil {
				return err
			}
			for _, u := range []int64{a.ID, b.ID} {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: u}); err != nil {
					return err
				}
			}
			m = parley.Message{ConversationID: c.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "hello wonderful world", ClientID: "c1"}
			if err := tx.InsertMessage(ctx, &m); err != nil {
				return err
			}
			tx.Emit(parley.NewEvent(parley.EventMessageCreated, c.ID, 0, &m))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].ID == 0 || len(evs[0].Audience) != 2 {
			t.Fatalf("events = %+v", evs)
		}
		if m.Seq != 1 {
			t.Fatalf("seq = %d", m.Seq)
		}
		got, err := s.Search(ctx, parley.SearchQuery{UserID: b.ID, Text: "wonder"})
		if err != nil || len(got) != 1 {
			t.Fatalf("search = %v, %v", got, err)
		}
		_, err = s.Write(ctx, func(tx parley.Tx) error {
			return tx.CreateUser(ctx, &parley.User{Email: "a@x.test", Name: "A2", Role: parley.RoleMember}, "")
		})
		if parley.ErrorCode(err) != parley.ECONFLICT {
			t.Fatalf("duplicate e-mail: %v", err)
		}
		since, err := s.EventsSince(ctx, b.ID, 0, 10)
		if err != nil || len(since) != 1 {
			t.Fatalf("events since = %v, %v", since, err)
		}
	})
}
