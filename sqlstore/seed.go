package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parley-chat/parley"
)

// SeedOptions describe the synthetic history SeedHistory writes: Messages
// messages from Users users in Conversations conversations of various sizes
// (direct, groups of 3-30, channels of 100-1,000), spread over Months
// months, with one user (the measured one) in UserConversations of them.
// Zero fields take defaults scaled to Messages.
type SeedOptions struct {
	Messages          int    `json:"messages"`
	Users             int    `json:"users"`
	Conversations     int    `json:"conversations"`
	UserConversations int    `json:"user_conversations"`
	Months            int    `json:"months"`
	Seed              uint64 `json:"seed"`
}

// WithDefaults fills the zero fields.
func (o SeedOptions) WithDefaults() SeedOptions {
	if o.Messages <= 0 {
		o.Messages = 1_000_000
	}
	if o.Users <= 0 {
		o.Users = min(10_000, max(1_000, o.Messages/1_000))
	}
	if o.UserConversations <= 0 {
		o.UserConversations = 200
	}
	if o.Conversations <= 0 {
		o.Conversations = max(4*o.UserConversations, o.Messages/500)
	}
	if o.Months <= 0 {
		o.Months = 12
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// SeedQuery is one search the benchmark measures, in a class such as
// "common word" or "absent word".
type SeedQuery struct {
	Class string `json:"class"`
	Text  string `json:"text"`
	// ConversationID scopes the search to one conversation.
	ConversationID int64 `json:"conversation_id,omitempty"`
	// NextPage measures the second page: the search is run again with
	// Before set to the last result of the first.
	NextPage bool `json:"next_page,omitempty"`
}

// SeedInfo describes a seeded database. SeedHistory keeps it in the
// settings table under SeedKey, so a later run can reuse the database.
type SeedInfo struct {
	Options SeedOptions `json:"options"`
	// UserID is the measured user, a member of Conversations.
	UserID        int64   `json:"user_id"`
	Conversations []int64 `json:"conversations"`
	// Busiest is the measured user's conversation with the most messages.
	Busiest int64       `json:"busiest"`
	Queries []SeedQuery `json:"queries"`
	// Start and End bound created_at (Unix milliseconds).
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Messages are committed so far; Complete once indexes are built.
	Messages int  `json:"messages"`
	Complete bool `json:"complete"`
	// UserMessages are the messages in the measured user's conversations.
	UserMessages int64 `json:"user_messages"`
	// Dropped holds the definitions of the indexes dropped for the bulk
	// load, recreated at the end.
	Dropped []string `json:"dropped,omitempty"`
	// Seconds is the time spent seeding, over every run.
	Seconds float64 `json:"seconds"`
}

// SeedKey is the settings key of a seeded database's SeedInfo.
const SeedKey = "bench.history"

const seedChunk = 50_000

// SeededHistory returns the SeedInfo of the database behind s, or nil if
// SeedHistory did not start it.
func (s *Store) SeededHistory(ctx context.Context) (*SeedInfo, error) {
	var info *SeedInfo
	if err := s.Setting(ctx, SeedKey, &info); err != nil {
		return nil, err
	}
	return info, nil
}

// SeedHistory fills the database named by dsn with a synthetic history (see
// SeedOptions), or goes on with one an earlier call began with the same
// options: every chunk of messages commits with the count done, so a
// cancelled run loses at most one chunk. The database must be empty or
// seeded by an earlier call. It writes through SQL directly (multi-row
// inserts on SQLite, COPY on PostgreSQL) with the secondary indexes of
// messages and events dropped, and builds them, the search index and the
// conversations' counters at the end. Progress lines go to progress.
func SeedHistory(ctx context.Context, dsn string, opt SeedOptions, progress io.Writer) (*SeedInfo, error) {
	opt = opt.WithDefaults()
	if progress == nil {
		progress = io.Discard
	}
	s, err := Open(ctx, dsn, Options{Synchronous: "OFF", noIndexLoop: true})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sd := &seeder{s: s, opt: opt, log: progress}
	return sd.run(ctx)
}

type seeder struct {
	s       *Store
	opt     SeedOptions
	log     io.Writer
	info    *SeedInfo
	convs   []seedConv
	userIDs []int64 // by user index
	convIDs []int64 // by conversation index
	words   []string
	began   time.Time
}

// seedConv is a conversation of the synthetic history.
type seedConv struct {
	kind     parley.ConvKind
	members  []int // user indexes
	weight   float64
	measured bool // the measured user (index 0) is a member
}

func (sd *seeder) run(ctx context.Context) (*SeedInfo, error) {
	sd.began = time.Now()
	sd.convs = seedStructure(sd.opt)
	sd.words = vocabulary(50_000, rand.New(rand.NewPCG(sd.opt.Seed, 0)))
	info, err := sd.s.SeededHistory(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case info == nil:
		if err := sd.setup(ctx); err != nil {
			return nil, err
		}
	case info.Options != sd.opt:
		return nil, fmt.Errorf("the database holds a history seeded with other options (%+v)", info.Options)
	default:
		sd.info = info
		if info.Complete {
			// A migration may have reset the full-text index.
			return info, sd.indexAll(ctx)
		}
		if err := sd.load(ctx); err != nil {
			return nil, err
		}
	}
	if err := sd.messages(ctx); err != nil {
		return nil, err
	}
	if err := sd.finish(ctx); err != nil {
		return nil, err
	}
	return sd.info, nil
}

// seedStructure returns the conversations, a pure function of the options.
func seedStructure(o SeedOptions) []seedConv {
	r := rand.New(rand.NewPCG(o.Seed, 1))
	nBig := max(1, o.Conversations/20)
	nGroup := o.Conversations * 35 / 100
	nDirect := o.Conversations - nBig - nGroup
	mBig, mGroup := o.UserConversations/10, o.UserConversations*4/10
	mDirect := o.UserConversations - mBig - mGroup
	convs := make([]seedConv, 0, o.Conversations)
	pick := func(n int, with0 bool) []int {
		if with0 {
			n = min(n, o.Users)
		} else {
			n = min(n, o.Users-1)
		}
		seen := make(map[int]bool, n)
		var ms []int
		if with0 {
			seen[0] = true
			ms = append(ms, 0)
		}
		for len(ms) < n {
			u := 1 + r.IntN(o.Users-1)
			if !seen[u] {
				seen[u] = true
				ms = append(ms, u)
			}
		}
		return ms
	}
	// A few conversations carry most messages: Pareto-distributed weights.
	pareto := func() float64 { return math.Min(50, math.Pow(1-r.Float64(), -1/1.5)) }
	for i := range nBig {
		convs = append(convs, seedConv{kind: parley.KindGroup, members: pick(100+r.IntN(901), i < mBig), weight: 6 * pareto(), measured: i < mBig})
	}
	for i := range nGroup {
		convs = append(convs, seedConv{kind: parley.KindGroup, members: pick(3+r.IntN(28), i < mGroup), weight: 3 * pareto(), measured: i < mGroup})
	}
	pairs := make(map[[2]int]bool, nDirect)
	for i := 0; i < nDirect; {
		a, b := 1+r.IntN(o.Users-1), 1+r.IntN(o.Users-1)
		if i < mDirect {
			a = 0
		}
		if a > b {
			a, b = b, a
		}
		if a == b || pairs[[2]int{a, b}] {
			continue
		}
		pairs[[2]int{a, b}] = true
		convs = append(convs, seedConv{kind: parley.KindDirect, members: []int{a, b}, weight: pareto(), measured: a == 0})
		i++
	}
	return convs
}

// setup creates the users, conversations and members, drops the secondary
// indexes of messages and events, and stores the SeedInfo, in one
// transaction.
func (sd *seeder) setup(ctx context.Context) error {
	o := sd.opt
	if o.Users < 2 || o.UserConversations > o.Conversations/2 || o.UserConversations*5/10 >= o.Users {
		return fmt.Errorf("seed: %d users and %d conversations cannot hold a user in %d conversations", o.Users, o.Conversations, o.UserConversations)
	}
	var n int
	if err := sd.s.rdb.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM messages)").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errors.New("seed: the database is not empty and was not seeded by the history benchmark")
	}
	end := time.Now().UTC().Truncate(time.Millisecond)
	start := end.AddDate(0, -o.Months, 0)
	info := &SeedInfo{Options: o, Start: start.UnixMilli(), End: end.UnixMilli()}
	fmt.Fprintf(sd.log, "seed: %d users, %d conversations, the measured user in %d\n", o.Users, o.Conversations, o.UserConversations)
	_, err := sd.s.Write(ctx, func(tx parley.Tx) error {
		sd.userIDs = make([]int64, o.Users)
		for i := range o.Users {
			u := &parley.User{Email: fmt.Sprintf("user%d@history.bench", i), Name: seedName(sd.words, i), Role: parley.RoleMember, Active: true}
			if i == 0 {
				u.Email, u.Name = "measured@history.bench", "Measured User"
			}
			if err := tx.CreateUser(ctx, u, ""); err != nil {
				return err
			}
			sd.userIDs[i] = u.ID
		}
		sd.convIDs = make([]int64, len(sd.convs))
		for i, sc := range sd.convs {
			c := &parley.Conversation{Kind: sc.kind, State: parley.StateAllowed, CreatedBy: sd.userIDs[sc.members[0]], CreatedAt: start}
			if sc.kind == parley.KindDirect {
				a, b := sd.userIDs[sc.members[0]], sd.userIDs[sc.members[1]]
				c.Key = fmt.Sprintf("direct:%d:%d", min(a, b), max(a, b))
			} else {
				c.Title = "Group " + sd.words[200+i%1000]
			}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			sd.convIDs[i] = c.ID
			for _, u := range sc.members {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: sd.userIDs[u], JoinedAt: start}); err != nil {
					return err
				}
			}
		}
		t := tx.(*txn)
		var err error
		if info.Dropped, err = sd.dropIndexes(ctx, t); err != nil {
			return err
		}
		sd.info = info
		sd.describe()
		return t.PutSetting(ctx, SeedKey, info)
	})
	return err
}

