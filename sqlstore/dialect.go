package sqlstore

import (
	"context"
	"slices"
	"strings"
	"unicode"
)

// dialect holds what differs between SQLite and PostgreSQL. Everything else
// is one SQL text for both ($N placeholders, RETURNING and ON CONFLICT work
// in both).
type dialect interface {
	name() string
	// searchJoin returns the FROM/WHERE fragment that matches messages m
	// against the full-text query bound to placeholder $1.
	searchFrom() string
	// searchQuery turns the words a user typed into the dialect's query
	// syntax, every word as a prefix, all required; "" if none is left.
	searchQuery(words []string) string
	// orderEvents runs inside a writing transaction just before its events
	// are inserted, so stream positions increase in commit order.
	orderEvents(ctx context.Context, db querier) error
	// nextIDs returns n new, increasing IDs for rows of table (messages or
	// events), to insert many rows with one statement.
	nextIDs(ctx context.Context, q *q, table string, n int) ([]int64, error)
	// forUpdate is the clause that locks the rows a SELECT reads until the
	// transaction ends ("" where the writer is alone, as on SQLite).
	forUpdate() string
	// indexPending adds up to limit pending messages (0: all) to the
	// full-text index, inside a writing transaction, and reports whether
	// any are left; a no-op where the index is kept at insert.
	indexPending(ctx context.Context, q *q, limit int64) (more bool, err error)
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) searchFrom() string {
	return "messages m JOIN messages_fts f ON f.rowid = m.id WHERE messages_fts MATCH $1"
}

func (sqliteDialect) searchQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"*`
	}
	return strings.Join(parts, " AND ")
}

// SQLite has a single writer: positions are already in commit order.
func (sqliteDialect) orderEvents(context.Context, querier) error { return nil }

// SQLite's one writer holds the write lock: the IDs after the largest
// are free. events has AUTOINCREMENT, whose counter may be ahead of it.
func (sqliteDialect) nextIDs(ctx context.Context, q *q, table string, n int) ([]int64, error) {
	query := "SELECT COALESCE(MAX(id), 0) FROM messages"
	if table == "events" {
		query = "SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))"
	}
	var last int64
	if err := q.row(ctx, table, query, nil, &last); err != nil {
		return nil, err
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last + 1 + int64(i)
	}
	return ids, nil
}

func (sqliteDialect) forUpdate() string { return "" }

// indexPending adds every message stored since the last call to the FTS5
// index. Indexing in batches, rather than by a trigger in each sending
// transaction, keeps that cost and the index's per-commit flush off the
// hot path.
func (sqliteDialect) indexPending(ctx context.Context, q *q, limit int64) (bool, error) {
	var pos, newest int64
	if err := q.row(ctx, "search index", "SELECT position FROM search_index", nil, &pos); err != nil {
		return false, err
	}
	if err := q.row(ctx, "messages", "SELECT COALESCE(MAX(id), 0) FROM messages", nil, &newest); err != nil {
		return false, err
	}
	upto := newest
	if limit > 0 && newest-pos > limit {
		upto = pos + limit
	}
	if upto <= pos {
		return false, nil
	}
	if _, err := q.exec(ctx, `INSERT INTO messages_fts (rowid, text)
		SELECT id, text FROM messages WHERE id > $1 AND id <= $2 AND text <> ''`, pos, upto); err != nil {
		return false, err
	}
	_, err := q.exec(ctx, "UPDATE search_index SET position = $1", upto)
	return upto < newest, err
}

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) searchFrom() string {
	return "messages m WHERE m.tsv @@ to_tsquery('simple', $1)"
}

func (postgresDialect) searchQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "'" + w + "':*"
	}
	return strings.Join(parts, " & ")
}

// eventsLock serialises the tail of every writing transaction that emits
// events, across all nodes: identity values are then taken, and committed,
// in one order, so a reader never sees position n+1 before n.
const eventsLock = 0x7061726c6579 // "parley"

// PostgreSQL keeps its tsvector column up to date at insert.
func (postgresDialect) indexPending(context.Context, *q, int64) (bool, error) { return false, nil }

// PostgreSQL draws from the table's identity sequence, as many at a time.
func (postgresDialect) nextIDs(ctx context.Context, q *q, table string, n int) ([]int64, error) {
	rows, err := q.query(ctx, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id')) FROM generate_series(1, $1)", n)
	if err != nil {
		return nil, err
	}
	ids, err := collectInt64(rows)
	if err != nil {
		return nil, q.observe(err)
	}
	slices.Sort(ids)
	return ids, nil
}

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

func (postgresDialect) orderEvents(ctx context.Context, db querier) error {
	_, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(eventsLock))
	return err
}

// searchWords splits what a user typed into words of letters and digits;
// everything else separates words, so no input can inject query syntax.
func searchWords(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 16 {
		words = words[:16]
	}
	return words
}
