package routing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestDistributionProperties drives the distribution through random
// interleavings of arrivals, customer messages, presence and
// availability changes, capacity changes, closes, transfers, manual
// takes, clock jumps, dispatcher restarts and two dispatchers draining at
// once, on SQLite and PostgreSQL, and checks after every step:
//
//   - nobody's load grows past their capacity (takes included);
//   - nobody is given a dialog while offline, busy or on a break, at the
//     other level, outside a channel rule, or past the burst limit;
//   - after the distribution ran, no waiting dialog has an eligible
//     manager with a free place;
//   - one assignment per wait (a dialog is only assigned again after it
//     was transferred, reopened, or went overdue);
//   - within a level, no waiting dialog is passed over for a younger one
//     with the same candidates;
//   - each recorded decision is what Decide computes from its recorded
//     snapshot.
//
// Run longer with -rapid.checks=1000 -rapid.steps=200.
func TestDistributionProperties(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e := newEnv(t, s)
		rapid.Check(t, func(rt *rapid.T) { newMachine(rt, e).run(rt) })
	})
}

type machine struct {
	e        *env
	p        *parley.Project
	l1, l2   []*parley.User
	online   map[int64]bool
	avail    map[int64]string
	contacts []*parley.Contact
	nodes    [2]*routing.Service
	checked  map[int64]int // routed lines already checked, per dialog
	took     bool          // the step has a manager's take beside the distribution
}

func newMachine(rt *rapid.T, e *env) *machine {
	m := &machine{e: e, online: map[int64]bool{}, avail: map[int64]string{}, checked: map[int64]int{}}
	d := parley.Distribution{
		Policy:   rapid.SampledFrom([]string{parley.PolicyRoundRobin, parley.PolicyFewestOpen}).Draw(rt, "policy"),
		Capacity: rapid.IntRange(1, 3).Draw(rt, "capacity"),
		Burst:    rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(rt, "burst"),
	}
	if rapid.Bool().Draw(rt, "project capacity") {
		d.ProjectCapacity = rapid.IntRange(1, 6).Draw(rt, "project_capacity")
	}
	m.p = e.project(parley.Distribution{Policy: parley.PolicyOff})
	for range rapid.IntRange(1, 4).Draw(rt, "level 1") {
		m.l1 = append(m.l1, e.manager(m.p, parley.Level1))
	}
	for range rapid.IntRange(0, 2).Draw(rt, "level 2") {
		m.l2 = append(m.l2, e.manager(m.p, parley.Level2))
	}
	for _, u := range m.all() {
		m.online[u.ID], m.avail[u.ID] = true, parley.Available
	}
	if rapid.Bool().Draw(rt, "per-person capacity") {
		u := m.l1[0]
		d.Managers = []parley.ManagerCapacity{{UserID: u.ID, Capacity: rapid.IntRange(1, 4).Draw(rt, "own capacity")}}
	}
	if rapid.Bool().Draw(rt, "channel rule") {
		d.Channels = map[string][]int64{parley.ChannelWidget: {m.l1[0].ID}}
	}
	if rapid.Bool().Draw(rt, "reply limits") {
		d.ReassignOverdue = true
		limits := parley.ReplyLimits{Warn: 30, Limit: 60}
		if _, err := e.chat.UpdateProject(context.Background(), e.admin, m.p.ID, livechat.ProjectInput{ReplyLimits: &limits}); err != nil {
			rt.Fatal(err)
		}
	}
	m.p = e.setDistribution(m.p, d)
	m.nodes = [2]*routing.Service{e.node(), e.node()}
	return m
}

func (m *machine) all() []*parley.User { return slices.Concat(m.l1, m.l2) }

