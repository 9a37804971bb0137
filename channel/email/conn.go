package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/parley-chat/parley/channel"
)

// Connections follow one rule for both protocols: imaps:// and smtps://
// are TLS from the first byte (RFC 8314); imap:// and smtp:// upgrade
// with STARTTLS, and a server that does not offer it is refused, since
// the password would cross the network in clear, unless the server is on
// this machine (a loopback address) or the channel allows plain text.
// Certificates are verified unless tls_insecure is set.

// imapSession is a logged-in IMAP connection.
type imapSession struct {
	c *imapclient.Client
	// exists is signalled when the server announces new messages.
	exists   chan struct{}
	security string // "TLS", "STARTTLS", "no TLS"
}

// smtpSession is a connected, logged-in SMTP submission connection.
type smtpSession struct {
	c        *smtp.Client
	conn     net.Conn
	security string
	stop     func() bool // ends the watch that closes it with ctx
}

func (a *Adapter) tlsConfig(cfg *config, host string) *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.TLSConfig != nil {
		t = a.TLSConfig.Clone()
	}
	t.ServerName = host
	t.InsecureSkipVerify = cfg.insecure
	return t
}

func (a *Adapter) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	d := a.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: 30 * time.Second}
	}
	return d.DialContext(ctx, "tcp", u.Host)
}

// plainAllowed reports whether a server may be spoken to without TLS.
func plainAllowed(cfg *config, u *url.URL) bool {
	return cfg.plaintext || loopback(u.Hostname())
}

// loopback reports whether host is this machine (a variable for tests).
var loopback = func(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// unreachable is a network failure: temporary.
func unreachable(what string, u *url.URL, err error) *channel.Error {
	return channel.Retry(0, "", "could not reach the %s server %s: %v", what, u.Host, err)
}

// tlsFailed is a TLS handshake that failed: a certificate the system does
// not trust is permanent until an administrator acts.
func tlsFailed(what string, u *url.URL, err error) *channel.Error {
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return channel.Refused("", "the %s server %s has a certificate this server does not trust (%v); "+
			"if it is self-signed, turn on %q", what, u.Host, cert.Err, settingTLSInsecure)
	}
	return unreachable(what, u, err)
}

