package routing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Decide is the distribution's choice for one dialog, computed from the
// snapshot alone: every candidate gets a verdict (why they were skipped,
// or their score), the eligible ones are ranked by the policy, and the
// first gets the dialog. It reads no clock and no store, so a recorded
// decision can be recomputed from its snapshot and must come out the same.
func Decide(s parley.RoutingSnapshot) parley.RoutingDecision {
	d := parley.RoutingDecision{Snapshot: s, Verdicts: make([]parley.RoutingVerdict, len(s.Candidates))}
	var eligible []int
	for i, c := range s.Candidates {
		v := parley.RoutingVerdict{UserID: c.UserID}
		v.Skip, v.Detail = skip(s, c)
		if v.Skip == "" {
			eligible = append(eligible, i)
			v.Detail = score(s, c)
		}
		d.Verdicts[i] = v
	}
	switch {
	case len(s.Candidates) == 0:
		d.Summary = fmt.Sprintf("the project has no level-%d specialists", s.Level)
		return d
	case len(eligible) == 0:
		d.Summary = nobody(s, d.Verdicts)
		return d
	case s.ProjectCapacity > 0 && s.ProjectLoad >= s.ProjectCapacity:
		for _, i := range eligible {
			d.Verdicts[i].Skip = parley.SkipProject
		}
		d.Summary = fmt.Sprintf("the project is at its capacity (%d/%d open dialogs in charge)", s.ProjectLoad, s.ProjectCapacity)
		return d
	}
	slices.SortStableFunc(eligible, func(a, b int) int { return rank(s, s.Candidates[a], s.Candidates[b]) })
	first := s.Candidates[eligible[0]]
	d.ChosenID = first.UserID
	for _, i := range eligible[1:] {
		d.Verdicts[i].Skip = parley.SkipRanked
	}
	if len(eligible) == 1 {
		d.Summary = fmt.Sprintf("%s, the only eligible manager", name(first))
		return d
	}
	d.TieBreak = tieBreak(s, first, s.Candidates[eligible[1]])
	d.Summary = fmt.Sprintf("%s: %s", name(first), d.TieBreak)
	return d
}

// skip returns why c cannot take the dialog, first reason first, or "".
func skip(s parley.RoutingSnapshot, c parley.RoutingCandidate) (string, string) {
	switch {
	case s.TransferTo != 0 && c.UserID != s.TransferTo:
		return parley.SkipTarget, "the transfer named another specialist"
	case s.TransferTo == 0 && c.Level != s.Level:
		if c.Level == parley.Level2 {
			return parley.SkipLevel, "level 2 only takes transfers"
		}
		return parley.SkipLevel, "level 1 does not take transfers"
	case slices.Contains(s.Exclude, c.UserID):
		return parley.SkipExcluded, "had this dialog and missed the reply time limit"
	case s.ChannelManagers != nil && !slices.Contains(s.ChannelManagers, c.UserID):
		return parley.SkipChannel, "not a manager of " + s.Channel
	case !c.Online:
		return parley.SkipOffline, "offline"
	case c.Availability == parley.Busy:
		return parley.SkipBusy, "busy"
	case c.Availability == parley.OnBreak:
		return parley.SkipBreak, "on a break"
	case c.Availability != parley.Available:
		return parley.SkipBusy, c.Availability
	case c.Capacity > 0 && c.Load >= c.Capacity:
		return parley.SkipCapacity, fmt.Sprintf("at capacity %d/%d", c.Load, c.Capacity)
	case s.Burst > 0 && c.Burst >= s.Burst:
		return parley.SkipBurst, fmt.Sprintf("%d dialogs this minute (burst limit %d)", c.Burst, s.Burst)
	}
	return "", ""
}

// score is what the policy ranks an eligible manager by, in words.
func score(s parley.RoutingSnapshot, c parley.RoutingCandidate) string {
	load := fmt.Sprintf("%d open", c.Load)
	if c.Capacity > 0 {
		load = fmt.Sprintf("%d/%d open", c.Load, c.Capacity)
	}
	return load + ", " + since(s.At, c.LastAssignedAt)
}

func since(at, last time.Time) string {
	if last.IsZero() {
		return "no dialog from the distribution yet"
	}
	return "last dialog " + at.Sub(last).Round(time.Second).String() + " ago"
}

// rank orders eligible managers: fewest open first under PolicyFewestOpen;
// then, under both policies, the longest since their last assignment
// (never first), then the lowest user id, so the order is total.
func rank(s parley.RoutingSnapshot, a, b parley.RoutingCandidate) int {
	if s.Policy == parley.PolicyFewestOpen {
		if c := cmp.Compare(a.Load, b.Load); c != 0 {
			return c
		}
	}
	if c := a.LastAssignedAt.Compare(b.LastAssignedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.UserID, b.UserID)
}

// tieBreak says what put first ahead of second.
func tieBreak(s parley.RoutingSnapshot, first, second parley.RoutingCandidate) string {
	if s.Policy == parley.PolicyFewestOpen {
		if first.Load != second.Load {
			return fmt.Sprintf("fewest open (%d, next %d)", first.Load, second.Load)
		}
		if !first.LastAssignedAt.Equal(second.LastAssignedAt) {
			return fmt.Sprintf("as few open as %s (%d); longest since their last dialog", name(second), first.Load)
		}
		return fmt.Sprintf("as few open as %s (%d) and as long since their last dialog; lowest user id", name(second), first.Load)
	}
	if !first.LastAssignedAt.Equal(second.LastAssignedAt) {
		return "round robin: longest since their last dialog (" + since(s.At, first.LastAssignedAt) + ")"
	}
	return "round robin: as long since their last dialog as " + name(second) + "; lowest user id"
}

// nobody sums up why no candidate is eligible: "all 4 managers at
// capacity", or the count of each reason. Specialists of the other level,
// or not the one a transfer named, were never candidates for it and are
// left out of the sum.
func nobody(s parley.RoutingSnapshot, vs []parley.RoutingVerdict) string {
	counts := map[string]int{}
	var order []string
	var only parley.RoutingVerdict
	n := 0
	for _, v := range vs {
		if v.Skip == parley.SkipLevel || v.Skip == parley.SkipTarget {
			continue
		}
		if counts[v.Skip] == 0 {
			order = append(order, v.Skip)
		}
		counts[v.Skip]++
		n, only = n+1, v
	}
	switch {
	case n == 0 && s.TransferTo != 0:
		return "the specialist the transfer named is not a level-2 specialist of the project"
	case n == 0:
		return fmt.Sprintf("the project has no level-%d specialists", s.Level)
	case n == 1:
		return "its only manager: " + only.Detail
	case len(order) == 1:
		return fmt.Sprintf("all %d managers %s", n, reasonWords[order[0]])
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[r], reasonWords[r])
	}
	return "nobody eligible: " + strings.Join(parts, ", ")
}

var reasonWords = map[string]string{
	parley.SkipTarget:   "not the specialist the transfer named",
	parley.SkipLevel:    "at the other level",
	parley.SkipExcluded: "missed the reply time limit on it",
	parley.SkipChannel:  "not managers of the channel",
	parley.SkipOffline:  "offline",
	parley.SkipBusy:     "busy",
	parley.SkipBreak:    "on a break",
	parley.SkipCapacity: "at capacity",
	parley.SkipBurst:    "at the burst limit",
}

func name(c parley.RoutingCandidate) string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("user %d", c.UserID)
}
