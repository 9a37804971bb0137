// Package telegram is the Telegram Bot API channel: customers write to a
// bot, by webhook (with the secret token Telegram echoes) or, where Parley
// has no public URL, by long polling getUpdates; replies go out with
// sendMessage, sendPhoto, sendDocument and sendVoice. Telegram reports no
// delivery or read receipts: a reply is sent or failed.
package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Settings and secrets of a Telegram channel.
const (
	settingBaseURL = "base_url"
	settingMode    = "mode"
	secretToken    = "token"
	secretWebhook  = "webhook_secret"

	modeWebhook = "webhook"
	modePolling = "polling"
)

// DefaultBaseURL is Telegram's Bot API; a self-hosted Bot API server
// (which lifts the 20 MB download limit) replaces it.
const DefaultBaseURL = "https://api.telegram.org"

// downloadLimit is the largest file the cloud Bot API lets a bot fetch.
const downloadLimit = 20 << 20

// Adapter is the Telegram channel.
type Adapter struct {
	Client *http.Client
	// PollTimeout is getUpdates' long-poll wait (default 25 s).
	PollTimeout time.Duration
}

// New returns the adapter; a nil client is channel.HTTPClient().
func New(client *http.Client) *Adapter {
	if client == nil {
		client = channel.HTTPClient()
	}
	return &Adapter{Client: client, PollTimeout: 25 * time.Second}
}

// Kind is parley.ChannelTelegram.
func (a *Adapter) Kind() string { return parley.ChannelTelegram }

// Spec describes a Telegram channel.
func (a *Adapter) Spec() channel.Spec {
	return channel.Spec{
		Kind: parley.ChannelTelegram, Label: "Telegram", Webhook: true,
		Settings: []channel.Field{
			{Name: settingMode, Label: "How messages arrive", Default: modeWebhook, Options: []string{modeWebhook, modePolling},
				Help: "webhook: Telegram calls this server (it needs a public HTTPS URL); polling: this server asks Telegram (works behind NAT)"},
			{Name: settingBaseURL, Label: "Bot API URL", Default: DefaultBaseURL,
				Help: "Telegram's, or your own Bot API server's"},
		},
		Secrets: []channel.Field{
			{Name: secretToken, Label: "Bot token", Required: true, Help: "from @BotFather, like 123456:ABC-DEF..."},
			{Name: secretWebhook, Label: "Webhook secret", Default: "(generated)",
				Help: "Telegram sends it back with every call, proving the call is Telegram's"},
		},
		// About 30 messages a second across all chats, and about one a
		// second to one chat, short bursts tolerated (Bot FAQ).
		Rate:      25,
		ChatRate:  1,
		ChatBurst: 3,
		Statuses:  []parley.MsgStatus{parley.StatusSent, parley.StatusFailed},
		Limits:    parley.DefaultAttachmentLimits[parley.ChannelTelegram],
	}
}

// envelope is every Bot API answer.
type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (a *Adapter) method(ch *parley.Channel, name string) string {
	base := strings.TrimRight(ch.Settings[settingBaseURL], "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return base + "/bot" + ch.Secrets[secretToken] + "/" + name
}

// call makes one Bot API call with a JSON body (or, with files, a
// multipart one) and decodes its result into out.
func (a *Adapter) call(ctx context.Context, ch *parley.Channel, name string, params any, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.method(ch, name), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req, out)
}

func (a *Adapter) do(req *http.Request, out any) error {
	resp, err := a.Client.Do(req)
	if err != nil {
		// The URL holds the token: never let it reach a log.
		return channel.Retry(0, "", "Telegram could not be reached")
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&env); err != nil {
		return channel.HTTPError(resp, 0, "", "Telegram answered "+resp.Status)
	}
	if !env.OK {
		return telegramError(resp, &env)
	}
	if out != nil {
		return json.Unmarshal(env.Result, out)
	}
	return nil
}

// telegramError says what a refusal means for a manager.
func telegramError(resp *http.Response, env *envelope) *channel.Error {
	code := strconv.Itoa(env.ErrorCode)
	d := env.Description
	switch {
	case env.ErrorCode == http.StatusTooManyRequests:
		return channel.Retry(time.Duration(env.Parameters.RetryAfter)*time.Second, code, "Telegram asks to slow down: %s", d)
	case env.ErrorCode == http.StatusUnauthorized:
		return channel.Refused(code, "Telegram does not know this bot token (%s)", d)
	case env.ErrorCode == http.StatusForbidden:
		return channel.Refused(code, "Telegram refused: %s (the customer may have blocked the bot)", d)
	case env.ErrorCode == http.StatusConflict:
		return channel.Refused(code, "Telegram: %s", d)
	}
	e := channel.HTTPError(resp, time.Duration(env.Parameters.RetryAfter)*time.Second, code, "Telegram: "+d)
	if env.ErrorCode >= 500 {
		e.Temporary = true
	}
	return e
}

type user struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

// Test asks Telegram who the bot is.
func (a *Adapter) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	var me user
	if err := a.call(ctx, ch, "getMe", struct{}{}, &me); err != nil {
		return "", err
	}
	return "bot @" + me.Username + " (" + me.FirstName + ")", nil
}

