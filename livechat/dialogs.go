package livechat

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Dialog is a support conversation as consultants see it in the sidebar.
type Dialog struct {
	Conversation *parley.Conversation `json:"conversation"`
	Support      *parley.Support      `json:"support"`
	Contact      *parley.Contact      `json:"contact"`
	Consultants  []Consultant         `json:"consultants"`
	// Waiting: open, nobody connected, and the visitor wrote last (unless
	// that went into an offline case), or it was just transferred, or its
	// last consultant just disconnected. The sidebar shows it first,
	// green, with the repeating sound.
	Waiting     bool            `json:"waiting"`
	LastMessage *parley.Message `json:"last_message,omitempty"`
	Rating      *parley.Rating  `json:"rating,omitempty"`
	// Assignee is the manager in charge, if any.
	Assignee *Consultant `json:"assignee,omitempty"`
	// ReplyWarnAt and ReplyDueAt are when the customer's wait passes the
	// project's reply time limits (warning, limit): the list shows the
	// dialog yellow, then red. Unset when nobody waits or there are none.
	ReplyWarnAt time.Time `json:"reply_warn_at,omitzero"`
	ReplyDueAt  time.Time `json:"reply_due_at,omitzero"`
	// Unread and Draft are the viewer's own: messages after their read
	// pointer (1 when they marked it unread) and their unsent text; for a
	// viewer not connected to the dialog, its unanswered customer messages
	// unless they read it since (parley.DialogView). They are set in
	// answers to the viewer, never in dialog.updated events.
	Unread int64  `json:"unread,omitempty"`
	Draft  string `json:"draft,omitempty"`
	// AttachmentLimits are the largest files its channel carries, by kind.
	AttachmentLimits parley.AttachmentLimits `json:"attachment_limits"`
	// ChannelName is the name administrators gave the connected channel
	// the customer writes through (seed 003: shown beside its icon).
	ChannelName string `json:"channel_name,omitempty"`
	// QueueNote says why an open dialog nobody is in charge of still
	// waits, when the distribution found nobody for its level ("all 4
	// managers at capacity").
	QueueNote string `json:"queue_note,omitempty"`
}

// Consultant is a consultant connected to a dialog.
type Consultant struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Bot  bool   `json:"bot,omitempty"` // a bot account (the inbox's bots filter)
}

