package routing

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// team is what the dispatcher knows of a project's managers while it
// drains the queue: read once per look, and kept up to date with its own
// assignments, so that a drain of many dialogs reads the store once.
type team struct {
	members     []parley.RoutingCandidate // by user id; Online, Load, LastAssignedAt and Burst as of the look
	agents      map[int64]*parley.Agent
	projectLoad int
}

// readTeam reads the project's specialists (active people, not bots) with
// their availability and loads.
func (s *Service) readTeam(ctx context.Context, r parley.Reader, p *parley.Project, now time.Time) (*team, error) {
	staff, err := r.ProjectStaff(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	level := map[int64]int{}
	var ids []int64
	for _, st := range staff {
		if l, ok := level[st.UserID]; !ok || st.Level < l {
			if !ok {
				ids = append(ids, st.UserID)
			}
			level[st.UserID] = st.Level
		}
	}
	slices.Sort(ids)
	t := &team{}
	users := map[int64]*parley.User{}
	for chunk := range slices.Chunk(ids, 500) {
		us, _, err := r.Users(ctx, parley.UserFilter{IDs: chunk, Limit: len(chunk)})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			users[u.ID] = u
		}
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { u := users[id]; return u == nil || !u.Active || u.Bot })
	if t.agents, err = r.Agents(ctx, ids); err != nil {
		return nil, err
	}
	loads, err := r.Loads(ctx, ids)
	if err != nil {
		return nil, err
	}
	if t.projectLoad, err = r.ProjectLoad(ctx, p.ID); err != nil {
		return nil, err
	}
	for _, id := range ids {
		a := t.agents[id]
		t.members = append(t.members, parley.RoutingCandidate{UserID: id, Name: users[id].Name, Level: level[id],
			Online: s.presence.Online(id), Availability: a.Availability, Load: loads[id],
			Capacity: p.Distribution.CapacityOf(id), LastAssignedAt: a.LastAssignedAt, Burst: a.InBurst(now)})
	}
	return t, nil
}

// snapshot is the decision's input for dialog c.
func (t *team) snapshot(p *parley.Project, c *parley.Conversation, trigger string, now time.Time) parley.RoutingSnapshot {
	sup := c.Support
	snap := parley.RoutingSnapshot{Trigger: trigger, Policy: p.Distribution.Policy, At: now, Level: sup.Level,
		Channel: sup.Channel, TransferTo: sup.TransferTo, ProjectLoad: t.projectLoad,
		ProjectCapacity: p.Distribution.ProjectCapacity, Burst: p.Distribution.Burst,
		Candidates: slices.Clone(t.members)}
	if snap.Level == 0 {
		snap.Level = parley.Level1
	}
	if ms, ok := p.Distribution.Channels[sup.Channel]; ok {
		snap.ChannelManagers = append([]int64{}, ms...)
	}
	if sup.AssigneeID != 0 {
		// Overdue: another manager than the one who has it, and those
		// who missed it before.
		snap.Exclude = slices.Clone(sup.MissedBy)
		if !slices.Contains(snap.Exclude, sup.AssigneeID) {
			snap.Exclude = append(snap.Exclude, sup.AssigneeID)
		}
		snap.ProjectLoad-- // the dialog already counts in the project
		if snap.ProjectLoad < 0 {
			snap.ProjectLoad = 0
		}
	} else if len(sup.MissedBy) > 0 {
		snap.Exclude = slices.Clone(sup.MissedBy)
	}
	return snap
}

// assigned updates the team after the dispatcher gave someone a dialog.
func (t *team) assigned(userID int64, now time.Time, fromQueue bool) {
	for i := range t.members {
		m := &t.members[i]
		if m.UserID == userID {
			m.Load++
			m.LastAssignedAt = now
			m.Burst++
		}
	}
	if fromQueue {
		t.projectLoad++
	}
}

