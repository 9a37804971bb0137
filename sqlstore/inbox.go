package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
)

// The support inbox: tags, customers' tags, quick replies, and who lost a
// dialog by reassignment.

const tagCols = "id, name, color, created_at, updated_at"

func scanTag(r scanner) (*parley.Tag, error) {
	var t parley.Tag
	var created, updated int64
	if err := r.Scan(&t.ID, &t.Name, &t.Color, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &t, nil
}

func (q *q) Tags(ctx context.Context) ([]*parley.Tag, error) {
	rows, err := q.query(ctx, "SELECT "+tagCols+" FROM tags ORDER BY lower(name), id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTag)
}

func (q *q) TagByID(ctx context.Context, id int64) (*parley.Tag, error) {
	t, err := scanTag(q.queryRow(ctx, "SELECT "+tagCols+" FROM tags WHERE id = $1", id))
	return t, notFound(err, "tag")
}

func (q *q) CreateTag(ctx context.Context, t *parley.Tag) error {
	now := parley.Now()
	t.CreatedAt, t.UpdatedAt = now, now
	return mapErr(q.row(ctx, "tag", "INSERT INTO tags (name, color, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
		[]any{t.Name, t.Color, parley.Millis(now)}, &t.ID), "tag")
}

func (q *q) UpdateTag(ctx context.Context, t *parley.Tag) error {
	t.UpdatedAt = parley.Now()
	return q.execOne(ctx, "tag", "UPDATE tags SET name = $2, color = $3, updated_at = $4 WHERE id = $1",
		t.ID, t.Name, t.Color, parley.Millis(t.UpdatedAt))
}

func (q *q) DeleteTag(ctx context.Context, id int64) error {
	if _, err := q.exec(ctx, "DELETE FROM contact_tags WHERE tag_id = $1", id); err != nil {
		return err
	}
	return q.execOne(ctx, "tag", "DELETE FROM tags WHERE id = $1", id)
}

func (q *q) ContactTags(ctx context.Context, contactIDs []int64) (map[int64][]parley.ContactTag, error) {
	out := make(map[int64][]parley.ContactTag, len(contactIDs))
	if len(contactIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(contactIDs), `SELECT ct.contact_id, t.id, t.name, t.color, ct.pinned FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
		WHERE ct.contact_id IN (`+placeholders(1, len(contactIDs))+`) ORDER BY ct.contact_id, ct.pinned DESC, lower(t.name), t.id`,
		int64Args(contactIDs)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var contact int64
		var t parley.ContactTag
		if err := rows.Scan(&contact, &t.TagID, &t.Name, &t.Color, &t.Pinned); err != nil {
			return nil, err
		}
		out[contact] = append(out[contact], t)
	}
	return out, rows.Err()
}

// TagCounts counts, for each tag, the dialogs f selects whose customer has
// it (pinned, with f.Pinned); f's own tag conditions are ignored, so that
// the counts say what choosing a tag would give.
func (q *q) TagCounts(ctx context.Context, f parley.DialogFilter) (map[int64]int64, error) {
	out := map[int64]int64{}
	if f.ProjectIDs != nil && len(f.ProjectIDs) == 0 {
		return out, nil
	}
	pinned := f.Pinned
	f.TagIDs, f.NoTags, f.Pinned = nil, false, false
	b := dialogQuery(f, 0)
	b.sql = "SELECT t.tag_id, COUNT(*) FROM conversations c JOIN contact_tags t ON t.contact_id = c.contact_id" +
		b.sql[len("SELECT "+convCols+" FROM conversations c"):]
	if pinned {
		b.where("t.pinned = TRUE")
	}
	rows, err := q.adhoc(ctx, b.sql+" GROUP BY t.tag_id", b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

func (q *q) SetContactTag(ctx context.Context, contactID, tagID int64, pinned bool) error {
	if err := q.LockContacts(ctx, contactID); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO contact_tags (contact_id, tag_id, pinned, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (contact_id, tag_id) DO UPDATE SET pinned = excluded.pinned`, contactID, tagID, pinned, parley.Millis(parley.Now()))
	return err
}

func (q *q) RemoveContactTag(ctx context.Context, contactID, tagID int64) error {
	if err := q.LockContacts(ctx, contactID); err != nil {
		return err
	}
	return q.execOne(ctx, "tag on the customer", "DELETE FROM contact_tags WHERE contact_id = $1 AND tag_id = $2", contactID, tagID)
}

// Quick replies.

const quickReplyCols = "id, owner_id, shortcut, text, created_at, updated_at"

func scanQuickReply(r scanner) (*parley.QuickReply, error) {
	var x parley.QuickReply
	var created, updated int64
	if err := r.Scan(&x.ID, &x.OwnerID, &x.Shortcut, &x.Text, &created, &updated); err != nil {
		return nil, err
	}
	x.CreatedAt, x.UpdatedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &x, nil
}

func (q *q) QuickReplies(ctx context.Context, ownerID int64) ([]*parley.QuickReply, error) {
	rows, err := q.query(ctx, "SELECT "+quickReplyCols+" FROM quick_replies WHERE owner_id = $1 ORDER BY lower(shortcut), id", ownerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanQuickReply)
}

func (q *q) QuickReplyByID(ctx context.Context, id int64) (*parley.QuickReply, error) {
	x, err := scanQuickReply(q.queryRow(ctx, "SELECT "+quickReplyCols+" FROM quick_replies WHERE id = $1", id))
	return x, notFound(err, "quick reply")
}

func (q *q) CreateQuickReply(ctx context.Context, x *parley.QuickReply) error {
	now := parley.Now()
	x.CreatedAt, x.UpdatedAt = now, now
	return q.row(ctx, "quick reply", `INSERT INTO quick_replies (owner_id, shortcut, text, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4) RETURNING id`, []any{x.OwnerID, x.Shortcut, x.Text, parley.Millis(now)}, &x.ID)
}

func (q *q) UpdateQuickReply(ctx context.Context, x *parley.QuickReply) error {
	x.UpdatedAt = parley.Now()
	return q.execOne(ctx, "quick reply", "UPDATE quick_replies SET shortcut = $2, text = $3, updated_at = $4 WHERE id = $1",
		x.ID, x.Shortcut, x.Text, parley.Millis(x.UpdatedAt))
}

func (q *q) DeleteQuickReply(ctx context.Context, id int64) error {
	return q.execOne(ctx, "quick reply", "DELETE FROM quick_replies WHERE id = $1", id)
}

// Reassignment.

func (q *q) Revoked(ctx context.Context, convID, userID int64) (bool, error) {
	var n int64
	err := q.queryRow(ctx, "SELECT COUNT(*) FROM dialog_revoked WHERE conversation_id = $1 AND user_id = $2", convID, userID).Scan(&n)
	return n > 0, err
}

func (q *q) SetRevoked(ctx context.Context, convID, userID int64, revoked bool) error {
	if err := q.lockConversations(ctx, convID); err != nil {
		return err
	}
	query := "DELETE FROM dialog_revoked WHERE conversation_id = $1 AND user_id = $2"
	if revoked {
		query = "INSERT INTO dialog_revoked (conversation_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
	}
	_, err := q.exec(ctx, query, convID, userID)
	return err
}

func (q *q) CountDialogs(ctx context.Context, f parley.DialogFilter) (int64, error) {
	if f.ProjectIDs != nil && len(f.ProjectIDs) == 0 {
		return 0, nil
	}
	drive, err := q.rareTag(ctx, f)
	if err != nil {
		return 0, err
	}
	b := dialogQuery(f, drive)
	var n int64
	err = q.queryRow(ctx, "SELECT COUNT(*) FROM ("+b.sql+") x", b.args...).Scan(&n)
	return n, err
}

func (q *q) Audiences(ctx context.Context, convIDs []int64) (map[int64][]int64, error) {
	as, err := q.conversationAudiences(ctx, slices.Clone(convIDs))
	out := make(map[int64][]int64, len(as))
	for id, a := range as {
		out[id] = a.users
	}
	return out, err
}

// Viewers' read state.

func (q *q) DialogViews(ctx context.Context, userID int64, convIDs []int64) (map[int64]*parley.DialogView, error) {
	out := make(map[int64]*parley.DialogView, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.adhoc(ctx, "SELECT conversation_id, read_seq, marked_unread FROM dialog_views WHERE user_id = $1 AND conversation_id IN ("+
		placeholders(2, len(convIDs))+")", append([]any{userID}, int64Args(convIDs)...)...)
	if err != nil {
		return nil, err
	}
	return out, scanAll(rows, func(r *sql.Rows) error {
		v := &parley.DialogView{UserID: userID}
		if err := r.Scan(&v.ConversationID, &v.ReadSeq, &v.MarkedUnread); err != nil {
			return err
		}
		out[v.ConversationID] = v
		return nil
	})
}

func (q *q) SetDialogView(ctx context.Context, v *parley.DialogView) error {
	_, err := q.exec(ctx, `INSERT INTO dialog_views (user_id, conversation_id, read_seq, marked_unread) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_seq = excluded.read_seq, marked_unread = excluded.marked_unread`,
		v.UserID, v.ConversationID, v.ReadSeq, v.MarkedUnread)
	return err
}

// Attachments, unpinning and deleting dialogs.

func (q *q) DialogFiles(ctx context.Context, convID int64, kind string, before int64, limit int) ([]parley.File, error) {
	b := &sqlBuilder{sql: "SELECT f." + strings.ReplaceAll(fileCols, ", ", ", f.") + " FROM files f JOIN messages m ON m.id = f.message_id WHERE f.conversation_id = $1 AND m.deleted_at = 0",
		args: []any{convID}}
	if kind == parley.AttachImage {
		b.where("f.content_type LIKE 'image/%'")
	} else {
		b.where("f.content_type NOT LIKE 'image/%'")
	}
	if before > 0 {
		b.where("f.id < " + b.arg(before))
	}
	rows, err := q.adhoc(ctx, b.sql+" ORDER BY f.id DESC"+limitRows(limit), b.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanFile)
}

func (q *q) UnpinDialog(ctx context.Context, convID int64) error {
	if err := q.lockConversations(ctx, convID); err != nil {
		return err
	}
	return q.execOne(ctx, "conversation", "UPDATE conversations SET contact_id = 0, key = NULL, updated_at = $2 WHERE id = $1 AND project_id <> 0",
		convID, parley.Millis(parley.Now()))
}

func (q *q) DeleteDialogs(ctx context.Context, ids []int64) ([]parley.File, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if err := q.lockConversations(ctx, ids...); err != nil {
		return nil, err
	}
	in, args := placeholders(1, len(ids)), int64Args(ids)
	rows, err := q.adhoc(ctx, "SELECT "+fileCols+" FROM files WHERE conversation_id IN ("+in+")", args...)
	if err != nil {
		return nil, err
	}
	files, err := collect(rows, scanFile)
	if err != nil {
		return nil, err
	}
	if err := q.s.dialect.unindex(ctx, q, in, args); err != nil {
		return nil, err
	}
	for _, st := range []string{
		"DELETE FROM reminders WHERE conversation_id IN (" + in + ")",
		"DELETE FROM files WHERE conversation_id IN (" + in + ")",
		"DELETE FROM messages WHERE conversation_id IN (" + in + ")",
		"DELETE FROM members WHERE conversation_id IN (" + in + ")",
		"DELETE FROM dialog_views WHERE conversation_id IN (" + in + ")",
		"DELETE FROM dialog_revoked WHERE conversation_id IN (" + in + ")",
		"DELETE FROM ratings WHERE conversation_id IN (" + in + ")",
		"DELETE FROM channel_messages WHERE conversation_id IN (" + in + ")",
		"DELETE FROM routing_decisions WHERE conversation_id IN (" + in + ")",
		"DELETE FROM events WHERE conversation_id IN (" + in + ")",
		// Cases keep their own copy of what they were made from.
		"UPDATE cases SET conversation_id = 0 WHERE conversation_id IN (" + in + ")",
		"DELETE FROM conversations WHERE project_id <> 0 AND id IN (" + in + ")",
	} {
		if _, err := q.adhocExec(ctx, st, args...); err != nil {
			return nil, err
		}
	}
	return files, nil
}
