// Package sms is the SMS (and MMS) channel over Twilio's Messages API, or
// any service that speaks it. Twilio calls one webhook URL for both
// customers' texts and the status callbacks of Parley's replies, each a
// form POST signed with X-Twilio-Signature; replies go out with a POST to
// Messages.json, their files as links Twilio fetches (so files need the
// server's public URL).
package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Settings and secrets of an SMS channel, as Spec declares them.
const (
	SettingBaseURL             = "base_url"
	SettingAccountSID          = "account_sid"
	SettingFrom                = "from"
	SettingMessagingServiceSID = "messaging_service_sid"
	SettingStatusCallbackURL   = "status_callback_url"

	SecretAuthToken = "auth_token"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// Twilio's limits on one message: Body is at most 1,600 characters, and
// an MMS carries at most 10 files of at most 5 MB together (Twilio
// rejects more).
const (
	maxBody       = 1600
	maxMedia      = 10
	maxMediaBytes = 5 << 20
)

// twiML is the answer Twilio expects from a messaging webhook: an empty
// response, meaning "no automatic reply".
const twiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// Adapter is the SMS channel.
type Adapter struct {
	Client *http.Client
}

// New returns the adapter; a nil client is channel.HTTPClient().
func New(client *http.Client) *Adapter {
	if client == nil {
		client = channel.HTTPClient()
	}
	return &Adapter{Client: client}
}

// Kind is parley.ChannelSMS.
func (a *Adapter) Kind() string { return parley.ChannelSMS }

// Spec describes an SMS channel.
func (a *Adapter) Spec() channel.Spec {
	return channel.Spec{
		Kind: parley.ChannelSMS, Label: "SMS", Webhook: true,
		Settings: []channel.Field{
			{Name: SettingAccountSID, Label: "Account SID", Required: true, Help: "AC..., from the Twilio console"},
			{Name: SettingFrom, Label: "Sending number",
				Help: "the Twilio number replies come from, like +15551234567 (or leave it empty and give a messaging service)"},
			{Name: SettingMessagingServiceSID, Label: "Messaging service SID",
				Help: "MG...: replies go out through the service's numbers (instead of one sending number)"},
			{Name: SettingStatusCallbackURL, Label: "Status callback URL",
				Help: "where Twilio reports deliveries (empty: this channel's webhook URL, when the server has a public URL)"},
			{Name: SettingBaseURL, Label: "API URL", Default: DefaultBaseURL,
				Help: "Twilio's, or another service's that speaks Twilio's Messages API"},
		},
		Secrets: []channel.Field{
			{Name: SecretAuthToken, Label: "Auth token", Required: true,
				Help: "from the Twilio console; it also signs Twilio's calls to the webhook URL"},
		},
		// A long code sends about one message a second; Twilio queues what
		// comes faster, so the queue only has to keep from flooding it.
		Rate:        10,
		FilesByLink: true,
		Statuses:    []parley.MsgStatus{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed},
		Limits:      parley.DefaultAttachmentLimits[parley.ChannelSMS],
	}
}

// twilioError is Twilio's error envelope.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func base(ch *parley.Channel) string {
	b := strings.TrimRight(ch.Settings[SettingBaseURL], "/")
	if b == "" {
		b = DefaultBaseURL
	}
	return b
}

func (a *Adapter) accountURL(ch *parley.Channel) string {
	return base(ch) + "/2010-04-01/Accounts/" + url.PathEscape(ch.Settings[SettingAccountSID])
}

// do makes one authenticated call and decodes its JSON answer into out.
func (a *Adapter) do(req *http.Request, ch *parley.Channel, out any) error {
	req.SetBasicAuth(ch.Settings[SettingAccountSID], ch.Secrets[SecretAuthToken])
	req.Header.Set("Accept", "application/json")
	resp, err := a.Client.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return channel.Retry(0, "", "Twilio did not answer in time")
		}
		return channel.Retry(0, "", "Twilio could not be reached")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return channel.Retry(0, "", "Twilio's answer was cut off")
	}
	if resp.StatusCode/100 != 2 {
		return refusal(resp, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return channel.Retry(0, "", "Twilio answered %s with something that is not its JSON", resp.Status)
	}
	return nil
}

// refusal says what a failed call means for a manager, keeping Twilio's
// code: 429 and 5xx are retried, the rest is Twilio's refusal.
func refusal(resp *http.Response, body []byte) *channel.Error {
	var te twilioError
	if json.Unmarshal(body, &te) != nil || (te.Code == 0 && te.Message == "") {
		return channel.HTTPError(resp, 0, "", "Twilio answered "+resp.Status)
	}
	code := strconv.Itoa(te.Code)
	if te.Code == 0 {
		code = ""
	}
	e := channel.HTTPError(resp, 0, code, "Twilio: "+te.Message)
	if e.Temporary || te.Code == 20429 {
		e.Temporary = true
		return e
	}
	if words := explain(te.Code); words != "" {
		e.Message = words
	}
	return e
}

