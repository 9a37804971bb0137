package sqlstore_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestChannels checks the channels' part of the store on both databases:
// secrets round-trip, one address is one contact, the lease is exclusive
// until it expires, and the queue hands out only the oldest queued
// message of each conversation.
func TestChannels(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		a := newUser(t, s, "Ann", "ann@x.test")
		var p *parley.Project
		ch := &parley.Channel{Kind: parley.ChannelTelegram, Name: "Bot", Settings: map[string]string{"mode": "polling"},
			Secrets: map[string]string{"token": "t0k3n"}}
		mustWrite(t, s, func(tx parley.Tx) error {
			p = &parley.Project{Name: "P", Key: "p", Secret: "s"}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			ch.ProjectID = p.ID
			return tx.CreateChannel(ctx, ch)
		})
		got, err := s.ChannelByID(ctx, ch.ID)
		must(t, err)
		if got.Secrets["token"] != "t0k3n" || got.Settings["mode"] != "polling" || len(got.SecretsSet) != 1 {
			t.Fatalf("read back: %+v", got)
		}

		// The lease: one owner until it expires or is given up.
		now := time.Now()
		lease := func(owner string, at time.Time) bool {
			var ok bool
			mustWrite(t, s, func(tx parley.Tx) error {
				var err error
				ok, err = tx.LeaseChannel(ctx, ch.ID, owner, at, at.Add(15*time.Second))
				return err
			})
			return ok
		}
		if !lease("n1", now) || lease("n2", now.Add(time.Second)) || !lease("n1", now.Add(2*time.Second)) {
			t.Fatal("a held lease was taken, or its owner could not renew it")
		}
		if !lease("n2", now.Add(20*time.Second)) {
			t.Fatal("an expired lease could not be taken")
		}

		// One address, one contact.
		k := &parley.Contact{ProjectID: p.ID, ChannelID: ch.ID, Address: "42", Name: "Kim"}
		mustWrite(t, s, func(tx parley.Tx) error { return tx.CreateContact(ctx, k) })
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error {
			return tx.CreateContact(ctx, &parley.Contact{ProjectID: p.ID, ChannelID: ch.ID, Address: "42"})
		}), parley.ECONFLICT)
		if got, err := s.ContactByAddress(ctx, ch.ID, "42"); err != nil || got.ID != k.ID {
			t.Fatalf("by address: %v, %v", got, err)
		}

		// Two dialogs with queued replies: only each one's oldest is due.
		var convs [2]*parley.Conversation
		var msgs [2][]*parley.Message
		mustWrite(t, s, func(tx parley.Tx) error {
			for i := range convs {
				c := &parley.Conversation{Kind: parley.KindSupport, State: parley.StateAllowed, Support: &parley.Support{
					ProjectID: p.ID, ContactID: k.ID, Status: parley.SupportOpen, Channel: ch.Kind, ChannelID: ch.ID}}
				if err := tx.CreateConversation(ctx, c); err != nil {
					return err
				}
				convs[i] = c
				msgs[i] = nil
				for range 2 {
					m := &parley.Message{ConversationID: c.ID, SenderID: a.ID, Kind: parley.MsgText, Text: "r", Status: parley.StatusQueued}
					if err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
					msgs[i] = append(msgs[i], m)
					if err := tx.PutChannelMessage(ctx, &parley.ChannelMessage{MessageID: m.ID, ChannelID: ch.ID, ConversationID: c.ID,
						Outbound: true, State: parley.DeliveryQueued, NextAt: now}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if m, err := s.MessageByID(ctx, msgs[0][0].ID); err != nil || m.Status != parley.StatusQueued {
			t.Fatalf("a queued reply is stored as %q (%v)", m.Status, err)
		}
		due, err := s.DueChannelMessages(ctx, ch.ID, now, 10)
		must(t, err)
		if len(due) != 2 || due[0].MessageID != msgs[0][0].ID || due[1].MessageID != msgs[1][0].ID {
			t.Fatalf("due: %+v", due)
		}
		// The first one sent: the dialog's next one is due; a retry later
		// keeps the other dialog's from being due until then.
		mustWrite(t, s, func(tx parley.Tx) error {
			due[0].State, due[0].ExternalID = parley.DeliverySent, "42:1"
			if err := tx.UpdateChannelMessage(ctx, due[0]); err != nil {
				return err
			}
			due[1].Attempts, due[1].NextAt = 1, now.Add(time.Minute)
			return tx.UpdateChannelMessage(ctx, due[1])
		})
		due, err = s.DueChannelMessages(ctx, ch.ID, now, 10)
		must(t, err)
		if len(due) != 1 || due[0].MessageID != msgs[0][1].ID {
			t.Fatalf("due after one was sent: %+v", due)
		}
		if next, err := s.NextChannelMessageAt(ctx, ch.ID); err != nil || !next.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("next due at %v (%v)", next, err)
		}
		if cm, err := s.ChannelMessageByExternalID(ctx, ch.ID, "42:1"); err != nil || cm.MessageID != msgs[0][0].ID {
			t.Fatalf("by the channel's id: %+v, %v", cm, err)
		}
		wantCode(t, writeErr(t, s, func(tx parley.Tx) error {
			return tx.PutChannelMessage(ctx, &parley.ChannelMessage{MessageID: msgs[1][1].ID + 100, ChannelID: ch.ID,
				ConversationID: convs[1].ID, ExternalID: "42:1", State: parley.DeliveryReceived})
		}), parley.ECONFLICT)

		// Deleting dialogs takes their channel records along.
		mustWrite(t, s, func(tx parley.Tx) error {
			_, err := tx.DeleteDialogs(ctx, []int64{convs[0].ID, convs[1].ID})
			return err
		})
		if list, err := s.ChannelMessagesOf(ctx, convs[0].ID, 10); err != nil || len(list) != 0 {
			t.Fatalf("after deleting the dialog: %d records (%v)", len(list), err)
		}
	})
}

// TestWebhookLog: a webhook's log, newest first, paged, pruned by age.
func TestWebhookLog(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		w := &parley.Webhook{URL: "http://127.0.0.1/hook", Events: []string{}, Secret: "s", Active: true}
		old := time.Now().Add(-48 * time.Hour)
		mustWrite(t, s, func(tx parley.Tx) error {
			if err := tx.CreateWebhook(ctx, w); err != nil {
				return err
			}
			for i, at := range []time.Time{old, time.Now(), time.Now()} {
				d := &parley.WebhookDelivery{WebhookID: w.ID, EventID: int64(i + 1), EventType: "message.created", Attempt: 1,
					OK: i > 0, StatusCode: 200, CreatedAt: at}
				if err := tx.AddWebhookDelivery(ctx, d); err != nil {
					return err
				}
			}
			return nil
		})
		page, err := s.WebhookDeliveries(ctx, w.ID, 0, 2)
		must(t, err)
		if len(page) != 2 || page[0].EventID != 3 || page[1].EventID != 2 {
			t.Fatalf("the newest page: %+v", page)
		}
		if next, err := s.WebhookDeliveries(ctx, w.ID, page[1].ID, 2); err != nil || len(next) != 1 || next[0].OK {
			t.Fatalf("the next page: %+v (%v)", next, err)
		}
		var n int64
		mustWrite(t, s, func(tx parley.Tx) error {
			var err error
			n, err = tx.DeleteWebhookDeliveriesBefore(ctx, time.Now().Add(-24*time.Hour))
			return err
		})
		if all, _ := s.WebhookDeliveries(ctx, w.ID, 0, 10); n != 1 || len(all) != 2 {
			t.Fatalf("pruned %d, %d left", n, len(all))
		}
	})
}
