package sms_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/sms"
	"github.com/parley-chat/parley/channel/sms/smsfake"
)

const (
	accountSID = "AC00000000000000000000000000000001"
	authToken  = "secret-auth-token"
)

// setup starts a fake Twilio and returns a channel pointed at it.
func setup(t *testing.T) (*smsfake.Server, *sms.Adapter, *parley.Channel) {
	t.Helper()
	fake := smsfake.New(accountSID, authToken)
	t.Cleanup(fake.Close)
	ch := &parley.Channel{ID: 7, Kind: parley.ChannelSMS,
		Settings: map[string]string{sms.SettingBaseURL: fake.URL(), sms.SettingAccountSID: accountSID, sms.SettingFrom: fake.Number},
		Secrets:  map[string]string{sms.SecretAuthToken: authToken}}
	a := sms.New(nil)
	return fake, a, ch
}

// hook is the channel's webhook as the server serves it: the raw body and
// the URL as called go to the adapter, its answer comes back.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*channel.Inbound
	err []error
}

func newHook(t *testing.T, a *sms.Adapter, ch *parley.Channel) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u, _ := url.Parse("http://" + r.Host + r.URL.RequestURI())
		in, err := a.Webhook(r.Context(), ch, &channel.Request{Method: r.Method, URL: u, Header: r.Header, Body: body})
		h.mu.Lock()
		h.got, h.err = append(h.got, in), append(h.err, err)
		h.mu.Unlock()
		switch {
		case errors.Is(err, channel.ErrSignature):
			http.Error(w, "bad signature", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			w.Header().Set("Content-Type", in.Response.ContentType)
			w.WriteHeader(in.Response.Status)
			w.Write(in.Response.Body)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) url() string { return h.srv.URL + "/api/v1/channels/7/webhook" }

func (h *hook) last(t *testing.T) *channel.Inbound {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) == 0 {
		t.Fatal("the webhook was not called")
	}
	if err := h.err[len(h.err)-1]; err != nil {
		t.Fatalf("webhook: %v", err)
	}
	return h.got[len(h.got)-1]
}

func chError(t *testing.T, err error) *channel.Error {
	t.Helper()
	var e *channel.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *channel.Error", err, err)
	}
	return e
}

func TestTest(t *testing.T) {
	fake, a, ch := setup(t)
	got, err := a.Test(context.Background(), ch)
	if err != nil || !strings.Contains(got, fake.FriendlyName) || !strings.Contains(got, fake.Number) {
		t.Fatalf("Test = %q, %v", got, err)
	}

	ch.Settings[sms.SettingFrom], ch.Settings[sms.SettingMessagingServiceSID] = "", "MG123"
	if got, err := a.Test(context.Background(), ch); err != nil || !strings.Contains(got, "MG123") {
		t.Fatalf("Test with a messaging service = %q, %v", got, err)
	}

	ch.Settings[sms.SettingMessagingServiceSID] = ""
	if _, err := a.Test(context.Background(), ch); err == nil || !strings.Contains(err.Error(), "sending number") {
		t.Fatalf("Test without a sender = %v", err)
	}

	ch.Settings[sms.SettingFrom] = fake.Number
	ch.Secrets[sms.SecretAuthToken] = "wrong"
	e := chError(t, func() error { _, err := a.Test(context.Background(), ch); return err }())
	if e.Temporary || e.Code != "20003" || !strings.Contains(e.Message, "auth token") {
		t.Fatalf("Test with a wrong token = %+v", e)
	}
}

func TestInboundText(t *testing.T) {
	fake, a, ch := setup(t)
	h := newHook(t, a, ch)
	params, ans := fake.Deliver(h.url(), smsfake.Inbound{From: "+15551230001", Body: "Hello, is my order shipped?"})
	if ans.Status != http.StatusOK || ans.ContentType != "text/xml" || !strings.Contains(ans.Body, "<Response/>") {
		t.Fatalf("answer = %+v, want empty TwiML", ans)
	}
	in := h.last(t)
	if len(in.Messages) != 1 || len(in.Statuses) != 0 {
		t.Fatalf("inbound = %+v", in)
	}
	m := in.Messages[0]
	if m.ExternalID != params.Get("MessageSid") || m.From != "+15551230001" || m.Phone != "+15551230001" ||
		m.Text != "Hello, is my order shipped?" || len(m.Files) != 0 {
		t.Fatalf("message = %+v", m)
	}

	// Twilio calls again when a webhook failed: the same id both times.
	if ans := fake.Post(h.url(), params, ""); ans.Status != http.StatusOK {
		t.Fatalf("redelivery answered %d", ans.Status)
	}
	if again := h.last(t).Messages[0]; again.ExternalID != m.ExternalID {
		t.Fatalf("redelivered id %q, first %q", again.ExternalID, m.ExternalID)
	}
}