// Connect points Telegram at the channel's webhook, or, for polling,
// removes any webhook (getUpdates does not work while one is set).
func (a *Adapter) Connect(ctx context.Context, ch *parley.Channel, webhookURL string) error {
	if ch.Settings[settingMode] == modePolling {
		return a.call(ctx, ch, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil)
	}
	if !strings.HasPrefix(webhookURL, "https://") && !strings.HasPrefix(webhookURL, "http://") {
		return channel.Refused("", "Telegram needs this server's public URL for a webhook: set PARLEY_PUBLIC_URL, or choose polling")
	}
	return a.call(ctx, ch, "setWebhook", map[string]any{"url": webhookURL, "secret_token": ch.Secrets[secretWebhook],
		"allowed_updates": []string{"message"}}, nil)
}

// Disconnect removes the webhook; Telegram keeps the updates that arrive
// meanwhile (up to 24 hours) for when the channel is resumed.
func (a *Adapter) Disconnect(ctx context.Context, ch *parley.Channel) error {
	return a.call(ctx, ch, "deleteWebhook", map[string]any{"drop_pending_updates": false}, nil)
}

// Update is what Telegram sends: a webhook's body, getUpdates' items.
type update struct {
	UpdateID int64    `json:"update_id"`
	Message  *message `json:"message"`
}

type chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type file struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MimeType string `json:"mime_type"`
	FileSize int64  `json:"file_size"`
}

type message struct {
	MessageID int64    `json:"message_id"`
	Date      int64    `json:"date"`
	Chat      chat     `json:"chat"`
	From      *user    `json:"from"`
	Text      string   `json:"text"`
	Caption   string   `json:"caption"`
	Photo     []file   `json:"photo"`
	Document  *file    `json:"document"`
	Voice     *file    `json:"voice"`
	Audio     *file    `json:"audio"`
	Video     *file    `json:"video"`
	Sticker   *sticker `json:"sticker"`
	ReplyTo   *message `json:"reply_to_message"`
}

type sticker struct {
	Emoji string `json:"emoji"`
}

// Webhook checks the secret Telegram echoes and reads the update.
func (a *Adapter) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	want := ch.Secrets[secretWebhook]
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, channel.ErrSignature
	}
	if r.Method != http.MethodPost {
		return nil, parley.Invalid("method", "Telegram's webhook is a POST")
	}
	var u update
	if err := json.Unmarshal(r.Body, &u); err != nil {
		return nil, parley.Invalid("body", "not a Telegram update: %v", err)
	}
	return a.inbound(ch, []update{u}), nil
}

// inbound turns updates into messages; updates other than new messages
// (edits, channel posts) are acknowledged and left.
func (a *Adapter) inbound(ch *parley.Channel, us []update) *channel.Inbound {
	in := &channel.Inbound{}
	for _, u := range us {
		if m := u.Message; m != nil {
			in.Messages = append(in.Messages, a.inMessage(ch, m))
		}
	}
	return in
}

// id is a message's id in the channel: message ids are only unique
// within their chat.
func id(chatID, messageID int64) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(messageID, 10)
}

func (a *Adapter) inMessage(ch *parley.Channel, m *message) channel.InMessage {
	out := channel.InMessage{ExternalID: id(m.Chat.ID, m.MessageID), From: strconv.FormatInt(m.Chat.ID, 10),
		Text: m.Text}
	name := strings.TrimSpace(m.Chat.FirstName + " " + m.Chat.LastName)
	if m.Chat.Title != "" {
		name = m.Chat.Title
	}
	if name == "" && m.From != nil {
		name = strings.TrimSpace(m.From.FirstName + " " + m.From.LastName)
	}
	if name == "" && m.Chat.Username != "" {
		name = "@" + m.Chat.Username
	}
	out.Name = name
	if m.Caption != "" {
		out.Text = m.Caption
	}
	if m.ReplyTo != nil {
		out.ReplyTo = id(m.Chat.ID, m.ReplyTo.MessageID)
	}
	add := func(f *file, name, contentType string) {
		if f.FileName != "" {
			name = f.FileName
		}
		if f.MimeType != "" {
			contentType = f.MimeType
		}
		fileID, size := f.FileID, f.FileSize
		out.Files = append(out.Files, channel.InFile{Name: name, ContentType: contentType, Size: size,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return a.download(ctx, ch, fileID, size) }})
	}
	switch {
	case len(m.Photo) > 0:
		// The sizes of one photo, smallest first: keep the largest.
		add(&m.Photo[len(m.Photo)-1], "photo.jpg", "image/jpeg")
	case m.Document != nil:
		add(m.Document, "document", "application/octet-stream")
	case m.Voice != nil:
		add(m.Voice, "voice.ogg", "audio/ogg")
	case m.Audio != nil:
		add(m.Audio, "audio.mp3", "audio/mpeg")
	case m.Video != nil:
		add(m.Video, "video.mp4", "video/mp4")
	case m.Sticker != nil:
		out.Text = strings.TrimSpace("(sticker " + m.Sticker.Emoji + ")")
	case m.Text == "":
		out.Text = "(a kind of Telegram message Parley cannot show)"
	}
	return out
}

