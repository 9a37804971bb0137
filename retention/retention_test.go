package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

var start = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the services of a test.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ms.Store(t.UnixMilli()) }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// node is one process's live chat service over a shared store and blob
// store: a "restart" is a new node.
func node(t *testing.T, s *sqlstore.Store, blobs parley.Blobs, clk *clock) *livechat.Service {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := inmem.NewBus()
	t.Cleanup(func() { bus.Close() })
	msgs := messaging.New(s, bus, blobs, presence.New(s, bus, log), messaging.Config{Logger: log, Now: clk.now})
	t.Cleanup(msgs.Close)
	lc, err := livechat.New(context.Background(), s, bus, blobs, msgs, presence.New(s, bus, log), livechat.Config{Logger: log, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

// dialog stores a dialog of the project with one customer message
// carrying a file, closed at closedAt (zero: open), and returns it with
// its file.
func dialog(t *testing.T, s *sqlstore.Store, blobs parley.Blobs, projectID int64, closedAt time.Time) (int64, parley.File) {
	t.Helper()
	ctx := context.Background()
	var convID int64
	var f parley.File
	_, err := s.Write(ctx, func(tx parley.Tx) error {
		k := &parley.Contact{ProjectID: projectID, Name: "Vera"}
		if err := tx.CreateContact(ctx, k); err != nil {
			return err
		}
		sup := &parley.Support{ProjectID: projectID, ContactID: k.ID, Status: parley.SupportOpen, Level: 1, Channel: parley.ChannelWidget}
		if !closedAt.IsZero() {
			sup.Status, sup.ClosedAt = parley.SupportClosed, closedAt
		}
		c := &parley.Conversation{Kind: parley.KindSupport, State: parley.StateAllowed, Title: "Vera", Support: sup}
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		f = parley.File{ContactID: k.ID, Name: "passport.txt", ContentType: "text/plain", Size: 5}
		if err := tx.CreateFile(ctx, &f); err != nil {
			return err
		}
		m := &parley.Message{ConversationID: c.ID, ContactID: k.ID, Kind: parley.MsgFile, Text: "my passport", Files: []parley.File{f}}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		convID = c.ID
		return tx.AttachFile(ctx, f.ID, c.ID, m.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := blobs.Put(ctx, f.BlobKey(), strings.NewReader("hello"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	return convID, f
}

func exists(t *testing.T, blobs parley.Blobs, key string) bool {
	t.Helper()
	r, _, err := blobs.Get(context.Background(), key)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	return true
}

// TestRetentionResumes runs a project's retention in batches, stops it
// mid-way (a restart: the next batches run on a new node, later), and
// checks that the run resumes from the database with its first cutoff
// and counts, ends with one audit entry, deletes the expired dialogs'
// files and nothing else.
func TestRetentionResumes(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		blobs, err := blob.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{}
		clk.set(start)
		p := &parley.Project{Name: "Shop", Key: "shop", Secret: "s", RetentionDays: 30}
		if _, err := s.Write(ctx, func(tx parley.Tx) error { return tx.CreateProject(ctx, p) }); err != nil {
			t.Fatal(err)
		}
		type dlg struct {
			id   int64
			file parley.File
		}
		var expired []dlg
		for i := range 5 {
			id, f := dialog(t, s, blobs, p.ID, start.AddDate(0, 0, -40).Add(time.Duration(i)*time.Minute))
			expired = append(expired, dlg{id, f})
		}
		// Kept: closed 27 days before the run began (32 days old after
		// the restart below: the resumed run keeps its first cutoff), 10
		// days ago, and still open.
		late, lateFile := dialog(t, s, blobs, p.ID, start.AddDate(0, 0, -27))
		recent, recentFile := dialog(t, s, blobs, p.ID, start.AddDate(0, 0, -10))
		open, openFile := dialog(t, s, blobs, p.ID, time.Time{})

		first := node(t, s, blobs, clk)
		done, err := first.RetentionBatch(ctx, p.ID, 2)
		if err != nil || done {
			t.Fatalf("first batch: done %v, %v", done, err)
		}
		run, err := s.RetentionRun(ctx, p.ID)
		if err != nil || run.Dialogs != 2 || run.Files != 2 || !run.Cutoff.Equal(start.AddDate(0, 0, -30)) {
			t.Fatalf("run after the first batch: %+v, %v", run, err)
		}
		// The node dies; another starts five days later.
		clk.advance(5 * 24 * time.Hour)
		second := node(t, s, blobs, clk)
		svc := retention.New(s, inmem.NewBus(), second, retention.Config{Node: "second", Batch: 2, Now: clk.now})
		if err := svc.Start(); err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		var entries []*parley.AuditEntry
		deadline := time.Now().Add(30 * time.Second)
		for len(entries) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the resumed run never ended")
			}
			time.Sleep(20 * time.Millisecond)
			if entries, err = s.AuditLog(ctx, parley.AuditFilter{Action: parley.AuditRetentionRun}); err != nil {
				t.Fatal(err)
			}
		}
		svc.Close()
		e := entries[0]
		var detail struct {
			Dialogs, Files int64
			RetentionDays  int64 `json:"retention_days"`
		}
		json.Unmarshal(e.Detail, &detail)
		if len(entries) != 1 || e.ActorID != 0 || e.ActorName != "system" || e.TargetType != "project" || e.TargetID != p.ID ||
			detail.Dialogs != 5 || detail.Files != 5 || detail.RetentionDays != 30 {
			t.Fatalf("audit entries %d, the run's: %+v %s", len(entries), e, e.Detail)
		}
		if _, err := s.RetentionRun(ctx, p.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("the run is still stored: %v", err)
		}
		for _, d := range expired {
			if _, err := s.ConversationByID(ctx, d.id); parley.ErrorCode(err) != parley.ENOTFOUND {
				t.Errorf("expired dialog %d: %v", d.id, err)
			}
			if _, err := s.FileByID(ctx, d.file.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
				t.Errorf("expired dialog %d's file row: %v", d.id, err)
			}
			if exists(t, blobs, d.file.BlobKey()) {
				t.Errorf("expired dialog %d's file is still stored", d.id)
			}
		}
		for _, d := range []dlg{{late, lateFile}, {recent, recentFile}, {open, openFile}} {
			if _, err := s.ConversationByID(ctx, d.id); err != nil {
				t.Errorf("kept dialog %d: %v", d.id, err)
			}
			if !exists(t, blobs, d.file.BlobKey()) {
				t.Errorf("kept dialog %d lost its file", d.id)
			}
		}
		if keys, err := s.TrashedBlobs(ctx, 100); err != nil || len(keys) != 0 {
			t.Fatalf("blob trash after the run: %v, %v", keys, err)
		}

		// The next run has the new cutoff: the dialog closed 32 days ago
		// goes, in a run of its own.
		if err := retention.New(s, nil, second, retention.Config{Batch: 2, Now: clk.now}).RunProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConversationByID(ctx, late); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("the dialog closed 32 days ago: %v", err)
		}
		if _, err := s.ConversationByID(ctx, recent); err != nil {
			t.Errorf("the dialog closed 15 days ago: %v", err)
		}
		entries, err = s.AuditLog(ctx, parley.AuditFilter{Action: parley.AuditRetentionRun})
		if err != nil || len(entries) != 2 || !strings.Contains(string(entries[0].Detail), `"dialogs":1,`) {
			t.Fatalf("after the second run: %d entries, %v", len(entries), err)
		}
		// A run with nothing to delete leaves no entry.
		if err := retention.New(s, nil, second, retention.Config{Now: clk.now}).RunProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if entries, _ = s.AuditLog(ctx, parley.AuditFilter{Action: parley.AuditRetentionRun}); len(entries) != 2 {
			t.Fatalf("an empty run logged: %d entries", len(entries))
		}
	})
}

// TestBlobTrashSurvivesADeadNode: a blob whose row went in a transaction
// that also put it in the trash, on a node that died before deleting it,
// is deleted by the next sweep; a blob still referenced is never in the
// trash and is left alone.
func TestBlobTrashSurvivesADeadNode(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		blobs, err := blob.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{}
		clk.set(start)
		for i := range 3 {
			if err := blobs.Put(ctx, fmt.Sprintf("files/%d", 900+i), strings.NewReader("x"), 1, "text/plain"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Write(ctx, func(tx parley.Tx) error { return tx.TrashBlobs(ctx, []string{"files/900", "files/901"}) }); err != nil {
			t.Fatal(err)
		}
		lc := node(t, s, blobs, clk)
		n, err := lc.SweepBlobs(ctx, 100)
		if err != nil || n != 2 {
			t.Fatalf("swept %d, %v", n, err)
		}
		if exists(t, blobs, "files/900") || exists(t, blobs, "files/901") || !exists(t, blobs, "files/902") {
			t.Fatal("the sweep deleted the wrong blobs")
		}
		if keys, _ := s.TrashedBlobs(ctx, 10); len(keys) != 0 {
			t.Fatalf("trash after the sweep: %v", keys)
		}
	})
}