func (s *Service) dialogs(ctx context.Context, r parley.Reader, convs []*parley.Conversation) ([]*Dialog, error) {
	out := make([]*Dialog, 0, len(convs))
	if len(convs) == 0 {
		return out, nil
	}
	ids := make([]int64, len(convs))
	contactIDs := make([]int64, len(convs))
	for i, c := range convs {
		ids[i], contactIDs[i] = c.ID, c.Support.ContactID
	}
	members, err := r.MembersByConversation(ctx, ids)
	if err != nil {
		return nil, err
	}
	contacts, err := r.Contacts(ctx, contactIDs)
	if err != nil {
		return nil, err
	}
	last, err := r.LastDialogMessages(ctx, ids)
	if err != nil {
		return nil, err
	}
	ratings, err := r.Ratings(ctx, ids)
	if err != nil {
		return nil, err
	}
	tags, err := r.ContactTags(ctx, contactIDs)
	if err != nil {
		return nil, err
	}
	projects := map[int64]*parley.Project{}
	channels := map[int64]*parley.Channel{}
	var queued []int64 // projects with dialogs waiting for a manager
	for _, c := range convs {
		if c.Support.Status == parley.SupportOpen && c.Support.AssigneeID == 0 {
			queued = append(queued, c.Support.ProjectID)
		}
	}
	slices.Sort(queued)
	notes, err := r.RoutingNotes(ctx, slices.Compact(queued))
	if err != nil {
		return nil, err
	}
	// The consultants' and managers' names, in one query for the page.
	var userIDs []int64
	for _, c := range convs {
		if c.Support.AssigneeID != 0 {
			userIDs = append(userIDs, c.Support.AssigneeID)
		}
		for _, m := range members[c.ID] {
			userIDs = append(userIDs, m.UserID)
		}
	}
	slices.Sort(userIDs)
	userIDs = slices.Compact(userIDs)
	staff := make(map[int64]string, len(userIDs))
	bots := map[int64]bool{}
	for chunk := range slices.Chunk(userIDs, 500) { // the directory's largest page
		users, _, err := r.Users(ctx, parley.UserFilter{IDs: chunk, Limit: len(chunk)})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			staff[u.ID] = u.Name
			bots[u.ID] = u.Bot
		}
	}
	staffName := func(id int64) (string, error) {
		if n, ok := staff[id]; ok {
			return n, nil
		}
		return "", parley.Errorf(parley.ENOTFOUND, "user %d not found", id)
	}
	for _, c := range convs {
		d := &Dialog{Conversation: c, Support: c.Support, Contact: contacts[c.Support.ContactID], Consultants: []Consultant{},
			LastMessage: last[c.ID], Rating: ratings[c.ID]}
		if d.Contact != nil {
			k := *d.Contact // shared by the dialogs of one customer
			k.Tags = tags[k.ID]
			d.Contact = &k
		}
		for _, m := range members[c.ID] {
			name, err := staffName(m.UserID)
			if err != nil {
				return nil, err
			}
			d.Consultants = append(d.Consultants, Consultant{ID: m.UserID, Name: name})
		}
		if id := c.Support.AssigneeID; id != 0 {
			name, err := staffName(id)
			if err != nil {
				return nil, err
			}
			d.Assignee = &Consultant{ID: id, Name: name, Bot: bots[id]}
		}
		p := projects[c.Support.ProjectID]
		if p == nil {
			if p, err = r.ProjectByID(ctx, c.Support.ProjectID); err != nil {
				return nil, err
			}
			projects[p.ID] = p
		}
		d.AttachmentLimits = p.AttachmentLimitsFor(c.Support.Channel, s.msgs.Config().MaxFileSize)
		if id := c.Support.ChannelID; id != 0 {
			ch, ok := channels[id]
			if !ok {
				// A removed channel's dialogs keep their icon, not its name.
				if ch, err = r.ChannelByID(ctx, id); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
					return nil, err
				}
				channels[id] = ch
			}
			if ch != nil {
				d.ChannelName = ch.Name
			}
		}
		if !c.Support.WaitingSince.IsZero() {
			if l := p.ReplyLimits.For(c.Support.Channel); l.Limit > 0 {
				d.ReplyDueAt = c.Support.WaitingSince.Add(l.Limit.Duration())
				if l.Warn > 0 {
					d.ReplyWarnAt = c.Support.WaitingSince.Add(l.Warn.Duration())
				}
			}
		}
		d.Waiting = waiting(c, len(d.Consultants), d.LastMessage)
		if c.Support.Status == parley.SupportOpen && c.Support.AssigneeID == 0 && p.Distribution.Auto() {
			d.QueueNote = notes[p.ID][max(c.Support.Level, parley.Level1)]
		}
		if d.LastMessage != nil && d.LastMessage.Kind == parley.MsgWhisper {
			d.LastMessage = nil // the sidebar preview is the last thing said to the visitor
		}
		out = append(out, d)
	}
	return out, nil
}

// waiting is the rule for a dialog needing an answer: open, nobody
// connected, and the last word is the visitor's, a transfer (which alerts
// level 2 at once, with or without its hand-over note), or the last
// consultant disconnecting (the visitor is still in an open dialog that
// nobody serves: colleagues are alerted at once, not on the visitor's next
// message). A visitor's message filed into an offline case (nobody could
// answer, or outside working hours) does not ring: the case is its
// follow-up, and consultants online out of hours are not called.
func waiting(c *parley.Conversation, connected int, last *parley.Message) bool {
	if c.Support.Status != parley.SupportOpen || connected > 0 || last == nil {
		return false
	}
	if last.ContactID != 0 {
		return last.Seq > c.Support.FiledSeq
	}
	if last.Event == nil {
		return false
	}
	switch last.Event.Action {
	case parley.ActionTransferred, parley.ActionTransferNote, parley.ActionDisconnected:
		return true
	}
	return false
}

