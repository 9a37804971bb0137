package meta_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/meta"
	"github.com/parley-chat/parley/channel/meta/metafake"
)

const (
	token       = "EAAG-test-token"
	appSecret   = "0123456789abcdef0123456789abcdef"
	verifyToken = "parley-verify-token"
)

// newFake starts the Graph API fake for a test.
func newFake(t *testing.T) *metafake.Server {
	t.Helper()
	f := metafake.New(token, appSecret)
	t.Cleanup(f.Close)
	return f
}

// channelFor is a channel of the kind pointed at the fake.
func channelFor(fake *metafake.Server, kind string) *parley.Channel {
	settings := map[string]string{meta.SettingBaseURL: fake.URL()}
	switch kind {
	case parley.ChannelWhatsApp:
		settings[meta.SettingPhoneNumberID] = metafake.PhoneNumberID
	case parley.ChannelMessenger:
		settings[meta.SettingPageID] = metafake.PageID
	case parley.ChannelInstagram:
		settings[meta.SettingAccountID] = metafake.InstagramID
	}
	return &parley.Channel{ID: 7, Kind: kind, Settings: settings, Secrets: map[string]string{
		meta.SecretAccessToken: token, meta.SecretAppSecret: appSecret, meta.SecretVerifyToken: verifyToken}}
}

// hook is a webhook endpoint for one adapter and channel, as Parley's
// server hands calls to it: what the adapter returned is kept.
type hook struct {
	srv *httptest.Server
	mu  sync.Mutex
	ins []*channel.Inbound
	err error
}

