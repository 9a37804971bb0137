// Package sqltest opens real databases for tests: a SQLite file in a
// temporary directory, and a fresh schema in the PostgreSQL named by
// PARLEY_TEST_POSTGRES.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/sqlstore"
)

// MustOpenSQLite opens a store on a new SQLite database, closed when tb ends.
func MustOpenSQLite(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return mustOpen(tb, "sqlite:"+filepath.Join(tb.TempDir(), "parley.db"))
}

// PostgresURL returns the URL of a new, empty schema in the test PostgreSQL,
// dropped when tb ends. It skips the test when PARLEY_TEST_POSTGRES is unset,
// except under CI, where a missing database is a failure.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("PARLEY_TEST_POSTGRES is not set; CI must run the PostgreSQL tests")
		}
		tb.Skip("PARLEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	v := u.Query()
	v.Set("search_path", schema)
	u.RawQuery = v.Encode()
	return u.String()
}

// MustOpenPostgres opens a store on a new schema; see PostgresURL.
func MustOpenPostgres(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return mustOpen(tb, PostgresURL(tb))
}

func mustOpen(tb testing.TB, dsn string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Each runs fn as a subtest against SQLite and PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, MustOpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, MustOpenPostgres(t)) })
}
