package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
// a group's transaction (txn): one implementation of each query serves both.
// Every statement goes through stmt and observe, so that the group writer
// knows what each write did to the transaction.
type q struct {
	s  *Store
	db querier
	tx *sql.Tx // set inside Write
	b  *book   // set inside Write: what the write being run did
}

// book is what the group writer notes of one write (a Write's function, or
// one call of a Batcher) inside a shared transaction.
type book struct {
	// ctx runs the write's statements: the group's, which no caller can
	// cancel. A statement interrupted mid-way could roll back the whole
	// group's transaction, with the other writes in it.
	ctx context.Context
	// wrote: a statement that changes rows ran. A write that fails after
	// that cannot be undone alone: the group starts again without it.
	wrote bool
	// broken is a statement error after which the transaction may not go
	// on (any error on PostgreSQL, which aborts the transaction; an I/O or
	// interrupt error on SQLite, which may roll it back).
	broken error
	// locked holds the conversations whose rows the transaction has locked
	// (PostgreSQL; see lockConversations).
	locked map[int64]bool
}

// lockConversations locks the rows of the given conversations until the
// transaction ends, those not locked yet, in ID order. On PostgreSQL a
// write that changes a conversation's row (its seq, its state) and rows in
// it (its members) locks the conversation's row first, several
// conversations in ID order, and member rows in (conversation, user)
// order; a write that changes only member rows locks those in key order
// and no conversation. Writers on any node then wait for each other in one
// order and never deadlock. SQLite's one writer needs no locks.
func (q *q) lockConversations(ctx context.Context, ids ...int64) error {
	lock := q.s.dialect.forUpdate()
	if lock == "" || q.b == nil {
		return nil
	}
	var todo []int64
	for _, id := range ids {
		if !q.b.locked[id] {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	slices.Sort(todo)
	todo = slices.Compact(todo)
	if q.b.locked == nil {
		q.b.locked = make(map[int64]bool)
	}
	for _, id := range todo {
		q.b.locked[id] = true
	}
	return q.multi(ctx, len(todo), ints(1), func(rows string) string {
		return "SELECT id FROM conversations WHERE id IN (SELECT column1 FROM (" + rows + ") v) ORDER BY id" + lock
	}, func(dst []any, i int) []any { return append(dst, todo[i]) }, func(*sql.Rows) error { return nil })
}

// ctx returns the context statements run with: the group's inside a write.
func (q *q) ctx(ctx context.Context) context.Context {
	if q.b != nil {
		return q.b.ctx
	}
	return ctx
}

// stmt returns the prepared statement for a fixed query text.
func (q *q) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.tx == nil {
		return q.s.prepared(ctx, false, query)
	}
	if isWrite(query) {
		q.b.wrote = true
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
	st, err := q.tx.PrepareContext(ctx, query)
	return st, q.observe(err)
}

// observe notes a statement's error in the write's book and returns it.
func (q *q) observe(err error) error {
	if err == nil || q.b == nil || q.b.broken != nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if q.s.dialect.name() == "postgres" || !sqliteStatementError(err) {
		q.b.broken = err
	}
	return err
}

// sqliteStatementError reports whether err undid its own statement only,
// leaving SQLite's transaction as it was: a constraint violation.
func sqliteStatementError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// isWrite reports whether a statement may change rows.
func isWrite(query string) bool {
	query = strings.TrimLeft(query, " \t\n")
	i := strings.IndexAny(query, " \t\n(")
	if i < 0 {
		i = len(query)
	}
	switch strings.ToUpper(query[:i]) {
	case "SELECT", "VALUES":
		return false
	}
	return true // INSERT, UPDATE, DELETE, and WITH ... (which may write)
}

func (q *q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.ctx(ctx)
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, q.observe(err)
}

func (q *q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.ctx(ctx)
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, q.observe(err)
}

// adhoc runs a query whose text varies with its arguments (IN lists,
// multi-row VALUES) without preparing it: a statement cache would fill up
// with texts used once.
func (q *q) adhoc(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if q.tx != nil && isWrite(query) {
		q.b.wrote = true
	}
	rows, err := q.db.QueryContext(q.ctx(ctx), query, args...)
	return rows, q.observe(err)
}

// few runs a query whose text varies with the number n of ids in it: the
// few shortest forms, which the hot paths use (one dialog's view, one
// conversation's members), are prepared and kept like any query; longer
// ones are run unprepared, so that lists of every length do not fill the
// statement cache.
func (q *q) few(ctx context.Context, n int, query string, args ...any) (*sql.Rows, error) {
	if n <= 4 {
		return q.query(ctx, query, args...)
	}
	return q.adhoc(ctx, query, args...)
}

// adhocExec runs a write whose text varies with its arguments (see adhoc).
func (q *q) adhocExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if q.tx != nil {
		q.b.wrote = true
	}
	res, err := q.db.ExecContext(q.ctx(ctx), query, args...)
	return res, q.observe(err)
}

// maxRows bounds the rows of one multi-row statement, well below both
// databases' limits on parameters (SQLite 32,766; PostgreSQL 65,535).
const maxRows = 256

// sqliteChunks are the row counts of SQLite's multi-row statements.
// Preparing a long VALUES list costs SQLite more than running it, so it
// runs statements of these few sizes, each prepared once.
var sqliteChunks = [...]int{64, 16, 4, 1}

// multi runs a statement over n rows of values of the given column types
// (BIGINT, TEXT or BOOLEAN). text(rows) is the statement, where rows is a
// query of the rows, whose columns are named column1, column2, ...: use it
// as "INSERT INTO t (...) " + rows, "FROM (" + rows + ") v", or
// "IN (SELECT column1 FROM (" + rows + ") v)". row appends row i's values.
// scan, if not nil, reads the rows the statement returns; otherwise it is
// executed.
//
// PostgreSQL gets one array per column (unnest): one statement for all
// the rows, whose text, planned once, does not change with their number.
// SQLite gets VALUES lists of a few fixed sizes, each a prepared statement
// (preparing a long VALUES list costs SQLite more than running it).
func (q *q) multi(ctx context.Context, n int, types []string, text func(rows string) string,
	row func(dst []any, i int) []any, scan func(rows *sql.Rows) error) error {
	if n == 0 {
		return nil
	}
	if q.s.dialect.name() == "postgres" {
		return q.multiArrays(ctx, n, types, text, row, scan)
	}
	var buf []any
	for from := 0; from < n; {
		k := 1
		for _, size := range sqliteChunks {
			if size <= n-from {
				k = size
				break
			}
		}
		buf = buf[:0]
		for i := from; i < from+k; i++ {
			buf = row(buf, i)
		}
		query := text(sqliteValues(k, len(types)))
		var err error
		if scan == nil {
			_, err = q.exec(ctx, query, buf...)
		} else {
			var rows *sql.Rows
			if rows, err = q.query(ctx, query, buf...); err == nil {
				err = q.observe(scanAll(rows, scan))
			}
		}
		if err != nil {
			return err
		}
		from += k
	}
	return nil
}

// multiArrays is multi on PostgreSQL.
func (q *q) multiArrays(ctx context.Context, n int, types []string, text func(rows string) string,
	row func(dst []any, i int) []any, scan func(rows *sql.Rows) error) error {
	cols := make([]any, len(types))
	var rows strings.Builder
	rows.WriteString("SELECT * FROM unnest(")
	for c, typ := range types {
		switch typ {
		case "BIGINT":
			cols[c] = make([]int64, 0, n)
		case "TEXT":
			cols[c] = make([]string, 0, n)
		case "BOOLEAN":
			cols[c] = make([]bool, 0, n)
		default:
			panic("sqlstore: no arrays of " + typ)
		}
		if c > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "CAST($%d AS %s[])", c+1, typ)
	}
	rows.WriteString(") AS u(")
	for c := range types {
		if c > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "column%d", c+1)
	}
	rows.WriteByte(')')
	var buf []any
	for i := range n {
		buf = row(buf[:0], i)
		for c, v := range buf {
			switch col := cols[c].(type) {
			case []int64:
				cols[c] = append(col, toInt64(v))
			case []string:
				cols[c] = append(col, v.(string))
			case []bool:
				cols[c] = append(col, v.(bool))
			}
		}
	}
	query := text(rows.String())
	if scan == nil {
		_, err := q.exec(ctx, query, cols...)
		return err
	}
	r, err := q.query(ctx, query, cols...)
	if err != nil {
		return err
	}
	return q.observe(scanAll(r, scan))
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	}
	panic(fmt.Sprintf("sqlstore: %T is not an integer", v))
}

