package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const msgCols = "m.id, m.conversation_id, m.seq, m.sender_id, m.contact_id, m.kind, m.text, m.quote, m.client_id, m.files, m.event, m.created_at, m.edited_at, m.deleted_at, m.status, m.status_error, m.thread_id, m.in_channel, m.mentions, m.reply_count, m.last_reply_at, m.thread_users, m.link_preview, m.cards"

func scanMessage(r scanner) (*parley.Message, error) {
	var m parley.Message
	var quote, files, event, preview, cards string
	var clientID *string
	var created, edited, deleted int64
	var inChannel, replies, lastReply int64
	var mentions, threadUsers string
	if err := r.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ContactID, &m.Kind, &m.Text, &quote, &clientID,
		&files, &event, &created, &edited, &deleted, &m.Status, &m.StatusError,
		&m.ThreadID, &inChannel, &mentions, &replies, &lastReply, &threadUsers, &preview, &cards); err != nil {
		return nil, err
	}
	if err := scanChat(&m, inChannel, mentions, replies, lastReply, threadUsers); err != nil {
		return nil, err
	}
	if preview != "" {
		m.Preview = new(parley.LinkPreview)
		if err := json.Unmarshal([]byte(preview), m.Preview); err != nil {
			return nil, err
		}
	}
	if cards != "" {
		if err := json.Unmarshal([]byte(cards), &m.Cards); err != nil {
			return nil, err
		}
	}
	if clientID != nil {
		m.ClientID = *clientID
	}
	if quote != "" {
		m.Quote = new(parley.Quote)
		if err := json.Unmarshal([]byte(quote), m.Quote); err != nil {
			return nil, err
		}
		m.QuoteID = m.Quote.ID
	}
	if files != "" {
		if err := json.Unmarshal([]byte(files), &m.Files); err != nil {
			return nil, err
		}
	}
	if event != "" {
		m.Event = new(parley.SystemEvent)
		if err := json.Unmarshal([]byte(event), m.Event); err != nil {
			return nil, err
		}
	}
	m.CreatedAt, m.EditedAt, m.DeletedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(edited), parley.TimeFromMillis(deleted)
	return &m, nil
}

func (q *q) oneMessage(ctx context.Context, where string, args ...any) (*parley.Message, error) {
	m, err := scanMessage(q.queryRow(ctx, "SELECT "+msgCols+" FROM messages m WHERE "+where, args...))
	return m, notFound(err, "message")
}

func (q *q) MessageByID(ctx context.Context, id int64) (*parley.Message, error) {
	return q.oneMessage(ctx, "m.id = $1", id)
}

func (q *q) MessageBySeq(ctx context.Context, convID, seq int64) (*parley.Message, error) {
	return q.oneMessage(ctx, "m.conversation_id = $1 AND m.seq = $2", convID, seq)
}

func (q *q) MessageByClientID(ctx context.Context, senderID int64, clientID string) (*parley.Message, error) {
	return q.oneMessage(ctx, "m.sender_id = $1 AND m.contact_id = 0 AND m.client_id = $2", senderID, clientID)
}

func (q *q) MessageByContactClientID(ctx context.Context, contactID int64, clientID string) (*parley.Message, error) {
	return q.oneMessage(ctx, "m.sender_id = 0 AND m.contact_id = $1 AND m.client_id = $2", contactID, clientID)
}

