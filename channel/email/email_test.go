package email_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/email"
	"github.com/parley-chat/parley/channel/email/emailtest"
)

const support = "support@example.com"

// newChannel is an e-mail channel reading srv's mailbox and sending
// through sub.
func newChannel(srv *emailtest.IMAP, sub *emailtest.SMTP) *parley.Channel {
	ch := &parley.Channel{ID: 7, Kind: parley.ChannelEmail,
		Settings: map[string]string{"address": "Support@Example.com", "display_name": "Acme Support", "mode": "imap",
			"smtp_server": sub.URL()},
		Secrets: map[string]string{"imap_password": "secret"}}
	if srv != nil {
		ch.Settings["imap_server"] = srv.URL()
	} else {
		ch.Settings["mode"] = "smtp"
	}
	return ch
}

func newAdapter() *email.Adapter {
	a := email.New()
	a.TLSConfig = emailtest.ClientTLS()
	return a
}

// poller runs Poll in the background and collects what it delivers.
type poller struct {
	batches chan *channel.Inbound
	done    chan error
	cancel  context.CancelFunc
	once    sync.Once

	mu   sync.Mutex
	fail error
}

func startPoll(t *testing.T, a *email.Adapter, ch *parley.Channel) *poller {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &poller{batches: make(chan *channel.Inbound, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		p.done <- a.Poll(ctx, ch, func(ctx context.Context, in *channel.Inbound) error {
			p.mu.Lock()
			err := p.fail
			p.mu.Unlock()
			if err != nil {
				return err
			}
			p.batches <- in
			return nil
		})
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *poller) failWith(err error) {
	p.mu.Lock()
	p.fail = err
	p.mu.Unlock()
}

// next waits for a delivered batch.
func (p *poller) next(t *testing.T) *channel.Inbound {
	t.Helper()
	select {
	case in := <-p.batches:
		return in
	case err := <-p.done:
		t.Fatalf("Poll returned %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no batch delivered")
	}
	return nil
}

// collect gathers batches until n messages and statuses came.
func (p *poller) collect(t *testing.T, n int) *channel.Inbound {
	t.Helper()
	all := &channel.Inbound{}
	for len(all.Messages)+len(all.Statuses) < n {
		in := p.next(t)
		all.Messages = append(all.Messages, in.Messages...)
		all.Statuses = append(all.Statuses, in.Statuses...)
	}
	return all
}

// stop ends Poll and checks that it returned nil.
func (p *poller) stop(t *testing.T) {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("Poll after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Poll did not return after cancel")
		}
	})
}

