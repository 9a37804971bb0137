package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q runs every query of the store, either on the read pool (Store) or inside
// a transaction (txn): one implementation of each query serves both.
type q struct {
	s  *Store
	db querier
	tx *sql.Tx // set inside Write
}

// stmt returns the prepared statement for a fixed query text.
func (q *q) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.tx == nil {
		return q.s.prepared(ctx, false, query)
	}
	if st := q.s.cached(true, query); st != nil {
		return q.tx.StmtContext(ctx, st), nil
	}
	// Preparing on the pool would need a second connection, which other
	// transactions may hold while they wait for one the same way: with as
	// many of them as the pool has connections, none would go on. This
	// transaction prepares on its own connection; the pool prepares in the
	// background for the next ones.
	go q.s.prepared(context.Background(), true, query)
	return q.tx.PrepareContext(ctx, query)
}

func (q *q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (q *q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// row runs a single-row query and scans it; no row is ENOTFOUND with what
// as the message subject.
func (q *q) row(ctx context.Context, what, query string, args []any, dest ...any) error {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return err
	}
	return notFound(st.QueryRowContext(ctx, args...).Scan(dest...), what)
}

// execOne runs a write that must change exactly one row.
func (q *q) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "%s not found", what)
	}
	return nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "%s not found", what)
	}
	return err
}

// mapErr turns a uniqueness violation into ECONFLICT.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return parley.Errorf(parley.ECONFLICT, "%s already exists", what)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return parley.Errorf(parley.ECONFLICT, "%s already exists", what)
	}
	return err
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// Cursors are opaque to clients: base64 of the sort key and the ID.
func encodeCursor(key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + ":" + key))
}

func decodeCursor(c string) (key string, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		idPart, rest, ok := strings.Cut(string(b), ":")
		if ok {
			if id, err = strconv.ParseInt(idPart, 10, 64); err == nil {
				return rest, id, nil
			}
		}
	}
	return "", 0, parley.Invalid("cursor", "invalid cursor")
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// jsonText encodes v for a TEXT column; empty values are stored as "".
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

func limit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
