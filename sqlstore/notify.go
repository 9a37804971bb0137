package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley"
)

// The notifier's queries (package notify). They are not in parley.Store:
// only the notifier uses them, through its own interface.

const pushCols = "id, user_id, endpoint, p256dh, auth, user_agent, created_at"

func scanPush(r scanner) (*parley.PushSubscription, error) {
	var p parley.PushSubscription
	var at int64
	if err := r.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256DH, &p.Auth, &p.UserAgent, &at); err != nil {
		return nil, err
	}
	p.CreatedAt = parley.TimeFromMillis(at)
	return &p, nil
}

// PushSubscriptions returns a user's subscriptions, oldest first.
func (q *q) PushSubscriptions(ctx context.Context, userID int64) ([]*parley.PushSubscription, error) {
	rows, err := q.query(ctx, "SELECT "+pushCols+" FROM push_subscriptions WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanPush)
}

// PushSubscriptionByEndpoint returns the subscription of an endpoint,
// whoever's it is.
func (q *q) PushSubscriptionByEndpoint(ctx context.Context, endpoint string) (*parley.PushSubscription, error) {
	p, err := scanPush(q.queryRow(ctx, "SELECT "+pushCols+" FROM push_subscriptions WHERE endpoint = $1", endpoint))
	return p, notFound(err, "push subscription")
}

// PutPushSubscription stores a subscription, taking its endpoint over from
// whoever had it (the browser's user changed), and sets its ID.
func (q *q) PutPushSubscription(ctx context.Context, p *parley.PushSubscription) error {
	return q.row(ctx, "push subscription", `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,
		p256dh = excluded.p256dh, auth = excluded.auth, user_agent = excluded.user_agent, created_at = excluded.created_at RETURNING id`,
		[]any{p.UserID, p.Endpoint, p.P256DH, p.Auth, p.UserAgent, parley.Millis(p.CreatedAt)}, &p.ID)
}

// DeletePushSubscription deletes a user's subscription (ENOTFOUND if the
// user has none with that id); userID 0 deletes whoever's it is.
func (q *q) DeletePushSubscription(ctx context.Context, userID, id int64) error {
	if userID == 0 {
		_, err := q.exec(ctx, "DELETE FROM push_subscriptions WHERE id = $1", id)
		return err
	}
	return q.execOne(ctx, "push subscription", "DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2", id, userID)
}

// NotifySettings returns a user's notification settings (the defaults if
// they never chose).
func (q *q) NotifySettings(ctx context.Context, userID int64) (parley.NotifySettings, error) {
	s := parley.DefaultNotifySettings()
	var raw string
	err := q.row(ctx, "notify settings", "SELECT settings FROM notify_settings WHERE user_id = $1", []any{userID}, &raw)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(raw), &s)
}

func (q *q) SetNotifySettings(ctx context.Context, userID int64, s parley.NotifySettings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, `INSERT INTO notify_settings (user_id, settings) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings`, userID, string(b))
	return err
}

// InitSetting stores v under key unless the key has a value already,
// then decodes the stored value into v: of several nodes that start at
// once, the first one's value stands.
func (q *q) InitSetting(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := q.exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, string(b)); err != nil {
		return err
	}
	var raw string
	if err := q.row(ctx, "setting", "SELECT value FROM settings WHERE key = $1", []any{key}, &raw); err != nil {
		return err
	}
	return json.Unmarshal([]byte(raw), v)
}

