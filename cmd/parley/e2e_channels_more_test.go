package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/api"
	"github.com/parley-chat/parley/channel/api/apitest"
	"github.com/parley-chat/parley/channel/email/emailtest"
	"github.com/parley-chat/parley/channel/meta/metafake"
	"github.com/parley-chat/parley/channel/sms/smsfake"
	"github.com/parley-chat/parley/livechat"
)

// Each channel's end-to-end test: a customer's message in through the
// service's own way of calling (or being polled), a reply out, a status
// back, and what the channel refuses.

// connectChannel connects a channel of kind to the live chat's project.
func connectChannel(t *testing.T, lc *liveChat, kind string, settings, secrets map[string]string) channelView {
	t.Helper()
	for _, v := range secrets {
		lc.s.logs.secret(v)
	}
	var ch channelView
	lc.admin.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": kind, "name": "Our " + kind,
		"settings": settings, "secrets": secrets}).want(http.StatusCreated).decode(&ch)
	for _, v := range ch.NewSecrets {
		lc.s.logs.secret(v)
	}
	return ch
}

// channelDialog waits for the dialog of the customer with the address in
// a channel of kind.
func channelDialog(t *testing.T, c *client, kind, address string) *livechat.Dialog {
	t.Helper()
	var found *livechat.Dialog
	eventually(t, "the customer's dialog is listed", func() bool {
		var p livechat.DialogPage
		c.do("GET", "/api/v1/dialogs?channel="+kind, nil).want(http.StatusOK).decode(&p)
		for _, d := range p.Dialogs {
			if d.Contact != nil && d.Contact.Address == address {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

// statusOf reads a message's status as the inbox shows it.
func statusOf(c *client, id int64) parley.Message {
	var m parley.Message
	c.do("GET", fmt.Sprintf("/api/v1/messages/%d", id), nil).want(http.StatusOK).decode(&m)
	return m
}

func TestWhatsAppChannel(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		fake := metafake.New("wa-token", "app-secret")
		t.Cleanup(fake.Close)
		s := newServer(t, append(opts, withPublicURL())...)
		lc := newLiveChat(t, s)
		lc.a.connect().waitFor("hello")
		ch := connectChannel(t, lc, "whatsapp", map[string]string{"base_url": fake.URL(), "phone_number_id": metafake.PhoneNumberID},
			map[string]string{"access_token": "wa-token", "app_secret": "app-secret"})

		// Meta's handshake: the challenge back for the verify token only.
		if status, body := fake.Verify(ch.WebhookURL, ch.NewSecrets["verify_token"], "c123"); status != 200 || body != "c123" {
			t.Fatalf("handshake: %d %q", status, body)
		}
		if status, _ := fake.Verify(ch.WebhookURL, "wrong", "c123"); status != http.StatusUnauthorized {
			t.Fatalf("a wrong verify token: %d", status)
		}

		in := fake.WhatsAppMessages(metafake.WAMessage{From: "15550001111", Name: "Wanda", Text: "Is my order ready?"})
		if status := fake.Post(ch.WebhookURL, in); status != http.StatusOK {
			t.Fatalf("webhook: %d", status)
		}
		if status := fake.Post(ch.WebhookURL, in); status != http.StatusOK { // Meta retries
			t.Fatalf("redelivery: %d", status)
		}
		if status := fake.PostForged(ch.WebhookURL, fake.WhatsAppMessages(metafake.WAMessage{From: "15550001111", Text: "forged"})); status != http.StatusUnauthorized {
			t.Fatalf("a forged call: %d", status)
		}
		d := channelDialog(t, lc.a, "whatsapp", "15550001111")
		if got := texts(lc.admin.history(d.Conversation.ID, "")); !sameStrings(got, []string{"Is my order ready?"}) {
			t.Fatalf("history: %q", got)
		}

		// A reply, then Meta's statuses for it.
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
		r := lc.a.send(d.Conversation.ID, "Yes, it ships today")
		eventually(t, "the reply is sent", func() bool { return len(fake.Sent()) == 1 })
		sent := fake.Sent()[0]
		if sent.To != "15550001111" || sent.Text != "Yes, it ships today" {
			t.Fatalf("Meta got %+v", sent)
		}
		eventually(t, "the reply is marked sent", func() bool { return statusOf(lc.a, r.ID).Status == parley.StatusSent })
		fake.Post(ch.WebhookURL, fake.WhatsAppStatuses(metafake.WAStatus{ID: sent.ID, To: "15550001111", Status: "read"}))
		fake.Post(ch.WebhookURL, fake.WhatsAppStatuses(metafake.WAStatus{ID: sent.ID, To: "15550001111", Status: "delivered"}))
		eventually(t, "the reply is read", func() bool { return statusOf(lc.a, r.ID).Status == parley.StatusRead })
		time.Sleep(100 * time.Millisecond)
		if st := statusOf(lc.a, r.ID).Status; st != parley.StatusRead {
			t.Fatalf("a late delivered report moved read back to %q", st)
		}

		// A failure reported later, and an image over WhatsApp's 5 MB.
		r2 := lc.a.send(d.Conversation.ID, "Anything else?")
		eventually(t, "the second reply is sent", func() bool { return statusOf(lc.a, r2.ID).Status == parley.StatusSent })
		if st := fake.Post(ch.WebhookURL, fake.WhatsAppStatuses(metafake.WAStatus{ID: fake.Sent()[1].ID, To: "15550001111", Status: "failed",
			ErrorCode: 131026, ErrorTitle: "Message undeliverable"})); st != http.StatusOK {
			t.Fatalf("the failure's report: %d", st)
		}
		eventually(t, "the reply failed", func() bool {
			m := statusOf(lc.a, r2.ID)
			return m.Status == parley.StatusFailed && strings.Contains(m.StatusError, "131026")
		})
		big := make([]byte, 5<<20+1)
		if detail := lc.a.uploadTo(d.Conversation.ID, "big.jpg", "image/jpeg", big).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE); !strings.Contains(detail.Message, "5 MB") {
			t.Fatalf("the limit is not named: %q", detail.Message)
		}
	})
}

// WhatsApp's 24-hour window refuses a reply before it is stored.
func TestWhatsAppWindow(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	fake := metafake.New("wa-token", "app-secret")
	t.Cleanup(fake.Close)
	s := newServer(t, withPublicURL(), func(c *Config) { c.Now = func() time.Time { return clock() } })
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	ch := connectChannel(t, lc, "whatsapp", map[string]string{"base_url": fake.URL(), "phone_number_id": metafake.PhoneNumberID},
		map[string]string{"access_token": "wa-token", "app_secret": "app-secret"})
	fake.Post(ch.WebhookURL, fake.WhatsAppMessages(metafake.WAMessage{From: "15550002222", Name: "Walt", Text: "hi"}))
	d := channelDialog(t, lc.a, "whatsapp", "15550002222")
	lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	clock = func() time.Time { return now.Add(25 * time.Hour) }
	e := lc.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", d.Conversation.ID), map[string]any{"text": "late"}).
		wantErr(http.StatusConflict, parley.ECONFLICT)
	if !strings.Contains(e.Message, "24 hours") {
		t.Fatalf("the refusal: %q", e.Message)
	}
	if got := texts(lc.a.history(d.Conversation.ID, "")); len(got) != 1 {
		t.Fatalf("a refused reply was stored: %q", got)
	}
}

func TestSMSChannel(t *testing.T) {
	fake := smsfake.New("AC123", "twilio-token")
	t.Cleanup(fake.Close)
	s := newServer(t, withPublicURL())
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	ch := connectChannel(t, lc, "sms", map[string]string{"base_url": fake.URL(), "account_sid": "AC123", "from": fake.Number},
		map[string]string{"auth_token": "twilio-token"})
	params, ans := fake.Deliver(ch.WebhookURL, smsfake.Inbound{From: "+15557770001", Body: "Where is my parcel?"})
	if ans.Status != 200 || !strings.Contains(ans.Body, "<Response") {
		t.Fatalf("inbound: %+v", ans)
	}
	if a := fake.Post(ch.WebhookURL, params, ""); a.Status != 200 { // Twilio retries
		t.Fatalf("redelivery: %+v", a)
	}
	if a := fake.Post(ch.WebhookURL, params, "forged"); a.Status != http.StatusUnauthorized {
		t.Fatalf("a forged call: %+v", a)
	}
	d := channelDialog(t, lc.a, "sms", "+15557770001")
	if got := texts(lc.a.history(d.Conversation.ID, "")); len(got) != 1 {
		t.Fatalf("history: %q", got)
	}
	lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	r := lc.a.send(d.Conversation.ID, "It arrives tomorrow")
	eventually(t, "the SMS is sent", func() bool { return len(fake.Sent()) == 1 })
	sent := fake.Sent()[0]
	if sent.To != "+15557770001" || sent.Body != "It arrives tomorrow" || sent.StatusCallback != ch.WebhookURL {
		t.Fatalf("Twilio got %+v", sent)
	}
	// Twilio may call back before Parley has recorded the message's SID:
	// 503, and Twilio calls again, as the test does. On a machine so
	// loaded that the channel's lease lapsed mid-send, the reply is sent
	// again (docs/channels.md, a duplicate rather than a loss), and the
	// report that counts is the newest send's.
	eventually(t, "the status callback is taken", func() bool {
		all := fake.Sent()
		a := fake.Report("", all[len(all)-1].SID, "delivered", "")
		if a.Status != 200 && a.Status != http.StatusServiceUnavailable {
			t.Fatalf("status callback: %+v", a)
		}
		return a.Status == 200
	})
	eventually(t, "the SMS is delivered", func() bool { return statusOf(lc.a, r.ID).Status == parley.StatusDelivered })
	// A text longer than an SMS takes is refused before it is stored.
	lc.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", d.Conversation.ID),
		map[string]any{"text": strings.Repeat("ж", 1601)}).wantErr(http.StatusConflict, parley.ECONFLICT)
}

func TestAPIChannel(t *testing.T) {
	s := newServer(t, withPublicURL())
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	rcv := apitest.NewReceiver("")
	t.Cleanup(rcv.Close)
	ch := connectChannel(t, lc, "api", map[string]string{"url": rcv.URL()}, nil)
	rcv.Secret = ch.NewSecrets["signing_secret"]
	cl := apitest.NewClient(ch.WebhookURL, ch.NewSecrets["token"])
	msg := api.Message{ID: "crm-1", From: api.Sender{ID: "cust-9", Name: "Carl", Email: "carl@example.com"}, Text: "Invoice question"}
	if a := cl.Message(msg); a.Status != 200 {
		t.Fatalf("inbound: %+v", a)
	}
	if a := cl.Message(msg); a.Status != 200 {
		t.Fatalf("again: %+v", a)
	}
	if a := apitest.NewClient(ch.WebhookURL, "wrong").Message(msg); a.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %+v", a)
	}
	if a := cl.Post([]byte(`{"type":"message","message":{"from":{"id":"x"}}}`)); a.Status != http.StatusBadRequest {
		t.Fatalf("a message without an id: %+v", a)
	}
	d := channelDialog(t, lc.a, "api", "cust-9")
	if got := texts(lc.a.history(d.Conversation.ID, "")); !sameStrings(got, []string{"Invoice question"}) || d.Contact.Email != "carl@example.com" {
		t.Fatalf("history %q, contact %+v", got, d.Contact)
	}
	lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	r := lc.a.send(d.Conversation.ID, "Which invoice?")
	eventually(t, "the reply reaches the system", func() bool { return len(rcv.Replies()) == 1 })
	got := rcv.Replies()[0]
	if got.Reply.Message.Text != "Which invoice?" || got.Reply.Message.To.ID != "cust-9" || rcv.Forged() != 0 {
		t.Fatalf("the system got %+v", got.Reply)
	}
	// The system may report on the reply before Parley has recorded its
	// id: 503, and the system sends the report again, as a service would.
	eventually(t, "the status report is taken", func() bool {
		a := cl.Status(api.Status{ID: got.ID, Status: "read"})
		if a.Status != 200 && a.Status != http.StatusServiceUnavailable {
			t.Fatalf("status: %+v", a)
		}
		return a.Status == 200
	})
	eventually(t, "the reply is read", func() bool { return statusOf(lc.a, r.ID).Status == parley.StatusRead })
}

