package tasks

import (
	"context"
	"strings"

	"github.com/parley-chat/parley"
)

// MoveInput says where a message goes ("Move to task", seed 001): to a
// task (an existing one the actor sees, or a new one made from Task), or
// "to table": the history of a case or of a customer card.
type MoveInput struct {
	Target   string `json:"target"` // task, case, contact
	TargetID int64  `json:"target_id,omitempty"`
	// Task creates the task to move the message into (target task, no
	// target_id); its chat is the message's.
	Task *Input `json:"task,omitempty"`
}

// Moved is what a move made.
type Moved struct {
	Link    *parley.MessageLink `json:"link"`
	Comment *parley.CaseComment `json:"comment,omitempty"` // in a task or a case
	Note    *parley.ContactNote `json:"note,omitempty"`    // in a customer card
	Task    *parley.Case        `json:"task,omitempty"`    // the task it went to
}

// Move copies a message the actor can read into a task, a case or a
// customer card as a comment that links back to it, and marks the message
// with a link (the message stays where it is). Moving a message to the
// same record twice is a conflict.
func (s *Service) Move(ctx context.Context, actor *parley.User, messageID int64, in MoveInput) (*Moved, error) {
	switch in.Target {
	case parley.LinkTask:
		if (in.TargetID == 0) == (in.Task == nil) {
			return nil, parley.Invalid("target_id", "give either a task's id or a new task")
		}
	case parley.LinkCase, parley.LinkContact:
		if in.TargetID == 0 || in.Task != nil {
			return nil, parley.Invalid("target_id", "give the id of the %s", in.Target)
		}
	default:
		return nil, parley.Invalid("target", "target is task, case or contact")
	}
	out := &Moved{}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		m, err := tx.MessageByID(ctx, messageID)
		if err != nil {
			return err
		}
		if _, err := s.readable(ctx, tx, actor, m.ConversationID); err != nil {
			return parley.Errorf(parley.ENOTFOUND, "message not found")
		}
		body, err := messageText(m)
		if err != nil {
			return err
		}
		link := &parley.MessageLink{MessageID: m.ID, ConversationID: m.ConversationID, Target: in.Target,
			TargetID: in.TargetID, UserID: actor.ID}
		comment := func(caseID int64) error {
			out.Comment = &parley.CaseComment{CaseID: caseID, AuthorID: actor.ID, Text: body, MessageID: m.ID,
				ConversationID: m.ConversationID}
			return tx.AddCaseComment(ctx, out.Comment)
		}
		switch in.Target {
		case parley.LinkTask:
			var k *parley.Case
			if in.Task != nil {
				t := *in.Task
				t.CaseID, t.ConversationID = 0, m.ConversationID
				if k, err = s.create(ctx, tx, actor, t); err != nil {
					return err
				}
				link.TargetID = k.ID
			} else if k, err = s.taskFor(ctx, tx, actor, in.TargetID); err != nil {
				return err
			}
			out.Task = k
			if err := s.once(ctx, tx, link); err != nil {
				return err
			}
			if err := comment(k.ID); err != nil {
				return err
			}
			if in.Task == nil {
				s.touch(ctx, tx, k)
			}
		case parley.LinkCase:
			k, err := s.live.CaseFor(ctx, tx, actor, in.TargetID)
			if err == nil && k.Kind != parley.KindCase {
				err = parley.Invalid("target", "that is a task: move the message to a task")
			}
			if err != nil {
				return err
			}
			if err := s.once(ctx, tx, link); err != nil {
				return err
			}
			if err := comment(k.ID); err != nil {
				return err
			}
		case parley.LinkContact:
			if _, err := s.live.ContactFor(ctx, tx, actor, in.TargetID); err != nil {
				return err
			}
			if err := s.once(ctx, tx, link); err != nil {
				return err
			}
			out.Note = &parley.ContactNote{ContactID: in.TargetID, AuthorID: actor.ID, Text: body, MessageID: m.ID,
				ConversationID: m.ConversationID}
			if err := tx.AddContactNote(ctx, out.Note); err != nil {
				return err
			}
		}
		if err := tx.AddMessageLink(ctx, link); err != nil {
			return err
		}
		out.Link = link
		// Everyone who sees the message sees that it was moved (not the
		// record's contents: opening it follows the record's own rule).
		tx.Emit(parley.NewEvent(parley.EventMessageLinks, m.ConversationID, 0, link))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if in.Task != nil {
		s.loop.Poke()
	}
	return out, nil
}

// once refuses a second move of a message to the same record.
func (s *Service) once(ctx context.Context, tx parley.Tx, l *parley.MessageLink) error {
	links, err := tx.MessageLinks(ctx, l.ConversationID)
	if err != nil {
		return err
	}
	for _, x := range links {
		if x.MessageID == l.MessageID && x.Target == l.Target && x.TargetID == l.TargetID {
			return parley.Errorf(parley.ECONFLICT, "the message is already in that %s", l.Target)
		}
	}
	return nil
}

// messageText is what a moved message says: its text and the names of its
// files. System lines and deleted messages cannot be moved.
func messageText(m *parley.Message) (string, error) {
	if !m.DeletedAt.IsZero() || m.Kind == parley.MsgEvent {
		return "", parley.Invalid("message_id", "only a message someone wrote can be moved")
	}
	var b strings.Builder
	b.WriteString(m.Text)
	for _, f := range m.Files {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("📎 " + f.Name)
	}
	return b.String(), nil
}

// Links returns where the messages of a conversation the actor can read
// were moved to.
func (s *Service) Links(ctx context.Context, actor *parley.User, convID int64) ([]*parley.MessageLink, error) {
	if _, err := s.readable(ctx, s.store, actor, convID); err != nil {
		return nil, err
	}
	links, err := s.store.MessageLinks(ctx, convID)
	if links == nil {
		links = []*parley.MessageLink{}
	}
	return links, err
}

// Notes returns a customer card's history notes.
func (s *Service) Notes(ctx context.Context, actor *parley.User, contactID int64) ([]*parley.ContactNote, error) {
	if _, err := s.live.ContactFor(ctx, s.store, actor, contactID); err != nil {
		return nil, err
	}
	notes, err := s.store.ContactNotes(ctx, contactID)
	if notes == nil {
		notes = []*parley.ContactNote{}
	}
	return notes, err
}
