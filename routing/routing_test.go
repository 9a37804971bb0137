package routing_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestDistribution walks the distribution through a morning: dialogs go
// to free managers, fewest open first; a full team leaves the rest
// waiting with the reason; a freed place pulls the oldest waiting
// dialog; each decision's line is what Decide makes of its snapshot.
func TestDistribution(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, s)
		p := e.project(parley.Distribution{Policy: parley.PolicyFewestOpen, Capacity: 1})
		a, b := e.manager(p, parley.Level1), e.manager(p, parley.Level1)
		l2 := e.manager(p, parley.Level2)
		node := e.node()
		drain := func() {
			t.Helper()
			if _, err := node.Drain(ctx, p.ID, parley.TriggerWaiting); err != nil {
				t.Fatal(err)
			}
		}
		k1 := e.arrive(p)
		e.clock.Advance(time.Second)
		k2 := e.arrive(p)
		e.clock.Advance(time.Second)
		k3 := e.arrive(p)
		drain()
		d1, d2, d3 := e.dialog(k1.ID), e.dialog(k2.ID), e.dialog(k3.ID)
		got := map[int64]bool{d1.Support.AssigneeID: true, d2.Support.AssigneeID: true}
		if !got[a.ID] || !got[b.ID] || d3.Support.AssigneeID != 0 {
			t.Fatalf("assignees %d %d %d, want a and b then nobody", d1.Support.AssigneeID, d2.Support.AssigneeID, d3.Support.AssigneeID)
		}
		if d1.Support.AssigneeID != a.ID {
			t.Errorf("the oldest dialog went to %d; the tie (0 open, never assigned) goes to the lowest id %d", d1.Support.AssigneeID, a.ID)
		}
		view, err := e.chat.Dialog(ctx, e.admin, d3.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := "all 2 managers at capacity"; view.QueueNote != want {
			t.Errorf("queue note %q, want %q", view.QueueNote, want)
		}
		// Level 2 never takes a new dialog; the line says so.
		decs := e.decisions(d1.ID)
		if len(decs) != 1 {
			t.Fatalf("%d routed lines, want 1", len(decs))
		}
		dec := decs[0]
		for _, v := range dec.Verdicts {
			if v.UserID == l2.ID && v.Skip != parley.SkipLevel {
				t.Errorf("level-2 verdict %+v", v)
			}
		}
		checkDecision(t, dec)
		// The line is not the dialog's news: the list still shows what the
		// customer said.
		view, err = e.chat.Dialog(ctx, e.admin, d1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if view.LastMessage == nil || view.LastMessage.Text != "hello" {
			t.Errorf("the list's last message is %+v, want the customer's", view.LastMessage)
		}

		// The manager of the first dialog closes it: their place pulls
		// the waiting dialog.
		if _, err := e.chat.Close(ctx, a, d1.ID); err != nil {
			t.Fatal(err)
		}
		drain()
		if got := e.dialog(k3.ID).Support.AssigneeID; got != a.ID {
			t.Fatalf("freed place: dialog 3 went to %d, want %d", got, a.ID)
		}
		checkDecision(t, e.decisions(d3.ID)[0])
		view, _ = e.chat.Dialog(ctx, e.admin, d3.ID)
		if view.QueueNote != "" {
			t.Errorf("queue note %q after the queue emptied", view.QueueNote)
		}

		// A manager at capacity cannot take another; an administrator
		// can give them one, and that is recorded.
		k4 := e.arrive(p)
		d4 := e.dialog(k4.ID)
		before := e.dialog(k4.ID)
		if _, err := e.chat.Connect(ctx, b, d4.ID); parley.ErrorCode(err) != parley.ECONFLICT {
			t.Fatalf("take past capacity: %v, want ECONFLICT", err)
		}
		if after := e.dialog(k4.ID); after.Support.AssigneeID != 0 || after.LastSeq != before.LastSeq {
			t.Fatalf("a refused take changed the dialog: %+v", after.Support)
		}
		if _, err := e.chat.Reassign(ctx, e.admin, d4.ID, livechat.ReassignInput{UserID: b.ID}); err != nil {
			t.Fatal(err)
		}
		over := e.lines(d4.ID, parley.ActionOverCapacity)
		if len(over) != 1 || over[0].Title != "2/1" || over[0].UserIDs[0] != b.ID {
			t.Fatalf("over-capacity lines %+v", over)
		}
	})
}

