package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// WhatsApp's limits on what a business sends (Cloud API reference).
const (
	waMaxText    = 4096 // characters of a text message
	waMaxCaption = 1024 // characters of a media caption
)

// whatsApp is the WhatsApp Cloud API channel: a business phone number's
// messages, sent through /{phone-number-id}/messages, with files uploaded
// to /{phone-number-id}/media first.
type whatsApp struct {
	graph
}

// WhatsApp returns the WhatsApp Cloud API adapter; a nil client is
// channel.HTTPClient().
func WhatsApp(client *http.Client) channel.Adapter {
	return &whatsApp{newGraph(client, "WhatsApp", FacebookURL, "whatsapp_business_messaging")}
}

func (a *whatsApp) Kind() string { return parley.ChannelWhatsApp }

// Spec describes a WhatsApp channel.
func (a *whatsApp) Spec() channel.Spec {
	return channel.Spec{
		Kind: parley.ChannelWhatsApp, Label: "WhatsApp", Webhook: true,
		Settings: a.fields(channel.Field{Name: SettingPhoneNumberID, Label: "Phone number ID", Required: true,
			Help: "WhatsApp Manager → API setup: the ID of the business phone number (not the number itself)"}),
		Secrets: a.secrets("a system user's permanent token with whatsapp_business_messaging"),
		// The Cloud API's default throughput is 80 messages a second per
		// number; the queue stays well under it.
		Rate:     50,
		Statuses: []parley.MsgStatus{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed},
		Limits:   parley.DefaultAttachmentLimits[parley.ChannelWhatsApp],
	}
}

// Window is WhatsApp's customer service window: free-form replies only
// within 24 hours of the customer's last message.
func (a *whatsApp) Window(*parley.Channel) time.Duration { return window }

// CheckReply refuses a text longer than WhatsApp takes, before it is
// stored.
func (a *whatsApp) CheckReply(_ *parley.Channel, m *parley.Message) error {
	if n := utf8.RuneCountInString(m.Text); n > waMaxText {
		return channel.Refused("", "WhatsApp takes at most 4,096 characters of text; this one has %s", thousands(n))
	}
	return nil
}

// Test asks the Graph API for the channel's phone number.
func (a *whatsApp) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	var p struct {
		ID                 string `json:"id"`
		DisplayPhoneNumber string `json:"display_phone_number"`
		VerifiedName       string `json:"verified_name"`
	}
	if err := a.get(ctx, ch, a.url(ch, ch.Settings[SettingPhoneNumberID]), &p); err != nil {
		return "", err
	}
	return fmt.Sprintf("WhatsApp number %s (%s)", p.DisplayPhoneNumber, p.VerifiedName), nil
}

// waKind is the Cloud API's message type for a file: the types it plays
// as media, a document otherwise.
func waKind(ct string) string {
	switch contentType(ct) {
	case "image/jpeg", "image/png":
		return "image"
	case "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg":
		return "audio"
	case "video/mp4", "video/3gpp":
		return "video"
	}
	return "document"
}

// Send delivers a reply: its text as the first file's caption when it
// fits (audio takes none), else as a text message first; then each file,
// sent by the media id of its upload. Only the first message quotes
// ReplyTo. It returns the last message's wamid.
func (a *whatsApp) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	to := out.Contact.Address
	if to == "" {
		return "", channel.Refused("", "the customer has no WhatsApp number")
	}
	if n := utf8.RuneCountInString(out.Text); n > waMaxText {
		return "", channel.Refused("", "WhatsApp takes at most 4,096 characters of text; this one has %s", thousands(n))
	}
	text, caption := strings.TrimSpace(out.Text), ""
	if len(out.Files) > 0 && text != "" && utf8.RuneCountInString(text) <= waMaxCaption && waKind(out.Files[0].ContentType) != "audio" {
		text, caption = "", text
	}
	replyTo := out.ReplyTo
	var last string
	send := func(typ string, content map[string]any) error {
		body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
			"type": typ, typ: content}
		if replyTo != "" {
			body["context"] = map[string]string{"message_id": replyTo}
			replyTo = ""
		}
		var resp struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := a.postJSON(ctx, ch, a.url(ch, ch.Settings[SettingPhoneNumberID], "messages"), body, &resp); err != nil {
			return err
		}
		if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
			return channel.Refused("", "WhatsApp took the message but gave no id for it")
		}
		last = resp.Messages[0].ID
		return nil
	}
	// Every file is uploaded before anything is sent: a failed upload,
	// retried, sends nothing twice.
	ids := make([]string, len(out.Files))
	for i, f := range out.Files {
		id, err := a.upload(ctx, ch, f)
		if err != nil {
			return "", err
		}
		ids[i] = id
	}
	if text != "" {
		if err := send("text", map[string]any{"body": text, "preview_url": strings.Contains(text, "://")}); err != nil {
			return "", err
		}
	}
	for i, f := range out.Files {
		kind := waKind(f.ContentType)
		content := map[string]any{"id": ids[i]}
		if i == 0 && caption != "" {
			content["caption"] = caption
		}
		if kind == "document" {
			content["filename"] = fileName(f)
		}
		if err := send(kind, content); err != nil {
			return "", err
		}
	}
	if last == "" {
		return "", channel.Refused("", "the reply has neither text nor files")
	}
	return last, nil
}

