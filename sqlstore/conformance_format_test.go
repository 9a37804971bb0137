package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestMessagePreviewsAndCards: a message's cards are stored with it, its
// link preview is set after the fact and kept by edits, and fetched pages
// are cached by URL.
func TestMessagePreviewsAndCards(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := newConv(t, s, parley.KindDirect, "d", us[0], us[1])
		cards := []parley.CardRef{{Kind: parley.CardUser, ID: us[1].ID}, {Kind: parley.CardCase, ID: 7}}
		m := &parley.Message{ConversationID: c.ID, SenderID: us[0].ID, Kind: parley.MsgText, Text: "see https://a.example", Cards: cards}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.InsertMessages(ctx, []*parley.Message{m}) })
		got, err := s.MessageByID(ctx, m.ID)
		must(t, err)
		if !reflect.DeepEqual(got.Cards, cards) || got.Preview != nil {
			t.Fatalf("stored cards %+v, preview %+v", got.Cards, got.Preview)
		}

		p := &parley.LinkPreview{URL: "https://a.example", Title: "A", Description: "d", SiteName: "S", Image: "0123456789abcdef0123456789abcdef"}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.SetMessagePreview(ctx, m.ID, p) })
		got, err = s.MessageByID(ctx, m.ID)
		must(t, err)
		if !reflect.DeepEqual(got.Preview, p) {
			t.Fatalf("preview %+v, want %+v", got.Preview, p)
		}
		// An edit writes the message back whole: preview and cards stay.
		got.Text, got.EditedAt = "see https://a.example again", time.Now()
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, got) })
		msgs, err := s.Messages(ctx, c.ID, parley.MessagePage{Limit: 10})
		must(t, err)
		if len(msgs) != 1 || !reflect.DeepEqual(msgs[0].Preview, p) || !reflect.DeepEqual(msgs[0].Cards, cards) {
			t.Fatalf("after an edit: %+v", msgs)
		}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.SetMessagePreview(ctx, m.ID, nil) })
		got, err = s.MessageByID(ctx, m.ID)
		must(t, err)
		if got.Preview != nil {
			t.Fatalf("cleared preview: %+v", got.Preview)
		}
		err = writeErr(t, s, func(tx parley.Tx) error { return tx.SetMessagePreview(ctx, m.ID+1000, p) })
		wantCode(t, err, parley.ENOTFOUND)

		// The cache: none, then one, then replaced.
		_, err = s.LinkPreviewCache(ctx, "https://a.example")
		wantCode(t, err, parley.ENOTFOUND)
		at := time.Now().UTC().Truncate(time.Millisecond)
		for _, ok := range []bool{false, true} {
			want := &parley.CachedLinkPreview{Preview: *p, OK: ok, FetchedAt: at}
			mustWrite(t, s, func(tx parley.Tx) error { return tx.PutLinkPreviewCache(ctx, "https://a.example", want) })
			c, err := s.LinkPreviewCache(ctx, "https://a.example")
			must(t, err)
			if c.OK != ok || !c.FetchedAt.Equal(at) || c.Preview != *p {
				t.Fatalf("cached %+v, want %+v", c, want)
			}
			at = at.Add(time.Hour)
		}
	})
}
