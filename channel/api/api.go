// Package api is the API channel: another system (a CRM, a shop, a custom
// bot) sends its customers' messages to Parley and receives the managers'
// replies. The system calls the channel's webhook URL with a bearer token
// the channel generates; Parley POSTs each reply as JSON to the system's
// url, signed with X-Parley-Signature (package signature), and reads
// the system's id for it from the answer. The format is in wire.go and,
// for the systems' authors, in docs/channels.md.
//
// The webhook takes one event, or a batch of them, as JSON:
//
//	POST <webhook URL>
//	Authorization: Bearer <token>
//	Content-Type: application/json
//
//	{"type": "message", "message": {"id": "m-1001",
//	  "from": {"id": "cust-42", "name": "Ann Lee", "email": "ann@example.com", "phone": "+15551230001"},
//	  "text": "Where is my order?", "reply_to": "m-1000",
//	  "files": [{"name": "receipt.pdf", "content_type": "application/pdf", "url": "https://crm.example.com/f/1"},
//	            {"name": "photo.jpg", "content_type": "image/jpeg", "data": "<standard base64>"}]}}
//
//	{"type": "status", "status": {"id": "<the id the system gave a reply>", "status": "delivered|read|failed", "error": "..."}}
//
//	{"events": [<event>, <event>, ...]}
//
// and answers 200 {"ok":true} once everything is stored. Anything it
// cannot take is refused whole with 400 naming the field
// ("events[1].message.from.id is required").
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/internal/jsontext"
	"github.com/parley-chat/parley/signature"
)

// Settings and secrets of an API channel, as Spec declares them.
const (
	SettingURL          = "url"
	SecretToken         = "token"
	SecretSigningSecret = "signing_secret"
)

// What one call may carry. The webhook's body is bounded by the server
// (32 MB, which inline files count against).
const (
	maxEvents = 100
	maxID     = 200   // characters of an id
	maxText   = 20000 // characters of a message's text
	maxFiles  = 10    // files of a message
	maxError  = 1000  // characters of a status's error
	// maxInline is how much of a reply's files travel inline (base64)
	// when the server has no public URL to link them from.
	maxInline = 25 << 20
)

// timeFormat is RFC 3339 with milliseconds, as Parley's API writes times.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Adapter is the API channel.
type Adapter struct {
	Client *http.Client
	// Now is the clock signatures are dated with (nil: time.Now).
	Now func() time.Time
}

// New returns the adapter; a nil client is channel.HTTPClient().
func New(client *http.Client) *Adapter {
	if client == nil {
		client = channel.HTTPClient()
	}
	return &Adapter{Client: client}
}

// Kind is parley.ChannelAPI.
func (a *Adapter) Kind() string { return parley.ChannelAPI }

// Spec describes an API channel.
func (a *Adapter) Spec() channel.Spec {
	return channel.Spec{
		Kind: parley.ChannelAPI, Label: "API", Webhook: true,
		Settings: []channel.Field{
			{Name: SettingURL, Label: "Reply URL", Required: true,
				Help: "your system's http(s) URL: Parley POSTs each reply there as JSON, signed with X-Parley-Signature"},
		},
		Secrets: []channel.Field{
			{Name: SecretToken, Label: "Token", Default: "(generated)",
				Help: "your system sends it as Authorization: Bearer <token> when it calls the webhook URL; shown once"},
			{Name: SecretSigningSecret, Label: "Signing secret", Default: "(generated)",
				Help: "Parley signs its calls to your system with it (X-Parley-Signature); shown once"},
		},
		Rate:     20,
		Statuses: []parley.MsgStatus{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed},
		Limits:   parley.DefaultAttachmentLimits[parley.ChannelAPI],
	}
}

func (a *Adapter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// target is the system's url, checked.
func target(ch *parley.Channel) (*url.URL, error) {
	u, err := url.Parse(ch.Settings[SettingURL])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, channel.Refused("", "the API channel's reply URL must be an http(s) URL")
	}
	return u, nil
}

