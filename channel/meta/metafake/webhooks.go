package metafake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// WAMessage is a customer's WhatsApp message, for WhatsAppMessages.
type WAMessage struct {
	From string // the customer's wa_id (their number's digits)
	Name string // their profile name
	ID   string // "": a new wamid
	// Type is text, image, audio, voice, video, document, sticker,
	// location, reaction or unsupported; "": text, or the file's kind
	// when File is set.
	Type string
	// Text is the text, a file's caption, a location's name or a
	// reaction's emoji.
	Text string
	// File is a media message's bytes, downloadable by its media id.
	File     []byte
	MimeType string // default by Type
	FileName string // a document's
	// ReplyTo is the wamid the message answers (context.id), or a
	// reaction's message.
	ReplyTo             string
	Latitude, Longitude float64
}

// WAStatus is the status of a message the business sent, for
// WhatsAppStatuses.
type WAStatus struct {
	ID     string // its wamid
	To     string // the customer's wa_id (recipient_id)
	Status string // sent, delivered, read or failed
	// ErrorCode and ErrorTitle are a failure's (errors[0]); ErrorDetails
	// its error_data.details.
	ErrorCode    int
	ErrorTitle   string
	ErrorDetails string
}

// FBMessage is a customer's Messenger or Instagram message, for
// MessengerMessages and InstagramMessages.
type FBMessage struct {
	From string // the customer's PSID or IGSID
	ID   string // "": a new mid
	Text string
	// File is an attachment, served at a link of the fake's with no
	// token (like Meta's file servers).
	File     []byte
	FileName string
	MimeType string
	FileType string // image, audio, video or file; default from MimeType
	ReplyTo  string // reply_to.mid
	// Echo makes it the business's own message echoed back (is_echo).
	Echo bool
}

// Webhook is a webhook call's body as Meta sends it, with the ids of the
// messages or statuses it carries; Post sends it (again, for a
// redelivery).
type Webhook struct {
	Body []byte
	IDs  []string
}

// nowMillis is Meta's time in events.
func nowMillis() int64 { return time.Now().UnixMilli() }

// WhatsAppMessages builds a call with customers' messages for the fake's
// number; their files become media ids the adapter can download.
func (s *Server) WhatsAppMessages(ms ...WAMessage) Webhook {
	var msgs, contacts []map[string]any
	var ids []string
	named := map[string]bool{}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for _, m := range ms {
		if m.ID == "" {
			m.ID = s.newWamid()
		}
		ids = append(ids, m.ID)
		if !named[m.From] {
			named[m.From] = true
			contacts = append(contacts, map[string]any{"profile": map[string]any{"name": m.Name}, "wa_id": m.From})
		}
		typ := m.Type
		if typ == "" {
			typ = "text"
			if m.File != nil {
				typ = kindOf(m.MimeType, "document")
			}
		}
		msg := map[string]any{"from": m.From, "id": m.ID, "timestamp": ts, "type": typ}
		if m.ReplyTo != "" && typ != "reaction" {
			msg["context"] = map[string]any{"from": digits(DisplayPhoneNumber), "id": m.ReplyTo}
		}
		switch typ {
		case "text":
			msg["text"] = map[string]any{"body": m.Text}
		case "image", "audio", "voice", "video", "document", "sticker":
			mt := m.MimeType
			if mt == "" {
				mt = map[string]string{"image": "image/jpeg", "audio": "audio/mpeg", "voice": "audio/ogg; codecs=opus",
					"video": "video/mp4", "document": "application/pdf", "sticker": "image/webp"}[typ]
			}
			id := s.newMediaID()
			s.mu.Lock()
			s.media[id] = &media{mimeType: mt, name: m.FileName, data: m.File}
			s.mu.Unlock()
			sum := sha256.Sum256(m.File)
			content := map[string]any{"id": id, "mime_type": mt, "sha256": base64.StdEncoding.EncodeToString(sum[:])}
			if m.Text != "" && (typ == "image" || typ == "video" || typ == "document") {
				content["caption"] = m.Text
			}
			if typ == "document" && m.FileName != "" {
				content["filename"] = m.FileName
			}
			if typ == "voice" {
				typ, content["voice"] = "audio", true
				msg["type"] = typ
			}
			if typ == "sticker" {
				content["animated"] = false
			}
			msg[typ] = content
		case "location":
			loc := map[string]any{"latitude": m.Latitude, "longitude": m.Longitude}
			if m.Text != "" {
				loc["name"] = m.Text
			}
			msg["location"] = loc
		case "reaction":
			msg["reaction"] = map[string]any{"message_id": m.ReplyTo, "emoji": m.Text}
		case "unsupported":
			msg["errors"] = []map[string]any{{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
				"error_data": map[string]any{"details": "Message type is currently not supported."}}}
		}
		msgs = append(msgs, msg)
	}
	return Webhook{Body: s.waEnvelope(map[string]any{"contacts": contacts, "messages": msgs}), IDs: ids}
}

