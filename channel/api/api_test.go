package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
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
	"github.com/parley-chat/parley/channel/api"
	"github.com/parley-chat/parley/channel/api/apitest"
	"github.com/parley-chat/parley/signature"
)

const (
	token  = "token-0123456789abcdef"
	secret = "signing-secret-0123456789"
)

func setup(t *testing.T) (*apitest.Receiver, *api.Adapter, *parley.Channel) {
	t.Helper()
	rcv := apitest.NewReceiver(secret)
	t.Cleanup(rcv.Close)
	ch := &parley.Channel{ID: 9, Kind: parley.ChannelAPI, Settings: map[string]string{api.SettingURL: rcv.URL()},
		Secrets: map[string]string{api.SecretToken: token, api.SecretSigningSecret: secret}}
	return rcv, api.New(nil), ch
}

// hook serves the channel's webhook as the server does, recording what
// the adapter made of each call.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	in  *channel.Inbound
	err error
}

func newHook(t *testing.T, a *api.Adapter, ch *parley.Channel) (*hook, *apitest.Client) {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		in, err := a.Webhook(r.Context(), ch, &channel.Request{Method: r.Method, URL: r.URL, Header: r.Header, Body: body})
		h.mu.Lock()
		h.in, h.err = in, err
		h.mu.Unlock()
		var pe *parley.Error
		switch {
		case errors.Is(err, channel.ErrSignature):
			http.Error(w, "bad token", http.StatusUnauthorized)
		case errors.As(err, &pe):
			http.Error(w, pe.Field+": "+pe.Message, http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", in.Response.ContentType)
			w.WriteHeader(in.Response.Status)
			w.Write(in.Response.Body)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h, apitest.NewClient(h.srv.URL+"/api/v1/channels/9/webhook", token)
}

func (h *hook) last() (*channel.Inbound, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.in, h.err
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
	rcv, a, ch := setup(t)
	got, err := a.Test(context.Background(), ch)
	if err != nil || !strings.Contains(got, "127.0.0.1") || rcv.Pings() != 1 || rcv.Forged() != 0 {
		t.Fatalf("Test = %q, %v (pings %d, forged %d)", got, err, rcv.Pings(), rcv.Forged())
	}

	ch.Secrets[api.SecretSigningSecret] = "wrong"
	e := chError(t, func() error { _, err := a.Test(context.Background(), ch); return err }())
	if e.Temporary || e.Code != "401" || rcv.Forged() != 1 {
		t.Fatalf("Test with the wrong secret = %+v", e)
	}

	ch.Settings[api.SettingURL] = "ftp://crm.example.com"
	if _, err := a.Test(context.Background(), ch); err == nil || !strings.Contains(err.Error(), "http(s)") {
		t.Fatalf("Test with an ftp URL = %v", err)
	}
}

func TestInboundMessage(t *testing.T) {
	_, a, ch := setup(t)
	h, client := newHook(t, a, ch)
	msg := api.Message{ID: "m-1001", From: api.Sender{ID: "cust-42", Name: "Ann Lee", Email: "ann@example.com", Phone: "+15551230001"},
		Text: "Where is my order?", ReplyTo: "sys-1"}
	ans := client.Message(msg)
	if ans.Status != http.StatusOK || strings.TrimSpace(ans.Body) != `{"ok":true}` {
		t.Fatalf("answer = %+v", ans)
	}
	in, _ := h.last()
	if in.Response.ContentType != "application/json" || len(in.Messages) != 1 || len(in.Statuses) != 0 {
		t.Fatalf("inbound = %+v", in)
	}
	m := in.Messages[0]
	want := channel.InMessage{ExternalID: "m-1001", From: "cust-42", Name: "Ann Lee", Email: "ann@example.com", Phone: "+15551230001",
		Text: "Where is my order?", ReplyTo: "sys-1"}
	if m.ExternalID != want.ExternalID || m.From != want.From || m.Name != want.Name || m.Email != want.Email ||
		m.Phone != want.Phone || m.Text != want.Text || m.ReplyTo != want.ReplyTo || len(m.Files) != 0 {
		t.Fatalf("message = %+v", m)
	}

	// The system sends it again (it saw no answer): the same id.
	client.Message(msg)
	if again, _ := h.last(); again.Messages[0].ExternalID != "m-1001" {
		t.Fatalf("again = %+v", again.Messages[0])
	}
}

func TestInboundFiles(t *testing.T) {
	_, a, ch := setup(t)
	h, client := newHook(t, a, ch)
	pdf := []byte("%PDF-1.7 receipt")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/f/receipt.pdf" {
			http.NotFound(w, r)
			return
		}
		w.Write(pdf)
	}))
	defer files.Close()
	jpeg := bytes.Repeat([]byte{0xff, 0xd8}, 500)
	ans := client.Message(api.Message{ID: "m-2", From: api.Sender{ID: "cust-42"}, Files: []api.File{
		{URL: files.URL + "/f/receipt.pdf"},
		{Name: "photo.jpg", ContentType: "image/jpeg", Data: base64.StdEncoding.EncodeToString(jpeg)},
		{URL: files.URL + "/f/gone"},
	}})
	if ans.Status != http.StatusOK {
		t.Fatalf("answer = %+v", ans)
	}
	in, _ := h.last()
	fs := in.Messages[0].Files
	if len(fs) != 3 {
		t.Fatalf("files = %+v", fs)
	}
	cases := []struct {
		name, ct string
		size     int64
		data     []byte
	}{{"receipt.pdf", "application/pdf", 0, pdf}, {"photo.jpg", "image/jpeg", int64(len(jpeg)), jpeg}}
	for i, c := range cases {
		f := fs[i]
		if f.Name != c.name || f.ContentType != c.ct || f.Size != c.size {
			t.Errorf("file %d = %q %q %d, want %q %q %d", i, f.Name, f.ContentType, f.Size, c.name, c.ct, c.size)
		}
		rc, err := f.Open(context.Background())
		if err != nil {
			t.Fatalf("open file %d: %v", i, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, c.data) {
			t.Errorf("file %d = %q", i, got)
		}
	}
	// A link that answers 404 is the system's refusal: the message notes
	// the file.
	_, err := fs[2].Open(context.Background())
	if e := chError(t, err); e.Temporary || e.Code != "404" {
		t.Fatalf("missing file = %+v", e)
	}
}

