// Package email is the e-mail channel: customers write to a support
// mailbox, and managers' replies leave by SMTP submission as answers in
// the customer's thread (In-Reply-To and References, RFC 5322 §3.6.4).
//
// Mail arrives one of two ways (the mode setting):
//
//   - imap: Poll reads the mailbox. It takes the messages that are not
//     \Seen, hands them to the inbox, and marks them \Seen only once they
//     are stored; it then waits with IDLE (RFC 2177) where the server
//     offers it, else polls every 30 s. The mailbox's \Seen flags are the
//     poller's only memory, so the mailbox must be Parley's alone: a
//     message someone opens in a mail client first is never fetched.
//   - smtp: mail is delivered to Parley's own SMTP listener (Backend and
//     NewServer), wired by the server, and nothing polls.
//
// Delivery statuses: a reply is sent once the submission server answers
// 250, failed on a 5xx, and failed later if a bounce (a DSN, RFC 3464)
// names its Message-ID. E-mail has no read receipts worth trusting and no
// reply window.
package email

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	// Decodes the legacy charsets (ISO-8859-x, Windows-125x, KOI8-R,
	// Shift_JIS, ...) that much mail still arrives in.
	_ "github.com/emersion/go-message/charset"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Settings and secrets of an e-mail channel. The servers' fields end in
// _server, not _url: the channel service checks every *_url setting for
// an http(s) URL.
const (
	settingAddress       = "address"
	settingDisplayName   = "display_name"
	settingMode          = "mode"
	settingIMAPServer    = "imap_server"
	settingIMAPUsername  = "imap_username"
	settingIMAPMailbox   = "imap_mailbox"
	settingSMTPServer    = "smtp_server"
	settingSMTPUsername  = "smtp_username"
	settingTLSInsecure   = "tls_insecure"
	settingAllowPlaintxt = "allow_plaintext"
	secretIMAPPassword   = "imap_password"
	secretSMTPPassword   = "smtp_password"

	modeIMAP = "imap"
	modeSMTP = "smtp"
)

// Defaults of the adapter's timing.
const (
	// DefaultIdleRestart is how long one IDLE runs before it is renewed:
	// servers may drop an IDLE after 30 minutes (RFC 2177 asks clients to
	// renew within 29).
	DefaultIdleRestart = 25 * time.Minute
	// DefaultPollInterval is the wait between looks at a mailbox whose
	// server does not offer IDLE.
	DefaultPollInterval = 30 * time.Second
)

// maxFetch is the largest message Poll downloads whole; a larger one
// arrives as its headers and a note (25 MB of attachments is about 34 MB
// once base64-encoded).
var maxFetch int64 = 50 << 20 // a variable for tests

// cmdTimeout bounds one IMAP or SMTP command: a server that stops
// answering fails the attempt instead of holding the channel.
const cmdTimeout = 2 * time.Minute

// Adapter is the e-mail channel.
type Adapter struct {
	// TLSConfig is the base of every TLS connection (nil: the system's
	// roots); tests set RootCAs to their own certificate.
	TLSConfig *tls.Config
	// Dialer connects to the servers (nil: a 30 s connect timeout).
	Dialer *net.Dialer
	// IdleRestart and PollInterval: DefaultIdleRestart and
	// DefaultPollInterval when zero.
	IdleRestart  time.Duration
	PollInterval time.Duration
	// Now is the clock for Date headers (nil: time.Now).
	Now func() time.Time
}

// New returns the adapter with its defaults.
func New() *Adapter { return &Adapter{} }

// Kind is parley.ChannelEmail.
func (a *Adapter) Kind() string { return parley.ChannelEmail }

