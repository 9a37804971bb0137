package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
)

func reminderPath(msgID int64, rest string) string {
	return "/api/v1/messages/" + itoa(msgID) + "/reminder" + rest
}

func (c *client) reminders() []*parley.Reminder {
	c.t.Helper()
	var l httpapi.ReminderList
	c.get("/api/v1/reminders", &l)
	return l.Reminders
}

func TestReminders(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		outsider := s.newUser(t, parley.RoleAdmin, "Olivia Outsider")
		g := a.group("Plans", b)
		m := b.send(g.ID, "Call the supplier about the order")

		if got := a.reminders(); len(got) != 0 {
			t.Fatalf("reminders at start: %+v", got)
		}
		now := time.Now().UTC()
		for _, bad := range []any{
			map[string]any{"remind_at": now.Add(-time.Minute)},
			map[string]any{"remind_at": now.Add(-48 * time.Hour)},
			map[string]any{},
			map[string]any{"remind_at": now.AddDate(10, 0, 0)},
			map[string]any{"remind_at": "tomorrow"},
			map[string]any{"remind_at": 1700000000},
		} {
			a.do("PUT", reminderPath(m.ID, ""), bad).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		if got := a.reminders(); len(got) != 0 {
			t.Fatalf("refused reminders were stored: %+v", got)
		}

		// The client's presets are times; "tomorrow at 9" is one of them.
		y, mo, d := now.AddDate(0, 0, 1).Date()
		tomorrow9 := time.Date(y, mo, d, 9, 0, 0, 0, time.UTC)
		var r parley.Reminder
		a.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": tomorrow9}).want(http.StatusOK).decode(&r)
		if !r.RemindAt.Equal(tomorrow9) || r.MessageID != m.ID || r.ConversationID != g.ID || r.UserID != a.id() || !r.FiredAt.IsZero() {
			t.Errorf("set %+v", r)
		}
		list := a.reminders()
		if len(list) != 1 || list[0].Message == nil || list[0].Message.Text != m.Text || !list[0].RemindAt.Equal(tomorrow9) {
			t.Fatalf("list %+v", list)
		}
		if got := b.reminders(); len(got) != 0 {
			t.Errorf("B sees A's reminders: %+v", got)
		}
		// Moving it replaces it: one reminder per message.
		inAWeek := now.Add(7 * 24 * time.Hour).Truncate(time.Millisecond)
		a.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": inAWeek}).want(http.StatusOK)
		if list := a.reminders(); len(list) != 1 || !list[0].RemindAt.Equal(inAWeek) {
			t.Errorf("after moving: %+v", list)
		}

		// Snooze for some hours.
		for _, h := range []int{0, -1, 745} {
			a.do("POST", reminderPath(m.ID, "/snooze"), map[string]int{"hours": h}).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		before := time.Now().UTC()
		a.do("POST", reminderPath(m.ID, "/snooze"), map[string]int{"hours": 3}).want(http.StatusOK).decode(&r)
		if r.RemindAt.Before(before.Add(3*time.Hour-time.Second)) || r.RemindAt.After(time.Now().UTC().Add(3*time.Hour+time.Second)) {
			t.Errorf("snoozed 3 hours from %v to %v", before, r.RemindAt)
		}
		b.do("POST", reminderPath(m.ID, "/snooze"), map[string]int{"hours": 3}).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Nobody sets a reminder on a message they cannot see.
		outsider.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": tomorrow9}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("POST", reminderPath(m.ID, "/snooze"), map[string]int{"hours": 1}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("DELETE", reminderPath(m.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		a.do("PUT", reminderPath(999999, ""), map[string]any{"remind_at": tomorrow9}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if got := outsider.reminders(); len(got) != 0 {
			t.Errorf("outsider's reminders %+v", got)
		}

		// "Do not notify" clears it.
		a.do("DELETE", reminderPath(m.ID, ""), nil).want(http.StatusNoContent)
		if got := a.reminders(); len(got) != 0 {
			t.Errorf("after clearing: %+v", got)
		}
		a.do("DELETE", reminderPath(m.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		a.do("POST", reminderPath(m.ID, "/snooze"), map[string]int{"hours": 1}).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// A member who leaves no longer sees their reminders there.
		b.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": tomorrow9}).want(http.StatusOK)
		b.do("DELETE", convPath(g.ID, "/members/"+itoa(b.id())), nil).want(http.StatusNoContent)
		if got := b.reminders(); len(got) != 0 {
			t.Errorf("after leaving: %+v", got)
		}
	})
}

// TestReminderFiresAfterRestart: a reminder survives a restart and, due
// while its user had no device, fires when one connects.
func TestReminderFiresAfterRestart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s1 := newServer(t, func(c *Config) { *c = cfg })
	a, b := s1.newUser(t, parley.RoleMember, "Anna"), s1.newUser(t, parley.RoleMember, "Boris")
	c := a.directAllowed(b)
	m := b.send(c.ID, "remind me")
	at := time.Now().UTC().Add(time.Second).Truncate(time.Millisecond)
	a.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": at}).want(http.StatusOK)
	s1.stop()

	s2 := newServer(t, func(c *Config) { *c = cfg })
	a2 := s2.login(t, a.user.Email, testPassword)
	list := a2.reminders()
	if len(list) != 1 || !list[0].RemindAt.Equal(at) || !list[0].FiredAt.IsZero() {
		t.Fatalf("after the restart: %+v", list)
	}
	time.Sleep(time.Until(at) + 50*time.Millisecond) // due, with no device of A connected
	if list := a2.reminders(); !list[0].FiredAt.IsZero() {
		t.Errorf("fired with no device connected: %+v", list[0])
	}
	ws := a2.connect()
	f := ws.waitFor(parley.EventReminderDue)
	data, _ := f["data"].(map[string]any)
	if data["message_id"] != float64(m.ID) {
		t.Errorf("reminder.due frame %v", f)
	}
	if msg, _ := data["message"].(map[string]any); msg["text"] != "remind me" {
		t.Errorf("the notification lacks the message text: %v", f)
	}
	eventually(t, "the reminder marked fired", func() bool { return !a2.reminders()[0].FiredAt.IsZero() })
}
