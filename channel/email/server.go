package email

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parley-chat/parley/channel"
)

// DefaultMaxSize is the largest message the SMTP listener takes: 25 MB
// of attachments, base64-encoded, and the rest.
const DefaultMaxSize = 36 << 20

// Backend is the SMTP listener's side of channels in the smtp mode: it
// accepts mail for the addresses Accept knows and hands each message to
// Deliver for each of them. A message is accepted (250) only once
// Deliver returned nil for every recipient; otherwise the sender hears a
// 451 and tries again later, and the inbox stores a message it gets twice
// once. Mail for other addresses is refused at RCPT with 550 5.1.1.
//
// The listener does not check SPF, DKIM or DMARC: run it behind an MX
// that does (or accept that a From can be forged, as it can in any
// mailbox without them).
type Backend struct {
	// Accept reports whether rcpt (lowercased, with its +tag if it has
	// one; see BaseAddress) is a channel's address.
	Accept func(ctx context.Context, rcpt string) bool
	// Deliver stores what a message brings to the channel of rcpt.
	Deliver func(ctx context.Context, rcpt string, in *channel.Inbound) error
	// MaxSize is the largest message taken (0: DefaultMaxSize).
	MaxSize int64
	// Timeout bounds one message's delivery (0: 2 minutes).
	Timeout time.Duration
	// Logger notes failed deliveries (nil: slog.Default()).
	Logger *slog.Logger
}

// NewServer returns an SMTP server for b that announces itself as domain.
// The caller sets TLSConfig (for STARTTLS) if it has a certificate, then
// runs Serve on its listener and Shutdown at the end.
func NewServer(b *Backend, domain string) *smtp.Server {
	s := smtp.NewServer(b)
	s.Domain = domain
	s.MaxMessageBytes = b.maxSize()
	s.MaxRecipients = 50
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = slogLogger{b.logger()}
	return s
}

func (b *Backend) maxSize() int64 {
	if b.MaxSize > 0 {
		return b.MaxSize
	}
	return DefaultMaxSize
}

func (b *Backend) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// NewSession starts one SMTP conversation.
func (b *Backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b}, nil
}

// session is one SMTP conversation's current message.
type session struct {
	b          *Backend
	nullSender bool
	rcpts      []string
}

func (s *session) Reset() { s.nullSender, s.rcpts = false, nil }

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.nullSender = from == ""
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	to = strings.ToLower(to)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !s.b.Accept(ctx, to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// tryLater is the answer when a message could not be stored.
var tryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "the message could not be stored now, try again later"}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, s.b.maxSize()+1))
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // too large, or a line too long
		}
		return tryLater
	}
	if int64(len(raw)) > s.b.maxSize() {
		return smtp.ErrDataTooLarge
	}
	timeout := s.b.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, rcpt := range s.rcpts {
		in := &channel.Inbound{}
		parse(raw, BaseAddress(rcpt), s.nullSender).addTo(in)
		if len(in.Messages) == 0 && len(in.Statuses) == 0 {
			continue // automatic mail, or a copy of the channel's own
		}
		if err := s.b.Deliver(ctx, rcpt, in); err != nil {
			s.b.logger().Warn("inbound e-mail not stored", "rcpt", rcpt, "err", err)
			return tryLater
		}
	}
	return nil
}

// slogLogger gives go-smtp's connection errors to slog.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Debug("smtp listener", "msg", strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l slogLogger) Println(v ...any) {
	l.l.Debug("smtp listener", "msg", strings.TrimSpace(fmt.Sprintln(v...)))
}
