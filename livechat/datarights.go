package livechat

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Customers' data rights (issue 13): exporting everything stored about a
// customer, erasing them, and deleting dialogs past their project's
// retention. Each is recorded in the audit log in the transaction of its
// change (an export's: of its authorisation, before it streams).

// maxRetentionDays bounds a project's retention (a hundred years).
const maxRetentionDays = 36500

// canDataRights is the rule for exporting and erasing customers: those
// who manage live chat (the chat settings right: administrators,
// supervisors, and groups that carry it). A project's agents may not: an
// export is every dialog of the customer, including the ones reassigned
// away from them, and an erasure cannot be undone.
func canDataRights(ctx context.Context, r parley.Reader, actor *parley.User) error {
	return parley.RequireRight(ctx, r, actor, parley.RightChatSettings,
		"exporting or erasing a customer's data needs the chat settings right")
}

// ContactExport is a customer's data, ready to stream (WriteTo).
type ContactExport struct {
	// Filename names the download ("customer-42.zip").
	Filename string
	s        *Service
	contact  *parley.Contact
	at       time.Time
}

// ExportContact checks that the actor may export the customer and records
// the export in the audit log; the caller then streams it with WriteTo.
func (s *Service) ExportContact(ctx context.Context, actor *parley.User, contactID int64) (*ContactExport, error) {
	x := &ContactExport{s: s, Filename: fmt.Sprintf("customer-%d.zip", contactID), at: s.now()}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canDataRights(ctx, tx, actor); err != nil {
			return err
		}
		k, err := tx.ContactByID(ctx, contactID)
		if err != nil {
			return err
		}
		x.contact = k
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, x.at, parley.AuditContactExported, "contact", k.ID,
			map[string]int64{"project_id": k.ProjectID}))
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// exportPage is how many messages (and dialogs) an export holds in memory
// at once.
const exportPage = 200

// WriteTo streams the export as a ZIP: customer.json, the whole record
// (the customer, their channel identity, their dialogs with every message
// and rating, their cases with comments, the names of the staff who
// wrote), then each file of their dialogs under files/. Nothing but a page
// of messages is held in memory. An error after the first byte leaves a
// truncated archive: the caller can only abort the download.
func (x *ContactExport) WriteTo(ctx context.Context, w io.Writer) error {
	s, k := x.s, x.contact
	z := zip.NewWriter(w)
	doc, err := z.CreateHeader(&zip.FileHeader{Name: "customer.json", Method: zip.Deflate, Modified: x.at})
	if err != nil {
		return err
	}
	out := &jsonStream{w: doc}
	out.raw(`{"exported_at":`)
	out.value(x.at)
	out.raw(`,"customer":`)
	out.value(k)
	out.raw(`,"channel_identities":`)
	ids := []map[string]any{}
	if k.ChannelID != 0 {
		id := map[string]any{"channel_id": k.ChannelID, "address": k.Address}
		if ch, err := s.store.ChannelByID(ctx, k.ChannelID); err == nil {
			id["channel"], id["channel_name"] = ch.Kind, ch.Name
		}
		ids = append(ids, id)
	}
	if k.ExternalID != "" {
		ids = append(ids, map[string]any{"channel": "widget", "external_id": k.ExternalID})
	}
	out.value(ids)

	// The dialogs, a page at a time, each with its messages a page at a
	// time; the files are gathered (their rows only) for the archive.
	var files []parley.File
	staff := map[int64]bool{}
	out.raw(`,"dialogs":[`)
	first := true
	for cursor := ""; ; {
		convs, next, err := s.store.Dialogs(ctx, parley.DialogFilter{ContactID: k.ID, Cursor: cursor, Limit: exportPage})
		if err != nil {
			return err
		}
		ratings, err := s.store.Ratings(ctx, convIDs(convs))
		if err != nil {
			return err
		}
		for _, c := range convs {
			if !first {
				out.raw(",")
			}
			first = false
			out.raw(`{"dialog":`)
			out.value(c)
			out.raw(`,"rating":`)
			out.value(ratings[c.ID])
			out.raw(`,"messages":[`)
			page := parley.MessagePage{Before: exportPage + 1, Limit: exportPage}
			for n := 0; ; {
				ms, err := s.store.Messages(ctx, c.ID, page)
				if err != nil {
					return err
				}
				for _, m := range ms {
					if n > 0 {
						out.raw(",")
					}
					n++
					out.value(m)
					files = append(files, m.Files...)
					if m.SenderID != 0 {
						staff[m.SenderID] = true
					}
				}
				if len(ms) < exportPage {
					break
				}
				page = parley.MessagePage{After: ms[len(ms)-1].Seq, Limit: exportPage}
			}
			out.raw("]}")
		}
		if next == "" {
			break
		}
		cursor = next
	}
	out.raw(`],"cases":[`)
	for n, before := 0, int64(0); ; {
		cases, err := s.store.Cases(ctx, parley.CaseFilter{ProjectIDs: []int64{k.ProjectID}, ContactID: k.ID, Before: before, Limit: exportPage})
		if err != nil {
			return err
		}
		for _, c := range cases {
			comments, err := s.store.CaseComments(ctx, c.ID)
			if err != nil {
				return err
			}
			if comments == nil {
				comments = []*parley.CaseComment{}
			}
			if n > 0 {
				out.raw(",")
			}
			n++
			out.value(map[string]any{"case": c, "comments": comments})
		}
		if len(cases) < exportPage {
			break
		}
		before = cases[len(cases)-1].ID
	}
	// The customer card's history (messages moved there, issue 14).
	notes, err := s.store.ContactNotes(ctx, k.ID)
	if err != nil {
		return err
	}
	if notes == nil {
		notes = []*parley.ContactNote{}
	}
	for _, nt := range notes {
		staff[nt.AuthorID] = true
	}
	out.raw(`],"notes":`)
	out.value(notes)
	out.raw(`,"staff":{`)
	n := 0
	for id := range staff {
		u, err := s.store.UserByID(ctx, id)
		if err != nil {
			continue // a removed user: the id stays in the messages
		}
		if n > 0 {
			out.raw(",")
		}
		n++
		out.value(fmt.Sprint(id))
		out.raw(":")
		out.value(u.Name)
	}
	out.raw("}}\n")
	if out.err != nil {
		return out.err
	}
	for _, f := range files {
		if err := x.addFile(ctx, z, f); err != nil {
			return err
		}
	}
	return z.Close()
}