// upload stores a file with WhatsApp and returns its media id.
func (a *whatsApp) upload(ctx context.Context, ch *parley.Channel, f channel.OutFile) (string, error) {
	var resp struct {
		ID string `json:"id"`
	}
	fields := []string{"messaging_product", "whatsapp", "type", contentType(f.ContentType)}
	if err := a.postFile(ctx, ch, a.url(ch, ch.Settings[SettingPhoneNumberID], "media"), fields, "file", f, &resp); err != nil {
		return "", err
	}
	if resp.ID == "" {
		return "", channel.Refused("", "WhatsApp took the file but gave no id for it")
	}
	return resp.ID, nil
}

// waPayload is a WhatsApp webhook call.
type waPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string  `json:"field"`
			Value waValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type waValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []waMessage `json:"messages"`
	Statuses []waStatus  `json:"statuses"`
}

type waMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Filename string `json:"filename"`
	Caption  string `json:"caption"`
	Voice    bool   `json:"voice"`
}

type waMessage struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *waMedia `json:"image"`
	Audio    *waMedia `json:"audio"`
	Voice    *waMedia `json:"voice"`
	Video    *waMedia `json:"video"`
	Document *waMedia `json:"document"`
	Sticker  *waMedia `json:"sticker"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
	} `json:"contacts"`
	Button *struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Reaction *struct {
		Emoji string `json:"emoji"`
	} `json:"reaction"`
	System *struct {
		Body string `json:"body"`
	} `json:"system"`
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
}

type waStatus struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code    int             `json:"code"`
		Title   string          `json:"title"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"error_data"`
	} `json:"errors"`
}

// Webhook answers Meta's handshake, checks a call's signature and reads
// the customers' messages and the statuses of Parley's. Changes for
// another phone number of the same business account are left: they
// belong to another channel.
func (a *whatsApp) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	if in, done, err := verified(ch, r); done || err != nil {
		return in, err
	}
	var p waPayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return nil, parley.Invalid("body", "not a WhatsApp webhook payload: %v", err)
	}
	in := &channel.Inbound{}
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			v := &c.Value
			if c.Field != "messages" || (v.Metadata.PhoneNumberID != "" && v.Metadata.PhoneNumberID != ch.Settings[SettingPhoneNumberID]) {
				continue
			}
			for i := range v.Messages {
				if m, ok := a.inMessage(ch, v, &v.Messages[i]); ok {
					in.Messages = append(in.Messages, m)
				}
			}
			for _, s := range v.Statuses {
				if st, ok := a.status(&s); ok {
					in.Statuses = append(in.Statuses, st)
				}
			}
		}
	}
	return in, nil
}

// inMessage reads a customer's message; ok is false for what is not one
// (a reaction taken back).
func (a *whatsApp) inMessage(ch *parley.Channel, v *waValue, m *waMessage) (channel.InMessage, bool) {
	out := channel.InMessage{ExternalID: m.ID, From: m.From}
	if m.From != "" {
		out.Phone = "+" + m.From
	}
	for _, c := range v.Contacts {
		if c.WaID == m.From || len(v.Contacts) == 1 {
			out.Name = c.Profile.Name
		}
	}
	if m.Context != nil {
		out.ReplyTo = m.Context.ID
	}
	file := func(md *waMedia, kind string) {
		if md == nil || md.ID == "" {
			out.Text = "(a " + kind + " WhatsApp did not pass on)"
			return
		}
		ct := contentType(md.MimeType)
		if md.MimeType == "" {
			ct = mediaType(md.Filename, "application/octet-stream")
		}
		name := md.Filename
		if name == "" {
			name = kind + extension(ct)
		}
		out.Text = md.Caption
		id := md.ID
		out.Files = append(out.Files, channel.InFile{Name: name, ContentType: ct,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return a.media(ctx, ch, id) }})
	}
	switch m.Type {
	case "text":
		if m.Text != nil {
			out.Text = m.Text.Body
		}
	case "image":
		file(m.Image, "image")
	case "video":
		file(m.Video, "video")
	case "document":
		file(m.Document, "document")
	case "audio":
		if m.Audio != nil && m.Audio.Voice {
			file(m.Audio, "voice")
		} else {
			file(m.Audio, "audio")
		}
	case "voice":
		file(m.Voice, "voice")
	case "sticker":
		out.Text = "(a sticker)"
	case "location":
		out.Text = "(a location)"
		if l := m.Location; l != nil {
			var parts []string
			for _, p := range []string{l.Name, l.Address} {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			parts = append(parts, fmt.Sprintf("%.6f,%.6f", l.Latitude, l.Longitude))
			out.Text = "(a location: " + strings.Join(parts, ", ") + ")"
		}
	case "contacts":
		var names []string
		for _, c := range m.Contacts {
			names = append(names, c.Name.FormattedName)
		}
		out.Text = "(a contact card: " + strings.Join(names, ", ") + ")"
	case "button":
		if m.Button != nil {
			out.Text = m.Button.Text
		}
	case "interactive":
		if i := m.Interactive; i != nil && i.ButtonReply != nil {
			out.Text = i.ButtonReply.Title
		} else if i != nil && i.ListReply != nil {
			out.Text = i.ListReply.Title
		}
	case "reaction":
		if m.Reaction == nil || m.Reaction.Emoji == "" {
			return out, false
		}
		out.Text = "(reacted " + m.Reaction.Emoji + ")"
	case "system":
		if m.System != nil {
			out.Text = "(" + m.System.Body + ")"
		}
	}
	if out.Text == "" && len(out.Files) == 0 {
		out.Text = "(a kind of WhatsApp message Parley cannot show)"
	}
	return out, true
}

// media fetches a customer's file: its link from the Graph API, then the
// file from the link, both with the channel's token (links last 5
// minutes, media ids 7 days).
func (a *whatsApp) media(ctx context.Context, ch *parley.Channel, id string) (io.ReadCloser, error) {
	var m struct {
		URL string `json:"url"`
	}
	if err := a.get(ctx, ch, a.url(ch, id), &m); err != nil {
		return nil, err
	}
	if m.URL == "" {
		return nil, channel.Refused("", "WhatsApp gave no link for the file")
	}
	return a.fetch(ctx, ch, m.URL, true)
}

// status reads the status of a message Parley sent.
func (a *whatsApp) status(s *waStatus) (channel.StatusReport, bool) {
	st := channel.StatusReport{ExternalID: s.ID, From: s.RecipientID}
	switch s.Status {
	case "sent":
		st.Status = parley.StatusSent
	case "delivered":
		st.Status = parley.StatusDelivered
	case "read":
		st.Status = parley.StatusRead
	case "failed":
		st.Status = parley.StatusFailed
		st.Error = "WhatsApp could not deliver the message"
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			st.Error = fmt.Sprintf("%s (%d)", a.explain(&graphError{Code: e.Code, Message: firstOf(e.Title, e.Message), Data: e.Data}), e.Code)
		}
	default:
		return st, false
	}
	return st, s.ID != ""
}

var (
	_ channel.Adapter      = (*whatsApp)(nil)
	_ channel.Windowed     = (*whatsApp)(nil)
	_ channel.ReplyChecker = (*whatsApp)(nil)
)
