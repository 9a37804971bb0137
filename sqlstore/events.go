package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// txn is the parley.Tx handed to Write's function.
type txn struct {
	q
	events []parley.Event
}

func (t *txn) Emit(e parley.Event) { t.events = append(t.events, e) }

// storeEvents stores a group's events, just before its commit: it resolves
// each event's audience and gives it its stream position. Audiences are
// read inside the transaction, so they reflect its membership changes.
// Events are in stream order in the transaction; the group writer
// publishes them in commit order.
func (s *Store) storeEvents(ctx context.Context, tx *sql.Tx, events []parley.Event) error {
	t := &q{s: s, db: tx, tx: tx, b: &book{ctx: ctx}}
	var convIDs []int64
	for i := range events {
		e := &events[i]
		switch {
		case e.ContactID != 0:
			e.Audience = []int64{} // a visitor's: no user's
		case e.Audience != nil:
		case e.UserID != 0:
			e.Audience = []int64{e.UserID}
		case e.ConversationID != 0:
			convIDs = append(convIDs, e.ConversationID)
		}
		if e.At.IsZero() {
			e.At = parley.Now()
		}
	}
	if len(convIDs) > 0 {
		audiences, err := t.conversationAudiences(ctx, convIDs)
		if err != nil {
			return err
		}
		for i := range events {
			e := &events[i]
			if e.Audience == nil && e.UserID == 0 && e.ContactID == 0 && e.ConversationID != 0 {
				e.Audience = []int64{}
				if a := audiences[e.ConversationID]; a != nil {
					e.ProjectID = a.project
					if a.users != nil {
						e.Audience = a.users
					}
				}
			}
		}
	}
	// Positions are taken under the events lock (PostgreSQL), held until
	// the commit: everything else is done before, to keep that short.
	ids, err := s.dialect.eventIDs(ctx, t, len(events))
	if err != nil {
		return err
	}
	for i := range events {
		events[i].ID = ids[i]
	}
	return t.multi(ctx, len(events), []string{"BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "BIGINT"}, func(rows string) string {
		return "INSERT INTO events (id, type, conversation_id, user_id, project_id, contact_id, seq, data, created_at) " + rows
	}, func(dst []any, i int) []any {
		e := &events[i]
		return append(dst, e.ID, e.Type, e.ConversationID, e.UserID, e.ProjectID, e.ContactID, e.Seq, string(e.Data), parley.Millis(e.At))
	}, nil)
}

// audience is who hears a conversation's events.
type audience struct {
	project int64
	users   []int64
}

// conversationAudiences returns, for each conversation, its support project
// (0 for team chats) and the users its events go to: its members and, for
// a support conversation, every specialist of the project (but those it
// was reassigned away from) and everyone who manages live chat (livechat's
// CanView: they see every dialog, so they hear every dialog too). One
// statement: it runs in every writing transaction that emits events.
func (q *q) conversationAudiences(ctx context.Context, convIDs []int64) (map[int64]*audience, error) {
	slices.Sort(convIDs)
	convIDs = slices.Compact(convIDs)
	out := make(map[int64]*audience, len(convIDs))
	err := q.multi(ctx, len(convIDs), ints(1), func(rows string) string {
		return `WITH c AS (SELECT id, project_id FROM conversations WHERE id IN (SELECT column1 FROM (` + rows + `) v)),
			heard AS (
				SELECT c.id, c.project_id, m.user_id FROM c JOIN members m ON m.conversation_id = c.id
				UNION SELECT c.id, c.project_id, s.user_id FROM c JOIN project_staff s ON s.project_id = c.project_id)
			SELECT h.id, h.project_id, h.user_id FROM heard h
				WHERE NOT EXISTS (SELECT 1 FROM dialog_revoked r WHERE r.conversation_id = h.id AND r.user_id = h.user_id)
			UNION SELECT c.id, c.project_id, u.id FROM c, (` + usersWithRight(parley.RightChatSettings) + `) u WHERE c.project_id <> 0
			UNION SELECT c.id, c.project_id, 0 FROM c`
	}, func(dst []any, i int) []any {
		return append(dst, convIDs[i])
	}, func(rows *sql.Rows) error {
		var conv, project, user int64
		if err := rows.Scan(&conv, &project, &user); err != nil {
			return err
		}
		a := out[conv]
		if a == nil {
			a = &audience{project: project}
			out[conv] = a
		}
		if user != 0 {
			a.users = append(a.users, user)
		}
		return nil
	})
	for _, a := range out {
		slices.Sort(a.users)
	}
	return out, err
}

