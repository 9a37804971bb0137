package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
)

func dialogPath(id int64, rest string) string { return fmt.Sprintf("/api/v1/dialogs/%d%s", id, rest) }

// actions lists the system lines of a dialog's ribbon.
func actions(t *testing.T, c *client, conv int64) []parley.SystemEvent {
	t.Helper()
	var out []parley.SystemEvent
	for _, m := range c.history(conv, "") {
		if m.Event != nil {
			out = append(out, *m.Event)
		}
	}
	return out
}

func lastAction(t *testing.T, c *client, conv int64, action string) *parley.SystemEvent {
	t.Helper()
	evs := actions(t, c, conv)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Action == action {
			return &evs[i]
		}
	}
	return nil
}

// A closed dialog reopens on a new message from either side (seed 003).
func TestInboxReopen(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		in.a.do("POST", dialogPath(conv, "/connect"), nil).want(http.StatusOK)
		in.a.send(conv, "How can I help?")
		in.a.do("POST", dialogPath(conv, "/close"), nil).want(http.StatusOK)

		// The customer writes again: the same dialog, open, waiting.
		in.vera.send("Me again")
		h := in.vera.history()
		if h.Conversation.ID != conv || h.Conversation.Status != parley.SupportOpen {
			t.Fatalf("the customer's message went to %+v", h.Conversation)
		}
		var d livechat.Dialog
		in.a.do("GET", dialogPath(conv, ""), nil).want(http.StatusOK).decode(&d)
		if d.Support.Status != parley.SupportOpen || d.Support.WaitingSince.IsZero() || d.Support.LastFrom != parley.FromCustomer {
			t.Fatalf("reopened dialog: %+v", d.Support)
		}
		if e := lastAction(t, in.a, conv, parley.ActionReopened); e == nil || e.ActorID != 0 {
			t.Fatalf("no reopening line by the customer: %v", actions(t, in.a, conv))
		}

		// A manager who is connected reopens it by writing.
		in.a.do("POST", dialogPath(conv, "/close"), nil).want(http.StatusOK)
		in.a.send(conv, "One more thing")
		in.a.do("GET", dialogPath(conv, ""), nil).want(http.StatusOK).decode(&d)
		if d.Support.Status != parley.SupportOpen {
			t.Fatalf("a manager's message left the dialog %s", d.Support.Status)
		}
		if e := lastAction(t, in.a, conv, parley.ActionReopened); e == nil || e.ActorID != in.a.id() {
			t.Fatalf("no reopening line by the manager: %v", actions(t, in.a, conv))
		}

		// A colleague may connect to a closed dialog to re-initiate it.
		in.a.do("POST", dialogPath(conv, "/close"), nil).want(http.StatusOK)
		in.b.do("POST", dialogPath(conv, "/connect"), nil).want(http.StatusOK)
		in.b.send(conv, "Following up")
		in.b.do("GET", dialogPath(conv, ""), nil).want(http.StatusOK).decode(&d)
		if d.Support.Status != parley.SupportOpen {
			t.Fatalf("re-initiated dialog is %s", d.Support.Status)
		}
		// A manager it was reassigned away from cannot (it is not theirs).
		in.admin.do("POST", dialogPath(conv, "/reassign"), map[string]any{"user_id": in.b.id()}).want(http.StatusOK)
		in.b.do("POST", dialogPath(conv, "/close"), nil).want(http.StatusOK)
		in.a.do("POST", convPath(conv, "/messages"), map[string]any{"text": "me?"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	})
}

