package livechat

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// What the distribution (package routing) needs of dialogs: their place
// in the queue, the capacity every take and assignment checks, and the
// assignments themselves. The rules live here, beside the manual takes and
// reassignments that follow them too, so there is one of each.

// enqueue puts an open dialog nobody is in charge of in its level's
// queue: its place is the reply deadline counted from now when the
// project has reply limits (most overdue first), else now (oldest first).
func enqueue(p *parley.Project, c *parley.Conversation, now time.Time) {
	sup := c.Support
	sup.QueuedAt, sup.QueueDue = now, now.Add(p.ReplyLimits.For(sup.Channel).Limit.Duration())
}

// claim checks that userID may take one more open dialog of p: it locks
// the manager's distribution state, so that concurrent takes and
// assignments count one after the other, and compares their open dialogs
// with their capacity. A manager at capacity is refused; an administrator
// acting (mayExceed) is not, and over returns the load it makes ("6/5")
// for the record.
func (s *Service) claim(ctx context.Context, tx parley.Tx, p *parley.Project, c *parley.Conversation, userID int64,
	mayExceed bool) (over string, err error) {
	// Dialog before manager, as the dispatcher locks them: two
	// transactions that lock both in the same order never deadlock.
	if _, err := tx.LockConversations(ctx, []int64{c.ID}); err != nil {
		return "", err
	}
	if _, err := tx.LockAgent(ctx, userID); err != nil {
		return "", err
	}
	capacity := p.Distribution.CapacityOf(userID)
	if capacity == 0 {
		return "", nil
	}
	load, err := tx.Load(ctx, userID)
	if err != nil || load < capacity {
		return "", err
	}
	if !mayExceed {
		return "", parley.Errorf(parley.ECONFLICT, "the manager is at capacity (%d/%d open dialogs): one must close before they take another",
			load, capacity)
	}
	return fmt.Sprintf("%d/%d", load+1, capacity), nil
}

// overCapacity records that an administrator went past a manager's
// capacity.
func (s *Service) overCapacity(ctx context.Context, tx parley.Tx, c *parley.Conversation, actorID, userID int64, over string) error {
	if over == "" {
		return nil
	}
	return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionOverCapacity, ActorID: actorID,
		UserIDs: []int64{userID}, Title: over})
}

// handOver connects the manager now in charge of c and takes the dialog
// from the previous one (seed 003: they lose it from their list and can
// no longer read it, unless they manage live chat).
func (s *Service) handOver(ctx context.Context, tx parley.Tx, c *parley.Conversation, prev, to int64) error {
	if err := tx.SetRevoked(ctx, c.ID, to, false); err != nil {
		return err
	}
	// The manager in charge is connected: they can answer at once, and
	// the dialog counts unread messages for them from now on.
	if _, err := tx.Member(ctx, c.ID, to); parley.ErrorCode(err) == parley.ENOTFOUND {
		if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: to, ReadSeq: c.LastSeq,
			DeliveredSeq: c.LastSeq, JoinedAt: s.now()}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if prev == 0 {
		return nil
	}
	if err := tx.SetRevoked(ctx, c.ID, prev, true); err != nil {
		return err
	}
	if _, err := tx.Member(ctx, c.ID, prev); err == nil {
		if err := tx.RemoveMember(ctx, c.ID, prev); err != nil {
			return err
		}
	}
	// Gone from their list, whether they were connected or not.
	tx.Emit(parley.NewEvent(parley.EventConversationRemoved, c.ID, prev, map[string]int64{"conversation_id": c.ID}))
	return nil
}

// AutoAssign carries out a distribution decision on c inside the
// dispatcher's transaction; the caller announces the dialog (EmitDialogs). The decision was made on a snapshot; here the
// conditions are checked again under the locks that every take and
// assignment takes (the manager's availability, burst and capacity, the
// project's capacity, the dialog still waiting, or still with the manager
// who missed its limit), and when one no longer holds it writes nothing
// and returns false: the dispatcher reads again and decides again.
func (s *Service) AutoAssign(ctx context.Context, tx parley.Tx, p *parley.Project, c *parley.Conversation, d *parley.RoutingDecision) (bool, error) {
	to, now, dist := d.ChosenID, d.Snapshot.At, p.Distribution
	a, err := tx.LockAgent(ctx, to)
	if err != nil {
		return false, err
	}
	if a.Availability != parley.Available || (dist.Burst > 0 && a.InBurst(now) >= dist.Burst) {
		return false, nil
	}
	if capacity := dist.CapacityOf(to); capacity > 0 {
		load, err := tx.Load(ctx, to)
		if err != nil || load >= capacity {
			return false, err
		}
	}
	prev := c.Support.AssigneeID
	if dist.ProjectCapacity > 0 && prev == 0 {
		if err := tx.LockProject(ctx, p.ID); err != nil {
			return false, err
		}
		load, err := tx.ProjectLoad(ctx, p.ID)
		if err != nil || load >= dist.ProjectCapacity {
			return false, err
		}
	}
	ok, err := tx.AssignDialog(ctx, c.ID, prev, to, now)
	if err != nil || !ok {
		return false, err
	}
	sup := c.Support
	sup.AssigneeID, sup.AssignedAt, sup.QueuedAt, sup.QueueDue = to, now, time.Time{}, time.Time{}
	if prev != 0 && !slices.Contains(sup.MissedBy, prev) {
		// Missed the limit: never given back during this wait.
		sup.MissedBy = append(slices.Clone(sup.MissedBy), prev)
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return false, err
		}
	}
	if a.InBurst(now) == 0 {
		a.BurstAt, a.BurstCount = now, 0
	}
	a.LastAssignedAt, a.BurstCount = now, a.BurstCount+1
	if err := tx.PutAgent(ctx, a); err != nil {
		return false, err
	}
	if err := s.handOver(ctx, tx, c, prev, to); err != nil {
		return false, err
	}
	if err := s.routedLine(ctx, tx, c, d); err != nil {
		return false, err
	}
	return true, s.emitVisitorConversation(ctx, tx, c)
}