// specific reports whether a dialog's candidates are narrower than its
// level's: a transfer to one specialist, a channel rule, or managers who
// missed it. When a dialog that is not specific finds nobody, nobody is
// free for any dialog of its level.
func specific(p *parley.Project, c *parley.Conversation) bool {
	_, rule := p.Distribution.Channels[c.Support.Channel]
	return c.Support.TransferTo != 0 || rule || len(c.Support.MissedBy) > 0
}

// burstEnds returns when the first manager held back only by the burst
// limit may take dialogs again (zero: none is).
func burstEnds(d *parley.RoutingDecision, t *team) time.Time {
	var at time.Time
	for _, v := range d.Verdicts {
		if v.Skip != parley.SkipBurst {
			continue
		}
		if a := t.agents[v.UserID]; a != nil {
			end := a.BurstAt.Add(parley.BurstWindow)
			if at.IsZero() || end.Before(at) {
				at = end
			}
		}
	}
	return at
}

// page is how many queued dialogs the dispatcher reads, decides and
// assigns at once (one transaction).
const page = 64

// maxRereads bounds how often one look starts again after a conflict;
// past it the dispatcher looks again after retryAfterConflicts.
const (
	maxRereads          = 8
	retryAfterConflicts = 250 * time.Millisecond
)

// Drain gives the project's waiting dialogs to free managers, each level
// oldest (or most overdue) first, until no waiting dialog has an eligible
// manager. It returns when to look again without being woken: when a
// manager held back by the burst limit frees up, or shortly after
// assignments kept conflicting (zero: no such wait). Called by the project's dispatcher; tests call
// it to run the distribution step by step.
func (s *Service) Drain(ctx context.Context, projectID int64, trigger string) (time.Time, error) {
	p, err := s.store.ProjectByID(ctx, projectID)
	if err != nil || !p.Distribution.Auto() {
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			err = nil
		}
		return time.Time{}, err
	}
	now := s.now()
	var t *team // read once, when a level has waiting dialogs
	var wakeAt time.Time
	for _, level := range []int{parley.Level1, parley.Level2} {
		head, err := s.store.QueuedDialogs(ctx, p.ID, level, parley.QueueCursor{}, 1)
		if err != nil {
			return time.Time{}, err
		}
		if len(head) == 0 {
			if err := s.setNote(ctx, p.ID, level, "", now); err != nil {
				return time.Time{}, err
			}
			continue
		}
		if t == nil {
			if t, err = s.readTeam(ctx, s.store, p, now); err != nil {
				return time.Time{}, err
			}
		}
		note, at, err := s.drainLevel(ctx, p, t, level, trigger, now)
		if err != nil {
			return time.Time{}, err
		}
		if !at.IsZero() && (wakeAt.IsZero() || at.Before(wakeAt)) {
			wakeAt = at
		}
		if err := s.setNote(ctx, p.ID, level, note, now); err != nil {
			return time.Time{}, err
		}
	}
	return wakeAt, nil
}

type plan struct {
	c *parley.Conversation
	d parley.RoutingDecision
}

// drainLevel drains one level's queue and returns why it still waits
// (empty: it does not, or only dialogs with narrower rules do).
func (s *Service) drainLevel(ctx context.Context, p *parley.Project, t *team, level int, trigger string,
	now time.Time) (string, time.Time, error) {
	var cursor parley.QueueCursor
	rereads := 0
	for {
		queued, err := s.store.QueuedDialogs(ctx, p.ID, level, cursor, page)
		if err != nil || len(queued) == 0 {
			return "", time.Time{}, err
		}
		queued = queued[:min(len(queued), page)]
		var plans []plan
		note, blocked := "", false
		var wakeAt time.Time
		for _, c := range queued {
			cursor = parley.QueueCursor{Due: c.Support.QueueDue, ID: c.ID}
			d := Decide(t.snapshot(p, c, trigger, now))
			if d.ChosenID == 0 {
				if !specific(p, c) {
					note, blocked, wakeAt = d.Summary, true, burstEnds(&d, t)
					break
				}
				continue
			}
			plans = append(plans, plan{c, d})
			t.assigned(d.ChosenID, now, true)
		}
		conflict, err := s.carryOut(ctx, p, plans)
		if err != nil {
			return "", time.Time{}, err
		}
		if conflict {
			// Someone took a dialog or a place meanwhile: look again,
			// from the head of the queue, at the team as it now is. A
			// conflict that persists (managers taking dialogs as fast as
			// it plans) pauses this look and tries again shortly, rather
			// than spin.
			if rereads++; rereads > maxRereads {
				s.log.Warn("distribution: assignments keep conflicting; looking again shortly", "project_id", p.ID)
				return "", now.Add(retryAfterConflicts), nil
			}
			nt, err := s.readTeam(ctx, s.store, p, now)
			if err != nil {
				return "", time.Time{}, err
			}
			*t, cursor = *nt, parley.QueueCursor{}
			continue
		}
		if blocked {
			return note, wakeAt, nil
		}
		if len(queued) < page {
			return "", time.Time{}, nil
		}
	}
}

