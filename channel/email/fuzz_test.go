package email

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/channel/email/emailtest"
)

// FuzzParse checks the reading of an inbound e-mail, whatever its bytes:
// no panic; a message has a lower-case sender address, a Message-ID that
// can stand in a reply's headers and is the same when the same mail is
// read again (redeliveries are recognised by it), a text that is valid
// UTF-8 with plain line ends and not much longer than the mail, and attachment names without a path or
// control characters; a bounce names the message it returns by a valid
// id. (Raw 8-bit headers make a subject or name that is not UTF-8: the
// channel service repairs every inbound string before storing it, see
// TestChannelRepairsText.)
func FuzzParse(f *testing.F) {
	f.Add(emailtest.Message{From: "Ann <ann@example.com>", To: own, Subject: "Hi", Text: "Hello"}.Bytes(), false)
	f.Add([]byte("From: x@y.z\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, raw []byte, nullSender bool) {
		it := parse(raw, own, nullSender)
		if it.msg == nil && it.status == nil && it.skip == "" {
			t.Fatal("neither a message, a status nor a reason to skip")
		}
		if s := it.status; s != nil && !validID(s.ExternalID) {
			t.Fatalf("a bounce of %q", s.ExternalID)
		}
		m := it.msg
		if m == nil {
			return
		}
		if m.From == "" || m.From != strings.ToLower(m.From) || !strings.Contains(m.From, "@") {
			t.Fatalf("sender %q", m.From)
		}
		if !validID(m.ExternalID) {
			t.Fatalf("Message-ID %q", m.ExternalID)
		}
		if again := parse(raw, own, nullSender); again.msg == nil || again.msg.ExternalID != m.ExternalID {
			t.Fatalf("read again, the id %q changed", m.ExternalID)
		}
		// Nothing in a mail makes its text much longer than the mail: at
		// most "<br>x" (5 bytes) becoming "x" marked 8 quotes deep (18).
		if len(m.Text) > 4*len(raw)+64 {
			t.Fatalf("a mail of %d bytes made a text of %d", len(raw), len(m.Text))
		}
		if !utf8.ValidString(m.Text) || strings.Contains(m.Text, "\r") {
			t.Fatalf("text %q is not valid UTF-8 or keeps a CR", m.Text)
		}
		for _, file := range m.Files {
			if file.Name == "" || file.Name == "." || file.Name == ".." || !utf8.ValidString(file.Name) ||
				strings.ContainsAny(file.Name, `/\`) || strings.IndexFunc(file.Name, unicode.IsControl) >= 0 {
				t.Fatalf("attachment name %q", file.Name)
			}
		}
	})
}