// Spec describes an e-mail channel.
func (a *Adapter) Spec() channel.Spec {
	yesNo := []string{"false", "true"}
	return channel.Spec{
		Kind: parley.ChannelEmail, Label: "E-mail",
		Settings: []channel.Field{
			{Name: settingAddress, Label: "Support address", Required: true,
				Help: "the mailbox customers write to, like support@example.com; replies come from it"},
			{Name: settingDisplayName, Label: "Sender name", Help: `shown to customers beside the address ("Acme Support")`},
			{Name: settingMode, Label: "How mail arrives", Default: modeIMAP, Options: []string{modeIMAP, modeSMTP},
				Help: "imap: Parley reads the mailbox (keep it for Parley alone: mail opened elsewhere first is not fetched); " +
					"smtp: mail is delivered to Parley's own SMTP listener"},
			{Name: settingIMAPServer, Label: "IMAP server",
				Help: "imaps://imap.example.com:993 (TLS), or imap://host:143 (STARTTLS); needed for the imap mode"},
			{Name: settingIMAPUsername, Label: "IMAP user name", Help: "empty: the support address"},
			{Name: settingIMAPMailbox, Label: "IMAP folder", Default: "INBOX"},
			{Name: settingSMTPServer, Label: "SMTP submission server", Required: true,
				Help: "smtps://smtp.example.com:465 (TLS), or smtp://host:587 (STARTTLS)"},
			{Name: settingSMTPUsername, Label: "SMTP user name", Help: "empty: the IMAP user name, or the support address"},
			{Name: settingTLSInsecure, Label: "Accept any TLS certificate", Default: "false", Options: yesNo,
				Help: "only for a server with a self-signed certificate: anyone on the way could read the mail and passwords"},
			{Name: settingAllowPlaintxt, Label: "Allow servers without TLS", Default: "false", Options: yesNo,
				Help: "log in without encryption when an imap:// or smtp:// server offers no STARTTLS; only on a trusted network " +
					"(servers on this machine, 127.0.0.1, are always allowed)"},
		},
		Secrets: []channel.Field{
			{Name: secretIMAPPassword, Label: "IMAP password", Help: "an app password where the provider has them"},
			{Name: secretSMTPPassword, Label: "SMTP password", Help: "empty: the IMAP password; no password: send without logging in"},
		},
		// Submission servers count messages per day and per minute rather
		// than per second; a steady pace keeps a mailbox clear of their
		// spam heuristics.
		Rate:     2,
		Statuses: []parley.MsgStatus{parley.StatusSent, parley.StatusFailed},
		Limits:   parley.DefaultAttachmentLimits[parley.ChannelEmail],
	}
}

// config is a channel's settings, checked.
type config struct {
	address, name, domain string
	mode                  string
	imap, smtp            *url.URL
	imapUser, imapPass    string
	mailbox               string
	smtpUser, smtpPass    string
	insecure, plaintext   bool
}

// configOf reads and checks ch's settings; what is wrong is a permanent
// *channel.Error naming the setting.
func configOf(ch *parley.Channel) (*config, error) {
	s := ch.Settings
	c := &config{name: strings.TrimSpace(s[settingDisplayName]), mode: s[settingMode], mailbox: s[settingIMAPMailbox],
		insecure: s[settingTLSInsecure] == "true", plaintext: s[settingAllowPlaintxt] == "true"}
	addr, err := mail.ParseAddress(s[settingAddress])
	if err != nil || !strings.Contains(addr.Address, "@") {
		return nil, channel.Refused("", "the support address %q is not an e-mail address", s[settingAddress])
	}
	c.address = strings.ToLower(addr.Address)
	c.domain = c.address[strings.LastIndexByte(c.address, '@')+1:]
	if c.mode == "" {
		c.mode = modeIMAP
	}
	if c.mailbox == "" {
		c.mailbox = "INBOX"
	}
	if c.mode == modeIMAP {
		if c.imap, err = serverURL(s[settingIMAPServer], settingIMAPServer, "imap", "imaps://imap.example.com:993"); err != nil {
			return nil, err
		}
	}
	if c.smtp, err = serverURL(s[settingSMTPServer], settingSMTPServer, "smtp", "smtps://smtp.example.com:465"); err != nil {
		return nil, err
	}
	c.imapUser = firstOf(s[settingIMAPUsername], c.address)
	c.imapPass = ch.Secrets[secretIMAPPassword]
	c.smtpUser = firstOf(s[settingSMTPUsername], s[settingIMAPUsername], c.address)
	c.smtpPass = firstOf(ch.Secrets[secretSMTPPassword], ch.Secrets[secretIMAPPassword])
	return c, nil
}

