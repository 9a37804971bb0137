package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
)

// This file reads and writes whole databases, table by table, for
// `parley backup` and `parley restore` (package backup). Rows travel as
// plain values (nil, int64, float64, string, []byte, bool), so a snapshot of
// one dialect loads into the other. Neither side goes through Store: a
// backup must not migrate the database of a running server, and a restore
// loads a schema version that may be older than this binary's newest.

// Table is a table of a snapshot: its name and the columns a backup holds.
// Generated columns (PostgreSQL's messages.tsv) are left out, and so are
// the tables derived from others (the full-text index on SQLite, which the
// server rebuilds) and the migrations' own bookkeeping.
type Table struct {
	Name    string
	Columns []string
}

// Snapshot is one consistent read of a whole database, taken beside
// running servers: a read transaction on SQLite (WAL gives it a fixed view
// while the writer goes on) and a REPEATABLE READ, READ ONLY transaction
// on PostgreSQL (one snapshot for every statement, as pg_dump takes).
type Snapshot struct {
	dialect string
	version int64
	tables  []Table
	db      *sql.DB
	tx      *sql.Tx
}

// OpenSnapshot opens the database named by dsn (as Open) without
// migrating it and begins the snapshot. Close ends it.
func OpenSnapshot(ctx context.Context, dsn string) (*Snapshot, error) {
	dialect, path, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{dialect: dialect}
	var opts *sql.TxOptions
	if dialect == "sqlite" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
		// query_only: a backup never writes, whatever a bug may ask.
		s.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	} else {
		s.db, err = sql.Open("pgx", dsn)
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s", Redact(err.Error()))
	}
	s.db.SetMaxOpenConns(1)
	if s.tx, err = s.db.BeginTx(ctx, opts); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sqlstore: snapshot: %s", Redact(err.Error()))
	}
	// The first read fixes SQLite's view: everything below, the schema
	// version included, is of one instant.
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlstore: snapshot: %w", err)
	}
	return s, nil
}

func (s *Snapshot) init(ctx context.Context) error {
	var v sql.NullInt64
	if err := s.tx.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
		return fmt.Errorf("reading the schema version (is this a Parley database?): %w", err)
	}
	s.version = v.Int64
	names, err := tableNames(ctx, s.tx, s.dialect)
	if err != nil {
		return err
	}
	for _, name := range names {
		cols, err := tableColumns(ctx, s.tx, s.dialect, name)
		if err != nil {
			return err
		}
		s.tables = append(s.tables, Table{Name: name, Columns: cols})
	}
	order, err := loadOrder(ctx, s.tx, s.dialect, names)
	if err != nil {
		return err
	}
	slices.SortStableFunc(s.tables, func(a, b Table) int { return order[a.Name] - order[b.Name] })
	return nil
}

// Dialect is "sqlite" or "postgres".
func (s *Snapshot) Dialect() string { return s.dialect }

// SchemaVersion is the newest migration applied to the database.
func (s *Snapshot) SchemaVersion() int64 { return s.version }

// Tables are the tables to back up, in an order in which loading them
// satisfies every foreign key: referenced tables first.
func (s *Snapshot) Tables() []Table { return s.tables }

// Rows calls fn with each row of t, in ID order where the table has one,
// as the values the driver returns. The slice is reused between calls.
func (s *Snapshot) Rows(ctx context.Context, t Table, fn func(row []any) error) error {
	query := "SELECT " + quoteList(t.Columns) + " FROM " + quote(t.Name)
	if slices.Contains(t.Columns, "id") {
		query += " ORDER BY id"
	}
	rows, err := s.tx.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("sqlstore: reading %s: %w", t.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlstore: reading %s: %w", t.Name, err)
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: reading %s: %w", t.Name, err)
	}
	return nil
}