func (q *q) Messages(ctx context.Context, convID int64, p parley.MessagePage) ([]*parley.Message, error) {
	args := []any{convID}
	// The main timeline: a thread's replies are in their thread, but
	// those also sent to the timeline.
	query := "SELECT " + msgCols + " FROM messages m WHERE m.conversation_id = $1 AND (m.thread_id = 0 OR m.in_channel <> 0)"
	add := func(cond string, v any) {
		args = append(args, v)
		query += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if p.Before > 0 {
		add("m.seq <", p.Before)
	}
	if p.After > 0 {
		add("m.seq >", p.After)
	}
	if !p.Since.IsZero() {
		add("m.created_at >=", parley.Millis(p.Since))
	}
	if !p.Until.IsZero() {
		add("m.created_at <", parley.Millis(p.Until))
	}
	// Paging forwards reads ascending from After; otherwise the newest
	// page before Before, reversed below.
	forward := p.After > 0 && p.Before == 0
	args = append(args, limit(p.Limit, 50, 200))
	if forward {
		query += " ORDER BY m.seq ASC LIMIT $" + strconv.Itoa(len(args))
	} else {
		query += " ORDER BY m.seq DESC LIMIT $" + strconv.Itoa(len(args))
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	msgs, err := collect(rows, scanMessage)
	if err != nil {
		return nil, err
	}
	if !forward {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	return msgs, nil
}

func (q *q) LastMessages(ctx context.Context, convIDs []int64) (map[int64]*parley.Message, error) {
	out := make(map[int64]*parley.Message, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(convIDs), "SELECT "+msgCols+` FROM conversations c
		JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
		WHERE c.id IN (`+placeholders(1, len(convIDs))+")", int64Args(convIDs)...)
	return byConversation(out, rows, err)
}

// byConversation collects one message per conversation into out.
func byConversation(out map[int64]*parley.Message, rows *sql.Rows, err error) (map[int64]*parley.Message, error) {
	if err != nil {
		return nil, err
	}
	msgs, err := collect(rows, scanMessage)
	for _, m := range msgs {
		out[m.ConversationID] = m
	}
	return out, err
}

// quietLines matches the stored staff notes that are not the dialog's
// news (parley.QuietActions): a SystemEvent is stored as JSON whose first
// key is its action.
var quietLines = func() string {
	var parts []string
	for _, a := range parley.QuietActions {
		parts = append(parts, `x.event LIKE '{"action":"`+a+`"%'`)
	}
	return "NOT (x.kind = 'event' AND (" + strings.Join(parts, " OR ") + "))"
}()

func (q *q) LastDialogMessages(ctx context.Context, convIDs []int64) (map[int64]*parley.Message, error) {
	out := make(map[int64]*parley.Message, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	// Read backwards from the newest: usually the first row is it.
	rows, err := q.few(ctx, len(convIDs), "SELECT "+msgCols+` FROM conversations c
		JOIN messages m ON m.conversation_id = c.id AND m.seq = (SELECT x.seq FROM messages x
			WHERE x.conversation_id = c.id AND x.seq <= c.last_seq AND `+quietLines+` ORDER BY x.seq DESC LIMIT 1)
		WHERE c.id IN (`+placeholders(1, len(convIDs))+")", int64Args(convIDs)...)
	return byConversation(out, rows, err)
}

func (q *q) MessagesByClientIDs(ctx context.Context, keys []parley.ClientKey) (map[parley.ClientKey]*parley.Message, error) {
	out := make(map[parley.ClientKey]*parley.Message)
	err := q.multi(ctx, len(keys), []string{"BIGINT", "BIGINT", "TEXT"}, func(rows string) string {
		return "SELECT " + msgCols + " FROM (" + rows + `) v
			JOIN messages m ON m.sender_id = v.column1 AND m.contact_id = v.column2 AND m.client_id = v.column3
			WHERE m.client_id IS NOT NULL`
	}, func(dst []any, i int) []any {
		return append(dst, keys[i].SenderID, keys[i].ContactID, keys[i].ClientID)
	}, func(rows *sql.Rows) error {
		m, err := scanMessage(rows)
		if err == nil {
			out[m.Key()] = m
		}
		return err
	})
	return out, err
}

func (q *q) InsertMessage(ctx context.Context, m *parley.Message) error {
	// A taken client id is found before a seq is taken: a caller that goes
	// on after the conflict must not commit a gap.
	if m.ClientID != "" {
		if _, err := q.oneMessage(ctx, "m.sender_id = $1 AND m.contact_id = $2 AND m.client_id = $3",
			m.SenderID, m.ContactID, m.ClientID); err == nil {
			return parley.Errorf(parley.ECONFLICT, "message with this client id already exists")
		}
	}
	return q.InsertMessages(ctx, []*parley.Message{m})
}

func (q *q) InsertMessages(ctx context.Context, ms []*parley.Message) error {
	if len(ms) == 0 {
		return nil
	}
	// Each conversation takes as many seqs as it has new messages, in
	// one statement for all of them.
	type conv struct {
		n    int64
		at   int64
		last int64 // its last_seq once moved
	}
	convs := make(map[int64]*conv)
	var order []int64
	for _, m := range ms {
		if m.CreatedAt.IsZero() {
			m.CreatedAt = parley.Now()
		}
		c := convs[m.ConversationID]
		if c == nil {
			c = &conv{}
			convs[m.ConversationID] = c
			order = append(order, m.ConversationID)
		}
		c.n++
		c.at = max(c.at, parley.Millis(m.CreatedAt))
	}
	if err := q.lockConversations(ctx, order...); err != nil {
		return err
	}
	slices.Sort(order)
	err := q.multi(ctx, len(order), ints(3), func(rows string) string {
		return `UPDATE conversations SET last_seq = conversations.last_seq + v.column2,
			last_message_at = v.column3, updated_at = v.column3
			FROM (` + rows + `) v WHERE conversations.id = v.column1
			RETURNING conversations.id, conversations.last_seq`
	}, func(dst []any, i int) []any {
		c := convs[order[i]]
		return append(dst, order[i], c.n, c.at)
	}, func(rows *sql.Rows) error {
		var id, last int64
		if err := rows.Scan(&id, &last); err != nil {
			return err
		}
		convs[id].last = last
		return nil
	})
	if err != nil {
		return err
	}
	ids, err := q.s.dialect.nextIDs(ctx, q, "messages", len(ms))
	if err != nil {
		return err
	}
	// Hand out each conversation's new seqs in message order.
	for _, id := range order {
		c := convs[id]
		if c.last == 0 {
			return parley.Errorf(parley.ENOTFOUND, "conversation not found")
		}
		c.last -= c.n // the seq before the first new one
	}
	for i, m := range ms {
		c := convs[m.ConversationID]
		c.last++
		m.ID, m.Seq = ids[i], c.last
	}
	// An empty client id is none (NULL): the index of client ids skips it.
	err = q.multi(ctx, len(ms), []string{"BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "TEXT", "TEXT"}, func(rows string) string {
		return `INSERT INTO messages (id, conversation_id, seq, sender_id, contact_id, kind, text, quote, client_id, files, event, created_at, status, thread_id, in_channel, mentions, cards)
			SELECT column1, column2, column3, column4, column5, column6, column7, column8, NULLIF(column9, ''), column10, column11, column12, column13, column14, column15, column16, column17 FROM (` + rows + ") v"
	}, func(dst []any, i int) []any {
		m := ms[i]
		var quote, event string
		if m.Quote != nil {
			quote = jsonText(m.Quote)
		}
		if m.Event != nil {
			event = jsonText(m.Event)
		}
		var cards string
		if len(m.Cards) > 0 {
			cards = jsonText(m.Cards)
		}
		return append(dst, m.ID, m.ConversationID, m.Seq, m.SenderID, m.ContactID, string(m.Kind), m.Text, quote,
			m.ClientID, jsonText(m.Files), event, parley.Millis(m.CreatedAt), storedStatus(m.Status),
			m.ThreadID, boolInt(m.InChannel), mentionsText(m.Mentions), cards)
	}, nil)
	return mapErr(err, "message with this client id")
}

// storedStatus is the status a new message is stored with: only a channel's
// (queued until it leaves); team chat's are computed from receipts.
func storedStatus(s parley.MsgStatus) string {
	if s == parley.StatusQueued {
		return string(s)
	}
	return ""
}

func (q *q) SetMessageStatus(ctx context.Context, id int64, status parley.MsgStatus, reason string) error {
	return q.execOne(ctx, "message", "UPDATE messages SET status = $2, status_error = $3 WHERE id = $1", id, string(status), reason)
}

func (q *q) UpdateMessage(ctx context.Context, m *parley.Message) error {
	var preview, cards string
	if m.Preview != nil {
		preview = jsonText(m.Preview)
	}
	if len(m.Cards) > 0 {
		cards = jsonText(m.Cards)
	}
	if err := q.execOne(ctx, "message", "UPDATE messages SET text = $2, files = $3, edited_at = $4, deleted_at = $5, link_preview = $6, cards = $7 WHERE id = $1",
		m.ID, m.Text, jsonText(m.Files), parley.Millis(m.EditedAt), parley.Millis(m.DeletedAt), preview, cards); err != nil {
		return err
	}
	return q.s.dialect.reindex(ctx, q, m.ID)
}

const fileCols = "id, owner_id, contact_id, conversation_id, name, content_type, size, width, height, has_thumb, created_at"

func scanFile(r scanner) (parley.File, error) {
	var f parley.File
	var created int64
	err := r.Scan(&f.ID, &f.OwnerID, &f.ContactID, &f.ConversationID, &f.Name, &f.ContentType, &f.Size, &f.Width, &f.Height, &f.HasThumb, &created)
	f.CreatedAt = parley.TimeFromMillis(created)
	return f, err
}

func (q *q) FileByID(ctx context.Context, id int64) (*parley.File, error) {
	f, err := scanFile(q.queryRow(ctx, "SELECT "+fileCols+" FROM files WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "file")
	}
	return &f, nil
}

func (q *q) Files(ctx context.Context, ids []int64) ([]parley.File, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.few(ctx, len(ids), "SELECT "+fileCols+" FROM files WHERE id IN ("+placeholders(1, len(ids))+") ORDER BY id", int64Args(ids)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanFile)
}

func (q *q) CreateFile(ctx context.Context, f *parley.File) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = parley.Now()
	}
	return q.row(ctx, "file", `INSERT INTO files (owner_id, contact_id, name, content_type, size, width, height, has_thumb, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		[]any{f.OwnerID, f.ContactID, f.Name, f.ContentType, f.Size, f.Width, f.Height, f.HasThumb, parley.Millis(f.CreatedAt)}, &f.ID)
}

func (q *q) AttachFile(ctx context.Context, fileID, convID, messageID int64) error {
	res, err := q.exec(ctx, "UPDATE files SET conversation_id = $2, message_id = $3 WHERE id = $1 AND conversation_id = 0", fileID, convID, messageID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := q.FileByID(ctx, fileID); err != nil {
			return err
		}
		return parley.Errorf(parley.ECONFLICT, "file %d is already attached to a message", fileID)
	}
	return nil
}

const reminderCols = "id, user_id, message_id, conversation_id, remind_at, fired_at, created_at"

func scanReminder(r scanner) (*parley.Reminder, error) {
	var rm parley.Reminder
	var at, fired, created int64
	if err := r.Scan(&rm.ID, &rm.UserID, &rm.MessageID, &rm.ConversationID, &at, &fired, &created); err != nil {
		return nil, err
	}
	rm.RemindAt, rm.FiredAt, rm.CreatedAt = parley.TimeFromMillis(at), parley.TimeFromMillis(fired), parley.TimeFromMillis(created)
	return &rm, nil
}

func (q *q) Reminder(ctx context.Context, userID, messageID int64) (*parley.Reminder, error) {
	r, err := scanReminder(q.queryRow(ctx, "SELECT "+reminderCols+" FROM reminders WHERE user_id = $1 AND message_id = $2", userID, messageID))
	return r, notFound(err, "reminder")
}

func (q *q) Reminders(ctx context.Context, userID int64) ([]*parley.Reminder, error) {
	rows, err := q.query(ctx, "SELECT "+reminderCols+" FROM reminders WHERE user_id = $1 ORDER BY remind_at, id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanReminder)
}

func (q *q) DueReminders(ctx context.Context, now time.Time, userID int64, n int) ([]*parley.Reminder, error) {
	query := "SELECT " + reminderCols + " FROM reminders WHERE fired_at = 0 AND remind_at <= $1"
	args := []any{parley.Millis(now)}
	if userID != 0 {
		query += " AND user_id = $2"
		args = append(args, userID)
	}
	n = limit(n, 100, 1000)
	rows, err := q.query(ctx, query+" ORDER BY remind_at, id"+limitRows(n), args...)
	if err != nil {
		return nil, err
	}
	rs, err := collect(rows, scanReminder)
	return rs[:min(n, len(rs))], err
}

func (q *q) NextReminderAt(ctx context.Context, after time.Time) (time.Time, error) {
	var at *int64
	if err := q.row(ctx, "reminder", "SELECT MIN(remind_at) FROM reminders WHERE fired_at = 0 AND remind_at > $1",
		[]any{parley.Millis(after)}, &at); err != nil {
		return time.Time{}, err
	}
	if at == nil {
		return time.Time{}, nil
	}
	return parley.TimeFromMillis(*at), nil
}

func (q *q) PutReminder(ctx context.Context, r *parley.Reminder) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = parley.Now()
	}
	var created int64
	err := q.row(ctx, "reminder", `INSERT INTO reminders (user_id, message_id, conversation_id, remind_at, fired_at, created_at)
		VALUES ($1, $2, $3, $4, 0, $5)
		ON CONFLICT (user_id, message_id) DO UPDATE SET remind_at = excluded.remind_at, fired_at = 0
		RETURNING id, created_at`,
		[]any{r.UserID, r.MessageID, r.ConversationID, parley.Millis(r.RemindAt), parley.Millis(r.CreatedAt)}, &r.ID, &created)
	r.CreatedAt, r.FiredAt = parley.TimeFromMillis(created), time.Time{}
	return err
}

func (q *q) DeleteReminder(ctx context.Context, userID, messageID int64) error {
	return q.execOne(ctx, "reminder", "DELETE FROM reminders WHERE user_id = $1 AND message_id = $2", userID, messageID)
}

func (q *q) MarkReminderFired(ctx context.Context, id int64, at time.Time) error {
	return q.execOne(ctx, "reminder", "UPDATE reminders SET fired_at = $2 WHERE id = $1 AND fired_at = 0", id, parley.Millis(at))
}

func (q *q) SetMessagePreview(ctx context.Context, id int64, p *parley.LinkPreview) error {
	var data string
	if p != nil {
		data = jsonText(p)
	}
	return q.execOne(ctx, "message", "UPDATE messages SET link_preview = $2 WHERE id = $1", id, data)
}

func (q *q) LinkPreviewCache(ctx context.Context, url string) (*parley.CachedLinkPreview, error) {
	var data string
	var at int64
	if err := q.row(ctx, "link preview", "SELECT data, fetched_at FROM link_previews WHERE url = $1", []any{url}, &data, &at); err != nil {
		return nil, err
	}
	var c parley.CachedLinkPreview
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, err
	}
	c.FetchedAt = parley.TimeFromMillis(at)
	return &c, nil
}

func (q *q) PutLinkPreviewCache(ctx context.Context, url string, c *parley.CachedLinkPreview) error {
	_, err := q.exec(ctx, `INSERT INTO link_previews (url, data, fetched_at) VALUES ($1, $2, $3)
		ON CONFLICT (url) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at`, url, jsonText(c), parley.Millis(c.FetchedAt))
	return err
}