// WhatsAppStatuses builds a call with statuses of the business's
// messages.
func (s *Server) WhatsAppStatuses(sts ...WAStatus) Webhook {
	var list []map[string]any
	var ids []string
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for _, st := range sts {
		ids = append(ids, st.ID)
		item := map[string]any{"id": st.ID, "status": st.Status, "timestamp": ts, "recipient_id": st.To}
		if st.Status == "failed" {
			item["errors"] = []map[string]any{{"code": st.ErrorCode, "title": st.ErrorTitle, "message": st.ErrorTitle,
				"error_data": map[string]any{"details": st.ErrorDetails},
				"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}
		} else {
			item["conversation"] = map[string]any{"id": random(16), "origin": map[string]any{"type": "service"}}
			item["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "category": "service"}
		}
		list = append(list, item)
	}
	return Webhook{Body: s.waEnvelope(map[string]any{"statuses": list}), IDs: ids}
}

// waEnvelope wraps a change's value for the fake's number.
func (s *Server) waEnvelope(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]any{"display_phone_number": digits(DisplayPhoneNumber), "phone_number_id": PhoneNumberID}
	return metaJSON(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": BusinessAccountID, "changes": []any{map[string]any{"field": "messages", "value": value}}}}})
}

// MessengerMessages builds a call with customers' messages to the fake's
// page.
func (s *Server) MessengerMessages(ms ...FBMessage) Webhook { return s.fbMessages(Messenger, ms) }

// InstagramMessages builds a call with customers' messages to the fake's
// Instagram account.
func (s *Server) InstagramMessages(ms ...FBMessage) Webhook { return s.fbMessages(Instagram, ms) }

func (s *Server) fbMessages(product string, ms []FBMessage) Webhook {
	own := ownID(product)
	var events []any
	var ids []string
	for _, m := range ms {
		if m.ID == "" {
			m.ID = s.newMid(product)
		}
		ids = append(ids, m.ID)
		msg := map[string]any{"mid": m.ID}
		if m.Text != "" {
			msg["text"] = m.Text
		}
		if m.File != nil {
			kind := m.FileType
			if kind == "" {
				kind = kindOf(m.MimeType, "file")
			}
			msg["attachments"] = []any{map[string]any{"type": kind, "payload": map[string]any{"url": s.cdnLink(m)}}}
		}
		if m.ReplyTo != "" {
			msg["reply_to"] = map[string]any{"mid": m.ReplyTo}
		}
		sender, recipient := m.From, own
		if m.Echo {
			msg["is_echo"], msg["app_id"] = true, 1517
			sender, recipient = own, m.From
		}
		events = append(events, map[string]any{"sender": map[string]any{"id": sender}, "recipient": map[string]any{"id": recipient},
			"timestamp": nowMillis(), "message": msg})
	}
	return Webhook{Body: fbEnvelope(product, events), IDs: ids}
}

// MessengerDelivery builds a message_deliveries call: the customer's
// Messenger got every message sent until watermark (mids may name some).
func (s *Server) MessengerDelivery(psid string, watermark time.Time, mids ...string) Webhook {
	delivery := map[string]any{"watermark": watermark.UnixMilli()}
	if len(mids) > 0 {
		delivery["mids"] = mids
	}
	return Webhook{Body: fbEnvelope(Messenger, []any{map[string]any{"sender": map[string]any{"id": psid},
		"recipient": map[string]any{"id": PageID}, "timestamp": nowMillis(), "delivery": delivery}}), IDs: mids}
}

// MessengerRead builds a message_reads call: the customer read every
// message sent until watermark.
func (s *Server) MessengerRead(psid string, watermark time.Time) Webhook {
	return Webhook{Body: fbEnvelope(Messenger, []any{map[string]any{"sender": map[string]any{"id": psid},
		"recipient": map[string]any{"id": PageID}, "timestamp": nowMillis(), "read": map[string]any{"watermark": watermark.UnixMilli()}}})}
}

// InstagramSeen builds a messaging_seen call: the customer saw the
// message mid.
func (s *Server) InstagramSeen(igsid, mid string) Webhook {
	return Webhook{Body: fbEnvelope(Instagram, []any{map[string]any{"sender": map[string]any{"id": igsid},
		"recipient": map[string]any{"id": InstagramID}, "timestamp": nowMillis(), "read": map[string]any{"mid": mid}}}), IDs: []string{mid}}
}

func ownID(product string) string {
	if product == Instagram {
		return InstagramID
	}
	return PageID
}

func fbEnvelope(product string, events []any) []byte {
	object := "page"
	if product == Instagram {
		object = "instagram"
	}
	return metaJSON(map[string]any{"object": object, "entry": []any{map[string]any{"id": ownID(product), "time": nowMillis(),
		"messaging": events}}})
}

// cdnLink keeps an attachment at a link of the fake's.
func (s *Server) cdnLink(m FBMessage) string {
	name := m.FileName
	if name == "" {
		name = "attachment" + map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4",
			"audio/mp4": ".m4a", "application/pdf": ".pdf"}[m.MimeType]
	}
	mt := m.MimeType
	if mt == "" {
		mt = "application/octet-stream"
	}
	key := fmt.Sprintf("%d%s", s.next(), random(8))
	s.mu.Lock()
	s.cdn[key] = &media{mimeType: mt, name: name, data: m.File}
	s.mu.Unlock()
	return s.URL() + "/cdn/" + key + "/" + url.PathEscape(name) + "?_nc_cat=1&oh=" + random(8)
}

// kindOf is a file's message kind from its MIME type.
func kindOf(mimeType, other string) string {
	for _, k := range []string{"image", "audio", "video"} {
		if strings.HasPrefix(mimeType, k+"/") {
			return k
		}
	}
	return other
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// metaJSON encodes v as Meta does: non-ASCII characters and slashes
// escaped, so an adapter that re-encoded the body before checking the
// signature would fail.
func metaJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

// Sign is the X-Hub-Signature-256 of body keyed with secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

var client = &http.Client{Timeout: 30 * time.Second}

// Post sends a webhook call to target, signed with the app secret, and
// returns the HTTP status it got (0: unreachable).
func (s *Server) Post(target string, w Webhook) int {
	return s.PostSigned(target, w, s.AppSecret)
}

// PostForged sends a webhook call signed with a key that is not the app
// secret, as a forger would.
func (s *Server) PostForged(target string, w Webhook) int {
	return s.PostSigned(target, w, "not-"+s.AppSecret)
}

// PostSigned sends a webhook call signed with secret ("" : unsigned).
func (s *Server) PostSigned(target string, w Webhook, secret string) int {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(w.Body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", Sign(w.Body, secret))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Verify makes Meta's subscription check of a webhook URL (GET with
// hub.mode, hub.verify_token and hub.challenge) and returns the status
// and body it got: a URL that knows the token answers 200 with the
// challenge.
func (s *Server) Verify(target, verifyToken, challenge string) (int, string) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, ""
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	resp, err := client.Get(u.String())
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}