func read(t *testing.T, f channel.InFile) []byte {
	t.Helper()
	rc, err := f.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpec(t *testing.T) {
	a := email.New()
	spec := a.Spec()
	if spec.Kind != parley.ChannelEmail || a.Kind() != parley.ChannelEmail || spec.Webhook {
		t.Fatalf("spec %+v", spec)
	}
	required := map[string]bool{}
	for _, f := range spec.Settings {
		if strings.HasSuffix(f.Name, "_url") {
			t.Errorf("setting %s: the service takes *_url settings for http(s) URLs", f.Name)
		}
		required[f.Name] = f.Required
	}
	if !required["address"] || !required["smtp_server"] || required["imap_server"] {
		t.Errorf("required settings: %v", required)
	}
	if _, ok := any(a).(channel.Windowed); ok {
		t.Error("e-mail has no reply window")
	}
	if spec.Limits != parley.DefaultAttachmentLimits[parley.ChannelEmail] {
		t.Errorf("limits %+v", spec.Limits)
	}
	if _, err := a.Webhook(context.Background(), &parley.Channel{}, &channel.Request{}); err == nil {
		t.Error("a webhook call to an e-mail channel was taken")
	}
}

func TestTestConnection(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "hi", MessageID: "1@example.org", Text: "hi"}.Bytes())
	a := newAdapter()
	ch := newChannel(srv, sub)
	got, err := a.Test(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IMAP 127.0.0.1", "INBOX holds 1 message, 1 not yet fetched", "SMTP 127.0.0.1", "logged in as support@example.com"} {
		if !strings.Contains(got, want) {
			t.Errorf("Test said %q, want it to say %q", got, want)
		}
	}
	if sub.Logins() != 1 {
		t.Errorf("%d SMTP logins", sub.Logins())
	}

	t.Run("smtp mode skips IMAP", func(t *testing.T) {
		got, err := a.Test(context.Background(), newChannel(nil, sub))
		if err != nil || strings.Contains(got, "IMAP") || !strings.Contains(got, "SMTP") {
			t.Errorf("Test = %q, %v", got, err)
		}
	})
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"wrong IMAP password", "imap_password", "wrong", "IMAP server 127.0.0.1"},
		{"wrong SMTP password", "smtp_password", "wrong", "SMTP server 127.0.0.1"},
		{"no such folder", "imap_mailbox", "Support", `IMAP folder "Support"`},
		{"not an address", "address", "support", "not an e-mail address"},
		{"not an IMAP URL", "imap_server", "https://imap.example.com", "imap_server must look like"},
		{"no SMTP server", "smtp_server", "", "smtp_server is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newChannel(srv, sub)
			if strings.HasSuffix(tc.field, "password") {
				ch.Secrets[tc.field] = tc.value
			} else {
				ch.Settings[tc.field] = tc.value
			}
			_, err := a.Test(context.Background(), ch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Test: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	for _, mode := range []emailtest.TLSMode{emailtest.StartTLS, emailtest.ImplicitTLS} {
		srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{TLS: mode})
		sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{TLS: mode})
		ch := newChannel(srv, sub)
		got, err := newAdapter().Test(context.Background(), ch)
		if err != nil {
			t.Fatalf("TLS mode %d: %v", mode, err)
		}
		want := map[emailtest.TLSMode]string{emailtest.StartTLS: "(STARTTLS)", emailtest.ImplicitTLS: "(TLS)"}[mode]
		if strings.Count(got, want) != 2 {
			t.Errorf("Test = %q, want both servers %s", got, want)
		}
		// A certificate the system does not trust is refused, unless
		// the channel accepts any.
		_, err = email.New().Test(context.Background(), ch)
		var ce *channel.Error
		if !errors.As(err, &ce) || ce.Temporary || !strings.Contains(ce.Message, "tls_insecure") {
			t.Errorf("untrusted certificate: %v", err)
		}
		// Sending then waits for the channel to be fixed.
		_, err = email.New().Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: "ann@example.org"}, Text: "x"})
		if !errors.As(err, &ce) || !ce.Temporary {
			t.Errorf("Send with an untrusted certificate: %v, want a temporary error", err)
		}
		ch.Settings["tls_insecure"] = "true"
		if _, err := email.New().Test(context.Background(), ch); err != nil {
			t.Errorf("tls_insecure: %v", err)
		}
	}
}

