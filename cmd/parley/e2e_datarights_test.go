package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/realtime"
)

// TestAuditLogAccess: only administrators read the audit log; bad filters
// are refused.
func TestAuditLogAccess(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	for _, role := range []parley.Role{parley.RoleSupervisor, parley.RoleAgent, parley.RoleMember} {
		s.newUser(t, role, "").do("GET", "/api/v1/audit", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	}
	s.anon(t).do("GET", "/api/v1/audit", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	admin.do("GET", "/api/v1/audit?action=DROP%20TABLE", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	admin.do("GET", "/api/v1/audit?target_id=x", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	var page accounts.AuditPage
	admin.do("GET", "/api/v1/audit", nil).want(http.StatusOK).decode(&page)
	if page.Entries == nil || len(page.Entries) != 0 || page.NextBefore != 0 {
		t.Fatalf("a new server's audit log: %+v", page)
	}
}

// TestContactExportAndErase: a supervisor exports everything stored about
// a customer (a ZIP with the record and the files); agents may neither
// export nor erase, and a refused erasure changes nothing; an
// administrator erases the customer: their dialog, messages, rating, file
// and personal data go, their widget socket is closed and their token
// refused, the audit log records both actions without the erased data,
// and erasing again changes nothing.
func TestContactExportAndErase(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		sup := s.newUser(t, parley.RoleSupervisor, "Sam Supervisor")
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera Private", "email": "vera@private.example"})
		var vf livechat.VisitorFile
		v.do("POST", "/api/v1/widget/files?name=passport.txt", []byte("PASSPORT-BYTES")).want(http.StatusCreated).decode(&vf)
		v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "f1", "text": "my passport", "file_ids": []int64{vf.ID}}).
			want(http.StatusCreated)
		v.send("my address is Elm street 5")
		conv := v.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
		lc.a.send(conv, "Thanks Vera, noted")
		var kase parley.Case
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", conv), map[string]any{"title": "Passport check"}).
			want(http.StatusCreated, http.StatusOK).decode(&kase)
		var d livechat.Dialog
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", conv), nil).want(http.StatusOK).decode(&d)
		v.do("POST", "/api/v1/widget/rating", map[string]any{"score": 5, "comment": "great help"}).want(http.StatusCreated)
		contact := d.Contact.ID
		export := fmt.Sprintf("/api/v1/contacts/%d/export", contact)
		erase := fmt.Sprintf("/api/v1/contacts/%d/erase", contact)

		// Agents of the project may do neither.
		lc.a.do("GET", export, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("POST", erase, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		sup.do("GET", "/api/v1/contacts/999999/export", nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		r := sup.do("GET", export, nil).want(http.StatusOK)
		if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); ct != "application/zip" ||
			cd != fmt.Sprintf(`attachment; filename="customer-%d.zip"`, contact) {
			t.Fatalf("export headers %q %q", ct, cd)
		}
		zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatal(err)
		}
		entries := map[string]string{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			entries[f.Name] = string(b)
		}
		if got := entries[fmt.Sprintf("files/%d-passport.txt", vf.ID)]; got != "PASSPORT-BYTES" {
			t.Fatalf("the exported file: %q (entries %v)", got, len(entries))
		}
		var doc struct {
			Customer parley.Contact `json:"customer"`
			Dialogs  []struct {
				Dialog   parley.Conversation `json:"dialog"`
				Rating   *parley.Rating      `json:"rating"`
				Messages []parley.Message    `json:"messages"`
			} `json:"dialogs"`
			Cases []struct {
				Case     parley.Case          `json:"case"`
				Comments []parley.CaseComment `json:"comments"`
			} `json:"cases"`
			Staff map[string]string `json:"staff"`
		}
		if err := json.Unmarshal([]byte(entries["customer.json"]), &doc); err != nil {
			t.Fatalf("customer.json: %v", err)
		}
		if doc.Customer.Name != "Vera Private" || doc.Customer.Email != "vera@private.example" || len(doc.Dialogs) != 1 ||
			doc.Dialogs[0].Rating == nil || doc.Dialogs[0].Rating.Score != 5 || doc.Staff[fmt.Sprint(lc.a.id())] != "Anna Agent" ||
			// Nobody was online when Vera wrote: an offline case with her
			// later message as a comment, and the case Anna made.
			len(doc.Cases) != 2 || doc.Cases[0].Case.ID != kase.ID || doc.Cases[0].Case.Title != "Passport check" ||
			len(doc.Cases[1].Comments) != 1 || doc.Cases[1].Comments[0].Text != "my address is Elm street 5" {
			t.Fatalf("customer.json: %s", entries["customer.json"])
		}
		var texts []string
		for _, m := range doc.Dialogs[0].Messages {
			texts = append(texts, m.Text)
		}
		for _, want := range []string{"my passport", "my address is Elm street 5", "Thanks Vera, noted"} {
			if !slices.Contains(texts, want) {
				t.Fatalf("the export's messages %q lack %q", texts, want)
			}
		}

		// The visitor is connected when the erasure comes.
		vSock := v.connect(0)
		vSock.waitFor("hello")
		dir := filepath.Join(s.m.Config.DataDir, "files")
		if n := filesIn(t, dir); n != 1 {
			t.Fatalf("%d stored files before the erasure", n)
		}
		var erased livechat.Erased
		lc.admin.do("POST", erase, nil).want(http.StatusOK).decode(&erased)
		if erased.Dialogs != 1 || erased.Files != 1 || erased.Contact.Name != "" || erased.Contact.Email != "" || erased.Contact.ErasedAt.IsZero() {
			t.Fatalf("erased %+v", erased)
		}
		if code := vSock.closed(); code != realtime.CloseUnauthorized {
			t.Fatalf("the visitor's socket closed with %d", code)
		}
		v.do("GET", "/api/v1/widget/messages", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "late", "text": "hi"}).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		if n := filesIn(t, dir); n != 0 {
			t.Fatalf("%d stored files after the erasure", n)
		}
		lc.admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", conv), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		lc.admin.do("GET", fmt.Sprintf("/api/v1/cases/%d", kase.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var card livechat.CustomerCard
		lc.admin.do("GET", fmt.Sprintf("/api/v1/contacts/%d", contact), nil).want(http.StatusOK).decode(&card)
		if card.Contact.Name != "" || card.Contact.Email != "" || len(card.Dialogs) != 0 || len(card.Cases) != 0 {
			t.Fatalf("the erased customer's card: %+v", card)
		}
		if hits := lc.a.search("Elm"); len(hits) != 0 {
			t.Fatalf("search still finds the erased messages: %+v", hits)
		}

		// Again: nothing changes, nothing more is logged.
		lc.admin.do("POST", erase, nil).want(http.StatusOK).decode(&erased)
		if erased.Dialogs != 0 || erased.Contact.ErasedAt.IsZero() {
			t.Fatalf("erasing again: %+v", erased)
		}
		var page accounts.AuditPage
		lc.admin.do("GET", "/api/v1/audit?target_type=contact&target_id="+itoa(contact), nil).want(http.StatusOK).decode(&page)
		if len(page.Entries) != 2 {
			t.Fatalf("audit entries of the customer: %+v", page.Entries)
		}
		er, ex := page.Entries[0], page.Entries[1]
		if er.Action != parley.AuditContactErased || er.ActorName != "Ada Admin" || er.ClientAddr != "127.0.0.1" ||
			ex.Action != parley.AuditContactExported || ex.ActorID != sup.id() || ex.ActorName != "Sam Supervisor" {
			t.Fatalf("audit entries %+v %+v", er, ex)
		}
		raw, _ := json.Marshal(page)
		for _, personal := range []string{"Vera", "private", "passport", "Elm"} {
			if bytes.Contains(raw, []byte(personal)) {
				t.Fatalf("the audit log holds %q: %s", personal, raw)
			}
		}
		// The widget with the old token starts a new, empty visitor.
		again := s.visitor(t, lc.project.Key, map[string]any{"token": v.token})
		if again.token == v.token || again.session.Contact.Name != "" || again.session.Conversation != nil {
			t.Fatalf("a session with the erased token: %+v", again.session)
		}
	})
}