func newHook(t *testing.T, a channel.Adapter, ch *parley.Channel) *hook {
	t.Helper()
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		in, err := a.Webhook(r.Context(), ch, &channel.Request{Method: r.Method, URL: &u, Header: r.Header, Body: body})
		h.mu.Lock()
		h.err = err
		if in != nil {
			h.ins = append(h.ins, in)
		}
		h.mu.Unlock()
		switch {
		case errors.Is(err, channel.ErrSignature):
			http.Error(w, "bad signature", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		case in.Response != nil:
			w.Header().Set("Content-Type", in.Response.ContentType)
			w.WriteHeader(in.Response.Status)
			w.Write(in.Response.Body)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) URL() string { return h.srv.URL + "/api/v1/channels/7/webhook" }

// post posts a webhook and returns what the adapter made of it.
func (h *hook) post(t *testing.T, fake *metafake.Server, w metafake.Webhook) *channel.Inbound {
	t.Helper()
	if status := fake.Post(h.URL(), w); status != http.StatusOK {
		t.Fatalf("webhook answered %d (%v)", status, h.lastErr())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ins[len(h.ins)-1]
}

func (h *hook) lastErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// read opens an inbound file and reads it.
func read(t *testing.T, f channel.InFile) []byte {
	t.Helper()
	rc, err := f.Open(context.Background())
	if err != nil {
		t.Fatalf("opening %s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// outFile is a reply's file, with a link when url is set.
func outFile(name, contentType string, data []byte, url string) channel.OutFile {
	return channel.OutFile{Name: name, ContentType: contentType, Size: int64(len(data)), URL: url,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// fileServer serves files at links, as Parley's public file links do.
func fileServer(t *testing.T, files map[string][]byte, contentType string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// asError is err as the service's *channel.Error.
func asError(t *testing.T, err error) *channel.Error {
	t.Helper()
	var e *channel.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *channel.Error", err, err)
	}
	return e
}

func reply(to, text string, files ...channel.OutFile) *channel.Outbound {
	return &channel.Outbound{Message: &parley.Message{Text: text}, Contact: &parley.Contact{Address: to}, Text: text, Files: files}
}

func adapters() map[string]channel.Adapter {
	return map[string]channel.Adapter{
		parley.ChannelWhatsApp:  meta.WhatsApp(nil),
		parley.ChannelMessenger: meta.Messenger(nil),
		parley.ChannelInstagram: meta.Instagram(nil),
	}
}

func TestSpecs(t *testing.T) {
	for kind, a := range adapters() {
		t.Run(kind, func(t *testing.T) {
			spec := a.Spec()
			if a.Kind() != kind || spec.Kind != kind || !spec.Webhook || spec.Rate <= 0 {
				t.Fatalf("spec: %+v", spec)
			}
			if spec.Limits != parley.DefaultAttachmentLimits[kind] {
				t.Fatalf("limits %+v", spec.Limits)
			}
			fields := map[string]channel.Field{}
			for _, f := range append(spec.Settings, spec.Secrets...) {
				fields[f.Name] = f
			}
			wantBase := meta.FacebookURL
			if kind == parley.ChannelInstagram {
				wantBase = meta.InstagramURL
			}
			if fields[meta.SettingBaseURL].Default != wantBase || fields[meta.SettingVersion].Default != "v23.0" {
				t.Fatalf("defaults: %+v %+v", fields[meta.SettingBaseURL], fields[meta.SettingVersion])
			}
			for _, name := range []string{meta.SecretAccessToken, meta.SecretAppSecret} {
				if !fields[name].Required {
					t.Fatalf("%s is not required", name)
				}
			}
			if fields[meta.SecretVerifyToken].Default != "(generated)" {
				t.Fatalf("verify token: %+v", fields[meta.SecretVerifyToken])
			}
			id := map[string]string{parley.ChannelWhatsApp: meta.SettingPhoneNumberID, parley.ChannelMessenger: meta.SettingPageID,
				parley.ChannelInstagram: meta.SettingAccountID}[kind]
			if !fields[id].Required {
				t.Fatalf("%s is not required", id)
			}
			if w, ok := a.(channel.Windowed); !ok || w.Window(&parley.Channel{Settings: map[string]string{}}) != 24*time.Hour {
				t.Fatal("not a 24-hour window")
			}
			if _, ok := a.(channel.ReplyChecker); !ok {
				t.Fatal("no reply check")
			}
		})
	}
}

// TestVerification covers what the three share: Meta's handshake, and
// the signature over the raw body (Meta escapes non-ASCII and slashes,
// so a re-encoded body would not match).
func TestVerification(t *testing.T) {
	fake := newFake(t)
	for kind, a := range adapters() {
		t.Run(kind, func(t *testing.T) {
			ch := channelFor(fake, kind)
			h := newHook(t, a, ch)
			if status, body := fake.Verify(h.URL(), verifyToken, "1158201444"); status != http.StatusOK || body != "1158201444" {
				t.Fatalf("handshake: %d %q", status, body)
			}
			if status, _ := fake.Verify(h.URL(), "guess", "1158201444"); status != http.StatusUnauthorized || !errors.Is(h.lastErr(), channel.ErrSignature) {
				t.Fatalf("a wrong verify token answered %d (%v)", status, h.lastErr())
			}
			var w metafake.Webhook
			switch kind {
			case parley.ChannelWhatsApp:
				w = fake.WhatsAppMessages(metafake.WAMessage{From: "15551230001", Name: "Zoë", Text: "héllo / ünïcode 😀"})
			case parley.ChannelMessenger:
				w = fake.MessengerMessages(metafake.FBMessage{From: "6000001", Text: "héllo / ünïcode 😀"})
			default:
				w = fake.InstagramMessages(metafake.FBMessage{From: "7000001", Text: "héllo / ünïcode 😀"})
			}
			if !bytes.Contains(w.Body, []byte(`\u00e9`)) || !bytes.Contains(w.Body, []byte(`\/`)) {
				t.Fatalf("the fake does not escape as Meta does: %s", w.Body)
			}
			in := h.post(t, fake, w)
			if len(in.Messages) != 1 || in.Messages[0].Text != "héllo / ünïcode 😀" {
				t.Fatalf("messages: %+v", in.Messages)
			}
			for name, status := range map[string]int{
				"forged":   fake.PostForged(h.URL(), w),
				"unsigned": fake.PostSigned(h.URL(), w, ""),
			} {
				if status != http.StatusUnauthorized || !errors.Is(h.lastErr(), channel.ErrSignature) {
					t.Fatalf("%s: answered %d (%v)", name, status, h.lastErr())
				}
			}
			// A channel whose app secret is missing accepts nothing.
			noSecret := channelFor(fake, kind)
			delete(noSecret.Secrets, meta.SecretAppSecret)
			if _, err := a.Webhook(context.Background(), noSecret, &channel.Request{Method: "POST", Header: http.Header{
				"X-Hub-Signature-256": {metafake.Sign(w.Body, "")}}, Body: w.Body}); !errors.Is(err, channel.ErrSignature) {
				t.Fatalf("without an app secret: %v", err)
			}
		})
	}
}

// TestTest covers "test connection": what answered, and a bad token.
func TestTest(t *testing.T) {
	fake := newFake(t)
	want := map[string]string{
		parley.ChannelWhatsApp:  "WhatsApp number +1 555-010-0199 (Parley Test)",
		parley.ChannelMessenger: "Facebook page Parley Test Page (112233445566778)",
		parley.ChannelInstagram: "Instagram account @parley_test",
	}
	for kind, a := range adapters() {
		t.Run(kind, func(t *testing.T) {
			ch := channelFor(fake, kind)
			got, err := a.Test(context.Background(), ch)
			if err != nil || got != want[kind] {
				t.Fatalf("Test = %q, %v; want %q", got, err, want[kind])
			}
			ch.Secrets[meta.SecretAccessToken] = "expired"
			_, err = a.Test(context.Background(), ch)
			if e := asError(t, err); e.Temporary || e.Code != "190" || !strings.Contains(e.Message, "access token") {
				t.Fatalf("a bad token: %+v", e)
			}
		})
	}
	calls := fake.Calls()
	for _, want := range []string{"GET /v23.0/" + metafake.PhoneNumberID, "GET /v23.0/" + metafake.PageID, "GET /v23.0/" + metafake.InstagramID} {
		if !strings.Contains(strings.Join(calls, "\n"), want) {
			t.Fatalf("calls %q lack %q", calls, want)
		}
	}
}

// TestUnreachable: a service that cannot be reached is retried.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	for kind, a := range adapters() {
		ch := &parley.Channel{Kind: kind, Settings: map[string]string{meta.SettingBaseURL: srv.URL, meta.SettingPhoneNumberID: "1",
			meta.SettingPageID: "1", meta.SettingAccountID: "1"}, Secrets: map[string]string{meta.SecretAccessToken: token}}
		_, err := a.Send(context.Background(), ch, reply("42", "hello"))
		if e := asError(t, err); !e.Temporary {
			t.Fatalf("%s: %+v", kind, e)
		}
	}
}

// TestGraphErrors: what each of Meta's answers becomes.
func TestGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    string
		failure metafake.Failure
		temp    bool
		wait    time.Duration // at least
		code    string
		words   string
	}{
		{"WhatsApp throughput", parley.ChannelWhatsApp, metafake.Failure{Status: 429}, true, time.Second, "130429", "more slowly"},
		{"Retry-After", parley.ChannelWhatsApp, metafake.Failure{Status: 429, RetryAfter: 7 * time.Second}, true, 7 * time.Second, "130429", ""},
		{"throughput as a 400", parley.ChannelWhatsApp, metafake.Failure{Code: 130429}, true, time.Second, "130429", ""},
		{"Messenger rate limit", parley.ChannelMessenger, metafake.Failure{Status: 429}, true, time.Minute, "613", "rate limit"},
		{"Instagram rate limit", parley.ChannelInstagram, metafake.Failure{Code: 613}, true, time.Minute, "613", "rate limit"},
		{"Meta down", parley.ChannelWhatsApp, metafake.Failure{Status: 500}, true, 0, "2", ""},
		{"pair rate limit", parley.ChannelWhatsApp, metafake.Failure{Code: 131056}, true, 0, "131056", "same customer"},
		{"window closed", parley.ChannelWhatsApp, metafake.Failure{Code: 131047}, false, 0, "131047", "template"},
		{"undeliverable", parley.ChannelWhatsApp, metafake.Failure{Code: 131026}, false, 0, "131026", "may not use WhatsApp"},
		{"unavailable", parley.ChannelMessenger, metafake.Failure{Code: 551}, false, 0, "551", "cannot be reached"},
		{"Messenger window", parley.ChannelMessenger, metafake.Failure{Code: 10, Subcode: 2534022}, false, 0, "10/2534022", "human agent"},
		{"Instagram window", parley.ChannelInstagram, metafake.Failure{Code: 10, Subcode: 2534022}, false, 0, "10/2534022", "24 hours"},
		{"token", parley.ChannelMessenger, metafake.Failure{Code: 190}, false, 0, "190", "access token"},
		{"permission", parley.ChannelMessenger, metafake.Failure{Code: 200}, false, 0, "200", "pages_messaging"},
		{"other", parley.ChannelInstagram, metafake.Failure{Code: 100, Message: "(#100) Something odd"}, false, 0, "100", "Something odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			fake.Fail(tc.failure)
			_, err := adapters()[tc.kind].Send(context.Background(), channelFor(fake, tc.kind), reply("100200300", "hello"))
			e := asError(t, err)
			t.Logf("%s (temporary %v, wait %s)", e, e.Temporary, e.RetryAfter)
			if e.Temporary != tc.temp || e.RetryAfter < tc.wait || e.Code != tc.code || !strings.Contains(e.Message, tc.words) {
				t.Fatalf("got %+v", e)
			}
			if !tc.temp && e.RetryAfter != 0 {
				t.Fatalf("a refusal with a wait: %+v", e)
			}
			if len(fake.Sent()) != 0 {
				t.Fatal("sent despite the failure")
			}
		})
	}
}

// TestThrottle: the fake throttles for a while, then takes messages.
func TestThrottle(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	ch := channelFor(fake, parley.ChannelWhatsApp)
	fake.Throttle(metafake.WhatsApp, 300*time.Millisecond, 0)
	for range 2 {
		_, err := a.Send(context.Background(), ch, reply(customer, "hi"))
		if e := asError(t, err); !e.Temporary || e.RetryAfter <= 0 {
			t.Fatalf("throttled: %+v", e)
		}
	}
	// Reads go on while sends are throttled.
	if _, err := a.Test(context.Background(), ch); err != nil {
		t.Fatalf("Test while throttled: %v", err)
	}
	time.Sleep(350 * time.Millisecond)
	if _, err := a.Send(context.Background(), ch, reply(customer, "hi")); err != nil {
		t.Fatalf("after the throttle: %v", err)
	}
	// N calls, then fine.
	fake.Fail(metafake.Failure{Status: http.StatusInternalServerError, Times: 2})
	for i := range 3 {
		_, err := a.Send(context.Background(), ch, reply(customer, "hi"))
		if (err != nil) != (i < 2) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
