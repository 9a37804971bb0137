// Package telegramfake is a Telegram Bot API server for tests, on
// 127.0.0.1: the methods Parley's adapter calls, with Telegram's envelope,
// errors and file limits, and the two ways updates reach a bot (a webhook
// call with the secret token, or getUpdates).
package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sent is a message the bot sent.
type Sent struct {
	Method    string // sendMessage, sendPhoto, ...
	ChatID    int64
	MessageID int64
	Text      string // text or caption
	ReplyTo   int64
	FileName  string
	File      []byte
	At        time.Time // when the fake took it
}

// Update is an update the test makes a customer send.
type Update struct {
	ChatID    int64
	FirstName string
	MessageID int64 // 0: the next one
	Text      string
	ReplyTo   int64
	// File, if set, arrives as a document (a photo with Photo).
	File     []byte
	FileName string
	MimeType string
	Photo    bool
	// FileSize overrides the size Telegram reports (to exceed 20 MB
	// without the bytes).
	FileSize int64
}

// Server is the fake Bot API.
type Server struct {
	Token string
	srv   *httptest.Server

	mu         sync.Mutex
	sent       []Sent
	calls      map[string]int
	nextMsg    int64
	nextUpdate int64
	pending    []map[string]any // for getUpdates
	waiters    chan struct{}
	webhook    string
	secret     string
	files      map[string][]byte
	throttle   time.Time // answer 429 until then
	retryAfter int
	throttled  int // 429s answered
	fail       int // answer 500 to the next n send calls
	refuse     int // answer refusal to the next n send calls
	refusal    [2]any
	polls      int // getUpdates calls in progress
	maxPolls   int
}

// New starts a fake for the bot token.
func New(token string) *Server {
	s := &Server{Token: token, calls: map[string]int{}, nextMsg: 1000, nextUpdate: 1, files: map[string][]byte{},
		waiters: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the fake's base URL (the channel's base_url).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake, ending long polls in progress.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Sent returns what the bot sent, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Calls counts the calls of a method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Webhook returns the webhook URL and secret the bot set ("" if none).
func (s *Server) Webhook() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook, s.secret
}

// Throttle answers every send with 429 and retry_after for d.
func (s *Server) Throttle(d time.Duration, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryAfter = time.Now().Add(d), retryAfter
}

// Throttled counts the sends answered with 429 because of Throttle.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// FailSends answers the next n sends with a 500.
func (s *Server) FailSends(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Refuse answers the next n sends with a refusal, such as 403 "Forbidden:
// bot was blocked by the user".
func (s *Server) Refuse(n, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse, s.refusal = n, [2]any{code, description}
}

// update builds the JSON of an update as Telegram sends it.
func (s *Server) update(u Update) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.MessageID == 0 {
		s.nextMsg++
		u.MessageID = s.nextMsg
	}
	id := s.nextUpdate
	s.nextUpdate++
	from := map[string]any{"id": u.ChatID, "is_bot": false, "first_name": u.FirstName}
	m := map[string]any{"message_id": u.MessageID, "date": time.Now().Unix(),
		"chat": map[string]any{"id": u.ChatID, "type": "private", "first_name": u.FirstName}, "from": from}
	if u.ReplyTo != 0 {
		m["reply_to_message"] = map[string]any{"message_id": u.ReplyTo, "date": 0, "chat": m["chat"]}
	}
	if u.File != nil || u.FileSize > 0 {
		fid := "file" + strconv.FormatInt(u.MessageID, 10)
		s.files[fid] = u.File
		size := u.FileSize
		if size == 0 {
			size = int64(len(u.File))
		}
		if u.Photo {
			m["photo"] = []map[string]any{{"file_id": fid + "s", "file_unique_id": "u" + fid + "s", "width": 90, "height": 90, "file_size": 10},
				{"file_id": fid, "file_unique_id": "u" + fid, "width": 800, "height": 600, "file_size": size}}
		} else {
			m["document"] = map[string]any{"file_id": fid, "file_unique_id": "u" + fid, "file_name": u.FileName, "mime_type": u.MimeType, "file_size": size}
		}
		m["caption"] = u.Text
	} else {
		m["text"] = u.Text
	}
	return map[string]any{"update_id": id, "message": m}
}

// Deliver makes a customer send u through the bot's webhook, with the
// given secret ("" : the one the bot set). It returns the update and the
// status the webhook answered (0: unreachable).
func (s *Server) Deliver(u Update, secret string) (map[string]any, int) {
	up := s.update(u)
	return up, s.Redeliver(up, secret)
}