func seedName(words []string, i int) string {
	w1, w2 := words[300+i%2000], words[2300+(i/2000)%3000]
	return strings.ToUpper(w1[:1]) + w1[1:] + " " + strings.ToUpper(w2[:1]) + w2[1:]
}

// describe fills in the measured user, their conversations and the queries.
func (sd *seeder) describe() {
	info := sd.info
	info.UserID = sd.userIDs[0]
	info.Conversations = info.Conversations[:0]
	busiest, largest := -1, -1
	for i, c := range sd.convs {
		if !c.measured {
			continue
		}
		info.Conversations = append(info.Conversations, sd.convIDs[i])
		if busiest < 0 || c.weight > sd.convs[busiest].weight {
			busiest = i
		}
		if largest < 0 || len(c.members) > len(sd.convs[largest].members) {
			largest = i
		}
	}
	info.Busiest = sd.convIDs[busiest]
	w := sd.words
	rare1, rare2 := w[15_000], w[30_000]
	info.Queries = []SeedQuery{
		{Class: "common word", Text: "the"},
		{Class: "common word", Text: "meeting"},
		{Class: "common word", Text: w[400]},
		{Class: "common word, page 2", Text: "the", NextPage: true},
		{Class: "rare word", Text: rare1},
		{Class: "rare word", Text: rare2},
		{Class: "absent word", Text: absentWords[0].word},
		{Class: "absent word", Text: absentWords[1].word},
		{Class: "absent word", Text: absentWords[2].word},
		{Class: "two words", Text: "the meeting"},
		{Class: "two words", Text: "deploy friday"},
		{Class: "two words", Text: "review " + rare1},
		{Class: "short prefix", Text: "t"},
		{Class: "short prefix", Text: "th"},
		{Class: "short prefix", Text: "mee"},
		{Class: "short prefix", Text: "re"},
		{Class: "one conversation", Text: "the", ConversationID: info.Busiest},
		{Class: "one conversation", Text: "meeting", ConversationID: sd.convIDs[largest]},
		{Class: "one conversation", Text: rare1, ConversationID: info.Busiest},
		{Class: "one conversation", Text: absentWords[0].word, ConversationID: info.Busiest},
	}
}

