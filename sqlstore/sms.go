package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Staff SMS: users' phone numbers and the texts sent to them.

const staffSMSCols = "id, sender_id, recipient_id, to_number, body, segments, channel_id, external_id, status, error, created_at, updated_at"

func scanStaffSMS(r scanner) (*parley.StaffSMS, error) {
	var m parley.StaffSMS
	var created, updated int64
	if err := r.Scan(&m.ID, &m.SenderID, &m.RecipientID, &m.To, &m.Text, &m.Segments, &m.ChannelID, &m.ExternalID,
		&m.Status, &m.Error, &created, &updated); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &m, nil
}

func (q *q) UserPhone(ctx context.Context, userID int64) (string, error) {
	var phone string
	err := q.row(ctx, "phone", "SELECT phone FROM user_phones WHERE user_id = $1", []any{userID}, &phone)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return "", nil
	}
	return phone, err
}

func (q *q) SetUserPhone(ctx context.Context, userID int64, phone string) error {
	if phone == "" {
		_, err := q.exec(ctx, "DELETE FROM user_phones WHERE user_id = $1", userID)
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO user_phones (user_id, phone) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone`, userID, phone)
	return err
}

func (q *q) CreateStaffSMS(ctx context.Context, m *parley.StaffSMS) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = parley.Now()
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	return q.row(ctx, "sms", `INSERT INTO staff_sms (sender_id, recipient_id, to_number, body, segments, channel_id, external_id,
		status, error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		[]any{m.SenderID, m.RecipientID, m.To, m.Text, m.Segments, m.ChannelID, m.ExternalID, m.Status, m.Error,
			parley.Millis(m.CreatedAt), parley.Millis(m.UpdatedAt)}, &m.ID)
}

func (q *q) UpdateStaffSMS(ctx context.Context, m *parley.StaffSMS) error {
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = parley.Now()
	}
	return q.execOne(ctx, "sms", "UPDATE staff_sms SET external_id = $2, status = $3, error = $4, updated_at = $5 WHERE id = $1",
		m.ID, m.ExternalID, m.Status, m.Error, parley.Millis(m.UpdatedAt))
}

func (q *q) StaffSMSByExternalID(ctx context.Context, channelID int64, externalID string) (*parley.StaffSMS, error) {
	m, err := scanStaffSMS(q.queryRow(ctx, "SELECT "+staffSMSCols+" FROM staff_sms WHERE channel_id = $1 AND external_id = $2",
		channelID, externalID))
	return m, notFound(err, "sms")
}

func (q *q) StaffSMSTo(ctx context.Context, recipientID, senderID int64, n int) ([]*parley.StaffSMS, error) {
	b := &sqlBuilder{sql: "SELECT " + staffSMSCols + " FROM staff_sms WHERE recipient_id = "}
	b.sql += b.arg(recipientID)
	if senderID != 0 {
		b.where("sender_id = " + b.arg(senderID))
	}
	rows, err := q.query(ctx, b.sql+" ORDER BY id DESC LIMIT "+b.arg(limit(n, 50, 200)), b.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*parley.StaffSMS
	for rows.Next() {
		m, err := scanStaffSMS(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (q *q) CountStaffSMS(ctx context.Context, senderID int64, since time.Time) (int, error) {
	var n int
	err := q.row(ctx, "count", "SELECT COUNT(*) FROM staff_sms WHERE sender_id = $1 AND created_at >= $2",
		[]any{senderID, parley.Millis(since)}, &n)
	return n, err
}
