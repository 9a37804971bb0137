package livechat

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// SpecialistMetrics are one specialist's figures over a period (seed 004,
// General settings > Chat > Admin).
type SpecialistMetrics struct {
	UserID        int64   `json:"user_id"`
	Name          string  `json:"name"`
	Conversations int     `json:"conversations"`
	MedianFirstMS int64   `json:"median_first_response_ms"`
	MedianHandlMS int64   `json:"median_handling_ms"`
	Ratings       int     `json:"ratings"`
	AverageRating float64 `json:"average_rating"`
}

// Metrics is a project's figures per specialist.
type Metrics struct {
	ProjectID   int64                `json:"project_id"`
	From        time.Time            `json:"from"`
	To          time.Time            `json:"to"`
	Specialists []*SpecialistMetrics `json:"specialists"`
}

// Period bounds a metrics query; zero values mean the last 30 days.
type Period struct{ From, To time.Time }

func (p Period) resolve(now time.Time) (Period, error) {
	if p.To.IsZero() {
		p.To = now
	}
	if p.From.IsZero() {
		p.From = p.To.AddDate(0, 0, -30)
	}
	if !p.From.Before(p.To) {
		return p, parley.Invalid("from", "from must be before to")
	}
	return p, nil
}

// Metrics computes a project's per-specialist figures from the stored
// messages and ratings of the dialogs opened in the period, so they are the
// same after a restart and on every node. Definitions are in
// docs/livechat.md.
func (s *Service) Metrics(ctx context.Context, actor *parley.User, projectID int64, period Period) (*Metrics, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	if _, err := s.store.ProjectByID(ctx, projectID); err != nil {
		return nil, err
	}
	period, err := period.resolve(s.now())
	if err != nil {
		return nil, err
	}
	convs, err := s.allDialogs(ctx, parley.DialogFilter{ProjectIDs: []int64{projectID}, From: period.From, To: period.To})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	msgs, err := s.store.SupportMessages(ctx, ids)
	if err != nil {
		return nil, err
	}
	ratings, err := s.store.Ratings(ctx, ids)
	if err != nil {
		return nil, err
	}
	byConv := map[int64][]*parley.Message{}
	for _, m := range msgs {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	type acc struct {
		convs          int
		first, handled []int64
		ratings, sum   int
	}
	per := map[int64]*acc{}
	get := func(id int64) *acc {
		if per[id] == nil {
			per[id] = &acc{}
		}
		return per[id]
	}
	for _, c := range convs {
		f := dialogFigures(byConv[c.ID], ratings[c.ID])
		for uid, at := range f.joined {
			a := get(uid)
			a.convs++
			if c.Support.Status == parley.SupportClosed && !c.Support.ClosedAt.IsZero() {
				a.handled = append(a.handled, c.Support.ClosedAt.Sub(at).Milliseconds())
			}
		}
		for _, r := range f.first {
			a := get(r.by)
			a.first = append(a.first, r.ms)
		}
		if r := ratings[c.ID]; r != nil {
			for _, uid := range f.rated {
				a := get(uid)
				a.ratings++
				a.sum += r.Score
			}
		}
	}
	out := &Metrics{ProjectID: projectID, From: period.From, To: period.To, Specialists: []*SpecialistMetrics{}}
	staff, err := s.store.ProjectStaff(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, st := range staff {
		get(st.UserID) // every specialist is listed, with zeros if idle
	}
	for uid, a := range per {
		sm := &SpecialistMetrics{UserID: uid, Conversations: a.convs, MedianFirstMS: median(a.first),
			MedianHandlMS: median(a.handled), Ratings: a.ratings}
		if u, err := s.store.UserByID(ctx, uid); err == nil {
			sm.Name = u.Name
		}
		if a.ratings > 0 {
			sm.AverageRating = float64(a.sum) / float64(a.ratings)
		}
		out.Specialists = append(out.Specialists, sm)
	}
	slices.SortFunc(out.Specialists, func(a, b *SpecialistMetrics) int {
		if a.Conversations != b.Conversations {
			return b.Conversations - a.Conversations
		}
		return int(a.UserID - b.UserID)
	})
	return out, nil
}

// figures are what one dialog adds to its consultants' metrics.
type figures struct {
	// joined is when each consultant first connected.
	joined map[int64]time.Time
	// first are the first responses: one from the visitor's first message,
	// and one from each transfer, each credited to whoever answered first.
	first []response
	// rated are the consultants the rating is attributed to: those serving
	// when it was given (docs/decisions.md).
	rated []int64
}

type response struct {
	by int64
	ms int64
}

// dialogFigures reads a dialog's stored messages, oldest first. A first
// response counts from when the dialog came to those who answer it: the
// visitor's first message, or a transfer to level 2 (the receiver got the
// dialog then, so answering at once after a transfer is a quick response,
// not none). A rating is given after a close: it goes to the consultants
// connected at the last close before it, or, when nobody was connected
// then, to the last ones who were.
func dialogFigures(msgs []*parley.Message, rating *parley.Rating) figures {
	f := figures{joined: map[int64]time.Time{}}
	var since time.Time // when the dialog last came to those who answer it; zero once answered
	var visitorFirst bool
	connected := []int64{}
	last := []int64{} // the last consultants connected, while nobody is
	for _, m := range msgs {
		switch {
		case m.Kind == parley.MsgEvent && m.Event != nil:
			switch m.Event.Action {
			case parley.ActionConnected:
				if _, ok := f.joined[m.Event.ActorID]; !ok {
					f.joined[m.Event.ActorID] = m.CreatedAt
				}
				if !slices.Contains(connected, m.Event.ActorID) {
					connected = append(connected, m.Event.ActorID)
				}
			case parley.ActionDisconnected:
				if len(connected) > 0 {
					last = slices.Clone(connected)
				}
				connected = slices.DeleteFunc(connected, func(id int64) bool { return id == m.Event.ActorID })
			case parley.ActionTransferred:
				if visitorFirst {
					since = m.CreatedAt
				}
			case parley.ActionClosed:
				if rating == nil || rating.CreatedAt.IsZero() || !m.CreatedAt.After(rating.CreatedAt) {
					f.rated = slices.Clone(connected)
					if len(f.rated) == 0 {
						f.rated = slices.Clone(last)
					}
				}
			}
		case m.ContactID != 0:
			if !visitorFirst {
				visitorFirst, since = true, m.CreatedAt
			}
		case m.SenderID != 0 && (m.Kind == parley.MsgText || m.Kind == parley.MsgFile):
			if !since.IsZero() {
				f.first = append(f.first, response{by: m.SenderID, ms: m.CreatedAt.Sub(since).Milliseconds()})
				since = time.Time{}
			}
		}
	}
	if rating == nil {
		f.rated = nil
	}
	return f
}

// allDialogs pages through every dialog matching f.
func (s *Service) allDialogs(ctx context.Context, f parley.DialogFilter) ([]*parley.Conversation, error) {
	var all []*parley.Conversation
	f.Limit = 1000
	for {
		page, next, err := s.store.Dialogs(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		f.Cursor = next
	}
}

// median of ms values; 0 for none. An even count takes the lower middle,
// so the figure is always one that happened.
func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// SpecialistDialogs lists the dialogs a specialist connected to in the
// period ("View detail"), each openable with its full record.
func (s *Service) SpecialistDialogs(ctx context.Context, actor *parley.User, projectID, userID int64, period Period) ([]*Dialog, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	period, err := period.resolve(s.now())
	if err != nil {
		return nil, err
	}
	convs, err := s.allDialogs(ctx, parley.DialogFilter{ProjectIDs: []int64{projectID}, UserID: userID, From: period.From, To: period.To})
	if err != nil {
		return nil, err
	}
	return s.dialogs(ctx, s.store, convs)
}
