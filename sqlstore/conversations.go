package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

const convCols = "c.id, c.kind, c.title, c.state, c.created_by, c.key, c.last_seq, c.last_message_at, c.created_at, c.updated_at, " +
	"c.project_id, c.contact_id, c.status, c.level, c.transfer_to, c.contact_read_seq, c.closed_at, c.filed_seq, " +
	"c.assignee_id, c.channel, c.activity_at, c.last_from, c.waiting_since, c.unanswered, c.channel_id, " +
	"c.assigned_at, c.queued_at, c.queue_due, c.reply_state, c.missed_by, c.declines, c.declined_at"

func scanConv(r scanner) (*parley.Conversation, error) {
	var c parley.Conversation
	var key *string
	var last, created, updated, closed, activity, waiting, assigned, queued, due, declined int64
	var missed string
	var s parley.Support
	if err := r.Scan(&c.ID, &c.Kind, &c.Title, &c.State, &c.CreatedBy, &key, &c.LastSeq, &last, &created, &updated,
		&s.ProjectID, &s.ContactID, &s.Status, &s.Level, &s.TransferTo, &s.ContactReadSeq, &closed, &s.FiledSeq,
		&s.AssigneeID, &s.Channel, &activity, &s.LastFrom, &waiting, &s.Unanswered, &s.ChannelID,
		&assigned, &queued, &due, &s.ReplyState, &missed, &c.Declines, &declined); err != nil {
		return nil, err
	}
	if s.ProjectID != 0 {
		s.ClosedAt = parley.TimeFromMillis(closed)
		s.ActivityAt, s.WaitingSince = parley.TimeFromMillis(activity), parley.TimeFromMillis(waiting)
		s.AssignedAt, s.QueuedAt, s.QueueDue = parley.TimeFromMillis(assigned), parley.TimeFromMillis(queued), parley.TimeFromMillis(due)
		if err := decodeJSON(missed, &s.MissedBy); err != nil {
			return nil, err
		}
		c.Support = &s
	}
	if key != nil {
		c.Key = *key
	}
	c.LastMessageAt, c.CreatedAt, c.UpdatedAt = parley.TimeFromMillis(last), parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	c.DeclinedAt = parley.TimeFromMillis(declined)
	return &c, nil
}

func (q *q) ConversationByID(ctx context.Context, id int64) (*parley.Conversation, error) {
	c, err := scanConv(q.queryRow(ctx, "SELECT "+convCols+" FROM conversations c WHERE c.id = $1", id))
	return c, notFound(err, "conversation")
}

func (q *q) ConversationByKey(ctx context.Context, key string) (*parley.Conversation, error) {
	c, err := scanConv(q.queryRow(ctx, "SELECT "+convCols+" FROM conversations c WHERE c.key = $1", key))
	return c, notFound(err, "conversation")
}

func (q *q) Conversations(ctx context.Context, f parley.ConvFilter) ([]*parley.Conversation, string, error) {
	args := []any{f.UserID}
	query := "SELECT " + convCols + " FROM members m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = $1"
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		query += " AND c.kind = $" + strconv.Itoa(len(args))
	}
	if f.Cursor != "" {
		key, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		at, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, "", parley.Invalid("cursor", "invalid cursor")
		}
		args = append(args, at, id)
		query += " AND (c.last_message_at, c.id) < ($" + strconv.Itoa(len(args)-1) + ", $" + strconv.Itoa(len(args)) + ")"
	}
	n := limit(f.Limit, 50, 500)
	query += " ORDER BY c.last_message_at DESC, c.id DESC" + limitRows(n+1)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	convs, err := collect(rows, scanConv)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(convs) > n {
		convs = convs[:n]
		last := convs[n-1]
		next = encodeCursor(strconv.FormatInt(parley.Millis(last.LastMessageAt), 10), last.ID)
	}
	return convs, next, nil
}

func (q *q) ConversationsByKind(ctx context.Context, kind parley.ConvKind) ([]*parley.Conversation, error) {
	rows, err := q.query(ctx, "SELECT "+convCols+" FROM conversations c WHERE c.kind = $1 ORDER BY c.id", string(kind))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanConv)
}

