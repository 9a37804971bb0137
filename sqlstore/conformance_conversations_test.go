package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

func TestConversationCRUD(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := &parley.Conversation{Kind: parley.KindDirect, State: parley.StateRequested, CreatedBy: us[0].ID, Key: "direct:1:2"}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.CreateConversation(ctx, c) })
		if c.ID == 0 || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) || !c.LastMessageAt.Equal(c.CreatedAt) {
			t.Fatalf("CreateConversation did not fill ID and times: %+v", c)
		}
		for name, get := range map[string]func() (*parley.Conversation, error){
			"by id":  func() (*parley.Conversation, error) { return s.ConversationByID(ctx, c.ID) },
			"by key": func() (*parley.Conversation, error) { return s.ConversationByKey(ctx, "direct:1:2") },
		} {
			got, err := get()
			must(t, err)
			if *got != *c {
				t.Errorf("%s = %+v, want %+v", name, got, c)
			}
		}
		_, err := s.ConversationByID(ctx, c.ID+1000)
		wantCode(t, err, parley.ENOTFOUND)
		_, err = s.ConversationByKey(ctx, "direct:9:9")
		wantCode(t, err, parley.ENOTFOUND)
		_, err = s.ConversationByKey(ctx, "")
		wantCode(t, err, parley.ENOTFOUND)

		// The key is unique; conversations without a key are not.
		dup := &parley.Conversation{Kind: parley.KindDirect, State: parley.StateAllowed, Key: "direct:1:2"}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.CreateConversation(ctx, dup) }), parley.ECONFLICT)
		mustWrite(t, s, func(tx parley.Tx) error {
			for i := 0; i < 2; i++ {
				if err := tx.CreateConversation(ctx, &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, Title: "g"}); err != nil {
					return err
				}
			}
			return nil
		})

		time.Sleep(2 * time.Millisecond)
		upd := *c
		upd.Title, upd.State, upd.CreatedBy = "renamed", parley.StateAllowed, us[1].ID
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, &upd) })
		got, err := s.ConversationByID(ctx, c.ID)
		must(t, err)
		if got.Title != "renamed" || got.State != parley.StateAllowed || got.CreatedBy != us[1].ID ||
			got.Key != c.Key || !got.UpdatedAt.After(c.UpdatedAt) || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("after UpdateConversation = %+v", got)
		}
		missing := parley.Conversation{ID: c.ID + 1000, Kind: parley.KindGroup, State: parley.StateAllowed}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, &missing) }), parley.ENOTFOUND)
	})
}