// emitDialog tells the project's staff that a dialog changed.
func (s *Service) emitDialog(ctx context.Context, tx parley.Tx, c *parley.Conversation) error {
	ds, err := s.dialogs(ctx, tx, []*parley.Conversation{c})
	if err != nil {
		return err
	}
	tx.Emit(parley.NewEvent(parley.EventDialogUpdated, c.ID, 0, ds[0]))
	return nil
}

// ListQuery selects cases: by project (0 for all the actor serves),
// status, and a page before an id.
type ListQuery struct {
	ProjectID int64
	Status    string
	Before    int64
	Limit     int
}

// DialogQuery selects the dialogs of the inbox list (and live chat's
// sidebar): the filters combine with AND; see parley.DialogFilter.
type DialogQuery struct {
	ProjectID int64 // 0: every project the actor may see
	Assignees []int64
	Bots      bool // only dialogs a bot is in charge of
	Channels  []string
	Status    string
	LastFrom  string
	TagIDs    []int64
	NoTags    bool
	Pinned    bool
	Unread    bool // only those unread for the actor
	// Sort is parley.SortProcessing or parley.SortActivity; empty is the
	// processing order when a project in view has reply time limits.
	Sort   string
	Cursor string
	Limit  int
}

// DialogPage is a page of the list.
type DialogPage struct {
	Dialogs    []*Dialog `json:"dialogs"`
	NextCursor string    `json:"next_cursor,omitempty"`
	// Sort is the order the page is in (the default resolved).
	Sort string `json:"sort"`
}

// Dialogs lists the dialogs the actor may see (see CanView), in the
// query's order and filtered by it.
func (s *Service) Dialogs(ctx context.Context, actor *parley.User, q DialogQuery) (*DialogPage, error) {
	f, err := s.dialogFilter(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	convs, next, err := s.store.Dialogs(ctx, f)
	if err != nil {
		return nil, err
	}
	ds, err := s.dialogs(ctx, s.store, convs)
	if err != nil {
		return nil, err
	}
	if err := s.forViewer(ctx, actor, ds); err != nil {
		return nil, err
	}
	return &DialogPage{Dialogs: ds, NextCursor: next, Sort: f.Sort}, nil
}

// forViewer sets the viewer's own unread count and draft on dialogs.
func (s *Service) forViewer(ctx context.Context, actor *parley.User, ds []*Dialog) error {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.Conversation.ID
	}
	own, err := s.store.MembersOf(ctx, actor.ID, ids)
	if err != nil {
		return err
	}
	views, err := s.store.DialogViews(ctx, actor.ID, ids)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if m := own[d.Conversation.ID]; m != nil {
			d.Unread, d.Draft = m.Unread(d.Conversation.LastSeq), m.Draft
		} else {
			d.Unread = views[d.Conversation.ID].Unread(d.Conversation)
		}
	}
	return nil
}

// maxFilterItems bounds each list of a dialog query (the :100 of the
// routes' assignee, channel and tag parameters).
const maxFilterItems = 100