func TestInboundStatus(t *testing.T) {
	_, a, ch := setup(t)
	h, client := newHook(t, a, ch)
	cases := []struct {
		status api.Status
		want   channel.StatusReport
	}{
		{api.Status{ID: "sys-1", Status: "delivered"}, channel.StatusReport{ExternalID: "sys-1", Status: parley.StatusDelivered}},
		{api.Status{ID: "sys-1", Status: "read"}, channel.StatusReport{ExternalID: "sys-1", Status: parley.StatusRead}},
		{api.Status{ID: "parley-7", Status: "failed", Error: "the customer's account is closed"},
			channel.StatusReport{ExternalID: "parley-7", Status: parley.StatusFailed, Error: "the customer's account is closed"}},
	}
	for _, c := range cases {
		t.Run(c.status.Status, func(t *testing.T) {
			if ans := client.Status(c.status); ans.Status != http.StatusOK {
				t.Fatalf("answer = %+v", ans)
			}
			in, _ := h.last()
			if len(in.Statuses) != 1 || in.Statuses[0] != c.want {
				t.Fatalf("statuses = %+v", in.Statuses)
			}
		})
	}

	// A batch: stored in order.
	ans := client.Send(api.Event{Type: "message", Message: &api.Message{ID: "m-3", From: api.Sender{ID: "c-1"}, Text: "one"}},
		api.Event{Type: "status", Status: &api.Status{ID: "sys-2", Status: "read"}},
		api.Event{Type: "message", Message: &api.Message{ID: "m-4", From: api.Sender{ID: "c-1"}, Text: "two"}})
	in, _ := h.last()
	if ans.Status != http.StatusOK || len(in.Messages) != 2 || in.Messages[1].ExternalID != "m-4" || len(in.Statuses) != 1 {
		t.Fatalf("batch: %+v %+v", ans, in)
	}
}