// sqliteValues is a VALUES list of rows rows of cols anonymous parameters.
// Binding a named parameter ($n) makes the SQLite driver search the
// statement's list of names, which grows with the statement: quadratic in
// a multi-row statement's parameters.
func sqliteValues(rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * (cols*3 + 4))
	b.WriteString("VALUES ")
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}

// scanAll calls scan for each row and closes rows.
func scanAll(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ints are the column types of n integers.
func ints(n int) []string {
	t := make([]string, n)
	for i := range t {
		t[i] = "BIGINT"
	}
	return t
}

// queryRow runs a single-row query; its Scan returns the statement's error.
func (q *q) queryRow(ctx context.Context, query string, args ...any) scanner {
	ctx = q.ctx(ctx)
	st, err := q.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return observedRow{q, st.QueryRowContext(ctx, args...)}
}

type observedRow struct {
	q *q
	r *sql.Row
}

func (r observedRow) Scan(dest ...any) error { return r.q.observe(r.r.Scan(dest...)) }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// row runs a single-row query and scans it; no row is ENOTFOUND with what
// as the message subject.
func (q *q) row(ctx context.Context, what, query string, args []any, dest ...any) error {
	return notFound(q.queryRow(ctx, query, args...).Scan(dest...), what)
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

// decodeCursor refuses a key that is not valid UTF-8 or has a NUL: no
// cursor of ours has one, and PostgreSQL would fail the query.
func decodeCursor(c string) (key string, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		idPart, rest, ok := strings.Cut(string(b), ":")
		if ok && utf8.ValidString(rest) && !strings.ContainsRune(rest, 0) {
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

// limitRows returns a LIMIT clause of at least n rows, rounded up to one of
// a few sizes. SQLite prepares a statement again at every run when its
// LIMIT is a bound parameter (doubling the cost of a small query), so the
// limit is written into the text, and rounding keeps the number of texts,
// each a prepared statement, small. The caller keeps the first n rows.
func limitRows(n int) string {
	for _, size := range [...]int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000} {
		if n <= size {
			return " LIMIT " + strconv.Itoa(size)
		}
	}
	return " LIMIT " + strconv.Itoa(n)
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

// sqlBuilder collects a query's conditions and their arguments.
type sqlBuilder struct {
	sql  string
	args []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) where(cond string) { b.sql += " AND " + cond }

func (b *sqlBuilder) in(col string, vals []any) {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = b.arg(v)
	}
	b.where(col + " IN (" + strings.Join(ph, ", ") + ")")
}