// dialogFilter checks a list query and turns it into the store's filter
// of what the actor may see.
func (s *Service) dialogFilter(ctx context.Context, actor *parley.User, q DialogQuery) (parley.DialogFilter, error) {
	f := parley.DialogFilter{Status: q.Status, LastFrom: q.LastFrom, TagIDs: q.TagIDs, NoTags: q.NoTags, Pinned: q.Pinned,
		Assignees: q.Assignees, Bots: q.Bots, Channels: q.Channels, Sort: q.Sort, Cursor: q.Cursor, Limit: q.Limit}
	if q.Unread {
		f.UnreadFor = actor.ID
	}
	if q.Status != "" && q.Status != parley.SupportOpen && q.Status != parley.SupportClosed {
		return f, parley.Invalid("status", "status is open or closed")
	}
	if q.LastFrom != "" && q.LastFrom != parley.FromCustomer && q.LastFrom != parley.FromManager {
		return f, parley.Invalid("last_from", "last_from is customer or manager")
	}
	for _, l := range []struct {
		field string
		n     int
	}{{"assignee", len(q.Assignees)}, {"channel", len(q.Channels)}, {"tag", len(q.TagIDs)}} {
		if err := parley.AtMost(l.field, l.n, maxFilterItems, "values"); err != nil {
			return f, err
		}
	}
	if q.NoTags && len(q.TagIDs) > 0 {
		return f, parley.Invalid("tags", "choose tags or \"no tags set\", not both")
	}
	for _, ch := range q.Channels {
		if !slices.Contains(parley.Channels, ch) {
			return f, parley.Invalid("channel", "there is no channel %q", ch)
		}
	}
	for _, id := range q.TagIDs {
		if _, err := s.store.TagByID(ctx, id); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return f, parley.Invalid("tag", "there is no tag %d", id)
			}
			return f, err
		}
	}
	for _, id := range q.Assignees {
		if id == 0 {
			continue // unassigned
		}
		if _, err := s.store.UserByID(ctx, id); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return f, parley.Invalid("assignee", "there is no user %d", id)
			}
			return f, err
		}
	}
	projects, err := s.visibleProjects(ctx, actor)
	if err != nil {
		return f, err
	}
	if q.ProjectID != 0 {
		if !slices.Contains(projects, q.ProjectID) {
			return f, parley.Errorf(parley.ENOTFOUND, "project not found")
		}
		projects = []int64{q.ProjectID}
	}
	f.ProjectIDs = projects
	if canManage(ctx, s.store, actor) != nil {
		f.Viewer = actor.ID // a manager a dialog was reassigned away from loses it
	}
	limits, err := s.haveReplyLimits(ctx, projects)
	if err != nil {
		return f, err
	}
	switch q.Sort {
	case "":
		f.Sort = parley.SortActivity
		if limits {
			f.Sort = parley.SortProcessing
		}
	case parley.SortActivity:
	case parley.SortProcessing:
		if !limits {
			return f, parley.Invalid("sort", "the processing order needs reply time limits: set them in the project's settings")
		}
	default:
		return f, parley.Invalid("sort", "sort is processing or activity")
	}
	return f, nil
}

// haveReplyLimits reports whether any of the projects has reply time
// limits, for itself or for a channel.
func (s *Service) haveReplyLimits(ctx context.Context, projects []int64) (bool, error) {
	for _, id := range projects {
		p, err := s.store.ProjectByID(ctx, id)
		if err != nil {
			return false, err
		}
		if p.ReplyLimits.Limit > 0 {
			return true, nil
		}
		for _, l := range p.ReplyLimits.Channels {
			if l.Limit > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// visibleProjects are the projects whose dialogs the actor may read.
func (s *Service) visibleProjects(ctx context.Context, actor *parley.User) ([]int64, error) {
	ids := []int64{}
	if canManage(ctx, s.store, actor) == nil {
		all, err := s.store.Projects(ctx)
		for _, p := range all {
			ids = append(ids, p.ID)
		}
		return ids, err
	}
	roles, err := s.store.StaffRoles(ctx, actor.ID)
	for _, r := range roles {
		ids = append(ids, r.ProjectID)
	}
	return ids, err
}

// dialogFor loads a dialog the actor may act on.
// lockedDialog is dialogFor in a writing transaction: the dialog is locked
// first and read as it is then, so that a change decided on it (taking
// charge, reassigning) cannot overwrite one committed meanwhile by another
// transaction (PostgreSQL reads without locking otherwise).
func (s *Service) lockedDialog(ctx context.Context, tx parley.Tx, actor *parley.User, id int64) (*parley.Conversation, error) {
	cs, err := tx.LockConversations(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	return s.visibleDialog(ctx, cs[id], actor)
}

func (s *Service) dialogFor(ctx context.Context, r parley.Reader, actor *parley.User, id int64) (*parley.Conversation, error) {
	c, err := r.ConversationByID(ctx, id)
	if err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "dialog not found")
	}
	return s.visibleDialog(ctx, c, actor)
}

// visibleDialog returns c if it is a dialog actor may see; otherwise it is
// not found, as a dialog that does not exist.
func (s *Service) visibleDialog(ctx context.Context, c *parley.Conversation, actor *parley.User) (*parley.Conversation, error) {
	if c == nil || c.Support == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "dialog not found")
	}
	ok, err := s.CanView(ctx, c, actor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "dialog not found")
	}
	return c, nil
}

