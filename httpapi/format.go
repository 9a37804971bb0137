package httpapi

import (
	"io"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cards"
)

// formatRoutes are the endpoints of link previews and cards
// (docs/api.md, "Formatting, link previews and cards").
func (s *Server) formatRoutes() []route {
	rs := []route{
		{Method: "DELETE", Path: "/api/v1/messages/{id}/preview", Summary: "Remove the link preview from your own message",
			Errors: []int{http.StatusConflict}, Out: parley.Message{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.RemovePreview(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/link-images/{key}", Summary: "A link preview's image (JPEG thumbnail kept by Parley)",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				rc, err := s.Messaging.LinkImage(r.Context(), r.PathValue("key"))
				if err != nil {
					return err
				}
				defer rc.Close()
				h := w.Header()
				h.Set("Content-Type", "image/jpeg")
				h.Set("X-Content-Type-Options", "nosniff")
				h.Set("Cache-Control", "private, max-age=86400")
				if n, err := io.Copy(w, rc); err != nil && n == 0 {
					return err
				}
				return nil
			}},
	}
	if s.Cards == nil {
		return rs
	}
	return append(rs,
		route{Method: "GET", Path: "/api/v1/cards", Summary: "A card's summary as you may see it (visible false: a record you cannot open)",
			Query: "kind:string id:int", Out: cards.Summary{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := queryInt(r, "id")
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Cards.Summary(r.Context(), actor(r), r.URL.Query().Get("kind"), id))
			}},
		route{Method: "GET", Path: "/api/v1/cards/search", Summary: "Records you may see, to insert as cards: users, customers, cases, your conversations",
			Query: "q:string", Out: []cards.Summary{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Cards.Search(r.Context(), actor(r), r.URL.Query().Get("q")))
			}},
	)
}