func TestPoll(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	pdf := bytes.Repeat([]byte("%PDF-1.4 "), 1000)
	png := []byte("\x89PNG\r\n\x1a\nimage")
	uids := []imap.UID{
		srv.Append(t, emailtest.Message{From: `"Ann Lee" <Ann.Lee@Example.org>`, To: support, Subject: "Where is my order?",
			MessageID: "m1@example.org", Text: "Hello,\nmy order 1234 has not arrived.\n\nAnn"}.Bytes()),
		srv.Append(t, emailtest.Message{From: "bob@example.net", To: support, Subject: "Invoice", MessageID: "m2@example.net",
			Text: "The invoice is attached.", Files: []emailtest.File{{Name: "invoice.pdf", ContentType: "application/pdf", Data: pdf},
				{ContentType: "image/png", Data: png, Inline: true}}}.Bytes()),
		srv.Append(t, emailtest.Message{From: "Ann Lee <ann.lee@example.org>", To: support, Subject: "Re: Where is my order?",
			MessageID: "m3@example.org", InReplyTo: "parley.abc@example.com", References: []string{"m1@example.org", "parley.abc@example.com"},
			Text: "Thanks, it came today.\n\nOn Mon, 3 Jun 2024 at 10:00, Acme Support <support@example.com> wrote:\n> It left on Friday.\n> Acme"}.Bytes()),
		srv.Append(t, emailtest.Message{From: "carol@example.com", To: support, Subject: "HTML only", MessageID: "m4@example.com",
			HTML: `<html><head><style>p{color:red}</style></head><body><p>Hi &amp; hello,</p><p>see <a href="https://example.com/x">this</a><br>` +
				`Carol</p><script>alert(1)</script><blockquote><p>old text</p></blockquote></body></html>`}.Bytes()),
		srv.Append(t, emailtest.Bounce{To: support, Recipient: "gone@example.org", OriginalID: "parley.sent1@example.com"}.Bytes()),
		srv.Append(t, emailtest.Message{From: "dave@example.com", To: support, Subject: "Out of office", MessageID: "m6@example.com",
			Text: "I am away.", Header: map[string]string{"Auto-Submitted": "auto-replied"}}.Bytes()),
		srv.Append(t, emailtest.Message{From: support, To: "ann.lee@example.org", Subject: "Re: Where is my order?",
			MessageID: "parley.own@example.com", Text: "a copy of a reply"}.Bytes()),
	}
	a := newAdapter()
	p := startPoll(t, a, newChannel(srv, sub))
	in := p.collect(t, 5)
	if len(in.Messages) != 4 || len(in.Statuses) != 1 {
		t.Fatalf("got %d messages and %d statuses, want 4 and 1: %+v", len(in.Messages), len(in.Statuses), in)
	}
	m := in.Messages[0]
	if m.ExternalID != "m1@example.org" || m.From != "ann.lee@example.org" || m.Email != "ann.lee@example.org" || m.Name != "Ann Lee" ||
		m.Subject != "Where is my order?" || m.Text != "Hello,\nmy order 1234 has not arrived.\n\nAnn" || m.ReplyTo != "" || len(m.Files) != 0 {
		t.Errorf("text message: %+v", m)
	}
	m = in.Messages[1]
	if m.Text != "The invoice is attached." || len(m.Files) != 2 {
		t.Fatalf("message with files: %+v", m)
	}
	if f := m.Files[0]; f.Name != "invoice.pdf" || f.ContentType != "application/pdf" || f.Size != int64(len(pdf)) || !bytes.Equal(read(t, f), pdf) {
		t.Errorf("attachment: %+v", f)
	}
	if f := m.Files[1]; f.ContentType != "image/png" || !strings.HasSuffix(f.Name, ".png") || !bytes.Equal(read(t, f), png) {
		t.Errorf("inline image: %+v", f)
	}
	m = in.Messages[2]
	if m.ReplyTo != "parley.abc@example.com" || m.Text != "Thanks, it came today." {
		t.Errorf("reply: ReplyTo %q, Text %q", m.ReplyTo, m.Text)
	}
	m = in.Messages[3]
	if want := "Hi & hello,\n\nsee this <https://example.com/x>\nCarol"; m.Text != want {
		t.Errorf("HTML message's text:\n%q\nwant\n%q", m.Text, want)
	}
	st := in.Statuses[0]
	if st.ExternalID != "parley.sent1@example.com" || st.Status != parley.StatusFailed ||
		!strings.Contains(st.Error, "gone@example.org") || !strings.Contains(st.Error, "550 5.1.1") {
		t.Errorf("bounce: %+v", st)
	}
	// Everything was confirmed, the skipped mail too.
	waitFor(t, func() bool { return len(srv.Unseen(t)) == 0 })
	for _, u := range uids {
		if !slices.Contains(srv.Flags(t, u), imap.FlagSeen) {
			t.Errorf("message %d is not \\Seen", u)
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("timed out")
}

func TestPollDeliverFails(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "one", MessageID: "one@example.org", Text: "1"}.Bytes())
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "two", Text: "no Message-ID"}.Bytes())
	a := newAdapter()
	ch := newChannel(srv, sub)

	// The store fails: Poll returns its error and confirms nothing.
	failed := errors.New("the database is down")
	var calls int
	err := a.Poll(context.Background(), ch, func(context.Context, *channel.Inbound) error {
		calls++
		return failed
	})
	if !errors.Is(err, failed) || calls != 1 {
		t.Fatalf("Poll = %v after %d deliveries, want the delivery's error after 1", err, calls)
	}
	if got := srv.Unseen(t); len(got) != 2 {
		t.Fatalf("unseen %v, want both messages", got)
	}

	// The next Poll delivers the same messages, with the same ids.
	ids := func(in *channel.Inbound) []string {
		var out []string
		for _, m := range in.Messages {
			out = append(out, m.ExternalID)
		}
		return out
	}
	p := startPoll(t, a, ch)
	first := ids(p.collect(t, 2))
	if first[0] != "one@example.org" || !strings.HasSuffix(first[1], "@parley.invalid") {
		t.Errorf("ids %v", first)
	}
	waitFor(t, func() bool { return len(srv.Unseen(t)) == 0 }) // confirmed once delivered
	p.stop(t)

	// The same messages again (delivered twice by the mail system, or
	// flagged unseen by hand): the same ids, so the inbox stores them once.
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "one", MessageID: "one@example.org", Text: "1"}.Bytes())
	p = startPoll(t, a, ch)
	if again := ids(p.collect(t, 1)); again[0] != first[0] {
		t.Errorf("redelivered id %q, first %q", again[0], first[0])
	}
}