// Dialog returns one dialog.
func (s *Service) Dialog(ctx context.Context, actor *parley.User, id int64) (*Dialog, error) {
	c, err := s.dialogFor(ctx, s.store, actor, id)
	if err != nil {
		return nil, err
	}
	ds, err := s.dialogs(ctx, s.store, []*parley.Conversation{c})
	if err != nil {
		return nil, err
	}
	return ds[0], s.forViewer(ctx, actor, ds)
}

// change runs fn on a dialog the actor serves and announces the result to
// the staff and the visitor.
func (s *Service) change(ctx context.Context, actor *parley.User, id int64, fn func(tx parley.Tx, c *parley.Conversation, level int) error) (*Dialog, error) {
	var c *parley.Conversation
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		if c, err = s.lockedDialog(ctx, tx, actor, id); err != nil {
			return err
		}
		level, err := staffLevel(ctx, tx, c.Support.ProjectID, actor.ID)
		if err != nil {
			return err
		}
		if level == 0 {
			return parley.Errorf(parley.EFORBIDDEN, "only the project's specialists can serve its dialogs")
		}
		if err := fn(tx, c, level); err != nil {
			return err
		}
		if err := s.emitVisitorConversation(ctx, tx, c); err != nil {
			return err
		}
		return s.emitDialog(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Dialog(ctx, actor, id)
}

// Connect joins the actor to a dialog (seed 002: clicking it). Several
// consultants may connect to one dialog. A level-2 dialog is served by
// level-2 specialists (the chosen one, if any) and by level 1 colleagues
// who take it back.
func (s *Service) Connect(ctx context.Context, actor *parley.User, id int64) (*Dialog, error) {
	return s.change(ctx, actor, id, func(tx parley.Tx, c *parley.Conversation, level int) error {
		// A closed dialog can be connected to: writing in it reopens it.
		if _, err := tx.Member(ctx, c.ID, actor.ID); err == nil {
			return nil // already connected
		}
		over := ""
		if c.Support.AssigneeID == 0 {
			// The first to connect takes charge of the dialog, within
			// their capacity (an administrator may go past it).
			if c.Support.Status == parley.SupportOpen {
				p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
				if err != nil {
					return err
				}
				if over, err = s.claim(ctx, tx, p, c, actor.ID, canManage(ctx, tx, actor) == nil); err != nil {
					return err
				}
				c.Support.AssignedAt, c.Support.QueuedAt, c.Support.QueueDue = s.now(), time.Time{}, time.Time{}
			}
			c.Support.AssigneeID = actor.ID
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: actor.ID, ReadSeq: c.LastSeq, DeliveredSeq: c.LastSeq,
			JoinedAt: s.now()}); err != nil {
			return err
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionConnected, ActorID: actor.ID}); err != nil {
			return err
		}
		return s.overCapacity(ctx, tx, c, actor.ID, actor.ID, over)
	})
}