// post sends a signed JSON body to the system and returns its answer's
// body, or why it failed: 429, 5xx and network failures are temporary
// (after the system's Retry-After), other answers refusals.
func (a *Adapter) post(ctx context.Context, ch *parley.Channel, body []byte) ([]byte, error) {
	u, err := target(ch)
	if err != nil {
		return nil, err
	}
	secret := ch.Secrets[SecretSigningSecret]
	if secret == "" {
		return nil, channel.Refused("", "the API channel has no signing secret")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, channel.Refused("", "the API channel's reply URL must be an http(s) URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley")
	req.Header.Set(signature.Header, signature.Sign([]byte(secret), a.now(), body))
	resp, err := a.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return nil, channel.Retry(0, "", "%s did not answer in time", u.Host)
		}
		return nil, channel.Retry(0, "", "%s could not be reached", u.Host)
	}
	defer resp.Body.Close()
	if resp.Request.Method != http.MethodPost {
		// A 301, 302 or 303 turned the POST into a GET without the reply:
		// whatever it answered, the reply did not arrive.
		return nil, channel.Refused("redirect", "%s redirected the call to %s: set the channel's reply URL to where it leads",
			u.Host, resp.Request.URL.Redacted())
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, channel.Retry(0, "", "%s's answer was cut off", u.Host)
	}
	if resp.StatusCode/100 == 2 {
		return answer, nil
	}
	msg := u.Host + " answered " + resp.Status
	if text := errorText(answer); text != "" {
		msg = u.Host + " refused: " + text
	}
	return nil, channel.HTTPError(resp, retryAfter(resp.Header.Get("Retry-After"), a.now()), "", msg)
}

// errorText is the "error" of a system's JSON refusal ({"error": "..."}
// or {"error": {"message": "..."}}), shortened for a message's status.
func errorText(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) != nil {
		var o struct {
			Message string `json:"message"`
		}
		json.Unmarshal(e.Error, &o)
		s = o.Message
	}
	if s == "" {
		s = e.Message
	}
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// Test pings the system's url with a signed {"type":"ping"}.
func (a *Adapter) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	u, err := target(ch)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(Ping{Type: "ping", SentAt: a.now().UTC().Format(timeFormat)})
	if _, err := a.post(ctx, ch, body); err != nil {
		return "", err
	}
	return u.Host + " answered the ping", nil
}

// Send POSTs a reply to the system and returns the system's id for it
// (its answer's "id"), or "parley-<message id>" when it gives none.
func (a *Adapter) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	if out.Message == nil || out.Contact == nil {
		return "", channel.Refused("", "a reply without its message or customer")
	}
	rm := ReplyMessage{ID: out.Message.ID, ConversationID: out.Message.ConversationID, To: Recipient{ID: out.Contact.Address},
		Text: out.Text, ReplyTo: out.ReplyTo}
	var inline int64
	for _, f := range out.Files {
		rf := ReplyFile{Name: f.Name, ContentType: f.ContentType, Size: f.Size, URL: f.URL}
		if f.URL == "" {
			// No public URL to link it from: its bytes go in the call.
			if inline += f.Size; inline > maxInline {
				return "", channel.Refused("", "without the server's public URL the API channel sends files inline, at most 25 MB of them a reply")
			}
			data, err := read(ctx, f)
			if err != nil {
				return "", err
			}
			rf.Data = base64.StdEncoding.EncodeToString(data)
		}
		rm.Files = append(rm.Files, rf)
	}
	body, err := json.Marshal(Reply{Type: "message", Message: rm, SentAt: out.Message.CreatedAt.UTC().Format(timeFormat)})
	if err != nil {
		return "", err
	}
	answer, err := a.post(ctx, ch, body)
	if err != nil {
		return "", err
	}
	if id := answerID(answer); id != "" {
		return id, nil
	}
	return "parley-" + strconv.FormatInt(out.Message.ID, 10), nil
}

