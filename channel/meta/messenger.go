package meta

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Messenger's and Instagram's limits on a business's text.
const (
	fbMaxText = 2000 // characters
	igMaxText = 1000 // bytes
)

// platform is what Messenger and Instagram share: the Messenger
// Platform's send body (recipient, message) and webhook events (entry[].
// messaging[]).
type platform struct {
	graph
	kind      string
	idSetting string // the setting with the page's or account's id
}

// messenger is the Facebook Messenger channel: a Facebook page's
// conversations, with a Page access token.
type messenger struct {
	platform
}

// instagram is the Instagram messaging channel of an Instagram
// professional account, through the Instagram API with Instagram Login.
type instagram struct {
	platform
}

// Messenger returns the Facebook Messenger adapter; a nil client is
// channel.HTTPClient().
func Messenger(client *http.Client) channel.Adapter {
	return &messenger{platform{newGraph(client, "Messenger", FacebookURL, "pages_messaging"), parley.ChannelMessenger, SettingPageID}}
}

// Instagram returns the Instagram messaging adapter; a nil client is
// channel.HTTPClient().
func Instagram(client *http.Client) channel.Adapter {
	return &instagram{platform{newGraph(client, "Instagram", InstagramURL, "instagram_business_manage_messages"), parley.ChannelInstagram, SettingAccountID}}
}

func (a *platform) Kind() string { return a.kind }

// Spec describes a Messenger channel.
func (a *messenger) Spec() channel.Spec {
	settings := a.fields(channel.Field{Name: SettingPageID, Label: "Page ID", Required: true,
		Help: "the Facebook page's ID (the page's About → Page transparency, or Meta Business Suite)"})
	settings = append(settings, channel.Field{Name: SettingHumanAgent, Label: "Human agent tag", Default: "off", Options: []string{"off", "on"},
		Help: "on: answer up to 7 days after the customer's last message instead of 24 hours (the app needs Meta's approval of the Human Agent permission)"})
	return channel.Spec{
		Kind: parley.ChannelMessenger, Label: "Messenger", Webhook: true,
		Settings: settings,
		Secrets:  a.secrets("a Page access token with pages_messaging"),
		Rate:     20,
		// Delivered and read come as watermarks; a failure only as the
		// send's own error.
		Statuses: []parley.MsgStatus{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed},
		Limits:   parley.DefaultAttachmentLimits[parley.ChannelMessenger],
	}
}

// Spec describes an Instagram channel.
func (a *instagram) Spec() channel.Spec {
	return channel.Spec{
		Kind: parley.ChannelInstagram, Label: "Instagram", Webhook: true,
		Settings: a.fields(channel.Field{Name: SettingAccountID, Label: "Instagram account ID", Required: true,
			Help: "the professional account's ID (its user_id in the Instagram API with Instagram Login)"}),
		Secrets: a.secrets("an Instagram user access token with instagram_business_manage_messages"),
		// Instagram takes 100 texts but only 10 audio or video messages a
		// second per account.
		Rate:        10,
		FilesByLink: true,
		Statuses:    []parley.MsgStatus{parley.StatusSent, parley.StatusRead, parley.StatusFailed},
		Limits:      parley.DefaultAttachmentLimits[parley.ChannelInstagram],
	}
}

// Window is Messenger's standard messaging window, or 7 days with the
// human agent tag.
func (a *messenger) Window(ch *parley.Channel) time.Duration {
	if humanAgent(ch) {
		return humanAgentWindow
	}
	return window
}

// Window is Instagram's standard messaging window.
func (a *instagram) Window(*parley.Channel) time.Duration { return window }

func humanAgent(ch *parley.Channel) bool { return ch.Settings[SettingHumanAgent] == "on" }

// CheckReply refuses a text longer than Messenger takes.
func (a *messenger) CheckReply(_ *parley.Channel, m *parley.Message) error {
	if n := utf8.RuneCountInString(m.Text); n > fbMaxText {
		return channel.Refused("", "Messenger takes at most 2,000 characters of text; this one has %s", thousands(n))
	}
	return nil
}

// CheckReply refuses what Instagram would: a text over 1,000 bytes (not
// characters: an emoji counts four), or a kind of file it does not carry.
func (a *instagram) CheckReply(_ *parley.Channel, m *parley.Message) error {
	if err := igCheckText(m.Text); err != nil {
		return err
	}
	for _, f := range m.Files {
		if err := igCheckFile(f.Name, f.ContentType); err != nil {
			return err
		}
	}
	return nil
}

