package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/parley-chat/parley"
)

// Full-text search in a user's conversations (docs/decisions.md,
// "Search at ten million messages").
//
// A search runs in two steps, both exact:
//
//  1. The window: the user's newest messages, about searchWindow of them
//     (those with an ID above a bound estimated from how many messages the
//     user's conversations hold), read through the (conversation_id, id)
//     index and matched one by one. A common word or a short prefix fills
//     the page here without touching the full-text index, which would have
//     to gather every match in the user's conversations before ordering
//     them.
//  2. The rest, older than the window, through a full-text index whose
//     terms are scoped to a conversation ("<conversation id>x<word>"), so a
//     search costs what the user's own conversations hold: a word that is
//     frequent in other people's conversations and absent from the user's
//     is a few index probes, not a scan of its millions of occurrences.
//
// Results are the same as one query over everything: the newest matches
// first, the window's before the rest's.

// searchWindow is about how many of the user's newest messages step 1
// reads (a variable for tests, which make it small to exercise step 2).
var searchWindow int64 = 2000

// Search on the store first indexes what is pending (SQLite), so a message
// is found as soon as its send is acknowledged.
func (s *Store) Search(ctx context.Context, sq parley.SearchQuery) ([]*parley.Message, error) {
	if s.deferredIndex {
		pending, err := s.IndexPending(ctx)
		if err != nil {
			return nil, err
		}
		// A backlog larger than a few seconds of sends (right after the
		// index was rebuilt by a migration) is left to indexLoop rather
		// than held up in front of a search.
		if pending > 0 && pending <= maxSyncIndex {
			if _, err := s.Write(ctx, func(tx parley.Tx) error {
				_, err := s.dialect.indexPending(ctx, &tx.(*txn).q, 0)
				return err
			}); err != nil {
				return nil, err
			}
		}
	}
	return s.q.Search(ctx, sq)
}

// maxSyncIndex is the most pending messages a search indexes itself.
const maxSyncIndex = 100_000

// IndexPending returns how many stored messages the full-text index has
// not taken in yet (always 0 on PostgreSQL, which indexes at insert).
func (s *Store) IndexPending(ctx context.Context) (int64, error) {
	if !s.deferredIndex {
		return 0, nil
	}
	var n int64
	err := s.q.row(ctx, "search index", "SELECT COALESCE(MAX(id), 0) - (SELECT position FROM search_index) FROM messages", nil, &n)
	return max(n, 0), err
}

// Search inside a transaction indexes what is pending in it.
func (t *txn) Search(ctx context.Context, sq parley.SearchQuery) ([]*parley.Message, error) {
	if _, err := t.s.dialect.indexPending(ctx, &t.q, 0); err != nil {
		return nil, err
	}
	return t.q.Search(ctx, sq)
}

func (r *q) Search(ctx context.Context, s parley.SearchQuery) ([]*parley.Message, error) {
	if r.s.dialect.name() != "postgres" || r.tx != nil {
		return r.search(ctx, s)
	}
	// The queries of a search differ in their values, not their text, so
	// PostgreSQL would soon plan them once for any values (a generic plan
	// for a prepared statement); each is planned for its own values
	// instead, in one read-only transaction. And for a word it expects
	// to be common it would walk the primary key backwards through the
	// window's whole ID range (every message of every conversation there)
	// rather than read the user's conversations' rows through
	// (conversation_id, id): searchWindow turns plain index scans off,
	// searchIndex sequential ones too.
	tx, err := r.s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_custom_plan; "+
		"SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
		return nil, err
	}
	msgs, err := (&q{s: r.s, db: tx, tx: tx}).search(ctx, s)
	if err != nil {
		return nil, err
	}
	return msgs, tx.Commit()
}