// read reads a reply's file for sending inline.
func read(ctx context.Context, f channel.OutFile) ([]byte, error) {
	rc, err := f.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxInline+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInline {
		return nil, channel.Refused("", "without the server's public URL the API channel sends files inline, at most 25 MB of them a reply")
	}
	return data, nil
}

// answerID is the id in a system's answer ({"id": "..."} or a number), if
// it is one Parley can keep.
func answerID(body []byte) string {
	var ans struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &ans) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(ans.ID, &id) != nil {
		var n json.Number
		if json.Unmarshal(ans.ID, &n) != nil {
			return ""
		}
		id = n.String()
	}
	if id = strings.TrimSpace(id); checkID(id) != "" {
		return ""
	}
	return id
}

// Webhook checks the bearer token, then reads the event or the batch.
func (a *Adapter) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	want := ch.Secrets[SecretToken]
	auth := r.Header.Get("Authorization")
	if want == "" || len(auth) < 7 || !strings.EqualFold(auth[:7], "Bearer ") ||
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(auth[7:])), []byte(want)) != 1 {
		return nil, channel.ErrSignature
	}
	if r.Method != http.MethodPost {
		return nil, parley.Invalid("method", "the API channel's webhook takes a POST")
	}
	events, prefixes, err := decode(r.Body)
	if err != nil {
		return nil, err
	}
	in := &channel.Inbound{Response: &channel.Response{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"ok":true}` + "\n")}}
	for i := range events {
		if err := a.event(ch, prefixes[i], &events[i], in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// decode reads a body that is one event or a batch, strictly (unknown
// fields are errors too, so a misspelt field is not silently lost). It
// returns each event with the prefix its fields are named with in errors.
func decode(body []byte) ([]Event, []string, error) {
	// Event's fields, spelt out: an embedded Event would put its type's
	// name in the decoder's field paths.
	var env struct {
		Type    string            `json:"type"`
		Message *Message          `json:"message"`
		Status  *Status           `json:"status"`
		Events  []json.RawMessage `json:"events"`
	}
	if err := jsontext.Check(body, "body"); err != nil {
		return nil, nil, err
	}
	if err := strict(body, &env, ""); err != nil {
		return nil, nil, err
	}
	if env.Events == nil {
		return []Event{{Type: env.Type, Message: env.Message, Status: env.Status}}, []string{""}, nil
	}
	if env.Type != "" || env.Message != nil || env.Status != nil {
		return nil, nil, parley.Invalid("events", "a batch has only events: type, message and status go in each event")
	}
	if len(env.Events) == 0 || len(env.Events) > maxEvents {
		return nil, nil, parley.Invalid("events", "events must have 1 to %d events", maxEvents)
	}
	events := make([]Event, len(env.Events))
	prefixes := make([]string, len(env.Events))
	for i, raw := range env.Events {
		prefixes[i] = "events[" + strconv.Itoa(i) + "]."
		if err := strict(raw, &events[i], prefixes[i]); err != nil {
			return nil, nil, err
		}
	}
	return events, prefixes, nil
}

// strict decodes one JSON value, refusing unknown fields and trailing
// data, with errors that name the field.
func strict(data []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return parley.Invalid("body", "the body has more after its JSON value")
		}
		return nil
	}
	where := strings.TrimSuffix(prefix, ".")
	if where == "" {
		where = "body"
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := prefix + te.Field
		if te.Field == "" {
			field = where
		}
		return parley.Invalid(field, "%s must be %s, not %s", field, kind(te.Type), te.Value)
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Invalid("body", "the body is not JSON: %v", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return parley.Invalid(where, "%s has no field %s", where, name)
	}
	return parley.Invalid(where, "%s: %v", where, err)
}

// kind names a Go type as JSON would.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// event checks one event and adds what it carries to in.
func (a *Adapter) event(ch *parley.Channel, p string, ev *Event, in *channel.Inbound) error {
	switch ev.Type {
	case "message":
		if ev.Status != nil {
			return parley.Invalid(p+"status", "%sstatus does not belong in a message event", p)
		}
		if ev.Message == nil {
			return parley.Invalid(p+"message", "%smessage is required in a message event", p)
		}
		m, err := a.message(ch, p+"message.", ev.Message)
		if err != nil {
			return err
		}
		in.Messages = append(in.Messages, m)
	case "status":
		if ev.Message != nil {
			return parley.Invalid(p+"message", "%smessage does not belong in a status event", p)
		}
		if ev.Status == nil {
			return parley.Invalid(p+"status", "%sstatus is required in a status event", p)
		}
		st, err := status(p+"status.", ev.Status)
		if err != nil {
			return err
		}
		in.Statuses = append(in.Statuses, st)
	case "":
		return parley.Invalid(p+"type", "%stype is required: message or status", p)
	default:
		return parley.Invalid(p+"type", "%stype %q is not message or status", p, ev.Type)
	}
	return nil
}

// checkID says what is wrong with an id ("" if nothing).
func checkID(id string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return "is required"
	case utf8.RuneCountInString(id) > maxID:
		return fmt.Sprintf("is longer than %d characters", maxID)
	case strings.ContainsFunc(id, unicode.IsControl):
		return "has control characters"
	}
	return ""
}

func (a *Adapter) message(ch *parley.Channel, p string, m *Message) (channel.InMessage, error) {
	if why := checkID(m.ID); why != "" {
		return channel.InMessage{}, parley.Invalid(p+"id", "%sid %s", p, why)
	}
	if strings.HasPrefix(m.ID, "parley-") {
		return channel.InMessage{}, parley.Invalid(p+"id", "%sid may not start with parley- (Parley's own ids do)", p)
	}
	if why := checkID(m.From.ID); why != "" {
		return channel.InMessage{}, parley.Invalid(p+"from.id", "%sfrom.id %s", p, why)
	}
	if m.From.Email != "" {
		if addr, err := mail.ParseAddress(m.From.Email); err != nil || addr.Address != m.From.Email {
			return channel.InMessage{}, parley.Invalid(p+"from.email", "%sfrom.email %q is not an e-mail address", p, m.From.Email)
		}
	}
	for _, f := range [...]struct{ name, v string }{{"from.name", m.From.Name}, {"from.email", m.From.Email}, {"from.phone", m.From.Phone}} {
		if utf8.RuneCountInString(f.v) > maxID {
			return channel.InMessage{}, parley.Invalid(p+f.name, "%s%s is longer than %d characters", p, f.name, maxID)
		}
	}
	if m.ReplyTo != "" {
		if why := checkID(m.ReplyTo); why != "" {
			return channel.InMessage{}, parley.Invalid(p+"reply_to", "%sreply_to %s", p, why)
		}
	}
	if n := utf8.RuneCountInString(m.Text); n > maxText {
		return channel.InMessage{}, parley.Invalid(p+"text", "%stext is longer than %d characters", p, maxText)
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Files) == 0 {
		return channel.InMessage{}, parley.Invalid(p+"text", "%stext or %sfiles is required", p, p)
	}
	if len(m.Files) > maxFiles {
		return channel.InMessage{}, parley.Invalid(p+"files", "%sfiles has more than %d files", p, maxFiles)
	}
	out := channel.InMessage{ExternalID: m.ID, From: m.From.ID, Name: strings.TrimSpace(m.From.Name),
		Email: m.From.Email, Phone: strings.TrimSpace(m.From.Phone), Text: m.Text, ReplyTo: m.ReplyTo}
	for i := range m.Files {
		f, err := a.file(p+"files["+strconv.Itoa(i)+"].", &m.Files[i])
		if err != nil {
			return channel.InMessage{}, err
		}
		out.Files = append(out.Files, f)
	}
	return out, nil
}

// file checks a customer's file: a link fetched when the message is
// stored, or its bytes.
func (a *Adapter) file(p string, f *File) (channel.InFile, error) {
	if (f.URL == "") == (f.Data == "") {
		return channel.InFile{}, parley.Invalid(p+"url", "%surl or %sdata is required (one of them)", p, p)
	}
	name := strings.TrimSpace(f.Name)
	if utf8.RuneCountInString(name) > 255 || strings.ContainsFunc(name, unicode.IsControl) {
		return channel.InFile{}, parley.Invalid(p+"name", "%sname is longer than 255 characters or has control characters", p)
	}
	var link *url.URL
	if f.URL != "" {
		var err error
		link, err = url.Parse(f.URL)
		if err != nil || (link.Scheme != "http" && link.Scheme != "https") || link.Host == "" {
			return channel.InFile{}, parley.Invalid(p+"url", "%surl is not an http(s) URL", p)
		}
		if name == "" {
			name = path.Base(link.Path)
		}
	}
	if name == "" || name == "/" || name == "." {
		name = "file"
	}
	ct := f.ContentType
	if ct == "" {
		if ct = mime.TypeByExtension(path.Ext(name)); ct == "" {
			ct = "application/octet-stream"
		}
	} else if _, _, err := mime.ParseMediaType(ct); err != nil {
		return channel.InFile{}, parley.Invalid(p+"content_type", "%scontent_type %q is not a media type", p, ct)
	}
	if link == nil {
		data, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			return channel.InFile{}, parley.Invalid(p+"data", "%sdata is not standard base64: %v", p, err)
		}
		return channel.InFile{Name: name, ContentType: ct, Size: int64(len(data)),
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}, nil
	}
	return channel.InFile{Name: name, ContentType: ct,
		Open: func(ctx context.Context) (io.ReadCloser, error) { return a.fetch(ctx, link) }}, nil
}

// fetch gets a customer's file from the system's link: a 4xx is the
// system's refusal (the message notes the file), a 5xx or no answer is
// retried with the whole call.
func (a *Adapter) fetch(ctx context.Context, link *url.URL) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
	if err != nil {
		return nil, channel.Refused("", "the file's link is not a URL")
	}
	req.Header.Set("User-Agent", "Parley")
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, channel.Retry(0, "", "%s could not be reached for a file", link.Host)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, channel.HTTPError(resp, 0, "", link.Host+" did not serve the file: "+resp.Status)
	}
	return resp.Body, nil
}

func status(p string, s *Status) (channel.StatusReport, error) {
	if why := checkID(s.ID); why != "" {
		return channel.StatusReport{}, parley.Invalid(p+"id", "%sid %s", p, why)
	}
	st := channel.StatusReport{ExternalID: s.ID, Error: strings.TrimSpace(s.Error)}
	switch s.Status {
	case "delivered":
		st.Status = parley.StatusDelivered
	case "read":
		st.Status = parley.StatusRead
	case "failed":
		st.Status = parley.StatusFailed
		if st.Error == "" {
			st.Error = "the system reported it failed, without a reason"
		}
	case "":
		return st, parley.Invalid(p+"status", "%sstatus is required: delivered, read or failed", p)
	default:
		return st, parley.Invalid(p+"status", "%sstatus %q is not delivered, read or failed", p, s.Status)
	}
	if s.Error != "" && s.Status != "failed" {
		return st, parley.Invalid(p+"error", "%serror belongs only to a failed status", p)
	}
	if utf8.RuneCountInString(s.Error) > maxError {
		return st, parley.Invalid(p+"error", "%serror is longer than %d characters", p, maxError)
	}
	return st, nil
}

// Interface guard.
var _ channel.Adapter = (*Adapter)(nil)
