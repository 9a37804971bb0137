package livechat

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// newCase files a case from a dialog with the project's template fields.
func (s *Service) newCase(ctx context.Context, tx parley.Tx, p *parley.Project, c *parley.Conversation, source string,
	by int64, title, description string) (*parley.Case, error) {
	fields := map[string]string{}
	if p.CaseTemplateID != 0 {
		t, err := tx.CaseTemplateByID(ctx, p.CaseTemplateID)
		if err != nil {
			return nil, err
		}
		if t.Mandatory() {
			return nil, parley.Invalid("case_template_id", "the project's case template has mandatory fields; choose another")
		}
		for _, f := range t.Fields {
			fields[f.Name] = f.Default
		}
	}
	if title == "" {
		contact, err := tx.ContactByID(ctx, c.Support.ContactID)
		if err != nil {
			return nil, err
		}
		who := contact.Name
		if who == "" {
			who = "a visitor"
		}
		title = "Chat with " + who
	}
	k := &parley.Case{ProjectID: p.ID, ConversationID: c.ID, ContactID: c.Support.ContactID, Source: source,
		Status: parley.CaseOpen, Title: title, Description: description, Fields: fields, CreatedBy: by}
	if err := tx.CreateCase(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// ConvertInput titles a case made from a dialog.
type ConvertInput struct {
	Title string `json:"title"`
}

// ConvertToCase files a dialog as a case (seed 004, from the specialist
// console): its description is the transcript without whispers.
func (s *Service) ConvertToCase(ctx context.Context, actor *parley.User, id int64, in ConvertInput) (*parley.Case, error) {
	title, err := textField("title", in.Title, 200, false)
	if err != nil {
		return nil, err
	}
	var k *parley.Case
	_, err = s.change(ctx, actor, id, func(tx parley.Tx, c *parley.Conversation, level int) error {
		// Converting is idempotent: a double click, or a colleague on the
		// same dialog, gets the case the first conversion made while it is
		// open.
		open, err := tx.OpenCaseOf(ctx, c.ID, parley.CaseFromConversation)
		if err == nil {
			k = open
			return nil
		}
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
		if err != nil {
			return err
		}
		msgs, err := tx.SupportMessages(ctx, []int64{c.ID})
		if err != nil {
			return err
		}
		contact, err := tx.ContactByID(ctx, c.Support.ContactID)
		if err != nil {
			return err
		}
		var b strings.Builder
		writeTranscript(ctx, &b, &names{r: tx}, contact, msgs)
		if k, err = s.newCase(ctx, tx, p, c, parley.CaseFromConversation, actor.ID, title, b.String()); err != nil {
			return err
		}
		return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionCaseCreated, ActorID: actor.ID,
			Title: "#" + itoa(k.ID)})
	})
	return k, err
}

// CaseView is a case with its comments.
type CaseView struct {
	*parley.Case
	Comments []*parley.CaseComment `json:"comments"`
	Contact  *parley.Contact       `json:"contact,omitempty"`
}

// Cases lists the cases of the projects the actor serves or manages.
func (s *Service) Cases(ctx context.Context, actor *parley.User, q ListQuery) ([]*parley.Case, error) {
	if q.Status != "" && q.Status != parley.CaseOpen && q.Status != parley.CaseClosed {
		return nil, parley.Invalid("status", "status is open or closed")
	}
	projects, err := s.visibleProjects(ctx, actor)
	if err != nil {
		return nil, err
	}
	if q.ProjectID != 0 {
		if !slices.Contains(projects, q.ProjectID) {
			return nil, parley.Errorf(parley.ENOTFOUND, "project not found")
		}
		projects = []int64{q.ProjectID}
	}
	list, err := s.store.Cases(ctx, parley.CaseFilter{ProjectIDs: projects, Status: q.Status, Before: q.Before, Limit: q.Limit,
		Viewer: s.caseViewer(ctx, actor)})
	if list == nil {
		list = []*parley.Case{}
	}
	return list, err
}

func (s *Service) caseFor(ctx context.Context, r parley.Reader, actor *parley.User, id int64) (*parley.Case, error) {
	k, err := r.CaseByID(ctx, id)
	if err != nil {
		return nil, err
	}
	projects, err := s.visibleProjects(ctx, actor)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(projects, k.ProjectID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "case not found")
	}
	if viewer := s.caseViewer(ctx, actor); viewer != 0 && k.ConversationID != 0 {
		revoked, err := r.Revoked(ctx, k.ConversationID, viewer)
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, parley.Errorf(parley.ENOTFOUND, "case not found")
		}
	}
	return k, nil
}

// caseViewer is the CaseFilter.Viewer for the actor: a case holds its
// dialog's transcript, so a specialist a dialog was reassigned away from
// no longer sees its cases, as they no longer see its history (managers
// see every case).
func (s *Service) caseViewer(ctx context.Context, actor *parley.User) int64 {
	if canManage(ctx, s.store, actor) == nil {
		return 0
	}
	return actor.ID
}

// Case returns a case with its comments.
func (s *Service) Case(ctx context.Context, actor *parley.User, id int64) (*CaseView, error) {
	k, err := s.caseFor(ctx, s.store, actor, id)
	if err != nil {
		return nil, err
	}
	v := &CaseView{Case: k}
	if v.Comments, err = s.store.CaseComments(ctx, id); err != nil {
		return nil, err
	}
	if v.Comments == nil {
		v.Comments = []*parley.CaseComment{}
	}
	if k.ContactID != 0 {
		if v.Contact, err = s.store.ContactByID(ctx, k.ContactID); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
	}
	return v, nil
}

// CommentInput is a note on a case.
type CommentInput struct {
	Text string `json:"text"`
}

// Comment adds a specialist's note to a case.
func (s *Service) Comment(ctx context.Context, actor *parley.User, id int64, in CommentInput) (*parley.CaseComment, error) {
	text, err := textField("text", in.Text, maxText, true)
	if err != nil {
		return nil, err
	}
	c := &parley.CaseComment{CaseID: id, AuthorID: actor.ID, Text: text}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		if _, err := s.caseFor(ctx, tx, actor, id); err != nil {
			return err
		}
		return tx.AddCaseComment(ctx, c)
	})
	return c, err
}

// CloseCase closes a case.
func (s *Service) CloseCase(ctx context.Context, actor *parley.User, id int64) (*parley.Case, error) {
	var k *parley.Case
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		if k, err = s.caseFor(ctx, tx, actor, id); err != nil {
			return err
		}
		if k.Status == parley.CaseClosed {
			return parley.Errorf(parley.ECONFLICT, "the case is already closed")
		}
		k.Status, k.ClosedAt, k.ClosedBy = parley.CaseClosed, s.now(), actor.ID
		return tx.UpdateCase(ctx, k)
	})
	return k, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
