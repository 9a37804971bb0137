package routing

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// AvailabilityInput is what a manager says about taking dialogs.
type AvailabilityInput struct {
	Availability string `json:"availability"`
}

// Availability returns the actor's distribution state.
func (s *Service) Availability(ctx context.Context, actor *parley.User) (*parley.Agent, error) {
	as, err := s.store.Agents(ctx, []int64{actor.ID})
	if err != nil {
		return nil, err
	}
	return as[actor.ID], nil
}

// SetAvailability sets whether the actor takes dialogs (available, busy,
// on a break). It takes the lock every assignment takes, so no dialog is
// given to them once the answer is back; becoming available wakes the
// distribution of their projects on every node.
func (s *Service) SetAvailability(ctx context.Context, actor *parley.User, in AvailabilityInput) (*parley.Agent, error) {
	if !slices.Contains(parley.Availabilities, in.Availability) {
		return nil, parley.Invalid("availability", "availability is one of available, busy, break")
	}
	var a *parley.Agent
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		if a, err = tx.LockAgent(ctx, actor.ID); err != nil {
			return err
		}
		if a.Availability == in.Availability {
			return nil
		}
		a.Availability, a.UpdatedAt = in.Availability, s.now()
		if err := tx.PutAgent(ctx, a); err != nil {
			return err
		}
		managers, err := tx.UsersWithRight(ctx, parley.RightChatSettings)
		if err != nil {
			return err
		}
		e := parley.NewEvent(parley.EventAgentUpdated, 0, 0, a)
		e.Audience = append([]int64{actor.ID}, managers...)
		tx.Emit(e)
		return nil
	})
	return a, err
}

// QueueView is a project's queue as a supervisor watches it: the dialogs
// waiting for a manager, oldest (or most overdue) first, why they wait,
// and each manager's load against their capacity.
type QueueView struct {
	ProjectID       int64  `json:"project_id"`
	Policy          string `json:"policy"`
	ProjectLoad     int    `json:"project_load"`
	ProjectCapacity int    `json:"project_capacity"`
	// Waiting counts the dialogs nobody is in charge of, per level ("1",
	// "2"); Dialogs are the first of them (up to 100 per level).
	Waiting map[int]int    `json:"waiting"`
	Dialogs []QueuedDialog `json:"dialogs"`
	// Notes say why a level's queue waits ("all 4 managers at capacity").
	Notes    map[int]string `json:"notes"`
	Managers []ManagerLoad  `json:"managers"`
	At       time.Time      `json:"at"`
}

// QueuedDialog is one dialog waiting for a manager.
type QueuedDialog struct {
	ID           int64     `json:"id"`
	ContactName  string    `json:"contact_name"`
	Channel      string    `json:"channel"`
	Level        int       `json:"level"`
	TransferTo   int64     `json:"transfer_to,omitempty"`
	QueuedAt     time.Time `json:"queued_at"`
	WaitingSince time.Time `json:"waiting_since,omitzero"`
}

// ManagerLoad is one of the project's managers.
type ManagerLoad struct {
	UserID         int64     `json:"user_id"`
	Name           string    `json:"name"`
	Level          int       `json:"level"`
	Online         bool      `json:"online"`
	Availability   string    `json:"availability"`
	Load           int       `json:"load"`
	Capacity       int       `json:"capacity"` // 0: no limit
	LastAssignedAt time.Time `json:"last_assigned_at,omitzero"`
}

// Queue returns a project's queue view, for those who manage live chat.
func (s *Service) Queue(ctx context.Context, actor *parley.User, projectID int64) (*QueueView, error) {
	if err := parley.RequireRight(ctx, s.store, actor, parley.RightChatSettings,
		"watching the queue needs the chat settings right"); err != nil {
		return nil, err
	}
	p, err := s.store.ProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t, err := s.readTeam(ctx, s.store, p, now)
	if err != nil {
		return nil, err
	}
	v := &QueueView{ProjectID: p.ID, Policy: p.Distribution.Policy, ProjectLoad: t.projectLoad,
		ProjectCapacity: p.Distribution.ProjectCapacity, Dialogs: []QueuedDialog{}, Managers: []ManagerLoad{}, At: now}
	if v.Waiting, err = s.store.CountQueued(ctx, p.ID); err != nil {
		return nil, err
	}
	notes, err := s.store.RoutingNotes(ctx, []int64{p.ID})
	if err != nil {
		return nil, err
	}
	v.Notes = notes[p.ID]
	if v.Notes == nil || !p.Distribution.Auto() {
		v.Notes = map[int]string{} // a note left from before the distribution was turned off says nothing now
	}
	var convs []*parley.Conversation
	for _, level := range []int{parley.Level1, parley.Level2} {
		cs, err := s.store.QueuedDialogs(ctx, p.ID, level, parley.QueueCursor{}, 100)
		if err != nil {
			return nil, err
		}
		convs = append(convs, cs...)
	}
	ids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i] = c.Support.ContactID
	}
	contacts, err := s.store.Contacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range convs {
		q := QueuedDialog{ID: c.ID, Channel: c.Support.Channel, Level: c.Support.Level, TransferTo: c.Support.TransferTo,
			QueuedAt: c.Support.QueuedAt, WaitingSince: c.Support.WaitingSince}
		if k := contacts[c.Support.ContactID]; k != nil {
			q.ContactName = k.Name
		}
		v.Dialogs = append(v.Dialogs, q)
	}
	for _, m := range t.members {
		v.Managers = append(v.Managers, ManagerLoad{UserID: m.UserID, Name: m.Name, Level: m.Level, Online: m.Online,
			Availability: m.Availability, Load: m.Load, Capacity: m.Capacity, LastAssignedAt: m.LastAssignedAt})
	}
	return v, nil
}
