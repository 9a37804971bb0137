package livechat

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/parley-chat/parley"
)

// The support inbox (seed 003) on live chat's dialogs: tags on customers,
// quick replies and reassignment.

var colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// TagInput creates or changes a tag.
type TagInput struct {
	Name  string `json:"name"`
	Color string `json:"color"` // "#rrggbb"
}

func (in *TagInput) check() error {
	var err error
	if in.Name, err = textField("name", in.Name, 50, true); err != nil {
		return err
	}
	in.Color = strings.ToLower(strings.TrimSpace(in.Color))
	if !colorRe.MatchString(in.Color) {
		return parley.Invalid("color", "a colour is written #rrggbb, e.g. #3b82f6")
	}
	return nil
}

// Tags lists the tags, each with the number of dialogs the list's other
// filters select whose customer has it (pinned, with Pinned), most used
// first. The query's own tag conditions and cursor are ignored.
func (s *Service) Tags(ctx context.Context, actor *parley.User, q DialogQuery) ([]*parley.Tag, error) {
	q.TagIDs, q.NoTags, q.Cursor = nil, false, ""
	f, err := s.dialogFilter(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	tags, err := s.store.Tags(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.TagCounts(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		t.Dialogs = counts[t.ID]
	}
	slices.SortStableFunc(tags, func(a, b *parley.Tag) int { return int(b.Dialogs - a.Dialogs) })
	return tags, nil
}

// CreateTag adds a tag (the chat settings right).
func (s *Service) CreateTag(ctx context.Context, actor *parley.User, in TagInput) (*parley.Tag, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	t := &parley.Tag{Name: in.Name, Color: in.Color}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if err := tx.CreateTag(ctx, t); err != nil {
			return tagConflict(err)
		}
		tx.Emit(parley.NewEvent(parley.EventTagUpdated, 0, 0, t))
		return nil
	})
	return t, err
}

// UpdateTag renames or recolours a tag (the chat settings right).
func (s *Service) UpdateTag(ctx context.Context, actor *parley.User, id int64, in TagInput) (*parley.Tag, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	var t *parley.Tag
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if t, err = tx.TagByID(ctx, id); err != nil {
			return err
		}
		t.Name, t.Color = in.Name, in.Color
		if err := tx.UpdateTag(ctx, t); err != nil {
			return tagConflict(err)
		}
		tx.Emit(parley.NewEvent(parley.EventTagUpdated, 0, 0, t))
		return nil
	})
	return t, err
}

// DeleteTag removes a tag from every customer and deletes it (the chat
// settings right).
func (s *Service) DeleteTag(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if err := tx.DeleteTag(ctx, id); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventTagDeleted, 0, 0, map[string]int64{"id": id}))
		return nil
	})
	return err
}

func tagConflict(err error) error {
	if parley.ErrorCode(err) == parley.ECONFLICT {
		return parley.Errorf(parley.ECONFLICT, "a tag with this name already exists")
	}
	return err
}

// ContactTagInput puts a tag on a customer, pinned or not.
type ContactTagInput struct {
	Pinned bool `json:"pinned"`
}

// TagContact puts a tag on a customer (or pins or unpins it there): the
// staff of the customer's project may.
func (s *Service) TagContact(ctx context.Context, actor *parley.User, contactID, tagID int64, in ContactTagInput) (*parley.Contact, error) {
	return s.changeContact(ctx, actor, contactID, func(tx parley.Tx, k *parley.Contact) error {
		if _, err := tx.TagByID(ctx, tagID); err != nil {
			return err
		}
		return tx.SetContactTag(ctx, k.ID, tagID, in.Pinned)
	})
}

// UntagContact takes a tag off a customer.
func (s *Service) UntagContact(ctx context.Context, actor *parley.User, contactID, tagID int64) (*parley.Contact, error) {
	return s.changeContact(ctx, actor, contactID, func(tx parley.Tx, k *parley.Contact) error {
		return tx.RemoveContactTag(ctx, k.ID, tagID)
	})
}