// carryOut assigns the planned dialogs in one transaction, in queue
// order; it reports a conflict when a check no longer held for one of
// them, and stops there: that one and those after it are left as they
// were (the ones before are assigned), so that a younger dialog never
// takes the place an older one was planned for.
func (s *Service) carryOut(ctx context.Context, p *parley.Project, plans []plan) (bool, error) {
	if len(plans) == 0 {
		return false, nil
	}
	conflict := false
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		conflict = false
		ids := make([]int64, len(plans))
		for i, pl := range plans {
			ids[i] = pl.c.ID
		}
		fresh, err := tx.LockConversations(ctx, ids)
		if err != nil {
			return err
		}
		var done []*parley.Conversation
		for _, pl := range plans {
			c := fresh[pl.c.ID]
			if c == nil || c.Support == nil || c.Support.AssigneeID != pl.c.Support.AssigneeID {
				conflict = true
				break
			}
			ok, err := s.chat.AutoAssign(ctx, tx, p, c, &pl.d)
			if err != nil {
				return err
			}
			if !ok {
				conflict = true
				break
			}
			done = append(done, c)
		}
		return s.chat.EmitDialogs(ctx, tx, done)
	})
	return conflict, err
}

// setNote records why a level's queue waits, and tells the project's
// staff when that changes.
func (s *Service) setNote(ctx context.Context, projectID int64, level int, note string, now time.Time) error {
	key := [2]int64{projectID, int64(level)}
	s.mu.Lock()
	last, known := s.notes[key]
	s.mu.Unlock()
	if known && last == note {
		return nil // this node wrote it last; nothing to write
	}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		changed, err := tx.SetRoutingNote(ctx, projectID, level, note, now)
		if err != nil || !changed {
			return err
		}
		e, err := queueEvent(ctx, tx, projectID, level, note)
		if err != nil {
			return err
		}
		tx.Emit(e)
		return nil
	})
	if err == nil {
		s.mu.Lock()
		s.notes[key] = note
		s.mu.Unlock()
	}
	return err
}

// queueEvent is queue.updated for the project's staff and those who
// manage live chat.
func queueEvent(ctx context.Context, r parley.Reader, projectID int64, level int, note string) (parley.Event, error) {
	staff, err := r.ProjectStaff(ctx, projectID)
	if err != nil {
		return parley.Event{}, err
	}
	managers, err := r.UsersWithRight(ctx, parley.RightChatSettings)
	if err != nil {
		return parley.Event{}, err
	}
	audience := append([]int64{}, managers...)
	for _, st := range staff {
		audience = append(audience, st.UserID)
	}
	slices.Sort(audience)
	e := parley.NewEvent(parley.EventQueueUpdated, 0, 0, QueueNote{ProjectID: projectID, Level: level, Note: note})
	e.Audience = slices.Compact(audience)
	return e, nil
}

// QueueNote says why a project's level queue waits (empty: it does not).
type QueueNote struct {
	ProjectID int64  `json:"project_id"`
	Level     int    `json:"level"`
	Note      string `json:"note"`
}