func igCheckText(text string) error {
	if n := len(text); n > igMaxText {
		return channel.Refused("", "Instagram takes at most 1,000 bytes of text; this one has %s", thousands(n))
	}
	return nil
}

// igTypes are the files Instagram carries (its attachment upload page):
// PNG, JPEG and GIF images, AAC, M4A, WAV and MP4 audio, MP4, OGG, AVI,
// MOV and WebM video, and PDF files.
var igTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true,
	"audio/aac": true, "audio/mp4": true, "audio/x-m4a": true, "audio/m4a": true, "audio/wav": true, "audio/x-wav": true, "audio/wave": true,
	"video/mp4": true, "video/ogg": true, "video/x-msvideo": true, "video/avi": true, "video/quicktime": true, "video/webm": true,
	"application/pdf": true,
}

func igCheckFile(name, ct string) error {
	if !igTypes[contentType(ct)] {
		return channel.Refused("", "Instagram carries only images (PNG, JPEG, GIF), audio (AAC, M4A, WAV), video (MP4, MOV, WebM, AVI, OGG) and PDF files; %q is %s",
			name, contentType(ct))
	}
	return nil
}

// Test asks the Graph API for the page's name.
func (a *messenger) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	var p struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	}
	if err := a.get(ctx, ch, a.url(ch, ch.Settings[SettingPageID])+"?fields=name", &p); err != nil {
		return "", err
	}
	return "Facebook page " + p.Name + " (" + p.ID + ")", nil
}

// Test asks the Graph API for the account's username.
func (a *instagram) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	var p struct {
		Username string `json:"username"`
	}
	if err := a.get(ctx, ch, a.url(ch, ch.Settings[SettingAccountID])+"?fields=username", &p); err != nil {
		return "", err
	}
	return "Instagram account @" + p.Username, nil
}

// sendResult is the Send API's answer.
type sendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// post sends one message (body with recipient and message) and returns
// its id.
func (a *platform) post(ctx context.Context, ch *parley.Channel, body map[string]any) (string, error) {
	var r sendResult
	if err := a.postJSON(ctx, ch, a.url(ch, ch.Settings[a.idSetting], "messages"), body, &r); err != nil {
		return "", err
	}
	return a.sent(r)
}

func (a *platform) sent(r sendResult) (string, error) {
	if r.MessageID == "" {
		return "", channel.Refused("", "%s took the message but gave no id for it", a.label)
	}
	return r.MessageID, nil
}

// Send delivers a reply: its text, then each file as a message of its
// own, by the file's link when the server has a public URL, else
// uploaded with the message. With the human agent tag on, every reply is
// tagged HUMAN_AGENT. It returns the last message's id.
func (a *messenger) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	to := out.Contact.Address
	if to == "" {
		return "", channel.Refused("", "the customer has no Messenger id")
	}
	if n := utf8.RuneCountInString(out.Text); n > fbMaxText {
		return "", channel.Refused("", "Messenger takes at most 2,000 characters of text; this one has %s", thousands(n))
	}
	typ, tag := "RESPONSE", ""
	if humanAgent(ch) {
		typ, tag = "MESSAGE_TAG", "HUMAN_AGENT"
	}
	body := func(message any) map[string]any {
		b := map[string]any{"recipient": map[string]string{"id": to}, "messaging_type": typ, "message": message}
		if tag != "" {
			b["tag"] = tag
		}
		return b
	}
	var last string
	if text := strings.TrimSpace(out.Text); text != "" {
		id, err := a.post(ctx, ch, body(map[string]any{"text": text}))
		if err != nil {
			return "", err
		}
		last = id
	}
	for _, f := range out.Files {
		kind := attachmentKind(f.ContentType)
		if f.URL != "" {
			id, err := a.post(ctx, ch, body(map[string]any{"attachment": map[string]any{"type": kind,
				"payload": map[string]any{"url": f.URL, "is_reusable": false}}}))
			if err != nil {
				return "", err
			}
			last = id
			continue
		}
		recipient, _ := json.Marshal(map[string]string{"id": to})
		message, _ := json.Marshal(map[string]any{"attachment": map[string]any{"type": kind, "payload": map[string]any{"is_reusable": false}}})
		fields := []string{"recipient", string(recipient), "messaging_type", typ}
		if tag != "" {
			fields = append(fields, "tag", tag)
		}
		fields = append(fields, "message", string(message))
		var r sendResult
		if err := a.postFile(ctx, ch, a.url(ch, ch.Settings[SettingPageID], "messages"), fields, "filedata", f, &r); err != nil {
			return "", err
		}
		id, err := a.sent(r)
		if err != nil {
			return "", err
		}
		last = id
	}
	if last == "" {
		return "", channel.Refused("", "the reply has neither text nor files")
	}
	return last, nil
}

