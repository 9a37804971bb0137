package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Channel bodies.
type (
	ChannelKindList struct {
		Kinds []channel.Spec `json:"kinds"`
	}
	ChannelList struct {
		Channels []*channel.View `json:"channels"`
	}
	// WebhookAck is the answer to a service's webhook call, unless its
	// channel answers in its own format (TwiML, a verification challenge).
	WebhookAck struct {
		OK bool `json:"ok"`
	}
)

// maxWebhookBody bounds a webhook call: messengers send small JSON, the
// API channel may carry files inline.
const maxWebhookBody = 32 << 20

// channelRoutes are the connected channels' endpoints (docs/channels.md):
// their settings, for those with the chat settings right, and the public
// URLs their services call.
func (s *Server) channelRoutes() []route {
	if s.Channels == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/channel-kinds", Summary: "The kinds of channel this server connects, with the settings each takes",
			Out: ChannelKindList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				writeJSON(w, http.StatusOK, ChannelKindList{s.Channels.Kinds()})
				return nil
			}},
		{Method: "GET", Path: "/api/v1/channels", Summary: "The connected channels, of one project or all (the chat settings right)",
			Out: ChannelList{}, Query: "project_id:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				pid, err := queryInt(r, "project_id")
				if err != nil {
					return err
				}
				list, err := s.Channels.Channels(r.Context(), actor(r), pid)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, ChannelList{nonNil(list)})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/channels", Summary: "Connect a channel to a project (the chat settings right)",
			In: channel.Input{}, Out: channel.View{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in channel.Input
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Channels.Create(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/channels/{id}", Summary: "One channel (the chat settings right)", Out: channel.View{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Channels.Channel(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/channels/{id}", Summary: "Rename, reconfigure, pause or resume a channel (the chat settings right)",
			In: channel.Patch{}, Out: channel.View{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in channel.Patch
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Channels.Update(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/channels/{id}", Summary: "Remove a channel; its dialogs keep their history (the chat settings right)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Channels.Delete(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/channels/{id}/test", Summary: "Call the channel's service with its credentials (the chat settings right)",
			Out: channel.TestResult{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Channels.Test(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/channels/{id}/webhook", Errors: []int{401}, Summary: "A service's verification of the channel's webhook (Meta's hub.challenge)",
			Public: true, Out: WebhookAck{}, Handle: serveWebhook},
		{Method: "POST", Path: "/api/v1/channels/{id}/webhook", Errors: []int{401}, Summary: "A service's call with customers' messages and delivery statuses; answered once they are stored",
			Public: true, Out: WebhookAck{}, Handle: serveWebhook},
		{Method: "GET", Path: "/api/v1/channels/{id}/files/{file}", Summary: "A reply's file, for a service that fetches files by link (signed, expiring)",
			Public: true, Query: "exp:string sig:string",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				fid, err := pathID(r, "file")
				if err != nil {
					return err
				}
				q := r.URL.Query()
				f, rc, err := s.Channels.OpenFile(r.Context(), id, fid, q.Get("exp"), q.Get("sig"))
				if err != nil {
					return err
				}
				return serveFile(w, f, rc, false)
			})},
	}
}

// serveWebhook hands a service's call to its channel with the raw body
// (signatures cover it byte for byte) and the URL the service called
// (Twilio's covers that too).
func serveWebhook(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return parley.Invalid("body", "reading the body: %v", err)
	}
	if len(body) > maxWebhookBody {
		return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", maxWebhookBody)
	}
	u := s.calledURL(r)
	resp, err := s.Channels.Webhook(r.Context(), id, &channel.Request{Method: r.Method, URL: &u, Header: r.Header, Body: body})
	if err != nil {
		return err
	}
	if resp == nil {
		writeJSON(w, http.StatusOK, WebhookAck{OK: true})
		return nil
	}
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	w.Header().Set("Cache-Control", "no-store")
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err = w.Write(resp.Body)
	return err
}

// calledURL is the URL a service called, as it spelled it: signatures
// (Twilio's) cover it.
func (s *Server) calledURL(r *http.Request) url.URL {
	u := *r.URL
	if s.PublicURL != "" {
		pu, err := u.Parse(strings.TrimRight(s.PublicURL, "/") + r.URL.RequestURI())
		if err == nil {
			u = *pu
		}
	} else {
		u.Host = r.Host
		u.Scheme = "http"
		if r.TLS != nil || (s.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
			u.Scheme = "https"
		}
	}
	return u
}
