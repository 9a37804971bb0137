package sqlstore

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
)

// dialect holds what differs between SQLite and PostgreSQL. Everything else
// is one SQL text for both ($N placeholders, RETURNING and ON CONFLICT work
// in both).
type dialect interface {
	name() string
	// searchTable names the full-text index (its shadow tables start
	// with it on SQLite).
	searchTable() string
	// searchWords splits the text a user searches for into words, each
	// matched as a prefix, all required.
	searchWords(text string) []string
	// prepareSearch returns the matcher of words (see search.go); nil
	// if nothing can match.
	prepareSearch(ctx context.Context, q *q, words []string) (matcher, error)
	// eventIDs returns the stream positions of a writing transaction's n
	// events, just before they are inserted, such that positions increase
	// in commit order.
	eventIDs(ctx context.Context, q *q, n int) ([]int64, error)
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
	// unindex removes the messages of conversations (ids, as placeholders
	// in and their args) from the full-text index before they are deleted;
	// a no-op where the index is kept by the database.
	unindex(ctx context.Context, q *q, in string, args []any) error
	// reindex brings the full-text index up to date with an edited or
	// deleted message; a no-op where the index is kept by the database.
	reindex(ctx context.Context, q *q, id int64) error
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) searchTable() string { return "messages_search" }

func (sqliteDialect) searchWords(text string) []string {
	words := foldedWords(text)
	if len(words) > 16 {
		words = words[:16]
	}
	return words
}

func (sqliteDialect) prepareSearch(_ context.Context, _ *q, words []string) (matcher, error) {
	return sqliteSearch(words), nil
}

// sqliteSearch matches folded words (foldedWords) as prefixes. The index
// holds each message's distinct folded words, scoped to its conversation,
// in an FTS5 table whose ascii tokenizer keeps them as they are, so the
// index and match agree exactly.
type sqliteSearch []string

func (sqliteSearch) filter(int) (string, any) { return "", nil }

func (w sqliteSearch) match(text string) bool {
	if ascii, ok := matchASCII(w, text); ok {
		return ascii
	}
	terms := foldedWords(text)
	for _, word := range w {
		if !slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(t, word) }) {
			return false
		}
	}
	return true
}

// index asks FTS5 for the longest word only, the likeliest to be rare:
// FTS5 gathers every match of a prefix before it merges, and "the" in
// "the meeting" would gather most of the user's messages. The candidates
// are then matched in full (filters).
func (w sqliteSearch) index(convs []int64) (from, id string, arg any) {
	word := w[0]
	for _, x := range w[1:] {
		if len(x) > len(word) {
			word = x
		}
	}
	var b strings.Builder
	for i, c := range convs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(`"` + scope(c) + word + `"*`)
	}
	return "messages_search f JOIN messages m ON m.id = f.rowid WHERE messages_search MATCH $1", "f.rowid", b.String()
}

// filters reports whether candidates from index need match.
func (w sqliteSearch) filters() bool { return len(w) > 1 }

// matchASCII matches an ASCII text without allocating (ok is false for
// any other text): folding ASCII is lowering its letters.
func matchASCII(words []string, text string) (match, ok bool) {
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false, false
		}
	}
	for _, w := range words {
		found := false
		for i := 0; i < len(text) && !found; {
			for i < len(text) && !isAlnum(text[i]) {
				i++
			}
			j := 0
			for j < len(w) && i+j < len(text) && lower(text[i+j]) == w[j] {
				j++
			}
			found = j == len(w)
			for i < len(text) && isAlnum(text[i]) {
				i++
			}
		}
		if !found {
			return false, true
		}
	}
	return true, true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// searchTerms returns what the index holds for a message: its distinct
// folded words, scoped to its conversation.
func searchTerms(convID int64, text string) string {
	words := foldedWords(text)
	slices.Sort(words)
	words = slices.Compact(words)
	sc := scope(convID)
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sc)
		b.WriteString(w)
	}
	return b.String()
}