// TestRetentionJob: a project's retention is a setting of managers; once
// set, the server's job deletes the dialogs closed longer ago, with their
// files, keeps the others, and logs the run.
func TestRetentionJob(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		clk := &testClock{}
		s := newServer(t, append(opts, withClock(clk))...)
		lc := newLiveChat(t, s)
		old := s.visitor(t, lc.project.Key, map[string]any{"name": "Olga"})
		old.do("POST", "/api/v1/widget/files?name=a.txt", []byte("a file")).want(http.StatusCreated)
		var vf livechat.VisitorFile
		old.do("POST", "/api/v1/widget/files?name=b.txt", []byte("b file")).want(http.StatusCreated).decode(&vf)
		old.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "f", "text": "file", "file_ids": []int64{vf.ID}}).
			want(http.StatusCreated)
		oldConv := old.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", oldConv), nil).want(http.StatusOK)
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", oldConv), nil).want(http.StatusOK)
		clk.advance(3 * 24 * time.Hour)
		recent := s.visitor(t, lc.project.Key, map[string]any{"name": "Rita"})
		recent.send("hello")
		recentConv := recent.history().Conversation.ID
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", recentConv), nil).want(http.StatusOK)
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", recentConv), nil).want(http.StatusOK)

		path := fmt.Sprintf("/api/v1/projects/%d", lc.project.ID)
		lc.a.do("PATCH", path, map[string]any{"retention_days": 2}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		for _, bad := range []any{-1, 36501, "2"} {
			lc.admin.do("PATCH", path, map[string]any{"retention_days": bad}).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		var p parley.Project
		lc.admin.do("GET", path, nil).want(http.StatusOK).decode(&p)
		if p.RetentionDays != 0 {
			t.Fatalf("refused changes changed the retention: %d", p.RetentionDays)
		}
		lc.admin.do("PATCH", path, map[string]any{"retention_days": 2}).want(http.StatusOK).decode(&p)
		if p.RetentionDays != 2 {
			t.Fatalf("retention %d", p.RetentionDays)
		}
		var page accounts.AuditPage
		eventually(t, "the retention run's audit entry", func() bool {
			lc.admin.do("GET", "/api/v1/audit?action=retention.run", nil).want(http.StatusOK).decode(&page)
			return len(page.Entries) > 0
		})
		e := page.Entries[0]
		if len(page.Entries) != 1 || e.TargetID != lc.project.ID || e.ActorName != "system" ||
			!bytes.Contains(e.Detail, []byte(`"dialogs":1,"files":1,`)) {
			t.Fatalf("retention entries %+v: %s", page.Entries, e.Detail)
		}
		lc.admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", oldConv), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		lc.admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", recentConv), nil).want(http.StatusOK)
		// The old dialog's file went with it; the upload never sent stays
		// its visitor's (the customer is not erased).
		if n := filesIn(t, filepath.Join(s.m.Config.DataDir, "files")); n != 1 {
			t.Fatalf("%d stored files after the run, want 1", n)
		}
	})
}