// Disconnect leaves a dialog (the cross in the sidebar); when the last
// consultant leaves an open dialog it waits again (see waiting), so
// colleagues are alerted at once.
func (s *Service) Disconnect(ctx context.Context, actor *parley.User, id int64) (*Dialog, error) {
	return s.change(ctx, actor, id, func(tx parley.Tx, c *parley.Conversation, level int) error {
		if _, err := tx.Member(ctx, c.ID, actor.ID); err != nil {
			return parley.Errorf(parley.ECONFLICT, "you are not connected to this dialog")
		}
		return s.leave(ctx, tx, c, actor.ID)
	})
}

func (s *Service) leave(ctx context.Context, tx parley.Tx, c *parley.Conversation, userID int64) error {
	if err := tx.RemoveMember(ctx, c.ID, userID); err != nil {
		return err
	}
	tx.Emit(parley.NewEvent(parley.EventConversationRemoved, c.ID, userID, map[string]int64{"conversation_id": c.ID}))
	return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionDisconnected, ActorID: userID})
}

// TransferInput names a level-2 specialist, or none for the level-2 queue,
// and an optional hand-over note for them.
type TransferInput struct {
	UserID int64  `json:"user_id"`
	Note   string `json:"note,omitempty"`
}

// Transfer moves a dialog to level 2: the transferring consultant is
// disconnected and the level-2 specialists (or the one chosen) are alerted.
// A hand-over note becomes a staff-only system line after the transfer's,
// so it is what the receivers' list shows; the visitor never sees it.
func (s *Service) Transfer(ctx context.Context, actor *parley.User, id int64, in TransferInput) (*Dialog, error) {
	note, err := textField("note", in.Note, maxText, false)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, actor, id, func(tx parley.Tx, c *parley.Conversation, level int) error {
		if c.Support.Status != parley.SupportOpen {
			return parley.Errorf(parley.ECONFLICT, "this dialog is closed")
		}
		if _, err := tx.Member(ctx, c.ID, actor.ID); err != nil {
			return parley.Errorf(parley.ECONFLICT, "connect to the dialog before transferring it")
		}
		ev := parley.SystemEvent{Action: parley.ActionTransferred, ActorID: actor.ID}
		if in.UserID != 0 {
			l, err := staffLevel(ctx, tx, c.Support.ProjectID, in.UserID)
			if err != nil {
				return err
			}
			if l != parley.Level2 {
				return parley.Invalid("user_id", "transfer to a level-2 specialist of this project")
			}
			ev.UserIDs = []int64{in.UserID}
		} else {
			staff, err := tx.ProjectStaff(ctx, c.Support.ProjectID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(staff, func(r parley.StaffRole) bool { return r.Level == parley.Level2 }) {
				return parley.Errorf(parley.ECONFLICT, "this project has no level-2 specialists")
			}
		}
		p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
		if err != nil {
			return err
		}
		// Level 2 takes it from here: the level-1 manager's place is
		// free, and the dialog waits in the level-2 queue (or for the
		// specialist named).
		c.Support.Level, c.Support.TransferTo, c.Support.AssigneeID = parley.Level2, in.UserID, 0
		enqueue(p, c, s.now())
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		// Leave first: the transfer is then the last word, and the dialog
		// waits for level 2 (see waiting).
		if err := s.leave(ctx, tx, c, actor.ID); err != nil {
			return err
		}
		if err := s.systemLine(ctx, tx, c, ev); err != nil || note == "" {
			return err
		}
		ev.Action, ev.Title = parley.ActionTransferNote, note
		return s.systemLine(ctx, tx, c, ev)
	})
}