func TestPollIdle(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	a := newAdapter()
	a.PollInterval = time.Hour // only IDLE can bring the news in time
	p := startPoll(t, a, newChannel(srv, sub))
	time.Sleep(200 * time.Millisecond) // Poll is idling on an empty mailbox
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "new", MessageID: "new@example.org", Text: "new mail"}.Bytes())
	start := time.Now()
	if in := p.next(t); len(in.Messages) != 1 || in.Messages[0].ExternalID != "new@example.org" {
		t.Fatalf("got %+v", in)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the IDLE wake-up took %s", d)
	}

	t.Run("restarts", func(t *testing.T) {
		srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{}) // the poller above still reads the other
		a := newAdapter()
		a.IdleRestart = 50 * time.Millisecond
		p := startPoll(t, a, newChannel(srv, sub))
		time.Sleep(300 * time.Millisecond) // several IDLEs renewed
		srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "later", MessageID: "later@example.org", Text: "later"}.Bytes())
		if in := p.next(t); len(in.Messages) != 1 || in.Messages[0].ExternalID != "later@example.org" {
			t.Fatalf("got %+v", in)
		}
	})
}

func TestPollWithoutIdle(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{NoIdle: true})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	a := newAdapter()
	a.PollInterval = 100 * time.Millisecond
	a.IdleRestart = time.Hour
	p := startPoll(t, a, newChannel(srv, sub))
	time.Sleep(300 * time.Millisecond) // a few polls of an empty mailbox
	srv.Append(t, emailtest.Message{From: "ann@example.org", To: support, Subject: "polled", MessageID: "polled@example.org", Text: "x"}.Bytes())
	if in := p.next(t); len(in.Messages) != 1 || in.Messages[0].ExternalID != "polled@example.org" {
		t.Fatalf("got %+v", in)
	}
}

