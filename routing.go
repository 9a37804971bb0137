package parley

import "time"

// Distribution policies (seed 003's dialog auto-distribution bot).
const (
	// PolicyOff: managers take dialogs themselves; the first to connect
	// takes charge (live chat's behaviour).
	PolicyOff = "off"
	// PolicyRoundRobin: the eligible manager who has waited longest since
	// their last assignment.
	PolicyRoundRobin = "round_robin"
	// PolicyFewestOpen: the eligible manager with the fewest open dialogs;
	// ties go to the one who has waited longest since their last
	// assignment.
	PolicyFewestOpen = "fewest_open"
)

// Policies lists the distribution policies.
var Policies = []string{PolicyOff, PolicyRoundRobin, PolicyFewestOpen}

// Distribution is a project's auto-distribution settings.
type Distribution struct {
	Policy string `json:"policy"`
	// Capacity is how many open dialogs a manager may be in charge of
	// before this project gives them another (0: no limit); Managers
	// override it per person. A manager's load counts their open dialogs
	// in every project.
	Capacity int               `json:"capacity"`
	Managers []ManagerCapacity `json:"managers" max:"1000"`
	// ProjectCapacity bounds the project's open dialogs that have a
	// manager in charge (0: no limit); beyond it dialogs wait.
	ProjectCapacity int `json:"project_capacity"`
	// Burst is how many dialogs one manager gets from the distribution
	// within a minute (0: no limit), so that the first manager of the
	// morning is not handed the whole night's backlog at once.
	Burst int `json:"burst"`
	// Channels restrict channel kinds to some managers ("whatsapp": only
	// these); a kind not listed goes to every manager of the level.
	Channels map[string][]int64 `json:"channels" max:"20"`
	// ReassignOverdue hands a dialog to another eligible manager when the
	// one in charge has not answered within the reply time limit (never
	// back to one who had it during the same wait). The customer's clock
	// is not reset.
	ReassignOverdue bool `json:"reassign_overdue"`
}

// ManagerCapacity is one manager's own capacity in a project.
type ManagerCapacity struct {
	UserID   int64 `json:"user_id"`
	Capacity int   `json:"capacity"`
}

// Auto reports whether the distribution assigns dialogs.
func (d Distribution) Auto() bool {
	return d.Policy == PolicyRoundRobin || d.Policy == PolicyFewestOpen
}

// CapacityOf returns a manager's capacity in the project (0: no limit).
func (d Distribution) CapacityOf(userID int64) int {
	for _, m := range d.Managers {
		if m.UserID == userID {
			return m.Capacity
		}
	}
	return d.Capacity
}

// Availability is what a manager says about taking dialogs, beside their
// presence: only available managers who are online get dialogs.
const (
	Available = "available"
	Busy      = "busy"
	OnBreak   = "break"
)

// Availabilities lists the availability values.
var Availabilities = []string{Available, Busy, OnBreak}