// Send delivers a reply: its text, then each file as a message of its
// own, by the file's link (Instagram fetches files only from a public
// link). It returns the last message's id.
func (a *instagram) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	to := out.Contact.Address
	if to == "" {
		return "", channel.Refused("", "the customer has no Instagram id")
	}
	if err := igCheckText(out.Text); err != nil {
		return "", err
	}
	for _, f := range out.Files {
		if err := igCheckFile(f.Name, f.ContentType); err != nil {
			return "", err
		}
		if f.URL == "" {
			return "", channel.Refused("", "Instagram takes files only from a public link, and this server has none: set the server's public URL (PARLEY_PUBLIC_URL)")
		}
	}
	recipient := map[string]string{"id": to}
	var last string
	if text := strings.TrimSpace(out.Text); text != "" {
		id, err := a.post(ctx, ch, map[string]any{"recipient": recipient, "message": map[string]any{"text": text}})
		if err != nil {
			return "", err
		}
		last = id
	}
	for _, f := range out.Files {
		id, err := a.post(ctx, ch, map[string]any{"recipient": recipient, "message": map[string]any{"attachment": map[string]any{
			"type": attachmentKind(f.ContentType), "payload": map[string]any{"url": f.URL}}}})
		if err != nil {
			return "", err
		}
		last = id
	}
	if last == "" {
		return "", channel.Refused("", "the reply has neither text nor files")
	}
	return last, nil
}

// fbPayload is a Messenger or Instagram webhook call.
type fbPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string    `json:"id"`
		Time      int64     `json:"time"`
		Messaging []fbEvent `json:"messaging"`
	} `json:"entry"`
}

type fbEvent struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Timestamp int64      `json:"timestamp"`
	Message   *fbMessage `json:"message"`
	Postback  *struct {
		Mid   string `json:"mid"`
		Title string `json:"title"`
	} `json:"postback"`
	Delivery *struct {
		Mids      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Mid       string `json:"mid"`
		Watermark int64  `json:"watermark"`
	} `json:"read"`
}

type fbMessage struct {
	Mid           string `json:"mid"`
	Text          string `json:"text"`
	IsEcho        bool   `json:"is_echo"`
	IsDeleted     bool   `json:"is_deleted"`
	IsUnsupported bool   `json:"is_unsupported"`
	Attachments   []struct {
		Type    string `json:"type"`
		Payload struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		} `json:"payload"`
	} `json:"attachments"`
	ReplyTo *struct {
		Mid string `json:"mid"`
	} `json:"reply_to"`
}

// Webhook answers Meta's handshake, checks a call's signature and reads
// its events. A Meta app has one Page webhook for all its pages: events
// of another page are left to that page's channel.
func (a *messenger) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	return a.webhook(ch, r, true)
}

// Webhook answers Meta's handshake, checks a call's signature and reads
// its events. Entries are not matched to the account: Instagram has two
// ids for an account (the app-scoped id and user_id), and an account
// filter that compared the wrong one would drop every message.
func (a *instagram) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	return a.webhook(ch, r, false)
}

func (a *platform) webhook(ch *parley.Channel, r *channel.Request, ownEntries bool) (*channel.Inbound, error) {
	if in, done, err := verified(ch, r); done || err != nil {
		return in, err
	}
	var p fbPayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return nil, parley.Invalid("body", "not a %s webhook payload: %v", a.label, err)
	}
	own := ch.Settings[a.idSetting]
	in := &channel.Inbound{}
	for _, e := range p.Entry {
		if ownEntries && e.ID != "" && e.ID != own {
			continue
		}
		for i := range e.Messaging {
			a.event(ch, &e.Messaging[i], in)
		}
	}
	return in, nil
}

