package messaging_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

type chatFixture struct {
	s             *sqlstore.Store
	svc           *messaging.Service
	ann, bea, cal *parley.User // cal is in the group, not the direct chat
	out           *parley.User // a member of nothing
	group, direct int64
	ctx           context.Context
	now           time.Time
}

func newChatFixture(t *testing.T, s *sqlstore.Store) *chatFixture {
	ctx := t.Context()
	bus := inmem.NewBus()
	pres := presence.New(s, bus, nil)
	f := &chatFixture{s: s, ctx: ctx, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = messaging.New(s, bus, nil, pres, messaging.Config{SendRate: 1e9, SendBurst: 1e9, Now: func() time.Time { return f.now }})
	t.Cleanup(func() {
		f.svc.Close()
		pres.Close()
		bus.Close()
	})
	users := []**parley.User{&f.ann, &f.bea, &f.cal, &f.out}
	names := []string{"Ann", "Bea Lee", "Cal", "Out"}
	if _, err := s.Write(ctx, func(tx parley.Tx) error {
		for i, u := range users {
			*u = &parley.User{Email: names[i][:3] + "@chat.test", Name: names[i], Role: parley.RoleMember, Active: true}
			if err := tx.CreateUser(ctx, *u, ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.CreateGroup(ctx, f.ann, "Team", []int64{f.bea.ID, f.cal.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.group = g.ID
	d, err := f.svc.OpenDirect(ctx, f.ann, f.bea.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Allow(ctx, f.bea, d.ID); err != nil {
		t.Fatal(err)
	}
	f.direct = d.ID
	return f
}

func (f *chatFixture) send(t *testing.T, u *parley.User, in messaging.SendInput) *parley.Message {
	t.Helper()
	m, err := f.svc.Send(f.ctx, u, in)
	if err != nil {
		t.Fatalf("send %+v: %v", in, err)
	}
	return m
}

func (f *chatFixture) view(t *testing.T, u *parley.User, id int64) *messaging.ConversationView {
	t.Helper()
	v, err := f.svc.Conversation(f.ctx, u, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantErr(t *testing.T, err error, code string) {
	t.Helper()
	if parley.ErrorCode(err) != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// events returns the types of u's durable events after position after.
func (f *chatFixture) events(t *testing.T, u *parley.User, after int64) []parley.Event {
	t.Helper()
	es, err := f.s.EventsSince(f.ctx, u.ID, after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func (f *chatFixture) position(t *testing.T) int64 {
	_, newest, err := f.s.EventBounds(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return newest
}

func TestMentions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f := newChatFixture(t, s)
		// The client's ids and the text's @Name are both taken, a
		// non-member's id is dropped; @all counts in a multi-chat.
		m := f.send(t, f.ann, messaging.SendInput{ConversationID: f.group, Text: "@Bea Lee look, and @all", Mentions: []int64{f.out.ID}})
		if m.Mentions == nil || !slices.Equal(m.Mentions.UserIDs, []int64{f.bea.ID}) || !m.Mentions.All {
			t.Fatalf("mentions %+v", m.Mentions)
		}
		if v := f.view(t, f.bea, f.group); v.Mentions != 1 {
			t.Errorf("Bea's unread mentions %d, want 1", v.Mentions)
		}
		if v := f.view(t, f.cal, f.group); v.Mentions != 1 {
			t.Errorf("Cal's (by @all) %d, want 1", v.Mentions)
		}
		if v := f.view(t, f.ann, f.group); v.Mentions != 0 {
			t.Errorf("the sender's own %d", v.Mentions)
		}
		// Reading clears them, and the read state says so.
		if err := f.svc.MarkRead(f.ctx, f.bea, f.group, 0); err != nil {
			t.Fatal(err)
		}
		if v := f.view(t, f.bea, f.group); v.Mentions != 0 {
			t.Errorf("after reading %d", v.Mentions)
		}
		// @all in a direct chat is plain text; a non-member is not mentioned.
		d := f.send(t, f.ann, messaging.SendInput{ConversationID: f.direct, Text: "@all @Cal", Mentions: []int64{f.cal.ID}})
		if d.Mentions != nil {
			t.Errorf("direct chat mentions %+v", d.Mentions)
		}
		if _, err := f.svc.Send(f.ctx, f.ann, messaging.SendInput{ConversationID: f.group, Text: "x", Mentions: make([]int64, 101)}); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("101 mentions: %v", err)
		}
	})
}

func TestMute(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f := newChatFixture(t, s)
		at := f.position(t)
		st, err := f.svc.SetMute(f.ctx, f.bea, f.group, &messaging.MuteInput{Until: f.now.Add(time.Hour)})
		if err != nil || !st.Muted {
			t.Fatalf("mute: %+v %v", st, err)
		}
		if v := f.view(t, f.bea, f.group); !v.Muted || !v.MutedUntil.Equal(f.now.Add(time.Hour)) {
			t.Errorf("view %v %v", v.Muted, v.MutedUntil)
		}
		if v := f.view(t, f.ann, f.group); v.Muted {
			t.Error("muted for Ann too")
		}
		es := f.events(t, f.bea, at)
		if len(es) != 1 || es[0].Type != parley.EventMuted {
			t.Errorf("events %+v", es)
		}
		if es := f.events(t, f.ann, at); len(es) != 0 {
			t.Errorf("Ann heard of Bea's mute: %+v", es)
		}
		if ok, _ := f.svc.Muted(f.ctx, f.bea.ID, f.group); !ok {
			t.Error("Muted says no")
		}
		// The muted chat leaves Bea's total, but for a mention of her.
		f.send(t, f.ann, messaging.SendInput{ConversationID: f.group, Text: "one"})
		f.send(t, f.ann, messaging.SendInput{ConversationID: f.direct, Text: "two"})
		if u, _ := f.svc.UnreadTotal(f.ctx, f.bea); u.Messages != 1 || u.Conversations != 1 {
			t.Errorf("total with a muted chat %+v, want the direct chat's 1", u)
		}
		f.send(t, f.ann, messaging.SendInput{ConversationID: f.group, Text: "@Bea Lee see"})
		if u, _ := f.svc.UnreadTotal(f.ctx, f.bea); u.Messages != 2 || u.Conversations != 2 {
			t.Errorf("total with a mention in the muted chat %+v, want 2 in 2", u)
		}
		// It ends by itself.
		f.now = f.now.Add(2 * time.Hour)
		if v := f.view(t, f.bea, f.group); v.Muted {
			t.Error("still muted after its end")
		}
		// Forever, then unmuted.
		if _, err := f.svc.SetMute(f.ctx, f.bea, f.group, &messaging.MuteInput{}); err != nil {
			t.Fatal(err)
		}
		if v := f.view(t, f.bea, f.group); !v.Muted || !v.MutedUntil.IsZero() {
			t.Error("not muted forever")
		}
		if _, err := f.svc.SetMute(f.ctx, f.bea, f.group, nil); err != nil {
			t.Fatal(err)
		}
		if v := f.view(t, f.bea, f.group); v.Muted {
			t.Error("still muted")
		}
		// Refused: the past, and someone who is no member.
		_, err = f.svc.SetMute(f.ctx, f.bea, f.group, &messaging.MuteInput{Until: f.now.Add(-time.Minute)})
		wantErr(t, err, parley.EINVALID)
		_, err = f.svc.SetMute(f.ctx, f.out, f.group, &messaging.MuteInput{})
		wantErr(t, err, parley.ENOTFOUND)
		_, err = f.svc.SetMute(f.ctx, f.cal, f.direct, nil)
		wantErr(t, err, parley.ENOTFOUND)
	})
}

func TestReactions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f := newChatFixture(t, s)
		m := f.send(t, f.ann, messaging.SendInput{ConversationID: f.group, Text: "hello"})
		at := f.position(t)
		rs, err := f.svc.React(f.ctx, f.bea, m.ID, "👍", true)
		if err != nil || len(rs) != 1 || rs[0].Count != 1 || rs[0].UserIDs[0] != f.bea.ID {
			t.Fatalf("react: %+v %v", rs, err)
		}
		if _, err := f.svc.React(f.ctx, f.cal, m.ID, "👍", true); err != nil {
			t.Fatal(err)
		}
		// Again: nothing changes, no event.
		if rs, _ = f.svc.React(f.ctx, f.cal, m.ID, "👍", true); rs[0].Count != 2 {
			t.Errorf("again: %+v", rs)
		}
		es := f.events(t, f.ann, at)
		if len(es) != 2 || es[0].Type != parley.EventReaction || es[0].Seq != m.Seq || es[0].ConversationID != f.group {
			t.Errorf("events %+v", es)
		}
		hist, err := f.svc.History(f.ctx, f.ann, f.group, parley.MessagePage{})
		if err != nil {
			t.Fatal(err)
		}
		if last := hist[len(hist)-1]; len(last.Reactions) != 1 || last.Reactions[0].Count != 2 {
			t.Errorf("history's reactions %+v", last.Reactions)
		}
		if rs, err = f.svc.React(f.ctx, f.bea, m.ID, "👍", false); err != nil || rs[0].Count != 1 || rs[0].UserIDs[0] != f.cal.ID {
			t.Errorf("remove: %+v %v", rs, err)
		}
		// Refused: not an emoji; a message the actor cannot see; a
		// conversation they are not a member of; a deleted message.
		for _, e := range []string{"", "ok", "👍👍", "<b>"} {
			_, err = f.svc.React(f.ctx, f.bea, m.ID, e, true)
			wantErr(t, err, parley.EINVALID)
		}
		_, err = f.svc.React(f.ctx, f.out, m.ID, "👍", true)
		wantErr(t, err, parley.ENOTFOUND)
		dm := f.send(t, f.ann, messaging.SendInput{ConversationID: f.direct, Text: "just us"})
		_, err = f.svc.React(f.ctx, f.cal, dm.ID, "👍", true)
		wantErr(t, err, parley.ENOTFOUND)
		_, err = f.svc.React(f.ctx, f.cal, m.ID+1000, "👍", true)
		wantErr(t, err, parley.ENOTFOUND)
		if _, err := f.svc.Delete(f.ctx, f.ann, m.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.React(f.ctx, f.bea, m.ID, "🎉", true)
		wantErr(t, err, parley.ECONFLICT)
	})
}

func TestThreads(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		f := newChatFixture(t, s)
		root := f.send(t, f.ann, messaging.SendInput{ConversationID: f.group, Text: "plan?"})
		at := f.position(t)
		r1 := f.send(t, f.bea, messaging.SendInput{ConversationID: f.group, Text: "yes", ThreadID: root.ID, ClientID: "t1"})
		again := f.send(t, f.bea, messaging.SendInput{ConversationID: f.group, Text: "yes", ThreadID: root.ID, ClientID: "t1"})
		if again.ID != r1.ID {
			t.Error("a retried reply was stored twice")
		}
		f.now = f.now.Add(time.Minute)
		r2 := f.send(t, f.cal, messaging.SendInput{ConversationID: f.group, Text: "and here", ThreadID: root.ID, InChannel: true})
		// The root's summary; the main timeline has the root and the
		// reply sent to it, not the other.
		page, err := f.svc.Thread(f.ctx, f.ann, root.ID, parley.MessagePage{})
		if err != nil {
			t.Fatal(err)
		}
		if th := page.Root.Thread; th == nil || th.Replies != 2 || !th.LastReplyAt.Equal(r2.CreatedAt) || !slices.Equal(th.UserIDs, []int64{f.bea.ID, f.cal.ID}) {
			t.Errorf("summary %+v", page.Root.Thread)
		}
		if len(page.Replies) != 2 || page.Replies[0].ID != r1.ID || page.Replies[1].ID != r2.ID {
			t.Errorf("replies %+v", page.Replies)
		}
		hist, err := f.svc.History(f.ctx, f.ann, f.group, parley.MessagePage{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range hist {
			if m.Kind != parley.MsgEvent {
				ids = append(ids, m.ID)
			}
		}
		if !slices.Equal(ids, []int64{root.ID, r2.ID}) {
			t.Errorf("main timeline %v, want %d %d", ids, root.ID, r2.ID)
		}
		// Every member heard each reply and the root's new summary.
		var types []string
		for _, e := range f.events(t, f.ann, at) {
			if e.Type == parley.EventMessageCreated || e.Type == parley.EventMessageUpdated {
				types = append(types, e.Type)
			}
		}
		if !slices.Equal(types, []string{"message.updated", "message.created", "message.updated", "message.created"}) {
			t.Errorf("events %v", types)
		}
		// Paging: the newest reply, then the one before it.
		p1, _ := f.svc.Thread(f.ctx, f.ann, root.ID, parley.MessagePage{Limit: 1})
		p2, _ := f.svc.Thread(f.ctx, f.ann, root.ID, parley.MessagePage{Limit: 1, Before: p1.Replies[0].Seq})
		if len(p1.Replies) != 1 || p1.Replies[0].ID != r2.ID || len(p2.Replies) != 1 || p2.Replies[0].ID != r1.ID {
			t.Errorf("pages %+v %+v", p1.Replies, p2.Replies)
		}
		// Refused: a reply to a reply, a thread of another conversation,
		// in_channel without a thread, an outsider reading a thread or
		// replying in it.
		bad := []messaging.SendInput{
			{ConversationID: f.group, Text: "x", ThreadID: r1.ID},
			{ConversationID: f.direct, Text: "x", ThreadID: root.ID},
			{ConversationID: f.group, Text: "x", InChannel: true},
			{ConversationID: f.group, Text: "x", ThreadID: root.ID + 1000},
		}
		for _, in := range bad {
			_, err := f.svc.Send(f.ctx, f.ann, in)
			wantErr(t, err, parley.EINVALID)
		}
		_, err = f.svc.Thread(f.ctx, f.out, root.ID, parley.MessagePage{})
		wantErr(t, err, parley.ENOTFOUND)
		_, err = f.svc.Send(f.ctx, f.out, messaging.SendInput{ConversationID: f.group, Text: "x", ThreadID: root.ID})
		wantErr(t, err, parley.ENOTFOUND)
		_, err = f.svc.Thread(f.ctx, f.ann, r1.ID, parley.MessagePage{})
		wantErr(t, err, parley.EINVALID)
	})
}