// serverURL checks a server's URL: proto or proto+"s", with a host; the
// port defaults to the protocol's (993, 143, 465, 587).
func serverURL(v, field, proto, example string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || (u.Scheme != proto && u.Scheme != proto+"s") || u.Hostname() == "" {
		if v == "" {
			return nil, channel.Refused("", "the setting %s is required, like %s", field, example)
		}
		return nil, channel.Refused("", "%s must look like %s, not %q", field, example, v)
	}
	if u.Port() == "" {
		ports := map[string]string{"imaps": "993", "imap": "143", "smtps": "465", "smtp": "587"}
		u.Host = net.JoinHostPort(u.Hostname(), ports[u.Scheme])
	}
	return u, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Address is a channel's support address, lowercased: what the server's
// SMTP listener routes a recipient to (see BaseAddress).
func Address(ch *parley.Channel) string {
	addr, err := mail.ParseAddress(ch.Settings[settingAddress])
	if err != nil {
		return ""
	}
	return strings.ToLower(addr.Address)
}

// ReceivesBySMTP reports whether a channel's mail arrives at Parley's own
// SMTP listener (mode smtp) rather than by polling its mailbox.
func ReceivesBySMTP(ch *parley.Channel) bool { return ch.Settings[settingMode] == modeSMTP }

// BaseAddress is addr lowercased without a "+tag" in its local part
// (support+1234@example.com is support@example.com).
func BaseAddress(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], addr[at:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	return local + domain
}

func (a *Adapter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Test logs in to the IMAP server (in the imap mode) and to the SMTP
// server, and says what answered.
func (a *Adapter) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	cfg, err := configOf(ch)
	if err != nil {
		return "", err
	}
	var parts []string
	if cfg.mode == modeIMAP {
		s, err := a.dialIMAP(ctx, cfg)
		if err != nil {
			return "", err
		}
		st, err := s.status(cfg.mailbox)
		s.logout()
		if err != nil {
			return "", err
		}
		parts = append(parts, "IMAP "+cfg.imap.Host+" ("+s.security+"): "+st)
	}
	c, err := a.dialSMTP(ctx, cfg)
	if err != nil {
		return "", err
	}
	c.quit()
	who := "logged in as " + cfg.smtpUser
	if cfg.smtpPass == "" {
		who = "accepted the connection (no login)"
	}
	if size, ok := c.c.MaxMessageSize(); ok && size > 0 {
		who += ", messages up to " + strconv.Itoa(size>>20) + " MB"
	}
	parts = append(parts, "SMTP "+cfg.smtp.Host+" ("+c.security+"): "+who)
	return strings.Join(parts, "; "), nil
}

// Webhook refuses every call: mail arrives by IMAP or by SMTP, never by
// HTTP.
func (a *Adapter) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	return nil, parley.Errorf(parley.ENOTFOUND, "e-mail channels have no webhook")
}

// randomID is a Message-ID's unique left part.
func randomID() string {
	b := make([]byte, 15)
	rand.Read(b)
	return "parley." + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ours reports whether id is a Message-ID this adapter made for domain:
// such a message arriving in the mailbox is a copy of a reply, not a
// customer's.
func ours(id, domain string) bool {
	return strings.HasPrefix(id, "parley.") && strings.HasSuffix(strings.ToLower(id), "@"+domain)
}

var (
	_ channel.Adapter = (*Adapter)(nil)
	_ channel.Poller  = (*Adapter)(nil)
)