// explain puts Twilio's best-known refusals in a manager's words ("" for
// the others, which keep Twilio's message).
func explain(code int) string {
	switch code {
	case 20003:
		return "Twilio refused the account SID or auth token: check the channel's settings"
	case 20404:
		return "Twilio does not know this account SID (or the sending number)"
	case 21211:
		return "the customer's number is not a valid phone number"
	case 21408:
		return "this Twilio account may not send SMS to the customer's country (see Geo Permissions in the console)"
	case 21606, 21660:
		return "the sending number cannot send SMS from this Twilio account"
	case 21610:
		return "the customer has unsubscribed from this number's texts (they replied STOP); they can text START to opt back in"
	case 21612:
		return "Twilio cannot send a message from this number to the customer's"
	case 21614:
		return "the customer's number is not a mobile number"
	case 21617:
		return "the text is longer than an SMS may be (1,600 characters)"
	case 21620:
		return "Twilio could not use the file links"
	case 21623:
		return "an MMS carries at most 10 files"
	}
	return ""
}

// failure says why a message Twilio accepted was not delivered, for the
// error codes its status callbacks carry.
func failure(code string) string {
	words := map[string]string{
		"30001": "Twilio's queue for the sending number overflowed",
		"30002": "the Twilio account is suspended",
		"30003": "unreachable: the customer's phone is off or out of coverage",
		"30004": "blocked: the customer blocks messages from this number",
		"30005": "unknown number: the customer's number does not exist",
		"30006": "landline: the customer's number cannot receive texts",
		"30007": "filtered by the carrier as spam",
		"30008": "the carrier failed to deliver it (unknown error)",
		"30010": "the message would cost more than the account's maximum price",
		"30034": "the sending number is not registered for A2P 10DLC",
		"21610": "the customer has unsubscribed (they replied STOP)",
	}
	if w, ok := words[code]; ok {
		return w + " (Twilio " + code + ")"
	}
	if code != "" {
		return "not delivered (Twilio error " + code + ")"
	}
	return "not delivered"
}