// dialIMAP connects and logs in.
func (a *Adapter) dialIMAP(ctx context.Context, cfg *config) (*imapSession, error) {
	u := cfg.imap
	s := &imapSession{exists: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		TLSConfig: a.tlsConfig(cfg, u.Hostname()),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case s.exists <- struct{}{}:
				default:
				}
			}
		}},
	}
	// Until logged in, a connection is closed with ctx, or after
	// cmdTimeout.
	guard := func(c net.Conn) func() {
		stop := context.AfterFunc(ctx, func() { c.Close() })
		t := time.AfterFunc(cmdTimeout, func() { c.Close() })
		return func() { stop(); t.Stop() }
	}
	conn, err := a.dial(ctx, u)
	if err != nil {
		return nil, unreachable("IMAP", u, err)
	}
	defer guard(conn)()
	switch {
	case u.Scheme == "imaps":
		tc := tls.Client(conn, opts.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, tlsFailed("IMAP", u, err)
		}
		s.c, s.security = imapclient.New(tc, opts), "TLS"
	case plainAllowed(cfg, u):
		s.c, s.security = imapclient.New(conn, opts), "no TLS"
		if err := s.c.WaitGreeting(); err != nil {
			s.c.Close()
			return nil, unreachable("IMAP", u, err)
		}
		if s.c.Caps().Has(imap.CapStartTLS) {
			// Offered after all: start again with it (the client cannot
			// upgrade a connection it has begun).
			s.c.Close()
			conn, err := a.dial(ctx, u)
			if err != nil {
				return nil, unreachable("IMAP", u, err)
			}
			defer guard(conn)()
			if s.c, err = imapclient.NewStartTLS(conn, opts); err != nil {
				return nil, tlsFailed("IMAP", u, err)
			}
			s.security = "STARTTLS"
		}
	default:
		if s.c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			var ie *imap.Error
			if errors.As(err, &ie) {
				return nil, channel.Refused("", "the IMAP server %s did not start TLS (%s): use imaps://, "+
					"or allow servers without TLS if it is on a trusted network", u.Host, ie.Text)
			}
			return nil, tlsFailed("IMAP", u, err)
		}
		s.security = "STARTTLS"
	}
	if err := s.c.WaitGreeting(); err != nil {
		s.c.Close()
		return nil, unreachable("IMAP", u, err)
	}
	if s.c.State() != imap.ConnStateAuthenticated {
		if err := s.login(cfg); err != nil {
			s.c.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
	return s, nil
}

func (s *imapSession) login(cfg *config) error {
	var err error
	caps := s.c.Caps()
	if caps.Has(imap.CapLoginDisabled) && caps.Has("AUTH=PLAIN") {
		err = s.c.Authenticate(sasl.NewPlainClient("", cfg.imapUser, cfg.imapPass))
	} else {
		err = s.c.Login(cfg.imapUser, cfg.imapPass).Wait()
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return channel.Refused("", "the IMAP server %s refused the login of %s: %s", cfg.imap.Host, cfg.imapUser, ie.Text)
	}
	if err != nil {
		return unreachable("IMAP", cfg.imap, err)
	}
	return nil
}

// wait runs a command's wait, closing the connection if the server takes
// longer than d to answer.
func (s *imapSession) wait(d time.Duration, f func() error) error {
	t := time.AfterFunc(d, func() { s.c.Close() })
	defer t.Stop()
	return f()
}

// status says how many messages the mailbox holds.
func (s *imapSession) status(mailbox string) (string, error) {
	var st *imap.StatusData
	err := s.wait(cmdTimeout, func() (err error) {
		st, err = s.c.Status(mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
		return err
	})
	if err != nil {
		return "", mailboxError(mailbox, err)
	}
	var n, unseen uint32
	if st.NumMessages != nil {
		n = *st.NumMessages
	}
	if st.NumUnseen != nil {
		unseen = *st.NumUnseen
	}
	return fmt.Sprintf("%s holds %s, %d not yet fetched", mailbox, plural(n, "message"), unseen), nil
}

func plural(n uint32, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func mailboxError(mailbox string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return channel.Refused("", "the IMAP folder %q cannot be opened: %s", mailbox, ie.Text)
	}
	return channel.Retry(0, "", "IMAP: %v", err)
}

func (s *imapSession) logout() {
	s.wait(10*time.Second, s.c.Logout().Wait)
	s.c.Close()
}

// dialSMTP connects to the submission server and logs in when the
// channel has a password.
func (a *Adapter) dialSMTP(ctx context.Context, cfg *config) (*smtpSession, error) {
	u := cfg.smtp
	tc := a.tlsConfig(cfg, u.Hostname())
	conn, err := a.dial(ctx, u)
	if err != nil {
		return nil, unreachable("SMTP", u, err)
	}
	// The client knows no context: closing the connection ends whatever
	// it waits for.
	s := &smtpSession{conn: conn, stop: context.AfterFunc(ctx, func() { conn.Close() })}
	fail := func(err error) (*smtpSession, error) {
		s.close()
		if ctx.Err() != nil {
			return nil, channel.Retry(0, "", "SMTP: %v", ctx.Err())
		}
		return nil, err
	}
	switch {
	case u.Scheme == "smtps":
		t := tls.Client(conn, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			return fail(tlsFailed("SMTP", u, err))
		}
		s.conn, s.c, s.security = t, smtp.NewClient(t), "TLS"
	case plainAllowed(cfg, u):
		s.c, s.security = smtp.NewClient(conn), "no TLS"
		if ok, _ := s.c.Extension("STARTTLS"); ok {
			s.close()
			conn, err := a.dial(ctx, u)
			if err != nil {
				return nil, unreachable("SMTP", u, err)
			}
			s = &smtpSession{conn: conn, security: "STARTTLS", stop: context.AfterFunc(ctx, func() { conn.Close() })}
			if s.c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
				return fail(tlsFailed("SMTP", u, err))
			}
		}
	default:
		s.security = "STARTTLS"
		if s.c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
			if strings.Contains(err.Error(), "doesn't support STARTTLS") {
				return fail(channel.Refused("", "the SMTP server %s does not offer STARTTLS: use smtps://, "+
					"or allow servers without TLS if it is on a trusted network", u.Host))
			}
			return fail(smtpError(err, "the connection", u))
		}
	}
	s.c.CommandTimeout = cmdTimeout
	s.c.SubmissionTimeout = 2 * cmdTimeout
	// EHLO (again, if it was said already: a refusal surfaces here).
	if err := s.c.Noop(); err != nil {
		return fail(smtpError(err, "the connection", u))
	}
	if cfg.smtpPass == "" {
		return s, nil
	}
	var auth sasl.Client
	switch {
	case s.c.SupportsAuth(sasl.Plain):
		auth = sasl.NewPlainClient("", cfg.smtpUser, cfg.smtpPass)
	case s.c.SupportsAuth(sasl.Login):
		auth = sasl.NewLoginClient(cfg.smtpUser, cfg.smtpPass)
	default:
		_, mechs := s.c.Extension("AUTH")
		if mechs == "" {
			mechs = "none"
		}
		return fail(channel.Refused("", "the SMTP server %s offers no login Parley speaks (PLAIN or LOGIN; it offers %s)", u.Host, mechs))
	}
	if err := s.c.Auth(auth); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code/100 == 5 {
			return fail(channel.Refused(fmt.Sprint(se.Code), "the SMTP server %s refused the login of %s: %s", u.Host, cfg.smtpUser, se.Message))
		}
		return fail(smtpError(err, "the login", u))
	}
	return s, nil
}

func (s *smtpSession) close() {
	s.stop()
	if s.c != nil {
		s.c.Close()
	} else {
		s.conn.Close()
	}
}

func (s *smtpSession) quit() {
	s.c.Quit()
	s.close()
}

// smtpError classifies an SMTP failure: 5xx permanent with the server's
// words, 4xx and anything else (the network) temporary.
func smtpError(err error, stage string, u *url.URL) *channel.Error {
	var ce *channel.Error
	if errors.As(err, &ce) {
		return ce
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		msg := strings.TrimSpace(se.Message)
		if se.EnhancedCode != smtp.EnhancedCodeNotSet && se.EnhancedCode != smtp.NoEnhancedCode {
			msg = fmt.Sprintf("%d.%d.%d %s", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], msg)
		}
		code := fmt.Sprint(se.Code)
		if se.Code/100 == 5 {
			return channel.Refused(code, "the mail server refused %s: %s", stage, msg)
		}
		return channel.Retry(0, code, "the mail server asked to try %s again later: %s", stage, msg)
	}
	return tlsFailed("SMTP", u, err)
}