// Unread counts for managers who are not connected, "Mark as unread" for
// one user only, and the header's number of unread dialogs.
func TestInboxUnreadForViewers(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		unreadCount := func(c *client) int64 {
			var u httpapi.UnreadDialogs
			c.do("GET", "/api/v1/dialogs/unread", nil).want(http.StatusOK).decode(&u)
			return u.Dialogs
		}
		dialog := func(c *client) livechat.Dialog {
			var d livechat.Dialog
			c.do("GET", dialogPath(conv, ""), nil).want(http.StatusOK).decode(&d)
			return d
		}
		// Every customer's first message is unread for every manager.
		if n := unreadCount(in.admin); n != 3 {
			t.Fatalf("admin: %d unread dialogs, want 3", n)
		}
		if d := dialog(in.b); d.Unread != 1 {
			t.Fatalf("a colleague's unread: %d", d.Unread)
		}
		sock := in.admin.connect()
		sock.waitFor("hello")
		in.admin.do("POST", dialogPath(conv, "/read"), nil).want(http.StatusNoContent)
		if f := sock.waitFor(parley.EventReadState); f["data"].(map[string]any)["unread"] != float64(0) {
			t.Fatalf("read_state: %v", f)
		}
		if n, d := unreadCount(in.admin), dialog(in.admin); n != 2 || d.Unread != 0 {
			t.Fatalf("after reading: %d unread dialogs, this one %d", n, d.Unread)
		}
		if d := dialog(in.b); d.Unread != 1 {
			t.Fatalf("reading changed a colleague's unread: %d", d.Unread)
		}
		// A new message: one unread (not every unanswered one).
		in.vera.send("Anyone?")
		if d := dialog(in.admin); d.Unread != 1 {
			t.Fatalf("after a new message: %d unread", d.Unread)
		}
		if d := dialog(in.b); d.Unread != 2 {
			t.Fatalf("a colleague who never read it: %d unread, want 2", d.Unread)
		}
		// Mark as unread: for that user only; the list filter agrees.
		in.admin.do("POST", dialogPath(conv, "/read"), nil).want(http.StatusNoContent)
		in.admin.do("POST", dialogPath(conv, "/unread"), nil).want(http.StatusNoContent)
		if d := dialog(in.admin); d.Unread != 1 {
			t.Fatalf("marked unread: %d", d.Unread)
		}
		var p livechat.DialogPage
		in.admin.do("GET", "/api/v1/dialogs?unread=true", nil).want(http.StatusOK).decode(&p)
		if len(p.Dialogs) != 3 {
			t.Fatalf("unread filter: %v", names(p))
		}
		in.admin.do("POST", dialogPath(in.dialogs["Ivan"], "/read"), nil).want(http.StatusNoContent)
		in.admin.do("GET", "/api/v1/dialogs?unread=true", nil).want(http.StatusOK).decode(&p)
		if got := names(p); len(got) != 2 || slices.Contains(got, "Ivan") {
			t.Fatalf("unread filter after reading Ivan: %v", got)
		}
		// A connected consultant's is their member row's, as in any chat.
		in.a.do("POST", dialogPath(conv, "/connect"), nil).want(http.StatusOK)
		in.a.do("POST", dialogPath(conv, "/unread"), nil).want(http.StatusNoContent)
		if d := dialog(in.a); d.Unread != 1 {
			t.Fatalf("consultant marked unread: %d", d.Unread)
		}
		in.a.do("POST", dialogPath(conv, "/read"), nil).want(http.StatusNoContent)
		if d := dialog(in.a); d.Unread != 0 {
			t.Fatalf("consultant after reading: %d", d.Unread)
		}
		// Answering ends the wait: nobody else counts it unread either.
		in.a.send(conv, "Here")
		if d := dialog(in.b); d.Unread != 0 {
			t.Fatalf("answered dialog still unread for a colleague: %d", d.Unread)
		}
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		outsider.do("POST", dialogPath(conv, "/unread"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.a.do("GET", "/api/v1/dialogs?unread=maybe", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		if n := unreadCount(outsider); n != 0 {
			t.Fatalf("an outsider has %d unread dialogs", n)
		}
	})
}

// The attachments of a dialog in two tabs, re-sent into the chat, and the
// channel's attachment limits, refused before the upload is read.
func TestInboxAttachments(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		in.a.do("POST", dialogPath(conv, "/connect"), nil).want(http.StatusOK)
		pic := makePNG(t, 640, 480)
		var img, doc, vdoc parley.File
		in.a.upload("photo.png", "image/png", pic).want(http.StatusCreated).decode(&img)
		in.a.upload("terms.txt", "text/plain", []byte("the terms")).want(http.StatusCreated).decode(&doc)
		in.a.sendBody(conv, map[string]any{"file_ids": []int64{img.ID, doc.ID}})
		in.vera.do("POST", "/api/v1/widget/files?name=invoice.txt", []byte("my invoice")).want(http.StatusCreated).decode(&vdoc)
		in.vera.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "f1", "file_ids": []int64{vdoc.ID}}).want(http.StatusCreated)

		files := func(c *client, kind string) []string {
			var l httpapi.FileList
			c.do("GET", dialogPath(conv, "/files?kind="+kind), nil).want(http.StatusOK).decode(&l)
			var out []string
			for _, f := range l.Files {
				out = append(out, f.Name)
			}
			return out
		}
		if got := files(in.b, "image"); !slices.Equal(got, []string{"photo.png"}) {
			t.Fatalf("images: %v", got)
		}
		if got := files(in.b, "file"); !slices.Equal(got, []string{"invoice.txt", "terms.txt"}) {
			t.Fatalf("files: %v", got)
		}
		in.a.do("GET", dialogPath(conv, "/files?kind=video"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		outsider.do("GET", dialogPath(conv, "/files?kind=image"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Re-sending: a copy that is the sender's own upload.
		var cp parley.File
		in.a.do("POST", filePath(vdoc.ID, "/copy"), nil).want(http.StatusCreated).decode(&cp)
		if cp.ID == vdoc.ID || cp.Name != "invoice.txt" || cp.OwnerID != in.a.id() || cp.ConversationID != 0 {
			t.Fatalf("copy: %+v", cp)
		}
		in.a.sendBody(conv, map[string]any{"file_ids": []int64{cp.ID}})
		if r := in.a.do("GET", filePath(cp.ID, ""), nil).want(http.StatusOK); string(r.Body) != "my invoice" {
			t.Fatalf("copied bytes: %q", r.Body)
		}
		outsider.do("POST", filePath(vdoc.ID, "/copy"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Attachment limits: validated, shown to the widget, enforced on
		// upload (before reading) and on send.
		project := fmt.Sprintf("/api/v1/projects/%d", in.project.ID)
		in.admin.do("PATCH", project, map[string]any{"attachment_limits": map[string]any{"fax": map[string]any{"image": 1}}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		in.admin.do("PATCH", project, map[string]any{"attachment_limits": map[string]any{"widget": map[string]any{"image": -1}}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		in.a.do("PATCH", project, map[string]any{"attachment_limits": map[string]any{"widget": map[string]any{"image": 1024}}}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var p parley.Project
		in.admin.do("PATCH", project, map[string]any{"attachment_limits": map[string]any{"widget": map[string]any{"image": 1024}}}).
			want(http.StatusOK).decode(&p)
		if p.AttachmentLimits["widget"].Image != 1024 {
			t.Fatalf("limits kept: %+v", p.AttachmentLimits)
		}
		var pub livechat.PublicProject
		in.vera.do("GET", "/api/v1/widget/projects/"+in.project.Key, nil).want(http.StatusOK).decode(&pub)
		if pub.AttachmentLimits.Image != 1024 || pub.AttachmentLimits.Other != pub.MaxFileSize {
			t.Fatalf("widget limits: %+v", pub.AttachmentLimits)
		}
		var d livechat.Dialog
		in.a.do("GET", dialogPath(conv, ""), nil).want(http.StatusOK).decode(&d)
		if d.AttachmentLimits.Image != 1024 {
			t.Fatalf("dialog limits: %+v", d.AttachmentLimits)
		}
		hc := *in.a
		hc.header = in.a.header.Clone()
		hc.header.Set("Content-Type", "image/png")
		e := hc.do("POST", fmt.Sprintf("/api/v1/files?name=big.png&conversation_id=%d", conv), pic).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
		if !strings.Contains(e.Message, "Images can be at most 1 KB") {
			t.Fatalf("refusal: %q", e.Message)
		}
		var big parley.File
		in.a.upload("big.png", "image/png", pic).want(http.StatusCreated).decode(&big) // no dialog named: the server's limit
		in.a.do("POST", convPath(conv, "/messages"), map[string]any{"file_ids": []int64{big.ID}}).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
		vc := *in.vera.client
		vc.header = in.vera.header.Clone()
		vc.header.Set("Content-Type", "image/png")
		vc.do("POST", "/api/v1/widget/files?name=big.png", pic).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
		in.a.upload("small.txt", "text/plain", []byte("fits")).want(http.StatusCreated) // other kinds keep their limit
	})
}

// Unpinning a dialog from its customer.
func TestInboxUnpin(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		in.a.do("POST", dialogPath(conv, "/connect"), nil).want(http.StatusOK) // Anna is in charge
		in.b.do("POST", dialogPath(conv, "/unpin"), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		s.newUser(t, parley.RoleAgent, "Otto Outsider").do("POST", dialogPath(conv, "/unpin"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		var d livechat.Dialog
		in.a.do("POST", dialogPath(conv, "/unpin"), nil).want(http.StatusOK).decode(&d)
		if d.Contact != nil || d.Support.ContactID != 0 || !d.Support.WaitingSince.IsZero() || d.Support.Unanswered != 0 {
			t.Fatalf("unpinned dialog: contact %+v, support %+v", d.Contact, d.Support)
		}
		if e := lastAction(t, in.a, conv, parley.ActionUnpinned); e == nil || e.ActorID != in.a.id() {
			t.Fatalf("no unpinned line: %v", actions(t, in.a, conv))
		}
		in.a.do("POST", dialogPath(conv, "/unpin"), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		in.a.do("POST", convPath(conv, "/messages"), map[string]any{"text": "hello?"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		// The customer stays; their card no longer lists the dialog; their
		// next message opens a new one.
		var card livechat.CustomerCard
		in.a.do("GET", fmt.Sprintf("/api/v1/contacts/%d", in.contacts["Vera"]), nil).want(http.StatusOK).decode(&card)
		for _, od := range card.Dialogs {
			if od.Conversation.ID == conv {
				t.Fatal("the card still lists the unpinned dialog")
			}
		}
		in.vera.send("Hello again")
		if h := in.vera.history(); h.Conversation.ID == conv || h.Messages[0].Text != "Hello again" {
			t.Fatalf("after unpinning, the customer's message went to %d: %+v", h.Conversation.ID, h.Messages[0])
		}
		// The unpinned dialog stays in the list with its history.
		if got := in.a.history(conv, ""); len(got) < 2 {
			t.Fatalf("history of the unpinned dialog: %d messages", len(got))
		}
	})
}

// Deleting dialogs needs the "dialogs.delete" right; the dialogs and their
// files are gone, the customers stay.
func TestInboxDeleteDialogs(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		vera, ivan, olga := in.dialogs["Vera"], in.dialogs["Ivan"], in.dialogs["Olga"]
		in.a.do("POST", dialogPath(vera, "/connect"), nil).want(http.StatusOK)
		var f parley.File
		in.a.upload("terms.txt", "text/plain", []byte("the terms")).want(http.StatusCreated).decode(&f)
		in.a.sendBody(vera, map[string]any{"file_ids": []int64{f.ID}})
		var k parley.Case
		in.a.do("POST", dialogPath(vera, "/case"), map[string]any{}).want(http.StatusCreated).decode(&k)

		del := func(c *client, ids ...int64) *response {
			return c.do("POST", "/api/v1/dialogs/delete", map[string]any{"ids": ids})
		}
		del(in.a, vera).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		del(in.admin).wantErr(http.StatusBadRequest, parley.EINVALID)
		del(in.admin, vera, 999999).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.a.do("GET", dialogPath(vera, ""), nil).want(http.StatusOK) // nothing was deleted

		// What deleting must remove beyond the rows: the file's bytes and
		// the messages' search entries.
		blobs := filepath.Join(s.m.Config.DataDir, "files")
		stored := filesIn(t, blobs)
		if got := in.a.search("q=Vera"); len(got) == 0 {
			t.Fatal("the dialog's message is not found before deleting it")
		}
		sock := in.b.connect()
		sock.waitFor("hello")
		var out httpapi.DeletedOutput
		del(in.admin, vera, ivan, vera).want(http.StatusOK).decode(&out)
		if out.Deleted != 2 {
			t.Fatalf("deleted %d", out.Deleted)
		}
		if fr := sock.waitFor(parley.EventDialogDeleted); fr["data"].(map[string]any)["conversation_id"] != float64(vera) &&
			fr["data"].(map[string]any)["conversation_id"] != float64(ivan) {
			t.Fatalf("dialog.deleted: %v", fr)
		}
		in.admin.do("GET", dialogPath(vera, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.admin.do("GET", convPath(vera, "/messages"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.admin.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if got := filesIn(t, blobs); got != stored-1 {
			t.Fatalf("%d stored files after deleting the dialog's one, want %d", got, stored-1)
		}
		if got := in.a.search("q=Vera"); len(got) != 0 {
			t.Fatalf("search still finds the deleted dialog's messages: %+v", got[0])
		}
		if got := names(in.list(in.admin, "")); !slices.Equal(got, []string{"Olga"}) {
			t.Fatalf("list after deleting: %v", got)
		}
		// What stays: the customers, and the case made from the dialog.
		in.admin.do("GET", fmt.Sprintf("/api/v1/contacts/%d", in.contacts["Vera"]), nil).want(http.StatusOK)
		in.admin.do("GET", fmt.Sprintf("/api/v1/cases/%d", k.ID), nil).want(http.StatusOK)
		// The customer starts afresh.
		in.vera.send("Hello?")
		if h := in.vera.history(); h.Conversation.ID == vera || h.Messages[0].Text != "Hello?" {
			t.Fatalf("after deletion the customer wrote into %d: %+v", h.Conversation.ID, h.Messages[0])
		}

		// The right through a group.
		var g parley.Group
		in.admin.do("POST", "/api/v1/groups", map[string]any{"name": "Cleaners", "rights": []string{parley.RightDialogsDelete},
			"member_ids": []int64{in.b.id()}}).want(http.StatusCreated).decode(&g)
		del(in.b, olga).want(http.StatusOK)
		in.admin.do("GET", dialogPath(olga, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	})
}

// A client resuming from its cursor receives what it missed of the dialogs
// it hears live: a manager who serves no project hears every dialog, a
// specialist their project's, but not one reassigned away from them.
func TestInboxResumeFollowsAudience(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		cursor := func(c *client) int64 {
			sock := c.connect()
			hello := sock.waitFor("hello")
			sock.ws.Close(websocket.StatusNormalClosure, "")
			return int64(hello["cursor"].(float64))
		}
		vera, ivan := in.dialogs["Vera"], in.dialogs["Ivan"]
		in.a.do("POST", dialogPath(vera, "/connect"), nil).want(http.StatusOK) // Anna is in charge of Vera's
		in.admin.do("POST", dialogPath(vera, "/reassign"), map[string]any{"user_id": in.b.id()}).want(http.StatusOK)
		adminAt, annaAt := cursor(in.admin), cursor(in.a)

		// While they are away, both customers write.
		in.vera.send("Where is my parcel?")
		in.ivan.send("Hello again")

		missed := func(c *client, at int64) map[int64]bool {
			sock := c.connectAt(at)
			sock.waitFor("hello")
			got := map[int64]bool{}
			deadline := time.After(3 * time.Second)
			for {
				select {
				case f, ok := <-sock.frames:
					if !ok {
						return got
					}
					if f["type"] == parley.EventMessageCreated {
						got[int64(f["data"].(map[string]any)["conversation_id"].(float64))] = true
					}
				case <-deadline:
					return got
				}
			}
		}
		if got := missed(in.admin, adminAt); !got[vera] || !got[ivan] {
			t.Fatalf("the manager's resume missed dialogs' messages: %v", got)
		}
		if got := missed(in.a, annaAt); got[vera] || !got[ivan] {
			t.Fatalf("the specialist's resume: %v (Vera's was reassigned away from her, Ivan's is her project's)", got)
		}
	})
}