// download fetches a file: getFile, then the file's path. The cloud Bot
// API serves bots files up to 20 MB.
func (a *Adapter) download(ctx context.Context, ch *parley.Channel, fileID string, size int64) (io.ReadCloser, error) {
	local := ch.Settings[settingBaseURL] != "" && ch.Settings[settingBaseURL] != DefaultBaseURL
	if size > downloadLimit && !local {
		return nil, channel.Refused("file_too_big", "Telegram lets bots download files of at most 20 MB; this one has %d MB", size>>20)
	}
	var f struct {
		FilePath string `json:"file_path"`
	}
	if err := a.call(ctx, ch, "getFile", map[string]string{"file_id": fileID}, &f); err != nil {
		return nil, err
	}
	base := strings.TrimRight(ch.Settings[settingBaseURL], "/")
	if base == "" {
		base = DefaultBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/file/bot"+ch.Secrets[secretToken]+"/"+f.FilePath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, channel.Retry(0, "", "Telegram could not be reached")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, channel.HTTPError(resp, 0, "", "Telegram did not serve the file: "+resp.Status)
	}
	return resp.Body, nil
}

// Polls reports whether the channel is set to polling.
func (a *Adapter) Polls(ch *parley.Channel) bool { return ch.Settings[settingMode] == modePolling }

// Poll long-polls getUpdates until ctx ends or Telegram fails, confirming
// each batch (the next offset) only once deliver has stored it.
func (a *Adapter) Poll(ctx context.Context, ch *parley.Channel, deliver func(context.Context, *channel.Inbound) error) error {
	var offset int64
	timeout := int(a.PollTimeout / time.Second)
	for ctx.Err() == nil {
		var us []update
		params := map[string]any{"timeout": timeout, "allowed_updates": []string{"message"}}
		if offset != 0 {
			params["offset"] = offset
		}
		if err := a.call(ctx, ch, "getUpdates", params, &us); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(us) == 0 {
			continue
		}
		if err := deliver(ctx, a.inbound(ch, us)); err != nil {
			return err // not confirmed: Telegram hands the batch out again
		}
		offset = us[len(us)-1].UpdateID + 1
	}
	return nil
}

// Send delivers a reply: its text, then each file (the text rides as the
// first file's caption when it fits). It returns the last Telegram
// message's id.
func (a *Adapter) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	chatID, err := strconv.ParseInt(out.Contact.Address, 10, 64)
	if err != nil {
		return "", channel.Refused("", "not a Telegram chat: %q", out.Contact.Address)
	}
	var reply map[string]any
	if _, mid, ok := strings.Cut(out.ReplyTo, ":"); ok {
		if n, err := strconv.ParseInt(mid, 10, 64); err == nil {
			reply = map[string]any{"message_id": n, "allow_sending_without_reply": true}
		}
	}
	text := out.Text
	caption := ""
	if len(out.Files) > 0 && len([]rune(text)) <= 1024 {
		caption, text = text, ""
	}
	var sent message
	if strings.TrimSpace(text) != "" {
		params := map[string]any{"chat_id": chatID, "text": text}
		if reply != nil {
			params["reply_parameters"] = reply
		}
		if err := a.call(ctx, ch, "sendMessage", params, &sent); err != nil {
			return "", err
		}
		reply = nil
	}
	for i, f := range out.Files {
		c := ""
		if i == 0 {
			c = caption
		}
		if err := a.sendFile(ctx, ch, chatID, f, c, reply, &sent); err != nil {
			return "", err
		}
		reply = nil
	}
	return id(chatID, sent.MessageID), nil
}

// sendFile uploads one file with the method for its kind.
func (a *Adapter) sendFile(ctx context.Context, ch *parley.Channel, chatID int64, f channel.OutFile, caption string,
	reply map[string]any, sent *message) error {
	method, field := "sendDocument", "document"
	switch {
	case f.ContentType == "image/jpeg" || f.ContentType == "image/png" || f.ContentType == "image/webp":
		method, field = "sendPhoto", "photo"
	case f.ContentType == "audio/ogg" || f.ContentType == "audio/mpeg" || f.ContentType == "audio/mp4":
		method, field = "sendVoice", "voice"
	}
	if field == "photo" && f.Size > 10<<20 {
		method, field = "sendDocument", "document" // photos are at most 10 MB; as a file, 50
	}
	rc, err := f.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("chat_id", strconv.FormatInt(chatID, 10)); err != nil {
				return err
			}
			if caption != "" {
				if err := mw.WriteField("caption", caption); err != nil {
					return err
				}
			}
			if reply != nil {
				b, _ := json.Marshal(reply)
				if err := mw.WriteField("reply_parameters", string(b)); err != nil {
					return err
				}
			}
			part, err := mw.CreateFormFile(field, f.Name)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, rc); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.method(ch, method), pr)
	if err != nil {
		pr.Close()
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	err = a.do(req, sent)
	pr.Close()
	return err
}