func TestConversationListing(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 3)
		me, other, third := us[0], us[1], us[2]
		kinds := []parley.ConvKind{parley.KindDirect, parley.KindGroup, parley.KindAssistance, parley.KindGroup, parley.KindDirect,
			parley.KindGroup, parley.KindGroup, parley.KindDirect, parley.KindGroup, parley.KindGroup}
		var convs []*parley.Conversation
		for i, k := range kinds {
			key := ""
			if k != parley.KindGroup {
				key = fmt.Sprintf("%s:%d", k, i)
			}
			convs = append(convs, newConv(t, s, k, key, me, other))
		}
		notMine := newConv(t, s, parley.KindGroup, "", other, third)
		send(t, s, notMine, other, "elsewhere")

		// Activity order: a message at a chosen time in each conversation,
		// shuffled against creation order; two share the same instant (the
		// ID breaks the tie). Conversations 8 and 9 have no message and
		// keep their creation time, which is earlier, so they come last.
		at := map[int]time.Duration{0: 5, 1: 9, 2: 1, 3: 7, 4: 7, 5: 3, 6: 8, 7: 2}
		for i, d := range at {
			m := &parley.Message{ConversationID: convs[i].ID, SenderID: me.ID, Kind: parley.MsgText, Text: "x", CreatedAt: baseTime.Add(d * time.Minute)}
			mustWrite(t, s, func(tx parley.Tx) error { return tx.InsertMessage(ctx, m) })
		}
		wantOrder := []int{1, 6, 4, 3, 0, 5, 7, 2, 9, 8}
		var want []int64
		for _, i := range wantOrder {
			want = append(want, convs[i].ID)
		}
		kindOf := map[int64]parley.ConvKind{}
		for _, c := range convs {
			kindOf[c.ID] = c.Kind
		}

		list := func(t *testing.T, f parley.ConvFilter) []int64 {
			t.Helper()
			var got []int64
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				page, next, err := s.Conversations(ctx, f)
				must(t, err)
				if f.Limit > 0 && len(page) > f.Limit {
					t.Fatalf("page of %d, limit %d", len(page), f.Limit)
				}
				got = append(got, convIDs(page)...)
				if next == "" {
					return got
				}
				f.Cursor = next
			}
		}
		tests := []struct {
			name string
			f    parley.ConvFilter
			want []int64
		}{
			{"all, one page", parley.ConvFilter{UserID: me.ID}, want},
			{"all, pages of 1", parley.ConvFilter{UserID: me.ID, Limit: 1}, want},
			{"all, pages of 3", parley.ConvFilter{UserID: me.ID, Limit: 3}, want},
			{"direct", parley.ConvFilter{UserID: me.ID, Kind: parley.KindDirect, Limit: 2}, filterKind(want, kindOf, parley.KindDirect)},
			{"group", parley.ConvFilter{UserID: me.ID, Kind: parley.KindGroup, Limit: 2}, filterKind(want, kindOf, parley.KindGroup)},
			{"assistance", parley.ConvFilter{UserID: me.ID, Kind: parley.KindAssistance}, []int64{convs[2].ID}},
			{"support", parley.ConvFilter{UserID: me.ID, Kind: parley.KindSupport}, nil},
			{"a user in nothing", parley.ConvFilter{UserID: third.ID + 1000}, nil},
			{"another user", parley.ConvFilter{UserID: third.ID}, []int64{notMine.ID}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := list(t, tt.f); !slices.Equal(got, tt.want) {
					t.Errorf("Conversations(%+v) = %v, want %v", tt.f, got, tt.want)
				}
			})
		}
		_, _, err := s.Conversations(ctx, parley.ConvFilter{UserID: me.ID, Cursor: "%%%"})
		wantCode(t, err, parley.EINVALID)

		byKind, err := s.ConversationsByKind(ctx, parley.KindGroup)
		must(t, err)
		wantGroups := []int64{convs[1].ID, convs[3].ID, convs[5].ID, convs[6].ID, convs[8].ID, convs[9].ID, notMine.ID}
		if !slices.Equal(convIDs(byKind), wantGroups) {
			t.Errorf("ConversationsByKind(group) = %v, want %v", convIDs(byKind), wantGroups)
		}
		if got, err := s.ConversationsByKind(ctx, parley.KindSupport); err != nil || len(got) != 0 {
			t.Errorf("ConversationsByKind(support) = %v, %v", got, err)
		}
	})
}

func filterKind(ids []int64, kindOf map[int64]parley.ConvKind, k parley.ConvKind) []int64 {
	var out []int64
	for _, id := range ids {
		if kindOf[id] == k {
			out = append(out, id)
		}
	}
	return out
}