const memberCols = "conversation_id, user_id, role, joined_at, delivered_seq, read_seq, marked_unread, draft, draft_at"

func scanMember(r scanner) (parley.Member, error) {
	var m parley.Member
	var joined, draftAt int64
	err := r.Scan(&m.ConversationID, &m.UserID, &m.Role, &joined, &m.DeliveredSeq, &m.ReadSeq, &m.MarkedUnread, &m.Draft, &draftAt)
	m.JoinedAt, m.DraftAt = parley.TimeFromMillis(joined), parley.TimeFromMillis(draftAt)
	return m, err
}

func (q *q) Member(ctx context.Context, convID, userID int64) (*parley.Member, error) {
	m, err := scanMember(q.queryRow(ctx, "SELECT "+memberCols+" FROM members WHERE conversation_id = $1 AND user_id = $2", convID, userID))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return &m, nil
}

func (q *q) Members(ctx context.Context, convID int64) ([]parley.Member, error) {
	rows, err := q.query(ctx, "SELECT "+memberCols+" FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id", convID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMember)
}

func (q *q) MembersOf(ctx context.Context, userID int64, convIDs []int64) (map[int64]*parley.Member, error) {
	out := make(map[int64]*parley.Member, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(convIDs), "SELECT "+memberCols+" FROM members WHERE user_id = $1 AND conversation_id IN ("+
		placeholders(2, len(convIDs))+")", append([]any{userID}, int64Args(convIDs)...)...)
	if err != nil {
		return nil, err
	}
	ms, err := collect(rows, scanMember)
	for i := range ms {
		out[ms[i].ConversationID] = &ms[i]
	}
	return out, err
}

func (q *q) MembersByConversation(ctx context.Context, convIDs []int64) (map[int64][]parley.Member, error) {
	out := make(map[int64][]parley.Member, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(convIDs), "SELECT "+memberCols+" FROM members WHERE conversation_id IN ("+
		placeholders(1, len(convIDs))+") ORDER BY joined_at, user_id", int64Args(convIDs)...)
	if err != nil {
		return nil, err
	}
	ms, err := collect(rows, scanMember)
	for _, m := range ms {
		out[m.ConversationID] = append(out[m.ConversationID], m)
	}
	return out, err
}

func (q *q) MembersIn(ctx context.Context, keys []parley.MemberKey) (map[parley.MemberKey]*parley.Member, error) {
	out := make(map[parley.MemberKey]*parley.Member, len(keys))
	err := q.multi(ctx, len(keys), ints(2), func(rows string) string {
		return "SELECT " + memberCols + " FROM (" + rows + `) v
			JOIN members ON conversation_id = v.column1 AND user_id = v.column2`
	}, func(dst []any, i int) []any {
		return append(dst, keys[i].ConversationID, keys[i].UserID)
	}, func(rows *sql.Rows) error {
		m, err := scanMember(rows)
		if err == nil {
			out[parley.MemberKey{ConversationID: m.ConversationID, UserID: m.UserID}] = &m
		}
		return err
	})
	return out, err
}

func (q *q) LockConversations(ctx context.Context, ids []int64) (map[int64]*parley.Conversation, error) {
	if err := q.lockConversations(ctx, ids...); err != nil {
		return nil, err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[int64]*parley.Conversation, len(ids))
	err := q.multi(ctx, len(ids), ints(1), func(rows string) string {
		return "SELECT " + convCols + " FROM conversations c WHERE c.id IN (SELECT column1 FROM (" + rows + ") v)"
	}, func(dst []any, i int) []any {
		return append(dst, ids[i])
	}, func(rows *sql.Rows) error {
		c, err := scanConv(rows)
		if err == nil {
			out[c.ID] = c
		}
		return err
	})
	return out, err
}

