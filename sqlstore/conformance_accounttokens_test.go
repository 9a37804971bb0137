package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestAccountTokens checks invitation and reset links: found by hash,
// listed by kind, renewed, used once, and the audit log's period filter.
func TestAccountTokens(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inv := &parley.AccountToken{Kind: parley.TokenInvite, TokenHash: "h1", Email: "new@example.com", Role: parley.RoleAgent,
			GroupIDs: []int64{3, 4}, CreatedBy: 1, CreatedAt: baseTime, ExpiresAt: baseTime.Add(time.Hour)}
		reset := &parley.AccountToken{Kind: parley.TokenReset, TokenHash: "h2", Email: "old@example.com", UserID: 9,
			CreatedAt: baseTime, ExpiresAt: baseTime.Add(time.Hour), SentAt: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.CreateAccountToken(ctx, inv); err != nil {
				return err
			}
			return tx.CreateAccountToken(ctx, reset)
		})
		// The same hash twice is refused: hashes identify links.
		if err := writeErr(t, s, func(tx parley.Tx) error {
			return tx.CreateAccountToken(ctx, &parley.AccountToken{Kind: parley.TokenReset, TokenHash: "h1", Email: "x@example.com",
				ExpiresAt: baseTime})
		}); err == nil {
			t.Fatal("a second link with the same hash was stored")
		}
		got, err := s.AccountTokenByHash(ctx, "h1")
		must(t, err)
		if got.ID != inv.ID || got.Kind != parley.TokenInvite || got.Email != "new@example.com" || got.Role != parley.RoleAgent ||
			len(got.GroupIDs) != 2 || got.GroupIDs[1] != 4 || !got.ExpiresAt.Equal(baseTime.Add(time.Hour)) || !got.SentAt.IsZero() {
			t.Fatalf("invite read back as %+v", got)
		}
		if _, err := s.AccountTokenByHash(ctx, "nope"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("unknown hash: %v", err)
		}
		list, err := s.AccountTokens(ctx, parley.TokenInvite)
		must(t, err)
		if len(list) != 1 || list[0].ID != inv.ID {
			t.Fatalf("invites %+v", list)
		}
		// Renewing replaces the hash: the old link stops working.
		mustWrite(t, s, func(tx parley.Tx) error {
			return tx.RenewAccountToken(ctx, inv.ID, "h3", baseTime.Add(2*time.Hour), baseTime.Add(time.Minute))
		})
		if _, err := s.AccountTokenByHash(ctx, "h1"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("old hash after renewal: %v", err)
		}
		got, err = s.AccountTokenByHash(ctx, "h3")
		must(t, err)
		if !got.ExpiresAt.Equal(baseTime.Add(2*time.Hour)) || !got.SentAt.Equal(baseTime.Add(time.Minute)) {
			t.Fatalf("renewed %+v", got)
		}
		// Used once: the second delete reports it gone.
		for i, want := range []bool{true, false} {
			var ok bool
			mustWrite(t, s, func(tx parley.Tx) (err error) {
				ok, err = tx.DeleteAccountToken(ctx, inv.ID)
				return err
			})
			if ok != want {
				t.Fatalf("delete %d: %v, want %v", i, ok, want)
			}
		}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.DeleteAccountTokensOf(ctx, parley.TokenReset, "old@example.com") })
		if _, err := s.AccountTokenByHash(ctx, "h2"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("reset after DeleteAccountTokensOf: %v", err)
		}

		// The audit log by period: [Since, Until).
		for i := range 4 {
			mustWrite(t, s, func(tx parley.Tx) error {
				return tx.Audit(ctx, parley.NewAudit(ctx, nil, baseTime.Add(time.Duration(i)*time.Hour), parley.AuditUserInvited, "user", 0, nil))
			})
		}
		mid, err := s.AuditLog(ctx, parley.AuditFilter{Since: baseTime.Add(time.Hour), Until: baseTime.Add(3 * time.Hour)})
		must(t, err)
		if len(mid) != 2 || !mid[0].At.Equal(baseTime.Add(2*time.Hour)) || !mid[1].At.Equal(baseTime.Add(time.Hour)) {
			t.Fatalf("period filter gave %d entries", len(mid))
		}
	})
}