func TestPollServerGone(t *testing.T) {
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	ch := newChannel(srv, sub)
	done := make(chan error, 1)
	go func() {
		done <- newAdapter().Poll(context.Background(), ch, func(context.Context, *channel.Inbound) error { return nil })
	}()
	time.Sleep(200 * time.Millisecond)
	srv.Close()
	select {
	case err := <-done:
		var ce *channel.Error
		if !errors.As(err, &ce) || !ce.Temporary {
			t.Errorf("Poll = %v, want a temporary error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Poll did not return when the server went away")
	}
	if err := newAdapter().Poll(context.Background(), ch, nil); err == nil {
		t.Error("Poll of a server that is gone returned nil")
	}
}

func TestSend(t *testing.T) {
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	a := newAdapter()
	now := time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }
	ch := newChannel(nil, sub)
	var thread []string // newest first
	for i := 30; i >= 1; i-- {
		thread = append(thread, fmt.Sprintf("id%d@example.org", i))
	}
	out := &channel.Outbound{Contact: &parley.Contact{Address: "ann.lee@example.org", Name: "Ann Lee"},
		Text: "Hello Ann,\nyour order left on Friday: ünïcödé.\n" + strings.Repeat("a long line ", 20), Subject: "Where is my order?", Thread: thread,
		Files: []channel.OutFile{{Name: "label.pdf", ContentType: "application/pdf", Size: 5,
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("%PDF!")), nil }}}}
	id, err := a.Send(context.Background(), ch, out)
	if err != nil {
		t.Fatal(err)
	}
	sent := sub.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d messages sent", len(sent))
	}
	m := sent[0]
	if m.From != support || !slices.Equal(m.To, []string{"ann.lee@example.org"}) || m.Username != support {
		t.Errorf("envelope %q → %v as %q", m.From, m.To, m.Username)
	}
	if !strings.HasPrefix(id, "parley.") || !strings.HasSuffix(id, "@example.com") {
		t.Errorf("Message-ID %q", id)
	}
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if got, _ := h.MessageID(); got != id {
		t.Errorf("Message-ID header %q, Send returned %q", got, id)
	}
	from, _ := h.AddressList("From")
	to, _ := h.AddressList("To")
	subj, _ := h.Subject()
	date, _ := h.Date()
	if len(from) != 1 || from[0].Name != "Acme Support" || from[0].Address != support || len(to) != 1 || to[0].Name != "Ann Lee" ||
		subj != "Re: Where is my order?" || !date.Equal(now) {
		t.Errorf("header: From %v, To %v, Subject %q, Date %v", from, to, subj, date)
	}
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	if !slices.Equal(irt, []string{"id30@example.org"}) || len(refs) != 20 || refs[0] != "id1@example.org" ||
		refs[1] != "id12@example.org" || refs[19] != "id30@example.org" {
		t.Errorf("In-Reply-To %v, References %v", irt, refs)
	}
	if p.Text != strings.ReplaceAll(out.Text, "\n", "\r\n") {
		t.Errorf("text %q", p.Text)
	}
	if !strings.Contains(string(m.Data), "Content-Transfer-Encoding: quoted-printable") || !strings.Contains(string(m.Data), "charset=utf-8") {
		t.Errorf("the text part is not UTF-8 quoted-printable:\n%s", m.Data)
	}
	if len(p.Files) != 1 || p.Files[0].Name != "label.pdf" || p.Files[0].ContentType != "application/pdf" || string(p.Files[0].Data) != "%PDF!" {
		t.Errorf("files %+v", p.Files)
	}

	t.Run("no second Re and no files", func(t *testing.T) {
		out := &channel.Outbound{Contact: &parley.Contact{Address: "bob@example.net", Name: "bob@example.net"}, Text: "Done.", Subject: "RE: Invoice"}
		id2, err := a.Send(context.Background(), ch, out)
		if err != nil {
			t.Fatal(err)
		}
		if id2 == id {
			t.Error("two replies with one Message-ID")
		}
		p, err := sub.Sent()[1].Parse()
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := p.Header.Subject()
		ct, _, _ := p.Header.ContentType()
		if subj != "RE: Invoice" || ct != "text/plain" || p.Header.Has("In-Reply-To") || strings.TrimSpace(p.Text) != "Done." {
			t.Errorf("Subject %q, Content-Type %q, text %q", subj, ct, p.Text)
		}
		if to := p.Header.Get("To"); strings.Contains(to, `"`) {
			t.Errorf("To %q repeats the address as a name", to)
		}
	})
}

