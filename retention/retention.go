// Package retention deletes, per project, the dialogs closed longer ago
// than the project's retention (Project.RetentionDays), with their
// messages and files, and empties the blob trash that deletions leave
// behind when a node dies between a commit and its blob deletions.
//
// One node at a time runs a project's retention: the one holding its
// lease (internal/leases). A run goes in batches, each one transaction
// that also advances the run's state in the database
// (livechat.RetentionBatch), so a run cut short by a restart or a lost
// lease resumes on whichever node takes the lease next.
package retention

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
	"github.com/parley-chat/parley/livechat"
)

// Config tunes the service.
type Config struct {
	// Node names this process in leases (default: random).
	Node string
	// Lease is how long a project's lease lasts (default 15 s).
	Lease time.Duration
	// Interval is the time between two runs of a project, and between two
	// sweeps of the blob trash (default an hour).
	Interval time.Duration
	// Batch is how many dialogs one transaction deletes (default 100).
	Batch int
	Now   func() time.Time
	Log   *slog.Logger
}

// Service runs the retention of every project that has one.
type Service struct {
	store  parley.Store
	bus    parley.Bus
	chat   *livechat.Service
	cfg    Config
	log    *slog.Logger
	leases *leases.Runner[*parley.Project]
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// New returns the service; Start runs it.
func New(store parley.Store, bus parley.Bus, chat *livechat.Service, cfg Config) *Service {
	if cfg.Node == "" {
		cfg.Node = leases.NodeID()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{store: store, bus: bus, chat: chat, cfg: cfg, log: cfg.Log}
}

// Start takes the leases of the projects with a retention and runs them,
// and sweeps the blob trash now and every Interval.
func (s *Service) Start() error {
	s.leases = &leases.Runner[*parley.Project]{
		List: func(ctx context.Context) ([]*parley.Project, error) {
			ps, err := s.store.Projects(ctx)
			return slices.DeleteFunc(ps, func(p *parley.Project) bool { return p.RetentionDays == 0 }), err
		},
		ID: func(p *parley.Project) int64 { return p.ID },
		// A changed retention starts the worker again, to run at once.
		Version: func(p *parley.Project) time.Time { return time.Unix(int64(p.RetentionDays), 0) },
		Take: leases.TakeIn(s.store, func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error) {
			return tx.LeaseRetention(ctx, id, s.cfg.Node, now, until)
		}),
		Run: s.run, Lease: s.cfg.Lease, Now: s.cfg.Now, Log: s.log,
		Bus: s.bus, OnEvents: s.onEvents,
	}
	if err := s.leases.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			s.sweep(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Close stops the runs (each between two batches) and gives their leases
// up.
func (s *Service) Close() {
	if s.leases == nil {
		return
	}
	s.stop()
	s.wg.Wait()
	s.leases.Stop()
}

// onEvents notices a project whose settings changed: it may start or stop
// having a retention.
func (s *Service) onEvents(events []parley.Event) {
	for i := range events {
		if events[i].Type == parley.EventProjectUpdated {
			s.leases.Kick()
			return
		}
	}
}

// run runs a project's retention now and every Interval while this node
// holds its lease.
func (s *Service) run(ctx context.Context, p *parley.Project, wake <-chan struct{}) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		if err := s.RunProject(ctx, p.ID); err != nil && ctx.Err() == nil {
			s.log.Warn("retention run", "project", p.ID, "err", err)
		}
		t.Reset(s.cfg.Interval)
	}
}

// RunProject runs a project's retention to its end, batch by batch, or
// until ctx ends (the run resumes from the database next time).
func (s *Service) RunProject(ctx context.Context, projectID int64) error {
	for ctx.Err() == nil {
		done, err := s.chat.RetentionBatch(ctx, projectID, s.cfg.Batch)
		if err != nil || done {
			return err
		}
	}
	return nil
}

func (s *Service) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := s.chat.SweepBlobs(ctx, 500)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("sweeping the blob trash", "err", err)
			}
			return
		}
		if n < 500 {
			return
		}
	}
}