// changeContact runs fn on a customer of a project the actor serves (or
// any, for managers), then announces the customer's dialogs again so that
// every list shows the change.
func (s *Service) changeContact(ctx context.Context, actor *parley.User, contactID int64,
	fn func(tx parley.Tx, k *parley.Contact) error) (*parley.Contact, error) {
	var k *parley.Contact
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := tx.LockContacts(ctx, contactID); err != nil {
			return err
		}
		var err error
		if k, err = s.contactFor(ctx, tx, actor, contactID); err != nil {
			return err
		}
		if err := fn(tx, k); err != nil {
			return err
		}
		tags, err := tx.ContactTags(ctx, []int64{k.ID})
		if err != nil {
			return err
		}
		k.Tags = tags[k.ID]
		convs, _, err := tx.Dialogs(ctx, parley.DialogFilter{ContactID: k.ID, Limit: 1000})
		if err != nil {
			return err
		}
		for _, c := range convs {
			if err := s.emitDialog(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	return k, err
}

// Block blocks a customer, or unblocks them (seed 003): while blocked,
// nothing can be sent to them or received from them. The staff of the
// customer's project may, and managers. The customer's newest dialog
// records it in its ribbon.
func (s *Service) Block(ctx context.Context, actor *parley.User, contactID int64, blocked bool) (*parley.Contact, error) {
	return s.changeContact(ctx, actor, contactID, func(tx parley.Tx, k *parley.Contact) error {
		if k.Blocked == blocked {
			return nil
		}
		// The customer's dialogs are locked after the contact (the lock
		// order), so that no send into them overlaps the change.
		convs, _, err := tx.Dialogs(ctx, parley.DialogFilter{ContactID: k.ID, Limit: 1000})
		if err != nil {
			return err
		}
		ids := make([]int64, len(convs))
		for i, c := range convs {
			ids[i] = c.ID
		}
		locked, err := tx.LockConversations(ctx, ids)
		if err != nil {
			return err
		}
		k.Blocked = blocked
		if err := tx.UpdateContact(ctx, k); err != nil {
			return err
		}
		last, err := tx.LastDialog(ctx, k.ID)
		if err != nil {
			return err
		}
		action := parley.ActionBlocked
		if !blocked {
			action = parley.ActionUnblocked
		}
		return s.systemLine(ctx, tx, locked[last.ID], parley.SystemEvent{Action: action, ActorID: actor.ID})
	})
}

// QuickReplyInput creates or changes one of the actor's quick replies.
type QuickReplyInput struct {
	Shortcut string `json:"shortcut"`
	Text     string `json:"text"`
}

func (in *QuickReplyInput) check() error {
	var err error
	if in.Shortcut, err = textField("shortcut", strings.TrimPrefix(strings.TrimSpace(in.Shortcut), "/"), 32, true); err != nil {
		return err
	}
	if strings.ContainsFunc(in.Shortcut, unicode.IsSpace) {
		return parley.Invalid("shortcut", "a shortcut is one word, without spaces")
	}
	in.Text, err = textField("text", in.Text, maxText, true)
	return err
}

// QuickReplies lists the actor's own quick replies, then the shortcuts of
// the projects they serve (every project's, for managers).
func (s *Service) QuickReplies(ctx context.Context, actor *parley.User) ([]*parley.QuickReply, error) {
	out, err := s.store.QuickReplies(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	projects, err := s.visibleProjects(ctx, actor)
	if err != nil {
		return nil, err
	}
	for _, id := range projects {
		p, err := s.store.ProjectByID(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, sc := range p.Messages.Shortcuts {
			out = append(out, &parley.QuickReply{ProjectID: p.ID, Shortcut: sc.Name, Text: sc.Text})
		}
	}
	return out, nil
}

// CreateQuickReply saves one of the actor's own quick replies.
func (s *Service) CreateQuickReply(ctx context.Context, actor *parley.User, in QuickReplyInput) (*parley.QuickReply, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	x := &parley.QuickReply{OwnerID: actor.ID, Shortcut: in.Shortcut, Text: in.Text}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error { return tx.CreateQuickReply(ctx, x) })
	return x, err
}

// UpdateQuickReply changes one of the actor's quick replies. Someone
// else's does not exist for them.
func (s *Service) UpdateQuickReply(ctx context.Context, actor *parley.User, id int64, in QuickReplyInput) (*parley.QuickReply, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	var x *parley.QuickReply
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		if x, err = ownQuickReply(ctx, tx, actor, id); err != nil {
			return err
		}
		x.Shortcut, x.Text = in.Shortcut, in.Text
		return tx.UpdateQuickReply(ctx, x)
	})
	return x, err
}

// DeleteQuickReply deletes one of the actor's quick replies.
func (s *Service) DeleteQuickReply(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if _, err := ownQuickReply(ctx, tx, actor, id); err != nil {
			return err
		}
		return tx.DeleteQuickReply(ctx, id)
	})
	return err
}

