// Package metafake is Meta's Graph API for tests, on 127.0.0.1: the paths
// Parley's WhatsApp Cloud API, Messenger and Instagram adapters call (one
// server for the three), with bearer tokens, Graph's error envelope and
// WhatsApp's media limits; it records what was sent and uploaded, serves
// media downloads, fails on demand, and makes the webhook calls each
// product makes, signed with the app secret as Meta signs them (see
// webhooks.go).
//
// The fake does not enforce the 24-hour windows (Parley refuses a late
// reply before it leaves); make it answer the window's errors with Fail.
package metafake

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The fake's accounts: a WhatsApp business number, a Facebook page and an
// Instagram professional account, all reached with the one token.
const (
	BusinessAccountID  = "102290129340398" // the WhatsApp business account (webhook entry id)
	PhoneNumberID      = "106540352242922" // the channel's phone_number_id
	DisplayPhoneNumber = "+1 555-010-0199"
	VerifiedName       = "Parley Test"
	PageID             = "112233445566778" // the channel's page_id
	PageName           = "Parley Test Page"
	InstagramID        = "17841400000000001" // the channel's Instagram account id
	InstagramUsername  = "parley_test"
)

// Products, as Sent and Failure name them.
const (
	WhatsApp  = "whatsapp"
	Messenger = "messenger"
	Instagram = "instagram"
)

// WhatsApp's upload limits by media type (Cloud API media reference), and
// Messenger's and Instagram's attachment limits.
const (
	mb             = 1 << 20
	waImageLimit   = 5 * mb
	waAudioLimit   = 16 * mb
	waVideoLimit   = 16 * mb
	waDocLimit     = 100 * mb
	fbLimit        = 25 * mb // any attachment
	fbURLImageLim  = 8 * mb  // an image fetched from a link (Messenger), any image (Instagram)
	fetchTimeout   = 10 * time.Second
	maxJSONRequest = 1 << 20
)

// Sent is a message the fake accepted.
type Sent struct {
	Product string // WhatsApp, Messenger or Instagram
	ID      string // the id the fake answered: wamid.… or a mid
	To      string // the customer: wa_id, PSID or IGSID
	// Type is text, or the file's kind: image, audio, video, document
	// (WhatsApp) or file (Messenger, Instagram).
	Type    string
	Text    string // the text, or a file's caption (WhatsApp)
	ReplyTo string // WhatsApp's context.message_id
	// MediaID is the uploaded media a WhatsApp message sent by id.
	MediaID string
	// Link is the URL a file was sent by; the fake fetches it (into File)
	// when it is on the loopback interface.
	Link        string
	FileName    string
	ContentType string
	File        []byte
	// MessagingType and Tag are Messenger's (RESPONSE, MESSAGE_TAG +
	// HUMAN_AGENT, ...).
	MessagingType string
	Tag           string
	// Raw is the request: its JSON body, or a multipart's fields as a
	// JSON object.
	Raw []byte
}

// Upload is a file uploaded to WhatsApp's /{phone-number-id}/media.
type Upload struct {
	ID       string
	Type     string // the upload's type field, a MIME type
	FileName string
	Data     []byte
}

// Failure makes the fake refuse calls with a Graph error.
type Failure struct {
	// Product limits it to one product's calls ("": all).
	Product string
	// Status is the HTTP status (default 400).
	Status int
	// Code and Subcode are Graph's; by default 130429 (WhatsApp) or 613
	// for a 429, 2 for a 5xx, else 100.
	Code    int
	Subcode int
	Message string // default: a message like Meta's for the code
	// RetryAfter, when set, is sent as a Retry-After header.
	RetryAfter time.Duration
	// Times is how many calls fail; For fails every call until then.
	// Neither: the next call.
	Times int
	For   time.Duration
	// AllCalls fails reads (Test, media downloads) too, not only sends and
	// uploads.
	AllCalls bool
}

type failure struct {
	Failure
	until time.Time
}

type media struct {
	mimeType string
	name     string
	data     []byte
}