// account is the part of Twilio's Account resource Test shows.
type account struct {
	SID          string `json:"sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
}

// Test fetches the account with the channel's credentials and checks
// that it has a way to send.
func (a *Adapter) Test(ctx context.Context, ch *parley.Channel) (string, error) {
	if err := sender(ch); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.accountURL(ch)+".json", nil)
	if err != nil {
		return "", channel.Refused("", "the API URL is not a URL")
	}
	var acc account
	if err := a.do(req, ch, &acc); err != nil {
		return "", err
	}
	if acc.Status != "" && acc.Status != "active" {
		return "", channel.Refused("", "the Twilio account %q is %s", acc.FriendlyName, acc.Status)
	}
	via := "from " + ch.Settings[SettingFrom]
	if ch.Settings[SettingFrom] == "" {
		via = "through messaging service " + ch.Settings[SettingMessagingServiceSID]
	}
	return fmt.Sprintf("account %q, sending %s", acc.FriendlyName, via), nil
}

// sender checks that the channel says where replies come from.
func sender(ch *parley.Channel) error {
	if ch.Settings[SettingFrom] == "" && ch.Settings[SettingMessagingServiceSID] == "" {
		return channel.Refused("", "the SMS channel needs a sending number or a messaging service SID")
	}
	return nil
}

// Webhook checks Twilio's signature, then reads a customer's message or a
// status callback; both are answered with empty TwiML.
func (a *Adapter) Webhook(ctx context.Context, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	params, err := a.verify(ch, r)
	if err != nil {
		return nil, err
	}
	in := &channel.Inbound{Response: &channel.Response{Status: http.StatusOK, ContentType: "text/xml", Body: []byte(twiML)}}
	sid := params.Get("MessageSid")
	if sid == "" {
		return nil, parley.Invalid("MessageSid", "a Twilio call without a MessageSid")
	}
	status := params.Get("MessageStatus")
	if status == "" || ((status == "received" || status == "receiving") && (params.Has("Body") || params.Has("NumMedia"))) {
		m, err := a.inMessage(ch, sid, params)
		if err != nil {
			return nil, err
		}
		in.Messages = append(in.Messages, m)
		return in, nil
	}
	if st, ok := statusReport(sid, status, params.Get("ErrorCode")); ok {
		in.Statuses = append(in.Statuses, st)
	}
	return in, nil
}

// verify checks X-Twilio-Signature and returns the call's parameters (the
// POST form's, or for a GET webhook the URL's).
func (a *Adapter) verify(ch *parley.Channel, r *channel.Request) (url.Values, error) {
	token := ch.Secrets[SecretAuthToken]
	got := r.Header.Get("X-Twilio-Signature")
	if token == "" || got == "" || r.URL == nil {
		return nil, channel.ErrSignature
	}
	signed := url.Values{}
	if r.Method == http.MethodPost {
		var err error
		if signed, err = url.ParseQuery(string(r.Body)); err != nil {
			return nil, channel.ErrSignature
		}
	}
	ok := false
	for _, u := range urlForms(r.URL) {
		// Every form is computed and compared, so the time taken says
		// nothing about which one matched.
		if hmac.Equal([]byte(Signature(token, u, signed)), []byte(got)) {
			ok = true
		}
	}
	if !ok {
		return nil, channel.ErrSignature
	}
	if r.Method != http.MethodPost {
		return r.URL.Query(), nil
	}
	return signed, nil
}

// urlForms are the spellings of the called URL Twilio may have signed: as
// called, and with or without the scheme's default port (Twilio's own
// validators try both; its signing is inconsistent about the port).
func urlForms(u *url.URL) []string {
	forms := []string{u.String()}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if def == "" {
		return forms
	}
	v := *u
	switch u.Port() {
	case "":
		v.Host = u.Host + ":" + def
	case def:
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") {
			v.Host = "[" + v.Host + "]"
		}
	default:
		return forms
	}
	return append(forms, v.String())
}

// Signature is Twilio's X-Twilio-Signature of a call to rawURL with the
// POST parameters params: base64 of HMAC-SHA1, keyed with the auth token,
// of the URL followed by each parameter's name and value, in the order of
// the names (a repeated name's values in their order).
func Signature(authToken, rawURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(rawURL))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// inMessage reads a customer's text or MMS. Its files are fetched from
// Twilio when the service stores them.
func (a *Adapter) inMessage(ch *parley.Channel, sid string, p url.Values) (channel.InMessage, error) {
	from := p.Get("From")
	if from == "" {
		return channel.InMessage{}, parley.Invalid("From", "a Twilio message without a sender (From)")
	}
	m := channel.InMessage{ExternalID: sid, From: from, Phone: from, Name: p.Get("ProfileName"), Text: p.Get("Body")}
	n, _ := strconv.Atoi(p.Get("NumMedia"))
	if n < 0 || n > maxMedia {
		return channel.InMessage{}, parley.Invalid("NumMedia", "NumMedia %q is not 0 to %d", p.Get("NumMedia"), maxMedia)
	}
	for i := range n {
		link := p.Get("MediaUrl" + strconv.Itoa(i))
		if link == "" {
			return channel.InMessage{}, parley.Invalid("MediaUrl"+strconv.Itoa(i), "a Twilio message without its MediaUrl%d", i)
		}
		ct := p.Get("MediaContentType" + strconv.Itoa(i))
		if ct == "" {
			ct = "application/octet-stream"
		}
		m.Files = append(m.Files, channel.InFile{Name: mediaName(i, ct), ContentType: ct,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return a.media(ctx, ch, link) }})
	}
	return m, nil
}

// mediaName names the customer's file n, which Twilio gives no name, by
// its type: media1.jpg.
func mediaName(i int, contentType string) string {
	name := "media" + strconv.Itoa(i+1)
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "video/mp4": ".mp4",
		"audio/mpeg": ".mp3", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "application/pdf": ".pdf"}[contentType]
	if ext == "" {
		if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return name + ext
}

// media fetches a customer's file. Twilio requires the account's
// credentials for media when HTTP auth is on for them; they are sent only
// to the API's own host (Go drops them if Twilio redirects elsewhere).
func (a *Adapter) media(ctx context.Context, ch *parley.Channel, link string) (io.ReadCloser, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, channel.Refused("", "Twilio gave a file link that is not a URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, channel.Refused("", "Twilio gave a file link that is not a URL")
	}
	if api, err := url.Parse(base(ch)); err == nil && strings.EqualFold(api.Host, u.Host) {
		req.SetBasicAuth(ch.Settings[SettingAccountSID], ch.Secrets[SecretAuthToken])
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, channel.Retry(0, "", "Twilio could not be reached for a file")
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusNotFound:
			return nil, channel.Refused("404", "Twilio no longer has the file (it was deleted)")
		case http.StatusUnauthorized, http.StatusForbidden:
			return nil, channel.Refused(strconv.Itoa(resp.StatusCode), "Twilio refused the channel's credentials for the file")
		}
		return nil, channel.HTTPError(resp, 0, "", "Twilio did not serve the file: "+resp.Status)
	}
	return resp.Body, nil
}

// statusReport maps a status callback to Parley's statuses; statuses of
// no interest (an inbound message's, canceled) are left out.
func statusReport(sid, status, errorCode string) (channel.StatusReport, bool) {
	st := channel.StatusReport{ExternalID: sid}
	switch status {
	case "queued", "sending", "sent", "accepted", "scheduled":
		st.Status = parley.StatusSent
	case "delivered":
		st.Status = parley.StatusDelivered
	case "read":
		st.Status = parley.StatusRead
	case "undelivered", "failed":
		st.Status, st.Error = parley.StatusFailed, failure(errorCode)
	case "canceled":
		st.Status, st.Error = parley.StatusFailed, "canceled before it was sent"
	default:
		return st, false
	}
	return st, true
}

// CheckReply refuses what Twilio would: a text over 1,600 characters,
// more than 10 files or 5 MB of them. (Files need the server's public
// URL, which Twilio fetches them from: Spec.FilesByLink has the service
// check that.)
func (a *Adapter) CheckReply(_ *parley.Channel, m *parley.Message) error {
	if err := checkText(m.Text); err != nil {
		return err
	}
	if len(m.Files) == 0 {
		return nil
	}
	var total int64
	for _, f := range m.Files {
		total += f.Size
	}
	return checkFiles(len(m.Files), total)
}

// checkText counts as Twilio does: in UTF-16 units, so an emoji counts
// two.
func checkText(text string) error {
	if n := utf16Len(text); n > maxBody {
		return channel.Refused("21617", "an SMS takes at most 1,600 characters (an emoji counts two); this one has %d", n)
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func checkFiles(n int, total int64) error {
	if n > maxMedia {
		return channel.Refused("21623", "an MMS carries at most 10 files; this reply has %d", n)
	}
	if total > maxMediaBytes {
		return channel.Refused("", "an MMS carries at most 5 MB of files together; these have %.1f MB", float64(total)/(1<<20))
	}
	return nil
}

func noPublicURL() *channel.Error {
	return channel.Refused("", "SMS/MMS needs the server's public URL to send files (Twilio fetches them by link)")
}

// message is the part of Twilio's Message resource Send reads.
type message struct {
	SID string `json:"sid"`
}

// Send posts a reply to Messages.json: its text and its files as links.
// It returns the message's SID.
func (a *Adapter) Send(ctx context.Context, ch *parley.Channel, out *channel.Outbound) (string, error) {
	if err := sender(ch); err != nil {
		return "", err
	}
	if err := checkText(out.Text); err != nil {
		return "", err
	}
	form := url.Values{"To": {out.Contact.Address}}
	if from := ch.Settings[SettingFrom]; from != "" {
		form.Set("From", from)
	} else {
		form.Set("MessagingServiceSid", ch.Settings[SettingMessagingServiceSID])
	}
	if strings.TrimSpace(out.Text) != "" {
		form.Set("Body", out.Text)
	}
	var total int64
	for _, f := range out.Files {
		if f.URL == "" {
			return "", noPublicURL()
		}
		form.Add("MediaUrl", f.URL)
		total += f.Size
	}
	if err := checkFiles(len(out.Files), total); err != nil {
		return "", err
	}
	if form.Get("Body") == "" && len(out.Files) == 0 {
		return "", channel.Refused("21602", "an SMS needs a text or a file")
	}
	cb := ch.Settings[SettingStatusCallbackURL]
	if cb == "" {
		cb = out.StatusURL
	}
	if cb != "" {
		form.Set("StatusCallback", cb)
	}
	return a.create(ctx, ch, form)
}

// create posts a new message to Twilio's Messages resource and returns
// its SID.
func (a *Adapter) create(ctx context.Context, ch *parley.Channel, form url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.accountURL(ch)+"/Messages.json", strings.NewReader(form.Encode()))
	if err != nil {
		return "", channel.Refused("", "the API URL is not a URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var m message
	if err := a.do(req, ch, &m); err != nil {
		return "", err
	}
	if m.SID == "" {
		return "", channel.Retry(0, "", "Twilio accepted the message without giving its SID")
	}
	return m.SID, nil
}

// Interface guards.
var (
	_ channel.Adapter      = (*Adapter)(nil)
	_ channel.ReplyChecker = (*Adapter)(nil)
)
