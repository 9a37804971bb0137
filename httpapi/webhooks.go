package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/webhooks"
)

// Webhook bodies.
type (
	WebhookList struct {
		Webhooks []*webhooks.View `json:"webhooks"`
	}
	DeliveryList struct {
		Deliveries []*parley.WebhookDelivery `json:"deliveries"`
	}
)

// webhookRoutes are the outgoing webhooks' and bots' endpoints
// (docs/webhooks.md), for those with the chat settings right.
func (s *Server) webhookRoutes() []route {
	if s.Webhooks == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/webhooks", Summary: "The outgoing webhooks (the chat settings right)", Out: WebhookList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.Webhooks.Webhooks(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, WebhookList{nonNil(list)})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/webhooks", Summary: "Add a webhook for a project's dialogs, every project's, or a bot; its secret is shown once",
			In: webhooks.Input{}, Out: webhooks.View{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in webhooks.Input
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Webhooks.Create(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/webhooks/{id}", Summary: "One webhook", Out: webhooks.View{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Webhooks.Webhook(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/webhooks/{id}", Summary: "Change a webhook's URL or events, pause it, or rotate its secret (shown once)",
			In: webhooks.Patch{}, Out: webhooks.View{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in webhooks.Patch
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Webhooks.Update(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", Summary: "Remove a webhook and its log",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Webhooks.Delete(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/webhooks/{id}/deliveries", Summary: "A webhook's delivery log, newest first",
			Out: DeliveryList{}, Query: "before:int limit:int",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				before, err := queryInt(r, "before")
				if err != nil {
					return err
				}
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				list, err := s.Webhooks.Deliveries(r.Context(), actor(r), id, before, int(limit))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, DeliveryList{nonNil(list)})
				return nil
			})},
		{Method: "POST", Path: "/api/v1/webhooks/{id}/deliveries/{delivery}/resend", Summary: "Deliver a logged event again, now",
			Out: parley.WebhookDelivery{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				did, err := pathID(r, "delivery")
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Webhooks.Resend(r.Context(), actor(r), id, did))
			})},
		{Method: "POST", Path: "/api/v1/bots", Summary: "Create a bot with its API token (and webhook), each shown once",
			In: webhooks.BotInput{}, Out: webhooks.Bot{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in webhooks.BotInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Webhooks.CreateBot(r.Context(), actor(r), in))
			}},
	}
}
