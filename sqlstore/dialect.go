package sqlstore

import (
	"context"
	"strings"
	"unicode"
)

// dialect holds what differs between SQLite and PostgreSQL. Everything else
// is one SQL text for both ($N placeholders, RETURNING and ON CONFLICT work
// in both).
type dialect interface {
	name() string
	// searchTable names the full-text index (its shadow tables start
	// with it on SQLite).
	searchTable() string
	// searchJoin returns the FROM/WHERE fragment that matches messages m
	// against the full-text query bound to placeholder $1.
	searchFrom() string
	// searchQuery turns the words a user typed into the dialect's query
	// syntax, every word as a prefix, all required; "" if none is left.
	searchQuery(words []string) string
	// orderEvents runs inside a writing transaction just before its events
	// are inserted, so stream positions increase in commit order.
	orderEvents(ctx context.Context, db querier) error
	// indexPending adds up to limit pending messages (0: all) to the
	// full-text index, inside a writing transaction, and reports whether
	// any are left; a no-op where the index is kept at insert.
	indexPending(ctx context.Context, q *q, limit int64) (more bool, err error)
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) searchTable() string { return "messages_fts" }

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

func (postgresDialect) searchTable() string { return "messages_tsv" }

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