// load reads back what setup stored, to go on after an interruption.
func (sd *seeder) load(ctx context.Context) error {
	var err error
	if sd.userIDs, err = sd.ids(ctx, "SELECT id FROM users ORDER BY id"); err != nil {
		return err
	}
	if sd.convIDs, err = sd.ids(ctx, "SELECT id FROM conversations ORDER BY id"); err != nil {
		return err
	}
	if len(sd.userIDs) != sd.opt.Users || len(sd.convIDs) != len(sd.convs) {
		return errors.New("seed: the seeded users or conversations were changed; start again with a new database")
	}
	fmt.Fprintf(sd.log, "seed: going on after %d messages\n", sd.info.Messages)
	return nil
}

func (sd *seeder) ids(ctx context.Context, query string) ([]int64, error) {
	rows, err := sd.s.rdb.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return collectInt64(rows)
}

// dropIndexes drops the indexes of messages and events that no constraint
// needs and returns their definitions.
func (sd *seeder) dropIndexes(ctx context.Context, t *txn) ([]string, error) {
	query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('messages', 'events') AND sql IS NOT NULL ORDER BY name`
	if sd.s.dialect.name() == "postgres" {
		query = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('messages', 'events')
			AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname`
	}
	rows, err := t.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := t.db.ExecContext(ctx, "DROP INDEX "+name); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// messages writes the messages and their events, chunk by chunk.
