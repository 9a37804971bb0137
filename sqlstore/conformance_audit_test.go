package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestAuditLog checks that an entry is kept only when its transaction
// commits, and the log's filters and paging, newest first.
func TestAuditLog(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		admin := &parley.User{ID: 7, Name: "Ada"}
		ctxAddr := parley.WithClientAddr(ctx, "127.0.0.9")
		for i := range 5 {
			action, target := parley.AuditContactExported, int64(100+i%2)
			if i%2 == 1 {
				action = parley.AuditContactErased
			}
			mustWrite(t, s, func(tx parley.Tx) error {
				return tx.Audit(ctx, parley.NewAudit(ctxAddr, admin, baseTime.Add(time.Duration(i)*time.Millisecond), action, "contact", target, map[string]int{"n": i}))
			})
		}
		// A rolled-back change leaves no entry.
		err := writeErr(t, s, func(tx parley.Tx) error {
			if err := tx.Audit(ctx, parley.NewAudit(ctx, nil, baseTime, "contact.erased", "contact", 999, nil)); err != nil {
				return err
			}
			return errors.New("changed my mind")
		})
		if err == nil {
			t.Fatal("the failing write succeeded")
		}
		all, err := s.AuditLog(ctx, parley.AuditFilter{})
		must(t, err)
		if len(all) != 5 {
			t.Fatalf("%d entries, want 5", len(all))
		}
		e := all[0]
		if e.Action != parley.AuditContactExported || e.TargetID != 100 || e.ActorID != 7 || e.ActorName != "Ada" ||
			e.ClientAddr != "127.0.0.9" || string(e.Detail) != `{"n":4}` || !e.At.Equal(baseTime.Add(4*time.Millisecond)) {
			t.Fatalf("newest entry %+v", e)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID >= all[i-1].ID {
				t.Fatalf("not newest first: %d after %d", all[i].ID, all[i-1].ID)
			}
		}
		erased, err := s.AuditLog(ctx, parley.AuditFilter{Action: parley.AuditContactErased})
		must(t, err)
		if len(erased) != 2 || erased[0].TargetID != 101 {
			t.Fatalf("erased entries %+v", erased)
		}
		byTarget, err := s.AuditLog(ctx, parley.AuditFilter{TargetType: "contact", TargetID: 100, Limit: 2})
		must(t, err)
		if len(byTarget) != 2 || byTarget[0].TargetID != 100 || byTarget[1].TargetID != 100 {
			t.Fatalf("page of contact 100: %+v", byTarget)
		}
		rest, err := s.AuditLog(ctx, parley.AuditFilter{TargetType: "contact", TargetID: 100, Before: byTarget[1].ID})
		must(t, err)
		if len(rest) != 1 || rest[0].ID != all[4].ID {
			t.Fatalf("second page of contact 100: %+v", rest)
		}
	})
}
