package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/sms/smsfake"
	"github.com/parley-chat/parley/staffsms"
)

// TestStaffSMS sends texts to a colleague's phone through the SMS channel
// picked as the staff sender, against the fake Twilio: phone numbers and
// who may change them, each refusal of sending, the status callback
// (live to the sender), the provider's refusal and the hourly limit.
func TestStaffSMS(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) { testStaffSMS(t, opts...) })
}

func testStaffSMS(t *testing.T, opts ...serverOption) {
	fake := smsfake.New("AC77", "staff-token")
	t.Cleanup(fake.Close)
	s := newServer(t, append(opts, withPublicURL())...)
	lc := newLiveChat(t, s)
	ch := connectChannel(t, lc, "sms", map[string]string{"base_url": fake.URL(), "account_sid": "AC77", "from": fake.Number},
		map[string]string{"auth_token": "staff-token"})
	mem := s.newUser(t, parley.RoleMember, "Mona Member")
	other := s.newUser(t, parley.RoleMember, "Oleg Other")
	smsPath := func(u *client) string { return fmt.Sprintf("/api/v1/users/%d/sms", u.id()) }
	phonePath := func(u *client) string { return fmt.Sprintf("/api/v1/users/%d/phone", u.id()) }

	// Phone numbers: E.164, set by the user or an administrator.
	mem.do("PUT", phonePath(mem), map[string]any{"phone": "020 7946 0958"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	other.do("PUT", phonePath(mem), map[string]any{"phone": "+15550001111"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	lc.a.do("PUT", phonePath(mem), map[string]any{"phone": "+15550001111"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	var ph staffsms.PhoneInput
	mem.do("PUT", phonePath(mem), map[string]any{"phone": "+44 (20) 7946-0958"}).want(http.StatusOK).decode(&ph)
	if ph.Phone != "+442079460958" {
		t.Fatalf("normalised phone %q", ph.Phone)
	}
	lc.admin.do("PUT", phonePath(other), map[string]any{"phone": "+15550002222"}).want(http.StatusOK)
	var info staffsms.Info
	lc.b.do("GET", smsPath(mem), nil).want(http.StatusOK).decode(&info)
	if info.Phone != "+442079460958" || info.CanEdit || info.CanSend || !strings.HasPrefix(info.Why, "SMS is not set up") {
		t.Fatalf("before set-up: %+v", info)
	}

	// Not set up yet: refused, and nothing is sent.
	lc.a.do("POST", smsPath(mem), map[string]any{"text": "hi"}).wantErr(http.StatusConflict, parley.ECONFLICT)
	// Settings: the chat settings right, an SMS channel.
	mem.do("PUT", "/api/v1/sms/settings", map[string]any{"channel_id": ch.ID}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	lc.a.do("GET", "/api/v1/sms/settings", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	lc.admin.do("PUT", "/api/v1/sms/settings", map[string]any{"channel_id": ch.ID + 1000}).wantErr(http.StatusBadRequest, parley.EINVALID)
	var st staffsms.Settings
	lc.admin.do("PUT", "/api/v1/sms/settings", map[string]any{"channel_id": ch.ID, "per_hour": 2}).want(http.StatusOK).decode(&st)
	if st.ChannelID != ch.ID || st.PerHour != 2 || len(st.Roles) != 3 {
		t.Fatalf("settings %+v", st)
	}

	// Refusals: a member's role, a recipient without a number, bad text.
	mem.do("POST", smsPath(other), map[string]any{"text": "hi"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	e := lc.a.do("POST", smsPath(lc.b), map[string]any{"text": "hi"}).wantErr(http.StatusBadRequest, parley.EINVALID)
	if !strings.Contains(e.Message, "no phone number") {
		t.Fatalf("no number: %+v", e)
	}
	lc.a.do("POST", smsPath(mem), map[string]any{"text": "  "}).wantErr(http.StatusBadRequest, parley.EINVALID)
	lc.a.do("POST", smsPath(mem), map[string]any{"text": strings.Repeat("ж", 1601)}).wantErr(http.StatusBadRequest, parley.EINVALID)
	if n := len(fake.Sent()); n != 0 {
		t.Fatalf("refused texts reached Twilio: %d", n)
	}

	// A text: queued with Twilio's SID, then the callback's statuses, live.
	ws := lc.a.connect()
	ws.waitFor("hello")
	var m parley.StaffSMS
	lc.a.do("POST", smsPath(mem), map[string]any{"text": "The server room is flooding, come now"}).want(http.StatusCreated).decode(&m)
	if m.Status != parley.SMSQueued || m.ExternalID == "" || m.To != "+442079460958" || m.Segments != 1 || m.SenderID != lc.a.id() {
		t.Fatalf("sent %+v", m)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].To != "+442079460958" || sent[0].From != fake.Number || sent[0].Body != m.Text ||
		sent[0].StatusCallback != fmt.Sprintf("%s/api/v1/sms/status/%d", s.m.Config.PublicURL, ch.ID) {
		t.Fatalf("Twilio got %+v", sent)
	}
	waitData(t, ws, staffsms.EventUpdated, func(v *parley.StaffSMS) bool { return v.ID == m.ID && v.ExternalID != "" })
	if a := fake.Report("", m.ExternalID, "sent", ""); a.Status != 200 || !strings.Contains(a.Body, "<Response") {
		t.Fatalf("status callback: %+v", a)
	}
	waitData(t, ws, staffsms.EventUpdated, func(v *parley.StaffSMS) bool { return v.ID == m.ID && v.Status == parley.SMSSent })
	fake.Report("", m.ExternalID, "delivered", "")
	waitData(t, ws, staffsms.EventUpdated, func(v *parley.StaffSMS) bool { return v.ID == m.ID && v.Status == parley.SMSDelivered })
	// A late report never moves it back; a forged one is refused.
	fake.Report("", m.ExternalID, "sent", "")
	p := url.Values{"MessageSid": {m.ExternalID}, "MessageStatus": {"failed"}, "ErrorCode": {"30003"}}
	if a := fake.Post(sent[0].StatusCallback, p, "forged"); a.Status != http.StatusUnauthorized {
		t.Fatalf("forged callback: %+v", a)
	}
	lc.a.do("GET", smsPath(mem), nil).want(http.StatusOK).decode(&info)
	if !info.CanSend || len(info.Messages) != 1 || info.Messages[0].Status != parley.SMSDelivered {
		t.Fatalf("history after delivery: %+v", info)
	}

	// Twilio refuses: stored as failed with the reason.
	fake.Refuse(1, 400, 21614, "'To' number is not a valid mobile number")
	lc.a.do("POST", smsPath(mem), map[string]any{"text": "Second try"}).want(http.StatusCreated).decode(&m)
	if m.Status != parley.SMSFailed || !strings.Contains(m.Error, "not a mobile number") {
		t.Fatalf("refused by Twilio: %+v", m)
	}
	// The hourly limit (2) is reached.
	lc.a.do("POST", smsPath(mem), map[string]any{"text": "Third"}).wantErr(http.StatusTooManyRequests, parley.ERATELIMITED)
	// A delivery failure reported later, for another sender's text.
	lc.b.do("POST", smsPath(other), map[string]any{"text": "Hello Oleg"}).want(http.StatusCreated).decode(&m)
	fake.Report("", m.ExternalID, "undelivered", "30003")
	eventually(t, "the failure is recorded", func() bool {
		lc.b.do("GET", smsPath(other), nil).want(http.StatusOK).decode(&info)
		return len(info.Messages) == 1 && info.Messages[0].Status == parley.SMSFailed && strings.Contains(info.Messages[0].Error, "unreachable")
	})

	// Who sees which texts: the sender theirs, the recipient all.
	lc.b.do("GET", smsPath(mem), nil).want(http.StatusOK).decode(&info)
	if len(info.Messages) != 0 {
		t.Fatalf("another agent sees %d texts", len(info.Messages))
	}
	mem.do("GET", smsPath(mem), nil).want(http.StatusOK).decode(&info)
	if len(info.Messages) != 2 || !info.CanEdit {
		t.Fatalf("the recipient's view: %+v", info)
	}
}
