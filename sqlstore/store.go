// Package sqlstore implements parley.Store over database/sql for SQLite
// (modernc.org/sqlite, no cgo) and PostgreSQL (pgx). One implementation
// serves both; the few dialect differences (full-text search, ordering of
// stream positions across writers) sit in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/parley-chat/parley"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL store. Open it with Open.
type Store struct {
	q       // reads, on the read pool
	dialect dialect
	rdb     *sql.DB // readers: a pool (SQLite WAL allows many)
	wdb     *sql.DB // the writer: see openSQLite; the pool for PostgreSQL
	// writer runs every write, in groups (groupcommit.go).
	writer *groupWriter

	publish func(context.Context, []parley.Event) error
	log     *slog.Logger
	// deferredIndex: new messages reach the full-text index in batches
	// (SQLite).
	deferredIndex bool
	// stop ends the background loops (indexLoop, checkpointLoop); bg
	// waits for them.
	stop chan struct{}
	bg   sync.WaitGroup

	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

type stmtKey struct {
	write bool
	query string
}

// Options tune how the store opens its database.
type Options struct {
	// ReadConns is the size of the read pool (default 8).
	ReadConns int
	// Synchronous is SQLite's synchronous pragma: FULL (default) makes a
	// commit durable before it returns; NORMAL trades the last commits on
	// power loss (never on a crash of the process) for speed.
	Synchronous string
	// Publish, if set, receives the events of every committed Write, in
	// stream order (see Write).
	Publish func(context.Context, []parley.Event) error
	// MaxPending bounds the writes queued or waiting for their commit
	// (default 4096); beyond it Write and Submit wait, so that an overload
	// slows the writers down instead of lengthening every wait.
	MaxPending int
	Logger     *slog.Logger

	// noIndexLoop leaves the full-text index to the caller (the seeder).
	noIndexLoop bool
}

// Open opens the database named by dsn and applies pending migrations.
// dsn is "sqlite:<path>" (a file, created with its directory if missing) or
// a "postgres://" URL.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.ReadConns <= 0 {
		opt.ReadConns = 8
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = 4096
	}
	s := &Store{stmts: make(map[stmtKey]*sql.Stmt), publish: opt.Publish, log: opt.Logger}
	dialect, path, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if dialect == "sqlite" {
		err = s.openSQLite(path, opt)
	} else {
		err = s.openPostgres(dsn, opt)
	}
	if err != nil {
		return nil, err
	}
	s.q = q{s: s, db: s.rdb}
	s.writer = newGroupWriter(s, opt.MaxPending)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.stop = make(chan struct{})
	if s.deferredIndex && !opt.noIndexLoop {
		s.bg.Add(1)
		go s.indexLoop()
	}
	if s.dialect.name() == "sqlite" {
		s.bg.Add(1)
		go s.checkpointLoop()
	}
	return s, nil
}

// checkpointLoop copies SQLite's write-ahead log into the database a few
// times a second, beside the writer instead of inside one of its commits
// (the writer's connection does not checkpoint). A passive checkpoint
// neither waits for nor blocks readers and the writer; the writer starts
// the log over once it has been copied whole.
func (s *Store) checkpointLoop() {
	defer s.bg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if _, err := s.wdb.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			s.log.Warn("checkpointing the write-ahead log", "err", err)
		}
	}
}

// indexLoop keeps the full-text index a fraction of a second behind, so a
// search rarely has much to index first. It indexes in chunks, each its own
// short transaction, so sends commit in between.
func (s *Store) indexLoop() {
	defer s.bg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	idle := 0
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		indexed := false
		for more := true; more; {
			ctx := context.Background()
			n, err := s.IndexPending(ctx)
			if err != nil || n == 0 {
				if err != nil {
					s.log.Warn("indexing messages for search", "err", err)
				}
				break
			}
			indexed = true
			_, err = s.Write(ctx, func(tx parley.Tx) error {
				var err error
				more, err = s.dialect.indexPending(ctx, &tx.(*txn).q, 5000)
				return err
			})
			if err != nil {
				s.log.Warn("indexing messages for search", "err", err)
				break
			}
		}
		// After a second with nothing to index, merge the index's
		// segments a little at a time (mergeSearchIndex), one short
		// transaction per tick, until there is nothing left to merge.
		if indexed {
			idle = 0
			continue
		}
		if idle++; idle >= 4 {
			ctx := context.Background()
			var merged bool
			if _, err := s.Write(ctx, func(tx parley.Tx) error {
				var err error
				merged, err = mergeSearchIndex(ctx, &tx.(*txn).q, 200)
				return err
			}); err != nil {
				s.log.Warn("merging the search index", "err", err)
			}
			if !merged {
				idle = -240 // nothing to merge: look again in a minute
			}
		}
	}
}

