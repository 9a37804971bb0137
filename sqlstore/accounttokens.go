package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parley-chat/parley"
)

// Invitation and password-reset links (parley.AccountToken).

const accountTokenCols = "id, kind, token_hash, email, user_id, role, group_ids, created_by, created_at, expires_at, sent_at"

func scanAccountToken(r scanner) (*parley.AccountToken, error) {
	var t parley.AccountToken
	var groups string
	var created, expires, sent int64
	if err := r.Scan(&t.ID, &t.Kind, &t.TokenHash, &t.Email, &t.UserID, &t.Role, &groups, &t.CreatedBy, &created, &expires, &sent); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = parley.TimeFromMillis(created), parley.TimeFromMillis(expires)
	if sent != 0 {
		t.SentAt = parley.TimeFromMillis(sent)
	}
	if err := json.Unmarshal([]byte(groups), &t.GroupIDs); err != nil || t.GroupIDs == nil {
		t.GroupIDs = []int64{}
	}
	return &t, nil
}

func (q *q) AccountTokenByHash(ctx context.Context, hash string) (*parley.AccountToken, error) {
	rows, err := q.query(ctx, "SELECT "+accountTokenCols+" FROM account_tokens WHERE token_hash = $1", hash)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanAccountToken)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "link not found")
	}
	return list[0], nil
}

func (q *q) AccountTokens(ctx context.Context, kind string) ([]*parley.AccountToken, error) {
	rows, err := q.query(ctx, "SELECT "+accountTokenCols+" FROM account_tokens WHERE kind = $1 ORDER BY id DESC LIMIT 1000", kind)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAccountToken)
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return parley.Millis(t)
}

func (q *q) CreateAccountToken(ctx context.Context, t *parley.AccountToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = parley.Now()
	}
	if t.GroupIDs == nil {
		t.GroupIDs = []int64{}
	}
	groups, _ := json.Marshal(t.GroupIDs)
	return q.row(ctx, "link", `INSERT INTO account_tokens (kind, token_hash, email, user_id, role, group_ids, created_by, created_at, expires_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		[]any{t.Kind, t.TokenHash, t.Email, t.UserID, string(t.Role), string(groups), t.CreatedBy, parley.Millis(t.CreatedAt),
			parley.Millis(t.ExpiresAt), millisOrZero(t.SentAt)}, &t.ID)
}

func (q *q) RenewAccountToken(ctx context.Context, id int64, hash string, expires, sent time.Time) error {
	return q.execOne(ctx, "link", "UPDATE account_tokens SET token_hash = $1, expires_at = $2, sent_at = $3 WHERE id = $4",
		hash, parley.Millis(expires), millisOrZero(sent), id)
}

func (q *q) DeleteAccountToken(ctx context.Context, id int64) (bool, error) {
	res, err := q.exec(ctx, "DELETE FROM account_tokens WHERE id = $1", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *q) DeleteAccountTokensOf(ctx context.Context, kind, email string) error {
	_, err := q.exec(ctx, "DELETE FROM account_tokens WHERE kind = $1 AND email = $2", kind, email)
	return err
}
