package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// txn is the parley.Tx handed to Write's function.
type txn struct {
	q
	events []parley.Event
}

func (t *txn) Emit(e parley.Event) { t.events = append(t.events, e) }

// storeEvents resolves each emitted event's audience and stores it, just
// before commit. Audiences are read inside the transaction, so they reflect
// its own membership changes.
func (t *txn) storeEvents(ctx context.Context) ([]parley.Event, error) {
	if len(t.events) == 0 {
		return nil, nil
	}
	if err := t.s.dialect.orderEvents(ctx, t.db); err != nil {
		return nil, err
	}
	type audience struct {
		project int64
		users   []int64
	}
	convs := make(map[int64]audience)
	for i := range t.events {
		e := &t.events[i]
		switch {
		case e.ContactID != 0:
			e.Audience = []int64{} // a visitor's: no user's
		case e.Audience != nil:
		case e.UserID != 0:
			e.Audience = []int64{e.UserID}
		case e.ConversationID != 0:
			a, ok := convs[e.ConversationID]
			if !ok {
				var err error
				if a.project, a.users, err = t.conversationAudience(ctx, e.ConversationID); err != nil {
					return nil, err
				}
				convs[e.ConversationID] = a
			}
			e.Audience, e.ProjectID = a.users, a.project
		}
		if e.At.IsZero() {
			e.At = parley.Now()
		}
		if err := t.row(ctx, "event", `INSERT INTO events (type, conversation_id, user_id, project_id, contact_id, seq, data, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			[]any{e.Type, e.ConversationID, e.UserID, e.ProjectID, e.ContactID, e.Seq, string(e.Data), parley.Millis(e.At)}, &e.ID); err != nil {
			return nil, err
		}
	}
	return t.events, nil
}

// conversationAudience returns a conversation's support project (0 for
// team chats) and the users its events go to: its members and, for a
// support conversation, every specialist of the project.
func (t *txn) conversationAudience(ctx context.Context, convID int64) (int64, []int64, error) {
	var project int64
	if err := t.row(ctx, "conversation", "SELECT project_id FROM conversations WHERE id = $1", []any{convID}, &project); err != nil &&
		parley.ErrorCode(err) != parley.ENOTFOUND {
		return 0, nil, err
	}
	rows, err := t.query(ctx, `SELECT user_id FROM members WHERE conversation_id = $1
		UNION SELECT user_id FROM project_staff WHERE project_id = $2`, convID, project)
	if err != nil {
		return 0, nil, err
	}
	users, err := collectInt64(rows)
	return project, users, err
}

func (q *q) EventsSince(ctx context.Context, userID, after int64, n int) ([]parley.Event, error) {
	rows, err := q.query(ctx, `SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events
		WHERE id > $1 AND contact_id = 0 AND (user_id = $2 OR (user_id = 0 AND (conversation_id = 0
			OR conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $2)
			OR (project_id <> 0 AND project_id IN (SELECT project_id FROM project_staff WHERE user_id = $2)))))
		ORDER BY id LIMIT $3`, after, userID, limit(n, 1000, 10000))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEvent)
}

func (q *q) ContactEventsSince(ctx context.Context, contactID, after int64, n int) ([]parley.Event, error) {
	rows, err := q.query(ctx, `SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events
		WHERE contact_id = $1 AND id > $2 ORDER BY id LIMIT $3`, contactID, after, limit(n, 1000, 10000))
	if err != nil {
		return nil, err
	}
	events, err := collect(rows, scanEvent)
	for i := range events {
		events[i].ContactID = contactID
	}
	return events, err
}

func scanEvent(r scanner) (parley.Event, error) {
	var e parley.Event
	var data string
	var at int64
	err := r.Scan(&e.ID, &e.Type, &e.ConversationID, &e.UserID, &e.Seq, &data, &at)
	e.Data, e.At = []byte(data), parley.TimeFromMillis(at)
	return e, err
}

func (q *q) EventBounds(ctx context.Context) (oldest, newest int64, err error) {
	err = q.row(ctx, "events", "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM events", nil, &oldest, &newest)
	return oldest, newest, err
}

func (q *q) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, "DELETE FROM events WHERE created_at < $1", parley.Millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

var _ parley.Tx = (*txn)(nil)