func TestInboundMedia(t *testing.T) {
	fake, a, ch := setup(t)
	h := newHook(t, a, ch)
	jpeg := bytes.Repeat([]byte{0xff, 0xd8, 0xff}, 1000)
	params, ans := fake.Deliver(h.url(), smsfake.Inbound{From: "+15551230002", Body: "see attached",
		Media: []smsfake.Media{{ContentType: "image/jpeg", Data: jpeg}, {ContentType: "text/vcard", Data: []byte("BEGIN:VCARD")}}})
	if ans.Status != http.StatusOK {
		t.Fatalf("answer = %+v", ans)
	}
	m := h.last(t).Messages[0]
	if !strings.HasPrefix(m.ExternalID, "MM") || m.Text != "see attached" || len(m.Files) != 2 {
		t.Fatalf("message = %+v", m)
	}
	for i, want := range []struct {
		name, ct string
		data     []byte
	}{{"media1.jpg", "image/jpeg", jpeg}, {"media2.vcf", "text/vcard", []byte("BEGIN:VCARD")}} {
		f := m.Files[i]
		if f.Name != want.name || f.ContentType != want.ct {
			t.Errorf("file %d = %q %q, want %q %q", i, f.Name, f.ContentType, want.name, want.ct)
		}
		rc, err := f.Open(context.Background())
		if err != nil {
			t.Fatalf("open file %d: %v", i, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want.data) {
			t.Errorf("file %d has %d bytes, want %d", i, len(got), len(want.data))
		}
	}

	// A file Twilio no longer has is a refusal (the service notes it in
	// the message), not a retry.
	bad := url.Values{}
	for k, v := range params {
		bad[k] = v
	}
	bad.Set("MessageSid", "MM"+strings.Repeat("9", 32))
	bad.Set("MediaUrl0", fake.URL()+"/2010-04-01/Accounts/"+accountSID+"/Messages/MMx/Media/MEgone")
	fake.Post(h.url(), bad, "")
	_, err := h.last(t).Messages[0].Files[0].Open(context.Background())
	if e := chError(t, err); e.Temporary || !strings.Contains(e.Message, "no longer has") {
		t.Fatalf("missing file = %+v", e)
	}
}

func TestSignature(t *testing.T) {
	// Twilio's documented example (twilio-node's signature validation
	// snippet).
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	if got := sms.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != "GvWf1cFY/Q7PnoempGyD5oXAezc=" {
		t.Fatalf("Signature = %q", got)
	}

	fake, a, ch := setup(t)
	h := newHook(t, a, ch)
	p := url.Values{"MessageSid": {"SM" + strings.Repeat("1", 32)}, "From": {"+15551230003"}, "To": {fake.Number},
		"Body": {"hi"}, "NumMedia": {"0"}}
	cases := []struct {
		name      string
		signature string
	}{
		{"wrong", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"missing", "-"},
		{"over another URL", fake.Sign(h.url()+"?x=1", p)},
		{"with another body", fake.Sign(h.url(), url.Values{"MessageSid": p["MessageSid"], "From": p["From"], "Body": {"hello"}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig := c.signature
			if sig == "-" {
				sig = " "
			}
			if ans := fake.Post(h.url(), p, sig); ans.Status != http.StatusUnauthorized {
				t.Fatalf("answered %d, want 401", ans.Status)
			}
			h.mu.Lock()
			err := h.err[len(h.err)-1]
			h.mu.Unlock()
			if !errors.Is(err, channel.ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}

	// Twilio may sign the URL with or without the scheme's default port.
	u, _ := url.Parse("https://chat.example.com/api/v1/channels/7/webhook?k=v")
	body := p.Encode()
	for _, signed := range []string{"https://chat.example.com/api/v1/channels/7/webhook?k=v", "https://chat.example.com:443/api/v1/channels/7/webhook?k=v"} {
		r := &channel.Request{Method: http.MethodPost, URL: u, Body: []byte(body),
			Header: http.Header{"X-Twilio-Signature": {sms.Signature(authToken, signed, p)}}}
		if _, err := a.Webhook(context.Background(), ch, r); err != nil {
			t.Errorf("signed over %s: %v", signed, err)
		}
	}
}

func TestStatusCallbacks(t *testing.T) {
	fake, a, ch := setup(t)
	h := newHook(t, a, ch)
	ch.Settings[sms.SettingStatusCallbackURL] = h.url()
	sid, err := a.Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: "+15551230004"}, Text: "On its way"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		status, code string
		want         parley.MsgStatus
		why          string // in the report's error
	}{
		{"queued", "", parley.StatusSent, ""},
		{"sending", "", parley.StatusSent, ""},
		{"sent", "", parley.StatusSent, ""},
		{"delivered", "", parley.StatusDelivered, ""},
		{"read", "", parley.StatusRead, ""},
		{"undelivered", "30003", parley.StatusFailed, "unreachable"},
		{"undelivered", "30004", parley.StatusFailed, "blocked"},
		{"failed", "30005", parley.StatusFailed, "unknown number"},
		{"undelivered", "30006", parley.StatusFailed, "landline"},
		{"undelivered", "30007", parley.StatusFailed, "filtered"},
		{"failed", "31999", parley.StatusFailed, "31999"},
	}
	for _, c := range cases {
		t.Run(c.status+c.code, func(t *testing.T) {
			ans := fake.Report("", sid, c.status, c.code) // to the StatusCallback the message was sent with
			if ans.Status != http.StatusOK {
				t.Fatalf("answered %+v", ans)
			}
			in := h.last(t)
			if len(in.Messages) != 0 || len(in.Statuses) != 1 {
				t.Fatalf("inbound = %+v", in)
			}
			st := in.Statuses[0]
			if st.ExternalID != sid || st.Status != c.want || !strings.Contains(st.Error, c.why) || (c.why == "") != (st.Error == "") {
				t.Fatalf("report = %+v, want %s %q", st, c.want, c.why)
			}
		})
	}
}

func TestSend(t *testing.T) {
	fake, a, ch := setup(t)
	ch.Settings[sms.SettingStatusCallbackURL] = "https://chat.example.com/api/v1/channels/7/webhook"
	sid, err := a.Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: "+15551230005"}, Text: "Your order has shipped"})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages", len(sent))
	}
	m := sent[0]
	if m.SID != sid || m.To != "+15551230005" || m.From != fake.Number || m.MessagingServiceSID != "" ||
		m.Body != "Your order has shipped" || len(m.MediaURLs) != 0 || m.StatusCallback != ch.Settings[sms.SettingStatusCallbackURL] {
		t.Fatalf("sent %+v (sid %q)", m, sid)
	}

	// Without a callback URL Twilio is not asked to report.
	delete(ch.Settings, sms.SettingStatusCallbackURL)
	if _, err := a.Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: "+15551230005"}, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if cb := fake.Sent()[1].StatusCallback; cb != "" {
		t.Fatalf("StatusCallback = %q", cb)
	}
}