func TestWebhookToken(t *testing.T) {
	_, a, ch := setup(t)
	h, client := newHook(t, a, ch)
	msg := api.Message{ID: "m-1", From: api.Sender{ID: "c"}, Text: "hi"}
	for _, tok := range []string{"wrong", "", token + "x", token[:len(token)-1]} {
		client.Token = tok
		if ans := client.Message(msg); ans.Status != http.StatusUnauthorized {
			t.Errorf("token %q: answered %d", tok, ans.Status)
		}
		if _, err := h.last(); !errors.Is(err, channel.ErrSignature) {
			t.Errorf("token %q: err = %v", tok, err)
		}
	}

	// A channel without a token takes no calls at all.
	client.Token = ""
	ch.Secrets[api.SecretToken] = ""
	if ans := client.Message(msg); ans.Status != http.StatusUnauthorized {
		t.Errorf("no token: answered %d", ans.Status)
	}
}

func TestInboundInvalid(t *testing.T) {
	_, a, ch := setup(t)
	h, client := newHook(t, a, ch)
	cases := []struct {
		name  string
		body  string
		field string
	}{
		{"not JSON", `{"type":`, "body"},
		{"trailing data", `{"type":"status","status":{"id":"x","status":"read"}} {}`, "body"},
		{"no type", `{"message":{"id":"m","from":{"id":"c"},"text":"hi"}}`, "type"},
		{"unknown type", `{"type":"typing"}`, "type"},
		{"unknown field", `{"type":"message","message":{"id":"m","from":{"id":"c"},"txt":"hi"}}`, "body"},
		{"a number for an id", `{"type":"message","message":{"id":12,"from":{"id":"c"},"text":"hi"}}`, "message.id"},
		{"no message", `{"type":"message"}`, "message"},
		{"a status in a message", `{"type":"message","message":{"id":"m","from":{"id":"c"},"text":"hi"},"status":{"id":"x","status":"read"}}`, "status"},
		{"no id", `{"type":"message","message":{"from":{"id":"c"},"text":"hi"}}`, "message.id"},
		{"Parley's id", `{"type":"message","message":{"id":"parley-3","from":{"id":"c"},"text":"hi"}}`, "message.id"},
		{"no sender", `{"type":"message","message":{"id":"m","text":"hi"}}`, "message.from.id"},
		{"a bad e-mail", `{"type":"message","message":{"id":"m","from":{"id":"c","email":"ann at example"},"text":"hi"}}`, "message.from.email"},
		{"no text nor file", `{"type":"message","message":{"id":"m","from":{"id":"c"},"text":"  "}}`, "message.text"},
		{"bad base64", `{"type":"message","message":{"id":"m","from":{"id":"c"},"files":[{"name":"a.txt","data":"not base64!"}]}}`, "message.files[0].data"},
		{"url and data", `{"type":"message","message":{"id":"m","from":{"id":"c"},"files":[{"url":"https://x/a","data":"YQ=="}]}}`, "message.files[0].url"},
		{"neither url nor data", `{"type":"message","message":{"id":"m","from":{"id":"c"},"files":[{"name":"a"}]}}`, "message.files[0].url"},
		{"an ftp url", `{"type":"message","message":{"id":"m","from":{"id":"c"},"files":[{"url":"ftp://x/a"}]}}`, "message.files[0].url"},
		{"a bad content type", `{"type":"message","message":{"id":"m","from":{"id":"c"},"files":[{"data":"YQ==","content_type":"image/"}]}}`, "message.files[0].content_type"},
		{"no status id", `{"type":"status","status":{"status":"read"}}`, "status.id"},
		{"unknown status", `{"type":"status","status":{"id":"x","status":"seen"}}`, "status.status"},
		{"an error when delivered", `{"type":"status","status":{"id":"x","status":"delivered","error":"?"}}`, "status.error"},
		{"an empty batch", `{"events":[]}`, "events"},
		{"a batch with a type", `{"type":"message","events":[{"type":"status","status":{"id":"x","status":"read"}}]}`, "events"},
		{"a bad event in a batch", `{"events":[{"type":"status","status":{"id":"x","status":"read"}},{"type":"message","message":{"id":"m","from":{},"text":"hi"}}]}`,
			"events[1].message.from.id"},
		{"a batch in a batch", `{"events":[{"events":[]}]}`, "events[0]"},
		{"a type error in a batch", `{"events":[{"type":"status","status":{"id":"x","status":true}}]}`, "events[0].status.status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ans := client.Post([]byte(c.body))
			_, err := h.last()
			var pe *parley.Error
			if ans.Status != http.StatusBadRequest || !errors.As(err, &pe) || pe.Code != parley.EINVALID || pe.Field != c.field {
				t.Fatalf("answer %d, err %v; want 400 on %s", ans.Status, err, c.field)
			}
			if c.field != "body" && !strings.Contains(pe.Message, c.field) {
				t.Errorf("message %q does not name %s", pe.Message, c.field)
			}
		})
	}

	// Too many events in one call.
	var events []api.Event
	for range 101 {
		events = append(events, api.Event{Type: "status", Status: &api.Status{ID: "x", Status: "read"}})
	}
	if ans := client.Send(events...); ans.Status != http.StatusBadRequest {
		t.Fatalf("101 events: %+v", ans)
	}
}

