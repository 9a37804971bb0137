package email

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/email/emailtest"
)

func TestCutQuote(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"nothing quoted", "Hello\n\nthanks", "Hello\n\nthanks"},
		{"gmail", "Yes.\n\nOn Mon, 3 Jun 2024 at 10:00, Acme <s@example.com> wrote:\n> Is it?\n> Acme", "Yes."},
		{"wrapped attribution", "Yes.\n\nOn Mon, 3 Jun 2024 at 10:00, Acme Support <\ns@example.com> wrote:\n> Is it?", "Yes."},
		{"german", "Ja.\n\nAm 03.06.2024 um 10:00 schrieb Acme <s@example.com>:\n> Wirklich?", "Ja."},
		{"outlook original", "Fine.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\nSubject: x\n\nold", "Fine."},
		{"outlook underscores", "Fine.\n\n________________________________\nFrom: Acme <s@example.com>\nSent: Monday", "Fine."},
		{"outlook block", "Fine.\n\nFrom: Acme <s@example.com>\nSent: Monday, June 3, 2024\nTo: Ann\nSubject: x", "Fine."},
		{"trailing quote", "Thanks!\n\n> old\n>\n> older", "Thanks!"},
		{"interleaved answers kept", "> first question\nanswer one\n\n> second question\nanswer two",
			"> first question\nanswer one\n\n> second question\nanswer two"},
		{"only a quote is kept", "> only quoted\n> text", "> only quoted\n> text"},
		// 100,000 quoted lines and one that is not: linear, not quadratic
		// (this took minutes before, found fuzzing FuzzParse).
		{"long quote then text", strings.Repeat(">\n", 100_000) + "x", strings.Repeat(">\n", 100_000) + "x"},
		{"text then a long quote", "x\n" + strings.Repeat(">\n", 100_000), "x"},
		{"a From: line in the text stays", "From: the start I said so.\nThanks", "From: the start I said so.\nThanks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cutQuote(tc.in); got != tc.want {
				t.Errorf("cutQuote:\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"entities", "<p>Fish &amp; chips &lt;3 &eacute;&#233;&nbsp;x</p>", "Fish & chips <3 éé x"},
		{"script and style dropped", "<style>.a{}</style>a<script>document.write('b')</script>c<!-- d -->e", "ace"},
		{"lists", "<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
		{"link kept", `<a href="https://x.example/p?a=1&amp;b=2">here</a>`, "here <https://x.example/p?a=1&b=2>"},
		{"link text is the address", `<a href="https://x.example">https://x.example</a>`, "https://x.example"},
		{"javascript link dropped", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"whitespace folded", "<div>  a\n\n   b  </div><div>c</div>", "a b\nc"},
		{"blockquote", "<div>yes</div><blockquote><div>old</div></blockquote>", "yes\n> old"},
		{"unterminated tag", "text <b unterminated", "text"},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := htmlToText(tc.in); got != tc.want {
				t.Errorf("htmlToText:\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestUnflow(t *testing.T) {
	if got := unflow("a long \nline\n\n>quoted \n>on\n-- \nsig", false); got != "a long line\n\n>quoted >on\n-- \nsig" {
		t.Errorf("unflow %q", got)
	}
	if got := unflow("ab \ncd", true); got != "abcd" {
		t.Errorf("unflow delsp %q", got)
	}
}

const own = "support@example.com"

func TestParse(t *testing.T) {
	t.Run("legacy charset and flowed text", func(t *testing.T) {
		raw := "From: =?iso-8859-1?q?Jos=E9?= <jose@example.org>\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\nMessage-ID: <c@example.org>\r\n" +
			"Content-Type: text/plain; charset=iso-8859-1; format=flowed\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"Un caf=E9 =\r\nnoir,=20\r\ns'il vous pla=EEt.\r\n"
		it := parse([]byte(raw), own, false)
		if it.msg == nil || it.msg.Name != "José" || it.msg.Subject != "café" || it.msg.Text != "Un café noir, s'il vous plaît." {
			t.Fatalf("%+v", it.msg)
		}
	})
	t.Run("no Message-ID: a stable hash", func(t *testing.T) {
		raw := emailtest.Message{From: "a@example.org", Subject: "x", Text: "y"}.Bytes()
		a, b := parse(raw, own, false), parse(raw, own, false)
		if a.msg.ExternalID != b.msg.ExternalID || !strings.HasPrefix(a.msg.ExternalID, "sha256.") {
			t.Errorf("ids %q %q", a.msg.ExternalID, b.msg.ExternalID)
		}
	})
	t.Run("References when no In-Reply-To", func(t *testing.T) {
		raw := emailtest.Message{From: "a@example.org", MessageID: "r@example.org", References: []string{"one@x", "two@x"}, Text: "y"}.Bytes()
		if it := parse(raw, own, false); it.msg.ReplyTo != "two@x" {
			t.Errorf("ReplyTo %q", it.msg.ReplyTo)
		}
	})
	t.Run("file names", func(t *testing.T) {
		raw := emailtest.Message{From: "a@example.org", MessageID: "f@example.org", Text: "files", Files: []emailtest.File{
			{Name: "../../etc/passwd", ContentType: "text/plain", Data: []byte("x")},
			{Name: `C:\Users\ann\scan.pdf`, ContentType: "application/pdf", Data: []byte("y")},
			{Name: "", ContentType: "application/pdf", Data: []byte("z")},
		}}.Bytes()
		it := parse(raw, own, false)
		var names []string
		for _, f := range it.msg.Files {
			names = append(names, f.Name)
		}
		if strings.Join(names, "|") != "passwd|scan.pdf|attachment-3.pdf" || it.msg.Text != "files" {
			t.Errorf("names %q, text %q", names, it.msg.Text)
		}
	})
	for _, tc := range []struct {
		name  string
		raw   []byte
		null  bool
		skip  bool
		error string // a failed status saying this
	}{
		{name: "auto-replied", skip: true, raw: emailtest.Message{From: "a@example.org", MessageID: "1@x", Text: "away",
			Header: map[string]string{"Auto-Submitted": "auto-replied; owner-email=a@example.org"}}.Bytes()},
		{name: "Auto-Submitted no", raw: emailtest.Message{From: "a@example.org", MessageID: "2@x", Text: "hi",
			Header: map[string]string{"Auto-Submitted": "no"}}.Bytes()},
		{name: "precedence auto_reply", skip: true, raw: emailtest.Message{From: "a@example.org", MessageID: "3@x", Text: "away",
			Header: map[string]string{"Precedence": "auto_reply"}}.Bytes()},
		{name: "vacation with an empty sender", skip: true, null: true, raw: emailtest.Message{From: "a@example.org", MessageID: "4@x",
			Text: "away", Header: map[string]string{"X-Autoreply": "yes"}}.Bytes()},
		{name: "read receipt", skip: true, raw: []byte("From: a@example.org\r\nMessage-ID: <5@x>\r\n" +
			"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b--\r\n")},
		{name: "own address", skip: true, raw: emailtest.Message{From: "Support <SUPPORT@example.com>", MessageID: "6@x", Text: "x"}.Bytes()},
		{name: "no sender", skip: true, raw: []byte("Subject: x\r\n\r\nbody\r\n")},
		{name: "DSN with the message", error: "could not deliver to gone@example.org: 550 5.1.1",
			raw: emailtest.Bounce{To: own, Recipient: "gone@example.org", OriginalID: "parley.1@example.com"}.Bytes()},
		{name: "DSN with headers only", error: "452 4.2.2 mailbox full",
			raw: emailtest.Bounce{To: own, Recipient: "full@example.org", OriginalID: "parley.1@example.com", HeadersOnly: true,
				Status: "5.2.2", Diagnostic: "smtp; 452 4.2.2 mailbox full"}.Bytes()},
		{name: "DSN delayed", skip: true, raw: emailtest.Bounce{To: own, Recipient: "slow@example.org", OriginalID: "parley.1@example.com",
			Action: "delayed", Status: "4.4.1"}.Bytes()},
		{name: "old-style bounce", error: "the customer's mail server returned the message: Undelivered Mail Returned to Sender",
			raw: emailtest.Bounce{To: own, Recipient: "gone@example.org", OriginalID: "parley.1@example.com", NoReport: true}.Bytes()},
		{name: "bounce naming no message", skip: true, null: true, raw: emailtest.Message{From: "MAILER-DAEMON@mx.example",
			MessageID: "b@mx", Subject: "failure", Text: "something failed"}.Bytes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := parse(tc.raw, own, tc.null)
			switch {
			case tc.skip:
				if it.msg != nil || it.status != nil || it.skip == "" {
					t.Errorf("not skipped: %+v %+v", it.msg, it.status)
				}
			case tc.error != "":
				if it.status == nil || it.status.ExternalID != "parley.1@example.com" || it.status.Status != parley.StatusFailed ||
					!strings.Contains(it.status.Error, tc.error) {
					t.Errorf("status %+v (skip %q), want failed saying %q", it.status, it.skip, tc.error)
				}
			default:
				if it.msg == nil {
					t.Errorf("skipped: %s", it.skip)
				}
			}
		})
	}
}
