package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/calls"
)

// CallList is the calls under way that the user can see.
type CallList struct {
	Calls []*calls.Call `json:"calls"`
}

// callRoutes are the calls' endpoints (docs/calls.md); the calls
// themselves are driven over the WebSocket.
func (s *Server) callRoutes() []route {
	if s.Calls == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/calls", Summary: "The calls under way in your conversations (to find your call again after a reconnect)",
			Out: CallList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.Calls.Active(r.Context(), actor(r))
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(CallList{Calls: list}, nil)
			}},
		{Method: "GET", Path: "/api/v1/calls/ice-servers", Summary: "STUN and TURN servers for your calls, with short-lived TURN credentials",
			Out: calls.ICEConfig{}, Errors: []int{http.StatusForbidden},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Calls.ICEServers(r.Context(), actor(r)))
			}},
	}
}
