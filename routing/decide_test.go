package routing_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/routing"
)

func TestDecide(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	ann := parley.RoutingCandidate{UserID: 1, Name: "Ann", Level: 1, Online: true, Availability: parley.Available, Load: 2, Capacity: 5,
		LastAssignedAt: at.Add(-time.Minute)}
	bob := parley.RoutingCandidate{UserID: 2, Name: "Bob", Level: 1, Online: true, Availability: parley.Available, Load: 1, Capacity: 5,
		LastAssignedAt: at.Add(-10 * time.Second)}
	cid := parley.RoutingCandidate{UserID: 3, Name: "Cid", Level: 2, Online: true, Availability: parley.Available}
	with := func(c parley.RoutingCandidate, f func(*parley.RoutingCandidate)) parley.RoutingCandidate {
		f(&c)
		return c
	}
	base := parley.RoutingSnapshot{Policy: parley.PolicyFewestOpen, At: at, Level: 1, Channel: parley.ChannelWidget}
	for _, tc := range []struct {
		name    string
		edit    func(*parley.RoutingSnapshot)
		chosen  int64
		skips   map[int64]string
		summary string
	}{
		{name: "fewest open", chosen: 2, skips: map[int64]string{1: parley.SkipRanked, 3: parley.SkipLevel},
			summary: "Bob: fewest open (1, next 2)"},
		{name: "round robin", edit: func(s *parley.RoutingSnapshot) { s.Policy = parley.PolicyRoundRobin }, chosen: 1,
			summary: "Ann: round robin: longest since their last dialog (last dialog 1m0s ago)"},
		{name: "tie on load", edit: func(s *parley.RoutingSnapshot) { s.Candidates[1].Load = 2 }, chosen: 1,
			summary: "Ann: as few open as Bob (2); longest since their last dialog"},
		{name: "full tie", edit: func(s *parley.RoutingSnapshot) {
			s.Candidates[1].Load, s.Candidates[1].LastAssignedAt = 2, s.Candidates[0].LastAssignedAt
		}, chosen: 1, summary: "Ann: as few open as Bob (2) and as long since their last dialog; lowest user id"},
		{name: "reasons", edit: func(s *parley.RoutingSnapshot) {
			s.Candidates[0].Online = false
			s.Candidates[1].Load = 5
		}, skips: map[int64]string{1: parley.SkipOffline, 2: parley.SkipCapacity, 3: parley.SkipLevel},
			summary: "nobody eligible: 1 offline, 1 at capacity"},
		{name: "all at capacity", edit: func(s *parley.RoutingSnapshot) { s.Candidates[0].Load, s.Candidates[1].Load = 5, 5 },
			summary: "all 2 managers at capacity"},
		{name: "busy and break", edit: func(s *parley.RoutingSnapshot) {
			s.Candidates[0].Availability, s.Candidates[1].Availability = parley.Busy, parley.OnBreak
		}, skips: map[int64]string{1: parley.SkipBusy, 2: parley.SkipBreak}, summary: "nobody eligible: 1 busy, 1 on a break"},
		{name: "burst", edit: func(s *parley.RoutingSnapshot) { s.Burst, s.Candidates[1].Burst = 2, 2 }, chosen: 1,
			skips: map[int64]string{2: parley.SkipBurst}, summary: "Ann, the only eligible manager"},
		{name: "channel rule", edit: func(s *parley.RoutingSnapshot) { s.ChannelManagers = []int64{1} }, chosen: 1,
			skips: map[int64]string{2: parley.SkipChannel}},
		{name: "excluded", edit: func(s *parley.RoutingSnapshot) { s.Exclude = []int64{2} }, chosen: 1,
			skips: map[int64]string{2: parley.SkipExcluded}},
		{name: "project full", edit: func(s *parley.RoutingSnapshot) { s.ProjectLoad, s.ProjectCapacity = 4, 4 },
			skips:   map[int64]string{1: parley.SkipProject, 2: parley.SkipProject},
			summary: "the project is at its capacity (4/4 open dialogs in charge)"},
		{name: "level 2 queue", edit: func(s *parley.RoutingSnapshot) { s.Level = 2 }, chosen: 3,
			skips: map[int64]string{1: parley.SkipLevel, 2: parley.SkipLevel}, summary: "Cid, the only eligible manager"},
		{name: "transfer to one", edit: func(s *parley.RoutingSnapshot) { s.Level, s.TransferTo = 2, 3; s.Candidates[2].Online = false },
			skips: map[int64]string{1: parley.SkipTarget, 3: parley.SkipOffline}, summary: "its only manager: offline"},
		{name: "no level 2", edit: func(s *parley.RoutingSnapshot) { s.Level, s.Candidates = 2, s.Candidates[:2] },
			summary: "the project has no level-2 specialists"},
		{name: "no staff", edit: func(s *parley.RoutingSnapshot) { s.Candidates = nil }, summary: "the project has no level-1 specialists"},
		{name: "no limit", edit: func(s *parley.RoutingSnapshot) { s.Candidates[0].Capacity, s.Candidates[0].Load = 0, 99 }, chosen: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.Candidates = []parley.RoutingCandidate{with(ann, func(*parley.RoutingCandidate) {}), bob, cid}
			if tc.edit != nil {
				tc.edit(&s)
			}
			d := routing.Decide(s)
			if d.ChosenID != tc.chosen {
				t.Errorf("chose %d, want %d (%s)", d.ChosenID, tc.chosen, d.Summary)
			}
			for _, v := range d.Verdicts {
				if want, ok := tc.skips[v.UserID]; ok && v.Skip != want {
					t.Errorf("user %d: skip %q (%s), want %q", v.UserID, v.Skip, v.Detail, want)
				}
				if v.UserID == d.ChosenID && v.Skip != "" {
					t.Errorf("the chosen manager has skip %q", v.Skip)
				}
			}
			if tc.summary != "" && d.Summary != tc.summary {
				t.Errorf("summary %q, want %q", d.Summary, tc.summary)
			}
		})
	}
}