func (q *q) MovePointers(ctx context.Context, moves []parley.PointerMove) error {
	moves = slices.Clone(moves)
	slices.SortFunc(moves, func(a, b parley.PointerMove) int {
		return cmp.Or(cmp.Compare(a.ConversationID, b.ConversationID), cmp.Compare(a.UserID, b.UserID))
	})
	if lock := q.s.dialect.forUpdate(); lock != "" {
		// UPDATE ... FROM locks rows in the order its join meets them;
		// lock them in key order first.
		err := q.multi(ctx, len(moves), ints(2), func(rows string) string {
			return "SELECT 1 FROM (" + rows + `) v
				JOIN members ON conversation_id = v.column1 AND user_id = v.column2
				ORDER BY conversation_id, user_id` + lock
		}, func(dst []any, i int) []any {
			return append(dst, moves[i].ConversationID, moves[i].UserID)
		}, func(*sql.Rows) error { return nil })
		if err != nil {
			return err
		}
	}
	return q.multi(ctx, len(moves), []string{"BIGINT", "BIGINT", "BIGINT", "BIGINT", "BOOLEAN", "BIGINT"}, func(rows string) string {
		return `UPDATE members SET
			read_seq = CASE WHEN members.read_seq > v.column4 THEN members.read_seq ELSE v.column4 END,
			delivered_seq = CASE WHEN members.delivered_seq > v.column3 THEN members.delivered_seq ELSE v.column3 END,
			marked_unread = CASE WHEN v.column5 THEN FALSE ELSE members.marked_unread END,
			draft = CASE WHEN v.column6 <> 0 THEN '' ELSE members.draft END,
			draft_at = CASE WHEN v.column6 <> 0 AND members.draft <> '' THEN v.column6 ELSE members.draft_at END
			FROM (` + rows + `) v
			WHERE members.conversation_id = v.column1 AND members.user_id = v.column2`
	}, func(dst []any, i int) []any {
		m := &moves[i]
		return append(dst, m.ConversationID, m.UserID, max(m.Delivered, m.Read), m.Read, m.ClearMark, parley.Millis(m.ClearDraftAt))
	}, nil)
}

func (q *q) UnreadTotal(ctx context.Context, userID int64) (messages int64, conversations int64, err error) {
	err = q.row(ctx, "member", `SELECT
		COALESCE(SUM(CASE WHEN c.last_seq > m.read_seq THEN c.last_seq - m.read_seq WHEN m.marked_unread THEN 1 ELSE 0 END), 0),
		COUNT(CASE WHEN c.last_seq > m.read_seq OR m.marked_unread THEN 1 END)
		FROM members m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = $1`, []any{userID}, &messages, &conversations)
	return messages, conversations, err
}

func (q *q) Undelivered(ctx context.Context, userID int64) (map[int64]int64, error) {
	rows, err := q.query(ctx, `SELECT c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = $1 AND m.delivered_seq < c.last_seq`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]int64)
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, err
		}
		out[id] = seq
	}
	return out, rows.Err()
}

func (q *q) CreateConversation(ctx context.Context, c *parley.Conversation) error {
	// A service that keeps its own clock dates the conversation itself.
	if c.CreatedAt.IsZero() {
		c.CreatedAt = parley.Now()
	}
	now := c.CreatedAt
	c.UpdatedAt, c.LastMessageAt = now, now
	var s parley.Support
	if c.Support != nil {
		s = *c.Support
	}
	err := q.row(ctx, "conversation", `INSERT INTO conversations (kind, title, state, created_by, key, last_seq, last_message_at, created_at, updated_at,
			project_id, contact_id, status, level, transfer_to, contact_read_seq, closed_at, filed_seq,
			assignee_id, channel, activity_at, last_from, waiting_since, unanswered, channel_id, assigned_at, queued_at, queue_due)
		VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
			$22, $23, $24) RETURNING id`,
		[]any{string(c.Kind), c.Title, string(c.State), c.CreatedBy, nullString(c.Key), parley.Millis(now),
			s.ProjectID, s.ContactID, s.Status, s.Level, s.TransferTo, s.ContactReadSeq, parley.Millis(s.ClosedAt), s.FiledSeq,
			s.AssigneeID, s.Channel, parley.Millis(s.ActivityAt), s.LastFrom, parley.Millis(s.WaitingSince), s.Unanswered, s.ChannelID,
			parley.Millis(s.AssignedAt), parley.Millis(s.QueuedAt), parley.Millis(s.QueueDue)}, &c.ID)
	return mapErr(err, "conversation")
}