// Redeliver posts an update again, as Telegram does when a webhook call
// failed; it returns the status.
func (s *Server) Redeliver(up map[string]any, secret string) int {
	url, set := s.Webhook()
	if secret == "" {
		secret = set
	}
	body, _ := json.Marshal(up)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Queue keeps u for getUpdates (polling bots).
func (s *Server) Queue(u Update) map[string]any {
	up := s.update(u)
	s.mu.Lock()
	s.pending = append(s.pending, up)
	close(s.waiters)
	s.waiters = make(chan struct{})
	s.mu.Unlock()
	return up
}

// Pending counts the updates getUpdates has not had confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, code int, desc string, params map[string]any) {
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if params != nil {
		body["parameters"] = params
	}
	reply(w, code, body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot"+s.Token+"/") {
		s.mu.Lock()
		data, ok := s.files[strings.TrimPrefix(r.URL.Path, "/file/bot"+s.Token+"/")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		http.NotFound(w, r)
		return
	}
	if token != s.Token {
		refuse(w, 401, "Unauthorized", nil)
		return
	}
	params, files, err := readParams(r)
	if err != nil {
		refuse(w, 400, "Bad Request: "+err.Error(), nil)
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	switch method {
	case "getMe":
		reply(w, 200, map[string]any{"ok": true, "result": map[string]any{"id": 42, "is_bot": true, "first_name": "Support", "username": "parley_test_bot"}})
	case "setWebhook":
		s.mu.Lock()
		s.webhook, _ = params["url"].(string)
		s.secret, _ = params["secret_token"].(string)
		s.mu.Unlock()
		reply(w, 200, map[string]any{"ok": true, "result": true, "description": "Webhook was set"})
	case "deleteWebhook":
		s.mu.Lock()
		s.webhook, s.secret = "", ""
		s.mu.Unlock()
		reply(w, 200, map[string]any{"ok": true, "result": true})
	case "getUpdates":
		s.getUpdates(w, r, params)
	case "getFile":
		fid, _ := params["file_id"].(string)
		s.mu.Lock()
		data, ok := s.files[fid]
		s.mu.Unlock()
		if !ok {
			refuse(w, 400, "Bad Request: invalid file_id", nil)
			return
		}
		if len(data) > 20<<20 {
			refuse(w, 400, "Bad Request: file is too big", nil)
			return
		}
		reply(w, 200, map[string]any{"ok": true, "result": map[string]any{"file_id": fid, "file_size": len(data), "file_path": fid}})
	case "sendMessage", "sendPhoto", "sendDocument", "sendVoice":
		s.send(w, method, params, files)
	default:
		refuse(w, 404, "Not Found: method not found", nil)
	}
}

// MaxConcurrentPolls is the most getUpdates calls that were ever in
// progress at once: more than one means two pollers of one bot, which
// Telegram answers with 409 Conflict.
func (s *Server) MaxConcurrentPolls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxPolls
}

// getUpdates confirms the updates before offset and long-polls for more.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, params map[string]any) {
	s.mu.Lock()
	if s.webhook != "" {
		s.mu.Unlock()
		refuse(w, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", nil)
		return
	}
	s.polls++
	s.maxPolls = max(s.maxPolls, s.polls)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.polls--
		s.mu.Unlock()
	}()
	offset := int64(num(params["offset"]))
	timeout := time.Duration(num(params["timeout"])) * time.Second
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		kept := s.pending[:0]
		for _, u := range s.pending {
			if int64(num(u["update_id"])) >= offset {
				kept = append(kept, u)
			}
		}
		s.pending = kept
		out := append([]map[string]any(nil), kept...)
		wait := s.waiters
		s.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			reply(w, 200, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-wait:
		case <-deadline:
			reply(w, 200, map[string]any{"ok": true, "result": []any{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) send(w http.ResponseWriter, method string, params map[string]any, files map[string]upload) {
	s.mu.Lock()
	if time.Now().Before(s.throttle) {
		ra := s.retryAfter
		s.throttled++
		s.mu.Unlock()
		refuse(w, 429, "Too Many Requests: retry after "+strconv.Itoa(ra), map[string]any{"retry_after": ra})
		return
	}
	if s.fail > 0 {
		s.fail--
		s.mu.Unlock()
		refuse(w, 500, "Internal Server Error", nil)
		return
	}
	if s.refuse > 0 {
		s.refuse--
		code, desc := s.refusal[0].(int), s.refusal[1].(string)
		s.mu.Unlock()
		refuse(w, code, desc, nil)
		return
	}
	s.mu.Unlock()
	chatID := int64(num(params["chat_id"]))
	if chatID == 0 {
		refuse(w, 400, "Bad Request: chat not found", nil)
		return
	}
	out := Sent{Method: method, ChatID: chatID}
	if rp, ok := params["reply_parameters"].(map[string]any); ok {
		out.ReplyTo = int64(num(rp["message_id"]))
	}
	if method == "sendMessage" {
		out.Text, _ = params["text"].(string)
		if n := len([]rune(out.Text)); n == 0 || n > 4096 {
			refuse(w, 400, "Bad Request: message text is empty or too long", nil)
			return
		}
	} else {
		out.Text, _ = params["caption"].(string)
		field := map[string]string{"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice"}[method]
		f, ok := files[field]
		if !ok {
			refuse(w, 400, "Bad Request: there is no "+field+" in the request", nil)
			return
		}
		limit := 50 << 20
		if method == "sendPhoto" {
			limit = 10 << 20
		}
		if len(f.data) > limit {
			refuse(w, 413, "Request Entity Too Large", nil)
			return
		}
		out.FileName, out.File = f.name, f.data
	}
	s.mu.Lock()
	s.nextMsg++
	out.MessageID = s.nextMsg
	out.At = time.Now()
	s.sent = append(s.sent, out)
	s.mu.Unlock()
	reply(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": out.MessageID, "date": time.Now().Unix(),
		"chat": map[string]any{"id": chatID, "type": "private"}, "text": out.Text}})
}

type upload struct {
	name string
	data []byte
}

// readParams reads a method's parameters from JSON, a form or multipart,
// as the Bot API accepts them.
func readParams(r *http.Request) (map[string]any, map[string]upload, error) {
	params := map[string]any{}
	files := map[string]upload{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, nil, err
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &params); err != nil {
				return nil, nil, err
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return nil, nil, err
		}
		for k, v := range r.MultipartForm.Value {
			var j any
			if err := json.Unmarshal([]byte(v[0]), &j); err == nil {
				if _, ok := j.(map[string]any); ok {
					params[k] = j
					continue
				}
			}
			params[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[k] = upload{fhs[0].Filename, data}
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, v := range r.Form {
			params[k] = v[0]
		}
	}
	return params, files, nil
}

// num reads a number a parameter carries as a JSON number or a string.
func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return f
	}
	return 0
}

// String describes the fake for test logs.
func (s *Server) String() string { return fmt.Sprintf("telegramfake at %s", s.srv.URL) }
