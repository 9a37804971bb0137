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

// Mailer sends Parley's own mail (invitations, password resets, missed
// messages) through one submission server, with the same connection
// rules as an e-mail channel: smtps:// is TLS, smtp:// needs STARTTLS
// unless the server is on this machine or ?plaintext=true is given,
// ?insecure=true accepts any certificate, and the URL's user and password
// log in.
type Mailer struct {
	Adapter *Adapter // its TLS and dialer; nil: New()
	cfg     *config
}

// NewMailer checks rawURL (smtp[s]://[user:password@]host[:port]) and
// from (an address, or "Name <address>").
func NewMailer(rawURL, from string) (*Mailer, error) {
	u, err := serverURL(rawURL, "smtp-url", "smtp", "smtps://user:password@smtp.example.com:465")
	if err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || !strings.Contains(addr.Address, "@") {
		return nil, parley.Errorf(parley.EINVALID, "mail-from %q is not an e-mail address", from)
	}
	q := u.Query()
	c := &config{address: strings.ToLower(addr.Address), name: addr.Name, smtp: u,
		insecure: q.Get("insecure") == "true", plaintext: q.Get("plaintext") == "true"}
	c.domain = c.address[strings.LastIndexByte(c.address, '@')+1:]
	if u.User != nil {
		c.smtpUser = u.User.Username()
		c.smtpPass, _ = u.User.Password()
	}
	u.RawQuery, u.User = "", nil
	return &Mailer{cfg: c}, nil
}

// From is the sender's address.
func (m *Mailer) From() string { return m.cfg.address }

// Send submits one message.
func (m *Mailer) Send(ctx context.Context, msg parley.Mail) error {
	to, err := mail.ParseAddress(msg.To)
	if err != nil || !strings.Contains(to.Address, "@") {
		return parley.Errorf(parley.EINVALID, "%q is not an e-mail address", msg.To)
	}
	a := m.Adapter
	if a == nil {
		a = New()
	}
	var h mail.Header
	h.SetDate(a.now())
	h.SetAddressList("From", []*mail.Address{{Name: oneLine(m.cfg.name), Address: m.cfg.address}})
	h.SetAddressList("To", []*mail.Address{to})
	h.SetSubject(oneLine(msg.Subject))
	h.SetMessageID(randomID() + "@" + m.cfg.domain)
	// Machine-sent: auto-responders must not answer it (RFC 3834).
	h.Set("Auto-Submitted", "auto-generated")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	var buf bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return err
	}
	io.WriteString(w, strings.ReplaceAll(msg.Text, "\r\n", "\n"))
	if err := w.Close(); err != nil {
		return err
	}
	s, err := a.dialSMTP(ctx, m.cfg)
	if err != nil {
		return mailError(err)
	}
	defer s.close()
	if err := s.c.SendMail(m.cfg.address, []string{strings.ToLower(to.Address)}, &buf); err != nil {
		return mailError(smtpError(err, "the message", m.cfg.smtp))
	}
	s.quit()
	return nil
}

// mailError turns a channel's failure into the service error its caller
// shows: permanent refusals are the input's fault, the rest the server's.
func mailError(err error) error {
	var ce *channel.Error
	if errors.As(err, &ce) {
		if ce.Temporary {
			return parley.Errorf(parley.EUNAVAILABLE, "e-mail could not be sent: %s", ce.Message)
		}
		return parley.Errorf(parley.EINVALID, "e-mail was refused: %s", ce.Message)
	}
	return parley.Errorf(parley.EUNAVAILABLE, "e-mail could not be sent: %v", err)
}

var _ parley.Mailer = (*Mailer)(nil)