func (q *q) UpdateConversation(ctx context.Context, c *parley.Conversation) error {
	if err := q.lockConversations(ctx, c.ID); err != nil {
		return err
	}
	c.UpdatedAt = parley.Now()
	var s parley.Support
	if c.Support != nil {
		s = *c.Support
	}
	// The visitor's read pointer only moves forward, and only through
	// SetContactRead; the project and contact never change. A dialog's
	// key marks it as its contact's open one until it closes.
	return q.execOne(ctx, "conversation", `UPDATE conversations SET title = $2, state = $3, created_by = $4, updated_at = $5,
		status = $6, level = $7, transfer_to = $8, closed_at = $9, key = $10, filed_seq = $11,
		assignee_id = $12, channel = $13, activity_at = $14, last_from = $15, waiting_since = $16, unanswered = $17,
		assigned_at = $18, queued_at = $19, queue_due = $20, reply_state = $21, missed_by = $22, declines = $23, declined_at = $24 WHERE id = $1`,
		c.ID, c.Title, string(c.State), c.CreatedBy, parley.Millis(c.UpdatedAt), s.Status, s.Level, s.TransferTo, parley.Millis(s.ClosedAt),
		nullString(c.Key), s.FiledSeq, s.AssigneeID, s.Channel, parley.Millis(s.ActivityAt), s.LastFrom, parley.Millis(s.WaitingSince), s.Unanswered,
		parley.Millis(s.AssignedAt), parley.Millis(s.QueuedAt), parley.Millis(s.QueueDue), s.ReplyState, missedBy(s.MissedBy),
		c.Declines, parley.Millis(c.DeclinedAt))
}

func (q *q) AddMember(ctx context.Context, m *parley.Member) error {
	if err := q.lockConversations(ctx, m.ConversationID); err != nil {
		return err
	}
	if m.JoinedAt.IsZero() {
		m.JoinedAt = parley.Now()
	}
	if m.Role == "" {
		m.Role = parley.MemberRegular
	}
	_, err := q.exec(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at, delivered_seq, read_seq)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.ConversationID, m.UserID, m.Role, parley.Millis(m.JoinedAt), m.DeliveredSeq, m.ReadSeq)
	return mapErr(err, "member")
}

func (q *q) RemoveMember(ctx context.Context, convID, userID int64) error {
	if err := q.lockConversations(ctx, convID); err != nil {
		return err
	}
	return q.execOne(ctx, "member", "DELETE FROM members WHERE conversation_id = $1 AND user_id = $2", convID, userID)
}

func (q *q) SetPointers(ctx context.Context, convID, userID, delivered, read int64, markedUnread bool) (*parley.Member, error) {
	if delivered < read {
		delivered = read
	}
	m, err := scanMember(q.queryRow(ctx, `UPDATE members SET
		read_seq = CASE WHEN read_seq > $4 THEN read_seq ELSE $4 END,
		delivered_seq = CASE WHEN delivered_seq > $3 THEN delivered_seq ELSE $3 END,
		marked_unread = $5
		WHERE conversation_id = $1 AND user_id = $2 RETURNING `+memberCols, convID, userID, delivered, read, markedUnread))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return &m, nil
}

func (q *q) ClearDraft(ctx context.Context, convID, userID int64, at time.Time) (bool, error) {
	res, err := q.exec(ctx, "UPDATE members SET draft = '', draft_at = $3 WHERE conversation_id = $1 AND user_id = $2 AND draft <> ''",
		convID, userID, parley.Millis(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (q *q) SetDraft(ctx context.Context, convID, userID int64, text string, at time.Time) error {
	return q.execOne(ctx, "member", "UPDATE members SET draft = $3, draft_at = $4 WHERE conversation_id = $1 AND user_id = $2",
		convID, userID, text, parley.Millis(at))
}

// missedBy is the stored form of Support.MissedBy: empty for none.
func missedBy(ids []int64) string {
	if len(ids) == 0 {
		return ""
	}
	return encodeJSON(ids)
}