// Server is the fake Graph API.
type Server struct {
	// Token is the bearer token every call must carry; AppSecret signs
	// the webhook calls. Both are fixed by New.
	Token     string
	AppSecret string

	srv *httptest.Server

	mu       sync.Mutex
	sent     []Sent
	uploads  []Upload
	calls    []string
	read     []string
	media    map[string]*media // WhatsApp media ids
	cdn      map[string]*media // Messenger's and Instagram's attachment links
	failures []*failure
	seq      int
}

// New starts a fake that takes token and signs webhooks with appSecret.
func New(token, appSecret string) *Server {
	s := &Server{Token: token, AppSecret: appSecret, media: map[string]*media{}, cdn: map[string]*media{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the fake's base URL: the channels' base_url.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// String describes the fake for test logs.
func (s *Server) String() string { return "metafake at " + s.srv.URL }

// Sent returns the messages the fake accepted, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Uploads returns the files uploaded to WhatsApp, in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// Calls returns every authorised call as "METHOD /path", in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// MarkedRead returns the WhatsApp messages marked read by the business.
func (s *Server) MarkedRead() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.read...)
}

// Media returns a WhatsApp media id's bytes (an upload's, or a customer's
// file), and whether it exists.
func (s *Server) Media(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[id]
	if !ok {
		return nil, false
	}
	return m.data, true
}

// Fail makes the fake refuse calls as f says, after the failures already
// set are used up.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ff := &failure{Failure: f}
	if f.For > 0 {
		ff.until = time.Now().Add(f.For)
	} else if f.Times <= 0 {
		ff.Times = 1
	}
	s.failures = append(s.failures, ff)
}

// Throttle answers a product's sends ("": every product's) with 429 and
// its rate-limit code for d, with a Retry-After of retryAfter when set.
func (s *Server) Throttle(product string, d, retryAfter time.Duration) {
	s.Fail(Failure{Product: product, Status: http.StatusTooManyRequests, For: d, RetryAfter: retryAfter})
}

// ClearFailures ends every failure set.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = nil
}

// next is a new number for ids.
func (s *Server) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newWamid, newMid and newMediaID make ids shaped like Meta's, unique in
// the fake.
func (s *Server) newWamid() string {
	return fmt.Sprintf("wamid.HBgLMTU1NTAxMDAxOTkVAgASGBQz%06d%s", s.next(), strings.ToUpper(random(6)))
}

func (s *Server) newMid(product string) string {
	if product == Instagram {
		return fmt.Sprintf("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE%06d%s", s.next(), random(8))
	}
	return fmt.Sprintf("m_%06d%s", s.next(), random(12))
}

func (s *Server) newMediaID() string { return fmt.Sprintf("10%013d", s.next()) }

// graphError is Graph's error envelope.
type graphError struct {
	Status     int
	Code       int
	Subcode    int
	Message    string
	Details    string
	RetryAfter time.Duration
}