func TestSendFile(t *testing.T) {
	fake, a, ch := setup(t)
	ch.Settings[sms.SettingFrom], ch.Settings[sms.SettingMessagingServiceSID] = "", "MG0001"
	png := bytes.Repeat([]byte("png!"), 2048)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	defer files.Close()
	link := files.URL + "/api/v1/channels/7/files/3?exp=1&sig=abc"
	out := &channel.Outbound{Contact: &parley.Contact{Address: "+15551230006"}, Text: "the invoice",
		Files: []channel.OutFile{{Name: "invoice.png", ContentType: "image/png", Size: int64(len(png)), URL: link}}}
	sid, err := a.Send(context.Background(), ch, out)
	if err != nil {
		t.Fatal(err)
	}
	m := fake.Sent()[0]
	if m.SID != sid || !strings.HasPrefix(sid, "MM") || m.From != "" || m.MessagingServiceSID != "MG0001" || m.Body != "the invoice" ||
		len(m.MediaURLs) != 1 || m.MediaURLs[0] != link || len(m.Media) != 1 || !bytes.Equal(m.Media[0].Data, png) {
		t.Fatalf("sent %+v", m)
	}

	// A file alone, without a text.
	out.Text = ""
	if _, err := a.Send(context.Background(), ch, out); err != nil {
		t.Fatal(err)
	}
	if m := fake.Sent()[1]; m.Body != "" || len(m.MediaURLs) != 1 {
		t.Fatalf("sent %+v", m)
	}

	// Twilio takes at most 5 MB of media: refused before the call when
	// the sizes say so, and by Twilio when the files turn out larger.
	out.Files[0].Size = 6 << 20
	e := chError(t, func() error { _, err := a.Send(context.Background(), ch, out); return err }())
	if e.Temporary || !strings.Contains(e.Message, "5 MB") || fake.Calls() != 2 {
		t.Fatalf("6 MB = %+v (%d calls)", e, fake.Calls())
	}
	png = bytes.Repeat([]byte("png!"), 6<<18)
	out.Files[0].Size = 1000
	e = chError(t, func() error { _, err := a.Send(context.Background(), ch, out); return err }())
	if e.Temporary || e.Code != "11751" || !strings.Contains(e.Message, "size limit") {
		t.Fatalf("6 MB said to be 1000 bytes = %+v", e)
	}

	// Without the server's public URL a file has no link Twilio could
	// fetch.
	out.Files[0].URL = ""
	e = chError(t, func() error { _, err := a.Send(context.Background(), ch, out); return err }())
	if e.Temporary || !strings.Contains(e.Message, "SMS/MMS needs the server's public URL to send files") {
		t.Fatalf("file without a link = %+v", e)
	}
	if n := len(fake.Sent()); n != 2 {
		t.Fatalf("%d messages reached Twilio", n)
	}
}