func (sd *seeder) messages(ctx context.Context) error {
	o, info := sd.opt, sd.info
	seqs := make([]int64, len(sd.convs))
	if info.Messages > 0 {
		rows, err := sd.s.rdb.QueryContext(ctx, "SELECT conversation_id, MAX(seq) FROM messages GROUP BY conversation_id")
		if err != nil {
			return err
		}
		index := make(map[int64]int, len(sd.convIDs))
		for i, id := range sd.convIDs {
			index[id] = i
		}
		for rows.Next() {
			var id, seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return err
			}
			seqs[index[id]] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	weights := make([]float64, len(sd.convs))
	for i, c := range sd.convs {
		weights[i] = c.weight
	}
	pick := newAlias(weights)
	batch := make([]seedMessage, 0, seedChunk)
	last := time.Now()
	for done := info.Messages; done < o.Messages; {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(sd.log, "seed: stopped after %d of %d messages; run again to go on\n", done, o.Messages)
			return err
		}
		chunk := done / seedChunk
		r := rand.New(rand.NewPCG(o.Seed, uint64(2+chunk)))
		gen := newTextGen(sd.words, r)
		batch = batch[:0]
		for i := done; i < min(done+seedChunk, o.Messages); i++ {
			ci := pick.draw(r)
			c := &sd.convs[ci]
			seqs[ci]++
			m := seedMessage{
				id: int64(i) + 1, conv: sd.convIDs[ci], seq: seqs[ci],
				sender: sd.userIDs[c.members[r.IntN(len(c.members))]],
				at:     info.Start + (info.End-info.Start)*int64(i)/int64(o.Messages),
				text:   gen.message(!c.measured),
			}
			if r.IntN(300) == 0 { // about 0.3% are deleted
				m.deleted = m.at + 60_000
			}
			batch = append(batch, m)
		}
		done += len(batch)
		info.Messages = done
		info.Seconds += time.Since(sd.began).Seconds()
		sd.began = time.Now()
		var err error
		if sd.s.dialect.name() == "postgres" {
			err = sd.copyPostgres(ctx, batch)
		} else {
			err = sd.insertSQLite(ctx, batch)
		}
		if err != nil {
			return err
		}
		if time.Since(last) > 10*time.Second || done == o.Messages {
			fmt.Fprintf(sd.log, "seed: %d of %d messages (%.0f s)\n", done, o.Messages, info.Seconds)
			last = time.Now()
		}
	}
	return nil
}