// E-mail polled from IMAP, answered through SMTP, threaded.
func TestEmailChannel(t *testing.T) {
	imapSrv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	smtpSrv := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	s := newServer(t)
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	connectChannel(t, lc, "email", map[string]string{"address": "support@example.com", "display_name": "Shop support",
		"mode": "imap", "imap_server": imapSrv.URL(), "imap_username": imapSrv.Username(),
		"smtp_server": smtpSrv.URL(), "smtp_username": "support@example.com"},
		map[string]string{"imap_password": imapSrv.Password(), "smtp_password": "secret"})
	imapSrv.Append(t, emailtest.Message{From: "Eve Doe <eve@example.net>", To: "support@example.com", Subject: "Broken lamp",
		MessageID: "m1@example.net", Text: "My lamp arrived broken."}.Bytes())
	d := channelDialog(t, lc.a, "email", "eve@example.net")
	if got := texts(lc.a.history(d.Conversation.ID, "")); !sameStrings(got, []string{"My lamp arrived broken."}) {
		t.Fatalf("history: %q", got)
	}
	eventually(t, "the message is marked seen", func() bool { return len(imapSrv.Unseen(t)) == 0 })
	lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	r := lc.a.send(d.Conversation.ID, "Sorry! A new one is on its way.")
	smtpSrv.WaitSent(t, 1)
	h, err := smtpSrv.Sent()[0].Header()
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("In-Reply-To") != "<m1@example.net>" || !strings.Contains(h.Get("Subject"), "Broken lamp") {
		t.Fatalf("the reply's headers: In-Reply-To %q, Subject %q", h.Get("In-Reply-To"), h.Get("Subject"))
	}
	eventually(t, "the reply is marked sent", func() bool { return statusOf(lc.a, r.ID).Status == parley.StatusSent })
}

