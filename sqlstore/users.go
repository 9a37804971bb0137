package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const userCols = "id, email, name, role, active, photo_file_id, last_client, last_client_version, created_at, updated_at, bot, totp_enabled"

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner, extra ...any) (*parley.User, error) {
	var u parley.User
	var created, updated int64
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Active, &u.PhotoFileID,
		&u.LastClient, &u.LastClientVersion, &created, &updated, &u.Bot, &u.TwoFactor}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &u, nil
}

// sortName and searchText are stored so ordering and case-insensitive
// matching work the same in both databases (SQLite's lower() is ASCII-only).
func sortName(u *parley.User) string   { return strings.ToLower(u.Name) }
func searchText(u *parley.User) string { return strings.ToLower(u.Name + " " + u.Email) }

func (q *q) UserByID(ctx context.Context, id int64) (*parley.User, error) {
	u, err := scanUser(q.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	return u, notFound(err, "user")
}

func (q *q) UserByEmail(ctx context.Context, email string) (*parley.User, string, error) {
	var hash string
	u, err := scanUser(q.queryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE email = $1", strings.ToLower(email)), &hash)
	if err != nil {
		return nil, "", notFound(err, "user")
	}
	return u, hash, nil
}

func (q *q) Users(ctx context.Context, f parley.UserFilter) ([]*parley.User, string, error) {
	b := &sqlBuilder{sql: "SELECT " + userCols + ", sort_name FROM users WHERE TRUE"}
	if s := strings.TrimSpace(strings.ToLower(f.Query)); s != "" {
		b.where("search LIKE " + b.arg("%"+escapeLike(s)+"%") + " ESCAPE '\\'")
	}
	if f.GroupID != 0 {
		b.where("id IN (SELECT user_id FROM group_members WHERE group_id = " + b.arg(f.GroupID) + ")")
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return nil, "", nil
		}
		b.in("id", int64Args(f.IDs))
	}
	if f.Active != nil {
		b.where("active = " + b.arg(*f.Active))
	}
	if f.Bots {
		b.where("bot")
	}
	if f.Cursor != "" {
		key, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		b.where("(sort_name, id) > (" + b.arg(key) + ", " + b.arg(id) + ")")
	}
	n := limit(f.Limit, 50, 500)
	rows, err := q.few(ctx, len(f.IDs)+len(b.args), b.sql+" ORDER BY sort_name, id LIMIT "+b.arg(n+1), b.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var users []*parley.User
	var keys []string
	for rows.Next() {
		var key string
		u, err := scanUser(rows, &key)
		if err != nil {
			return nil, "", err
		}
		users, keys = append(users, u), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(users) > n {
		users = users[:n]
		next = encodeCursor(keys[n-1], users[n-1].ID)
	}
	return users, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (q *q) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := q.row(ctx, "users", "SELECT COUNT(*) FROM users", nil, &n)
	return n, err
}

func (q *q) UserSettings(ctx context.Context, userID int64) (parley.Settings, error) {
	var raw string
	if err := q.row(ctx, "user", "SELECT settings FROM users WHERE id = $1", []any{userID}, &raw); err != nil {
		return parley.Settings{}, err
	}
	s := parley.DefaultSettings()
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return parley.Settings{}, err
		}
	}
	return s, nil
}

func (q *q) CreateUser(ctx context.Context, u *parley.User, passwordHash string) error {
	now := parley.Millis(parley.Now())
	err := q.row(ctx, "user", `INSERT INTO users (email, name, sort_name, search, role, password_hash, active, photo_file_id, created_at, updated_at, bot)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id`,
		[]any{u.Email, u.Name, sortName(u), searchText(u), string(u.Role), passwordHash, u.Active, u.PhotoFileID, now, u.Bot}, &u.ID)
	if err != nil {
		return mapErr(err, "a user with this e-mail")
	}
	u.CreatedAt, u.UpdatedAt = parley.TimeFromMillis(now), parley.TimeFromMillis(now)
	return nil
}

func (q *q) UpdateUser(ctx context.Context, u *parley.User) error {
	u.UpdatedAt = parley.Now()
	return q.execOne(ctx, "user", `UPDATE users SET email = $2, name = $3, sort_name = $4, search = $5, role = $6,
		active = $7, photo_file_id = $8, updated_at = $9 WHERE id = $1`,
		u.ID, u.Email, u.Name, sortName(u), searchText(u), string(u.Role), u.Active, u.PhotoFileID, parley.Millis(u.UpdatedAt))
}

func (q *q) SetPassword(ctx context.Context, userID int64, hash string) error {
	return q.execOne(ctx, "user", "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
		userID, hash, parley.Millis(parley.Now()))
}

func (q *q) SetUserSettings(ctx context.Context, userID int64, s parley.Settings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return q.execOne(ctx, "user", "UPDATE users SET settings = $2 WHERE id = $1", userID, string(b))
}

func (q *q) SetClient(ctx context.Context, userID int64, client, version string) error {
	return q.execOne(ctx, "user", "UPDATE users SET last_client = $2, last_client_version = $3 WHERE id = $1",
		userID, client, version)
}

const sessionCols = "id, user_id, kind, name, token_hash, csrf, created_at, last_used_at, expires_at, client, addr"

func scanSession(r scanner) (*parley.Session, error) {
	var s parley.Session
	var created, used, expires int64
	if err := r.Scan(&s.ID, &s.UserID, &s.Kind, &s.Name, &s.TokenHash, &s.CSRF, &created, &used, &expires, &s.Client, &s.Addr); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastUsed, s.ExpiresAt = parley.TimeFromMillis(created), parley.TimeFromMillis(used), parley.TimeFromMillis(expires)
	return &s, nil
}

func (q *q) SessionByTokenHash(ctx context.Context, hash string) (*parley.Session, error) {
	s, err := scanSession(q.queryRow(ctx, "SELECT "+sessionCols+" FROM sessions WHERE token_hash = $1", hash))
	return s, notFound(err, "session")
}

func (q *q) Sessions(ctx context.Context, userID int64) ([]*parley.Session, error) {
	rows, err := q.query(ctx, "SELECT "+sessionCols+" FROM sessions WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSession)
}

func (q *q) CreateSession(ctx context.Context, s *parley.Session) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = parley.Now()
	}
	s.LastUsed = s.CreatedAt
	return q.row(ctx, "session", `INSERT INTO sessions (user_id, kind, name, token_hash, csrf, created_at, last_used_at, expires_at, client, addr)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING id`,
		[]any{s.UserID, s.Kind, s.Name, s.TokenHash, s.CSRF, parley.Millis(s.CreatedAt), parley.Millis(s.ExpiresAt), s.Client, s.Addr}, &s.ID)
}

