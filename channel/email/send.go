package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// maxReferences caps the References header: the thread's first message
// and its latest ones are what mail clients need to thread a reply.
const maxReferences = 20

// Send submits a reply to the customer's address and returns its new
// Message-ID, <parley.random@domain-of-the-address>. The reply answers
// the dialog's latest message (In-Reply-To: Thread[0]) and lists the
// thread oldest first in References. The server's 250 means sent; a 5xx
// is a permanent failure with the server's words, a 4xx or a network
// failure is retried. A message over the server's advertised SIZE is
// refused before it is sent.
func (a *Adapter) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	cfg, err := configOf(ch)
	if err != nil {
		return "", retried(err)
	}
	raw, id, err := a.compose(ctx, cfg, out)
	if err != nil {
		return "", err
	}
	s, err := a.dialSMTP(ctx, cfg)
	if err != nil {
		return "", retried(err)
	}
	defer s.close()
	if size, ok := s.c.MaxMessageSize(); ok && size > 0 && len(raw) > size {
		return "", channel.Refused("552", "the mail server takes messages of at most %.1f MB, and this one is %.1f MB "+
			"with its attachments encoded", float64(size)/(1<<20), float64(len(raw))/(1<<20))
	}
	to := strings.ToLower(out.Contact.Address)
	if err := s.c.SendMail(cfg.address, []string{to}, bytes.NewReader(raw)); err != nil {
		if ctx.Err() != nil {
			return "", channel.Retry(0, "", "sending was interrupted")
		}
		return "", smtpError(err, "the message", cfg.smtp)
	}
	s.quit()
	return id, nil
}

// retried makes a failure of the channel (its settings, its server's
// certificate, its login) temporary: it is no fault of the message, which
// leaves once an administrator has fixed the channel (or fails when the
// queue gives up on it).
func retried(err error) error {
	var ce *channel.Error
	if errors.As(err, &ce) && !ce.Temporary {
		c := *ce
		c.Temporary = true
		return &c
	}
	return err
}

// compose writes the reply: a text/plain part in UTF-8, quoted-printable,
// and the files as attachments (multipart/mixed when there are any).
func (a *Adapter) compose(ctx context.Context, cfg *config, out *channel.Outbound) ([]byte, string, error) {
	to, err := mail.ParseAddress(out.Contact.Address)
	if err != nil || !strings.Contains(to.Address, "@") {
		return nil, "", channel.Refused("", "the customer's address %q is not an e-mail address", out.Contact.Address)
	}
	if name := oneLine(out.Contact.Name); !strings.EqualFold(name, to.Address) {
		to.Name = name
	}
	var h mail.Header
	h.SetDate(a.now())
	h.SetAddressList("From", []*mail.Address{{Name: oneLine(cfg.name), Address: cfg.address}})
	h.SetAddressList("To", []*mail.Address{to})
	h.SetSubject(subject(out.Subject, cfg))
	id := randomID() + "@" + cfg.domain
	h.SetMessageID(id)
	var thread []string // newest first, as the service gives it
	for _, t := range out.Thread {
		if validID(t) {
			thread = append(thread, t)
		}
	}
	if len(thread) > 0 {
		h.SetMsgIDList("In-Reply-To", thread[:1])
		h.SetMsgIDList("References", references(thread))
	}
	var buf bytes.Buffer
	text := strings.ReplaceAll(out.Text, "\r\n", "\n")
	inline := func() mail.InlineHeader {
		var ih mail.InlineHeader
		ih.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		return ih
	}
	if len(out.Files) == 0 {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"}) // quoted-printable, as text parts are
		w, err := mail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, "", err
		}
		if _, err := io.WriteString(w, text); err != nil {
			return nil, "", err
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), id, nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(text) != "" {
		w, err := mw.CreateSingleInline(inline())
		if err != nil {
			return nil, "", err
		}
		io.WriteString(w, text)
		if err := w.Close(); err != nil {
			return nil, "", err
		}
	}
	for _, f := range out.Files {
		var ah mail.AttachmentHeader
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		ah.SetContentType(ct, nil)
		ah.SetFilename(oneLine(f.Name))
		w, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, "", err
		}
		rc, err := f.Open(ctx)
		if err != nil {
			return nil, "", err // the file store's failure: retried
		}
		_, err = io.Copy(w, rc)
		rc.Close()
		if err != nil {
			return nil, "", err
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), id, nil
}

// subject is "Re: " and the dialog's subject, without a second "Re:".
func subject(s string, cfg *config) string {
	s = oneLine(s)
	if s == "" {
		return "Re: your message to " + firstOf(cfg.name, cfg.address)
	}
	if len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		return s
	}
	return "Re: " + s
}

// references lists the thread oldest first, keeping its first message and
// the latest when it is long (RFC 5322 §3.6.4).
func references(newestFirst []string) []string {
	refs := make([]string, 0, len(newestFirst))
	for i := len(newestFirst) - 1; i >= 0; i-- {
		refs = append(refs, newestFirst[i])
	}
	if len(refs) > maxReferences {
		refs = append(refs[:1], refs[len(refs)-maxReferences+1:]...)
	}
	return refs
}

// oneLine keeps a header's value on one line.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}
