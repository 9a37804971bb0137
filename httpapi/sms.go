package httpapi

import (
	"io"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/staffsms"
)

// smsRoutes are staff SMS's endpoints (docs/api.md, "Staff SMS"): users'
// phone numbers, "Send SMS" to a user with its history, the settings that
// pick the sending channel, and the provider's status callback.
func (s *Server) smsRoutes() []route {
	if s.SMS == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/sms/settings", Summary: "Staff SMS settings: the sending SMS channel, who may send, the hourly limit (chat settings right)",
			Out: staffsms.Settings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.SMS.Settings(r.Context(), actor(r)))
			}},
		{Method: "PUT", Path: "/api/v1/sms/settings", Summary: "Change the staff SMS settings (chat settings right)",
			In: staffsms.Settings{}, Out: staffsms.Settings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in staffsms.Settings
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.SMS.SetSettings(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/users/{id}/sms", Summary: "A user's phone number, whether you may text them, and the SMS sent to them you may see",
			Out: staffsms.Info{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.SMS.Info(r.Context(), actor(r), id))
			})},
		{Method: "PUT", Path: "/api/v1/users/{id}/phone", Summary: "Set a user's phone number (E.164): your own, or anyone's with the users right",
			In: staffsms.PhoneInput{}, Out: staffsms.PhoneInput{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in staffsms.PhoneInput
				if err := decode(r, &in); err != nil {
					return err
				}
				phone, err := s.SMS.SetPhone(r.Context(), actor(r), id, in.Phone)
				return respond(w, http.StatusOK)(staffsms.PhoneInput{Phone: phone}, err)
			})},
		{Method: "POST", Path: "/api/v1/users/{id}/sms", Errors: []int{409, 429}, Summary: "Send an SMS to a user's phone through the staff SMS channel",
			In: staffsms.SendInput{}, Out: parley.StaffSMS{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in staffsms.SendInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.SMS.Send(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/sms/status/{id}", Errors: []int{401}, Public: true,
			Summary: "The SMS provider's status callback for staff SMS sent through channel {id} (signed with its auth token)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
				if err != nil {
					return parley.Invalid("body", "reading the body: %v", err)
				}
				if len(body) > maxWebhookBody {
					return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", maxWebhookBody)
				}
				u := s.calledURL(r)
				if err := s.SMS.Report(r.Context(), id, &channel.Request{Method: r.Method, URL: &u, Header: r.Header, Body: body}); err != nil {
					return err
				}
				w.Header().Set("Content-Type", "text/xml")
				_, err = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
				return err
			})},
	}
}
