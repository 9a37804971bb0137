package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/tasks"
)

// TestTasks drives tasks through the API on both databases: a task made
// for a colleague reaches their socket, its due time fires on theirs, a
// message moves into it and into a customer's card and stays marked, and
// those the rules leave out are refused without a trace.
func TestTasks(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		c := s.newUser(t, parley.RoleMember, "Cyril Gamma")
		bSock := b.connect()
		aSock := a.connect()

		due := time.Now().Add(1500 * time.Millisecond).UTC()
		var k parley.Case
		a.do("POST", "/api/v1/tasks", map[string]any{"title": "Send the contract", "description": "to the supplier",
			"assignee_id": b.id(), "due_at": due}).want(http.StatusCreated).decode(&k)
		if k.Kind != "task" || k.AssigneeID != b.id() || k.Status != "open" {
			t.Fatalf("created %+v", k)
		}
		f := bSock.waitFor(parley.EventTaskAssigned)
		if got := f["data"].(map[string]any)["task"].(map[string]any)["title"]; got != "Send the contract" {
			t.Errorf("task.assigned carries %v", got)
		}
		var list httpapi.TaskList
		b.get("/api/v1/tasks?role=assigned", &list)
		if len(list.Tasks) != 1 || list.Tasks[0].ID != k.ID {
			t.Errorf("b's tasks = %+v", list.Tasks)
		}

		// Someone it is not for: not found, nothing changes.
		path := fmt.Sprintf("/api/v1/tasks/%d", k.ID)
		c.do("GET", path, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		c.do("PATCH", path, map[string]any{"status": "closed"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		c.do("POST", path+"/comments", map[string]any{"text": "mine now"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		a.do("PATCH", path, map[string]any{"status": "someday"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		a.do("POST", "/api/v1/tasks", map[string]any{"title": "", "assignee_id": b.id()}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var v tasks.View
		a.get(path, &v)
		if v.Status != "open" || len(v.Comments) != 0 {
			t.Fatalf("refusals changed the task: %+v", v)
		}

		// On time, once, on the assignee's socket.
		f = bSock.waitFor(parley.EventTaskDue)
		if time.Now().Before(due) {
			t.Errorf("task.due came before the due time")
		}
		if f["data"].(map[string]any)["id"].(float64) != float64(k.ID) {
			t.Errorf("task.due = %v", f)
		}

		// Move a message into the task: a comment with a link back, and
		// the message is marked for everyone in the chat.
		g := a.group("Supplier", b)
		m := b.send(g.ID, "They want it signed by Friday")
		c.do("POST", fmt.Sprintf("/api/v1/messages/%d/move", m.ID), map[string]any{"target": "task", "target_id": k.ID}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var moved tasks.Moved
		b.do("POST", fmt.Sprintf("/api/v1/messages/%d/move", m.ID), map[string]any{"target": "task", "target_id": k.ID}).
			want(http.StatusCreated).decode(&moved)
		b.do("POST", fmt.Sprintf("/api/v1/messages/%d/move", m.ID), map[string]any{"target": "task", "target_id": k.ID}).
			wantErr(http.StatusConflict, parley.ECONFLICT)
		f = aSock.waitFor(parley.EventMessageLinks)
		if d := f["data"].(map[string]any); d["message_id"].(float64) != float64(m.ID) || d["target"] != "task" {
			t.Errorf("message.linked = %v", d)
		}
		a.get(path, &v)
		if len(v.Comments) != 1 || v.Comments[0].MessageID != m.ID || v.Comments[0].ConversationID != g.ID || v.Comments[0].Text != m.Text {
			t.Errorf("comments = %+v", v.Comments)
		}
		var links httpapi.LinkList
		a.get(fmt.Sprintf("/api/v1/conversations/%d/links", g.ID), &links)
		if len(links.Links) != 1 || links.Links[0].TargetID != k.ID {
			t.Errorf("links = %+v", links.Links)
		}
		c.do("GET", fmt.Sprintf("/api/v1/conversations/%d/links", g.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// To a customer's card: the administrator sees every customer, a
		// member none.
		var p parley.Project
		admin.do("POST", "/api/v1/projects", map[string]any{"name": "Shop", "origins": []string{shopOrigin}}).want(http.StatusCreated).decode(&p)
		vis := s.visitor(t, p.Key, nil)
		vis.send("hello")
		var d livechat.Dialog
		admin.get(fmt.Sprintf("/api/v1/dialogs/%d", vis.history().Conversation.ID), &d)
		team := admin.group("Ops", a)
		m2 := a.send(team.ID, "This customer prefers e-mail")
		a.do("POST", fmt.Sprintf("/api/v1/messages/%d/move", m2.ID), map[string]any{"target": "contact", "target_id": d.Contact.ID}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		admin.do("POST", fmt.Sprintf("/api/v1/messages/%d/move", m2.ID), map[string]any{"target": "contact", "target_id": d.Contact.ID}).
			want(http.StatusCreated)
		var notes httpapi.NoteList
		admin.get(fmt.Sprintf("/api/v1/contacts/%d/notes", d.Contact.ID), &notes)
		if len(notes.Notes) != 1 || notes.Notes[0].Text != m2.Text || notes.Notes[0].MessageID != m2.ID {
			t.Errorf("notes = %+v", notes.Notes)
		}
		a.do("GET", fmt.Sprintf("/api/v1/contacts/%d/notes", d.Contact.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Erasing the customer erases their card's history.
		admin.do("POST", fmt.Sprintf("/api/v1/contacts/%d/erase", d.Contact.ID), nil).want(http.StatusOK)
		admin.get(fmt.Sprintf("/api/v1/contacts/%d/notes", d.Contact.ID), &notes)
		if len(notes.Notes) != 0 {
			t.Errorf("notes after erasure = %+v", notes.Notes)
		}
	})
}