type seedMessage struct {
	id, conv, seq, sender, at, deleted int64
	text                               string
}

// event returns the data of the message.created event the server would
// have stored with m.
func (m *seedMessage) event() string {
	b, _ := json.Marshal(&parley.Message{ID: m.id, ConversationID: m.conv, Seq: m.seq, SenderID: m.sender, Kind: parley.MsgText,
		Text: m.text, CreatedAt: parley.TimeFromMillis(m.at), Status: parley.StatusSent})
	return string(b)
}

func (m *seedMessage) storedText() string {
	if m.deleted != 0 {
		return ""
	}
	return m.text
}

func (sd *seeder) insertSQLite(ctx context.Context, batch []seedMessage) error {
	const rowsPer = 500
	_, err := sd.s.Write(ctx, func(tx parley.Tx) error {
		t := tx.(*txn)
		if _, err := t.tx.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
			return err
		}
		stmts := map[int][2]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st[0].Close()
				st[1].Close()
			}
		}()
		for len(batch) > 0 {
			part := batch[:min(rowsPer, len(batch))]
			batch = batch[len(part):]
			st, ok := stmts[len(part)]
			if !ok {
				var err error
				if st[0], err = t.tx.PrepareContext(ctx, "INSERT INTO messages (id, conversation_id, seq, sender_id, kind, text, created_at, deleted_at) VALUES "+
					valueLists(len(part), 8)); err != nil {
					return err
				}
				if st[1], err = t.tx.PrepareContext(ctx, "INSERT INTO events (type, conversation_id, seq, data, created_at) VALUES "+
					valueLists(len(part), 5)); err != nil {
					return err
				}
				stmts[len(part)] = st
			}
			margs := make([]any, 0, 8*len(part))
			eargs := make([]any, 0, 5*len(part))
			for i := range part {
				m := &part[i]
				margs = append(margs, m.id, m.conv, m.seq, m.sender, string(parley.MsgText), m.storedText(), m.at, m.deleted)
				eargs = append(eargs, parley.EventMessageCreated, m.conv, m.seq, m.event(), m.at)
			}
			if _, err := st[0].ExecContext(ctx, margs...); err != nil {
				return err
			}
			if _, err := st[1].ExecContext(ctx, eargs...); err != nil {
				return err
			}
		}
		return t.PutSetting(ctx, SeedKey, sd.info)
	})
	return err
}

// valueLists returns "($1, ..., $cols), (...)" for rows rows.
func valueLists(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(placeholders(r*cols+1, cols))
		b.WriteByte(')')
	}
	return b.String()
}

// pgx runs fn on a pgx connection of the pool.
func (sd *seeder) pgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := sd.s.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

func (sd *seeder) copyPostgres(ctx context.Context, batch []seedMessage) error {
	marker, err := json.Marshal(sd.info)
	if err != nil {
		return err
	}
	return sd.pgx(ctx, func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"id", "conversation_id", "seq", "sender_id", "kind", "text", "created_at", "deleted_at"},
				pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
					m := &batch[i]
					return []any{m.id, m.conv, m.seq, m.sender, string(parley.MsgText), m.storedText(), m.at, m.deleted}, nil
				}))
			if err != nil {
				return err
			}
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"type", "conversation_id", "seq", "data", "created_at"},
				pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
					m := &batch[i]
					return []any{parley.EventMessageCreated, m.conv, m.seq, m.event(), m.at}, nil
				}))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "UPDATE settings SET value = $1 WHERE key = $2", string(marker), SeedKey)
			return err
		})
	})
}