func TestSendErrors(t *testing.T) {
	out := func() *channel.Outbound {
		return &channel.Outbound{Contact: &parley.Contact{Address: "ann@example.org"}, Text: "hi", Subject: "x"}
	}
	for _, tc := range []struct {
		name      string
		fail      emailtest.Failure
		temporary bool
		code      string
		words     string
	}{
		{"550 unknown user", emailtest.Failure{Stage: "RCPT", Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "User unknown"},
			false, "550", "5.1.1 User unknown"},
		{"554 rejected content", emailtest.Failure{Stage: "DATA", Code: 554, Enhanced: [3]int{5, 7, 1}, Message: "Message rejected as spam"},
			false, "554", "rejected as spam"},
		{"451 try later", emailtest.Failure{Stage: "DATA", Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "Local error"},
			true, "451", "Local error"},
		{"421 greylisted", emailtest.Failure{Stage: "MAIL", Code: 450, Message: "Greylisted, try again"},
			true, "450", "Greylisted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
			sub.Fail(tc.fail)
			a := newAdapter()
			_, err := a.Send(context.Background(), newChannel(nil, sub), out())
			var ce *channel.Error
			if !errors.As(err, &ce) || ce.Temporary != tc.temporary || ce.Code != tc.code || !strings.Contains(ce.Message, tc.words) {
				t.Fatalf("Send = %#v, want temporary=%v code %s saying %q", err, tc.temporary, tc.code, tc.words)
			}
			// The failure was once: the retry goes out.
			if _, err := a.Send(context.Background(), newChannel(nil, sub), out()); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}

	t.Run("too large for the server", func(t *testing.T) {
		sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{MaxSize: 10 << 10})
		o := out()
		o.Files = []channel.OutFile{{Name: "big.bin", ContentType: "application/octet-stream", Size: 20 << 10,
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(make([]byte, 20<<10))), nil
			}}}
		_, err := newAdapter().Send(context.Background(), newChannel(nil, sub), o)
		var ce *channel.Error
		if !errors.As(err, &ce) || ce.Temporary || !strings.Contains(ce.Message, "at most") || len(sub.Sent()) != 0 {
			t.Errorf("Send = %v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
		ch := newChannel(nil, sub)
		sub.Close()
		_, err := newAdapter().Send(context.Background(), ch, out())
		var ce *channel.Error
		if !errors.As(err, &ce) || !ce.Temporary {
			t.Errorf("Send = %v, want a temporary error", err)
		}
	})
	t.Run("wrong password is retried", func(t *testing.T) {
		sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
		ch := newChannel(nil, sub)
		ch.Secrets["smtp_password"] = "wrong"
		_, err := newAdapter().Send(context.Background(), ch, out())
		var ce *channel.Error
		if !errors.As(err, &ce) || !ce.Temporary || !strings.Contains(ce.Message, "refused the login") {
			t.Errorf("Send = %v", err)
		}
	})
	t.Run("not an address", func(t *testing.T) {
		sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
		o := out()
		o.Contact.Address = "12345"
		_, err := newAdapter().Send(context.Background(), newChannel(nil, sub), o)
		var ce *channel.Error
		if !errors.As(err, &ce) || ce.Temporary {
			t.Errorf("Send = %v", err)
		}
	})
}

// inbound is the server's side of an SMTP listener test: what it routed.
type inbound struct {
	mu   sync.Mutex
	got  map[string][]*channel.Inbound
	fail int // deliveries to fail
}

func (ib *inbound) backend() *email.Backend {
	return &email.Backend{
		Logger: slog.New(slog.DiscardHandler),
		Accept: func(_ context.Context, rcpt string) bool { return email.BaseAddress(rcpt) == support },
		Deliver: func(_ context.Context, rcpt string, in *channel.Inbound) error {
			ib.mu.Lock()
			defer ib.mu.Unlock()
			if ib.fail > 0 {
				ib.fail--
				return errors.New("the database is down")
			}
			ib.got[rcpt] = append(ib.got[rcpt], in)
			return nil
		},
	}
}