// Sequences returns, for each table with an id column, the last id handed
// out: at least its largest id, more where newer rows were deleted
// (PostgreSQL's identity sequences; SQLite's AUTOINCREMENT counters). A
// restore continues after them, so an id a client may still hold (an event
// position, a message) never names a different row.
func (s *Snapshot) Sequences(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64)
	for _, t := range s.tables {
		if !slices.Contains(t.Columns, "id") {
			continue
		}
		var last int64
		query := "SELECT COALESCE(MAX(id), 0) FROM " + quote(t.Name)
		if s.dialect == "postgres" {
			// Sequences are outside the snapshot: this may be a little
			// ahead of it, which only skips ids.
			query = "SELECT GREATEST(COALESCE(MAX(id), 0), COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass), 0)) FROM " + quote(t.Name)
		}
		var args []any
		if s.dialect == "postgres" {
			args = append(args, quote(t.Name))
		}
		if err := s.tx.QueryRowContext(ctx, query, args...).Scan(&last); err != nil {
			return nil, fmt.Errorf("sqlstore: last id of %s: %w", t.Name, err)
		}
		out[t.Name] = last
	}
	if s.dialect == "sqlite" {
		rows, err := s.tx.QueryContext(ctx, "SELECT name, seq FROM sqlite_sequence")
		if err != nil && !strings.Contains(err.Error(), "no such table") {
			return nil, fmt.Errorf("sqlstore: sqlite_sequence: %w", err)
		}
		if err == nil {
			defer rows.Close()
			for rows.Next() {
				var name string
				var seq int64
				if err := rows.Scan(&name, &seq); err != nil {
					return nil, err
				}
				if _, ok := out[name]; ok && seq > out[name] {
					out[name] = seq
				}
			}
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Close ends the snapshot.
func (s *Snapshot) Close() error {
	if s.tx != nil {
		s.tx.Rollback()
	}
	return s.db.Close()
}

// Loader fills an empty database from a backup: Empty, MigrateTo, Begin,
// Insert for every table, SetSequences, Commit. Until Commit nothing but
// the schema is visible, so a restore that fails midway leaves an empty
// database behind that a second attempt accepts.
type Loader struct {
	dialect string
	db      *sql.DB
	tx      *sql.Tx
	// boolean holds the "table.column" names of PostgreSQL's boolean
	// columns, which SQLite keeps as 0 and 1.
	boolean map[string]bool
	// identity holds the tables with an identity column (PostgreSQL),
	// which need OVERRIDING SYSTEM VALUE to take ids as given.
	identity map[string]bool
}

// OpenLoader opens the database named by dsn (as Open) without migrating
// it; a missing SQLite file is created empty.
func OpenLoader(ctx context.Context, dsn string) (*Loader, error) {
	dialect, path, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	l := &Loader{dialect: dialect}
	if dialect == "sqlite" {
		if path == "" {
			return nil, errors.New("sqlstore: sqlite: empty path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
		// Foreign keys on: the load checks every reference as it goes.
		l.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"+
			"&_pragma=foreign_keys(ON)&_pragma=synchronous(FULL)&_txlock=immediate")
	} else {
		l.db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s", Redact(err.Error()))
	}
	if err := l.db.PingContext(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("sqlstore: %s", Redact(err.Error()))
	}
	return l, nil
}

// Dialect is "sqlite" or "postgres".
func (l *Loader) Dialect() string { return l.dialect }

// LatestSchemaVersion is the newest migration this binary has for the
// loader's dialect.
func (l *Loader) LatestSchemaVersion() (int64, error) {
	p, err := l.provider()
	if err != nil {
		return 0, err
	}
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return 0, nil
	}
	return srcs[len(srcs)-1].Version, nil
}

// startTables hold what a server writes at its first start, with nobody
// signed up yet: the secrets it generates (settings). A database with rows
// there alone is still empty; the restore replaces them with the backup's,
// which the restored visitor tokens and file links were signed with.
var startTables = []string{"settings", "notify_lease"} // notify_lease: its row comes with the migration

// Empty returns nil if the database holds no rows, other than those the
// migrations and a server's first start write, and otherwise an error
// naming the tables that have some. It changes nothing.
func (l *Loader) Empty(ctx context.Context) error {
	names, err := tableNames(ctx, l.db, l.dialect)
	if err != nil {
		return err
	}
	var full []string
	for _, name := range names {
		if slices.Contains(startTables, name) {
			continue
		}
		var n int
		if err := l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+quote(name)+" LIMIT 1) x").Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: counting %s: %w", name, err)
		}
		if n > 0 {
			full = append(full, name)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("the database is not empty (rows in %s)", strings.Join(full, ", "))
	}
	return nil
}

// SchemaVersion is the newest migration applied (0 for a new database).
func (l *Loader) SchemaVersion(ctx context.Context) (int64, error) {
	var exists bool
	query := "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version')"
	if l.dialect == "postgres" {
		query = "SELECT to_regclass('goose_db_version') IS NOT NULL"
	}
	if err := l.db.QueryRowContext(ctx, query).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	err := l.db.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v)
	return v.Int64, err
}

