package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestInboxMigrationsBackfill fills a database at version 5 (live chat,
// before the inbox) with dialogs and checks what migrations 6 and 7 derive
// from their messages: the channel, the last activity and who wrote it,
// since when and with how many messages the customer waits.
func TestInboxMigrationsBackfill(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var db *sql.DB
			var err error
			if dialect == "sqlite" {
				db, err = sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db"))
			} else {
				db, err = sql.Open("pgx", sqltest.PostgresURL(t))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1) // the schema's search_path and SQLite's file: one connection
			if err := sqlstore.MigrateTo(ctx, db, dialect, 5); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO users (id, email, name, sort_name, search, role, created_at, updated_at) VALUES (1, 'm@x.test', 'M', 'm', 'm', 'agent', 1, 1)`)
			exec(`INSERT INTO projects (id, name, key, secret, created_at, updated_at) VALUES (1, 'Shop', 'shop', 's', 1, 1)`)
			exec(`INSERT INTO contacts (id, project_id, name, created_at, last_seen_at) VALUES (1, 1, 'Vera', 1, 1), (2, 1, 'Ivan', 1, 1)`)
			// Vera's dialog: she wrote, a manager answered, she wrote twice
			// more. Ivan's: closed after his message.
			exec(`INSERT INTO conversations (id, kind, title, state, last_seq, last_message_at, created_at, updated_at,
				project_id, contact_id, status, level) VALUES
				(1, 'support', 'Vera', 'allowed', 4, 4000, 1000, 4000, 1, 1, 'open', 1),
				(2, 'support', 'Ivan', 'allowed', 2, 2500, 2000, 2500, 1, 2, 'closed', 1),
				(3, 'direct', '', 'allowed', 0, 100, 100, 100, 0, 0, '', 0)`)
			exec(`INSERT INTO messages (id, conversation_id, seq, sender_id, contact_id, kind, text, created_at) VALUES
				(1, 1, 1, 0, 1, 'text', 'hi', 1000),
				(2, 1, 2, 1, 0, 'text', 'hello', 2000),
				(3, 1, 3, 0, 1, 'text', 'still', 3000),
				(4, 1, 4, 0, 1, 'file', '', 4000),
				(5, 2, 1, 0, 2, 'text', 'help', 2000),
				(6, 2, 2, 1, 0, 'event', '', 2500)`)
			if err := sqlstore.MigrateTo(ctx, db, dialect, 7); err != nil {
				t.Fatal(err)
			}
			type row struct {
				channel, lastFrom                string
				activity, waiting, unanswered, p int64
			}
			want := map[int64]row{
				1: {"widget", "customer", 4000, 3000, 2, 1},
				2: {"widget", "customer", 2500, 0, 0, 1},
				3: {"", "", 0, 0, 0, 0},
			}
			for id, w := range want {
				var g row
				err := db.QueryRowContext(ctx, `SELECT channel, last_from, activity_at, waiting_since, unanswered, project_id
					FROM conversations WHERE id = $1`, id).Scan(&g.channel, &g.lastFrom, &g.activity, &g.waiting, &g.unanswered, &g.p)
				if err != nil {
					t.Fatal(err)
				}
				if g != w {
					t.Errorf("conversation %d: got %+v, want %+v", id, g, w)
				}
			}
			var limits string
			if err := db.QueryRowContext(ctx, "SELECT attachment_limits FROM projects WHERE id = 1").Scan(&limits); err != nil || limits != "{}" {
				t.Fatalf("attachment limits %q, %v", limits, err)
			}
		})
	}
}
