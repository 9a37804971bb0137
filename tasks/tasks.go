// Package tasks implements tasks (seed 001's "Create a task" and "Move to
// task"): a task is a case of kind task (docs/decisions.md "Tasks and
// cases") with an assignee, a due date and a status, in no project or in
// the project of the case or dialog it was made from. It also moves a
// message into a task, a case or a customer card's history, marking the
// message with a link.
//
// Who sees a task (and may edit it, comment on it and move messages into
// it): its creator, its assignee, and, when it belongs to a project,
// whoever sees that project's cases (its specialists and those who manage
// live chat). Everyone else gets not_found, as for a task that does not
// exist.
package tasks

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/schedule"
	"github.com/parley-chat/parley/livechat"
)

// Limits of a task's text.
const (
	maxTitle       = 200
	maxDescription = 10000
	maxAhead       = 5 * 365 * 24 * time.Hour
)

// Service manages tasks and fires their due notifications.
type Service struct {
	store parley.Store
	live  *livechat.Service
	log   *slog.Logger
	now   func() time.Time
	loop  *schedule.Loop
}

// New returns the service and starts its due-time scheduler; Close stops it.
func New(store parley.Store, live *livechat.Service, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: store, live: live, log: log, now: parley.Now}
	s.loop = &schedule.Loop{Name: "task due", Next: store.NextTaskDueAt, Fire: s.fireDue, Now: s.now, Log: log}
	s.loop.Start()
	return s
}

// Close stops the scheduler.
func (s *Service) Close() { s.loop.Close() }

// Input creates a task or changes one: absent fields stay as they are
// (on creation: no description, no due date, status open).
type Input struct {
	Title       *string    `json:"title"`
	Description *string    `json:"description"`
	AssigneeID  *int64     `json:"assignee_id"`
	DueAt       *time.Time `json:"due_at"`
	NoDue       bool       `json:"no_due,omitempty"` // clears the due date
	Status      *string    `json:"status"`           // open, in_progress, closed (done)
	// On creation only: the case the task belongs to, or the chat it was
	// made from (its project's when it is a dialog).
	CaseID         int64 `json:"case_id,omitempty"`
	ConversationID int64 `json:"conversation_id,omitempty"`
}

// View is a task with its comments.
type View struct {
	*parley.Case
	Comments []*parley.CaseComment `json:"comments"`
}

func validStatus(st string) bool {
	return st == parley.CaseOpen || st == parley.CaseInProgress || st == parley.CaseClosed
}

func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch n := utf8.RuneCountInString(v); {
	case !utf8.ValidString(v):
		return "", parley.Invalid(field, "%s is not valid UTF-8", field)
	case required && n == 0:
		return "", parley.Invalid(field, "%s is required", field)
	case n > max:
		return "", parley.Invalid(field, "%s has %d characters; the limit is %d", field, n, max)
	}
	return v, nil
}

// apply validates in onto k (a copy the caller discards on error).
func (s *Service) apply(ctx context.Context, r parley.Reader, k *parley.Case, in Input) error {
	var err error
	if in.Title != nil {
		if k.Title, err = text("title", *in.Title, maxTitle, true); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if k.Description, err = text("description", *in.Description, maxDescription, false); err != nil {
			return err
		}
	}
	if in.Status != nil {
		if !validStatus(*in.Status) {
			return parley.Invalid("status", "status is open, in_progress or closed")
		}
		k.Status = *in.Status
	}
	if in.AssigneeID != nil {
		u, err := r.UserByID(ctx, *in.AssigneeID)
		if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && (!u.Active || u.Bot)) {
			return parley.Invalid("assignee_id", "no active user with id %d", *in.AssigneeID)
		}
		if err != nil {
			return err
		}
		k.AssigneeID = u.ID
	}
	if in.NoDue {
		if in.DueAt != nil {
			return parley.Invalid("no_due", "give a due time or no_due, not both")
		}
		in.DueAt = &time.Time{}
	}
	if in.DueAt != nil {
		due := in.DueAt.UTC().Truncate(time.Millisecond)
		if !due.Equal(k.DueAt) {
			now := s.now()
			if !due.IsZero() && !due.After(now) {
				return parley.Invalid("due_at", "the due time must be in the future")
			}
			if due.After(now.Add(maxAhead)) {
				return parley.Invalid("due_at", "the due time is too far ahead")
			}
			// A new due time notifies again.
			k.DueAt, k.DueFiredAt = due, time.Time{}
		}
	}
	if k.Title == "" {
		return parley.Invalid("title", "title is required")
	}
	if k.AssigneeID == 0 {
		return parley.Invalid("assignee_id", "a task needs an assignee")
	}
	return nil
}