// event adds what one messaging event carries: a customer's message or a
// button they tapped, or delivery and read news of Parley's messages.
// The business's own messages (echoes) are left.
func (a *platform) event(ch *parley.Channel, ev *fbEvent, in *channel.Inbound) {
	from := ev.Sender.ID
	if from == "" || from == ch.Settings[a.idSetting] {
		return
	}
	switch {
	case ev.Message != nil:
		m := ev.Message
		if m.IsEcho || m.IsDeleted || m.Mid == "" {
			return
		}
		in.Messages = append(in.Messages, a.inMessage(m, from))
	case ev.Postback != nil:
		if ev.Postback.Mid != "" {
			in.Messages = append(in.Messages, channel.InMessage{ExternalID: ev.Postback.Mid, From: from, Text: ev.Postback.Title})
		}
	case ev.Delivery != nil:
		a.reports(in, from, parley.StatusDelivered, ev.Delivery.Mids, ev.Delivery.Watermark)
	case ev.Read != nil:
		var mids []string
		if ev.Read.Mid != "" {
			mids = []string{ev.Read.Mid}
		}
		a.reports(in, from, parley.StatusRead, mids, ev.Read.Watermark)
	}
}

// reports adds the statuses of messages by id, and the watermark's (every
// message to the customer until then) when there is one.
func (a *platform) reports(in *channel.Inbound, from string, st parley.MsgStatus, mids []string, watermark int64) {
	for _, mid := range mids {
		in.Statuses = append(in.Statuses, channel.StatusReport{ExternalID: mid, From: from, Status: st})
	}
	if watermark > 0 {
		in.Statuses = append(in.Statuses, channel.StatusReport{From: from, Watermark: time.UnixMilli(watermark).UTC(), Status: st})
	}
}

// inMessage reads a customer's message; Meta does not name the customer
// in events (it would take a profile call, which needs more permissions).
func (a *platform) inMessage(m *fbMessage, from string) channel.InMessage {
	out := channel.InMessage{ExternalID: m.Mid, From: from, Text: m.Text}
	if m.ReplyTo != nil {
		out.ReplyTo = m.ReplyTo.Mid
	}
	var notes []string
	for _, at := range m.Attachments {
		link := at.Payload.URL
		switch at.Type {
		case "image", "video", "audio", "file":
			if link != "" {
				out.Files = append(out.Files, a.inFile(at.Type, link))
				continue
			}
		}
		note := "(" + strings.ReplaceAll(at.Type, "_", " ")
		if t := strings.TrimSpace(at.Payload.Title); t != "" {
			note += ": " + t
		}
		if link != "" {
			note += " " + link
		}
		notes = append(notes, note+")")
	}
	if len(notes) > 0 {
		out.Text = strings.TrimSpace(out.Text + "\n" + strings.Join(notes, "\n"))
	}
	if (out.Text == "" && len(out.Files) == 0) || m.IsUnsupported {
		out.Text = strings.TrimSpace(out.Text + "\n(a kind of " + a.label + " message Parley cannot show)")
	}
	return out
}

// inFile is an attachment at a link of Meta's file servers, fetched as it
// is: the link is signed and needs no token.
func (a *platform) inFile(kind, link string) channel.InFile {
	fallback := map[string]string{"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mp4"}[kind]
	if fallback == "" {
		fallback = "application/octet-stream"
	}
	name := ""
	if u, err := url.Parse(link); err == nil {
		if b := path.Base(u.Path); strings.Contains(b, ".") && len(b) <= 100 {
			name = b
		}
	}
	ct := mediaType(name, fallback)
	if name == "" {
		name = kind + extension(ct)
	}
	return channel.InFile{Name: name, ContentType: ct, Open: func(ctx context.Context) (io.ReadCloser, error) {
		return a.fetch(ctx, nil, link, false)
	}}
}

var (
	_ channel.Adapter      = (*messenger)(nil)
	_ channel.Windowed     = (*messenger)(nil)
	_ channel.ReplyChecker = (*messenger)(nil)
	_ channel.Adapter      = (*instagram)(nil)
	_ channel.Windowed     = (*instagram)(nil)
	_ channel.ReplyChecker = (*instagram)(nil)
)
