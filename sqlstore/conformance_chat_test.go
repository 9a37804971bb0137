package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestChatBasics: threads, mentions, reactions and mutes on both databases.
func TestChatBasics(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 3)
		a, b, c := us[0], us[1], us[2]
		g := newConv(t, s, parley.KindGroup, "", a, b, c)
		root := send(t, s, g, a, "root")

		// A thread reply and a reply also sent to the timeline are stored
		// with their thread; the main timeline has only the latter.
		var r1, r2 *parley.Message
		mustWrite(t, s, func(tx parley.Tx) error {
			r1 = &parley.Message{ConversationID: g.ID, SenderID: b.ID, Kind: parley.MsgText, Text: "in thread", ThreadID: root.ID,
				Mentions: &parley.Mentions{UserIDs: []int64{a.ID, c.ID}}}
			r2 = &parley.Message{ConversationID: g.ID, SenderID: c.ID, Kind: parley.MsgText, Text: "also here", ThreadID: root.ID, InChannel: true,
				Mentions: &parley.Mentions{All: true}}
			return tx.InsertMessages(ctx, []*parley.Message{r1, r2})
		})
		main, err := s.Messages(ctx, g.ID, parley.MessagePage{})
		must(t, err)
		if ids := msgIDs(main); !reflect.DeepEqual(ids, []int64{root.ID, r2.ID}) {
			t.Errorf("main timeline %v, want root %d and the in-channel reply %d", ids, root.ID, r2.ID)
		}
		thread, err := s.ThreadMessages(ctx, root.ID, parley.MessagePage{})
		must(t, err)
		if ids := msgIDs(thread); !reflect.DeepEqual(ids, []int64{r1.ID, r2.ID}) {
			t.Errorf("thread %v", ids)
		}
		if !thread[1].InChannel || thread[0].InChannel || thread[0].ThreadID != root.ID {
			t.Errorf("thread fields %+v %+v", thread[0], thread[1])
		}
		if !reflect.DeepEqual(thread[0].Mentions, &parley.Mentions{UserIDs: []int64{a.ID, c.ID}}) || !thread[1].Mentions.All {
			t.Errorf("mentions %+v %+v", thread[0].Mentions, thread[1].Mentions)
		}
		// Pages of a thread: the newest one, then before it, then after.
		page, err := s.ThreadMessages(ctx, root.ID, parley.MessagePage{Limit: 1})
		must(t, err)
		if len(page) != 1 || page[0].ID != r2.ID {
			t.Errorf("newest page %v", msgIDs(page))
		}
		page, err = s.ThreadMessages(ctx, root.ID, parley.MessagePage{Before: r2.Seq})
		must(t, err)
		if len(page) != 1 || page[0].ID != r1.ID {
			t.Errorf("page before %v", msgIDs(page))
		}
		page, err = s.ThreadMessages(ctx, root.ID, parley.MessagePage{After: r1.Seq})
		must(t, err)
		if len(page) != 1 || page[0].ID != r2.ID {
			t.Errorf("page after %v", msgIDs(page))
		}

		// The thread's summary lives on its first message.
		at := baseTime.Add(time.Minute)
		mustWrite(t, s, func(tx parley.Tx) error {
			return tx.SetThread(ctx, root.ID, parley.ThreadSummary{Replies: 2, LastReplyAt: at, UserIDs: []int64{b.ID, c.ID}})
		})
		got, err := s.MessageByID(ctx, root.ID)
		must(t, err)
		if got.Thread == nil || got.Thread.Replies != 2 || !got.Thread.LastReplyAt.Equal(at) || !reflect.DeepEqual(got.Thread.UserIDs, []int64{b.ID, c.ID}) {
			t.Errorf("summary %+v", got.Thread)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error {
			return tx.SetThread(ctx, root.ID+1000, parley.ThreadSummary{Replies: 1})
		}), parley.ENOTFOUND)

		// Unread mentions count from the read pointer.
		mustWrite(t, s, func(tx parley.Tx) error {
			return tx.InsertMentions(ctx, []parley.MentionRow{
				{UserID: a.ID, ConversationID: g.ID, Seq: r1.Seq, MessageID: r1.ID},
				{UserID: c.ID, ConversationID: g.ID, Seq: r1.Seq, MessageID: r1.ID},
				{UserID: a.ID, ConversationID: g.ID, Seq: r2.Seq, MessageID: r2.ID},
				{UserID: a.ID, ConversationID: g.ID, Seq: r2.Seq, MessageID: r2.ID}, // twice: once
			})
		})
		n, err := s.UnreadMentions(ctx, a.ID, []int64{g.ID})
		must(t, err)
		if n[g.ID] != 2 {
			t.Errorf("a's unread mentions %d, want 2", n[g.ID])
		}
		mustWrite(t, s, func(tx parley.Tx) error {
			_, err := tx.SetPointers(ctx, g.ID, a.ID, r1.Seq, r1.Seq, false)
			return err
		})
		n, err = s.UnreadMentions(ctx, a.ID, []int64{g.ID})
		must(t, err)
		if n[g.ID] != 1 {
			t.Errorf("after reading up to the first, %d, want 1", n[g.ID])
		}

		// Reactions: added once, in order, removed.
		var added []bool
		mustWrite(t, s, func(tx parley.Tx) error {
			for _, x := range []struct {
				u *parley.User
				e string
			}{{a, "👍"}, {b, "🎉"}, {b, "👍"}, {a, "👍"}} {
				ok, err := tx.AddReaction(ctx, g.ID, root.ID, x.u.ID, x.e, baseTime)
				if err != nil {
					return err
				}
				added = append(added, ok)
			}
			return nil
		})
		if !reflect.DeepEqual(added, []bool{true, true, true, false}) {
			t.Errorf("added %v", added)
		}
		rs, err := s.Reactions(ctx, []int64{root.ID, r1.ID})
		must(t, err)
		want := []parley.Reaction{{Emoji: "👍", Count: 2, UserIDs: []int64{a.ID, b.ID}}, {Emoji: "🎉", Count: 1, UserIDs: []int64{b.ID}}}
		if !reflect.DeepEqual(rs[root.ID], want) || len(rs[r1.ID]) != 0 {
			t.Errorf("reactions %+v", rs)
		}
		var removed, again bool
		mustWrite(t, s, func(tx parley.Tx) error {
			var err error
			if removed, err = tx.RemoveReaction(ctx, root.ID, a.ID, "👍"); err != nil {
				return err
			}
			again, err = tx.RemoveReaction(ctx, root.ID, a.ID, "👍")
			return err
		})
		if !removed || again {
			t.Errorf("removed %v, again %v", removed, again)
		}
		rs, err = s.Reactions(ctx, []int64{root.ID})
		must(t, err)
		if len(rs[root.ID]) != 2 || rs[root.ID][0].Count != 1 {
			t.Errorf("after removal %+v", rs[root.ID])
		}

		// Mutes: until a time, forever, none.
		until := baseTime.Add(time.Hour)
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.SetMute(ctx, g.ID, a.ID, &parley.Mute{Until: until}); err != nil {
				return err
			}
			return tx.SetMute(ctx, g.ID, b.ID, &parley.Mute{})
		})
		ma, err := s.Mutes(ctx, a.ID, []int64{g.ID})
		must(t, err)
		mb, err := s.Mutes(ctx, b.ID, []int64{g.ID})
		must(t, err)
		mc, err := s.Mutes(ctx, c.ID, []int64{g.ID})
		must(t, err)
		if !ma[g.ID].Until.Equal(until) || !ma[g.ID].Active(baseTime) || ma[g.ID].Active(until) {
			t.Errorf("a's mute %+v", ma[g.ID])
		}
		if !mb[g.ID].Active(baseTime.AddDate(10, 0, 0)) || mc[g.ID] != nil {
			t.Errorf("b's mute %+v, c's %+v", mb[g.ID], mc[g.ID])
		}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.SetMute(ctx, g.ID, a.ID, nil) })
		ma, err = s.Mutes(ctx, a.ID, []int64{g.ID})
		must(t, err)
		if ma[g.ID] != nil {
			t.Errorf("unmuted, still %+v", ma[g.ID])
		}
	})
}