// addFile copies one file into the archive as files/<id>-<name>; a file
// whose bytes are gone is left out.
func (x *ContactExport) addFile(ctx context.Context, z *zip.Writer, f parley.File) error {
	r, _, err := x.s.blobs.Get(ctx, f.BlobKey())
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	name := strings.NewReplacer("/", "_", "\\", "_").Replace(path.Base(f.Name))
	dst, err := z.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("files/%d-%s", f.ID, name), Method: zip.Store, Modified: f.CreatedAt})
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, r)
	return err
}

// jsonStream writes a JSON document piece by piece, keeping the first
// error.
type jsonStream struct {
	w   io.Writer
	err error
}

func (j *jsonStream) raw(s string) {
	if j.err == nil {
		_, j.err = io.WriteString(j.w, s)
	}
}

func (j *jsonStream) value(v any) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

func convIDs(cs []*parley.Conversation) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// Erased is what an erasure removed.
type Erased struct {
	Contact *parley.Contact `json:"contact"`
	Dialogs int             `json:"dialogs"`
	Files   int             `json:"files"`
}

// EraseContact erases a customer (issue 13, docs/decisions.md): their
// dialogs are deleted with every message, rating and file, their cases
// with their comments, their tags; their row is emptied (name, e-mail,
// phone, attributes, source, channel address, external id) and kept as a
// tombstone, so that their widget's token is refused from now on and
// erasing again changes nothing. Their open sockets are closed. The audit
// entry holds counts only.
func (s *Service) EraseContact(ctx context.Context, actor *parley.User, contactID int64) (*Erased, error) {
	var out *Erased
	var files []parley.File
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		files = nil
		if err := canDataRights(ctx, tx, actor); err != nil {
			return err
		}
		if err := tx.LockContacts(ctx, contactID); err != nil {
			return err
		}
		k, err := tx.ContactByID(ctx, contactID)
		if err != nil {
			return err
		}
		out = &Erased{Contact: k}
		if !k.ErasedAt.IsZero() {
			return nil // already erased
		}
		var convs []*parley.Conversation
		for cursor := ""; ; {
			page, next, err := tx.Dialogs(ctx, parley.DialogFilter{ContactID: k.ID, Cursor: cursor, Limit: 1000})
			if err != nil {
				return err
			}
			convs = append(convs, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if files, err = s.deleteDialogsIn(ctx, tx, convIDs(convs)); err != nil {
			return err
		}
		more, err := tx.EraseContact(ctx, k.ID, s.now())
		if err != nil {
			return err
		}
		files = append(files, more...)
		if err := trash(ctx, tx, files); err != nil {
			return err
		}
		out.Dialogs, out.Files = len(convs), len(files)
		if out.Contact, err = tx.ContactByID(ctx, k.ID); err != nil {
			return err
		}
		e := parley.NewEvent(parley.EventContactErased, 0, 0, map[string]int64{"contact_id": k.ID})
		e.ContactID = k.ID
		tx.Emit(e)
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), parley.AuditContactErased, "contact", k.ID,
			map[string]int64{"project_id": k.ProjectID, "dialogs": int64(out.Dialogs), "files": int64(out.Files)}))
	})
	if err != nil {
		return nil, err
	}
	s.DropBlobs(ctx, files)
	s.log.Info("customer erased", "by", actor.ID, "contact", contactID, "dialogs", out.Dialogs, "files", out.Files)
	return out, nil
}

