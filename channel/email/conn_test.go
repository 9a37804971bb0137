package email

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/email/emailtest"
)

func TestPlainAllowed(t *testing.T) {
	for _, tc := range []struct {
		host  string
		allow bool
		want  bool
	}{
		{"127.0.0.1:1143", false, true},
		{"[::1]:1143", false, true},
		{"localhost:143", false, true},
		{"imap.example.com:143", false, false},
		{"10.0.0.5:143", false, false},
		{"mail:143", true, true},
	} {
		got := plainAllowed(&config{plaintext: tc.allow}, &url.URL{Scheme: "imap", Host: tc.host})
		if got != tc.want {
			t.Errorf("plainAllowed(%s, allow %v) = %v", tc.host, tc.allow, got)
		}
	}
}

func TestServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"imaps://imap.example.com":      "imaps://imap.example.com:993",
		"imap://imap.example.com":       "imap://imap.example.com:143",
		"smtps://smtp.example.com":      "smtps://smtp.example.com:465",
		"smtp://smtp.example.com":       "smtp://smtp.example.com:587",
		"smtp://127.0.0.1:2525":         "smtp://127.0.0.1:2525",
		"imaps://imap.example.com:1993": "imaps://imap.example.com:1993",
	} {
		proto := in[:4]
		u, err := serverURL(in, "x", proto, "")
		if err != nil || u.String() != want {
			t.Errorf("serverURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "imap.example.com", "https://imap.example.com", "imaps://"} {
		if _, err := serverURL(bad, "imap_server", "imap", "imaps://imap.example.com:993"); err == nil {
			t.Errorf("serverURL(%q) passed", bad)
		}
	}
}

// Servers elsewhere than on this machine must start TLS.
func TestRemoteNeedsTLS(t *testing.T) {
	defer func(f func(string) bool) { loopback = f }(loopback)
	loopback = func(string) bool { return false }
	channelOf := func(imapURL, smtpURL string) *parley.Channel {
		return &parley.Channel{Settings: map[string]string{"address": "support@example.com", "imap_server": imapURL, "smtp_server": smtpURL},
			Secrets: map[string]string{"imap_password": "secret"}}
	}
	a := &Adapter{TLSConfig: emailtest.ClientTLS()}

	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{TLS: emailtest.StartTLS})
	sub := emailtest.NewSMTP(t, emailtest.SMTPOptions{TLS: emailtest.StartTLS})
	got, err := a.Test(context.Background(), channelOf(srv.URL(), sub.URL()))
	if err != nil || strings.Count(got, "(STARTTLS)") != 2 {
		t.Errorf("STARTTLS servers: %q, %v", got, err)
	}

	plainIMAP := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	plainSMTP := emailtest.NewSMTP(t, emailtest.SMTPOptions{})
	for _, tc := range []struct {
		name string
		ch   *parley.Channel
		want string
	}{
		{"IMAP", channelOf(plainIMAP.URL(), sub.URL()), "the IMAP server 127.0.0.1"},
		{"SMTP", channelOf(srv.URL(), plainSMTP.URL()), "does not offer STARTTLS"},
	} {
		_, err := a.Test(context.Background(), tc.ch)
		var ce *channel.Error
		if !errors.As(err, &ce) || ce.Temporary || !strings.Contains(ce.Message, tc.want) {
			t.Errorf("%s without TLS: %v", tc.name, err)
		}
		// Unless the channel allows it.
		tc.ch.Settings["allow_plaintext"] = "true"
		if got, err := a.Test(context.Background(), tc.ch); err != nil || !strings.Contains(got, "(no TLS)") {
			t.Errorf("%s with allow_plaintext: %q, %v", tc.name, got, err)
		}
	}
}