func (s *Server) refuse(w http.ResponseWriter, product string, e graphError) {
	body := map[string]any{"message": e.Message, "type": "OAuthException", "code": e.Code, "fbtrace_id": "A" + random(10)}
	if e.Subcode != 0 {
		body["error_subcode"] = e.Subcode
	}
	if product == WhatsApp {
		body["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": firstOf(e.Details, e.Message)}
	} else if e.Details != "" {
		body["error_user_msg"] = e.Details
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	reply(w, e.Status, map[string]any{"error": body})
}

func invalid(msg string) graphError {
	return graphError{Status: http.StatusBadRequest, Code: 100, Message: "(#100) " + msg}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// failureFor returns the failure a call meets, if any.
func (s *Server) failureFor(product string, send bool) (graphError, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.failures = slices.DeleteFunc(s.failures, func(f *failure) bool { return !f.until.IsZero() && now.After(f.until) })
	for i, f := range s.failures {
		if (f.Product != "" && f.Product != product) || (!send && !f.AllCalls) {
			continue
		}
		if f.until.IsZero() {
			f.Times--
			if f.Times <= 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
		}
		return f.envelope(product), true
	}
	return graphError{}, false
}

// envelope fills a failure's defaults for a product.
func (f *failure) envelope(product string) graphError {
	e := graphError{Status: f.Status, Code: f.Code, Subcode: f.Subcode, Message: f.Message, RetryAfter: f.RetryAfter}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.Code == 0 {
		switch {
		case e.Status == http.StatusTooManyRequests && product == WhatsApp:
			e.Code = 130429
		case e.Status == http.StatusTooManyRequests:
			e.Code = 613
		case e.Status >= 500:
			e.Code = 2
		default:
			e.Code = 100
		}
	}
	if e.Message == "" {
		e.Message = map[int]string{
			2:      "An unexpected error has occurred. Please retry your request later.",
			10:     "(#10) This message is sent outside of allowed window.",
			100:    "(#100) Invalid parameter",
			190:    "Error validating access token: Session has expired.",
			200:    "(#200) The app does not have the permission to send this message",
			551:    "(#551) This person isn't available right now.",
			613:    "(#613) Calls to this api have exceeded the rate limit.",
			130429: "(#130429) Rate limit hit",
			131026: "(#131026) Message undeliverable",
			131047: "(#131047) Re-engagement message",
		}[e.Code]
		if e.Message == "" {
			e.Message = fmt.Sprintf("(#%d) The request failed", e.Code)
		}
	}
	return e
}

var version = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// authorized checks the bearer token (or the access_token parameter,
// which Graph also takes).
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	return tok != "" && tok == s.Token
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "cdn" {
		s.serveCDN(w, r, parts)
		return
	}
	product := s.productOf(parts)
	if !s.authorized(r) {
		s.refuse(w, product, graphError{Status: http.StatusUnauthorized, Code: 190,
			Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if e, ok := s.failureFor(product, r.Method == http.MethodPost); ok {
		s.refuse(w, product, e)
		return
	}
	if parts[0] == "whatsapp-media" && len(parts) == 2 {
		s.serveMedia(w, r, parts[1])
		return
	}
	if len(parts) < 2 || len(parts) > 3 || !version.MatchString(parts[0]) {
		s.refuse(w, product, graphError{Status: http.StatusBadRequest, Code: 2500, Message: "Unknown path components: " + r.URL.Path})
		return
	}
	id, edge := parts[1], ""
	if len(parts) == 3 {
		edge = parts[2]
	}
	switch {
	case r.Method == http.MethodGet && edge == "" && id == PhoneNumberID:
		reply(w, 200, map[string]any{"verified_name": VerifiedName, "display_phone_number": DisplayPhoneNumber,
			"id": PhoneNumberID, "quality_rating": "GREEN", "code_verification_status": "VERIFIED"})
	case r.Method == http.MethodGet && edge == "" && id == PageID:
		reply(w, 200, map[string]any{"name": PageName, "id": PageID})
	case r.Method == http.MethodGet && edge == "" && id == InstagramID:
		reply(w, 200, map[string]any{"username": InstagramUsername, "id": InstagramID, "user_id": InstagramID})
	case r.Method == http.MethodGet && edge == "" && s.hasMedia(id):
		s.mediaInfo(w, id)
	case r.Method == http.MethodDelete && edge == "" && s.hasMedia(id):
		s.mu.Lock()
		delete(s.media, id)
		s.mu.Unlock()
		reply(w, 200, map[string]any{"success": true})
	case r.Method == http.MethodPost && id == PhoneNumberID && edge == "messages":
		s.waSend(w, r)
	case r.Method == http.MethodPost && id == PhoneNumberID && edge == "media":
		s.waUpload(w, r)
	case r.Method == http.MethodPost && id == PageID && edge == "messages":
		s.fbSend(w, r, Messenger)
	case r.Method == http.MethodPost && id == InstagramID && edge == "messages":
		s.fbSend(w, r, Instagram)
	default:
		s.refuse(w, product, graphError{Status: http.StatusBadRequest, Code: 100, Subcode: 33,
			Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
				strings.ToLower(r.Method), id)})
	}
}

// productOf tells whose call a path is.
func (s *Server) productOf(parts []string) string {
	if parts[0] == "whatsapp-media" {
		return WhatsApp
	}
	if len(parts) < 2 {
		return ""
	}
	switch parts[1] {
	case PhoneNumberID:
		return WhatsApp
	case PageID:
		return Messenger
	case InstagramID:
		return Instagram
	}
	if s.hasMedia(parts[1]) {
		return WhatsApp
	}
	return ""
}

func (s *Server) hasMedia(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.media[id]
	return ok
}

// mediaInfo is GET /{media-id}: the short-lived link to the file.
func (s *Server) mediaInfo(w http.ResponseWriter, id string) {
	s.mu.Lock()
	m := s.media[id]
	s.mu.Unlock()
	sum := sha256.Sum256(m.data)
	reply(w, 200, map[string]any{"messaging_product": "whatsapp", "url": s.URL() + "/whatsapp-media/" + id + "?ext=" + strconv.FormatInt(time.Now().Unix(), 10),
		"mime_type": m.mimeType, "sha256": hex.EncodeToString(sum[:]), "file_size": len(m.data), "id": id})
}

// serveMedia serves a media link's file (with the token, like Meta's).
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.mimeType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.Write(m.data)
}

// serveCDN serves Messenger's and Instagram's attachment links, which
// need no token.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request, parts []string) {
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	m, ok := s.cdn[parts[1]]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "URL signature expired", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", m.mimeType)
	w.Write(m.data)
}

// waSend is POST /{phone-number-id}/messages.
func (s *Server) waSend(w http.ResponseWriter, r *http.Request) {
	raw, body, ok := s.readJSON(w, r, WhatsApp)
	if !ok {
		return
	}
	if str(body["messaging_product"]) != "whatsapp" {
		s.refuse(w, WhatsApp, invalid("The parameter messaging_product is required."))
		return
	}
	if str(body["status"]) == "read" {
		s.mu.Lock()
		s.read = append(s.read, str(body["message_id"]))
		s.mu.Unlock()
		reply(w, 200, map[string]any{"success": true})
		return
	}
	out := Sent{Product: WhatsApp, To: str(body["to"]), Type: str(body["type"]), Raw: raw}
	if out.To == "" {
		s.refuse(w, WhatsApp, invalid("The parameter to is required."))
		return
	}
	if c, ok := body["context"].(map[string]any); ok {
		out.ReplyTo = str(c["message_id"])
	}
	content, _ := body[out.Type].(map[string]any)
	switch out.Type {
	case "text":
		out.Text = str(content["body"])
		if n := utf8.RuneCountInString(out.Text); n == 0 || n > 4096 {
			s.refuse(w, WhatsApp, invalid("Param text['body'] must be between 1 and 4096 characters long."))
			return
		}
	case "image", "audio", "video", "document", "sticker":
		if content == nil {
			s.refuse(w, WhatsApp, invalid("Param "+out.Type+" is required."))
			return
		}
		out.Text, out.FileName = str(content["caption"]), str(content["filename"])
		if out.Text != "" && (out.Type == "audio" || out.Type == "sticker") {
			s.refuse(w, WhatsApp, invalid("Param "+out.Type+"['caption'] is not a valid parameter."))
			return
		}
		if utf8.RuneCountInString(out.Text) > 1024 {
			s.refuse(w, WhatsApp, invalid("Param "+out.Type+"['caption'] must be at most 1024 characters long."))
			return
		}
		if id := str(content["id"]); id != "" {
			s.mu.Lock()
			m, ok := s.media[id]
			s.mu.Unlock()
			if !ok {
				s.refuse(w, WhatsApp, graphError{Status: 400, Code: 131053, Message: "Media upload error",
					Details: "Media id " + id + " is not valid"})
				return
			}
			out.MediaID, out.ContentType, out.File = id, m.mimeType, m.data
			if out.FileName == "" {
				out.FileName = m.name
			}
		} else if link := str(content["link"]); link != "" {
			out.Link = link
			if e, ok := s.fetchLink(&out, waLimit(out.Type)); !ok {
				s.refuse(w, WhatsApp, e)
				return
			}
		} else {
			s.refuse(w, WhatsApp, invalid("Param "+out.Type+" must have an id or a link."))
			return
		}
	default:
		s.refuse(w, WhatsApp, invalid("Param type must be one of {text, image, audio, video, document, sticker} (in this fake)."))
		return
	}
	out.ID = s.newWamid()
	s.record(out)
	reply(w, 200, map[string]any{"messaging_product": "whatsapp", "contacts": []map[string]string{{"input": out.To, "wa_id": out.To}},
		"messages": []map[string]string{{"id": out.ID}}})
}

// waLimit is WhatsApp's limit for a message type or media type.
func waLimit(kind string) int64 {
	switch {
	case strings.HasPrefix(kind, "image"):
		return waImageLimit
	case strings.HasPrefix(kind, "audio"):
		return waAudioLimit
	case strings.HasPrefix(kind, "video"):
		return waVideoLimit
	}
	return waDocLimit
}

// waUpload is POST /{phone-number-id}/media (multipart file, type,
// messaging_product).
func (s *Server) waUpload(w http.ResponseWriter, r *http.Request) {
	fields, files, err := readMultipart(r)
	if err != nil {
		s.refuse(w, WhatsApp, invalid("The request is not multipart/form-data: "+err.Error()))
		return
	}
	if fields["messaging_product"] != "whatsapp" {
		s.refuse(w, WhatsApp, invalid("The parameter messaging_product is required."))
		return
	}
	f, ok := files["file"]
	if !ok {
		s.refuse(w, WhatsApp, invalid("The parameter file is required."))
		return
	}
	typ := fields["type"]
	if typ == "" {
		s.refuse(w, WhatsApp, invalid("The parameter type is required."))
		return
	}
	if limit := waLimit(typ); int64(len(f.data)) > limit {
		s.refuse(w, WhatsApp, graphError{Status: 400, Code: 131053, Message: "(#131053) Media upload error",
			Details: fmt.Sprintf("Media file size too big. Max file size we currently support for %s: %dMB. Please communicate your file size to Meta.", typ, limit/mb)})
		return
	}
	id := s.newMediaID()
	s.mu.Lock()
	s.media[id] = &media{mimeType: typ, name: f.name, data: f.data}
	s.uploads = append(s.uploads, Upload{ID: id, Type: typ, FileName: f.name, Data: f.data})
	s.mu.Unlock()
	reply(w, 200, map[string]any{"id": id})
}

// fbSend is Messenger's and Instagram's POST /{id}/messages: JSON, or for
// Messenger multipart with the file in filedata.
func (s *Server) fbSend(w http.ResponseWriter, r *http.Request, product string) {
	var body map[string]any
	var raw []byte
	var upload *part
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if product == Instagram {
			s.refuse(w, product, invalid("Instagram messages take attachments by URL."))
			return
		}
		fields, files, err := readMultipart(r)
		if err != nil {
			s.refuse(w, product, invalid("Bad multipart body: "+err.Error()))
			return
		}
		raw, _ = json.Marshal(fields)
		body = map[string]any{"messaging_type": fields["messaging_type"], "tag": fields["tag"]}
		for _, k := range []string{"recipient", "message"} {
			var v any
			if err := json.Unmarshal([]byte(fields[k]), &v); err != nil {
				s.refuse(w, product, invalid("param "+k+" must be JSON"))
				return
			}
			body[k] = v
		}
		if f, ok := files["filedata"]; ok {
			upload = &f
		}
	} else {
		var ok bool
		if raw, body, ok = s.readJSON(w, r, product); !ok {
			return
		}
	}
	out := Sent{Product: product, Raw: raw, MessagingType: str(body["messaging_type"]), Tag: str(body["tag"])}
	if rc, ok := body["recipient"].(map[string]any); ok {
		out.To = str(rc["id"])
	}
	if out.To == "" {
		s.refuse(w, product, invalid("The parameter recipient is required"))
		return
	}
	if product == Messenger {
		switch out.MessagingType {
		case "RESPONSE", "UPDATE":
		case "MESSAGE_TAG":
			if out.Tag == "" {
				s.refuse(w, product, invalid("The parameter tag is required with messaging_type MESSAGE_TAG"))
				return
			}
		default:
			s.refuse(w, product, invalid("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"))
			return
		}
	}
	msg, _ := body["message"].(map[string]any)
	att, _ := msg["attachment"].(map[string]any)
	switch {
	case msg == nil:
		s.refuse(w, product, invalid("The parameter message is required"))
		return
	case att == nil:
		out.Type, out.Text = "text", str(msg["text"])
		if out.Text == "" {
			s.refuse(w, product, invalid("param message must be non-empty."))
			return
		}
		if product == Messenger && utf8.RuneCountInString(out.Text) > 2000 {
			s.refuse(w, product, invalid("Length of param message[text] must be less than or equal to 2000"))
			return
		}
		if product == Instagram && len(out.Text) > 1000 {
			s.refuse(w, product, invalid("The message text is longer than 1000 bytes"))
			return
		}
	default:
		out.Type = str(att["type"])
		switch out.Type {
		case "image", "audio", "video", "file":
		default:
			s.refuse(w, product, invalid("param message[attachment][type] must be one of {image, audio, video, file}"))
			return
		}
		payload, _ := att["payload"].(map[string]any)
		limit := int64(fbLimit)
		if out.Type == "image" && (product == Instagram || upload == nil) {
			limit = fbURLImageLim
		}
		switch {
		case upload != nil:
			if int64(len(upload.data)) > limit {
				s.refuse(w, product, graphError{Status: 400, Code: 100, Subcode: 2018294, Message: "(#100) Upload attachment failure.",
					Details: fmt.Sprintf("Attachments can be at most %d MB", limit/mb)})
				return
			}
			out.FileName, out.ContentType, out.File = upload.name, upload.contentType, upload.data
		case str(payload["url"]) != "":
			out.Link = str(payload["url"])
			if e, ok := s.fetchLink(&out, limit); !ok {
				s.refuse(w, product, e)
				return
			}
		default:
			s.refuse(w, product, invalid("param message[attachment][payload] must have a url (or, for Messenger, come with filedata)"))
			return
		}
	}
	out.ID = s.newMid(product)
	s.record(out)
	reply(w, 200, map[string]any{"recipient_id": out.To, "message_id": out.ID})
}