// EmitDialogs announces dialogs to their staff (dialog.updated), built in
// one go: the dispatcher assigns a page of dialogs in one transaction and
// AutoAssign leaves the announcement to it.
func (s *Service) EmitDialogs(ctx context.Context, tx parley.Tx, cs []*parley.Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	ds, err := s.dialogs(ctx, tx, cs)
	if err != nil {
		return err
	}
	for _, d := range ds {
		tx.Emit(parley.NewEvent(parley.EventDialogUpdated, d.Conversation.ID, 0, d))
	}
	return nil
}

// ReplyNext returns when c's customer's wait next passes one of the
// project's reply limits, and the state it then reaches: the warning,
// the limit, and, with ReassignOverdue, the limit counted again from each
// reassignment for the manager who got the overdue dialog. Zero when
// there is nothing to wait for.
func ReplyNext(p *parley.Project, c *parley.Conversation) (time.Time, int) {
	sup := c.Support
	l := p.ReplyLimits.For(sup.Channel)
	if sup.WaitingSince.IsZero() || sup.Status != parley.SupportOpen || l.Limit <= 0 {
		return time.Time{}, 0
	}
	switch sup.ReplyState {
	case parley.ReplyInTime:
		if l.Warn > 0 && l.Warn < l.Limit {
			return sup.WaitingSince.Add(l.Warn.Duration()), parley.ReplyWarned
		}
		return sup.WaitingSince.Add(l.Limit.Duration()), parley.ReplyOverdue
	case parley.ReplyWarned:
		return sup.WaitingSince.Add(l.Limit.Duration()), parley.ReplyOverdue
	}
	// Overdue: the manager who got it since has the limit again, once.
	if !p.Distribution.ReassignOverdue || sup.AssigneeID == 0 || slices.Contains(sup.MissedBy, sup.AssigneeID) ||
		!sup.AssignedAt.After(sup.WaitingSince) {
		return time.Time{}, 0
	}
	return sup.AssignedAt.Add(l.Limit.Duration()), parley.ReplyOverdue
}

// PassReplyLimit records that c's wait passed a reply limit (ReplyNext's
// state): a staff-only system line, which is also its event. The overdue
// one names the manager in charge who missed it.
func (s *Service) PassReplyLimit(ctx context.Context, tx parley.Tx, c *parley.Conversation, state int) error {
	sup := c.Support
	ev := parley.SystemEvent{Action: parley.ActionReplyWarning}
	if state == parley.ReplyOverdue {
		ev.Action = parley.ActionReplyOverdue
		if sup.AssigneeID != 0 {
			ev.UserIDs = []int64{sup.AssigneeID}
		}
	}
	if sup.ReplyState == parley.ReplyOverdue && sup.AssigneeID != 0 {
		// The manager it was reassigned to missed it too: never given
		// back to them, and their limit is not counted again.
		sup.MissedBy = append(slices.Clone(sup.MissedBy), sup.AssigneeID)
	}
	sup.ReplyState = state
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	if err := s.systemLine(ctx, tx, c, ev); err != nil {
		return err
	}
	return s.emitDialog(ctx, tx, c)
}

// RecordDecision records a distribution decision that gave the dialog to
// nobody (an overdue dialog nobody else can take): the line says why.
func (s *Service) RecordDecision(ctx context.Context, tx parley.Tx, c *parley.Conversation, d *parley.RoutingDecision) error {
	return s.routedLine(ctx, tx, c, d)
}

// routedLine writes a decision's line, in brief, and the whole decision
// beside it.
func (s *Service) routedLine(ctx context.Context, tx parley.Tx, c *parley.Conversation, d *parley.RoutingDecision) error {
	ev := parley.SystemEvent{Action: parley.ActionRouted, Routing: d.Line()}
	if d.ChosenID != 0 {
		ev.UserIDs = []int64{d.ChosenID}
	}
	m, err := s.line(ctx, tx, c, ev)
	if err != nil {
		return err
	}
	return tx.PutRoutingDecision(ctx, m.ID, c.ID, d)
}

// RoutingDecision returns the whole decision behind a routed line, to
// those who may see its dialog.
func (s *Service) RoutingDecision(ctx context.Context, actor *parley.User, messageID int64) (*parley.RoutingDecision, error) {
	m, err := s.store.MessageByID(ctx, messageID)
	if err != nil {
		return nil, err
	}
	if _, err := s.dialogFor(ctx, s.store, actor, m.ConversationID); err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	if m.Event == nil || m.Event.Action != parley.ActionRouted {
		return nil, parley.Errorf(parley.ENOTFOUND, "the message is not a decision of the distribution")
	}
	return s.store.RoutingDecision(ctx, messageID)
}