func (l *Loader) provider() (*goose.Provider, error) { return migrationProvider(l.db, l.dialect) }

// MigrateTo applies the migrations up to version, the snapshot's, so the
// rows load into the schema they were read from; the server applies the
// newer ones when it starts, data migrations included.
func (l *Loader) MigrateTo(ctx context.Context, version int64) error {
	p, err := l.provider()
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Begin starts the transaction that loads every row.
func (l *Loader) Begin(ctx context.Context) error {
	var err error
	if l.tx, err = l.db.BeginTx(ctx, nil); err != nil {
		return err
	}
	for _, name := range startTables {
		if _, err := l.tx.ExecContext(ctx, "DELETE FROM "+quote(name)); err != nil {
			return err
		}
	}
	l.boolean, l.identity = map[string]bool{}, map[string]bool{}
	if l.dialect != "postgres" {
		return nil
	}
	rows, err := l.tx.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table, col, typ, ident string
		if err := rows.Scan(&table, &col, &typ, &ident); err != nil {
			return err
		}
		if typ == "boolean" {
			l.boolean[table+"."+col] = true
		}
		if ident == "YES" {
			l.identity[table] = true
		}
	}
	return rows.Err()
}

// Tables are the tables this database's backups hold, in loading order.
func (l *Loader) Tables(ctx context.Context) ([]string, error) {
	return tableNames(ctx, l.db, l.dialect)
}

// Insert adds rows (values as Snapshot.Rows returns them, or as decoded
// from a backup: nil, int64, float64, string, []byte, bool) to table.
func (l *Loader) Insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(table) + " (" + quoteList(cols) + ")")
	if l.identity[table] {
		b.WriteString(" OVERRIDING SYSTEM VALUE")
	}
	b.WriteString(" VALUES ")
	args := make([]any, 0, len(rows)*len(cols))
	for i, row := range rows {
		if len(row) != len(cols) {
			return fmt.Errorf("sqlstore: %s: a row has %d values for %d columns", table, len(row), len(cols))
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteByte(',')
			}
			args = append(args, l.convert(table, cols[j], v))
			// SQLite looks each $N up in a list of the names so far,
			// which makes a statement of many $N slow to parse; ? is
			// numbered as it comes.
			if l.dialect == "sqlite" {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
		}
		b.WriteByte(')')
	}
	if _, err := l.tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("sqlstore: loading %s: %w", table, err)
	}
	return nil
}