// checkDecision checks a recorded decision against Decide on its own
// snapshot, as stored (JSON).
func checkDecision(t *testing.T, d *parley.RoutingDecision) {
	t.Helper()
	if d == nil {
		t.Fatal("a routed line without its decision")
	}
	want, _ := json.Marshal(routing.Decide(d.Snapshot))
	got, _ := json.Marshal(d)
	if string(want) != string(got) {
		t.Fatalf("recorded decision\n%s\ndiffers from Decide on its snapshot\n%s", got, want)
	}
}

// TestReplyLimits: the warning and the limit are lines in the ribbon; an
// overdue dialog goes to another manager, never back, without resetting
// the customer's clock; when nobody else can take it the line says so.
func TestReplyLimits(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, s)
		p := e.project(parley.Distribution{Policy: parley.PolicyRoundRobin})
		limits := parley.ReplyLimits{Warn: 30, Limit: 60}
		if _, err := e.chat.UpdateProject(ctx, e.admin, p.ID, livechat.ProjectInput{ReplyLimits: &limits}); err != nil {
			t.Fatal(err)
		}
		p = e.setDistribution(p, parley.Distribution{Policy: parley.PolicyRoundRobin, ReassignOverdue: true})
		a, b := e.manager(p, parley.Level1), e.manager(p, parley.Level1)
		node := e.node()
		k := e.arrive(p)
		if _, err := node.Drain(ctx, p.ID, parley.TriggerWaiting); err != nil {
			t.Fatal(err)
		}
		d := e.dialog(k.ID)
		first := d.Support.AssigneeID
		second := map[int64]int64{a.ID: b.ID, b.ID: a.ID}[first]
		since := d.Support.WaitingSince
		check := func(after time.Duration) {
			t.Helper()
			e.clock.Advance(after)
			if _, err := node.CheckReplies(ctx, p.ID, parley.TriggerTimer); err != nil {
				t.Fatal(err)
			}
		}
		check(29 * time.Second)
		if n := len(e.lines(d.ID, parley.ActionReplyWarning)); n != 0 {
			t.Fatalf("%d warnings before the warning time", n)
		}
		check(time.Second)
		if n := len(e.lines(d.ID, parley.ActionReplyWarning)); n != 1 {
			t.Fatalf("%d warnings at the warning time", n)
		}
		check(30 * time.Second)
		over := e.lines(d.ID, parley.ActionReplyOverdue)
		if len(over) != 1 || over[0].UserIDs[0] != first {
			t.Fatalf("overdue lines %+v", over)
		}
		d = e.dialog(k.ID)
		if d.Support.AssigneeID != second || !d.Support.WaitingSince.Equal(since) {
			t.Fatalf("after the limit: assignee %d (want %d), waiting since %v (want %v)", d.Support.AssigneeID, second,
				d.Support.WaitingSince, since)
		}
		routed := e.decisions(d.ID)
		last := routed[len(routed)-1]
		checkDecision(t, last)
		if last.Snapshot.Trigger != parley.TriggerOverdue || !slices.Contains(last.Snapshot.Exclude, first) {
			t.Fatalf("the reassignment's decision: %+v", last.Snapshot)
		}
		if revoked, _ := s.Revoked(ctx, d.ID, first); !revoked {
			t.Error("the manager who missed the limit still has the dialog")
		}
		// The second misses it too: nobody else is left, and the line
		// says so; the dialog stays.
		check(61 * time.Second)
		routed = e.decisions(d.ID)
		last = routed[len(routed)-1]
		if last.ChosenID != 0 || last.Summary != "all 2 managers missed the reply time limit on it" {
			t.Fatalf("after the second miss: %+v", last)
		}
		if e.dialog(k.ID).Support.AssigneeID != second {
			t.Fatal("the dialog left its manager with nobody to take it")
		}
		// A reply ends the wait; nothing more happens.
		u, err := s.UserByID(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.msgs.Send(ctx, u, messaging.SendInput{ConversationID: d.ID, Text: "Sorry for the wait", ClientID: "r1"}); err != nil {
			t.Fatal(err)
		}
		check(10 * time.Minute)
		if n := len(e.lines(d.ID, parley.ActionReplyOverdue)); n != 2 {
			t.Fatalf("%d overdue lines after the reply", n)
		}
	})
}