// Agent is a manager's distribution state.
type Agent struct {
	UserID       int64     `json:"user_id"`
	Availability string    `json:"availability"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	// LastAssignedAt is when the distribution last gave them a dialog;
	// BurstAt starts the minute BurstCount counts assignments in.
	LastAssignedAt time.Time `json:"last_assigned_at,omitzero"`
	BurstAt        time.Time `json:"-"`
	BurstCount     int       `json:"-"`
}

// BurstWindow is the period Distribution.Burst counts assignments in.
const BurstWindow = time.Minute

// InBurst returns how many assignments count against the burst limit at
// now.
func (a *Agent) InBurst(now time.Time) int {
	if a.BurstAt.IsZero() || !now.Before(a.BurstAt.Add(BurstWindow)) {
		return 0
	}
	return a.BurstCount
}

// Routing triggers: what made the distribution look at its queue.
const (
	TriggerWaiting  = "dialog_waiting"   // a dialog arrived, reopened, was transferred or the customer wrote
	TriggerFreed    = "capacity_freed"   // a dialog closed or moved away
	TriggerManager  = "manager_changed"  // a manager came online or became available
	TriggerSettings = "settings_changed" // the distribution's settings changed
	TriggerOverdue  = "reply_overdue"    // the manager in charge missed the reply time limit
	TriggerTimer    = "timer"            // a burst window ended, or the periodic check
	TriggerStarted  = "dispatcher_start" // this node took the project's queue over
	TriggerTaken    = "taken"            // a manager took the dialog (manual)
	TriggerReassign = "reassigned"       // someone reassigned the dialog (manual)
	TriggerTransfer = "transferred_to"   // a transfer to one chosen specialist
)

// Why a candidate was not chosen.
const (
	SkipExcluded = "excluded" // had this dialog during the same wait and missed the limit
	SkipChannel  = "channel"  // not among the managers of the dialog's channel
	SkipLevel    = "level"    // level 2 only takes transfers, level 1 not transfers
	SkipTarget   = "target"   // the transfer named another specialist
	SkipOffline  = "offline"
	SkipBusy     = "busy"
	SkipBreak    = "break"
	SkipCapacity = "capacity" // at their capacity
	SkipBurst    = "burst"    // reached the burst limit this minute
	SkipRanked   = "ranked"   // eligible, but another ranked first
	SkipProject  = "project"  // eligible, but the project is at its capacity
)

// RoutingCandidate is one manager as the distribution saw them.
type RoutingCandidate struct {
	UserID         int64     `json:"user_id"`
	Name           string    `json:"name"` // for display; not part of the decision
	Level          int       `json:"level"`
	Online         bool      `json:"online"`
	Availability   string    `json:"availability"`
	Load           int       `json:"load"`     // open dialogs in charge, every project
	Capacity       int       `json:"capacity"` // 0: no limit
	LastAssignedAt time.Time `json:"last_assigned_at,omitzero"`
	Burst          int       `json:"burst"` // assignments in the current burst window
}

// RoutingSnapshot is everything a distribution decision reads: Decide
// computes the decision from it alone, so a recorded one can be checked.
type RoutingSnapshot struct {
	Trigger string    `json:"trigger"`
	Policy  string    `json:"policy"`
	At      time.Time `json:"at"`
	// The dialog: its level, channel kind, the level-2 specialist a
	// transfer named (0: the level's queue), and the managers excluded
	// because they missed the reply limit during this wait.
	Level      int     `json:"level"`
	Channel    string  `json:"channel"`
	TransferTo int64   `json:"transfer_to,omitempty"`
	Exclude    []int64 `json:"exclude,omitempty"`
	// ChannelManagers are the managers the channel's rule allows (nil:
	// no rule).
	ChannelManagers []int64 `json:"channel_managers,omitempty"`
	ProjectLoad     int     `json:"project_load"`
	ProjectCapacity int     `json:"project_capacity"`
	Burst           int     `json:"burst"`
	// Candidates are the project's specialists, by user id.
	Candidates []RoutingCandidate `json:"candidates"`
}

// RoutingVerdict is what Decide made of one candidate.
type RoutingVerdict struct {
	UserID int64  `json:"user_id"`
	Skip   string `json:"skip,omitempty"` // a Skip constant; empty for the chosen one
	// Detail says it in words: "at capacity 5/5", "3 open", ...
	Detail string `json:"detail"`
}

// RoutingDecision is a distribution decision with its reasons: the system
// line "why this manager" shows it to staff (never to the customer).
type RoutingDecision struct {
	Snapshot RoutingSnapshot `json:"snapshot"`
	// ChosenID is the manager given the dialog (0: nobody; Summary says
	// why).
	ChosenID int64            `json:"chosen_id,omitempty"`
	Verdicts []RoutingVerdict `json:"verdicts"`
	// TieBreak says what separated the chosen manager from the next
	// eligible one ("fewest open: 1 against 2").
	TieBreak string `json:"tie_break,omitempty"`
	Summary  string `json:"summary"`
}

// RoutingLine is what a routed system line carries: the decision's
// outcome in brief. The whole decision, with the snapshot of every
// candidate, is stored apart and read when someone asks why (GET
// /messages/{id}/routing): sent to every staff member with each
// assignment, hundreds of candidates would cost more than the dialog.
type RoutingLine struct {
	Trigger    string `json:"trigger"`
	Policy     string `json:"policy"`
	ChosenID   int64  `json:"chosen_id,omitempty"`
	Summary    string `json:"summary"`
	TieBreak   string `json:"tie_break,omitempty"`
	Candidates int    `json:"candidates"`
	// Skipped counts the candidates passed over, per reason (Skip*).
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Line is the decision in brief.
func (d *RoutingDecision) Line() *RoutingLine {
	l := &RoutingLine{Trigger: d.Snapshot.Trigger, Policy: d.Snapshot.Policy, ChosenID: d.ChosenID, Summary: d.Summary,
		TieBreak: d.TieBreak, Candidates: len(d.Verdicts)}
	for _, v := range d.Verdicts {
		if v.Skip != "" {
			if l.Skipped == nil {
				l.Skipped = map[string]int{}
			}
			l.Skipped[v.Skip]++
		}
	}
	return l
}

// QueueCursor is a place in a queue: after the dialog with this QueueDue
// and id.
type QueueCursor struct {
	Due time.Time
	ID  int64
}
