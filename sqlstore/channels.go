package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Channels and the messages that crossed them.

const channelCols = "id, project_id, kind, name, paused, auto_case, settings, secrets, last_error, error_at, created_at, updated_at"

func scanChannel(r scanner) (*parley.Channel, error) {
	var c parley.Channel
	var settings, secrets string
	var errorAt, created, updated int64
	if err := r.Scan(&c.ID, &c.ProjectID, &c.Kind, &c.Name, &c.Paused, &c.AutoCase, &settings, &secrets, &c.LastError,
		&errorAt, &created, &updated); err != nil {
		return nil, err
	}
	if err := decodeJSON(settings, &c.Settings); err != nil {
		return nil, err
	}
	if err := decodeJSON(secrets, &c.Secrets); err != nil {
		return nil, err
	}
	if c.Settings == nil {
		c.Settings = map[string]string{}
	}
	c.NameSecrets()
	c.ErrorAt, c.CreatedAt, c.UpdatedAt = parley.TimeFromMillis(errorAt), parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &c, nil
}

func (q *q) ChannelByID(ctx context.Context, id int64) (*parley.Channel, error) {
	rows, err := q.query(ctx, "SELECT "+channelCols+" FROM channels WHERE id = $1", id)
	return one(rows, err, scanChannel, "channel")
}

func (q *q) Channels(ctx context.Context, projectID int64) ([]*parley.Channel, error) {
	query, args := "SELECT "+channelCols+" FROM channels ORDER BY id", []any{}
	if projectID != 0 {
		query, args = "SELECT "+channelCols+" FROM channels WHERE project_id = $1 ORDER BY id", []any{projectID}
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannel)
}

func (q *q) CreateChannel(ctx context.Context, c *parley.Channel) error {
	now := parley.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := q.row(ctx, "channel", `INSERT INTO channels (project_id, kind, name, paused, auto_case, settings, secrets, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		[]any{c.ProjectID, c.Kind, c.Name, c.Paused, c.AutoCase, encodeJSON(c.Settings), encodeJSON(c.Secrets), parley.Millis(now)}, &c.ID)
	c.NameSecrets()
	return mapErr(err, "channel")
}

func (q *q) UpdateChannel(ctx context.Context, c *parley.Channel) error {
	c.UpdatedAt = parley.Now()
	c.NameSecrets()
	return q.execOne(ctx, "channel", `UPDATE channels SET name = $2, paused = $3, auto_case = $4, settings = $5, secrets = $6,
		updated_at = $7 WHERE id = $1`,
		c.ID, c.Name, c.Paused, c.AutoCase, encodeJSON(c.Settings), encodeJSON(c.Secrets), parley.Millis(c.UpdatedAt))
}

func (q *q) SetChannelError(ctx context.Context, id int64, msg string, at time.Time) error {
	_, err := q.exec(ctx, "UPDATE channels SET last_error = $2, error_at = $3 WHERE id = $1", id, msg, parley.Millis(at))
	return err
}

func (q *q) DeleteChannel(ctx context.Context, id int64) error {
	return q.execOne(ctx, "channel", "DELETE FROM channels WHERE id = $1", id)
}

func (q *q) LeaseChannel(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE channels SET lease_owner = $2, lease_until = $4
		WHERE id = $1 AND (lease_owner = $2 OR lease_until < $3)`, id, owner, parley.Millis(now), parley.Millis(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const channelMsgCols = "message_id, channel_id, conversation_id, outbound, external_id, state, attempts, next_at, error, created_at, updated_at"

func scanChannelMessage(r scanner) (*parley.ChannelMessage, error) {
	var m parley.ChannelMessage
	var ext *string
	var next, created, updated int64
	if err := r.Scan(&m.MessageID, &m.ChannelID, &m.ConversationID, &m.Outbound, &ext, &m.State, &m.Attempts, &next, &m.Error,
		&created, &updated); err != nil {
		return nil, err
	}
	if ext != nil {
		m.ExternalID = *ext
	}
	m.NextAt, m.CreatedAt, m.UpdatedAt = parley.TimeFromMillis(next), parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &m, nil
}

func (q *q) ChannelMessage(ctx context.Context, messageID int64) (*parley.ChannelMessage, error) {
	rows, err := q.query(ctx, "SELECT "+channelMsgCols+" FROM channel_messages WHERE message_id = $1", messageID)
	return one(rows, err, scanChannelMessage, "channel message")
}

func (q *q) ChannelMessageByExternalID(ctx context.Context, channelID int64, externalID string) (*parley.ChannelMessage, error) {
	rows, err := q.query(ctx, "SELECT "+channelMsgCols+" FROM channel_messages WHERE channel_id = $1 AND external_id = $2", channelID, externalID)
	return one(rows, err, scanChannelMessage, "channel message")
}

func (q *q) ChannelMessagesOf(ctx context.Context, convID int64, limit int) ([]*parley.ChannelMessage, error) {
	rows, err := q.query(ctx, "SELECT "+channelMsgCols+" FROM channel_messages WHERE conversation_id = $1 ORDER BY message_id DESC LIMIT $2",
		convID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannelMessage)
}

func (q *q) DueChannelMessages(ctx context.Context, channelID int64, now time.Time, limit int) ([]*parley.ChannelMessage, error) {
	// Only the oldest queued message of each conversation: a customer
	// receives their messages in the order they were written, whatever
	// the retries of one of them.
	rows, err := q.query(ctx, "SELECT "+channelMsgCols+` FROM channel_messages c
		WHERE c.channel_id = $1 AND c.state = 'queued' AND c.next_at <= $2
		  AND NOT EXISTS (SELECT 1 FROM channel_messages p WHERE p.channel_id = c.channel_id AND p.state = 'queued'
		                  AND p.conversation_id = c.conversation_id AND p.message_id < c.message_id)
		ORDER BY c.message_id LIMIT $3`, channelID, parley.Millis(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannelMessage)
}

func (q *q) NextChannelMessageAt(ctx context.Context, channelID int64) (time.Time, error) {
	var next *int64
	err := q.queryRow(ctx, "SELECT MIN(next_at) FROM channel_messages WHERE channel_id = $1 AND state = 'queued'", channelID).Scan(&next)
	if err != nil || next == nil {
		return time.Time{}, err
	}
	return parley.TimeFromMillis(*next), nil
}

func (q *q) PutChannelMessage(ctx context.Context, m *parley.ChannelMessage) error {
	now := parley.Now()
	m.CreatedAt, m.UpdatedAt = now, now
	_, err := q.exec(ctx, "INSERT INTO channel_messages ("+channelMsgCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
		m.MessageID, m.ChannelID, m.ConversationID, m.Outbound, nullString(m.ExternalID), m.State, m.Attempts, parley.Millis(m.NextAt),
		m.Error, parley.Millis(now))
	return mapErr(err, "channel message")
}

func (q *q) UpdateChannelMessage(ctx context.Context, m *parley.ChannelMessage) error {
	m.UpdatedAt = parley.Now()
	return q.execOne(ctx, "channel message", `UPDATE channel_messages SET external_id = $2, state = $3, attempts = $4, next_at = $5,
		error = $6, updated_at = $7 WHERE message_id = $1`,
		m.MessageID, nullString(m.ExternalID), m.State, m.Attempts, parley.Millis(m.NextAt), m.Error, parley.Millis(m.UpdatedAt))
}
