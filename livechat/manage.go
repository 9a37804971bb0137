package livechat

import (
	"context"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
)

// The inbox's dialog actions beyond live chat's (seed 003): the viewer's
// own read state, the attachments, unpinning the customer and deleting
// dialogs.

// AttachmentLimits is messaging's hook: the limits of the dialog's
// channel in its project.
func (s *Service) AttachmentLimits(ctx context.Context, r parley.Reader, c *parley.Conversation) (parley.AttachmentLimits, error) {
	p, err := r.ProjectByID(ctx, c.Support.ProjectID)
	if err != nil {
		return parley.AttachmentLimits{}, err
	}
	return p.AttachmentLimitsFor(c.Support.Channel, s.msgs.Config().MaxFileSize), nil
}

// MarkDialog sets the actor's own read state of a dialog: read up to its
// last message, or marked unread (seed 003's "Mark as unread", for that
// user only). A consultant's is their member row's, as in any
// conversation; anyone else who sees the dialog keeps a DialogView.
func (s *Service) MarkDialog(ctx context.Context, actor *parley.User, id int64, unread bool) error {
	c, err := s.dialogFor(ctx, s.store, actor, id)
	if err != nil {
		return err
	}
	if _, err := s.store.Member(ctx, c.ID, actor.ID); err == nil {
		if unread {
			return s.msgs.MarkUnread(ctx, actor, c.ID)
		}
		return s.msgs.MarkRead(ctx, actor, c.ID, 0)
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		c, err := s.dialogFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		views, err := tx.DialogViews(ctx, actor.ID, []int64{c.ID})
		if err != nil {
			return err
		}
		v := views[c.ID]
		if v == nil {
			v = &parley.DialogView{ConversationID: c.ID, UserID: actor.ID}
		}
		if unread {
			v.MarkedUnread = true
		} else {
			v.ReadSeq, v.MarkedUnread = c.LastSeq, false
		}
		if err := tx.SetDialogView(ctx, v); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventReadState, c.ID, actor.ID, messaging.ReadState{ConversationID: c.ID,
			ReadSeq: v.ReadSeq, MarkedUnread: v.MarkedUnread, Unread: v.Unread(c)}))
		return nil
	})
	return err
}

// UnreadDialogs counts the dialogs unread for the actor among those they
// may see: the inbox header's number.
func (s *Service) UnreadDialogs(ctx context.Context, actor *parley.User) (int64, error) {
	f, err := s.dialogFilter(ctx, actor, DialogQuery{Sort: parley.SortActivity})
	if err != nil {
		return 0, err
	}
	f.UnreadFor = actor.ID
	return s.store.CountDialogs(ctx, f)
}

// FilesQuery selects a page of a dialog's attachments.
type FilesQuery struct {
	Kind   string // parley.AttachImage or "file" (every other kind)
	Before int64  // a file ID: the page before it
	Limit  int
}

// DialogFiles lists the files sent in a dialog, newest first: its images
// or its other files (seed 003's "Show attachments" tabs).
func (s *Service) DialogFiles(ctx context.Context, actor *parley.User, id int64, q FilesQuery) ([]parley.File, error) {
	switch q.Kind {
	case parley.AttachImage, "file":
	case "":
		q.Kind = parley.AttachImage
	default:
		return nil, parley.Invalid("kind", "kind is image or file")
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 100
	}
	c, err := s.dialogFor(ctx, s.store, actor, id)
	if err != nil {
		return nil, err
	}
	fs, err := s.store.DialogFiles(ctx, c.ID, q.Kind, q.Before, q.Limit)
	if fs == nil {
		fs = []parley.File{}
	}
	return fs, err
}

// Unpin unlinks a dialog from its customer (seed 003's "Unpin customer"):
// the dialog keeps its history in the list, but leaves the customer's card
// and analytics and waits for nobody; the customer stays, and their next
// message goes to their last dialog still linked to them, or a new one.
// Nothing can be sent from the unpinned dialog any more. Managers and the
// manager in charge may.
func (s *Service) Unpin(ctx context.Context, actor *parley.User, id int64) (*Dialog, error) {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		c, err := s.dialogFor(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if canManage(ctx, tx, actor) != nil && c.Support.AssigneeID != actor.ID {
			return parley.Errorf(parley.EFORBIDDEN, "only an administrator or the manager in charge can unpin the customer")
		}
		if c.Support.ContactID == 0 {
			return parley.Errorf(parley.ECONFLICT, "this dialog is not linked to a customer")
		}
		// Tell the customer's widget first, while the link still exists.
		e := parley.NewEvent(parley.EventConversationRemoved, c.ID, 0, map[string]int64{"conversation_id": c.ID})
		e.ContactID = c.Support.ContactID
		tx.Emit(e)
		if err := tx.UnpinDialog(ctx, c.ID); err != nil {
			return err
		}
		// Nobody can answer a customer who is no longer there: the
		// dialog waits for no one and counts nothing unread.
		c.Support.ContactID, c.Key = 0, ""
		c.Support.WaitingSince, c.Support.Unanswered = time.Time{}, 0
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionUnpinned, ActorID: actor.ID}); err != nil {
			return err
		}
		return s.emitDialog(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Dialog(ctx, actor, id)
}

// maxDelete bounds the dialogs one request deletes.
const maxDelete = 1000

// DeleteDialogs deletes dialogs for good with their history and files
// (seed 003): only users whose group has the "dialogs.delete" right may.
// Every id must be a dialog the actor sees, or nothing is deleted. Cases
// made from the dialogs and the customers stay; the metrics, computed
// from stored dialogs, no longer count them (docs/inbox.md).
func (s *Service) DeleteDialogs(ctx context.Context, actor *parley.User, ids []int64) (int, error) {
	ok, err := parley.HasRight(ctx, s.store, actor, parley.RightDialogsDelete)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, parley.Errorf(parley.EFORBIDDEN, "deleting dialogs needs the \"dialogs.delete\" right")
	}
	if len(ids) == 0 {
		return 0, parley.Invalid("ids", "choose the dialogs to delete")
	}
	if len(ids) > maxDelete {
		return 0, parley.Invalid("ids", "at most %d dialogs at a time", maxDelete)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var files []parley.File
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		for _, id := range ids {
			if _, err := s.dialogFor(ctx, tx, actor, id); err != nil {
				return parley.Errorf(parley.ENOTFOUND, "dialog %d not found", id)
			}
		}
		var err error
		files, err = s.deleteDialogsIn(ctx, tx, ids)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.DropBlobs(ctx, files)
	s.log.Info("dialogs deleted", "by", actor.ID, "ids", ids, "files", len(files))
	return len(ids), nil
}
