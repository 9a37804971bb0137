package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley"
)

// The team-chat basics (parley.ChatReader, parley.ChatWriter): threads,
// mentions, reactions and mutes.

// scanChat fills a scanned message's thread, mentions and summary.
func scanChat(m *parley.Message, inChannel int64, mentions string, replies, lastReply int64, threadUsers string) error {
	m.InChannel = inChannel != 0
	if mentions != "" {
		m.Mentions = new(parley.Mentions)
		if err := json.Unmarshal([]byte(mentions), m.Mentions); err != nil {
			return err
		}
	}
	if replies > 0 {
		m.Thread = &parley.ThreadSummary{Replies: replies, LastReplyAt: parley.TimeFromMillis(lastReply), UserIDs: []int64{}}
		if threadUsers != "" {
			if err := json.Unmarshal([]byte(threadUsers), &m.Thread.UserIDs); err != nil {
				return err
			}
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func mentionsText(m *parley.Mentions) string {
	if m.Empty() {
		return ""
	}
	return jsonText(m)
}

func (q *q) ThreadMessages(ctx context.Context, threadID int64, p parley.MessagePage) ([]*parley.Message, error) {
	args := []any{threadID}
	query := "SELECT " + msgCols + " FROM messages m WHERE m.thread_id = $1 AND m.thread_id <> 0"
	if p.Before > 0 {
		args = append(args, p.Before)
		query += " AND m.seq < $2"
	} else if p.After > 0 {
		args = append(args, p.After)
		query += " AND m.seq > $2"
	}
	forward := p.After > 0 && p.Before == 0
	n := limit(p.Limit, 50, 200)
	if forward {
		query += " ORDER BY m.seq ASC" + limitRows(n)
	} else {
		query += " ORDER BY m.seq DESC" + limitRows(n)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	msgs, err := collect(rows, scanMessage)
	if err != nil {
		return nil, err
	}
	msgs = msgs[:min(n, len(msgs))]
	if !forward {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	return msgs, nil
}

func (q *q) Reactions(ctx context.Context, messageIDs []int64) (map[int64][]parley.Reaction, error) {
	out := make(map[int64][]parley.Reaction)
	if len(messageIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(messageIDs), `SELECT message_id, emoji, user_id FROM reactions
		WHERE message_id IN (`+placeholders(1, len(messageIDs))+`) ORDER BY message_id, created_at, user_id`, int64Args(messageIDs)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, user int64
		var emoji string
		if err := rows.Scan(&id, &emoji, &user); err != nil {
			return nil, err
		}
		list := out[id]
		i := 0
		for i < len(list) && list[i].Emoji != emoji {
			i++
		}
		if i == len(list) {
			list = append(list, parley.Reaction{Emoji: emoji})
		}
		list[i].Count++
		list[i].UserIDs = append(list[i].UserIDs, user)
		out[id] = list
	}
	return out, q.observe(rows.Err())
}

func (q *q) Mutes(ctx context.Context, userID int64, convIDs []int64) (map[int64]*parley.Mute, error) {
	out := make(map[int64]*parley.Mute)
	if convIDs != nil && len(convIDs) == 0 {
		return out, nil
	}
	var rows *sql.Rows
	var err error
	if convIDs == nil {
		rows, err = q.query(ctx, "SELECT conversation_id, until FROM mutes WHERE user_id = $1", userID)
	} else {
		rows, err = q.few(ctx, len(convIDs), `SELECT conversation_id, until FROM mutes
		WHERE user_id = $1 AND conversation_id IN (`+placeholders(2, len(convIDs))+")", append([]any{userID}, int64Args(convIDs)...)...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var conv, until int64
		if err := rows.Scan(&conv, &until); err != nil {
			return nil, err
		}
		out[conv] = &parley.Mute{ConversationID: conv, UserID: userID, Until: parley.TimeFromMillis(until)}
	}
	return out, q.observe(rows.Err())
}

func (q *q) UnreadMentions(ctx context.Context, userID int64, convIDs []int64) (map[int64]int64, error) {
	out := make(map[int64]int64)
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.few(ctx, len(convIDs), `SELECT x.conversation_id, COUNT(*) FROM mentions x
		JOIN members m ON m.conversation_id = x.conversation_id AND m.user_id = x.user_id
		WHERE x.user_id = $1 AND x.seq > m.read_seq AND x.conversation_id IN (`+placeholders(2, len(convIDs))+`)
		GROUP BY x.conversation_id`, append([]any{userID}, int64Args(convIDs)...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var conv, n int64
		if err := rows.Scan(&conv, &n); err != nil {
			return nil, err
		}
		out[conv] = n
	}
	return out, q.observe(rows.Err())
}

func (q *q) AddReaction(ctx context.Context, convID, messageID, userID int64, emoji string, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `INSERT INTO reactions (message_id, user_id, emoji, conversation_id, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id, emoji, user_id) DO NOTHING`,
		messageID, userID, emoji, convID, parley.Millis(at))
	return affected(res, err)
}

func (q *q) RemoveReaction(ctx context.Context, messageID, userID int64, emoji string) (bool, error) {
	res, err := q.exec(ctx, "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3", messageID, userID, emoji)
	return affected(res, err)
}

func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (q *q) SetMute(ctx context.Context, convID, userID int64, mute *parley.Mute) error {
	if mute == nil {
		_, err := q.exec(ctx, "DELETE FROM mutes WHERE user_id = $1 AND conversation_id = $2", userID, convID)
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO mutes (conversation_id, user_id, until) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET until = excluded.until`, convID, userID, parley.Millis(mute.Until))
	return err
}

func (q *q) InsertMentions(ctx context.Context, list []parley.MentionRow) error {
	return q.multi(ctx, len(list), ints(4), func(rows string) string {
		return "INSERT INTO mentions (user_id, conversation_id, seq, message_id) " + rows + " ON CONFLICT DO NOTHING"
	}, func(dst []any, i int) []any {
		r := list[i]
		return append(dst, r.UserID, r.ConversationID, r.Seq, r.MessageID)
	}, nil)
}

func (q *q) SetThread(ctx context.Context, rootID int64, t parley.ThreadSummary) error {
	return q.execOne(ctx, "message", "UPDATE messages SET reply_count = $2, last_reply_at = $3, thread_users = $4 WHERE id = $1",
		rootID, t.Replies, parley.Millis(t.LastReplyAt), jsonText(t.UserIDs))
}