func (s *Store) openSQLite(path string, opt Options) error {
	if path == "" {
		return errors.New("sqlstore: sqlite: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	syncMode := opt.Synchronous
	if syncMode == "" {
		syncMode = "FULL"
	}
	// temp_store(MEMORY): the journal that lets one statement of a
	// transaction be undone stays in memory instead of a temporary file,
	// written page by page (a multi-row insert needs one).
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)" +
		"&_pragma=synchronous(" + syncMode + ")&_pragma=temp_store(MEMORY)"
	// The writer does not checkpoint at commit (wal_autocheckpoint(0)):
	// checkpointLoop does, beside it.
	wdb, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return err
	}
	// Transactions run one at a time (writer). The second connection lets a
	// statement be prepared on the pool while a transaction holds the
	// first, so prepared statements outlive transactions.
	wdb.SetMaxOpenConns(2)
	wdb.SetMaxIdleConns(2)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	// Readers keep 32 MiB of pages each (SQLite's default is 2 MiB): a
	// search or a history page then reads its index and table pages from
	// memory rather than with a system call each.
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(ON)&_pragma=cache_size(-32768)")
	if err != nil {
		wdb.Close()
		return err
	}
	rdb.SetMaxOpenConns(opt.ReadConns)
	rdb.SetMaxIdleConns(opt.ReadConns)
	rdb.SetConnMaxIdleTime(0)
	s.rdb, s.wdb, s.dialect, s.deferredIndex = rdb, wdb, sqliteDialect{}, true
	return nil
}

func (s *Store) openPostgres(dsn string, opt Options) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("sqlstore: %s", Redact(err.Error()))
	}
	db.SetMaxOpenConns(opt.ReadConns + 8)
	db.SetMaxIdleConns(opt.ReadConns + 8)
	s.rdb, s.wdb, s.dialect = db, db, postgresDialect{}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	p, err := migrationProvider(s.wdb, s.dialect.name())
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// migrationProvider runs a dialect's migrations on db. On PostgreSQL an
// advisory lock lets one process migrate while the others (nodes starting
// at once, a restore) wait for it.
func migrationProvider(db *sql.DB, dialect string) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		return nil, err
	}
	var gd goose.Dialect = goose.DialectSQLite3
	var opts []goose.ProviderOption
	if dialect == "postgres" {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, db, sub, opts...)
}

// parseDSN says which database dsn names: "sqlite" and the file's path,
// or "postgres" (the URL is the driver's).
func parseDSN(dsn string) (dialect, path string, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return "sqlite", strings.TrimPrefix(dsn, "sqlite:"), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres", "", nil
	}
	return "", "", fmt.Errorf("sqlstore: unsupported database URL %q (want sqlite:<path> or postgres://...)", Redact(dsn))
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.PingContext(ctx) }

// Close closes the database; closing it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	if s.stop != nil {
		close(s.stop)
		s.bg.Wait()
		s.stop = nil
	}
	if s.writer != nil {
		s.writer.close()
	}
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	err := s.rdb.Close()
	if s.wdb != s.rdb {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// Pools returns the store's connection pools by name, for their metrics:
// "read" and "write" on SQLite, one "main" pool on PostgreSQL.
func (s *Store) Pools() map[string]*sql.DB {
	if s.wdb == s.rdb {
		return map[string]*sql.DB{"main": s.rdb}
	}
	return map[string]*sql.DB{"read": s.rdb, "write": s.wdb}
}

// Dialect names the database behind the store: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name() }

// cached returns the statement for query if it is prepared already.
func (s *Store) cached(write bool, query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stmts[stmtKey{write, query}]
}

// prepared returns the statement for query, prepared once per pool: hot
// statements are parsed once instead of on every call.
func (s *Store) prepared(ctx context.Context, write bool, query string) (*sql.Stmt, error) {
	k := stmtKey{write, query}
	if st := s.cached(write, query); st != nil {
		return st, nil
	}
	db := s.rdb
	if write {
		db = s.wdb
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmts == nil {
		st.Close()
		return nil, parley.Errorf(parley.EUNAVAILABLE, "store closed")
	}
	if old, ok := s.stmts[k]; ok {
		st.Close()
		return old, nil
	}
	s.stmts[k] = st
	return st, nil
}

// Write runs fn in one transaction; see parley.Store and groupWriter.
func (s *Store) Write(ctx context.Context, fn func(tx parley.Tx) error) ([]parley.Event, error) {
	return s.writer.write(ctx, fn)
}

// Submit queues an item of a batch; see parley.Store.
func (s *Store) Submit(ctx context.Context, b parley.Batcher, item any, done func(error)) {
	s.writer.submit(ctx, b, item, done)
}

// WriteStats are counters of the write path since the store opened.
type WriteStats struct {
	Writes   int64 // Write and Submit calls run
	Commits  int64 // transactions committed: Writes/Commits is the mean group
	Restarts int64 // groups run again without a write that failed
}

// Stats returns the write path's counters.
func (s *Store) Stats() WriteStats {
	w := s.writer
	return WriteStats{Writes: w.writes.Load(), Commits: w.commits.Load(), Restarts: w.restarts.Load()}
}

// publishEvents hands committed events to the live stream. The group
// writer's completer calls it in commit order, so this node's stream leaves
// in stream order and a client's cursor never passes an event it has not
// been sent. A failed publish is
// logged, not returned: the change is committed, and clients that miss the
// live event get it when they resume from their cursor.
func (s *Store) publishEvents(ctx context.Context, events []parley.Event) {
	if len(events) > 0 && s.publish != nil {
		if err := s.publish(ctx, events); err != nil {
			s.log.Warn("publishing events", "events", len(events), "err", err)
		}
	}
}

// Redact hides a password in a database URL, for logs and messages.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

var _ parley.Store = (*Store)(nil)
