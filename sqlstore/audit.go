package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
)

// The audit log.

const auditCols = "id, at, actor_id, actor_name, action, target_type, target_id, detail, client_addr"

func scanAudit(r scanner) (*parley.AuditEntry, error) {
	var e parley.AuditEntry
	var at int64
	var detail string
	if err := r.Scan(&e.ID, &at, &e.ActorID, &e.ActorName, &e.Action, &e.TargetType, &e.TargetID, &detail, &e.ClientAddr); err != nil {
		return nil, err
	}
	e.At, e.Detail = parley.TimeFromMillis(at), json.RawMessage(detail)
	return &e, nil
}

func (q *q) Audit(ctx context.Context, e *parley.AuditEntry) error {
	if e.At.IsZero() {
		e.At = parley.Now()
	}
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	return q.row(ctx, "audit entry", `INSERT INTO audit_log (at, actor_id, actor_name, action, target_type, target_id, detail, client_addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		[]any{parley.Millis(e.At), e.ActorID, e.ActorName, e.Action, e.TargetType, e.TargetID, string(e.Detail), e.ClientAddr}, &e.ID)
}

func (q *q) AuditLog(ctx context.Context, f parley.AuditFilter) ([]*parley.AuditEntry, error) {
	b := &sqlBuilder{sql: "SELECT " + auditCols + " FROM audit_log WHERE 1 = 1"}
	if f.Action != "" {
		b.where("action = " + b.arg(f.Action))
	}
	if f.TargetType != "" {
		b.where("target_type = " + b.arg(f.TargetType))
	}
	if f.TargetID != 0 {
		b.where("target_id = " + b.arg(f.TargetID))
	}
	if !f.Since.IsZero() {
		b.where("at >= " + b.arg(parley.Millis(f.Since)))
	}
	if !f.Until.IsZero() {
		b.where("at < " + b.arg(parley.Millis(f.Until)))
	}
	if f.Before > 0 {
		b.where("id < " + b.arg(f.Before))
	}
	rows, err := q.adhoc(ctx, b.sql+" ORDER BY id DESC LIMIT "+b.arg(limit(f.Limit, 50, 200)), b.args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAudit)
}
