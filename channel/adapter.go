// Package channel connects projects to the services their customers write
// from (issue 10): messengers, e-mail, SMS and other systems through the
// API. One Adapter per kind of service (channel/telegram, ...) speaks its
// API; this package holds what they share: the channels' settings, the
// inbound path from a webhook or a poll to the inbox, and the durable
// queue that carries replies out, with retries, rate limits and the
// statuses the services report.
package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Adapter speaks one service's API. Adapters hold no state of their own
// between calls: everything about a channel is in *parley.Channel.
type Adapter interface {
	// Kind is the channel kind it serves (parley.ChannelTelegram, ...).
	Kind() string
	// Spec describes the settings and secrets a channel of the kind takes.
	Spec() Spec
	// Test calls the service with the channel's credentials and says
	// what answered ("bot @acme_support").
	Test(ctx context.Context, ch *parley.Channel) (string, error)
	// Send delivers one message to a customer and returns the service's
	// id of it. Errors are *Error where the service said why.
	Send(ctx context.Context, ch *parley.Channel, out *Outbound) (string, error)
	// Webhook checks a request the service made to the channel's webhook
	// URL (ErrSignature when it does not prove it came from the service)
	// and returns what it carries.
	Webhook(ctx context.Context, ch *parley.Channel, r *Request) (*Inbound, error)
}

// Connector is an adapter that registers the channel with its service
// (Telegram's setWebhook) when the channel is saved or resumed, and
// unregisters it when it is paused or removed.
type Connector interface {
	Connect(ctx context.Context, ch *parley.Channel, webhookURL string) error
	Disconnect(ctx context.Context, ch *parley.Channel) error
}

// Poller is an adapter that can fetch messages itself, for services that
// cannot reach Parley (Telegram's getUpdates, IMAP). Poll runs on the one
// node that holds the channel's lease until ctx ends; it hands each batch
// to deliver, which returns once the batch is stored, and only then
// confirms the batch to the service.
type Poller interface {
	// Polls reports whether the channel is set up to poll.
	Polls(ch *parley.Channel) bool
	Poll(ctx context.Context, ch *parley.Channel, deliver func(context.Context, *Inbound) error) error
}

// Windowed is an adapter whose service lets a business answer only for a
// while after the customer's last message (WhatsApp's 24 hours).
type Windowed interface {
	Window(ch *parley.Channel) time.Duration
}

// ReplyChecker is an adapter whose service refuses some replies outright
// (Instagram's texts over 1,000 bytes, SMS files): CheckReply says why,
// in words for the manager, before the reply is stored.
type ReplyChecker interface {
	CheckReply(ch *parley.Channel, m *parley.Message) error
}

// Spec describes a kind of channel for administrators and for checking
// what they enter.
type Spec struct {
	Kind  string `json:"kind"`
	Label string `json:"label"` // "Telegram"
	// Settings and Secrets are the fields a channel takes.
	Settings []Field `json:"settings"`
	Secrets  []Field `json:"secrets"`
	// Webhook says the service calls the channel's webhook URL (or can:
	// see Poller).
	Webhook bool `json:"webhook"`
	// Rate is how many messages a second the service accepts from one
	// channel; the queue never sends faster. ChatRate is how many it
	// accepts to one customer (0: no limit of its own), with short bursts
	// of ChatBurst.
	Rate      float64 `json:"rate"`
	ChatRate  float64 `json:"chat_rate,omitempty"`
	ChatBurst int     `json:"chat_burst,omitempty"`
	// FilesByLink: the service takes a reply's files only as links it
	// fetches (OutFile.URL), so without the server's public URL replies
	// with files are refused before they are stored.
	FilesByLink bool `json:"files_by_link,omitempty"`
	// Statuses lists the delivery statuses the service reports.
	Statuses []parley.MsgStatus `json:"statuses"`
	// Limits are its attachment limits (parley.DefaultAttachmentLimits).
	Limits parley.AttachmentLimits `json:"limits"`
}

// Field is one setting or secret.
type Field struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Help     string   `json:"help,omitempty"`
	Required bool     `json:"required"`
	Default  string   `json:"default,omitempty"`
	Options  []string `json:"options,omitempty"` // the allowed values, when there is a choice
}

