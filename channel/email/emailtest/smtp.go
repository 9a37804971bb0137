package emailtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPOptions configure a submission server; the zero value is a
// plain-text server that requires the login support@example.com
// (password "secret") and takes messages up to 25 MB.
type SMTPOptions struct {
	Username, Password string
	// NoAuth accepts mail without a login.
	NoAuth bool
	TLS    TLSMode
	// MaxSize is the SIZE it advertises and enforces.
	MaxSize int64
}

// SMTP is a submission server (RFC 6409) on 127.0.0.1 that records what
// it accepts instead of sending it on.
type SMTP struct {
	opts SMTPOptions
	srv  *smtp.Server
	ln   net.Listener

	mu     sync.Mutex
	sent   []Mail
	fails  []Failure
	logins int
	wake   chan struct{}
}

// Mail is a message the server accepted: the envelope and the raw bytes.
type Mail struct {
	From     string
	To       []string
	Data     []byte
	Username string // who logged in to send it
}

// Failure makes the server refuse a stage of the next Times messages
// (default once): Stage is "MAIL", "RCPT" or "DATA"; Code the reply
// (550, 451, 552, ...), Enhanced its RFC 3463 code ({5, 1, 1}; zero: the
// class's X.0.0) and Message its text.
type Failure struct {
	Stage    string
	Code     int
	Enhanced [3]int
	Message  string
	Times    int
}

// NewSMTP starts a server, stopped when the test ends.
func NewSMTP(tb testing.TB, opts SMTPOptions) *SMTP {
	tb.Helper()
	if opts.Username == "" {
		opts.Username = "support@example.com"
	}
	if opts.Password == "" {
		opts.Password = "secret"
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = 25 << 20
	}
	s := &SMTP{opts: opts, wake: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "smtp.emailtest"
	s.srv.MaxMessageBytes = opts.MaxSize
	s.srv.AllowInsecureAuth = opts.TLS == NoTLS
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	switch opts.TLS {
	case StartTLS:
		s.srv.TLSConfig = ServerTLS()
	case ImplicitTLS:
		ln = tls.NewListener(ln, ServerTLS())
	}
	s.ln = ln
	go s.srv.Serve(ln)
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's address for the channel's smtp_server setting:
// smtp://127.0.0.1:port, or smtps:// with ImplicitTLS.
func (s *SMTP) URL() string {
	if s.opts.TLS == ImplicitTLS {
		return "smtps://" + s.ln.Addr().String()
	}
	return "smtp://" + s.ln.Addr().String()
}

// Username and Password are the login it takes.
func (s *SMTP) Username() string { return s.opts.Username }
func (s *SMTP) Password() string { return s.opts.Password }

// Close stops the server.
func (s *SMTP) Close() {
	s.ln.Close() // Serve may not have registered it yet
	s.srv.Close()
}

// Sent lists the messages accepted so far, oldest first.
func (s *SMTP) Sent() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.sent...)
}

// Logins counts the successful logins.
func (s *SMTP) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// WaitSent waits until n messages were accepted (failing the test after
// 10 s) and returns them.
func (s *SMTP) WaitSent(tb testing.TB, n int) []Mail {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if sent := s.Sent(); len(sent) >= n {
			return sent
		}
		select {
		case <-s.wake:
		case <-deadline:
			tb.Fatalf("emailtest: %d messages sent, want %d", len(s.Sent()), n)
		}
	}
}

// Fail makes the server refuse as f says.
func (s *SMTP) Fail(f Failure) {
	if f.Times <= 0 {
		f.Times = 1
	}
	f.Stage = strings.ToUpper(f.Stage)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, f)
}

// failure is the refusal due at stage, if any.
func (s *SMTP) failure(stage string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.fails {
		f := &s.fails[i]
		if f.Stage != stage || f.Times <= 0 {
			continue
		}
		f.Times--
		enh := smtp.EnhancedCode(f.Enhanced)
		if f.Enhanced == [3]int{} {
			enh = smtp.EnhancedCodeNotSet
		}
		return &smtp.SMTPError{Code: f.Code, EnhancedCode: enh, Message: f.Message}
	}
	return nil
}

// NewSession is go-smtp's hook.
func (s *SMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }

type smtpSession struct {
	s    *SMTP
	user string
	mail Mail
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		ss.s.mu.Lock()
		ss.s.logins++
		ss.s.mu.Unlock()
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" && !ss.s.opts.NoAuth {
		return smtp.ErrAuthRequired
	}
	if err := ss.s.failure("MAIL"); err != nil {
		return err
	}
	ss.mail = Mail{From: from, Username: ss.user}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.failure("RCPT"); err != nil {
		return err
	}
	ss.mail.To = append(ss.mail.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.s.failure("DATA"); err != nil {
		return err
	}
	ss.mail.Data = data
	ss.s.mu.Lock()
	ss.s.sent = append(ss.s.sent, ss.mail)
	ss.s.mu.Unlock()
	select {
	case ss.s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (ss *smtpSession) Reset() { ss.mail = Mail{} }

func (ss *smtpSession) Logout() error { return nil }

// Parsed is a sent message read back.
type Parsed struct {
	Header mail.Header
	// Text is the text/plain parts' text.
	Text  string
	Files []File
}

// Parse reads the message back: its header, text and attachments.
func (m Mail) Parse() (*Parsed, error) {
	r, err := mail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Header: r.Header}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(part.Body)
		if err != nil {
			return nil, err
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			if t, _, _ := h.ContentType(); t == "text/plain" || t == "" {
				p.Text += string(data)
				continue
			}
			t, _, _ := h.ContentType()
			p.Files = append(p.Files, File{ContentType: t, Data: data, Inline: true})
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			t, _, _ := h.ContentType()
			p.Files = append(p.Files, File{Name: name, ContentType: t, Data: data})
		}
	}
	return p, nil
}

// Header is the message's header, read back.
func (m Mail) Header() (mail.Header, error) {
	e, err := message.Read(bytes.NewReader(m.Data))
	if err != nil {
		return mail.Header{}, err
	}
	return mail.Header{Header: e.Header}, nil
}