func TestMembers(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 4)
		c1 := newConv(t, s, parley.KindGroup, "")
		c2 := newConv(t, s, parley.KindGroup, "")
		c3 := newConv(t, s, parley.KindGroup, "")
		owner := &parley.Member{ConversationID: c1.ID, UserID: us[0].ID, Role: parley.MemberOwner, JoinedAt: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.AddMember(ctx, owner); err != nil {
				return err
			}
			for i, u := range us[1:] {
				m := &parley.Member{ConversationID: c1.ID, UserID: u.ID, JoinedAt: baseTime.Add(time.Duration(i+1) * time.Second)}
				if err := tx.AddMember(ctx, m); err != nil {
					return err
				}
			}
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c2.ID, UserID: us[0].ID, DeliveredSeq: 3, ReadSeq: 2}); err != nil {
				return err
			}
			return tx.AddMember(ctx, &parley.Member{ConversationID: c2.ID, UserID: us[1].ID})
		})

		m, err := s.Member(ctx, c1.ID, us[0].ID)
		must(t, err)
		if *m != *owner {
			t.Errorf("Member = %+v, want %+v", m, owner)
		}
		m, err = s.Member(ctx, c2.ID, us[1].ID)
		must(t, err)
		if m.Role != parley.MemberRegular || m.JoinedAt.IsZero() || m.DeliveredSeq != 0 || m.MarkedUnread || m.Draft != "" {
			t.Errorf("AddMember defaults: %+v", m)
		}
		m, err = s.Member(ctx, c2.ID, us[0].ID)
		must(t, err)
		if m.DeliveredSeq != 3 || m.ReadSeq != 2 {
			t.Errorf("AddMember pointers: %+v", m)
		}
		_, err = s.Member(ctx, c3.ID, us[0].ID)
		wantCode(t, err, parley.ENOTFOUND)

		err = writeErr(t, s, func(tx parley.Tx) error {
			return tx.AddMember(ctx, &parley.Member{ConversationID: c1.ID, UserID: us[2].ID})
		})
		wantCode(t, err, parley.ECONFLICT)

		ms, err := s.Members(ctx, c1.ID)
		must(t, err)
		var ids []int64
		for _, m := range ms {
			ids = append(ids, m.UserID)
		}
		if !slices.Equal(ids, userIDs(us)) {
			t.Errorf("Members(c1) = %v, want %v in join order", ids, userIDs(us))
		}
		if ms, err := s.Members(ctx, c3.ID); err != nil || len(ms) != 0 {
			t.Errorf("Members(empty) = %v, %v", ms, err)
		}

		of, err := s.MembersOf(ctx, us[1].ID, []int64{c1.ID, c2.ID, c3.ID, c3.ID + 1000})
		must(t, err)
		if len(of) != 2 || of[c1.ID] == nil || of[c2.ID] == nil || of[c1.ID].UserID != us[1].ID ||
			of[c1.ID].ConversationID != c1.ID || of[c2.ID].ConversationID != c2.ID {
			t.Errorf("MembersOf(u1) = %+v", of)
		}
		if of, err := s.MembersOf(ctx, us[1].ID, nil); err != nil || len(of) != 0 {
			t.Errorf("MembersOf(no conversations) = %v, %v", of, err)
		}

		by, err := s.MembersByConversation(ctx, []int64{c1.ID, c2.ID, c3.ID})
		must(t, err)
		if len(by[c1.ID]) != 4 || len(by[c2.ID]) != 2 || len(by[c3.ID]) != 0 || by[c1.ID][0].UserID != us[0].ID {
			t.Errorf("MembersByConversation = %+v", by)
		}
		if by, err := s.MembersByConversation(ctx, nil); err != nil || len(by) != 0 {
			t.Errorf("MembersByConversation(nil) = %v, %v", by, err)
		}

		mustWrite(t, s, func(tx parley.Tx) error { return tx.RemoveMember(ctx, c1.ID, us[2].ID) })
		_, err = s.Member(ctx, c1.ID, us[2].ID)
		wantCode(t, err, parley.ENOTFOUND)
		if ms, err := s.Members(ctx, c1.ID); err != nil || len(ms) != 3 {
			t.Errorf("Members after RemoveMember = %v, %v", ms, err)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return tx.RemoveMember(ctx, c1.ID, us[2].ID) }), parley.ENOTFOUND)
		// A removed member may join again.
		mustWrite(t, s, func(tx parley.Tx) error {
			return tx.AddMember(ctx, &parley.Member{ConversationID: c1.ID, UserID: us[2].ID})
		})
	})
}