// Request is a webhook call as the adapter checks it: URL is the public
// URL the service called (signatures such as Twilio's cover it), Body the
// raw bytes (signatures cover them; never re-encode).
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// Inbound is what a webhook call or a poll carries.
type Inbound struct {
	Messages []InMessage
	Statuses []StatusReport
	// Response is what the service is answered once everything is stored
	// (nil: 200 with no body).
	Response *Response
}

// Response is a webhook's answer.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// InMessage is a customer's message.
type InMessage struct {
	// ExternalID is the service's id of the message: a redelivered
	// message with the same id is stored once.
	ExternalID string
	// From is the customer's address in the channel (chat id, phone,
	// e-mail address); Name, Email and Phone fill a new customer's card.
	From  string
	Name  string
	Email string
	Phone string
	// Subject titles a new dialog (e-mail).
	Subject string
	Text    string
	// ReplyTo is the service's id of the message this one answers.
	ReplyTo string
	Files   []InFile
}

// InFile is an attachment to fetch into Parley's file store.
type InFile struct {
	Name        string
	ContentType string
	Size        int64 // 0: unknown until read
	// Open reads the file, from the service or from memory.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// StatusReport is the service's news of a message Parley sent: by its id,
// or, with Watermark, every message to the customer From sent until then
// (Messenger's delivery and read watermarks).
type StatusReport struct {
	ExternalID string
	From       string
	Watermark  time.Time
	Status     parley.MsgStatus // delivered, read or failed (sent: accepted)
	Error      string           // why it failed, in the service's words
}

// Outbound is a reply for the service to carry.
type Outbound struct {
	Message *parley.Message
	Contact *parley.Contact // the customer: Contact.Address is where it goes
	Text    string
	Files   []OutFile
	// ReplyTo is the service's id of the quoted message, if it has one.
	ReplyTo string
	// Subject is the dialog's subject (e-mail), and Thread the service's
	// ids of the dialog's earlier messages, newest first (e-mail's
	// In-Reply-To and References).
	Subject string
	Thread  []string
	// StatusURL is where the service reports the message's delivery: the
	// channel's webhook URL ("" without the server's public URL).
	StatusURL string
}

// OutFile is an attachment of a reply: its bytes (Open), and a link the
// service can fetch it from for services that take files by URL (empty
// when the server has no public URL; valid for a day).
type OutFile struct {
	Name        string
	ContentType string
	Size        int64
	Open        func(ctx context.Context) (io.ReadCloser, error)
	URL         string
}

// ErrSignature is a webhook call that does not prove it came from the
// service (a bad or missing signature or secret): refused and logged.
var ErrSignature = errors.New("the request's signature or secret is wrong")

// Error is a service's refusal or failure of a call.
type Error struct {
	// Temporary errors are retried: timeouts, 5xx, rate limits.
	Temporary bool
	// RetryAfter is the wait the service asked for (a 429's).
	RetryAfter time.Duration
	// Code is the service's own error code; Message says what happened in
	// words a manager can act on, shown on a message that failed.
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Code != "" {
		return e.Message + " (" + e.Code + ")"
	}
	return e.Message
}

// Refused is a permanent refusal.
func Refused(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Retry is a temporary failure, retried after wait (0: the queue's
// backoff).
func Retry(wait time.Duration, code, format string, args ...any) *Error {
	return &Error{Temporary: true, RetryAfter: wait, Code: code, Message: fmt.Sprintf(format, args...)}
}

// HTTPError classifies a service's HTTP answer that is not a success: 429
// and 5xx are temporary, the rest permanent. retryAfter is the service's
// wait (or the Retry-After header's, when 0).
func HTTPError(resp *http.Response, retryAfter time.Duration, code, msg string) *Error {
	if retryAfter == 0 {
		retryAfter = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	if msg == "" {
		msg = resp.Status
	}
	if code == "" {
		code = fmt.Sprint(resp.StatusCode)
	}
	temp := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return &Error{Temporary: temp, RetryAfter: retryAfter, Code: code, Message: msg}
}

// RetryAfter reads a Retry-After header: seconds, or an HTTP date (0:
// none, or unreadable).
func RetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// asError returns err as the service's *Error; anything else (a network
// failure, a timeout) is temporary.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Temporary: true, Message: err.Error()}
}
