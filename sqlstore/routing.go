package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley"
)

// The distribution's state: managers' availability and assignments, the
// queue of dialogs waiting for a manager, the loads it checks.

const agentCols = "user_id, availability, updated_at, last_assigned_at, burst_at, burst_count"

func scanAgent(r scanner) (*parley.Agent, error) {
	var a parley.Agent
	var updated, last, burst int64
	if err := r.Scan(&a.UserID, &a.Availability, &updated, &last, &burst, &a.BurstCount); err != nil {
		return nil, err
	}
	a.UpdatedAt, a.LastAssignedAt, a.BurstAt = parley.TimeFromMillis(updated), parley.TimeFromMillis(last), parley.TimeFromMillis(burst)
	return &a, nil
}

func (q *q) Agents(ctx context.Context, userIDs []int64) (map[int64]*parley.Agent, error) {
	out := make(map[int64]*parley.Agent, len(userIDs))
	err := q.multi(ctx, len(userIDs), ints(1), func(rows string) string {
		return "SELECT " + agentCols + " FROM agents WHERE user_id IN (SELECT column1 FROM (" + rows + ") v)"
	}, func(dst []any, i int) []any { return append(dst, userIDs[i]) }, func(rows *sql.Rows) error {
		a, err := scanAgent(rows)
		if err == nil {
			out[a.UserID] = a
		}
		return err
	})
	// A manager who never set anything is available.
	for _, id := range userIDs {
		if out[id] == nil {
			out[id] = &parley.Agent{UserID: id, Availability: parley.Available}
		}
	}
	return out, err
}

func (q *q) LockAgent(ctx context.Context, userID int64) (*parley.Agent, error) {
	if _, err := q.exec(ctx, "INSERT INTO agents (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING", userID); err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, "SELECT "+agentCols+" FROM agents WHERE user_id = $1"+q.s.dialect.forUpdate(), userID)
	return one(rows, err, scanAgent, "agent")
}

func (q *q) PutAgent(ctx context.Context, a *parley.Agent) error {
	_, err := q.exec(ctx, `INSERT INTO agents (user_id, availability, updated_at, last_assigned_at, burst_at, burst_count)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET availability = excluded.availability,
		updated_at = excluded.updated_at, last_assigned_at = excluded.last_assigned_at, burst_at = excluded.burst_at,
		burst_count = excluded.burst_count`,
		a.UserID, a.Availability, parley.Millis(a.UpdatedAt), parley.Millis(a.LastAssignedAt), parley.Millis(a.BurstAt), a.BurstCount)
	return err
}

func (q *q) Loads(ctx context.Context, userIDs []int64) (map[int64]int, error) {
	out := make(map[int64]int, len(userIDs))
	err := q.multi(ctx, len(userIDs), ints(1), func(rows string) string {
		return `SELECT assignee_id, COUNT(*) FROM conversations
			WHERE assignee_id IN (SELECT column1 FROM (` + rows + `) v) AND project_id <> 0 AND status = 'open' AND assignee_id <> 0
			GROUP BY assignee_id`
	}, func(dst []any, i int) []any { return append(dst, userIDs[i]) }, func(rows *sql.Rows) error {
		var id int64
		var n int
		err := rows.Scan(&id, &n)
		out[id] = n
		return err
	})
	return out, err
}

func (q *q) Load(ctx context.Context, userID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM conversations
		WHERE assignee_id = $1 AND project_id <> 0 AND status = 'open' AND assignee_id <> 0`, userID).Scan(&n)
	return n, err
}

func (q *q) ProjectLoad(ctx context.Context, projectID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM conversations
		WHERE project_id = $1 AND project_id <> 0 AND status = 'open' AND assignee_id <> 0`, projectID).Scan(&n)
	return n, err
}

