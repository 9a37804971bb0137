package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/routing"
)

// routingRoutes are the distribution's endpoints (docs/routing.md): a
// manager's availability and the supervisors' queue view. Its settings
// are the project's (PATCH /api/v1/projects/{id}, distribution).
func (s *Server) routingRoutes() []route {
	if s.Routing == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/me/availability", Summary: "Whether you take dialogs from the distribution", Out: parley.Agent{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Routing.Availability(r.Context(), actor(r)))
			}},
		{Method: "PUT", Path: "/api/v1/me/availability", Summary: "Say whether you take dialogs: available, busy or break",
			In: routing.AvailabilityInput{}, Out: parley.Agent{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in routing.AvailabilityInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Routing.SetAvailability(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/messages/{id}/routing", Summary: "The whole decision behind a routed line: its snapshot and every candidate's verdict",
			Out: parley.RoutingDecision{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.RoutingDecision(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/projects/{id}/queue", Summary: "A project's queue: waiting dialogs, why they wait, each manager's load (chat settings right)",
			Out: routing.QueueView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Routing.Queue(r.Context(), actor(r), id))
			})},
	}
}
