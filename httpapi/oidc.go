package httpapi

import (
	"net/http"
	"net/url"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
)

// OIDCCookie binds a sign-in with the provider to the browser that
// started it: state, nonce and PKCE verifier, for ten minutes, sent only to
// the callback.
const OIDCCookie = "parley_oidc"

const oidcPath = "/api/v1/auth/oidc/"

// oidcRoutes are sign-in with an OpenID Connect provider and its settings.
func (s *Server) oidcRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/auth/oidc", Public: true, Summary: "Whether the sign-in page offers a sign-in provider, and its button label",
			Out: accounts.OIDCPublic{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Accounts.OIDCPublic(r.Context()))
			}},
		{Method: "GET", Path: "/api/v1/auth/oidc/start", Public: true, Redirect: true,
			Summary: "Start signing in with the provider: redirects the browser to it (or back to the sign-in page with sign_in_error)",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				start, err := s.Accounts.BeginOIDC(r.Context(), s.origin(r)+oidcPath+"callback")
				if err != nil {
					return s.signInError(w, r, err)
				}
				http.SetCookie(w, &http.Cookie{Name: OIDCCookie, Value: start.Cookie, Path: oidcPath, MaxAge: 600,
					HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
				w.Header().Set("Cache-Control", "no-store")
				http.Redirect(w, r, start.URL, http.StatusFound)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/auth/oidc/callback", Public: true, Redirect: true,
			Query:   "code:string state:string error:string error_description:string",
			Summary: "Where the provider sends the browser back: signs in and redirects to the app (or to the sign-in page with sign_in_error)",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q := r.URL.Query()
				cb := accounts.OIDCCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
					ErrorDescription: q.Get("error_description"), RedirectURL: s.origin(r) + oidcPath + "callback",
					Addr: s.clientAddr(r), Client: r.UserAgent()}
				if c, err := r.Cookie(OIDCCookie); err == nil {
					cb.Cookie = c.Value
				}
				// The flow is over, whatever its outcome.
				http.SetCookie(w, &http.Cookie{Name: OIDCCookie, Value: "", Path: oidcPath, MaxAge: -1, HttpOnly: true,
					Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
				out, err := s.Accounts.FinishOIDC(r.Context(), cb)
				if err != nil {
					return s.signInError(w, r, err)
				}
				s.setSessionCookies(w, out.Token, out.Session)
				s.setDeviceCookie(w, out.Device)
				w.Header().Set("Cache-Control", "no-store")
				http.Redirect(w, r, "/", http.StatusFound)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/oidc", Summary: "The sign-in provider settings, without the client secret (administrators)",
			Out: accounts.OIDCSettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Accounts.OIDC(r.Context(), actor(r)))
			}},
		{Method: "PUT", Path: "/api/v1/oidc", Summary: "Change the sign-in provider settings; an empty client_secret keeps the stored one (administrators; audited, never the secret)",
			In: accounts.OIDCSettings{}, Out: accounts.OIDCSettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.OIDCSettings
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Accounts.SetOIDC(r.Context(), actor(r), in))
			}},
	}
}

// signInError sends the browser back to the sign-in page, which shows why
// (a browser navigation has no use for a JSON error). Internal errors are
// logged and shown as such.
func (s *Server) signInError(w http.ResponseWriter, r *http.Request, err error) error {
	msg := parley.ErrorMessage(err)
	if parley.ErrorCode(err) == parley.EINTERNAL {
		if r.Context().Err() == nil {
			s.Logger.Error("signing in with the provider", "err", err)
		}
		msg = "something went wrong on the server; try again"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/?sign_in_error="+url.QueryEscape(msg), http.StatusFound)
	return nil
}