func TestCheckReply(t *testing.T) {
	_, a, ch := setup(t)
	file := func(size int64) parley.File { return parley.File{Name: "a.jpg", ContentType: "image/jpeg", Size: size} }
	files := func(n int, size int64) []parley.File {
		var out []parley.File
		for range n {
			out = append(out, file(size))
		}
		return out
	}
	cases := []struct {
		name   string
		public string
		msg    parley.Message
		refuse string // "" : accepted
	}{
		{"a short text", "http://x", parley.Message{Text: "hi"}, ""},
		{"1,600 characters", "http://x", parley.Message{Text: strings.Repeat("a", 1600)}, ""},
		{"1,601 characters", "http://x", parley.Message{Text: strings.Repeat("a", 1601)}, "at most 1,600 characters"},
		{"800 emoji", "http://x", parley.Message{Text: strings.Repeat("😀", 800)}, ""},
		{"801 emoji", "http://x", parley.Message{Text: strings.Repeat("😀", 801)}, "emoji counts two"},
		{"10 files", "http://x", parley.Message{Files: files(10, 100)}, ""},
		{"11 files", "http://x", parley.Message{Files: files(11, 100)}, "at most 10 files"},
		{"5 MB of files", "http://x", parley.Message{Files: files(2, 5<<19)}, ""},
		{"over 5 MB of files", "http://x", parley.Message{Files: files(2, 5<<19+1)}, "5 MB"},
		{"a text without a public URL", "", parley.Message{Text: "hi"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.CheckReply(ch, &c.msg)
			if c.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if e := chError(t, err); e.Temporary || !strings.Contains(e.Message, c.refuse) {
				t.Fatalf("refusal = %+v, want %q", e, c.refuse)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	fake, a, ch := setup(t)
	send := func(to string) *channel.Error {
		t.Helper()
		_, err := a.Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: to}, Text: "hello"})
		if err == nil {
			return nil
		}
		return chError(t, err)
	}

	fake.Throttle(time.Minute, 7)
	if e := send("+15551230007"); e == nil || !e.Temporary || e.RetryAfter != 7*time.Second || e.Code != "20429" {
		t.Fatalf("throttled = %+v", e)
	}
	fake.Throttle(0, 0)

	fake.FailSends(1)
	if e := send("+15551230007"); e == nil || !e.Temporary {
		t.Fatalf("500 = %+v", e)
	}
	if e := send("+15551230007"); e != nil {
		t.Fatalf("after the 500: %v", e)
	}

	fake.Unsubscribe("+15551230008")
	if e := send("+15551230008"); e == nil || e.Temporary || e.Code != "21610" || !strings.Contains(e.Message, "STOP") {
		t.Fatalf("unsubscribed = %+v", e)
	}
	if e := send("not a number"); e == nil || e.Temporary || e.Code != "21211" || !strings.Contains(e.Message, "not a valid phone number") {
		t.Fatalf("bad number = %+v", e)
	}
	fake.Refuse(1, http.StatusBadRequest, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number")
	if e := send("+445551230009"); e == nil || e.Temporary || e.Code != "21408" || !strings.Contains(e.Message, "Geo Permissions") {
		t.Fatalf("region = %+v", e)
	}
	fake.Refuse(1, http.StatusBadRequest, 21999, "Something new")
	if e := send("+15551230007"); e == nil || e.Temporary || e.Code != "21999" || !strings.Contains(e.Message, "Something new") {
		t.Fatalf("an unknown refusal = %+v", e)
	}

	long := strings.Repeat("a", 1601)
	_, err := a.Send(context.Background(), ch, &channel.Outbound{Contact: &parley.Contact{Address: "+15551230007"}, Text: long})
	if e := chError(t, err); e.Temporary || e.Code != "21617" {
		t.Fatalf("long text = %+v", e)
	}

	fake.Close()
	if e := send("+15551230007"); e == nil || !e.Temporary {
		t.Fatalf("Twilio down = %+v", e)
	}
}
