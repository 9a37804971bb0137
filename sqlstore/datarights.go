package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Customers' data rights, the retention of closed dialogs and the blob
// trash.

func (q *q) EraseContact(ctx context.Context, id int64, at time.Time) ([]parley.File, error) {
	rows, err := q.query(ctx, "SELECT "+fileCols+" FROM files WHERE contact_id = $1 AND contact_id <> 0", id)
	if err != nil {
		return nil, err
	}
	files, err := collect(rows, scanFile)
	if err != nil {
		return nil, err
	}
	for _, st := range []string{
		"DELETE FROM files WHERE contact_id = $1 AND contact_id <> 0",
		"DELETE FROM case_comments WHERE case_id IN (SELECT id FROM cases WHERE contact_id = $1)",
		"DELETE FROM cases WHERE contact_id = $1",
		"DELETE FROM ratings WHERE contact_id = $1",
		"DELETE FROM contact_tags WHERE contact_id = $1",
		"DELETE FROM contact_notes WHERE contact_id = $1",
		"DELETE FROM events WHERE contact_id = $1 AND contact_id <> 0",
	} {
		if _, err := q.exec(ctx, st, id); err != nil {
			return nil, err
		}
	}
	err = q.execOne(ctx, "contact", `UPDATE contacts SET external_id = NULL, name = '', email = '', phone = '', page_url = '',
		referrer = '', utm_source = '', attributes = '{}', channel_id = 0, address = '', erased_at = $2 WHERE id = $1`,
		id, parley.Millis(at))
	return files, err
}

func (q *q) TrashBlobs(ctx context.Context, keys []string) error {
	now := parley.Millis(parley.Now())
	for _, k := range keys {
		if _, err := q.exec(ctx, "INSERT INTO blob_trash (key, created_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", k, now); err != nil {
			return err
		}
	}
	return nil
}

func (q *q) UntrashBlobs(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := q.exec(ctx, "DELETE FROM blob_trash WHERE key = $1", k); err != nil {
			return err
		}
	}
	return nil
}

func (q *q) TrashedBlobs(ctx context.Context, n int) ([]string, error) {
	rows, err := q.query(ctx, "SELECT key FROM blob_trash ORDER BY created_at, key LIMIT $1", limit(n, 100, 1000))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (string, error) {
		var k string
		err := r.Scan(&k)
		return k, err
	})
}

func (q *q) ExpiredDialogs(ctx context.Context, projectID int64, closedBefore time.Time, n int) ([]int64, error) {
	rows, err := q.query(ctx, `SELECT id FROM conversations WHERE project_id = $1 AND project_id <> 0 AND status = 'closed'
		AND closed_at < $2 ORDER BY closed_at, id LIMIT $3`, projectID, parley.Millis(closedBefore), limit(n, 100, 1000))
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	})
}

func (q *q) LeaseRetention(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE projects SET retention_owner = $2, retention_until = $4
		WHERE id = $1 AND (retention_owner = $2 OR retention_until < $3)`, id, owner, parley.Millis(now), parley.Millis(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) RetentionRun(ctx context.Context, projectID int64) (*parley.RetentionRun, error) {
	r := parley.RetentionRun{ProjectID: projectID}
	var cutoff, started int64
	err := q.row(ctx, "retention run", "SELECT cutoff, started_at, dialogs, files FROM retention_runs WHERE project_id = $1",
		[]any{projectID}, &cutoff, &started, &r.Dialogs, &r.Files)
	if err != nil {
		return nil, err
	}
	r.Cutoff, r.StartedAt = parley.TimeFromMillis(cutoff), parley.TimeFromMillis(started)
	return &r, nil
}

func (q *q) PutRetentionRun(ctx context.Context, r *parley.RetentionRun) error {
	_, err := q.exec(ctx, `INSERT INTO retention_runs (project_id, cutoff, started_at, dialogs, files) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (project_id) DO UPDATE SET cutoff = excluded.cutoff, started_at = excluded.started_at,
		dialogs = excluded.dialogs, files = excluded.files`,
		r.ProjectID, parley.Millis(r.Cutoff), parley.Millis(r.StartedAt), r.Dialogs, r.Files)
	return err
}

func (q *q) EndRetentionRun(ctx context.Context, projectID int64) error {
	_, err := q.exec(ctx, "DELETE FROM retention_runs WHERE project_id = $1", projectID)
	return err
}