func (q *q) QueuedDialogs(ctx context.Context, projectID int64, level int, after parley.QueueCursor, limit int) ([]*parley.Conversation, error) {
	rows, err := q.query(ctx, "SELECT "+convCols+` FROM conversations c
		WHERE c.project_id = $1 AND c.level = $2 AND c.project_id <> 0 AND c.status = 'open' AND c.assignee_id = 0
		AND (c.queue_due, c.id) > ($3, $4)
		ORDER BY c.queue_due, c.id`+limitRows(limit), projectID, level, parley.Millis(after.Due), after.ID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanConv)
}

func (q *q) CountQueued(ctx context.Context, projectID int64) (map[int]int, error) {
	rows, err := q.query(ctx, `SELECT level, COUNT(*) FROM conversations
		WHERE project_id = $1 AND project_id <> 0 AND status = 'open' AND assignee_id = 0 GROUP BY level`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var level, n int
		if err := rows.Scan(&level, &n); err != nil {
			return nil, err
		}
		out[level] = n
	}
	return out, rows.Err()
}

func (q *q) WaitingDialogs(ctx context.Context, projectID int64, replyState int, limit int) ([]*parley.Conversation, error) {
	rows, err := q.query(ctx, "SELECT "+convCols+` FROM conversations c
		WHERE c.project_id = $1 AND c.reply_state = $2 AND c.waiting_since <> 0
		ORDER BY c.waiting_since, c.id`+limitRows(limit), projectID, replyState)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanConv)
}

func (q *q) AssignDialog(ctx context.Context, convID, from, to int64, at time.Time) (bool, error) {
	if err := q.lockConversations(ctx, convID); err != nil {
		return false, err
	}
	// The condition is the guarantee: a dialog someone took, reassigned
	// or closed since the caller read it is left alone.
	res, err := q.exec(ctx, `UPDATE conversations SET assignee_id = $3, assigned_at = $4, queued_at = 0, queue_due = 0, updated_at = $4
		WHERE id = $1 AND project_id <> 0 AND status = 'open' AND assignee_id = $2`, convID, from, to, parley.Millis(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) LockProject(ctx context.Context, id int64) error {
	rows, err := q.query(ctx, "SELECT id FROM projects WHERE id = $1"+q.s.dialect.forUpdate(), id)
	if err != nil {
		return err
	}
	_, err = one(rows, nil, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, "project")
	return err
}

func (q *q) LeaseProject(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE projects SET routing_owner = $2, routing_until = $4
		WHERE id = $1 AND (routing_owner = $2 OR routing_until < $3)`, id, owner, parley.Millis(now), parley.Millis(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) RoutingNotes(ctx context.Context, projectIDs []int64) (map[int64]map[int]string, error) {
	out := map[int64]map[int]string{}
	err := q.multi(ctx, len(projectIDs), ints(1), func(rows string) string {
		return "SELECT project_id, level, note FROM routing_queues WHERE note <> '' AND project_id IN (SELECT column1 FROM (" + rows + ") v)"
	}, func(dst []any, i int) []any { return append(dst, projectIDs[i]) }, func(rows *sql.Rows) error {
		var p int64
		var level int
		var note string
		if err := rows.Scan(&p, &level, &note); err != nil {
			return err
		}
		if out[p] == nil {
			out[p] = map[int]string{}
		}
		out[p][level] = note
		return nil
	})
	return out, err
}

func (q *q) SetRoutingNote(ctx context.Context, projectID int64, level int, note string, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `INSERT INTO routing_queues (project_id, level, note, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, level) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at
		WHERE routing_queues.note <> excluded.note`, projectID, level, note, parley.Millis(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) PutRoutingDecision(ctx context.Context, messageID, convID int64, d *parley.RoutingDecision) error {
	_, err := q.exec(ctx, "INSERT INTO routing_decisions (message_id, conversation_id, decision) VALUES ($1, $2, $3)",
		messageID, convID, encodeJSON(d))
	return err
}

func (q *q) RoutingDecision(ctx context.Context, messageID int64) (*parley.RoutingDecision, error) {
	var text string
	if err := q.row(ctx, "decision", "SELECT decision FROM routing_decisions WHERE message_id = $1", []any{messageID}, &text); err != nil {
		return nil, err
	}
	var d parley.RoutingDecision
	return &d, decodeJSON(text, &d)
}