// NotifyCandidates lists members' conversations whose newest message came
// in (since, before], that the member has not read up to, and that were
// not yet notified up to it on channel ("push": only members with a push
// subscription; "email": active members).
func (q *q) NotifyCandidates(ctx context.Context, channel string, since, before time.Time, n int) ([]parley.NotifyCandidate, error) {
	col, who := "push_seq", "EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.user_id = m.user_id)"
	if channel == "email" {
		col, who = "email_seq", "EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id AND u.active = $4)"
	}
	args := []any{parley.Millis(since), parley.Millis(before), limit(n, 500, 5000)}
	if channel == "email" {
		args = append(args, true)
	}
	rows, err := q.query(ctx, `SELECT m.user_id, m.conversation_id, c.last_seq, m.read_seq, COALESCE(k.`+col+`, 0), c.last_message_at
		FROM conversations c JOIN members m ON m.conversation_id = c.id
		LEFT JOIN notify_marks k ON k.user_id = m.user_id AND k.conversation_id = c.id
		WHERE c.last_message_at > $1 AND c.last_message_at <= $2 AND c.last_seq > m.read_seq
		AND c.last_seq > COALESCE(k.`+col+`, 0) AND `+who+`
		ORDER BY m.user_id, c.last_message_at LIMIT $3`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (parley.NotifyCandidate, error) {
		var c parley.NotifyCandidate
		var at int64
		err := r.Scan(&c.UserID, &c.ConversationID, &c.LastSeq, &c.ReadSeq, &c.DoneSeq, &at)
		c.LastMessageAt = parley.TimeFromMillis(at)
		return c, err
	})
}

// MarkNotified records that a member's conversation was notified up to seq
// on channel ("push" or "email").
func (q *q) MarkNotified(ctx context.Context, channel string, userID, convID, seq int64) error {
	col := "push_seq"
	if channel == "email" {
		col = "email_seq"
	}
	_, err := q.exec(ctx, `INSERT INTO notify_marks (user_id, conversation_id, `+col+`) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, conversation_id) DO UPDATE SET `+col+` = excluded.`+col+`
		WHERE notify_marks.`+col+` < excluded.`+col, userID, convID, seq)
	return err
}

// MarkReminderNotified records a reminder as notified on channel for the
// time it was due at; false if it already was.
func (q *q) MarkReminderNotified(ctx context.Context, channel string, reminderID int64, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `INSERT INTO notify_reminders (reminder_id, remind_at, channel) VALUES ($1, $2, $3)
		ON CONFLICT (reminder_id, remind_at, channel) DO NOTHING`, reminderID, parley.Millis(at), channel)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReminderNotified reports whether a reminder was notified on channel.
func (q *q) ReminderNotified(ctx context.Context, channel string, reminderID int64, at time.Time) (bool, error) {
	var one int
	err := q.row(ctx, "reminder", `SELECT 1 FROM notify_reminders WHERE reminder_id = $1 AND remind_at = $2 AND channel = $3`,
		[]any{reminderID, parley.Millis(at), channel}, &one)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

// QueueNote queues a note for the notifier and sets its ID.
func (q *q) QueueNote(ctx context.Context, n *parley.NotifyNote) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return q.row(ctx, "note", "INSERT INTO notify_outbox (user_id, note, created_at) VALUES ($1, $2, $3) RETURNING id",
		[]any{n.UserID, string(b), parley.Millis(n.At)}, &n.ID)
}

// QueuedNotes returns the oldest queued notes.
func (q *q) QueuedNotes(ctx context.Context, n int) ([]*parley.NotifyNote, error) {
	rows, err := q.query(ctx, "SELECT id, note FROM notify_outbox ORDER BY id LIMIT $1", limit(n, 100, 1000))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*parley.NotifyNote, error) {
		var id int64
		var raw string
		if err := r.Scan(&id, &raw); err != nil {
			return nil, err
		}
		var note parley.NotifyNote
		err := json.Unmarshal([]byte(raw), &note)
		note.ID = id
		return &note, err
	})
}

// DeleteNote takes a note off the queue; false if it was gone already.
func (q *q) DeleteNote(ctx context.Context, id int64) (bool, error) {
	res, err := q.exec(ctx, "DELETE FROM notify_outbox WHERE id = $1", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LeaseNotify takes or renews owner's lease of the notifier's deliveries
// (there is one, id 1).
func (q *q) LeaseNotify(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE notify_lease SET lease_owner = $2, lease_until = $4
		WHERE id = $1 AND (lease_owner = $2 OR lease_until < $3)`, id, owner, parley.Millis(now), parley.Millis(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