// Close ends a dialog; the visitor may then rate it. The consultants stay
// members so its history stays in their list until they leave it.
func (s *Service) Close(ctx context.Context, actor *parley.User, id int64) (*Dialog, error) {
	return s.change(ctx, actor, id, func(tx parley.Tx, c *parley.Conversation, level int) error {
		if c.Support.Status != parley.SupportOpen {
			return parley.Errorf(parley.ECONFLICT, "this dialog is already closed")
		}
		c.Support.Status, c.Support.ClosedAt, c.Key = parley.SupportClosed, s.now(), ""
		// A reopened dialog counts from the customer's next message.
		c.Support.WaitingSince, c.Support.Unanswered = time.Time{}, 0
		c.Support.QueuedAt, c.Support.QueueDue, c.Support.ReplyState, c.Support.MissedBy = time.Time{}, time.Time{}, parley.ReplyInTime, nil
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionClosed, ActorID: actor.ID})
	})
}

// Reopen reopens a closed dialog for a message from the customer (by 0)
// or a manager; messaging calls it inside the send, with the dialog
// locked. The dialog becomes its customer's open one again, so it fails
// with ECONFLICT, before writing, when the customer has opened another
// since.
func (s *Service) Reopen(ctx context.Context, tx parley.Tx, c *parley.Conversation, by int64) error {
	key := openKey(c.Support.ContactID)
	if other, err := tx.ConversationByKey(ctx, key); err == nil {
		return parley.Errorf(parley.ECONFLICT, "this customer has a newer open dialog (%d): write there", other.ID)
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	c.Key, c.Support.Status, c.Support.ClosedAt = key, parley.SupportOpen, time.Time{}
	p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
	if err != nil {
		return err
	}
	if by == 0 && p.Distribution.Auto() {
		// The customer is back: the distribution gives the dialog to
		// whoever is free now, like a new one.
		c.Support.AssigneeID = 0
	}
	if c.Support.AssigneeID == 0 {
		enqueue(p, c, s.now())
	}
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionReopened, ActorID: by}); err != nil {
		return err
	}
	if err := s.emitVisitorConversation(ctx, tx, c); err != nil {
		return err
	}
	return s.emitDialog(ctx, tx, c)
}

// systemLine stores a system line in a dialog and announces it to staff
// and, projected, to the visitor.
func (s *Service) systemLine(ctx context.Context, tx parley.Tx, c *parley.Conversation, ev parley.SystemEvent) error {
	_, err := s.line(ctx, tx, c, ev)
	return err
}

// line is systemLine, returning the line.
func (s *Service) line(ctx context.Context, tx parley.Tx, c *parley.Conversation, ev parley.SystemEvent) (*parley.Message, error) {
	m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgEvent, Event: &ev, Status: parley.StatusSent, CreatedAt: s.now()}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	c.LastSeq = m.Seq
	e := parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	return m, s.emitVisitorMessage(ctx, tx, c, m, parley.EventMessageCreated)
}

func (s *Service) emitVisitorMessage(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message, typ string) error {
	p := project(ctx, &names{r: tx}, m)
	if p == nil || c.Support.ContactID == 0 {
		return nil
	}
	e := parley.NewEvent(typ, c.ID, 0, p)
	e.Seq, e.ContactID = m.Seq, c.Support.ContactID
	tx.Emit(e)
	return nil
}

// AfterSend is messaging's hook for every message stored in a dialog: the
// visitor gets their projection; a visitor's message to a dialog nobody
// serves alerts the staff again, and while nobody can answer at all (no
// level-1 specialist online, or outside working hours: see online) it
// becomes a case instead, and alerts nobody (seed 004).
func (s *Service) AfterSend(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	if err := s.emitVisitorMessage(ctx, tx, c, m, parley.EventMessageCreated); err != nil {
		return err
	}
	if err := noteActivity(ctx, tx, c, m); err != nil {
		return err
	}
	if carried(c, m) && s.channels != nil {
		if err := s.channels.Record(ctx, tx, c, m); err != nil {
			return err
		}
	}
	if m.ContactID == 0 {
		return nil
	}
	ms, err := tx.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		return nil
	}
	p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
	if err != nil {
		return err
	}
	online, err := s.canAnswer(ctx, p, c)
	if err != nil {
		return err
	}
	if !online {
		if err := s.offlineCase(ctx, tx, p, c, m); err != nil {
			return err
		}
	}
	return s.emitDialog(ctx, tx, c)
}

