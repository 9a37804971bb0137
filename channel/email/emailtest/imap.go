package emailtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPOptions configure an IMAP server; the zero value is a plain-text
// server with the user support@example.com (password "secret") and an
// INBOX.
type IMAPOptions struct {
	Username, Password string
	// Mailbox is created besides INBOX when it is another.
	Mailbox string
	TLS     TLSMode
	// NoIdle hides IDLE (and IMAP4rev2, which implies it) from clients,
	// as servers without it do: clients must poll. Plain text only.
	NoIdle bool
}

// IMAP is an in-memory IMAP server on 127.0.0.1 with one user. It
// advertises IMAP4rev1 and IMAP4rev2 (so IDLE), and wakes idling
// clients when a message is appended.
type IMAP struct {
	opts IMAPOptions
	srv  *imapserver.Server
	ln   net.Listener
	// front is the proxy that hides IDLE, with NoIdle.
	front net.Listener
	user  *imapmemserver.User
}

// NewIMAP starts a server, stopped when the test ends.
func NewIMAP(tb testing.TB, opts IMAPOptions) *IMAP {
	tb.Helper()
	if opts.Username == "" {
		opts.Username = "support@example.com"
	}
	if opts.Password == "" {
		opts.Password = "secret"
	}
	if opts.Mailbox == "" {
		opts.Mailbox = "INBOX"
	}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(opts.Username, opts.Password)
	user.Create("INBOX", nil)
	if opts.Mailbox != "INBOX" {
		user.Create(opts.Mailbox, nil)
	}
	mem.AddUser(user)
	so := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: opts.TLS == NoTLS,
		Logger:       log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	switch opts.TLS {
	case StartTLS:
		so.TLSConfig = ServerTLS()
	case ImplicitTLS:
		ln = tls.NewListener(ln, ServerTLS())
	}
	s := &IMAP{opts: opts, srv: imapserver.New(so), ln: ln, user: user}
	go s.srv.Serve(ln)
	tb.Cleanup(s.Close)
	if opts.NoIdle {
		s.hideIdle(tb)
	}
	return s
}

// hideIdle puts a proxy in front of the server that strips IDLE and
// IMAP4rev2 from its capability lines.
func (s *IMAP) hideIdle(tb testing.TB) {
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	back := s.ln.Addr().String()
	s.front = front
	go func() {
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				srv, err := net.Dial("tcp", back)
				if err != nil {
					return
				}
				defer srv.Close()
				go func() {
					io.Copy(srv, c)
					srv.Close()
				}()
				r := bufio.NewReader(srv)
				for {
					line, err := r.ReadString('\n')
					if strings.Contains(line, "CAPABILITY ") {
						line = strings.NewReplacer(" IDLE", "", " IMAP4rev2", "").Replace(line)
					}
					if _, werr := io.WriteString(c, line); werr != nil || err != nil {
						return
					}
				}
			}()
		}
	}()
}

// URL is the server's address for the channel's imap_server setting:
// imap://127.0.0.1:port, or imaps:// with ImplicitTLS.
func (s *IMAP) URL() string {
	if s.front != nil {
		return "imap://" + s.front.Addr().String()
	}
	if s.opts.TLS == ImplicitTLS {
		return "imaps://" + s.ln.Addr().String()
	}
	return "imap://" + s.ln.Addr().String()
}

// Username, Password and Mailbox are the user's.
func (s *IMAP) Username() string { return s.opts.Username }
func (s *IMAP) Password() string { return s.opts.Password }
func (s *IMAP) Mailbox() string  { return s.opts.Mailbox }

// Close stops the server and drops its connections.
func (s *IMAP) Close() {
	if s.front != nil {
		s.front.Close()
	}
	s.ln.Close() // Serve may not have registered it yet
	s.srv.Close()
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// Append puts a message (raw RFC 5322 bytes, as Message.Bytes makes) into
// the mailbox, as mail arriving does, and returns its UID.
func (s *IMAP) Append(tb testing.TB, raw []byte, flags ...imap.Flag) imap.UID {
	tb.Helper()
	data, err := s.user.Append(s.opts.Mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Flags: flags})
	if err != nil {
		tb.Fatal(err)
	}
	return data.UID
}

// Unseen lists the UIDs of the mailbox's messages without \Seen.
func (s *IMAP) Unseen(tb testing.TB) []imap.UID {
	tb.Helper()
	c := s.client(tb)
	defer c.Close()
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		tb.Fatal(err)
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	return uids
}

// Flags lists a message's flags.
func (s *IMAP) Flags(tb testing.TB, uid imap.UID) []imap.Flag {
	tb.Helper()
	c := s.client(tb)
	defer c.Close()
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 {
		tb.Fatalf("flags of %d: %v (%d messages)", uid, err, len(msgs))
	}
	return msgs[0].Flags
}

// client logs in to the server and selects the mailbox.
func (s *IMAP) client(tb testing.TB) *imapclient.Client {
	tb.Helper()
	var c *imapclient.Client
	var err error
	opts := &imapclient.Options{TLSConfig: ClientTLS()}
	opts.TLSConfig.ServerName = "127.0.0.1"
	addr := s.ln.Addr().String()
	switch s.opts.TLS {
	case NoTLS:
		c, err = imapclient.DialInsecure(addr, opts)
	case StartTLS:
		c, err = imapclient.DialStartTLS(addr, opts)
	case ImplicitTLS:
		c, err = imapclient.DialTLS(addr, opts)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Login(s.opts.Username, s.opts.Password).Wait(); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Select(s.opts.Mailbox, nil).Wait(); err != nil {
		tb.Fatal(err)
	}
	return c
}