// deleteDialogsIn deletes dialogs in tx, telling their staff and their
// customer first (once deleted, a dialog has no audience), and returns
// their files, already in the blob trash (see DropBlobs).
func (s *Service) deleteDialogsIn(ctx context.Context, tx parley.Tx, ids []int64) ([]parley.File, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	convs, err := tx.LockConversations(ctx, ids)
	if err != nil {
		return nil, err
	}
	audiences, err := tx.Audiences(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		c := convs[id]
		if c == nil || c.Support == nil {
			continue
		}
		data := map[string]int64{"conversation_id": c.ID}
		e := parley.NewEvent(parley.EventDialogDeleted, c.ID, 0, data)
		e.Audience = audiences[c.ID]
		if e.Audience == nil {
			e.Audience = []int64{}
		}
		tx.Emit(e)
		if c.Support.ContactID != 0 {
			v := parley.NewEvent(parley.EventConversationRemoved, c.ID, 0, data)
			v.ContactID = c.Support.ContactID
			tx.Emit(v)
		}
	}
	files, err := tx.DeleteDialogs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return files, trash(ctx, tx, files)
}

// trash lists files' blobs in the blob trash, in the transaction that
// drops their rows.
func trash(ctx context.Context, tx parley.Tx, files []parley.File) error {
	keys := make([]string, 0, 2*len(files))
	for _, f := range files {
		keys = append(keys, f.BlobKey())
		if f.HasThumb {
			keys = append(keys, f.ThumbKey())
		}
	}
	return tx.TrashBlobs(ctx, keys)
}

// DropBlobs deletes, after the commit that dropped their rows, the blobs
// of files and forgets them in the blob trash. A failure (or a node that
// dies first) leaves them in the trash for SweepBlobs, never a row
// without its bytes.
func (s *Service) DropBlobs(ctx context.Context, files []parley.File) {
	var keys []string
	for _, f := range files {
		keys = append(keys, f.BlobKey())
		if f.HasThumb {
			keys = append(keys, f.ThumbKey())
		}
	}
	s.dropKeys(ctx, keys)
}

// dropKeys deletes blobs and forgets them in the trash; it returns how
// many it deleted.
func (s *Service) dropKeys(ctx context.Context, keys []string) int {
	done := keys[:0:0]
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.log.Warn("deleting a blob; it stays in the trash", "key", k, "err", err)
			continue
		}
		done = append(done, k)
	}
	if len(done) == 0 {
		return 0
	}
	if _, err := s.store.Write(ctx, func(tx parley.Tx) error { return tx.UntrashBlobs(ctx, done) }); err != nil {
		s.log.Warn("emptying the blob trash", "err", err)
		return 0
	}
	return len(done)
}

// SweepBlobs deletes up to limit blobs left in the trash (by a node that
// died between a commit and its deletions); it reports how many it
// deleted.
func (s *Service) SweepBlobs(ctx context.Context, limit int) (int, error) {
	keys, err := s.store.TrashedBlobs(ctx, limit)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	return s.dropKeys(ctx, keys), nil
}

// RetentionBatch runs one step of a project's retention (docs/operations.md):
// it deletes up to batch of the dialogs closed before the run's cutoff,
// with their messages and files, and advances the run in the same
// transaction, so that a run cut short by a restart resumes where it
// stopped, with the same cutoff and counts. When nothing is left it ends
// the run with one audit entry of its counts (none for a run that deleted
// nothing) and reports done. A run starts with the cutoff now minus the
// project's retention days.
func (s *Service) RetentionBatch(ctx context.Context, projectID int64, batch int) (done bool, err error) {
	var files []parley.File
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		files, done = nil, false
		p, err := tx.ProjectByID(ctx, projectID)
		if err != nil {
			return err
		}
		now := s.now()
		run, err := tx.RetentionRun(ctx, p.ID)
		switch {
		case parley.ErrorCode(err) == parley.ENOTFOUND && p.RetentionDays == 0:
			done = true
			return nil
		case parley.ErrorCode(err) == parley.ENOTFOUND:
			run = &parley.RetentionRun{ProjectID: p.ID, StartedAt: now, Cutoff: now.AddDate(0, 0, -p.RetentionDays)}
		case err != nil:
			return err
		}
		var ids []int64
		if p.RetentionDays > 0 { // retention turned off mid-run ends the run
			if ids, err = tx.ExpiredDialogs(ctx, p.ID, run.Cutoff, batch); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			done = true
			if run.Dialogs > 0 {
				detail := map[string]any{"dialogs": run.Dialogs, "files": run.Files, "retention_days": p.RetentionDays,
					"closed_before": run.Cutoff, "started_at": run.StartedAt}
				if err := tx.Audit(ctx, parley.NewAudit(ctx, nil, now, parley.AuditRetentionRun, "project", p.ID, detail)); err != nil {
					return err
				}
			}
			return tx.EndRetentionRun(ctx, p.ID)
		}
		if files, err = s.deleteDialogsIn(ctx, tx, ids); err != nil {
			return err
		}
		run.Dialogs += int64(len(ids))
		run.Files += int64(len(files))
		return tx.PutRetentionRun(ctx, run)
	})
	if err != nil {
		return false, err
	}
	s.DropBlobs(ctx, files)
	return done, nil
}