// EventsSince reads a user's events in four branches, each through its
// own index: the user's own events, their conversations', their projects'
// and everyone's. Each branch reads only what the user may see, so a resume
// costs what they missed, however long the stream. The projects' branch
// follows the live audience (conversationAudiences): those who manage live
// chat hear every project's dialogs; a specialist hears their projects'
// dialogs but those reassigned away from them.
func (q *q) EventsSince(ctx context.Context, userID, after int64, n int) ([]parley.Event, error) {
	n = limit(n, 1000, 10000)
	managers, err := q.UsersWithRight(ctx, parley.RightChatSettings)
	if err != nil {
		return nil, err
	}
	projects := `project_id IN (SELECT project_id FROM project_staff WHERE user_id = $2)
			AND NOT EXISTS (SELECT 1 FROM dialog_revoked r WHERE r.conversation_id = events.conversation_id AND r.user_id = $2)`
	if slices.Contains(managers, userID) {
		projects = "project_id IN (SELECT id FROM projects)"
	}
	const cols = "SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events"
	rows, err := q.query(ctx, cols+` WHERE user_id = $2 AND user_id <> 0 AND id > $1 AND contact_id = 0
		UNION `+cols+` WHERE conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $2)
			AND conversation_id <> 0 AND user_id = 0 AND id > $1 AND contact_id = 0
		UNION `+cols+` WHERE `+projects+`
			AND project_id <> 0 AND user_id = 0 AND id > $1 AND contact_id = 0
		UNION `+cols+` WHERE conversation_id = 0 AND user_id = 0 AND contact_id = 0 AND id > $1
		ORDER BY id`+limitRows(n), after, userID)
	if err != nil {
		return nil, err
	}
	events, err := collect(rows, scanEvent)
	return events[:min(n, len(events))], err
}

func (q *q) ContactEventsSince(ctx context.Context, contactID, after int64, n int) ([]parley.Event, error) {
	n = limit(n, 1000, 10000)
	rows, err := q.query(ctx, `SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events
		WHERE contact_id = $1 AND contact_id <> 0 AND id > $2 ORDER BY id`+limitRows(n), contactID, after)
	if err != nil {
		return nil, err
	}
	events, err := collect(rows, scanEvent)
	events = events[:min(n, len(events))]
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

// EventsBetween reads the stream itself, every event with after < id <=
// upto, addressed by the rules EventsSince follows (a user's own, a
// conversation's audience, a project's staff and those who manage live
// chat, everyone's), with audiences as they are now.
func (q *q) EventsBetween(ctx context.Context, after, upto int64, n int) ([]parley.Event, error) {
	n = limit(n, 1000, 10000)
	rows, err := q.query(ctx, `SELECT id, type, conversation_id, user_id, project_id, contact_id, seq, data, created_at
		FROM events WHERE id > $1 AND id <= $2 ORDER BY id`+limitRows(n), after, upto)
	if err != nil {
		return nil, err
	}
	events, err := collect(rows, func(r scanner) (parley.Event, error) {
		var e parley.Event
		var data string
		var at int64
		err := r.Scan(&e.ID, &e.Type, &e.ConversationID, &e.UserID, &e.ProjectID, &e.ContactID, &e.Seq, &data, &at)
		e.Data, e.At = []byte(data), parley.TimeFromMillis(at)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	var convIDs []int64
	projects := false
	for i := range events {
		if e := &events[i]; e.ContactID == 0 && e.UserID == 0 {
			if e.ConversationID != 0 {
				convIDs = append(convIDs, e.ConversationID)
			} else if e.ProjectID != 0 {
				projects = true
			}
		}
	}
	audiences, err := q.conversationAudiences(ctx, convIDs)
	if err != nil {
		return nil, err
	}
	var staff map[int64][]int64
	if projects {
		if staff, err = q.projectAudiences(ctx); err != nil {
			return nil, err
		}
	}
	for i := range events {
		switch e := &events[i]; {
		case e.ContactID != 0:
			e.Audience = []int64{}
		case e.UserID != 0:
			e.Audience = []int64{e.UserID}
		case e.ConversationID != 0:
			e.Audience = []int64{}
			if a := audiences[e.ConversationID]; a != nil && a.users != nil {
				e.Audience = a.users
			}
		case e.ProjectID != 0:
			e.Audience = append([]int64{}, staff[e.ProjectID]...)
		}
	}
	return events, nil
}

// projectAudiences returns who hears each project's own events: its
// specialists and those who manage live chat.
func (q *q) projectAudiences(ctx context.Context) (map[int64][]int64, error) {
	rows, err := q.adhoc(ctx, `SELECT project_id, user_id FROM project_staff
		UNION SELECT p.id, u.id FROM projects p, (`+usersWithRight(parley.RightChatSettings)+`) u ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var project, user int64
		if err := rows.Scan(&project, &user); err != nil {
			return nil, err
		}
		out[project] = append(out[project], user)
	}
	return out, rows.Err()
}

// EventBounds reads each bound on its own: one aggregate over both would
// make SQLite scan the whole table.
func (q *q) EventBounds(ctx context.Context) (oldest, newest int64, err error) {
	err = q.row(ctx, "events", "SELECT COALESCE((SELECT MIN(id) FROM events), 0), COALESCE((SELECT MAX(id) FROM events), 0)", nil, &oldest, &newest)
	return oldest, newest, err
}

// pruneChunk bounds the events one DeleteEventsBefore removes: the writer
// runs other writes between chunks.
const pruneChunk = 10000

// DeleteEventsBefore removes up to pruneChunk of the oldest events dated
// before before; call it again while it returns pruneChunk. Positions grow
// with time, so the oldest events come first in the stream's own order
// and nothing else is read.
func (q *q) DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM events WHERE id IN
		(SELECT id FROM events WHERE created_at < $1 ORDER BY id LIMIT $2)`, parley.Millis(before), pruneChunk)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

var _ parley.Tx = (*txn)(nil)
