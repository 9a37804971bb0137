package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestTasks checks tasks as cases of kind task: in no project or in one,
// listed per user and role, the once-only due mark, customer notes and
// message links.
func TestTasks(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		us := newUsers(t, s, 3)
		a, b, c := us[0].ID, us[1].ID, us[2].ID
		at := func(min int) time.Time { return baseTime.Add(time.Duration(min) * time.Minute) }
		var p *parley.Project
		var contact *parley.Contact
		var kase, free, inProject, later *parley.Case
		mustWrite(t, s, func(tx parley.Tx) error {
			p = &parley.Project{Name: "P", Key: "p", Secret: "s"}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			contact = &parley.Contact{ProjectID: p.ID, Name: "Ann"}
			if err := tx.CreateContact(ctx, contact); err != nil {
				return err
			}
			kase = &parley.Case{ProjectID: p.ID, Source: parley.CaseFromConversation, Status: parley.CaseOpen, Title: "ticket"}
			free = &parley.Case{Kind: parley.KindTask, Source: parley.CaseFromTask, Status: parley.CaseOpen, Title: "free",
				CreatedBy: a, AssigneeID: b, DueAt: at(10), UpdatedAt: at(0)}
			inProject = &parley.Case{Kind: parley.KindTask, ProjectID: p.ID, ParentID: 0, Source: parley.CaseFromTask,
				Status: parley.CaseInProgress, Title: "in project", CreatedBy: b, AssigneeID: a, DueAt: at(20)}
			later = &parley.Case{Kind: parley.KindTask, Source: parley.CaseFromTask, Status: parley.CaseOpen, Title: "no due",
				CreatedBy: c, AssigneeID: c}
			for _, k := range []*parley.Case{kase, free, inProject, later} {
				if err := tx.CreateCase(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		if kase.Kind != parley.KindCase {
			t.Errorf("a case without a kind got %q", kase.Kind)
		}
		got, err := s.CaseByID(ctx, free.ID)
		if err != nil || got.ProjectID != 0 || got.Kind != parley.KindTask || got.AssigneeID != b || !got.DueAt.Equal(at(10)) {
			t.Fatalf("CaseByID(free task) = %+v, %v", got, err)
		}
		ids := func(ks []*parley.Case) []int64 {
			out := []int64{}
			for _, k := range ks {
				out = append(out, k.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			f    parley.TaskFilter
			want []int64
		}{
			{"a, any role", parley.TaskFilter{UserID: a}, []int64{inProject.ID, free.ID}},
			{"a, assigned", parley.TaskFilter{UserID: a, Role: "assigned"}, []int64{inProject.ID}},
			{"a, created", parley.TaskFilter{UserID: a, Role: "created"}, []int64{free.ID}},
			{"a, in progress", parley.TaskFilter{UserID: a, Status: parley.CaseInProgress}, []int64{inProject.ID}},
			{"a, before", parley.TaskFilter{UserID: a, Before: inProject.ID}, []int64{free.ID}},
			{"c", parley.TaskFilter{UserID: c}, []int64{later.ID}},
		} {
			got, err := s.Tasks(ctx, tt.f)
			if err != nil || !slices.Equal(ids(got), tt.want) {
				t.Errorf("Tasks %s = %v, %v, want %v", tt.name, ids(got), err, tt.want)
			}
		}
		// The project's case list holds its case and its task, never a
		// task in no project.
		list, err := s.Cases(ctx, parley.CaseFilter{ProjectIDs: []int64{p.ID}})
		if err != nil || !slices.Equal(ids(list), []int64{inProject.ID, kase.ID}) {
			t.Errorf("Cases(project) = %v, %v", ids(list), err)
		}

		if next, err := s.NextTaskDueAt(ctx, at(0)); err != nil || !next.Equal(at(10)) {
			t.Errorf("NextTaskDueAt = %v, %v, want %v", next, err, at(10))
		}
		due, err := s.DueTasks(ctx, at(15), 10)
		if err != nil || !slices.Equal(ids(due), []int64{free.ID}) {
			t.Errorf("DueTasks(+15) = %v, %v", ids(due), err)
		}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.MarkTaskDueFired(ctx, free.ID, at(10), at(11)) })
		_, err = s.Write(ctx, func(tx parley.Tx) error { return tx.MarkTaskDueFired(ctx, free.ID, at(10), at(12)) })
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("marking a fired task again = %v, want not_found", err)
		}
		// A due time that moved is not marked by a scheduler that read the old one.
		_, err = s.Write(ctx, func(tx parley.Tx) error { return tx.MarkTaskDueFired(ctx, inProject.ID, at(19), at(12)) })
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("marking with a stale due time = %v, want not_found", err)
		}
		if due, err := s.DueTasks(ctx, at(30), 10); err != nil || !slices.Equal(ids(due), []int64{inProject.ID}) {
			t.Errorf("DueTasks(+30) after firing = %v, %v", ids(due), err)
		}
		if next, err := s.NextTaskDueAt(ctx, at(20)); err != nil || !next.IsZero() {
			t.Errorf("NextTaskDueAt past the last = %v, %v", next, err)
		}

		// Editing a task keeps what it does not change; moving the due
		// time re-arms the notification.
		free.Status, free.Description, free.AssigneeID, free.DueAt, free.DueFiredAt, free.UpdatedAt =
			parley.CaseClosed, "done it", c, at(40), time.Time{}, at(13)
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateCase(ctx, free) })
		got, err = s.CaseByID(ctx, free.ID)
		if err != nil || got.Status != parley.CaseClosed || got.Description != "done it" || got.AssigneeID != c ||
			!got.DueAt.Equal(at(40)) || !got.DueFiredAt.IsZero() || got.CreatedBy != a || got.ProjectID != 0 {
			t.Errorf("after UpdateCase = %+v, %v", got, err)
		}

		// Comments link back to the message they were moved from.
		cm := &parley.CaseComment{CaseID: free.ID, AuthorID: a, Text: "moved", MessageID: 77, ConversationID: 5}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.AddCaseComment(ctx, cm) })
		cs, err := s.CaseComments(ctx, free.ID)
		if err != nil || len(cs) != 1 || cs[0].MessageID != 77 || cs[0].ConversationID != 5 || cs[0].Text != "moved" {
			t.Errorf("CaseComments = %+v, %v", cs, err)
		}

		n := &parley.ContactNote{ContactID: contact.ID, AuthorID: a, Text: "note", MessageID: 78, ConversationID: 5}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.AddContactNote(ctx, n) })
		notes, err := s.ContactNotes(ctx, contact.ID)
		if err != nil || len(notes) != 1 || *notes[0] != *n {
			t.Errorf("ContactNotes = %+v, %v, want %+v", notes, err, n)
		}

		l := &parley.MessageLink{MessageID: 77, ConversationID: 5, Target: parley.LinkTask, TargetID: free.ID, UserID: a}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.AddMessageLink(ctx, l) })
		links, err := s.MessageLinks(ctx, 5)
		if err != nil || len(links) != 1 || *links[0] != *l {
			t.Errorf("MessageLinks = %+v, %v, want %+v", links, err, l)
		}
		if links, err := s.MessageLinks(ctx, 6); err != nil || len(links) != 0 {
			t.Errorf("MessageLinks(other) = %+v, %v", links, err)
		}
	})
}