// noteActivity keeps what the inbox list sorts and filters by: the last
// communication and whose it was, and since when the customer waits for
// an answer (their first message after the last answer). System lines and
// whispers are not communication.
func noteActivity(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	if m.Kind != parley.MsgText && m.Kind != parley.MsgFile {
		return nil
	}
	sup := c.Support
	sup.ActivityAt = m.CreatedAt
	if m.ContactID != 0 {
		sup.LastFrom = parley.FromCustomer
		if sup.WaitingSince.IsZero() {
			// A new wait: the reply limits count from here.
			sup.WaitingSince, sup.ReplyState, sup.MissedBy = m.CreatedAt, parley.ReplyInTime, nil
		}
		sup.Unanswered++
	} else {
		sup.LastFrom, sup.WaitingSince, sup.Unanswered = parley.FromManager, time.Time{}, 0
		sup.ReplyState, sup.MissedBy = parley.ReplyInTime, nil
	}
	return tx.UpdateConversation(ctx, c)
}

// offlineCase files a visitor's message as a case when nobody can answer:
// the first becomes the case, later ones its comments, and the visitor is
// told once, with the project's offline text.
func (s *Service) offlineCase(ctx context.Context, tx parley.Tx, p *parley.Project, c *parley.Conversation, m *parley.Message) error {
	text := m.Text
	for _, f := range m.Files {
		text += "\n(file: " + f.Name + ")"
	}
	c.Support.FiledSeq = m.Seq // see waiting
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	open, err := tx.OpenCaseOf(ctx, c.ID, parley.CaseFromOffline)
	if err == nil {
		return tx.AddCaseComment(ctx, &parley.CaseComment{CaseID: open.ID, ContactID: m.ContactID, Text: text})
	}
	if parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	k, err := s.newCase(ctx, tx, p, c, parley.CaseFromOffline, 0, "", text)
	if err != nil {
		return err
	}
	return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionOffline,
		Title: strings.TrimSpace(p.Messages.Offline + " (case #" + strconv.FormatInt(k.ID, 10) + ")")})
}

// AfterUpdate passes an edit or deletion on to the visitor.
func (s *Service) AfterUpdate(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	return s.emitVisitorMessage(ctx, tx, c, m, parley.EventMessageUpdated)
}

// AfterRead shows the visitor how far consultants have read.
func (s *Service) AfterRead(ctx context.Context, tx parley.Tx, c *parley.Conversation, readSeq int64) error {
	return s.emitVisitorConversation(ctx, tx, c)
}

// TypingEvents: the project's staff who are not connected (messaging tells
// those who are) and, unless it is a whisper, the visitor hear that a
// consultant is typing: staff-only drafting never reaches the visitor.
func (s *Service) TypingEvents(ctx context.Context, c *parley.Conversation, actor *parley.User, whisper bool) ([]parley.Event, error) {
	ms, err := s.store.Members(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	all, err := s.projectStaff(ctx, c.Support.ProjectID)
	if err != nil {
		return nil, err
	}
	staff := []int64{}
	for _, st := range all {
		if st.UserID != actor.ID && !slices.ContainsFunc(ms, func(m parley.Member) bool { return m.UserID == st.UserID }) {
			staff = append(staff, st.UserID)
		}
	}
	e := parley.NewEvent(parley.EventTyping, c.ID, 0, map[string]any{"conversation_id": c.ID, "user_id": actor.ID})
	e.Audience = staff
	if whisper {
		return []parley.Event{e}, nil
	}
	v := parley.NewEvent(parley.EventTyping, c.ID, 0, map[string]any{"conversation_id": c.ID, "name": firstName(actor.Name)})
	v.ContactID, v.Audience = c.Support.ContactID, []int64{}
	return []parley.Event{e, v}, nil
}
