// Package smsfake is a Twilio Messages API server for tests, on
// 127.0.0.1: Messages.json with Twilio's checks, error envelope and media
// limits, the account resource, customers' media behind HTTP Basic auth,
// and Twilio's calls to a webhook (customers' messages and status
// callbacks), signed with X-Twilio-Signature over exactly the URL called.
package smsfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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
	"unicode/utf16"
)

// Message is a message sent through Messages.json.
type Message struct {
	SID                 string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	MediaURLs           []string
	// Media are the files fetched from MediaURLs (only links to
	// 127.0.0.1 are fetched; the others have Err set).
	Media          []Media
	StatusCallback string
}

// Media is a file: one a customer sends, or one fetched from a reply's
// MediaUrl.
type Media struct {
	ContentType string
	Data        []byte
	Err         string // why a reply's file could not be fetched
}

// Inbound is a customer's message to the number.
type Inbound struct {
	SID   string // "": a new SM... (MM... with media) SID
	From  string
	To    string // "": the fake's Number
	Body  string
	Media []Media
}

// Answer is what a webhook answered a call of the fake's.
type Answer struct {
	Status      int // 0: the webhook could not be reached
	ContentType string
	Body        string
}

// Server is the fake Twilio.
type Server struct {
	AccountSID   string
	AuthToken    string
	FriendlyName string
	// Number is the account's phone number: the only From it sends from,
	// and the To of customers' messages.
	Number string

	srv    *httptest.Server
	client *http.Client

	mu           sync.Mutex
	next         int
	sent         []Message
	calls        int
	media        map[string]Media // by path
	unsubscribed map[string]bool
	throttle     time.Time // answer 429 until then
	retryAfter   int
	fail         int // answer 500 to the next n sends
	refuse       int // answer refusal to the next n sends
	refusal      twilioError
}

// twilioError is Twilio's error envelope.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Twilio's limits on one message.
const (
	maxBody       = 1600
	maxMedia      = 10
	maxMediaBytes = 5 << 20
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// New starts a fake for the account.
func New(accountSID, authToken string) *Server {
	s := &Server{AccountSID: accountSID, AuthToken: authToken, FriendlyName: "Parley test account", Number: "+15005550006",
		client: &http.Client{Timeout: 30 * time.Second}, media: map[string]Media{}, unsubscribed: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.send)
	mux.HandleFunc("GET /2010-04-01/Accounts/{file}", s.account)
	mux.HandleFunc("GET /2010-04-01/Accounts/{sid}/Messages/{msg}/Media/{media}", s.serveMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the fake's base URL (the channel's base_url).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Sent returns the messages sent, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Calls counts the calls to Messages.json, refused ones included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Throttle answers every send with 429 (Twilio's 20429) for d, with a
// Retry-After header of retryAfter seconds when it is not 0 (Twilio does
// not promise one; compatible services may send it).
func (s *Server) Throttle(d time.Duration, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = time.Now().Add(d), retryAfter
}

// FailSends answers the next n sends with a 500.
func (s *Server) FailSends(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Refuse answers the next n sends with Twilio's error code and message
// and the HTTP status, such as 400, 21211, "Invalid 'To' Phone Number".
func (s *Server) Refuse(n, status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse, s.refusal = n, twilioError{Code: code, Message: message, Status: status}
}

// Unsubscribe makes number a customer who replied STOP: sends to it are
// refused with 21610.
func (s *Server) Unsubscribe(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsubscribed[number] = true
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(twilioError{Code: code, Message: message, Status: status,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)})
}

// authorized checks HTTP Basic auth with the account's SID and token, and
// that the path names the account.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, sid string) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	if sid != s.AccountSID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return false
	}
	return true
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	if !ok {
		writeError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if !s.authorized(w, r, sid) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sid": s.AccountSID, "friendly_name": s.FriendlyName, "status": "active",
		"type": "Full", "owner_account_sid": s.AccountSID, "uri": "/2010-04-01/Accounts/" + s.AccountSID + ".json"})
}

// sid makes a Twilio SID with the prefix ("SM", "MM", "ME").
func (s *Server) sid(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	return fmt.Sprintf("%s%032x", prefix, s.next)
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r, r.PathValue("sid")) {
		return
	}
	s.mu.Lock()
	s.calls++
	switch {
	case time.Now().Before(s.throttle):
		if s.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter))
		}
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	case s.fail > 0:
		s.fail--
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	case s.refuse > 0:
		s.refuse--
		e := s.refusal
		s.mu.Unlock()
		writeError(w, e.Status, e.Code, e.Message)
		return
	}
	s.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid form: "+err.Error())
		return
	}
	f := r.PostForm
	m := Message{To: f.Get("To"), From: f.Get("From"), MessagingServiceSID: f.Get("MessagingServiceSid"), Body: f.Get("Body"),
		MediaURLs: f["MediaUrl"], StatusCallback: f.Get("StatusCallback")}
	units := 0
	for _, c := range m.Body {
		units += utf16.RuneLen(c)
	}
	s.mu.Lock()
	stop := s.unsubscribed[m.To]
	s.mu.Unlock()
	switch {
	case m.To == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case !e164.MatchString(m.To):
		writeError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+m.To)
	case m.From == "" && m.MessagingServiceSID == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
	case m.From != "" && m.From != s.Number:
		writeError(w, http.StatusBadRequest, 21606, "The From phone number "+m.From+" is not a valid, SMS-capable inbound phone number or short code for your account.")
	case m.Body == "" && len(m.MediaURLs) == 0:
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
	case units > maxBody:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
	case len(m.MediaURLs) > maxMedia:
		writeError(w, http.StatusBadRequest, 21623, "Number of media files exceeds allowed limit.")
	case stop:
		writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
	default:
		s.accept(w, m)
	}
}