func TestInboundSMTP(t *testing.T) {
	ib := &inbound{got: map[string][]*channel.Inbound{}, fail: 1}
	srv := email.NewServer(ib.backend(), "mx.example.com")
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	raw := emailtest.Message{From: "Ann Lee <ann@example.org>", To: "support+42@example.com", Subject: "Order",
		MessageID: "smtp1@example.org", Text: "Where is it?",
		Files: []emailtest.File{{Name: "photo.jpg", ContentType: "image/jpeg", Data: []byte("jpeg")}}}.Bytes()

	// The store fails: the sender is told to try again later.
	err := emailtest.Deliver(addr, "ann@example.org", []string{"support+42@example.com"}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("Deliver = %v, want 451", err)
	}
	// It tries again: accepted.
	if err := emailtest.Deliver(addr, "ann@example.org", []string{"support+42@example.com"}, raw); err != nil {
		t.Fatal(err)
	}
	got := ib.got["support+42@example.com"]
	if len(got) != 1 || len(got[0].Messages) != 1 {
		t.Fatalf("routed %+v", ib.got)
	}
	m := got[0].Messages[0]
	if m.ExternalID != "smtp1@example.org" || m.From != "ann@example.org" || m.Name != "Ann Lee" || m.Text != "Where is it?" ||
		len(m.Files) != 1 || string(read(t, m.Files[0])) != "jpeg" {
		t.Errorf("message %+v", m)
	}

	// Mail for other addresses is refused at RCPT.
	err = emailtest.Deliver(addr, "ann@example.org", []string{"sales@example.com"}, raw)
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("unknown recipient: %v", err)
	}
	// A bounce (empty sender) is a status.
	bounce := emailtest.Bounce{To: support, Recipient: "gone@example.org", OriginalID: "parley.x@example.com", HeadersOnly: true}.Bytes()
	if err := emailtest.Deliver(addr, "", []string{support}, bounce); err != nil {
		t.Fatal(err)
	}
	if got := ib.got[support]; len(got) != 1 || len(got[0].Statuses) != 1 || got[0].Statuses[0].ExternalID != "parley.x@example.com" {
		t.Errorf("bounce routed as %+v", got)
	}
	// An automatic reply is accepted and dropped.
	auto := emailtest.Message{From: "ann@example.org", To: support, Subject: "Away", MessageID: "away@example.org", Text: "away",
		Header: map[string]string{"Auto-Submitted": "auto-replied"}}.Bytes()
	if err := emailtest.Deliver(addr, "ann@example.org", []string{support}, auto); err != nil {
		t.Fatal(err)
	}
	if got := ib.got[support]; len(got) != 1 {
		t.Errorf("an automatic reply was delivered: %+v", got[1:])
	}
}

func TestInboundSMTPSize(t *testing.T) {
	ib := &inbound{got: map[string][]*channel.Inbound{}}
	b := ib.backend()
	b.MaxSize = 4 << 10
	srv := email.NewServer(b, "mx.example.com")
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	raw := emailtest.Message{From: "ann@example.org", To: support, Subject: "big", MessageID: "big@example.org",
		Text: strings.Repeat("0123456789\n", 1000)}.Bytes()
	err := emailtest.Deliver(ln.Addr().String(), "ann@example.org", []string{support}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("Deliver = %v, want 552", err)
	}
}

func TestBaseAddress(t *testing.T) {
	for in, want := range map[string]string{
		"Support+42@Example.com": "support@example.com",
		"support@example.com":    "support@example.com",
		"+x@example.com":         "+x@example.com",
		"not-an-address":         "not-an-address",
	} {
		if got := email.BaseAddress(in); got != want {
			t.Errorf("BaseAddress(%q) = %q, want %q", in, got, want)
		}
	}
	ch := &parley.Channel{Settings: map[string]string{"address": "Acme <Support@Example.com>", "mode": "smtp"}}
	if email.Address(ch) != support || !email.ReceivesBySMTP(ch) || email.New().Polls(ch) {
		t.Error("Address, ReceivesBySMTP or Polls")
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