// finish builds what the bulk load left out: the conversations' counters
// and members' pointers, the dropped indexes, the full-text index and, on
// PostgreSQL, the identity sequence, the visibility map and statistics.
func (sd *seeder) finish(ctx context.Context) error {
	info := sd.info
	pg := sd.s.dialect.name() == "postgres"
	step := func(what string, fn func() error) error {
		t := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("seed: %s: %w", what, err)
		}
		info.Seconds += time.Since(sd.began).Seconds()
		sd.began = time.Now()
		fmt.Fprintf(sd.log, "seed: %s (%.1f s)\n", what, time.Since(t).Seconds())
		return nil
	}
	// write runs fn and records the progress, as next will be once it is
	// done (a Write's function may run more than once: it changes
	// nothing outside the transaction).
	write := func(next SeedInfo, fn func(t *txn) error) error {
		_, err := sd.s.Write(ctx, func(tx parley.Tx) error {
			if err := fn(tx.(*txn)); err != nil {
				return err
			}
			return tx.(*txn).PutSetting(ctx, SeedKey, next)
		})
		return err
	}
	if err := step("counters", func() error {
		return write(*info, func(t *txn) error {
			update := `UPDATE conversations AS c SET last_seq = m.seq, last_message_at = m.at
				FROM (SELECT conversation_id, MAX(seq) AS seq, MAX(created_at) AS at FROM messages GROUP BY conversation_id) AS m
				WHERE c.id = m.conversation_id`
			for _, q := range []string{update,
				"UPDATE conversations SET updated_at = last_message_at",
				`UPDATE members SET delivered_seq = (SELECT last_seq FROM conversations c WHERE c.id = members.conversation_id),
					read_seq = (SELECT last_seq FROM conversations c WHERE c.id = members.conversation_id)`,
			} {
				if _, err := t.tx.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return t.row(ctx, "conversations", "SELECT COALESCE(SUM(c.last_seq), 0) FROM conversations c JOIN members m ON m.conversation_id = c.id WHERE m.user_id = $1",
				[]any{info.UserID}, &info.UserMessages)
		})
	}); err != nil {
		return err
	}
	for len(info.Dropped) > 0 {
		def := info.Dropped[0]
		next := *info
		next.Dropped = info.Dropped[1:]
		if err := step("index "+indexName(def), func() error {
			return write(next, func(t *txn) error {
				if pg {
					if _, err := t.tx.ExecContext(ctx, "SET LOCAL maintenance_work_mem = '1GB'"); err != nil {
						return err
					}
				} else {
					// The indexes were dropped on another of the writer's
					// connections; SQLite checks a CREATE INDEX against this
					// connection's copy of the schema, which only a statement
					// that reads the database brings up to date (without it:
					// "index ... already exists", now and then).
					var n int
					if err := t.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master").Scan(&n); err != nil {
						return err
					}
				}
				_, err := t.tx.ExecContext(ctx, def)
				return err
			})
		}); err != nil {
			return err
		}
		info.Dropped = next.Dropped
	}
	if err := step("search index", func() error { return sd.indexAll(ctx) }); err != nil {
		return err
	}
	if pg {
		if err := step("vacuum and analyze", func() error {
			for _, q := range []string{
				"SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT MAX(id) FROM messages))",
				"VACUUM ANALYZE messages", "VACUUM ANALYZE events", "VACUUM ANALYZE members", "VACUUM ANALYZE conversations",
			} {
				if _, err := sd.s.wdb.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	info.Complete = true
	return write(*info, func(*txn) error { return nil })
}

// indexName returns the name in a CREATE INDEX statement.
func indexName(def string) string {
	f := strings.Fields(def)
	if i := slices.Index(f, "INDEX"); i >= 0 && i+1 < len(f) {
		return f[i+1]
	}
	return def
}

// indexAll brings the full-text index up to date in large transactions
// (SQLite; a no-op on PostgreSQL).
func (sd *seeder) indexAll(ctx context.Context) error {
	if sd.s.dialect.name() != "sqlite" {
		return nil
	}
	pending, err := sd.s.IndexPending(ctx)
	if err != nil {
		return err
	}
	t := time.Now()
	for more := pending > 0; more; {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := sd.s.Write(ctx, func(tx parley.Tx) error {
			var err error
			more, err = sd.s.dialect.indexPending(ctx, &tx.(*txn).q, 200_000)
			return err
		}); err != nil {
			return fmt.Errorf("seed: search index: %w", err)
		}
	}
	fmt.Fprintf(sd.log, "seed: search index, %d messages (%.1f s)\n", pending, time.Since(t).Seconds())
	// As the server does when idle: merge segments level by level.
	t = time.Now()
	for merged := true; merged; {
		if _, err := sd.s.Write(ctx, func(tx parley.Tx) error {
			var err error
			merged, err = mergeSearchIndex(ctx, &tx.(*txn).q, 5000)
			return err
		}); err != nil {
			return fmt.Errorf("seed: merging the search index: %w", err)
		}
	}
	fmt.Fprintf(sd.log, "seed: search index merged (%.1f s)\n", time.Since(t).Seconds())
	return nil
}

// alias draws indexes in proportion to their weights in constant time
// (Vose's alias method).
type alias struct {
	prob  []float64
	alias []int
}

func newAlias(w []float64) *alias {
	n := len(w)
	var sum float64
	for _, x := range w {
		sum += x
	}
	a := &alias{prob: make([]float64, n), alias: make([]int, n)}
	scaled := make([]float64, n)
	var small, large []int
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.alias[s] = scaled[s], l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i] = 1
	}
	return a
}

func (a *alias) draw(r *rand.Rand) int {
	i := r.IntN(len(a.prob))
	if r.Float64() < a.prob[i] {
		return i
	}
	return a.alias[i]
}

// Sizes reports the bytes the database uses: "total", and the "messages"
// and "events" tables with their indexes, and the "search" index alone.
func (s *Store) Sizes(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64)
	queries := map[string]string{
		"total":    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
		"messages": "SELECT SUM(pgsize) FROM dbstat WHERE name = 'messages' OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages')",
		"events":   "SELECT SUM(pgsize) FROM dbstat WHERE name = 'events' OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events')",
		"search":   "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '" + s.dialect.searchTable() + "%'",
	}
	if s.dialect.name() == "postgres" {
		queries = map[string]string{
			"total":    "SELECT pg_database_size(current_database())",
			"messages": "SELECT pg_total_relation_size('messages')",
			"events":   "SELECT pg_total_relation_size('events')",
			"search": `SELECT COALESCE(SUM(pg_relation_size(indexrelid)), 0) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
				WHERE i.indrelid = 'messages'::regclass AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'gin')`,
		}
	}
	for k, q := range queries {
		var n sql.NullInt64
		if err := s.rdb.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, fmt.Errorf("size of %s: %w", k, err)
		}
		out[k] = n.Int64
	}
	return out, nil
}

// ResetSeeded empties a database that SeedHistory seeded (or an empty
// one) so it can be seeded again: a SQLite file is deleted, a PostgreSQL
// schema dropped and created again. Any other database is left alone.
func ResetSeeded(ctx context.Context, dsn string) error {
	s, err := Open(ctx, dsn, Options{noIndexLoop: true})
	if err != nil {
		return err
	}
	info, err := s.SeededHistory(ctx)
	if err == nil && info == nil {
		var n int
		err = s.rdb.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM messages)").Scan(&n)
		if err == nil && n > 0 {
			err = errors.New("the database holds data the history benchmark did not seed; not resetting it")
		}
	}
	if err != nil {
		s.Close()
		return err
	}
	if s.dialect.name() == "postgres" {
		var schema string
		if err := s.rdb.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			s.Close()
			return err
		}
		_, err := s.wdb.ExecContext(ctx, fmt.Sprintf("DROP SCHEMA %[1]s CASCADE; CREATE SCHEMA %[1]s", pgx.Identifier{schema}.Sanitize()))
		return errors.Join(err, s.Close())
	}
	if err := s.Close(); err != nil {
		return err
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