func (q *q) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := q.exec(ctx, "UPDATE sessions SET last_used_at = $2 WHERE id = $1", id, parley.Millis(at))
	return err
}

func (q *q) DeleteSession(ctx context.Context, id int64) error {
	return q.execOne(ctx, "session", "DELETE FROM sessions WHERE id = $1", id)
}

func (q *q) DeleteSessions(ctx context.Context, userID int64) error {
	_, err := q.exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}

func (q *q) DeleteOtherSessions(ctx context.Context, userID, keepID int64, kind string) ([]int64, error) {
	rows, err := q.query(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 AND kind = $3 RETURNING id", userID, keepID, kind)
	if err != nil {
		return nil, err
	}
	return collectInt64(rows)
}

func (q *q) RotateSession(ctx context.Context, id int64, tokenHash, csrf string) error {
	return q.execOne(ctx, "session", "UPDATE sessions SET token_hash = $2, csrf = $3 WHERE id = $1", id, tokenHash, csrf)
}

func (q *q) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := q.row(ctx, "user", "SELECT password_hash FROM users WHERE id = $1", []any{userID}, &hash)
	return hash, err
}

func (q *q) TOTP(ctx context.Context, userID int64) (parley.TOTP, error) {
	var t parley.TOTP
	err := q.row(ctx, "user", "SELECT totp_secret, totp_enabled, totp_step FROM users WHERE id = $1", []any{userID}, &t.Secret, &t.Enabled, &t.Step)
	return t, err
}

func (q *q) SetTOTP(ctx context.Context, userID int64, secret string, enabled bool) error {
	return q.execOne(ctx, "user", "UPDATE users SET totp_secret = $2, totp_enabled = $3, totp_step = 0 WHERE id = $1", userID, secret, enabled)
}

func (q *q) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	return q.changedOne(q.exec(ctx, "UPDATE users SET totp_step = $2 WHERE id = $1 AND totp_step < $2", userID, step))
}

func (q *q) SetRecoveryCodes(ctx context.Context, userID int64, hashes []string) error {
	if _, err := q.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = $1", userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := q.exec(ctx, "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)", userID, h); err != nil {
			return err
		}
	}
	return nil
}

func (q *q) UseRecoveryCode(ctx context.Context, userID int64, hash string) (bool, error) {
	return q.changedOne(q.exec(ctx, "DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2", userID, hash))
}

func (q *q) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := q.row(ctx, "user", "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1", []any{userID}, &n)
	return n, err
}

// changedOne reports whether a conditional write changed a row.
func (q *q) changedOne(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// knownDevicesKept is how many device tokens a user keeps: a client that
// never sends its token back (a script signing in each run) would
// otherwise add one a sign-in.
const knownDevicesKept = 20

func (q *q) AddKnownDevice(ctx context.Context, tokenHash string, userID int64) error {
	if _, err := q.exec(ctx, "INSERT INTO known_devices (token_hash, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		tokenHash, userID, parley.Millis(parley.Now())); err != nil {
		return err
	}
	// The new one and the newest others stay.
	_, err := q.exec(ctx, `DELETE FROM known_devices WHERE user_id = $1 AND token_hash <> $2 AND token_hash NOT IN
		(SELECT token_hash FROM known_devices WHERE user_id = $1 AND token_hash <> $2 ORDER BY created_at DESC, token_hash LIMIT $3)`,
		userID, tokenHash, knownDevicesKept-1)
	return err
}

func (q *q) KnownDevice(ctx context.Context, tokenHash string) (int64, error) {
	var userID int64
	err := q.row(ctx, "device", "SELECT user_id FROM known_devices WHERE token_hash = $1", []any{tokenHash}, &userID)
	return userID, err
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func collectInt64(rows *sql.Rows) ([]int64, error) {
	return collect(rows, func(r scanner) (int64, error) {
		var v int64
		err := r.Scan(&v)
		return v, err
	})
}
