package livechat_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestEraseRules checks the service's rules of erasure on both databases:
// only those who manage live chat may export or erase, and a refusal
// changes nothing; a visitor authenticated just before the erasure (a send
// that waited for the customer's lock) cannot open a new dialog after it.
func TestEraseRules(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		bus := inmem.NewBus()
		defer bus.Close()
		blobs, err := blob.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		pres := presence.New(s, bus, log)
		defer pres.Close()
		msgs := messaging.New(s, bus, blobs, pres, messaging.Config{Logger: log})
		defer msgs.Close()
		lc, err := livechat.New(ctx, s, bus, blobs, msgs, pres, livechat.Config{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		users := map[parley.Role]*parley.User{}
		for _, role := range []parley.Role{parley.RoleAdmin, parley.RoleSupervisor, parley.RoleAgent} {
			u := &parley.User{Email: string(role) + "@x.test", Name: string(role), Role: role, Active: true}
			if _, err := s.Write(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, u, "h") }); err != nil {
				t.Fatal(err)
			}
			users[role] = u
		}
		origins := []string{"*"}
		p, err := lc.CreateProject(ctx, users[parley.RoleAdmin], livechat.ProjectInput{Name: ptr("Shop"), Origins: &origins})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := lc.StartSession(ctx, livechat.SessionInput{Project: p.Key, Name: "Vera"}, "https://shop.example")
		if err != nil {
			t.Fatal(err)
		}
		v, err := lc.Authenticate(ctx, sess.Token, "https://shop.example")
		if err != nil {
			t.Fatal(err)
		}
		k := v.Contact

		for _, refused := range []func() error{
			func() error { _, err := lc.ExportContact(ctx, users[parley.RoleAgent], k.ID); return err },
			func() error { _, err := lc.EraseContact(ctx, users[parley.RoleAgent], k.ID); return err },
		} {
			if code := parley.ErrorCode(refused()); code != parley.EFORBIDDEN {
				t.Fatalf("an agent: %q, want forbidden", code)
			}
		}
		if got, err := s.ContactByID(ctx, k.ID); err != nil || got.Name != "Vera" || !got.ErasedAt.IsZero() {
			t.Fatalf("after the refusals: %+v, %v", got, err)
		}
		if log, _ := s.AuditLog(ctx, parley.AuditFilter{}); len(log) != 0 {
			t.Fatalf("refusals were logged: %+v", log)
		}
		if _, err := lc.ExportContact(ctx, users[parley.RoleSupervisor], k.ID); err != nil {
			t.Fatalf("a supervisor's export: %v", err)
		}

		// The supervisor erases Vera while her widget's send is under way
		// (authenticated already): the send is refused, no dialog appears.
		if _, err := lc.EraseContact(ctx, users[parley.RoleSupervisor], k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = lc.Send(ctx, v, livechat.VisitorSendInput{ClientID: "late", Text: "still there?"})
		if code := parley.ErrorCode(err); code != parley.EUNAUTHORIZED {
			t.Fatalf("a send after the erasure: %v", err)
		}
		if n, err := s.CountDialogs(ctx, parley.DialogFilter{ContactID: k.ID}); err != nil || n != 0 {
			t.Fatalf("dialogs of the erased customer: %d, %v", n, err)
		}
		if _, err := lc.Authenticate(ctx, sess.Token, "https://shop.example"); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
			t.Fatalf("the erased visitor's token: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
