package tasks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
	"github.com/parley-chat/parley/tasks"
)

func ptr[T any](v T) *T { return &v }

// world is a store with live chat, a project with a customer and a case,
// and users: an administrator, a supervisor and members a, b and c.
type world struct {
	s        *sqlstore.Store
	log      *slog.Logger
	lc       *livechat.Service
	msgs     *messaging.Service
	tasks    *tasks.Service
	admin    *parley.User
	super    *parley.User
	a, b, c  *parley.User
	contact  *parley.Contact
	kase     *parley.Case
	mu       sync.Mutex
	events   []parley.Event
	eventsIn chan struct{}
}

// each runs fn on a world over SQLite and over PostgreSQL.
func each(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newWorld(t, "sqlite:"+filepath.Join(t.TempDir(), "parley.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newWorld(t, sqltest.PostgresURL(t))) })
}

func newWorld(t *testing.T, dsn string) *world {
	ctx := context.Background()
	w := &world{log: slog.New(slog.NewTextHandler(io.Discard, nil)), eventsIn: make(chan struct{}, 1000)}
	bus := inmem.NewBus()
	t.Cleanup(func() { bus.Close() })
	s, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Publish: bus.Publish, Logger: w.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w.s = s
	cancel, err := bus.Subscribe(func(evs []parley.Event) {
		w.mu.Lock()
		w.events = append(w.events, evs...)
		w.mu.Unlock()
		select {
		case w.eventsIn <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	blobs, err := blob.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pres := presence.New(s, bus, w.log)
	t.Cleanup(pres.Close)
	w.msgs = messaging.New(s, bus, blobs, pres, messaging.Config{Logger: w.log})
	t.Cleanup(w.msgs.Close)
	if w.lc, err = livechat.New(ctx, s, bus, blobs, w.msgs, pres, livechat.Config{Logger: w.log}); err != nil {
		t.Fatal(err)
	}
	w.tasks = tasks.New(s, w.lc, w.log)
	t.Cleanup(func() { w.tasks.Close() })
	mk := func(name string, role parley.Role) *parley.User {
		u := &parley.User{Email: name + "@x.test", Name: name, Role: role, Active: true}
		if _, err := s.Write(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, u, "h") }); err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.admin, w.super = mk("admin", parley.RoleAdmin), mk("super", parley.RoleSupervisor)
	w.a, w.b, w.c = mk("a", parley.RoleMember), mk("b", parley.RoleMember), mk("c", parley.RoleMember)
	p, err := w.lc.CreateProject(ctx, w.admin, livechat.ProjectInput{Name: ptr("Shop"), Origins: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, func(tx parley.Tx) error {
		w.contact = &parley.Contact{ProjectID: p.ID, Name: "Vera"}
		if err := tx.CreateContact(ctx, w.contact); err != nil {
			return err
		}
		w.kase = &parley.Case{ProjectID: p.ID, ContactID: w.contact.ID, Source: parley.CaseFromOffline, Status: parley.CaseOpen, Title: "Refund"}
		return tx.CreateCase(ctx, w.kase)
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitEvent waits for an event of typ to user that match says is the one.
func (w *world) waitEvent(t *testing.T, typ string, user int64, match func(json.RawMessage) bool, within time.Duration) time.Time {
	t.Helper()
	deadline := time.After(within)
	for {
		w.mu.Lock()
		for _, e := range w.events {
			if e.Type == typ && e.UserID == user && (match == nil || match(e.Data)) {
				w.mu.Unlock()
				return e.At
			}
		}
		w.mu.Unlock()
		select {
		case <-w.eventsIn:
		case <-deadline:
			t.Fatalf("no %s event for user %d", typ, user)
		}
	}
}

func (w *world) count(typ string, user int64, match func(json.RawMessage) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.events {
		if e.Type == typ && e.UserID == user && (match == nil || match(e.Data)) {
			n++
		}
	}
	return n
}

func taskID(id int64) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var v struct {
			ID   int64 `json:"id"`
			Task struct {
				ID int64 `json:"id"`
			} `json:"task"`
		}
		return json.Unmarshal(d, &v) == nil && (v.ID == id || v.Task.ID == id)
	}
}

func code(err error) string { return parley.ErrorCode(err) }

// TestTaskRules checks who may create, see, edit and comment on a task,
// on both databases, and that a refusal changes nothing.
func TestTaskRules(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		ts := w.tasks

		// A member creates a task for a colleague: both see it, the
		// assignee is told.
		k, err := ts.Create(ctx, w.a, tasks.Input{Title: ptr(" Call the bank "), Description: ptr("about the card"),
			AssigneeID: &w.b.ID, DueAt: ptr(time.Now().Add(time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		if k.Kind != parley.KindTask || k.Title != "Call the bank" || k.Status != parley.CaseOpen || k.ProjectID != 0 || k.CreatedBy != w.a.ID {
			t.Fatalf("created %+v", k)
		}
		w.waitEvent(t, parley.EventTaskAssigned, w.b.ID, taskID(k.ID), 5*time.Second)
		w.waitEvent(t, parley.EventTaskUpdated, w.a.ID, taskID(k.ID), 5*time.Second)
		for _, u := range []*parley.User{w.a, w.b} {
			if _, err := ts.Task(ctx, u, k.ID); err != nil {
				t.Errorf("%s cannot open the task: %v", u.Name, err)
			}
		}
		if list, err := ts.List(ctx, w.b, tasks.ListQuery{Role: "assigned"}); err != nil || len(list) != 1 || list[0].ID != k.ID {
			t.Errorf("b's assigned tasks = %v, %v", list, err)
		}
		if list, err := ts.List(ctx, w.b, tasks.ListQuery{Role: "created"}); err != nil || len(list) != 0 {
			t.Errorf("b's created tasks = %v, %v", list, err)
		}

		// Neither a colleague nor an administrator sees a task in no
		// project that is not theirs: it does not exist for them.
		for _, u := range []*parley.User{w.c, w.admin} {
			if _, err := ts.Task(ctx, u, k.ID); code(err) != parley.ENOTFOUND {
				t.Errorf("%s opening another's task: %v, want not_found", u.Name, err)
			}
			if _, err := ts.Update(ctx, u, k.ID, tasks.Input{Status: ptr(parley.CaseClosed)}); code(err) != parley.ENOTFOUND {
				t.Errorf("%s editing another's task: %v, want not_found", u.Name, err)
			}
			if _, err := ts.Comment(ctx, u, k.ID, livechat.CommentInput{Text: "hi"}); code(err) != parley.ENOTFOUND {
				t.Errorf("%s commenting another's task: %v, want not_found", u.Name, err)
			}
		}
		// A case is not a task.
		if _, err := ts.Task(ctx, w.admin, w.kase.ID); code(err) != parley.ENOTFOUND {
			t.Errorf("opening a case as a task: %v", err)
		}

		// Bad input is refused and changes nothing.
		for name, in := range map[string]tasks.Input{
			"no title":         {AssigneeID: &w.b.ID},
			"blank title":      {Title: ptr("  "), AssigneeID: &w.b.ID},
			"no assignee":      {Title: ptr("x")},
			"unknown assignee": {Title: ptr("x"), AssigneeID: ptr(int64(9999))},
			"past due":         {Title: ptr("x"), AssigneeID: &w.b.ID, DueAt: ptr(time.Now().Add(-time.Minute))},
			"far due":          {Title: ptr("x"), AssigneeID: &w.b.ID, DueAt: ptr(time.Now().Add(10 * 365 * 24 * time.Hour))},
			"bad status":       {Title: ptr("x"), AssigneeID: &w.b.ID, Status: ptr("later")},
		} {
			if _, err := ts.Create(ctx, w.a, in); code(err) != parley.EINVALID {
				t.Errorf("create with %s: %v, want invalid", name, err)
			}
		}
		if _, err := ts.Update(ctx, w.b, k.ID, tasks.Input{Title: ptr("new"), Status: ptr("maybe")}); code(err) != parley.EINVALID {
			t.Errorf("update with a bad status: %v", err)
		}
		if got, _ := ts.Task(ctx, w.a, k.ID); got.Title != "Call the bank" || got.Status != parley.CaseOpen {
			t.Errorf("a refused update changed the task: %+v", got.Case)
		}
		if list, _ := ts.List(ctx, w.a, tasks.ListQuery{}); len(list) != 1 {
			t.Errorf("refused creations made tasks: %d", len(list))
		}

		// The assignee works on it and hands it to c: c is told, a and
		// b still see it (a created it; b no longer does).
		up, err := ts.Update(ctx, w.b, k.ID, tasks.Input{Status: ptr(parley.CaseInProgress), AssigneeID: &w.c.ID})
		if err != nil || up.Status != parley.CaseInProgress || up.AssigneeID != w.c.ID {
			t.Fatalf("update = %+v, %v", up, err)
		}
		w.waitEvent(t, parley.EventTaskAssigned, w.c.ID, taskID(k.ID), 5*time.Second)
		if _, err := ts.Task(ctx, w.b, k.ID); code(err) != parley.ENOTFOUND {
			t.Errorf("the former assignee still sees the task: %v", err)
		}
		done, err := ts.Update(ctx, w.c, k.ID, tasks.Input{Status: ptr(parley.CaseClosed)})
		if err != nil || done.ClosedBy != w.c.ID || done.ClosedAt.IsZero() {
			t.Errorf("done = %+v, %v", done, err)
		}
		if _, err := ts.Comment(ctx, w.a, k.ID, livechat.CommentInput{Text: "thanks"}); err != nil {
			t.Errorf("the creator's comment: %v", err)
		}
		if v, err := ts.Task(ctx, w.c, k.ID); err != nil || len(v.Comments) != 1 || v.Comments[0].Text != "thanks" {
			t.Errorf("comments = %+v, %v", v, err)
		}

		// A task in a case: refused to whoever cannot see the case;
		// once made, the project's managers see it too.
		if _, err := ts.Create(ctx, w.a, tasks.Input{Title: ptr("t"), AssigneeID: &w.a.ID, CaseID: w.kase.ID}); code(err) != parley.ENOTFOUND {
			t.Errorf("a task in a case a member cannot see: %v, want not_found", err)
		}
		if list, _ := ts.List(ctx, w.a, tasks.ListQuery{}); len(list) != 1 {
			t.Errorf("the refused task in a case was made: %d tasks", len(list))
		}
		inCase, err := ts.Create(ctx, w.super, tasks.Input{Title: ptr("refund it"), AssigneeID: &w.b.ID, CaseID: w.kase.ID})
		if err != nil || inCase.ProjectID != w.kase.ProjectID || inCase.ParentID != w.kase.ID || inCase.ContactID != w.contact.ID {
			t.Fatalf("a task in a case = %+v, %v", inCase, err)
		}
		for _, u := range []*parley.User{w.admin, w.super, w.b} {
			if _, err := ts.Task(ctx, u, inCase.ID); err != nil {
				t.Errorf("%s cannot open a task of a project they see: %v", u.Name, err)
			}
		}
		if _, err := ts.Update(ctx, w.a, inCase.ID, tasks.Input{Title: ptr("mine")}); code(err) != parley.ENOTFOUND {
			t.Errorf("a member editing a project's task: %v, want not_found", err)
		}
		if _, err := ts.Create(ctx, w.super, tasks.Input{Title: ptr("t"), AssigneeID: &w.b.ID, CaseID: inCase.ID}); code(err) != parley.EINVALID {
			t.Errorf("a task in a task: %v, want invalid", err)
		}
	})
}

// TestTaskDue checks the due notification: on time, once, to the
// assignee and the creator, not for a task done, and after a restart for
// a task that fell due while the service was down.
func TestTaskDue(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		due := time.Now().Add(400 * time.Millisecond)
		k, err := w.tasks.Create(ctx, w.a, tasks.Input{Title: ptr("soon"), AssigneeID: &w.b.ID, DueAt: &due})
		if err != nil {
			t.Fatal(err)
		}
		doneTask, err := w.tasks.Create(ctx, w.a, tasks.Input{Title: ptr("done"), AssigneeID: &w.b.ID, DueAt: &due,
			Status: ptr(parley.CaseClosed)})
		if err != nil {
			t.Fatal(err)
		}
		at := w.waitEvent(t, parley.EventTaskDue, w.b.ID, taskID(k.ID), 10*time.Second)
		if at.Before(due.Truncate(time.Millisecond)) || at.Sub(due) > 3*time.Second {
			t.Errorf("fired at %v for %v", at, due)
		}
		w.waitEvent(t, parley.EventTaskDue, w.a.ID, taskID(k.ID), 5*time.Second)
		time.Sleep(300 * time.Millisecond)
		if n := w.count(parley.EventTaskDue, w.b.ID, taskID(k.ID)); n != 1 {
			t.Errorf("fired %d times", n)
		}
		if n := w.count(parley.EventTaskDue, w.b.ID, taskID(doneTask.ID)); n != 0 {
			t.Errorf("a task done notified %d times", n)
		}

		// Down while a task falls due: the next start fires it.
		w.tasks.Close()
		due2 := time.Now().Add(200 * time.Millisecond)
		k2, err := w.tasks.Create(ctx, w.a, tasks.Input{Title: ptr("while down"), AssigneeID: &w.c.ID, DueAt: &due2})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
		if n := w.count(parley.EventTaskDue, w.c.ID, taskID(k2.ID)); n != 0 {
			t.Fatalf("a stopped service fired")
		}
		w.tasks = tasks.New(w.s, w.lc, w.log)
		w.waitEvent(t, parley.EventTaskDue, w.c.ID, taskID(k2.ID), 10*time.Second)
	})
}

// TestMove checks "Move to task" and "To table": a message someone can
// read goes into a task, a case or a customer card they can see, once,
// and is marked with a link; everything else is refused.
func TestMove(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		ts := w.tasks
		g, err := w.msgs.CreateGroup(ctx, w.a, "team", []int64{w.b.ID, w.super.ID}, 0)
		if err != nil {
			t.Fatal(err)
		}
		m, err := w.msgs.Send(ctx, w.a, messaging.SendInput{ConversationID: g.ID, Text: "the invoice is wrong"})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := ts.Create(ctx, w.b, tasks.Input{Title: ptr("fix invoice"), AssigneeID: &w.b.ID})
		if err != nil {
			t.Fatal(err)
		}
		others, err := ts.Create(ctx, w.c, tasks.Input{Title: ptr("c's"), AssigneeID: &w.c.ID})
		if err != nil {
			t.Fatal(err)
		}

		refusals := []struct {
			name  string
			actor *parley.User
			in    tasks.MoveInput
			want  string
		}{
			{"a message c cannot read", w.c, tasks.MoveInput{Target: "task", TargetID: others.ID}, parley.ENOTFOUND},
			{"into a task b cannot see", w.b, tasks.MoveInput{Target: "task", TargetID: others.ID}, parley.ENOTFOUND},
			{"into a case a member cannot see", w.b, tasks.MoveInput{Target: "case", TargetID: w.kase.ID}, parley.ENOTFOUND},
			{"into a customer a member cannot see", w.b, tasks.MoveInput{Target: "contact", TargetID: w.contact.ID}, parley.ENOTFOUND},
			{"into a task as a case", w.super, tasks.MoveInput{Target: "case", TargetID: mine.ID}, parley.ENOTFOUND},
			{"nowhere", w.b, tasks.MoveInput{Target: "desk", TargetID: 1}, parley.EINVALID},
			{"a task and a new one", w.b, tasks.MoveInput{Target: "task", TargetID: mine.ID, Task: &tasks.Input{Title: ptr("x")}}, parley.EINVALID},
			{"a new task without title", w.b, tasks.MoveInput{Target: "task", Task: &tasks.Input{AssigneeID: &w.b.ID}}, parley.EINVALID},
		}
		for _, r := range refusals {
			if _, err := ts.Move(ctx, r.actor, m.ID, r.in); code(err) != r.want {
				t.Errorf("%s: %v, want %s", r.name, err, r.want)
			}
		}
		if links, err := ts.Links(ctx, w.a, g.ID); err != nil || len(links) != 0 {
			t.Fatalf("refused moves left links: %v, %v", links, err)
		}
		if v, _ := ts.Task(ctx, w.c, others.ID); len(v.Comments) != 0 {
			t.Fatalf("a refused move commented")
		}

		moved, err := ts.Move(ctx, w.b, m.ID, tasks.MoveInput{Target: "task", TargetID: mine.ID})
		if err != nil {
			t.Fatal(err)
		}
		if moved.Comment.Text != m.Text || moved.Comment.MessageID != m.ID || moved.Comment.ConversationID != g.ID || moved.Task.ID != mine.ID {
			t.Errorf("moved = %+v", moved)
		}
		if _, err := ts.Move(ctx, w.b, m.ID, tasks.MoveInput{Target: "task", TargetID: mine.ID}); code(err) != parley.ECONFLICT {
			t.Errorf("moving twice: %v, want conflict", err)
		}
		fresh, err := ts.Move(ctx, w.a, m.ID, tasks.MoveInput{Target: "task", Task: &tasks.Input{Title: ptr("new one"), AssigneeID: &w.c.ID}})
		if err != nil || fresh.Task.ConversationID != g.ID || fresh.Task.AssigneeID != w.c.ID || fresh.Link.TargetID != fresh.Task.ID {
			t.Fatalf("moving to a new task = %+v, %v", fresh, err)
		}
		w.waitEvent(t, parley.EventTaskAssigned, w.c.ID, taskID(fresh.Task.ID), 5*time.Second)
		if _, err := ts.Move(ctx, w.super, m.ID, tasks.MoveInput{Target: "case", TargetID: w.kase.ID}); err != nil {
			t.Errorf("a supervisor's move to a case: %v", err)
		}
		note, err := ts.Move(ctx, w.super, m.ID, tasks.MoveInput{Target: "contact", TargetID: w.contact.ID})
		if err != nil || note.Note == nil || note.Note.Text != m.Text {
			t.Fatalf("a supervisor's move to a customer card = %+v, %v", note, err)
		}
		if notes, err := ts.Notes(ctx, w.super, w.contact.ID); err != nil || len(notes) != 1 || notes[0].MessageID != m.ID {
			t.Errorf("notes = %+v, %v", notes, err)
		}
		if _, err := ts.Notes(ctx, w.b, w.contact.ID); code(err) != parley.ENOTFOUND {
			t.Errorf("a member reading a customer's notes: %v", err)
		}
		links, err := ts.Links(ctx, w.b, g.ID)
		if err != nil || len(links) != 4 {
			t.Fatalf("links = %+v, %v", links, err)
		}
		if _, err := ts.Links(ctx, w.c, g.ID); code(err) != parley.ENOTFOUND {
			t.Errorf("c reading the links of a chat they are not in: %v", err)
		}
		cv, err := w.lc.Case(ctx, w.super, w.kase.ID)
		if err != nil || len(cv.Comments) != 1 || cv.Comments[0].MessageID != m.ID {
			t.Errorf("the case's comments = %+v, %v", cv, err)
		}
	})
}