// SQLite has a single writer: positions are already in commit order.
// SQLite's one writer commits in the order it takes positions.
func (d sqliteDialect) eventIDs(ctx context.Context, q *q, n int) ([]int64, error) {
	return d.nextIDs(ctx, q, "events", n)
}

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
	rows, err := q.query(ctx, `SELECT id, conversation_id, text FROM messages
		WHERE id > $1 AND id <= $2 AND text <> '' AND kind IN ('text', 'file') AND deleted_at = 0`, pos, upto)
	if err != nil {
		return false, err
	}
	type pending struct {
		id    int64
		terms string
	}
	var batch []pending
	for rows.Next() {
		var id, conv int64
		var text string
		if err := rows.Scan(&id, &conv, &text); err != nil {
			rows.Close()
			return false, err
		}
		batch = append(batch, pending{id, searchTerms(conv, text)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	// One statement for the whole batch: FTS5 writes what it has gathered
	// to a new segment of its index at every statement that changes it
	// (each opens a savepoint), and more segments mean more merging.
	if len(batch) > 0 {
		pairs := make([][2]any, len(batch))
		for i, p := range batch {
			pairs[i] = [2]any{p.id, p.terms}
		}
		if _, err := q.exec(ctx, `INSERT INTO messages_search (rowid, terms)
			SELECT value ->> 0, value ->> 1 FROM json_each($1)`, jsonText(pairs)); err != nil {
			return false, err
		}
	}
	_, err = q.exec(ctx, "UPDATE search_index SET position = $1", upto)
	return upto < newest, err
}

// mergeSearchIndex does up to pages pages of merging in the FTS5 index:
// segments on a level with at least two (usermerge, migration 00005) merge
// into one on the next level. A search probes every segment for each of
// its terms, so fewer segments make searches faster; merging only equal
// levels keeps the work per message logarithmic. It reports whether there
// was anything to merge.
func mergeSearchIndex(ctx context.Context, q *q, pages int) (bool, error) {
	var before, after int64
	if err := q.row(ctx, "changes", "SELECT total_changes()", nil, &before); err != nil {
		return false, err
	}
	if _, err := q.exec(ctx, "INSERT INTO messages_search (messages_search, rank) VALUES ('merge', $1)", pages); err != nil {
		return false, err
	}
	if err := q.row(ctx, "changes", "SELECT total_changes()", nil, &after); err != nil {
		return false, err
	}
	// The command itself counts as one change (FTS5 documentation).
	return after-before >= 2, nil
}

// reindex replaces an indexed message's terms after an edit; messages not
// indexed yet are left to indexPending.
func (sqliteDialect) reindex(ctx context.Context, q *q, id int64) error {
	var conv, deleted, pos int64
	var kind, text string
	if err := q.row(ctx, "message", `SELECT m.conversation_id, m.kind, m.text, m.deleted_at, (SELECT position FROM search_index)
		FROM messages m WHERE m.id = $1`, []any{id}, &conv, &kind, &text, &deleted, &pos); err != nil {
		return err
	}
	if id > pos {
		return nil
	}
	if _, err := q.exec(ctx, "DELETE FROM messages_search WHERE rowid = $1", id); err != nil {
		return err
	}
	if text == "" || deleted != 0 || (kind != string(parley.MsgText) && kind != string(parley.MsgFile)) {
		return nil
	}
	_, err := q.exec(ctx, "INSERT INTO messages_search (rowid, terms) VALUES ($1, $2)", id, searchTerms(conv, text))
	return err
}

// The contentless index forgets rows only when told.
func (sqliteDialect) unindex(ctx context.Context, q *q, in string, args []any) error {
	_, err := q.adhocExec(ctx, "DELETE FROM messages_search WHERE rowid IN (SELECT id FROM messages WHERE conversation_id IN ("+in+"))", args...)
	return err
}

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) searchTable() string { return "messages_search" }

func (postgresDialect) searchWords(text string) []string { return searchWords(text) }

// prepareSearch has PostgreSQL normalise the words into a tsquery (as
// to_tsvector normalised the text), every word a prefix.
func (postgresDialect) prepareSearch(ctx context.Context, q *q, words []string) (matcher, error) {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "'" + w + "':*"
	}
	var plain string
	if err := q.row(ctx, "search", "SELECT to_tsquery('simple', $1)::text", []any{strings.Join(parts, " & ")}, &plain); err != nil {
		return nil, err
	}
	if strings.TrimSpace(plain) == "" {
		return nil, nil
	}
	return postgresSearch(plain), nil
}

// postgresSearch is a normalised tsquery in its text form. The window
// matches it against the tsv column; the index (migration 00005) holds
// every lexeme of tsv scoped to the message's conversation, and the query
// is scoped the same way, once per conversation.
type postgresSearch string

func (p postgresSearch) filter(i int) (string, any) {
	return "m.tsv @@ $" + itoa(i) + "::tsquery", string(p)
}

func (postgresSearch) match(string) bool { return true }

func (postgresSearch) filters() bool { return false }

// lexeme is a quoted lexeme in a tsquery's text form.
var lexeme = regexp.MustCompile(`'((?:[^']|'')*)'`)

func (p postgresSearch) index(convs []int64) (from, id string, arg any) {
	var b strings.Builder
	for i, c := range convs {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteByte('(')
		b.WriteString(lexeme.ReplaceAllString(string(p), "'"+scope(c)+"${1}'"))
		b.WriteByte(')')
	}
	return "messages m WHERE parley_search_vector(m.conversation_id, m.tsv) @@ $1::tsquery", "m.id", b.String()
}

// eventsLock serialises the tail of every writing transaction that emits
// events, across all nodes: identity values are then taken, and committed,
// in one order, so a reader never sees position n+1 before n.
const eventsLock = 0x7061726c6579 // "parley"

// PostgreSQL keeps its tsvector column and index up to date at insert.
func (postgresDialect) indexPending(context.Context, *q, int64) (bool, error) { return false, nil }

// PostgreSQL draws from the table's identity sequence, as many at a time.
func (postgresDialect) nextIDs(ctx context.Context, q *q, table string, n int) ([]int64, error) {
	return sortedIDs(ctx, q, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id')) FROM generate_series(1, $1)", n)
}

// sortedIDs runs a query of nextval and returns the values in order.
func sortedIDs(ctx context.Context, q *q, query string, args ...any) ([]int64, error) {
	rows, err := q.query(ctx, query, args...)
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

func (postgresDialect) forUpdate() string                        { return " FOR UPDATE" }
func (postgresDialect) reindex(context.Context, *q, int64) error { return nil }

func (postgresDialect) unindex(context.Context, *q, string, []any) error { return nil }

// PostgreSQL takes the positions under the events lock, held until the
// commit, in the statement that takes the lock: a round trip less while
// every other node's writers wait for it. The lock's row is joined before
// any nextval is evaluated.
func (postgresDialect) eventIDs(ctx context.Context, q *q, n int) ([]int64, error) {
	return sortedIDs(ctx, q, `WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock($1))
		SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM l, generate_series(1, $2)`, int64(eventsLock), n)
}
