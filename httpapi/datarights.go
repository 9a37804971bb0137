package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/livechat"
)

// dataRightsRoutes are the audit log and the customers' data rights
// (issue 13).
func (s *Server) dataRightsRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/audit", Summary: "The audit log, newest first (administrators)", Out: accounts.AuditPage{},
			Query: "action:string target_type:string target_id:int before:int limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				f := parley.AuditFilter{Action: r.URL.Query().Get("action"), TargetType: r.URL.Query().Get("target_type")}
				var err error
				if f.TargetID, err = queryInt(r, "target_id"); err != nil {
					return err
				}
				if f.Before, err = queryInt(r, "before"); err != nil {
					return err
				}
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				f.Limit = int(limit)
				return respond(w, http.StatusOK)(s.Accounts.AuditLog(r.Context(), actor(r), f))
			}},

		{Method: "GET", Path: "/api/v1/contacts/{id}/export",
			Summary: "Everything stored about a customer, as a ZIP download (chat settings right; audited)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				x, err := s.LiveChat.ExportContact(r.Context(), actor(r), id)
				if err != nil {
					return err
				}
				h := w.Header()
				h.Set("Content-Type", "application/zip")
				h.Set("Content-Disposition", `attachment; filename="`+x.Filename+`"`)
				h.Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
				if err := x.WriteTo(r.Context(), w); err != nil {
					if r.Context().Err() == nil {
						s.Logger.Error("exporting a customer", "contact", id, "err", err)
					}
					// The status is sent: only cutting the download
					// short tells the client it is incomplete.
					panic(http.ErrAbortHandler)
				}
				return nil
			})},
		{Method: "POST", Path: "/api/v1/contacts/{id}/erase",
			Summary: "Erase a customer: their dialogs, files, cases and personal data (chat settings right; audited; idempotent)",
			Out:     livechat.Erased{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.EraseContact(r.Context(), actor(r), id))
			})},
	}
}
