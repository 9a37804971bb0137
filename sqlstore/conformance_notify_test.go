package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/notify"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestNotifyStore checks the notifier's tables: push subscriptions (one
// row per endpoint, deleted only by their user), settings, what was
// notified (never twice), the outbox and the lease.
func TestNotifyStore(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		us := newUsers(t, s, 3)
		ann, bob, cat := us[0], us[1], us[2]

		// Subscriptions.
		p := &parley.PushSubscription{UserID: ann.ID, Endpoint: "https://push.example/a", P256DH: "k", Auth: "s", CreatedAt: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).PutPushSubscription(ctx, p) })
		if p.ID == 0 {
			t.Fatal("no id")
		}
		// Bob signs in on Ann's browser: the endpoint becomes his.
		q := &parley.PushSubscription{UserID: bob.ID, Endpoint: p.Endpoint, P256DH: "k2", Auth: "s2", CreatedAt: baseTime.Add(time.Second)}
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).PutPushSubscription(ctx, q) })
		if q.ID != p.ID {
			t.Errorf("the endpoint got a second row: %d, %d", q.ID, p.ID)
		}
		annSubs, err := s.PushSubscriptions(ctx, ann.ID)
		must(t, err)
		bobSubs, err := s.PushSubscriptions(ctx, bob.ID)
		must(t, err)
		if len(annSubs) != 0 || len(bobSubs) != 1 || bobSubs[0].P256DH != "k2" || !bobSubs[0].CreatedAt.Equal(q.CreatedAt) {
			t.Fatalf("after the take-over: Ann %+v, Bob %+v", annSubs, bobSubs)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error { return ntx(tx).DeletePushSubscription(ctx, ann.ID, q.ID) }), parley.ENOTFOUND)
		if got, err := s.PushSubscriptionByEndpoint(ctx, p.Endpoint); err != nil || got.UserID != bob.ID {
			t.Fatalf("someone else's delete deleted it: %+v %v", got, err)
		}
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).DeletePushSubscription(ctx, bob.ID, q.ID) })
		_, err = s.PushSubscriptionByEndpoint(ctx, p.Endpoint)
		wantCode(t, err, parley.ENOTFOUND)

		// Settings.
		set, err := s.NotifySettings(ctx, ann.ID)
		must(t, err)
		if set.EmailAfterMinutes != -1 || set.TimeZone != "UTC" || len(set.DNDDays) != 7 {
			t.Fatalf("defaults %+v", set)
		}
		set.EmailAfterMinutes, set.DNDEnabled, set.DNDDays, set.PausedUntil = 15, true, []int{1, 5}, baseTime
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).SetNotifySettings(ctx, ann.ID, set) })
		got, err := s.NotifySettings(ctx, ann.ID)
		must(t, err)
		if got.EmailAfterMinutes != 15 || !got.DNDEnabled || len(got.DNDDays) != 2 || !got.PausedUntil.Equal(baseTime) {
			t.Fatalf("stored %+v", got)
		}

		// First value stands.
		a, b := "first", "second"
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).InitSetting(ctx, "k", &a) })
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).InitSetting(ctx, "k", &b) })
		if b != "first" {
			t.Errorf("InitSetting kept %q", b)
		}

		// Candidates: Bob, with a subscription, has Ann's two messages
		// unread; Cat has them too but no subscription (push) — both are
		// e-mail candidates.
		c := newConv(t, s, parley.KindGroup, "", ann, bob, cat)
		send(t, s, c, ann, "one")
		send(t, s, c, ann, "two")
		mustWrite(t, s, func(tx parley.Tx) error {
			return ntx(tx).PutPushSubscription(ctx, &parley.PushSubscription{UserID: bob.ID, Endpoint: "https://push.example/b", P256DH: "k", Auth: "s", CreatedAt: baseTime})
		})
		since, before := time.UnixMilli(1), time.Now().Add(time.Hour)
		push, err := s.NotifyCandidates(ctx, "push", since, before, 0)
		must(t, err)
		if len(push) != 1 || push[0].UserID != bob.ID || push[0].LastSeq < 2 || push[0].DoneSeq != 0 {
			t.Fatalf("push candidates %+v", push)
		}
		mail, err := s.NotifyCandidates(ctx, "email", since, before, 0)
		must(t, err)
		// (The store does not know senders: the messaging service moves
		// their pointers; the notifier passes over their own messages.)
		if len(mail) != 3 {
			t.Fatalf("e-mail candidates %+v, want all three members'", mail)
		}
		// Nothing after the window.
		if none, err := s.NotifyCandidates(ctx, "push", before, before.Add(time.Hour), 0); err != nil || len(none) != 0 {
			t.Fatalf("candidates after the window: %+v %v", none, err)
		}
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).MarkNotified(ctx, "push", bob.ID, c.ID, push[0].LastSeq) })
		// A mark never goes back.
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).MarkNotified(ctx, "push", bob.ID, c.ID, 1) })
		if again, err := s.NotifyCandidates(ctx, "push", since, before, 0); err != nil || len(again) != 0 {
			t.Fatalf("notified again: %+v %v", again, err)
		}
		if mail2, err := s.NotifyCandidates(ctx, "email", since, before, 0); err != nil || len(mail2) != 3 {
			t.Fatalf("the push mark touched e-mail: %+v %v", mail2, err)
		}
		send(t, s, c, ann, "three")
		if again, err := s.NotifyCandidates(ctx, "push", since, before, 0); err != nil || len(again) != 1 || again[0].DoneSeq != push[0].LastSeq {
			t.Fatalf("a new message: %+v %v", again, err)
		}

		// Reminders: once per time due.
		var first, second bool
		mustWrite(t, s, func(tx parley.Tx) error {
			var err error
			first, err = ntx(tx).MarkReminderNotified(ctx, "push", 7, baseTime)
			return err
		})
		mustWrite(t, s, func(tx parley.Tx) error {
			var err error
			second, err = ntx(tx).MarkReminderNotified(ctx, "push", 7, baseTime)
			return err
		})
		if !first || second {
			t.Errorf("MarkReminderNotified: %v then %v", first, second)
		}
		if done, err := s.ReminderNotified(ctx, "email", 7, baseTime); err != nil || done {
			t.Errorf("e-mail marked by the push: %v %v", done, err)
		}

		// The outbox.
		n := &parley.NotifyNote{UserID: bob.ID, Kind: "call", Title: "Ann is calling", URL: "/c/1", At: baseTime}
		mustWrite(t, s, func(tx parley.Tx) error { return ntx(tx).QueueNote(ctx, n) })
		notes, err := s.QueuedNotes(ctx, 0)
		must(t, err)
		if len(notes) != 1 || notes[0].ID != n.ID || notes[0].Title != n.Title {
			t.Fatalf("queued %+v", notes)
		}
		var took, tookAgain bool
		mustWrite(t, s, func(tx parley.Tx) error { took, err = ntx(tx).DeleteNote(ctx, n.ID); return err })
		mustWrite(t, s, func(tx parley.Tx) error { tookAgain, err = ntx(tx).DeleteNote(ctx, n.ID); return err })
		if !took || tookAgain {
			t.Errorf("DeleteNote: %v then %v", took, tookAgain)
		}

		// The lease: one holder at a time until it expires.
		lease := func(owner string, now time.Time) bool {
			var ok bool
			mustWrite(t, s, func(tx parley.Tx) error {
				ok, err = ntx(tx).LeaseNotify(ctx, 1, owner, now, now.Add(15*time.Second))
				return err
			})
			return ok
		}
		if !lease("n1", baseTime) || lease("n2", baseTime.Add(time.Second)) || !lease("n1", baseTime.Add(2*time.Second)) ||
			!lease("n2", baseTime.Add(time.Minute)) {
			t.Error("the lease went to more than one node, or not to the next after it expired")
		}
	})
}

// ntx is a transaction as the notifier sees it.
func ntx(tx parley.Tx) notify.Tx { return tx.(notify.Tx) }