// E-mail delivered to Parley's own SMTP listener (the domain's MX): the
// message is accepted only once stored, and an unknown recipient refused.
func TestEmailBySMTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	smtpSrv := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	s := newServer(t, func(c *Config) { c.SMTPAddr = addr })
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	connectChannel(t, lc, "email", map[string]string{"address": "help@shop.test", "mode": "smtp",
		"smtp_server": smtpSrv.URL(), "smtp_username": "support@example.com"}, map[string]string{"smtp_password": "secret"})
	raw := emailtest.Message{From: "Fay <fay@example.org>", To: "help@shop.test", Subject: "Refund", MessageID: "r1@example.org",
		Text: "I would like a refund."}.Bytes()
	if err := emailtest.Deliver(addr, "fay@example.org", []string{"help+order77@shop.test"}, raw); err != nil {
		t.Fatalf("delivering: %v", err)
	}
	if err := emailtest.Deliver(addr, "fay@example.org", []string{"nobody@shop.test"}, raw); err == nil {
		t.Fatal("mail for an unknown address was accepted")
	}
	d := channelDialog(t, lc.a, "email", "fay@example.org")
	if got := texts(lc.a.history(d.Conversation.ID, "")); !sameStrings(got, []string{"I would like a refund."}) || d.Conversation.Title != "Refund" {
		t.Fatalf("history %q, title %q", got, d.Conversation.Title)
	}
}
