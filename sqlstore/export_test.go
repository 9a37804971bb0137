package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/parley-chat/parley"
)

// SetSearchWindow sets how many of a user's newest messages a search reads
// before it turns to the full-text index, and returns a function that
// restores it.
func SetSearchWindow(n int64) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}

// MergeSearchIndex runs one step of idle merging (SQLite).
func (s *Store) MergeSearchIndex(pages int) (merged bool, err error) {
	_, err = s.Write(context.Background(), func(tx parley.Tx) error {
		merged, err = mergeSearchIndex(context.Background(), &tx.(*txn).q, pages)
		return err
	})
	return merged, err
}

// SetRareTag sets below how many customers a tag drives the dialog list
// (0: never), and returns a function that restores it.
func SetRareTag(n int64) (restore func()) {
	old := rareTagCustomers
	rareTagCustomers = n
	return func() { rareTagCustomers = old }
}

// MigrateTo runs the migrations of dialect ("sqlite" or "postgres") on db
// up to version, as Open does up to the newest, so that tests can fill a
// database at an older version and check what a later one makes of it.
func MigrateTo(ctx context.Context, db *sql.DB, dialect string, version int64) error {
	s := &Store{wdb: db, dialect: sqliteDialect{}}
	gd := goose.DialectSQLite3
	if dialect == "postgres" {
		s.dialect, gd = postgresDialect{}, goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, "migrations/"+s.dialect.name())
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(gd, db, sub)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
