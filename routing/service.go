// Package routing is the dialog distribution (seed 003's auto-distribution
// bot): it gives each waiting dialog to a free, eligible manager of its
// project, oldest (or most overdue) first, whenever anything changes, and
// records why (the "why this manager" system line). It also keeps the
// managers' availability, watches the reply time limits, and shows
// supervisors the queue.
//
// One dispatcher per project runs at a time, on the node holding the
// project's lease. Its decisions come from Decide on a snapshot; each one
// is carried out by livechat.AutoAssign, which checks again, under the
// locks every take shares, that it still holds, so that neither two
// dispatchers nor a dispatcher and a manager's own take can put anyone
// past their capacity.
package routing

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
	"github.com/parley-chat/parley/livechat"
)

// Presence says whether a manager is connected.
type Presence interface {
	Online(userID int64) bool
}

// Config tunes the service.
type Config struct {
	// Node names this process in dispatcher leases (default: random).
	Node string
	// Lease is how long a dispatcher's lease lasts (default 15 s): a node
	// that dies hands its projects over within it.
	Lease time.Duration
	// Sweep is the longest a dispatcher waits between looks at its queue
	// when nothing wakes it (default 30 s): a safety net, not the way
	// dialogs are normally assigned.
	Sweep time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Service runs the distribution.
type Service struct {
	store    parley.Store
	bus      parley.Bus
	chat     *livechat.Service
	presence Presence
	cfg      Config
	log      *slog.Logger

	leases *leases.Runner[*parley.Project]

	mu       sync.Mutex
	triggers map[int64]string    // why each project's dispatcher was woken, since it last looked
	notes    map[[2]int64]string // the queue notes this node last wrote, by (project, level)
}

// New returns the service; Start runs its dispatchers.
func New(store parley.Store, bus parley.Bus, chat *livechat.Service, presence Presence, cfg Config) *Service {
	if cfg.Node == "" {
		cfg.Node = leases.NodeID()
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{store: store, bus: bus, chat: chat, presence: presence, cfg: cfg, log: cfg.Log, triggers: map[int64]string{},
		notes: map[[2]int64]string{}}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Start begins taking the projects' leases and running their dispatchers.
func (s *Service) Start() error {
	s.leases = &leases.Runner[*parley.Project]{
		List: func(ctx context.Context) ([]*parley.Project, error) {
			ps, err := s.store.Projects(ctx)
			return slices.DeleteFunc(ps, func(p *parley.Project) bool { return !wanted(p) }), err
		},
		ID:      func(p *parley.Project) int64 { return p.ID },
		Version: func(p *parley.Project) time.Time { return time.Time{} }, // the dispatcher reads its project afresh
		Take: leases.TakeIn(s.store, func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error) {
			return tx.LeaseProject(ctx, id, s.cfg.Node, now, until)
		}),
		Run: s.run, Lease: s.cfg.Lease, Now: s.cfg.Now, Log: s.log,
		Bus: s.bus, OnEvents: s.onEvents,
	}
	return s.leases.Start()
}

// Close stops the dispatchers and gives their leases up.
func (s *Service) Close() {
	if s.leases == nil {
		return
	}
	s.leases.Stop()
}

// wanted reports whether a project needs a dispatcher: it distributes
// dialogs, or has reply time limits to watch.
func wanted(p *parley.Project) bool {
	return p.Distribution.Auto() || hasLimits(p)
}

func hasLimits(p *parley.Project) bool {
	if p.ReplyLimits.Limit > 0 {
		return true
	}
	for _, l := range p.ReplyLimits.Channels {
		if l.Limit > 0 {
			return true
		}
	}
	return false
}

// onEvents wakes the dispatchers a batch of committed events concerns,
// on whichever node they were committed. It runs on the bus's goroutine
// and only notes the trigger and signals.
func (s *Service) onEvents(events []parley.Event) {
	for i := range events {
		e := &events[i]
		switch e.Type {
		case parley.EventDialogUpdated:
			s.wake(e.ProjectID, dialogTrigger(e.Data))
		case parley.EventDialogDeleted:
			s.wake(e.ProjectID, parley.TriggerFreed)
		case parley.EventPresence, parley.EventAgentUpdated:
			s.wakeAll(parley.TriggerManager)
		case parley.EventProjectUpdated:
			var d struct {
				ProjectID int64 `json:"project_id"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				s.leases.Kick() // a project may start or stop wanting a dispatcher
				s.wake(d.ProjectID, parley.TriggerSettings)
			}
		}
	}
}

// dialogTrigger tells from a dialog.updated event what it means for the
// queue: a dialog waits (arrived, reopened, transferred, the customer
// wrote), or a place may have freed (closed, reassigned).
func dialogTrigger(data json.RawMessage) string {
	var d struct {
		Support struct {
			Status     string `json:"status"`
			AssigneeID int64  `json:"assignee_id"`
		} `json:"support"`
	}
	if json.Unmarshal(data, &d) == nil && d.Support.Status == parley.SupportOpen && d.Support.AssigneeID == 0 {
		return parley.TriggerWaiting
	}
	return parley.TriggerFreed
}

func (s *Service) wake(projectID int64, trigger string) {
	if projectID == 0 || s.leases == nil {
		return
	}
	s.note(projectID, trigger)
	s.leases.Wake(projectID)
}

func (s *Service) wakeAll(trigger string) {
	if s.leases == nil {
		return
	}
	s.mu.Lock()
	for id := range s.triggers {
		if s.triggers[id] == "" {
			s.triggers[id] = trigger
		}
	}
	s.mu.Unlock()
	s.leases.WakeAll()
}

// note remembers the first trigger since the dispatcher last looked.
func (s *Service) note(projectID int64, trigger string) {
	s.mu.Lock()
	if s.triggers[projectID] == "" {
		s.triggers[projectID] = trigger
	}
	s.mu.Unlock()
}

// trigger returns and clears why the dispatcher was woken.
func (s *Service) trigger(projectID int64, otherwise string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.triggers[projectID]
	s.triggers[projectID] = ""
	if t == "" {
		return otherwise
	}
	return t
}

// run is a project's dispatcher, on the node holding its lease: it looks
// at the queue and the reply limits whenever it is woken, when a timer it
// set is due (a burst window ends, a limit passes), and every Sweep.
func (s *Service) run(ctx context.Context, p *parley.Project, wake <-chan struct{}) {
	s.note(p.ID, "")
	s.mu.Lock()
	// Another node may have written the notes while it held the lease.
	delete(s.notes, [2]int64{p.ID, parley.Level1})
	delete(s.notes, [2]int64{p.ID, parley.Level2})
	s.mu.Unlock()
	trigger := parley.TriggerStarted
	var replyAt time.Time // when the reply limits next need a look (zero: now)
	for ctx.Err() == nil {
		now := s.now()
		next := now.Add(s.cfg.Sweep)
		if !replyAt.After(now) {
			at, err := s.CheckReplies(ctx, p.ID, trigger)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("checking reply limits", "project_id", p.ID, "err", err)
				at = now.Add(time.Second)
			}
			replyAt = at
		}
		if !replyAt.IsZero() && replyAt.Before(next) {
			next = replyAt
		}
		at, err := s.Drain(ctx, p.ID, trigger)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("distributing dialogs", "project_id", p.ID, "err", err)
			at = now.Add(time.Second)
		}
		if !at.IsZero() && at.Before(next) {
			next = at
		}
		t := time.NewTimer(max(next.Sub(s.now()), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			trigger = s.trigger(p.ID, parley.TriggerTimer)
		case <-wake:
			t.Stop()
			trigger = s.trigger(p.ID, parley.TriggerTimer)
		}
	}
}
