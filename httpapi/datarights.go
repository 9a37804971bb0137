package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
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
	}
}