func outbound(id int64, text string, files ...channel.OutFile) *channel.Outbound {
	return &channel.Outbound{Message: &parley.Message{ID: id, ConversationID: 5, Text: text, CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)},
		Contact: &parley.Contact{Address: "cust-42"}, Text: text, Files: files, ReplyTo: "m-1001"}
}

func TestSend(t *testing.T) {
	rcv, a, ch := setup(t)
	id, err := a.Send(context.Background(), ch, outbound(31, "It left the warehouse today."))
	if err != nil {
		t.Fatal(err)
	}
	got := rcv.Replies()
	if len(got) != 1 || id != "sys-1" || got[0].ID != id || rcv.Forged() != 0 {
		t.Fatalf("id %q, replies %+v", id, got)
	}
	r := got[0]
	want := api.Reply{Type: "message", SentAt: "2026-03-04T05:06:07.008Z", Message: api.ReplyMessage{ID: 31, ConversationID: 5,
		To: api.Recipient{ID: "cust-42"}, Text: "It left the warehouse today.", ReplyTo: "m-1001"}}
	if r.Reply.Type != want.Type || r.Reply.SentAt != want.SentAt || r.Reply.Message.ID != 31 || r.Reply.Message.ConversationID != 5 ||
		r.Reply.Message.To != want.Message.To || r.Reply.Message.Text != want.Message.Text || r.Reply.Message.ReplyTo != "m-1001" {
		t.Fatalf("reply = %+v", r.Reply)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if err := signature.Verify([]byte(secret), r.Header.Get(signature.Header), r.Body, time.Now(), time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}

	// Sent again (a timeout): the system answers the same id.
	if again, err := a.Send(context.Background(), ch, outbound(31, "It left the warehouse today.")); err != nil || again != id {
		t.Fatalf("again: %q, %v", again, err)
	}

	// A system that gives no id: Parley's.
	rcv.AnswerIDs(false)
	if id, err := a.Send(context.Background(), ch, outbound(32, "And another.")); err != nil || id != "parley-32" {
		t.Fatalf("without an id: %q, %v", id, err)
	}
}

func TestSendFiles(t *testing.T) {
	rcv, a, ch := setup(t)
	data := []byte("a small invoice")
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	link := "https://chat.example.com/api/v1/channels/9/files/4?exp=1&sig=ab"
	_, err := a.Send(context.Background(), ch, outbound(40, "",
		channel.OutFile{Name: "invoice.pdf", ContentType: "application/pdf", Size: int64(len(data)), URL: link, Open: open},
		channel.OutFile{Name: "note.txt", ContentType: "text/plain", Size: int64(len(data)), Open: open}))
	if err != nil {
		t.Fatal(err)
	}
	fs := rcv.Replies()[0].Reply.Message.Files
	if len(fs) != 2 {
		t.Fatalf("files = %+v", fs)
	}
	if f := fs[0]; f.Name != "invoice.pdf" || f.ContentType != "application/pdf" || f.Size != int64(len(data)) || f.URL != link || f.Data != "" {
		t.Fatalf("linked file = %+v", f)
	}
	// Without a link (no public URL) the bytes go inline.
	if f := fs[1]; f.URL != "" || f.Data != base64.StdEncoding.EncodeToString(data) {
		t.Fatalf("inline file = %+v", f)
	}

	// Inline files are bounded.
	big := channel.OutFile{Name: "big.bin", ContentType: "application/octet-stream", Size: 26 << 20,
		Open: func(context.Context) (io.ReadCloser, error) {
			t.Error("a file over the limit was read")
			return nil, io.EOF
		}}
	_, err = a.Send(context.Background(), ch, outbound(41, "", big))
	if e := chError(t, err); e.Temporary || !strings.Contains(e.Message, "25 MB") {
		t.Fatalf("over the inline limit = %+v", e)
	}
	if n := len(rcv.Replies()); n != 1 {
		t.Fatalf("%d replies reached the system", n)
	}
}

func TestSendErrors(t *testing.T) {
	rcv, a, ch := setup(t)
	send := func() *channel.Error {
		t.Helper()
		_, err := a.Send(context.Background(), ch, outbound(50, "hello"))
		if err == nil {
			return nil
		}
		return chError(t, err)
	}

	rcv.Throttle(time.Minute, 9)
	if e := send(); e == nil || !e.Temporary || e.RetryAfter != 9*time.Second || e.Code != "429" {
		t.Fatalf("throttled = %+v", e)
	}
	rcv.Throttle(0, 0)

	rcv.Fail(1)
	if e := send(); e == nil || !e.Temporary || e.Code != "500" {
		t.Fatalf("500 = %+v", e)
	}
	if e := send(); e != nil {
		t.Fatalf("after the 500: %v", e)
	}

	rcv.Refuse(1, http.StatusUnprocessableEntity, "customer cust-42 is archived")
	if e := send(); e == nil || e.Temporary || e.Code != "422" || !strings.Contains(e.Message, "customer cust-42 is archived") {
		t.Fatalf("refused = %+v", e)
	}

	// A refusal that is not JSON says the status.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>nope</html>", http.StatusForbidden)
	}))
	defer plain.Close()
	ch.Settings[api.SettingURL] = plain.URL
	if e := send(); e == nil || e.Temporary || e.Code != "403" || !strings.Contains(e.Message, "403 Forbidden") {
		t.Fatalf("plain refusal = %+v", e)
	}

	// A redirect would lose the reply (a 302 turns the POST into a GET).
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer moved.Close()
	ch.Settings[api.SettingURL] = moved.URL + "/old"
	if e := send(); e == nil || e.Temporary || !strings.Contains(e.Message, "/new") {
		t.Fatalf("redirect = %+v", e)
	}

	// A system that hangs: temporary.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	ch.Settings[api.SettingURL] = slow.URL
	a.Client = &http.Client{Timeout: 100 * time.Millisecond}
	if e := send(); e == nil || !e.Temporary {
		t.Fatalf("timeout = %+v", e)
	}

	// A system that is down: temporary.
	u, _ := url.Parse(slow.URL)
	slow.Close()
	ch.Settings[api.SettingURL] = "http://" + u.Host
	if e := send(); e == nil || !e.Temporary {
		t.Fatalf("down = %+v", e)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "maintenance"}})
	}))
	defer srv.Close()
	_, a, ch := setup(t)
	a.Now = func() time.Time { return now }
	ch.Settings[api.SettingURL] = srv.URL
	_, err := a.Send(context.Background(), ch, outbound(60, "hi"))
	e := chError(t, err)
	if !e.Temporary || e.RetryAfter < 88*time.Second || e.RetryAfter > 91*time.Second || !strings.Contains(e.Message, "maintenance") {
		t.Fatalf("503 with a date = %+v", e)
	}
}
