package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// TestStaffSMS checks phone numbers and the staff SMS log: a number set,
// replaced and removed; a text found by its provider id, its status
// updated, listed per recipient (and sender), counted per sender since a
// time.
func TestStaffSMS(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		us := newUsers(t, s, 3)
		a, b, c := us[0], us[1], us[2]
		if p, err := s.UserPhone(ctx, a.ID); err != nil || p != "" {
			t.Fatalf("no phone: %q, %v", p, err)
		}
		for _, want := range []string{"+15550001", "+15550002", ""} {
			mustWrite(t, s, func(tx parley.Tx) error { return tx.SetUserPhone(ctx, a.ID, want) })
			if p, err := s.UserPhone(ctx, a.ID); err != nil || p != want {
				t.Fatalf("phone %q, %v; want %q", p, err, want)
			}
		}
		var made []*parley.StaffSMS
		for i, by := range []*parley.User{b, b, c} {
			m := &parley.StaffSMS{SenderID: by.ID, RecipientID: a.ID, To: "+15550001", Text: "hi", Segments: 1, ChannelID: 9,
				Status: parley.SMSQueued, CreatedAt: baseTime.Add(time.Duration(i) * time.Minute)}
			mustWrite(t, s, func(tx parley.Tx) error { return tx.CreateStaffSMS(ctx, m) })
			made = append(made, m)
		}
		m := made[0]
		m.ExternalID, m.Status, m.Error, m.UpdatedAt = "SM1", parley.SMSFailed, "unreachable", baseTime.Add(time.Hour)
		mustWrite(t, s, func(tx parley.Tx) error { return tx.UpdateStaffSMS(ctx, m) })
		got, err := s.StaffSMSByExternalID(ctx, 9, "SM1")
		if err != nil || got.ID != m.ID || got.Status != parley.SMSFailed || got.Error != "unreachable" || got.SenderID != b.ID ||
			!got.UpdatedAt.Equal(m.UpdatedAt) || !got.CreatedAt.Equal(baseTime) {
			t.Fatalf("by external id: %+v, %v", got, err)
		}
		if _, err := s.StaffSMSByExternalID(ctx, 8, "SM1"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("another channel's id: %v", err)
		}
		if err := writeErr(t, s, func(tx parley.Tx) error { return tx.UpdateStaffSMS(ctx, &parley.StaffSMS{ID: 99999}) }); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("updating a missing sms: %v", err)
		}
		all, err := s.StaffSMSTo(ctx, a.ID, 0, 10)
		must(t, err)
		if len(all) != 3 || all[0].ID != made[2].ID {
			t.Fatalf("to a: %d, newest %+v", len(all), all[0])
		}
		byB, err := s.StaffSMSTo(ctx, a.ID, b.ID, 10)
		must(t, err)
		if len(byB) != 2 {
			t.Fatalf("by b: %d", len(byB))
		}
		if n, err := s.CountStaffSMS(ctx, b.ID, baseTime.Add(30*time.Second)); err != nil || n != 1 {
			t.Fatalf("b's since: %d, %v", n, err)
		}
		if n, err := s.CountStaffSMS(ctx, c.ID, baseTime); err != nil || n != 1 {
			t.Fatalf("c's: %d, %v", n, err)
		}
	})
}
