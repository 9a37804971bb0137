package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
)

// Request and response bodies of the account links.
type (
	InviteList struct {
		Invites []*parley.AccountToken `json:"invites"`
		// Mailer says whether Parley can send e-mail; without it, new
		// invitations answer with the link to pass on.
		Mailer bool `json:"mailer"`
	}
	ResetAvailability struct {
		// Available: a reset link can be mailed (a mailer and a public
		// URL are configured).
		Available bool `json:"available"`
	}
	ResetRequested struct {
		// Message is the same whether or not the address has an account.
		Message string `json:"message"`
	}
)

// accountRoutes are invitations, password resets, the sign-in provider
// and the audit log export (issue 14, accounts).
func (s *Server) accountRoutes() []route {
	return slices.Concat(s.inviteRoutes(), s.oidcRoutes(), []route{
		{Method: "GET", Path: "/api/v1/audit/export", Summary: "Download the audit log as CSV or JSON lines, newest first, streamed (administrators; audited)",
			Query: "format:string action:string target_type:string since:time until:time",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q := r.URL.Query()
				f := parley.AuditFilter{Action: q.Get("action"), TargetType: q.Get("target_type")}
				var err error
				if f.Since, err = queryTime(r, "since"); err != nil {
					return err
				}
				if f.Until, err = queryTime(r, "until"); err != nil {
					return err
				}
				format := q.Get("format")
				if format == "" {
					format = accounts.ExportCSV
				}
				if err := s.Accounts.CheckAuditExport(r.Context(), actor(r), f, format); err != nil {
					return err
				}
				h := w.Header()
				name := "parley-audit-" + time.Now().UTC().Format("20060102-150405")
				if format == accounts.ExportCSV {
					h.Set("Content-Type", "text/csv; charset=utf-8")
					name += ".csv"
				} else {
					h.Set("Content-Type", "application/jsonl; charset=utf-8")
					name += ".jsonl"
				}
				h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
				h.Set("Cache-Control", "no-store")
				cw := &countingWriter{w: w}
				if err := s.Accounts.ExportAudit(r.Context(), actor(r), f, format, cw); err != nil {
					if cw.n == 0 {
						return err
					}
					// The status is sent: only cutting the download
					// short tells the client it is incomplete.
					panic(http.ErrAbortHandler)
				}
				if cw.n == 0 {
					w.WriteHeader(http.StatusOK)
				}
				return nil
			}},
	})
}

// countingWriter notes whether anything was written (and so the status).
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// origin is the address the client reached the server at.
func (s *Server) origin(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || (s.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) inviteRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/invites", Summary: "Pending invitations, expired ones too (users.manage right)", Out: InviteList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.Accounts.Invites(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, InviteList{Invites: list, Mailer: s.Accounts.MailerConfigured()})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/invites", Errors: []int{409}, Summary: "Invite an e-mail address with a role and groups: a single-use link valid 7 days is mailed, or returned when it cannot be (users.manage right; audited)",
			In: accounts.InviteInput{}, Out: accounts.InviteSent{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.InviteInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Accounts.Invite(r.Context(), actor(r), in, s.origin(r)))
			}},
		{Method: "POST", Path: "/api/v1/invites/{id}/resend", Summary: "Send an invitation again with a new link valid 7 more days; the old link stops working (users.manage right; audited)",
			Out: accounts.InviteSent{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Accounts.ResendInvite(r.Context(), actor(r), id, s.origin(r)))
			})},
		{Method: "DELETE", Path: "/api/v1/invites/{id}", Summary: "Revoke an invitation: its link stops working (users.manage right; audited)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				if err := s.Accounts.RevokeInvite(r.Context(), actor(r), id); err != nil {
					return err
				}
				w.WriteHeader(http.StatusNoContent)
				return nil
			})},
		{Method: "GET", Path: "/api/v1/auth/invites/{token}", Public: true, Summary: "What an invitation link is for (the token is the credential); 404 once used, revoked, replaced or expired",
			Out: accounts.InviteInfo{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Accounts.InviteInfo(r.Context(), r.PathValue("token")))
			}},
		{Method: "POST", Path: "/api/v1/auth/invites/accept", Public: true, Errors: []int{404, 409, 429},
			Summary: "Accept an invitation: choose a name and password; creates the account and signs in (the link works once)",
			In:      accounts.AcceptInput{}, Out: LoginOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.AcceptInput
				if err := decode(r, &in); err != nil {
					return err
				}
				out, err := s.Accounts.AcceptInvite(r.Context(), in, s.clientAddr(r), r.UserAgent())
				if err != nil {
					return err
				}
				return s.signedIn(w, r, out)
			}},
		{Method: "GET", Path: "/api/v1/auth/password-reset", Public: true, Summary: "Whether password reset by e-mail is available on this server",
			Out: ResetAvailability{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				writeJSON(w, http.StatusOK, ResetAvailability{Available: s.Accounts.ResetAvailable()})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/auth/password-reset", Public: true, Errors: []int{409, 429},
			Summary: "Ask for a password reset link by e-mail; the answer is the same whether or not the address has an account (limited per address and per client)",
			In:      accounts.ResetInput{}, Out: ResetRequested{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.ResetInput
				if err := decode(r, &in); err != nil {
					return err
				}
				if err := s.Accounts.RequestReset(r.Context(), in, s.clientAddr(r)); err != nil {
					return err
				}
				writeJSON(w, http.StatusAccepted, ResetRequested{Message: "If an account uses this address, a link to set a new password is on its way. It works once, for one hour."})
				return nil
			}},
		{Method: "GET", Path: "/api/v1/auth/password-reset/{token}", Public: true, Summary: "Which account a reset link is for; 404 once used, replaced or expired",
			Out: accounts.ResetInfo{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Accounts.ResetInfo(r.Context(), r.PathValue("token")))
			}},
		{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Public: true, Errors: []int{404, 429},
			Summary: "Set a new password with a reset link; ends every browser session of the account (sign in afterwards, with the second factor if the account has one)",
			In:      accounts.NewPasswordInput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.NewPasswordInput
				if err := decode(r, &in); err != nil {
					return err
				}
				if err := s.Accounts.ResetPassword(r.Context(), in, s.clientAddr(r)); err != nil {
					return err
				}
				w.WriteHeader(http.StatusNoContent)
				return nil
			}},
	}
}

// signedIn answers a new browser session as a sign-in does: cookies, and
// the tokens in the body.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, out *accounts.SignedIn) error {
	s.setSessionCookies(w, out.Token, out.Session)
	if out.Device != "" {
		s.setDeviceCookie(w, out.Device)
	}
	pending, err := s.Accounts.MustSetUpTwoFactor(r.Context(), out.User)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, LoginOutput{Token: out.Token, CSRFToken: out.Session.CSRF, User: out.User, DeviceToken: out.Device,
		TwoFactorSetupRequired: pending})
	return nil
}