// CheckReplies records the reply limits the project's waiting customers
// passed (warning, limit) and, with ReassignOverdue, hands each overdue
// dialog to another eligible manager. It returns when it next needs to
// look (zero: the project has no limits).
func (s *Service) CheckReplies(ctx context.Context, projectID int64, trigger string) (time.Time, error) {
	p, err := s.store.ProjectByID(ctx, projectID)
	if err != nil || !hasLimits(p) {
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			err = nil
		}
		return time.Time{}, err
	}
	now := s.now()
	next := now.Add(shortestLimit(p))
	type due struct {
		c     *parley.Conversation
		state int
	}
	var dues []due
	states := []int{parley.ReplyInTime, parley.ReplyWarned}
	if p.Distribution.ReassignOverdue {
		states = append(states, parley.ReplyOverdue)
	}
	const scan = 100
	for _, st := range states {
		cs, err := s.store.WaitingDialogs(ctx, p.ID, st, scan)
		if err != nil {
			return time.Time{}, err
		}
		for _, c := range cs {
			at, to := livechat.ReplyNext(p, c)
			switch {
			case at.IsZero():
			case !at.After(now):
				dues = append(dues, due{c, to})
			case at.Before(next):
				next = at
			}
		}
		if len(cs) == scan {
			// More wait beyond the page: look again soon rather than
			// read them all at every look.
			if soon := now.Add(time.Second); soon.Before(next) {
				next = soon
			}
		}
	}
	for _, d := range dues {
		if err := s.passLimit(ctx, p, d.c.ID, trigger, now); err != nil {
			return time.Time{}, err
		}
	}
	if len(dues) > 0 {
		next = now // the next page
	}
	return next, nil
}

// shortestLimit is the shortest warning or limit of the project: a wait
// that starts now passes none of them sooner.
func shortestLimit(p *parley.Project) time.Duration {
	best := time.Duration(0)
	consider := func(l parley.ReplyLimit) {
		for _, v := range []parley.Seconds{l.Warn, l.Limit} {
			if d := v.Duration(); d > 0 && (best == 0 || d < best) {
				best = d
			}
		}
	}
	consider(parley.ReplyLimit{Warn: p.ReplyLimits.Warn, Limit: p.ReplyLimits.Limit})
	for _, l := range p.ReplyLimits.Channels {
		consider(l)
	}
	if best == 0 {
		best = time.Minute
	}
	return best
}

// passLimit records one dialog's passed limit and, when it is overdue and
// the project reassigns overdue dialogs, decides who gets it next, in the
// same transaction: the line says so even when nobody else can take it.
func (s *Service) passLimit(ctx context.Context, p *parley.Project, convID int64, trigger string, now time.Time) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		cs, err := tx.LockConversations(ctx, []int64{convID})
		if err != nil {
			return err
		}
		c := cs[convID]
		if c == nil || c.Support == nil {
			return nil
		}
		at, to := livechat.ReplyNext(p, c)
		if at.IsZero() || at.After(now) {
			return nil // answered or changed meanwhile
		}
		if err := s.chat.PassReplyLimit(ctx, tx, c, to); err != nil {
			return err
		}
		if to != parley.ReplyOverdue || !p.Distribution.Auto() || !p.Distribution.ReassignOverdue || c.Support.AssigneeID == 0 {
			return nil
		}
		t, err := s.readTeam(ctx, tx, p, now)
		if err != nil {
			return err
		}
		d := Decide(t.snapshot(p, c, parley.TriggerOverdue, now))
		if d.ChosenID == 0 {
			return s.chat.RecordDecision(ctx, tx, c, &d)
		}
		// A check that no longer holds leaves it with its manager; the
		// line above already says the limit passed.
		ok, err := s.chat.AutoAssign(ctx, tx, p, c, &d)
		if err != nil || !ok {
			return err
		}
		return s.chat.EmitDialogs(ctx, tx, []*parley.Conversation{c})
	})
	return err
}
