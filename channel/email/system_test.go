package email_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/email"
	"github.com/parley-chat/parley/channel/email/emailtest"
)

func TestMailer(t *testing.T) {
	srv := emailtest.NewSMTP(t, emailtest.SMTPOptions{Username: "parley", Password: "p@ss"})
	u, _ := url.Parse(srv.URL())
	u.User = url.UserPassword("parley", "p@ss")
	m, err := email.NewMailer(u.String(), "Parley <noreply@chat.example.com>")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Send(ctx, parley.Mail{To: "ann@example.com", Subject: "You are invited\r\nBcc: x@y", Text: "Hello,\nclick here"}); err != nil {
		t.Fatal(err)
	}
	sent := srv.WaitSent(t, 1)
	if sent[0].From != "noreply@chat.example.com" || sent[0].To[0] != "ann@example.com" || sent[0].Username != "parley" {
		t.Fatalf("envelope %+v", sent[0])
	}
	r, err := mail.CreateReader(strings.NewReader(string(sent[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := r.Header.Subject()
	if strings.ContainsAny(subj, "\r\n") || r.Header.Get("Bcc") != "" || r.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("header: subject %q, bcc %q", subj, r.Header.Get("Bcc"))
	}

	// A refusal is the input's fault; nothing reachable is the server's.
	srv.Fail(emailtest.Failure{Stage: "RCPT", Code: 550, Message: "no such user"})
	err = m.Send(ctx, parley.Mail{To: "gone@example.com", Subject: "x", Text: "y"})
	if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(err.Error(), "no such user") {
		t.Fatalf("refused: %v", err)
	}
	if err := m.Send(ctx, parley.Mail{To: "not an address", Text: "y"}); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("bad address: %v", err)
	}
	srv.Close()
	if err := m.Send(ctx, parley.Mail{To: "ann@example.com", Text: "y"}); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("server down: %v", err)
	}
}

func TestNewMailerRefuses(t *testing.T) {
	for _, c := range []struct{ url, from string }{
		{"http://example.com", "a@b.c"}, {"", "a@b.c"}, {"smtp://127.0.0.1:25", "nobody"},
	} {
		if _, err := email.NewMailer(c.url, c.from); err == nil {
			t.Errorf("NewMailer(%q, %q) accepted", c.url, c.from)
		}
	}
}