func (s *Server) record(out Sent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, out)
}

// fetchLink fetches a file sent by link, as Meta would, when the link is
// on the loopback interface (tests reach no other host); others are
// recorded unfetched.
func (s *Server) fetchLink(out *Sent, limit int64) (graphError, bool) {
	u, err := url.Parse(out.Link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return invalid("The attachment URL is not valid"), false
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return graphError{}, true
	}
	fail := graphError{Status: 400, Code: 100, Subcode: 2018008, Message: "(#100) Failed to fetch the file from the url"}
	client := &http.Client{Timeout: fetchTimeout}
	resp, err := client.Get(out.Link)
	if err != nil {
		return fail, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail.Details = "the URL answered " + resp.Status
		return fail, false
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fail, false
	}
	if int64(len(data)) > limit {
		return graphError{Status: 400, Code: 100, Subcode: 2018294, Message: "(#100) Upload attachment failure.",
			Details: fmt.Sprintf("Attachments of this type can be at most %d MB", limit/mb)}, false
	}
	out.File, out.ContentType = data, resp.Header.Get("Content-Type")
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		out.FileName = params["filename"]
	}
	return graphError{}, true
}

// readJSON reads a JSON body.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, product string) ([]byte, map[string]any, bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSONRequest))
	var body map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		s.refuse(w, product, invalid("The request body is not JSON: "+fmt.Sprint(err)))
		return nil, nil, false
	}
	return raw, body, true
}

type part struct {
	name, contentType string
	data              []byte
}

// readMultipart reads a multipart body's fields and files, the files in
// memory up to the largest any product takes (WhatsApp's 100 MB
// documents) and a byte more, so that a limit can be checked.
func readMultipart(r *http.Request) (map[string]string, map[string]part, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, err
	}
	fields := map[string]string{}
	files := map[string]part{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, files, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, maxJSONRequest))
			if err != nil {
				return nil, nil, err
			}
			fields[p.FormName()] = string(b)
			continue
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(p, waDocLimit+1)); err != nil {
			return nil, nil, err
		}
		io.Copy(io.Discard, p)
		files[p.FormName()] = part{p.FileName(), p.Header.Get("Content-Type"), buf.Bytes()}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
