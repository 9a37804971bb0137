package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/notify"
)

// VAPIDKeyOutput is the key browsers subscribe with.
type VAPIDKeyOutput struct {
	PublicKey string `json:"public_key"`
}

// notifyRoutes are the notifications that reach people with no tab open
// (docs/webapp.md, "Notifications"): browsers' push subscriptions and the
// user's notification settings.
func (s *Server) notifyRoutes() []route {
	if s.Notify == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/push/vapid-key", Summary: "The server's VAPID public key, to subscribe a browser to pushes with", Out: VAPIDKeyOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(VAPIDKeyOutput{s.Notify.VAPIDPublicKey()}, nil)
			}},
		{Method: "GET", Path: "/api/v1/push/subscriptions", Summary: "Your browsers that receive pushes", Out: []*parley.PushSubscription{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Notify.Subscriptions(r.Context(), actor(r)))
			}},
		{Method: "POST", Path: "/api/v1/push/subscriptions", Summary: "Subscribe this browser to pushes (its PushSubscription)", Errors: []int{409},
			In: notify.SubscriptionInput{}, Out: parley.PushSubscription{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in notify.SubscriptionInput
				if err := decode(r, &in); err != nil {
					return err
				}
				if in.UserAgent == "" {
					in.UserAgent = r.UserAgent()
				}
				return respond(w, http.StatusCreated)(s.Notify.Subscribe(r.Context(), actor(r), in))
			}},
		{Method: "DELETE", Path: "/api/v1/push/subscriptions/{id}", Summary: "Stop pushes to one of your browsers",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Notify.Unsubscribe(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/push/test", Summary: "Send a test notification to your browsers", Errors: []int{409},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return noContent(w, s.Notify.Test(r.Context(), actor(r)))
			}},
		{Method: "GET", Path: "/api/v1/me/notifications", Summary: "Your notification settings: e-mail digest, do-not-disturb hours, pause",
			Out: notify.SettingsView{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Notify.Settings(r.Context(), actor(r)))
			}},
		{Method: "PUT", Path: "/api/v1/me/notifications", Summary: "Change your notification settings",
			In: parley.NotifySettings{}, Out: notify.SettingsView{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in parley.NotifySettings
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Notify.SetSettings(r.Context(), actor(r), in))
			}},
	}
}