// convert adapts a value to the column's type where the dialects differ:
// booleans.
func (l *Loader) convert(table, col string, v any) any {
	if l.dialect == "postgres" {
		if l.boolean[table+"."+col] {
			switch x := v.(type) {
			case int64:
				return x != 0
			case float64:
				return x != 0
			}
		}
		return v
	}
	if x, ok := v.(bool); ok {
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// MaxInsertRows is how many rows of cols one Insert may take: both
// databases limit the parameters of a statement (SQLite to 32766), and
// beyond a few thousand a larger statement saves nothing.
func MaxInsertRows(cols int) int { return max(1, 5000/max(1, cols)) }

// SetSequences makes new ids continue after last (table: last id given
// out), and after the largest id loaded.
func (l *Loader) SetSequences(ctx context.Context, last map[string]int64) error {
	names, err := tableNames(ctx, l.tx, l.dialect)
	if err != nil {
		return err
	}
	for _, name := range names {
		cols, err := tableColumns(ctx, l.tx, l.dialect, name)
		if err != nil {
			return err
		}
		if !slices.Contains(cols, "id") {
			continue
		}
		var loaded int64
		if err := l.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+quote(name)).Scan(&loaded); err != nil {
			return err
		}
		n := max(loaded, last[name])
		if n == 0 {
			continue
		}
		if l.dialect == "postgres" {
			var seq sql.NullString
			if err := l.tx.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, 'id')", quote(name)).Scan(&seq); err != nil {
				return err
			}
			if !seq.Valid {
				continue
			}
			if _, err := l.tx.ExecContext(ctx, "SELECT setval($1::regclass, $2, true)", seq.String, n); err != nil {
				return fmt.Errorf("sqlstore: sequence of %s: %w", name, err)
			}
			continue
		}
		// SQLite hands out MAX(id)+1 except where AUTOINCREMENT keeps a
		// counter (events), which may be ahead of the rows.
		var auto bool
		if err := l.tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1 AND sql LIKE '%AUTOINCREMENT%')", name).Scan(&auto); err != nil {
			return err
		}
		if !auto {
			continue
		}
		if _, err := l.tx.ExecContext(ctx, "DELETE FROM sqlite_sequence WHERE name = $1", name); err != nil {
			return err
		}
		if _, err := l.tx.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)", name, n); err != nil {
			return err
		}
	}
	return nil
}

// Commit makes the loaded rows visible.
func (l *Loader) Commit() error {
	if l.tx == nil {
		return errors.New("sqlstore: no load in progress")
	}
	err := l.tx.Commit()
	l.tx = nil
	return err
}

// Close ends the loader, rolling back a load not committed.
func (l *Loader) Close() error {
	if l.tx != nil {
		l.tx.Rollback()
	}
	return l.db.Close()
}

// tableNames lists the tables a backup holds, by name. Left out: the
// migrations' version table, SQLite's internal tables and its full-text
// index (virtual and shadow tables, and search_index, its position: a
// restored database starts it at 0 and the server indexes every message
// again in the background).
func tableNames(ctx context.Context, db querier, dialect string) ([]string, error) {
	query := `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name NOT IN ('goose_db_version', 'search_index') ORDER BY name`
	if dialect == "postgres" {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version' ORDER BY table_name`
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	return names, rows.Err()
}

// tableColumns lists a table's stored columns, generated ones left out,
// in their order in the table.
func tableColumns(ctx context.Context, db querier, dialect, table string) ([]string, error) {
	// table_info leaves out generated columns (table_xinfo has them).
	query := "SELECT name FROM pragma_table_info($1) ORDER BY cid"
	if dialect == "postgres" {
		query = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()
			AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`
	}
	rows, err := db.QueryContext(ctx, query, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		cols = append(cols, c)
	}
	rows.Close()
	return cols, rows.Err()
}

// loadOrder ranks tables so that every table comes after those its
// foreign keys reference (ties by name, for a stable order).
func loadOrder(ctx context.Context, db querier, dialect string, names []string) (map[string]int, error) {
	deps := make(map[string][]string)
	query := `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
	if dialect == "postgres" {
		query = `SELECT c.relname, p.relname FROM pg_constraint k
			JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
			WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace`
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, err
		}
		if from != to {
			deps[from] = append(deps[from], to)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	order := make(map[string]int)
	for len(order) < len(names) {
		progressed := false
		for _, n := range names {
			if _, done := order[n]; done {
				continue
			}
			ready := true
			for _, d := range deps[n] {
				if _, done := order[d]; !done && slices.Contains(names, d) {
					ready = false
				}
			}
			if ready {
				order[n] = len(order)
				progressed = true
			}
		}
		if !progressed {
			return nil, errors.New("the tables' foreign keys form a cycle")
		}
	}
	return order, nil
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
