package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Outgoing webhooks and their delivery log.

const webhookCols = "id, project_id, user_id, url, events, secret, active, cursor, last_error, error_at, created_at, updated_at"

func scanWebhook(r scanner) (*parley.Webhook, error) {
	var w parley.Webhook
	var events string
	var errorAt, created, updated int64
	if err := r.Scan(&w.ID, &w.ProjectID, &w.UserID, &w.URL, &events, &w.Secret, &w.Active, &w.Cursor, &w.LastError, &errorAt,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := decodeJSON(events, &w.Events); err != nil {
		return nil, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	w.ErrorAt, w.CreatedAt, w.UpdatedAt = parley.TimeFromMillis(errorAt), parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &w, nil
}

func (q *q) Webhooks(ctx context.Context) ([]*parley.Webhook, error) {
	rows, err := q.query(ctx, "SELECT "+webhookCols+" FROM webhooks ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanWebhook)
}

func (q *q) WebhookByID(ctx context.Context, id int64) (*parley.Webhook, error) {
	rows, err := q.query(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = $1", id)
	return one(rows, err, scanWebhook, "webhook")
}

func (q *q) CreateWebhook(ctx context.Context, w *parley.Webhook) error {
	now := parley.Now()
	w.CreatedAt, w.UpdatedAt = now, now
	err := q.row(ctx, "webhook", `INSERT INTO webhooks (project_id, user_id, url, events, secret, active, cursor, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		[]any{w.ProjectID, w.UserID, w.URL, encodeJSON(w.Events), w.Secret, w.Active, w.Cursor, parley.Millis(now)}, &w.ID)
	return mapErr(err, "webhook")
}

func (q *q) UpdateWebhook(ctx context.Context, w *parley.Webhook) error {
	w.UpdatedAt = parley.Now()
	return q.execOne(ctx, "webhook", "UPDATE webhooks SET url = $2, events = $3, active = $4, secret = $5, updated_at = $6 WHERE id = $1",
		w.ID, w.URL, encodeJSON(w.Events), w.Active, w.Secret, parley.Millis(w.UpdatedAt))
}

func (q *q) DeleteWebhook(ctx context.Context, id int64) error {
	return q.execOne(ctx, "webhook", "DELETE FROM webhooks WHERE id = $1", id)
}

func (q *q) SetWebhookCursor(ctx context.Context, id, cursor int64, lastError string, at time.Time) error {
	_, err := q.exec(ctx, "UPDATE webhooks SET cursor = $2, last_error = $3, error_at = $4 WHERE id = $1",
		id, cursor, lastError, parley.Millis(at))
	return err
}

func (q *q) LeaseWebhook(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE webhooks SET lease_owner = $2, lease_until = $4
		WHERE id = $1 AND (lease_owner = $2 OR lease_until < $3)`, id, owner, parley.Millis(now), parley.Millis(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) WebhookEvents(ctx context.Context, w *parley.Webhook, after int64, n int) ([]parley.Event, error) {
	if w.UserID != 0 {
		return q.EventsSince(ctx, w.UserID, after, n)
	}
	n = limit(n, 100, 1000)
	const cols = "SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events"
	query, args := cols+" WHERE project_id <> 0 AND user_id = 0 AND contact_id = 0 AND id > $1 ORDER BY id LIMIT $2", []any{after, n}
	if w.ProjectID != 0 {
		query = cols + " WHERE project_id = $3 AND project_id <> 0 AND user_id = 0 AND contact_id = 0 AND id > $1 ORDER BY id LIMIT $2"
		args = append(args, w.ProjectID)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEvent)
}

func (q *q) EventByID(ctx context.Context, id int64) (*parley.Event, error) {
	e, err := scanEvent(q.queryRow(ctx, "SELECT id, type, conversation_id, user_id, seq, data, created_at FROM events WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "event")
	}
	return &e, nil
}

const deliveryCols = "id, webhook_id, event_id, event_type, attempt, ok, status_code, duration_ms, error, created_at"

func scanDelivery(r scanner) (*parley.WebhookDelivery, error) {
	var d parley.WebhookDelivery
	var created int64
	if err := r.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Attempt, &d.OK, &d.StatusCode, &d.DurationMS, &d.Error,
		&created); err != nil {
		return nil, err
	}
	d.CreatedAt = parley.TimeFromMillis(created)
	return &d, nil
}

func (q *q) WebhookDeliveries(ctx context.Context, webhookID, before int64, n int) ([]*parley.WebhookDelivery, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := q.query(ctx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE webhook_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
		webhookID, before, limit(n, 50, 200))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDelivery)
}

func (q *q) DeleteWebhookDeliveriesBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE created_at < $1 ORDER BY id LIMIT 10000)`, parley.Millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q *q) AddWebhookDelivery(ctx context.Context, d *parley.WebhookDelivery) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = parley.Now()
	}
	err := q.row(ctx, "webhook delivery", `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt, ok, status_code,
		duration_ms, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		[]any{d.WebhookID, d.EventID, d.EventType, d.Attempt, d.OK, d.StatusCode, d.DurationMS, d.Error, parley.Millis(d.CreatedAt)}, &d.ID)
	return err
}