func TestSetPointers(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := newConv(t, s, parley.KindDirect, "d", us[0], us[1])
		for i := 0; i < 10; i++ {
			send(t, s, c, us[0], "m")
		}
		// Steps apply in order to one member.
		steps := []struct {
			name                    string
			delivered, read         int64
			unread                  bool
			wantDelivered, wantRead int64
			wantUnread              bool
		}{
			{"forward", 3, 1, false, 3, 1, false},
			{"never backwards", 2, 0, false, 3, 1, false},
			{"read implies delivered", 0, 5, false, 5, 5, false},
			{"mark unread", 4, 4, true, 5, 5, true},
			{"read clears the mark", 7, 6, false, 7, 6, false},
			{"zeros change nothing", 0, 0, false, 7, 6, false},
			{"read past delivered", 8, 10, false, 10, 10, false},
			{"mark unread at the end", 0, 0, true, 10, 10, true},
		}
		for _, st := range steps {
			var inTx *parley.Member
			mustWrite(t, s, func(tx parley.Tx) error {
				var err error
				inTx, err = tx.SetPointers(ctx, c.ID, us[1].ID, st.delivered, st.read, st.unread)
				return err
			})
			got, err := s.Member(ctx, c.ID, us[1].ID)
			must(t, err)
			if *got != *inTx {
				t.Errorf("%s: SetPointers returned %+v, stored %+v", st.name, inTx, got)
			}
			if got.DeliveredSeq != st.wantDelivered || got.ReadSeq != st.wantRead || got.MarkedUnread != st.wantUnread {
				t.Errorf("%s: SetPointers(%d, %d, %v) = delivered %d read %d unread %v, want %d %d %v", st.name,
					st.delivered, st.read, st.unread, got.DeliveredSeq, got.ReadSeq, got.MarkedUnread,
					st.wantDelivered, st.wantRead, st.wantUnread)
			}
			if got.DeliveredSeq < got.ReadSeq {
				t.Errorf("%s: delivered %d < read %d", st.name, got.DeliveredSeq, got.ReadSeq)
			}
		}
		got, err := s.Member(ctx, c.ID, us[1].ID)
		must(t, err)
		if got.Unread(10) != 1 {
			t.Errorf("Unread with the mark = %d, want 1", got.Unread(10))
		}
		// The other member's pointers did not move.
		other, err := s.Member(ctx, c.ID, us[0].ID)
		must(t, err)
		if other.DeliveredSeq != 0 || other.ReadSeq != 0 || other.MarkedUnread {
			t.Errorf("other member moved: %+v", other)
		}
		err = writeErr(t, s, func(tx parley.Tx) error {
			_, err := tx.SetPointers(ctx, c.ID, us[1].ID+1000, 1, 1, false)
			return err
		})
		wantCode(t, err, parley.ENOTFOUND)
	})
}

func TestDrafts(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		c := newConv(t, s, parley.KindDirect, "d", us[0], us[1])
		tests := []struct {
			text string
			at   time.Time
		}{
			{"half a thought", baseTime},
			{"Grüße 👋\nline two", baseTime.Add(time.Minute)},
			{"", baseTime.Add(2 * time.Minute)},
		}
		for _, tt := range tests {
			mustWrite(t, s, func(tx parley.Tx) error { return tx.SetDraft(ctx, c.ID, us[0].ID, tt.text, tt.at) })
			m, err := s.Member(ctx, c.ID, us[0].ID)
			must(t, err)
			if m.Draft != tt.text || !m.DraftAt.Equal(tt.at) {
				t.Errorf("draft = %q at %v, want %q at %v", m.Draft, m.DraftAt, tt.text, tt.at)
			}
		}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.SetDraft(ctx, c.ID, us[1].ID, "theirs", baseTime) })
		if m, err := s.Member(ctx, c.ID, us[0].ID); err != nil || m.Draft != "" {
			t.Errorf("drafts are per user: %+v, %v", m, err)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error {
			return tx.SetDraft(ctx, c.ID, us[1].ID+1000, "x", baseTime)
		}), parley.ENOTFOUND)
	})
}

func TestUndelivered(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 2)
		a, b := us[0], us[1]
		caught := newConv(t, s, parley.KindGroup, "", a, b)
		behind := newConv(t, s, parley.KindGroup, "", a, b)
		newConv(t, s, parley.KindGroup, "", a, b) // no messages: nothing to deliver
		notMine := newConv(t, s, parley.KindGroup, "", b)
		for i := 0; i < 3; i++ {
			send(t, s, caught, b, "x")
			send(t, s, notMine, b, "x")
		}
		send(t, s, behind, b, "x")
		send(t, s, behind, b, "x")
		mustWrite(t, s, func(tx parley.Tx) error {
			if _, err := tx.SetPointers(ctx, caught.ID, a.ID, 3, 0, false); err != nil {
				return err
			}
			_, err := tx.SetPointers(ctx, behind.ID, a.ID, 1, 0, false)
			return err
		})
		got, err := s.Undelivered(ctx, a.ID)
		must(t, err)
		if len(got) != 1 || got[behind.ID] != 2 {
			t.Errorf("Undelivered(a) = %v, want {%d: 2}", got, behind.ID)
		}
		mustWrite(t, s, func(tx parley.Tx) error {
			_, err := tx.SetPointers(ctx, behind.ID, a.ID, 2, 0, false)
			return err
		})
		if got, err := s.Undelivered(ctx, a.ID); err != nil || len(got) != 0 {
			t.Errorf("Undelivered(a) when caught up = %v, %v", got, err)
		}
		if got, err := s.Undelivered(ctx, b.ID+1000); err != nil || len(got) != 0 {
			t.Errorf("Undelivered(stranger) = %v, %v", got, err)
		}
	})
}