func ownQuickReply(ctx context.Context, tx parley.Tx, actor *parley.User, id int64) (*parley.QuickReply, error) {
	x, err := tx.QuickReplyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if x.OwnerID != actor.ID {
		return nil, parley.Errorf(parley.ENOTFOUND, "quick reply not found")
	}
	return x, nil
}

// ReassignInput names the manager who takes charge of a dialog.
type ReassignInput struct {
	UserID int64 `json:"user_id"`
}

// Reassign hands a dialog to another of its project's specialists (seed
// 003): only a manager (the chat settings right) or the manager in charge
// may. It works on closed dialogs without reopening them. The new manager
// is connected to the dialog; the previous one loses it: it leaves their
// list, they can no longer read or write it (unless a manager), and are
// disconnected.
func (s *Service) Reassign(ctx context.Context, actor *parley.User, id int64, in ReassignInput) (*Dialog, error) {
	var c *parley.Conversation
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		if c, err = s.lockedDialog(ctx, tx, actor, id); err != nil {
			return err
		}
		prev := c.Support.AssigneeID
		if canManage(ctx, tx, actor) != nil && prev != actor.ID {
			return parley.Errorf(parley.EFORBIDDEN, "only an administrator or the manager in charge can reassign a dialog")
		}
		if in.UserID == prev {
			return parley.Errorf(parley.ECONFLICT, "this manager is already in charge of the dialog")
		}
		u, err := tx.UserByID(ctx, in.UserID)
		if err != nil || !u.Active {
			return parley.Invalid("user_id", "choose one of the project's specialists")
		}
		level, err := staffLevel(ctx, tx, c.Support.ProjectID, in.UserID)
		if err != nil {
			return err
		}
		if level == 0 {
			return parley.Invalid("user_id", "choose one of the project's specialists")
		}
		over := ""
		if c.Support.Status == parley.SupportOpen {
			p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
			if err != nil {
				return err
			}
			if over, err = s.claim(ctx, tx, p, c, in.UserID, canManage(ctx, tx, actor) == nil); err != nil {
				return err
			}
			c.Support.AssignedAt, c.Support.QueuedAt, c.Support.QueueDue = s.now(), time.Time{}, time.Time{}
		}
		c.Support.AssigneeID = in.UserID
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		if err := s.handOver(ctx, tx, c, prev, in.UserID); err != nil {
			return err
		}
		ids := []int64{in.UserID}
		if prev != 0 {
			ids = append(ids, prev)
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionReassigned, ActorID: actor.ID, UserIDs: ids}); err != nil {
			return err
		}
		if err := s.overCapacity(ctx, tx, c, actor.ID, in.UserID, over); err != nil {
			return err
		}
		return s.emitDialog(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	// The dialog as it now is, even when the actor just handed it away.
	ds, err := s.dialogs(ctx, s.store, []*parley.Conversation{c})
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// CustomerCard is the block beside a dialog (seed 003): the customer with
// their tags, their source (page, referrer, UTM, pulled in when the first
// dialog started), their other dialogs and their cases.
type CustomerCard struct {
	Contact *parley.Contact `json:"contact"`
	// Dialogs are the customer's dialogs the viewer may see, newest
	// activity first.
	Dialogs []*Dialog      `json:"dialogs"`
	Cases   []*parley.Case `json:"cases"`
}

// Customer returns a customer's card: the staff of their project, and
// managers, may read it.
func (s *Service) Customer(ctx context.Context, actor *parley.User, contactID int64) (*CustomerCard, error) {
	k, err := s.contactFor(ctx, s.store, actor, contactID)
	if err != nil {
		return nil, err
	}
	tags, err := s.store.ContactTags(ctx, []int64{k.ID})
	if err != nil {
		return nil, err
	}
	k.Tags = tags[k.ID]
	f := parley.DialogFilter{ProjectIDs: []int64{k.ProjectID}, ContactID: k.ID, Limit: 100}
	if canManage(ctx, s.store, actor) != nil {
		f.Viewer = actor.ID
	}
	convs, _, err := s.store.Dialogs(ctx, f)
	if err != nil {
		return nil, err
	}
	ds, err := s.dialogs(ctx, s.store, convs)
	if err != nil {
		return nil, err
	}
	cases, err := s.store.Cases(ctx, parley.CaseFilter{ProjectIDs: []int64{k.ProjectID}, ContactID: k.ID, Limit: 100,
		Viewer: s.caseViewer(ctx, actor)})
	if err != nil {
		return nil, err
	}
	if cases == nil {
		cases = []*parley.Case{}
	}
	return &CustomerCard{Contact: k, Dialogs: ds, Cases: cases}, nil
}

// contactFor loads a customer the actor may see: one of a project they
// serve, or any for managers. Others do not exist for them.
func (s *Service) contactFor(ctx context.Context, r parley.Reader, actor *parley.User, contactID int64) (*parley.Contact, error) {
	k, err := r.ContactByID(ctx, contactID)
	if err != nil {
		return nil, err
	}
	if canManage(ctx, r, actor) != nil {
		level, err := staffLevel(ctx, r, k.ProjectID, actor.ID)
		if err != nil {
			return nil, err
		}
		if level == 0 {
			return nil, parley.Errorf(parley.ENOTFOUND, "contact not found")
		}
	}
	return k, nil
}

// ContactPatch changes a customer's card; absent fields stay as they are.
// Attributes, when present, replace the custom attributes.
type ContactPatch struct {
	Name       *string            `json:"name"`
	Email      *string            `json:"email"`
	Phone      *string            `json:"phone"`
	Attributes *map[string]string `json:"attributes" max:"50"`
}

func (p *ContactPatch) apply(k *parley.Contact) error {
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
		max  int
	}{{"name", p.Name, &k.Name, 100}, {"email", p.Email, &k.Email, 200}, {"phone", p.Phone, &k.Phone, 50}} {
		if f.v == nil {
			continue
		}
		v, err := textField(f.name, *f.v, f.max, false)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	if p.Email != nil && k.Email != "" && !strings.Contains(k.Email, "@") {
		return parley.Invalid("email", "the e-mail address is not valid")
	}
	if p.Attributes != nil {
		attrs := *p.Attributes
		if len(attrs) > 50 {
			return parley.Invalid("attributes", "at most 50 attributes")
		}
		clean := make(map[string]string, len(attrs))
		for name, v := range attrs {
			name, err := textField("attributes", name, 50, true)
			if err != nil {
				return err
			}
			if clean[name], err = textField("attributes."+name, v, 500, false); err != nil {
				return err
			}
		}
		k.Attributes = clean
	}
	return nil
}

// UpdateCustomer changes a customer's card (the staff of their project,
// and managers).
func (s *Service) UpdateCustomer(ctx context.Context, actor *parley.User, contactID int64, in ContactPatch) (*parley.Contact, error) {
	return s.changeContact(ctx, actor, contactID, func(tx parley.Tx, k *parley.Contact) error {
		if err := in.apply(k); err != nil {
			return err
		}
		return tx.UpdateContact(ctx, k)
	})
}