func (q *q) search(ctx context.Context, s parley.SearchQuery) ([]*parley.Message, error) {
	d := q.s.dialect
	words := d.searchWords(s.Text)
	if len(words) == 0 {
		return nil, nil
	}
	n := limit(s.Limit, 50, 200)
	// The conversations searched, and how many messages they hold.
	var convs []int64
	var held int64
	query := `SELECT mb.conversation_id, c.last_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = $1`
	args := []any{s.UserID}
	if s.ConversationID != 0 {
		query += " AND mb.conversation_id = $2"
		args = append(args, s.ConversationID)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, last int64
		if err := rows.Scan(&id, &last); err != nil {
			rows.Close()
			return nil, err
		}
		convs, held = append(convs, id), held+last
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(convs) == 0 {
		return nil, err
	}
	m, err := d.prepareSearch(ctx, q, words)
	if err != nil || m == nil {
		return nil, err
	}
	// Step 1: windows of the newest messages, (floor, top]. The first
	// holds about searchWindow of the user's messages (if their messages
	// are spread evenly over IDs). If it held matches but not enough, and
	// the rate at which it matched says the rest of the page is within a
	// few more windows, the next window is read too: a query of two
	// common words is cheaper to finish there than in the index.
	var top int64
	if err := q.row(ctx, "messages", "SELECT COALESCE(MAX(id), 0) FROM messages", nil, &top); err != nil {
		return nil, err
	}
	if s.Before > 0 {
		top = min(top, s.Before-1)
	}
	if top <= 0 || held == 0 {
		return nil, nil
	}
	perID := float64(held) / float64(top) // the user's messages per ID
	span := int64(float64(searchWindow) / perID)
	var found []*parley.Message
	for {
		floor := max(0, top-span)
		got, err := q.searchWindow(ctx, m, convs, floor, top+1, n-len(found))
		if err != nil {
			return nil, err
		}
		found = append(found, got...)
		if len(found) == n || floor == 0 {
			return found, nil
		}
		rows := float64(top-floor) * perID
		need := float64(n - len(found))
		if len(got) == 0 || need*rows/float64(len(got)) > 4*float64(searchWindow) {
			// Step 2: the rest, at or below floor.
			rest, err := q.searchIndex(ctx, m, convs, floor, n-len(found))
			return append(found, rest...), err
		}
		// About twice the rows the rest of the page needs.
		top, span = floor, max(1, int64(2*need*rows/float64(len(got))/perID))
	}
}

// searchWindow returns up to n matches among the messages of convs with an
// ID above floor and below before, newest first.
func (q *q) searchWindow(ctx context.Context, m matcher, convs []int64, floor, before int64, n int) ([]*parley.Message, error) {
	args := append(int64Args(convs), floor, before)
	where := " FROM messages m WHERE m.conversation_id IN (" + placeholders(1, len(convs)) + ")" +
		" AND m.deleted_at = 0 AND m.kind IN ('text', 'file') AND m.id > $" + strconv.Itoa(len(args)-1) +
		" AND m.id < $" + strconv.Itoa(len(args))
	if cond, arg := m.filter(len(args) + 1); cond != "" {
		// The database matches (PostgreSQL, in Search's transaction):
		// one query, by a bitmap scan (see Search).
		if _, err := q.tx.ExecContext(ctx, "SET LOCAL enable_indexscan = off"); err != nil {
			return nil, err
		}
		args = append(args, arg, n)
		rows, err := q.db.QueryContext(ctx, "SELECT "+msgCols+where+" AND "+cond+" ORDER BY m.id DESC LIMIT $"+strconv.Itoa(len(args)), args...)
		if err != nil {
			return nil, err
		}
		msgs, err := collect(rows, scanMessage)
		if err != nil {
			return nil, err
		}
		_, err = q.tx.ExecContext(ctx, "RESET enable_indexscan")
		return msgs, err
	}
	// Go matches: read the texts, then the messages that match.
	rows, err := q.db.QueryContext(ctx, "SELECT m.id, m.text"+where+" ORDER BY m.id DESC", args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for len(ids) < n && rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			rows.Close()
			return nil, err
		}
		if m.match(text) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	rows, err = q.db.QueryContext(ctx, "SELECT "+msgCols+" FROM messages m WHERE m.id IN ("+placeholders(1, len(ids))+") ORDER BY m.id DESC", int64Args(ids)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMessage)
}

// searchIndex returns up to n matches in convs with an ID at most upto,
// newest first, through the full-text index.
func (q *q) searchIndex(ctx context.Context, m matcher, convs []int64, upto int64, n int) ([]*parley.Message, error) {
	from, id, arg := m.index(convs)
	query := "SELECT " + msgCols + " FROM " + from +
		" AND m.deleted_at = 0 AND m.kind IN ('text', 'file') AND " + id + " <= $2 ORDER BY " + id + " DESC LIMIT $3"
	if q.s.dialect.name() != "postgres" {
		if !m.filters() {
			rows, err := q.db.QueryContext(ctx, query, arg, upto, n)
			if err != nil {
				return nil, err
			}
			return collect(rows, scanMessage)
		}
		// Candidates of one word, matched here in full until the page is
		// full.
		rows, err := q.db.QueryContext(ctx, strings.TrimSuffix(query, " LIMIT $3"), arg, upto)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []*parley.Message
		for len(out) < n && rows.Next() {
			msg, err := scanMessage(rows)
			if err != nil {
				return nil, err
			}
			if m.match(msg.Text) {
				out = append(out, msg)
			}
		}
		return out, rows.Err()
	}
	// PostgreSQL cannot estimate how few rows a tsquery of one branch per
	// conversation matches: it would walk the primary key backwards
	// testing every message for the 50 newest or, made to use the GIN
	// index, spend 300 ms compiling the query (JIT) and starting parallel
	// workers for the millions of rows it expects. The GIN index is the
	// only plan for this query, so it is the only one allowed, as it is.
	const force, reset = "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off", "RESET enable_seqscan; RESET enable_indexscan"
	// Always in a transaction here, with the settings Search made.
	if _, err := q.tx.ExecContext(ctx, force); err != nil {
		return nil, err
	}
	rows, err := q.tx.QueryContext(ctx, query, arg, upto, n)
	if err != nil {
		return nil, err
	}
	msgs, err := collect(rows, scanMessage)
	if err != nil {
		return nil, err
	}
	_, err = q.tx.ExecContext(ctx, reset)
	return msgs, err
}

// matcher is a search prepared by the dialect.
type matcher interface {
	// filter returns an SQL condition on messages m with its argument at
	// placeholder $i, or "" if match does the work.
	filter(i int) (cond string, arg any)
	// match reports whether a message's text matches (after filter).
	match(text string) bool
	// filters reports whether what index finds must pass match too.
	filters() bool
	// index returns the FROM clause, ending in a WHERE condition, that
	// finds matching messages m in convs through the full-text index,
	// with its argument at $1, and the expression of the message ID that
	// the index orders by.
	index(convs []int64) (from, id string, arg any)
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

// foldedWords splits text into the words SQLite indexes and searches:
// runs of letters, digits and combining marks, with marks removed after
// canonical decomposition (so "É" and "E\u0301" both fold to "e") and in
// lower case.
func foldedWords(text string) []string {
	if !isASCII(text) {
		text = norm.NFD.String(text)
	}
	fields := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
	words := fields[:0]
	for _, f := range fields {
		f = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return unicode.ToLower(r)
		}, f)
		if f != "" {
			words = append(words, f)
		}
	}
	return words
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// scope is the prefix of a conversation's terms in the full-text index: its
// ID and an "x", which no digit is, so no two conversations' terms can be
// confused.
func scope(convID int64) string { return strconv.FormatInt(convID, 10) + "x" }
