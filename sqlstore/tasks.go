package sqlstore

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Tasks are cases of kind 'task' (task.go); these read them per user.

func (q *q) Tasks(ctx context.Context, f parley.TaskFilter) ([]*parley.Case, error) {
	args := []any{f.UserID}
	query := "SELECT " + caseCols + " FROM cases WHERE kind = 'task' AND "
	switch f.Role {
	case "assigned":
		query += "assignee_id = $1"
	case "created":
		query += "created_by = $1"
	default:
		query += "(assignee_id = $1 OR created_by = $1)"
	}
	if f.Status != "" {
		args = append(args, f.Status)
		query += " AND status = $" + strconv.Itoa(len(args))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		query += " AND id < $" + strconv.Itoa(len(args))
	}
	args = append(args, limit(f.Limit, 100, 500))
	query += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCase)
}

func (q *q) DueTasks(ctx context.Context, now time.Time, n int) ([]*parley.Case, error) {
	rows, err := q.query(ctx, "SELECT "+caseCols+` FROM cases WHERE kind = 'task' AND due_at <> 0 AND due_fired_at = 0
		AND due_at <= $1 ORDER BY due_at, id LIMIT $2`, parley.Millis(now), limit(n, 100, 1000))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCase)
}

func (q *q) NextTaskDueAt(ctx context.Context, after time.Time) (time.Time, error) {
	var at *int64
	err := q.queryRow(ctx, `SELECT MIN(due_at) FROM cases WHERE kind = 'task' AND due_at <> 0 AND due_fired_at = 0
		AND due_at > $1`, parley.Millis(after)).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}, err
	}
	return parley.TimeFromMillis(*at), nil
}

func (q *q) MarkTaskDueFired(ctx context.Context, id int64, due, at time.Time) error {
	return q.execOne(ctx, "due task", "UPDATE cases SET due_fired_at = $3 WHERE id = $1 AND due_at = $2 AND due_fired_at = 0",
		id, parley.Millis(due), parley.Millis(at))
}

func (q *q) ContactNotes(ctx context.Context, contactID int64) ([]*parley.ContactNote, error) {
	rows, err := q.query(ctx, `SELECT id, contact_id, author_id, text, message_id, conversation_id, created_at
		FROM contact_notes WHERE contact_id = $1 ORDER BY id`, contactID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*parley.ContactNote, error) {
		var n parley.ContactNote
		var at int64
		err := r.Scan(&n.ID, &n.ContactID, &n.AuthorID, &n.Text, &n.MessageID, &n.ConversationID, &at)
		n.CreatedAt = parley.TimeFromMillis(at)
		return &n, err
	})
}

func (q *q) AddContactNote(ctx context.Context, n *parley.ContactNote) error {
	n.CreatedAt = parley.Now()
	return q.row(ctx, "note", `INSERT INTO contact_notes (contact_id, author_id, text, message_id, conversation_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		[]any{n.ContactID, n.AuthorID, n.Text, n.MessageID, n.ConversationID, parley.Millis(n.CreatedAt)}, &n.ID)
}

func (q *q) MessageLinks(ctx context.Context, convID int64) ([]*parley.MessageLink, error) {
	rows, err := q.query(ctx, `SELECT id, message_id, conversation_id, target, target_id, user_id, created_at
		FROM message_links WHERE conversation_id = $1 ORDER BY id`, convID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*parley.MessageLink, error) {
		var l parley.MessageLink
		var at int64
		err := r.Scan(&l.ID, &l.MessageID, &l.ConversationID, &l.Target, &l.TargetID, &l.UserID, &at)
		l.CreatedAt = parley.TimeFromMillis(at)
		return &l, err
	})
}

func (q *q) AddMessageLink(ctx context.Context, l *parley.MessageLink) error {
	l.CreatedAt = parley.Now()
	return q.row(ctx, "link", `INSERT INTO message_links (message_id, conversation_id, target, target_id, user_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		[]any{l.MessageID, l.ConversationID, l.Target, l.TargetID, l.UserID, parley.Millis(l.CreatedAt)}, &l.ID)
}
