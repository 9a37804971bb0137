package meta

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/channel"
)

// Meta gives no wait with its rate limits: a throughput error waits a
// few seconds, the app's and the page's call limits a minute.
const (
	throughputWait = 2 * time.Second
	rateLimitWait  = time.Minute
)

// errorEnvelope is how the Graph API says no.
type errorEnvelope struct {
	Error *graphError `json:"error"`
}

type graphError struct {
	Message     string          `json:"message"`
	Type        string          `json:"type"`
	Code        int             `json:"code"`
	Subcode     int             `json:"error_subcode"`
	UserMessage string          `json:"error_user_msg"`
	Data        json.RawMessage `json:"error_data"`
	FBTraceID   string          `json:"fbtrace_id"`
}

// details is error_data.details, which WhatsApp fills with the useful
// part (Messenger sometimes sends error_data as a string).
func (e *graphError) details() string {
	var d struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(e.Data, &d) == nil {
		return d.Details
	}
	var s string
	if json.Unmarshal(e.Data, &s) == nil {
		return s
	}
	return ""
}

// errorOf reads a failed call's Graph error envelope.
func (g *graph) errorOf(resp *http.Response) *channel.Error {
	var env errorEnvelope
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		return channel.HTTPError(resp, 0, "", g.label+" answered "+resp.Status)
	}
	return g.refusal(resp, env.Error)
}

// refusal classifies a Graph error: rate limits and Meta's own failures
// are retried, everything else is the service's refusal, in words a
// manager can act on, with Meta's code (code/subcode).
func (g *graph) refusal(resp *http.Response, e *graphError) *channel.Error {
	code := strconv.Itoa(e.Code)
	if e.Subcode != 0 {
		code += "/" + strconv.Itoa(e.Subcode)
	}
	wait := time.Duration(0)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	switch {
	case e.Code == 130429:
		return channel.Retry(max(wait, throughputWait), code, "%s is taking messages from this number more slowly: %s", g.label, bare(e.Message))
	case e.Code == 4 || e.Code == 17 || e.Code == 32 || e.Code == 613 || e.Code == 80007 || resp.StatusCode == http.StatusTooManyRequests:
		return channel.Retry(max(wait, rateLimitWait), code, "%s's rate limit was reached: %s", g.label, bare(e.Message))
	case e.Code == 131056:
		// Too many messages to one customer in a short time: that
		// message waits, the rest of the channel goes on.
		return channel.Retry(wait, code, "%s takes only a few messages a minute to the same customer", g.label)
	case e.Code == 1 || e.Code == 2 || e.Code == 131000 || e.Code == 131016 || e.Code == 133004 || resp.StatusCode >= 500:
		return channel.Retry(wait, code, "%s failed for now: %s", g.label, bare(e.Message))
	}
	return channel.Refused(code, "%s", g.explain(e))
}

// explain says what a refusal (a send's, or a failed status's) means for
// the manager who sees it on their message.
func (g *graph) explain(e *graphError) string {
	switch e.Code {
	case 190:
		return g.label + "'s access token is invalid or has expired: paste a new one into the channel's settings"
	case 200, 3, 299:
		return fmt.Sprintf("the access token lacks a permission this needs (the app needs %s): %s", g.permission, bare(e.Message))
	case 10:
		if e.Subcode == 2534022 || e.Subcode == 2018278 {
			msg := g.label + " lets a business answer only within 24 hours of the customer's last message"
			if g.label == "Messenger" {
				msg += " (7 days with the human agent tag)"
			}
			return msg + ": the customer has to write first"
		}
		return fmt.Sprintf("the access token lacks a permission this needs (the app needs %s): %s", g.permission, bare(e.Message))
	case 551:
		return "the customer cannot be reached right now: they may have blocked the account or left " + g.label
	case 100:
		if e.Subcode == 2018001 {
			return "this customer is not known to the page (they may have deleted their account)"
		}
	case 368:
		return g.label + " has blocked the account for a while for breaking Meta's policies"
	case 131047:
		return "more than 24 hours have passed since the customer's last message: WhatsApp now takes only approved template messages"
	case 131026:
		return "WhatsApp could not deliver the message: the number may not use WhatsApp, or the customer's app is out of date"
	case 131030:
		return "the number is not among the test number's allowed recipients (add it in WhatsApp Manager)"
	case 131048:
		return "WhatsApp is limiting this number after spam reports: check its quality rating in WhatsApp Manager"
	case 131051:
		return "WhatsApp does not carry this kind of message"
	case 131052, 131053:
		return "WhatsApp could not process the file: " + firstOf(e.details(), bare(e.Message))
	case 131031:
		return "the WhatsApp business account is locked: see WhatsApp Manager"
	case 131042:
		return "the WhatsApp business account has a payment problem: see its payment settings"
	case 133010:
		return "the phone number is not registered with the WhatsApp Cloud API"
	}
	msg := bare(e.Message)
	for _, more := range []string{e.UserMessage, e.details()} {
		if more != "" && !strings.Contains(msg, more) {
			msg = strings.TrimPrefix(msg+": "+more, ": ")
		}
	}
	return g.label + " refused: " + msg
}

// bare is a Graph message without its "(#100) " prefix: the code is
// shown apart.
func bare(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "(#"); ok {
		if i := strings.Index(rest, ") "); i >= 0 {
			return rest[i+2:]
		}
	}
	return msg
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