// Create creates a task. Any user may create one for a colleague; a task
// in a case or from a dialog needs the actor to see that case or dialog.
func (s *Service) Create(ctx context.Context, actor *parley.User, in Input) (*parley.Case, error) {
	var k *parley.Case
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		k, err = s.create(ctx, tx, actor, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.loop.Poke()
	return k, nil
}

func (s *Service) create(ctx context.Context, tx parley.Tx, actor *parley.User, in Input) (*parley.Case, error) {
	if in.Status == nil {
		open := parley.CaseOpen
		in.Status = &open
	}
	k := &parley.Case{Kind: parley.KindTask, Source: parley.CaseFromTask, CreatedBy: actor.ID, Fields: map[string]string{}}
	if err := s.apply(ctx, tx, k, in); err != nil {
		return nil, err
	}
	if in.CaseID != 0 {
		parent, err := s.live.CaseFor(ctx, tx, actor, in.CaseID)
		if err != nil {
			return nil, err
		}
		if parent.Kind != parley.KindCase {
			return nil, parley.Invalid("case_id", "a task belongs to a case, not to another task")
		}
		k.ParentID, k.ProjectID, k.ContactID, k.ConversationID = parent.ID, parent.ProjectID, parent.ContactID, parent.ConversationID
	}
	if in.ConversationID != 0 && in.CaseID == 0 {
		c, err := s.readable(ctx, tx, actor, in.ConversationID)
		if err != nil {
			return nil, err
		}
		k.ConversationID = c.ID
		if c.Support != nil {
			k.ProjectID, k.ContactID = c.Support.ProjectID, c.Support.ContactID
		}
	}
	now := s.now()
	k.UpdatedAt = now
	if k.Status == parley.CaseClosed {
		k.ClosedAt, k.ClosedBy = now, actor.ID
	}
	if err := tx.CreateCase(ctx, k); err != nil {
		return nil, err
	}
	s.emit(tx, k, 0, actor.ID, true)
	return k, nil
}

// readable returns a conversation the actor may read: a member's, or a
// dialog its project's staff see.
func (s *Service) readable(ctx context.Context, r parley.Reader, actor *parley.User, convID int64) (*parley.Conversation, error) {
	c, err := r.ConversationByID(ctx, convID)
	if err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	if _, err := r.Member(ctx, convID, actor.ID); err == nil {
		return c, nil
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	if c.Support != nil {
		ok, err := s.live.CanView(ctx, c, actor)
		if err != nil {
			return nil, err
		}
		if ok {
			return c, nil
		}
	}
	return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
}

// taskFor returns a task the actor may see: the rule in the package doc.
func (s *Service) taskFor(ctx context.Context, r parley.Reader, actor *parley.User, id int64) (*parley.Case, error) {
	k, err := r.CaseByID(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && k.Kind != parley.KindTask) {
		return nil, parley.Errorf(parley.ENOTFOUND, "task not found")
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.canSee(ctx, actor, k); err != nil || !ok {
		if err == nil {
			err = parley.Errorf(parley.ENOTFOUND, "task not found")
		}
		return nil, err
	}
	return k, nil
}

func (s *Service) canSee(ctx context.Context, actor *parley.User, k *parley.Case) (bool, error) {
	if actor.ID == k.CreatedBy || actor.ID == k.AssigneeID {
		return true, nil
	}
	if k.ProjectID == 0 {
		return false, nil
	}
	return s.live.SeesProject(ctx, actor, k.ProjectID)
}

// Task returns a task with its comments.
func (s *Service) Task(ctx context.Context, actor *parley.User, id int64) (*View, error) {
	k, err := s.taskFor(ctx, s.store, actor, id)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.CaseComments(ctx, id)
	if cs == nil {
		cs = []*parley.CaseComment{}
	}
	return &View{Case: k, Comments: cs}, err
}

// ListQuery selects the actor's tasks.
type ListQuery struct {
	Role   string // assigned, created, or empty for both
	Status string
	Before int64
	Limit  int
}

// List returns the actor's tasks: assigned to them or created by them.
func (s *Service) List(ctx context.Context, actor *parley.User, q ListQuery) ([]*parley.Case, error) {
	if q.Role != "" && q.Role != "assigned" && q.Role != "created" {
		return nil, parley.Invalid("role", "role is assigned or created")
	}
	if q.Status != "" && !validStatus(q.Status) {
		return nil, parley.Invalid("status", "status is open, in_progress or closed")
	}
	list, err := s.store.Tasks(ctx, parley.TaskFilter{UserID: actor.ID, Role: q.Role, Status: q.Status, Before: q.Before, Limit: q.Limit})
	if list == nil {
		list = []*parley.Case{}
	}
	return list, err
}

// Update changes a task the actor may see.
func (s *Service) Update(ctx context.Context, actor *parley.User, id int64, in Input) (*parley.Case, error) {
	if in.CaseID != 0 || in.ConversationID != 0 {
		return nil, parley.Invalid("case_id", "a task's case and chat are set when it is created")
	}
	var k *parley.Case
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		old, err := s.taskFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		next := *old
		if err := s.apply(ctx, tx, &next, in); err != nil {
			return err
		}
		now := s.now()
		switch {
		case next.Status == parley.CaseClosed && old.Status != parley.CaseClosed:
			next.ClosedAt, next.ClosedBy = now, actor.ID
		case next.Status != parley.CaseClosed:
			next.ClosedAt, next.ClosedBy = time.Time{}, 0
		}
		next.UpdatedAt = now
		if err := tx.UpdateCase(ctx, &next); err != nil {
			return err
		}
		k = &next
		previous := int64(0)
		if old.AssigneeID != next.AssigneeID {
			previous = old.AssigneeID
		}
		s.emit(tx, k, previous, actor.ID, false)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.loop.Poke()
	return k, nil
}

// Comment adds a comment to a task the actor may see.
func (s *Service) Comment(ctx context.Context, actor *parley.User, id int64, in livechat.CommentInput) (*parley.CaseComment, error) {
	t, err := text("text", in.Text, maxDescription, true)
	if err != nil {
		return nil, err
	}
	c := &parley.CaseComment{CaseID: id, AuthorID: actor.ID, Text: t}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		k, err := s.taskFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := tx.AddCaseComment(ctx, c); err != nil {
			return err
		}
		s.touch(ctx, tx, k)
		return nil
	})
	return c, err
}

// touch records a change to a task that is not one of its fields (a
// comment) and tells its people.
func (s *Service) touch(ctx context.Context, tx parley.Tx, k *parley.Case) {
	k.UpdatedAt = s.now()
	if err := tx.UpdateCase(ctx, k); err != nil {
		s.log.Warn("touching task", "task_id", k.ID, "err", err)
	}
	s.emit(tx, k, 0, 0, false)
}

// emit tells a task's creator and assignee (and an assignee it was taken
// from) that it changed, and a new assignee other than the actor that it
// is theirs now.
func (s *Service) emit(tx parley.Tx, k *parley.Case, previous, actor int64, created bool) {
	for _, u := range people(k, previous) {
		tx.Emit(parley.NewEvent(parley.EventTaskUpdated, 0, u, k))
	}
	if actor != 0 && k.AssigneeID != actor && (previous != 0 || created) {
		tx.Emit(parley.NewEvent(parley.EventTaskAssigned, 0, k.AssigneeID, map[string]any{"task": k, "by": actor}))
	}
}

func people(k *parley.Case, extra ...int64) []int64 {
	var out []int64
	for _, u := range append([]int64{k.CreatedBy, k.AssigneeID}, extra...) {
		if u != 0 && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// fireDue sends each task that fell due its notification, once: the mark
// is conditional, so of several nodes one fires it.
func (s *Service) fireDue(ctx context.Context) {
	for {
		due, err := s.store.DueTasks(ctx, s.now(), 200)
		if err != nil {
			s.log.Warn("due tasks", "err", err)
			return
		}
		for _, k := range due {
			_, err := s.store.Write(ctx, func(tx parley.Tx) error {
				at := s.now()
				if err := tx.MarkTaskDueFired(ctx, k.ID, k.DueAt, at); err != nil {
					return err
				}
				k.DueFiredAt = at
				if k.Status != parley.CaseClosed { // done: nothing to remind of
					for _, u := range people(k) {
						tx.Emit(parley.NewEvent(parley.EventTaskDue, 0, u, k))
					}
				}
				return nil
			})
			if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
				s.log.Warn("firing task due", "task_id", k.ID, "err", err)
				return
			}
		}
		if len(due) < 200 {
			return
		}
	}
}