func (m *machine) run(rt *rapid.T) {
	ctx := context.Background()
	e := m.e
	pickUser := func(rt *rapid.T) *parley.User { return rapid.SampledFrom(m.all()).Draw(rt, "manager") }
	rt.Repeat(map[string]func(*rapid.T){
		"arrive": func(rt *rapid.T) {
			m.step(rt, false, func() { m.contacts = append(m.contacts, e.arrive(m.p)) })
		},
		"customer writes": func(rt *rapid.T) {
			if len(m.contacts) == 0 {
				rt.Skip("no customer yet")
			}
			k := rapid.SampledFrom(m.contacts).Draw(rt, "customer")
			m.step(rt, false, func() { e.say(k) })
		},
		"presence": func(rt *rapid.T) {
			u := pickUser(rt)
			m.step(rt, false, func() {
				m.online[u.ID] = !m.online[u.ID]
				e.online(u.ID, m.online[u.ID])
			})
		},
		"availability": func(rt *rapid.T) {
			u := pickUser(rt)
			a := rapid.SampledFrom(parley.Availabilities).Draw(rt, "availability")
			m.step(rt, false, func() {
				if _, err := m.nodes[0].SetAvailability(ctx, u, routing.AvailabilityInput{Availability: a}); err != nil {
					rt.Fatal(err)
				}
				m.avail[u.ID] = a
			})
		},
		"capacity": func(rt *rapid.T) {
			d := m.p.Distribution
			d.Capacity = rapid.IntRange(1, 4).Draw(rt, "new capacity")
			m.step(rt, false, func() { m.p = e.setDistribution(m.p, d) })
		},
		"close": func(rt *rapid.T) {
			c := m.pick(rt, func(c *parley.Conversation) bool {
				return c.Support.Status == parley.SupportOpen && c.Support.AssigneeID != 0
			})
			m.step(rt, false, func() {
				if _, err := e.chat.Close(ctx, m.user(c.Support.AssigneeID), c.ID); err != nil {
					rt.Fatal(err)
				}
			})
		},
		"transfer": func(rt *rapid.T) {
			c := m.pick(rt, func(c *parley.Conversation) bool {
				return c.Support.Status == parley.SupportOpen && c.Support.AssigneeID != 0 && c.Support.Level == parley.Level1
			})
			m.step(rt, false, func() {
				_, err := e.chat.Transfer(ctx, m.user(c.Support.AssigneeID), c.ID, livechat.TransferInput{})
				if err != nil && !(len(m.l2) == 0 && parley.ErrorCode(err) == parley.ECONFLICT) {
					rt.Fatal(err)
				}
			})
		},
		"take": func(rt *rapid.T) {
			c := m.pick(rt, func(c *parley.Conversation) bool {
				return c.Support.Status == parley.SupportOpen && c.Support.AssigneeID == 0
			})
			u := pickUser(rt)
			m.took = true
			defer func() { m.took = false }()
			m.step(rt, false, func() {
				// At capacity (409), or one it was reassigned away from
				// (404: they no longer see it).
				_, err := e.chat.Connect(ctx, u, c.ID)
				if code := parley.ErrorCode(err); err != nil && code != parley.ECONFLICT && code != parley.ENOTFOUND {
					rt.Fatal(err)
				}
			})
		},
		"clock": func(rt *rapid.T) {
			d := time.Duration(rapid.IntRange(1, 90).Draw(rt, "seconds")) * time.Second
			m.step(rt, false, func() {
				e.clock.Advance(d)
				if _, err := m.nodes[0].CheckReplies(ctx, m.p.ID, parley.TriggerTimer); err != nil {
					rt.Fatal(err)
				}
			})
		},
		"restart": func(rt *rapid.T) {
			i := rapid.IntRange(0, 1).Draw(rt, "node")
			m.nodes[i] = e.node()
		},
		"drain": func(rt *rapid.T) {
			both := rapid.Bool().Draw(rt, "two dispatchers at once")
			// A manager taking a waiting dialog while the dispatchers run.
			var take *parley.Conversation
			var taker *parley.User
			if rapid.Bool().Draw(rt, "a take meanwhile") {
				var queued []*parley.Conversation
				for _, c := range m.dialogs(rt) {
					if c.Support.Status == parley.SupportOpen && c.Support.AssigneeID == 0 {
						queued = append(queued, c)
					}
				}
				if len(queued) > 0 {
					take, taker = rapid.SampledFrom(queued).Draw(rt, "taken"), pickUser(rt)
				}
			}
			m.took = take != nil
			defer func() { m.took = false }()
			m.step(rt, true, func() {
				var wg sync.WaitGroup
				errs := make([]error, 3)
				for i := range 2 {
					if i == 1 && !both {
						break
					}
					wg.Go(func() { _, errs[i] = m.nodes[i].Drain(ctx, m.p.ID, parley.TriggerWaiting) })
				}
				if take != nil {
					wg.Go(func() {
						_, err := e.chat.Connect(ctx, taker, take.ID)
						if code := parley.ErrorCode(err); err != nil && code != parley.ECONFLICT && code != parley.ENOTFOUND {
							errs[2] = err
						}
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						rt.Fatal(err)
					}
				}
				// Settle: a dispatcher that lost a race looks again.
				if _, err := m.nodes[0].Drain(ctx, m.p.ID, parley.TriggerWaiting); err != nil {
					rt.Fatal(err)
				}
			})
		},
	})
}

func (m *machine) user(id int64) *parley.User {
	for _, u := range m.all() {
		if u.ID == id {
			return u
		}
	}
	panic(fmt.Sprint("no manager ", id))
}

// pick draws one of the project's dialogs that ok accepts, or skips.
func (m *machine) pick(rt *rapid.T, ok func(*parley.Conversation) bool) *parley.Conversation {
	var cs []*parley.Conversation
	for _, c := range m.dialogs(rt) {
		if ok(c) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		rt.Skip("no such dialog")
	}
	return rapid.SampledFrom(cs).Draw(rt, "dialog")
}

func (m *machine) dialogs(rt *rapid.T) []*parley.Conversation {
	cs, _, err := m.e.store.Dialogs(context.Background(), parley.DialogFilter{ProjectIDs: []int64{m.p.ID}, Limit: 500})
	if err != nil {
		rt.Fatal(err)
	}
	slices.SortFunc(cs, func(a, b *parley.Conversation) int { return int(a.ID - b.ID) })
	return cs
}

func (m *machine) loads(rt *rapid.T) map[int64]int {
	ids := make([]int64, 0, len(m.all()))
	for _, u := range m.all() {
		ids = append(ids, u.ID)
	}
	l, err := m.e.store.Loads(context.Background(), ids)
	if err != nil {
		rt.Fatal(err)
	}
	return l
}

// step runs an action and checks the invariants around it; drained says
// the action ran the distribution to the end (quiescence).
func (m *machine) step(rt *rapid.T, drained bool, action func()) {
	before := m.dialogs(rt)
	loadsBefore := m.loads(rt)
	action()
	after := m.dialogs(rt)
	loads := m.loads(rt)
	dist := m.p.Distribution
	now := m.e.clock.Now()

	// Loads grow only within capacity.
	for _, u := range m.all() {
		if c := dist.CapacityOf(u.ID); loads[u.ID] > loadsBefore[u.ID] && loads[u.ID] > c {
			rt.Fatalf("manager %d went from %d to %d open dialogs, capacity %d", u.ID, loadsBefore[u.ID], loads[u.ID], c)
		}
	}
	prev := map[int64]*parley.Conversation{}
	for _, c := range before {
		prev[c.ID] = c
	}
	// The project's capacity bounds the distribution, not a manager's
	// own take.
	if pc := dist.ProjectCapacity; pc > 0 && !m.took {
		if was, is := inCharge(before), inCharge(after); is > was && is > pc {
			rt.Fatalf("the project went from %d to %d dialogs in charge, capacity %d", was, is, pc)
		}
	}
	agents, err := m.e.store.Agents(context.Background(), m.ids())
	if err != nil {
		rt.Fatal(err)
	}
	routed := map[int64]bool{} // assigned by the distribution in this step
	for _, c := range after {
		lines := m.e.decisions(c.ID)
		overdue := false
		for _, d := range lines[m.checked[c.ID]:] {
			m.checkLine(rt, c, d)
			routed[c.ID] = routed[c.ID] || d.ChosenID != 0
			overdue = overdue || d.ChosenID != 0 && d.Snapshot.Trigger == parley.TriggerOverdue
		}
		// One manager in charge at a time: a dialog moves from one to
		// another only when the distribution reassigns it overdue (the
		// machine reassigns nothing by hand), never by a take racing it.
		if pc := prev[c.ID]; pc != nil && pc.Support.AssigneeID != 0 && c.Support.AssigneeID != 0 &&
			pc.Support.AssigneeID != c.Support.AssigneeID && !overdue {
			rt.Fatalf("dialog %d went from manager %d to %d", c.ID, pc.Support.AssigneeID, c.Support.AssigneeID)
		}
		m.checked[c.ID] = len(lines)
		m.checkOneAssignment(rt, c)
	}
	if dist.Burst > 0 {
		for id, a := range agents {
			if a.InBurst(now) > dist.Burst {
				rt.Fatalf("manager %d got %d dialogs this minute, burst limit %d", id, a.InBurst(now), dist.Burst)
			}
		}
	}
	if !drained {
		return
	}
	// Quiescence: nobody eligible with a free place for a waiting dialog.
	projectLoad := 0
	for _, c := range after {
		if c.Support.Status == parley.SupportOpen && c.Support.AssigneeID != 0 {
			projectLoad++
		}
	}
	for _, c := range after {
		sup := c.Support
		if sup.Status != parley.SupportOpen || sup.AssigneeID != 0 {
			continue
		}
		if dist.ProjectCapacity > 0 && projectLoad >= dist.ProjectCapacity {
			break
		}
		for _, u := range m.all() {
			if m.eligible(u.ID, c) && loads[u.ID] < dist.CapacityOf(u.ID) &&
				(dist.Burst == 0 || agents[u.ID].InBurst(now) < dist.Burst) {
				rt.Fatalf("dialog %d (level %d) waits while manager %d is eligible with %d/%d open",
					c.ID, sup.Level, u.ID, loads[u.ID], dist.CapacityOf(u.ID))
			}
		}
	}
	// Queue order: no waiting dialog left behind a younger one assigned
	// in this step, among dialogs with the same candidates.
	type place struct {
		due time.Time
		id  int64
	}
	for _, a := range after {
		pa := prev[a.ID]
		if pa == nil || pa.Support.AssigneeID != 0 || pa.Support.Status != parley.SupportOpen || !routed[a.ID] ||
			m.specific(pa) {
			continue
		}
		for _, r := range after {
			if r.Support.Status != parley.SupportOpen || r.Support.AssigneeID != 0 || r.Support.Level != pa.Support.Level ||
				m.specific(r) {
				continue
			}
			if pr := prev[r.ID]; pr != nil && (pr.Support.QueueDue.Before(pa.Support.QueueDue) ||
				pr.Support.QueueDue.Equal(pa.Support.QueueDue) && pr.ID < pa.ID) {
				rt.Fatalf("dialog %d was assigned while the older dialog %d still waits", a.ID, r.ID)
			}
		}
	}
}

func (m *machine) ids() []int64 {
	var ids []int64
	for _, u := range m.all() {
		ids = append(ids, u.ID)
	}
	return ids
}

// eligible is the rule, written independently of Decide: online,
// available, the dialog's level (or the specialist its transfer named),
// its channel's managers, and not one who missed its limit.
func (m *machine) eligible(userID int64, c *parley.Conversation) bool {
	sup := c.Support
	level := parley.Level1
	if slices.ContainsFunc(m.l2, func(u *parley.User) bool { return u.ID == userID }) {
		level = parley.Level2
	}
	if sup.TransferTo != 0 && sup.TransferTo != userID || sup.TransferTo == 0 && level != max(sup.Level, parley.Level1) {
		return false
	}
	if ms, ok := m.p.Distribution.Channels[sup.Channel]; ok && !slices.Contains(ms, userID) {
		return false
	}
	return m.online[userID] && m.avail[userID] == parley.Available && !slices.Contains(sup.MissedBy, userID) &&
		sup.AssigneeID != userID
}

func (m *machine) specific(c *parley.Conversation) bool {
	_, rule := m.p.Distribution.Channels[c.Support.Channel]
	return rule || c.Support.TransferTo != 0 || len(c.Support.MissedBy) > 0
}

// checkLine checks a new routed line: it is Decide on its snapshot, and
// the manager it chose was eligible when it was made (the model's state
// does not change while the distribution runs).
func (m *machine) checkLine(rt *rapid.T, c *parley.Conversation, d *parley.RoutingDecision) {
	want, _ := json.Marshal(routing.Decide(d.Snapshot))
	got, _ := json.Marshal(d)
	if string(want) != string(got) {
		rt.Fatalf("dialog %d: recorded decision\n%s\nis not Decide on its snapshot\n%s", c.ID, got, want)
	}
	if d.ChosenID == 0 {
		return
	}
	id := d.ChosenID
	if !m.online[id] || m.avail[id] != parley.Available {
		rt.Fatalf("dialog %d given to manager %d: online %v, %s", c.ID, id, m.online[id], m.avail[id])
	}
	for _, cand := range d.Snapshot.Candidates {
		if cand.UserID == id && (cand.Level != d.Snapshot.Level && d.Snapshot.TransferTo == 0) {
			rt.Fatalf("dialog %d at level %d given to a level-%d manager", c.ID, d.Snapshot.Level, cand.Level)
		}
	}
	if ms := d.Snapshot.ChannelManagers; ms != nil && !slices.Contains(ms, id) {
		rt.Fatalf("dialog %d given to %d outside the channel's managers %v", c.ID, id, ms)
	}
}

// checkOneAssignment: between two assignments by the distribution, the
// dialog went back to the queue (transfer, reopening) or was overdue.
func (m *machine) checkOneAssignment(rt *rapid.T, c *parley.Conversation) {
	ms, err := m.e.store.Messages(context.Background(), c.ID, parley.MessagePage{Limit: 500})
	if err != nil {
		rt.Fatal(err)
	}
	slices.SortFunc(ms, func(a, b *parley.Message) int { return int(a.Seq - b.Seq) })
	assigned := false
	for _, msg := range ms {
		if msg.Kind != parley.MsgEvent || msg.Event == nil {
			continue
		}
		switch ev := msg.Event; ev.Action {
		case parley.ActionTransferred, parley.ActionReopened:
			assigned = false
		case parley.ActionRouted:
			if ev.Routing.ChosenID == 0 {
				continue
			}
			if assigned && ev.Routing.Trigger != parley.TriggerOverdue {
				rt.Fatalf("dialog %d assigned twice in one wait (line %d)", c.ID, msg.Seq)
			}
			assigned = true
		}
	}
}

// inCharge counts open dialogs with a manager in charge.
func inCharge(cs []*parley.Conversation) int {
	n := 0
	for _, c := range cs {
		if c.Support.Status == parley.SupportOpen && c.Support.AssigneeID != 0 {
			n++
		}
	}
	return n
}