// accept fetches a reply's media and records it. Twilio fetches media
// after it answers and reports a failure by status callback; the fake
// fetches at once and refuses more than 5 MB with the code Twilio reports
// (11751), so that tests see the limit.
func (s *Server) accept(w http.ResponseWriter, m Message) {
	var total int
	for _, link := range m.MediaURLs {
		md := s.fetch(link)
		total += len(md.Data)
		m.Media = append(m.Media, md)
	}
	if total > maxMediaBytes {
		writeError(w, http.StatusBadRequest, 11751, "Media exceeds messaging provider size limit")
		return
	}
	prefix := "SM"
	if len(m.MediaURLs) > 0 {
		prefix = "MM"
	}
	m.SID = s.sid(prefix)
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	status := "queued"
	if m.From == "" {
		status = "accepted" // through a messaging service, which picks the number
	}
	now := time.Now().UTC().Format(time.RFC1123Z)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": m.SID, "account_sid": s.AccountSID, "to": m.To, "from": nilIfEmpty(m.From),
		"messaging_service_sid": nilIfEmpty(m.MessagingServiceSID), "body": m.Body, "status": status,
		"num_media": strconv.Itoa(len(m.MediaURLs)), "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
		"date_created": now, "date_updated": now, "error_code": nil, "error_message": nil, "price": nil,
		"uri": "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + m.SID + ".json"})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fetch gets a reply's file from its link, if the link is local.
func (s *Server) fetch(link string) Media {
	u, err := url.Parse(link)
	if err != nil {
		return Media{Err: "not a URL"}
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return Media{Err: "not fetched: not a link to 127.0.0.1"}
	}
	resp, err := s.client.Get(link)
	if err != nil {
		return Media{Err: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Media{Err: resp.Status}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMediaBytes+1))
	if err != nil {
		return Media{Err: err.Error()}
	}
	return Media{ContentType: resp.Header.Get("Content-Type"), Data: data}
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r, r.PathValue("sid")) {
		return
	}
	s.mu.Lock()
	md, ok := s.media[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	w.Header().Set("Content-Type", md.ContentType)
	w.Write(md.Data)
}

// Sign is X-Twilio-Signature for a call to webhookURL with params,
// computed as Twilio's own validators do.
func (s *Server) Sign(webhookURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(s.AuthToken))
	m.Write([]byte(webhookURL))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Sorted(slices.Values(params[k]))
		for _, v := range vs {
			m.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Post makes Twilio's call: params as a form POST to webhookURL, with
// signature as X-Twilio-Signature ("": the right one, so a test forges a
// call by giving another).
func (s *Server) Post(webhookURL string, params url.Values, signature string) Answer {
	if signature == "" {
		signature = s.Sign(webhookURL, params)
	}
	req, err := http.NewRequest(http.MethodPost, webhookURL, strings.NewReader(params.Encode()))
	if err != nil {
		return Answer{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature)
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := s.client.Do(req)
	if err != nil {
		return Answer{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(body)}
}

// Deliver makes a customer send in to the number: Twilio's incoming
// message call to webhookURL, signed. Its media are served by the fake
// (behind Basic auth). It returns the call's parameters, to post again
// with Post as Twilio does when a webhook fails.
func (s *Server) Deliver(webhookURL string, in Inbound) (url.Values, Answer) {
	sid := in.SID
	if sid == "" {
		prefix := "SM"
		if len(in.Media) > 0 {
			prefix = "MM"
		}
		sid = s.sid(prefix)
	}
	to := in.To
	if to == "" {
		to = s.Number
	}
	p := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {s.AccountSID},
		"From": {in.From}, "To": {to}, "Body": {in.Body}, "NumMedia": {strconv.Itoa(len(in.Media))}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
	for i, md := range in.Media {
		path := "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + sid + "/Media/" + s.sid("ME")
		s.mu.Lock()
		s.media[path] = md
		s.mu.Unlock()
		p.Set("MediaUrl"+strconv.Itoa(i), s.srv.URL+path)
		p.Set("MediaContentType"+strconv.Itoa(i), md.ContentType)
	}
	return p, s.Post(webhookURL, p, "")
}

// Report makes Twilio's status callback for the message sid: status
// (queued, sent, delivered, undelivered, failed, read) and, for a
// failure, Twilio's error code ("30003"). An empty webhookURL is the
// StatusCallback the message was sent with.
func (s *Server) Report(webhookURL, sid, status, errorCode string) Answer {
	s.mu.Lock()
	var m Message
	for _, x := range s.sent {
		if x.SID == sid {
			m = x
		}
	}
	s.mu.Unlock()
	if webhookURL == "" {
		webhookURL = m.StatusCallback
	}
	from := m.From
	if from == "" {
		from = s.Number
	}
	p := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {s.AccountSID}, "From": {from}, "To": {m.To}, "ApiVersion": {"2010-04-01"}}
	if m.MessagingServiceSID != "" {
		p.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if errorCode != "" {
		p.Set("ErrorCode", errorCode)
	}
	return s.Post(webhookURL, p, "")
}
