// Package apitest is the other system of Parley's API channel, for tests,
// on 127.0.0.1: a Receiver (the channel's url) that checks
// X-Parley-Signature and records the replies, and a Client that calls the
// channel's webhook URL with its token.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/channel/api"
	"github.com/parley-chat/parley/signature"
)

// Received is a reply the receiver took.
type Received struct {
	Reply  api.Reply
	Body   []byte // as received
	Header http.Header
	// ID is the id the receiver answered (empty when told not to).
	ID string
}

// Receiver is the system's reply URL.
type Receiver struct {
	// Secret is the channel's signing secret; calls not signed with it
	// are answered 401 and counted as forged.
	Secret string

	srv *httptest.Server

	mu         sync.Mutex
	replies    []Received
	pings      int
	forged     int
	ids        map[int64]string // the id answered for each Parley message
	noIDs      bool
	throttle   time.Time // answer 429 until then
	retryAfter int
	fail       int // answer 500 to the next n calls
	refuse     int // answer refusal to the next n calls
	status     int
	refusal    string
}

// NewReceiver starts a receiver for the signing secret.
func NewReceiver(secret string) *Receiver {
	r := &Receiver{Secret: secret, ids: map[int64]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the receiver's URL (the channel's url setting).
func (r *Receiver) URL() string { return r.srv.URL + "/parley/replies" }

// Close stops the receiver.
func (r *Receiver) Close() { r.srv.Close() }

// Replies returns the replies taken, in order (a reply sent again is
// there again).
func (r *Receiver) Replies() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.replies)
}

// Pings counts the connection tests.
func (r *Receiver) Pings() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pings
}

// Forged counts the calls refused for their signature.
func (r *Receiver) Forged() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.forged
}

// AnswerIDs sets whether the receiver answers a reply with its own id
// ({"id":"sys-<n>"}, the same for a reply sent again) or with an empty
// 200 (Parley then calls the reply "parley-<message id>"). It does by
// default.
func (r *Receiver) AnswerIDs(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noIDs = !on
}

// Throttle answers every call with 429 for d, with Retry-After of
// retryAfter seconds when it is not 0.
func (r *Receiver) Throttle(d time.Duration, retryAfter int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttle, r.retryAfter = time.Now().Add(d), retryAfter
}

// Fail answers the next n calls with a 500.
func (r *Receiver) Fail(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = n
}

// Refuse answers the next n calls with status and {"error": message}.
func (r *Receiver) Refuse(n, status int, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse, r.status, r.refusal = n, status, message
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if err := signature.Verify([]byte(r.Secret), req.Header.Get(signature.Header), body, time.Now(), 0); err != nil {
		r.mu.Lock()
		r.forged++
		r.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case time.Now().Before(r.throttle):
		if r.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(r.retryAfter))
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow down"})
		return
	case r.fail > 0:
		r.fail--
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case r.refuse > 0:
		r.refuse--
		writeJSON(w, r.status, map[string]string{"error": r.refusal})
		return
	}
	var kind struct {
		Type string `json:"type"`
	}
	json.Unmarshal(body, &kind)
	switch kind.Type {
	case "ping":
		r.pings++
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case "message":
		var reply api.Reply
		if err := json.Unmarshal(body, &reply); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		got := Received{Reply: reply, Body: body, Header: req.Header.Clone()}
		if !r.noIDs {
			id, ok := r.ids[reply.Message.ID]
			if !ok {
				id = "sys-" + strconv.Itoa(len(r.ids)+1)
				r.ids[reply.Message.ID] = id
			}
			got.ID = id
		}
		r.replies = append(r.replies, got)
		if got.ID == "" {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, api.Answer{ID: got.ID})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown type " + strconv.Quote(kind.Type)})
	}
}

// Client calls an API channel's webhook URL as the system does.
type Client struct {
	URL   string // the channel's webhook URL
	Token string // the channel's token
	HTTP  *http.Client
}

// Answer is what the webhook answered.
type Answer struct {
	Status int // 0: the webhook could not be reached
	Body   string
}

// NewClient returns a client for the webhook URL and token.
func NewClient(webhookURL, token string) *Client {
	return &Client{URL: webhookURL, Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Message sends a customer's message.
func (c *Client) Message(m api.Message) Answer {
	return c.Send(api.Event{Type: "message", Message: &m})
}

// Status reports a reply's status.
func (c *Client) Status(s api.Status) Answer {
	return c.Send(api.Event{Type: "status", Status: &s})
}

// Send sends one event, or several as a batch.
func (c *Client) Send(events ...api.Event) Answer {
	var body []byte
	if len(events) == 1 {
		body, _ = json.Marshal(events[0])
	} else {
		body, _ = json.Marshal(api.Batch{Events: events})
	}
	return c.Post(body)
}

// Post sends a raw body with the token.
func (c *Client) Post(body []byte) Answer {
	req, err := http.NewRequest(http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return Answer{}
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Answer{Status: resp.StatusCode, Body: string(b)}
}
