package httpapi

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// routes is every endpoint: team chat's, then live chat's.
func (s *Server) routes() []route {
	return slices.Concat(s.coreRoutes(), s.liveChatRoutes(), s.inboxRoutes(), s.channelRoutes(), s.webhookRoutes(), s.routingRoutes(),
		s.dataRightsRoutes(),
		s.callRoutes())
}

// Live chat bodies.
type (
	ProjectList struct {
		Projects []*parley.Project `json:"projects"`
	}
	MyProjectList struct {
		Projects []livechat.MyProject `json:"projects"`
	}
	SpecialistList struct {
		Specialists []*parley.Specialist `json:"specialists"`
	}
	IDsInput struct {
		IDs []int64 `json:"ids" max:"1000"`
	}
	ErasedOutput struct {
		Erased int64 `json:"erased"`
	}
	TemplateList struct {
		Templates []*parley.CaseTemplate `json:"templates"`
	}
	DialogList struct {
		Dialogs []*livechat.Dialog `json:"dialogs"`
	}
	CaseList struct {
		Cases []*parley.Case `json:"cases"`
	}
)

func visitor(r *http.Request) *livechat.Visitor {
	v, _ := r.Context().Value(visitorKey).(*livechat.Visitor)
	return v
}

// serveWidget answers the widget's cross-origin requests: CORS headers for
// the calling origin (the service decides whether it is allowed) and, for
// non-public widget routes, the visitor token.
func (s *Server) serveWidget(w http.ResponseWriter, r *http.Request, rt route) error {
	if o := r.Header.Get("Origin"); o != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
		// The widget reads how long to wait after a 429.
		h.Set("Access-Control-Expose-Headers", "Retry-After")
	}
	if rt.Public {
		return rt.Handle(s, w, r)
	}
	token, _ := bearer(r)
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	if token == "" {
		return parley.Errorf(parley.EUNAUTHORIZED, "a visitor token is required")
	}
	authenticate := s.LiveChat.Authenticate
	if rt.Link {
		authenticate = s.LiveChat.AuthenticateLink
	}
	v, err := authenticate(r.Context(), token, r.Header.Get("Origin"))
	if err != nil {
		return err
	}
	return rt.Handle(s, w, r.WithContext(context.WithValue(r.Context(), visitorKey, v)))
}

// widgetPreflight answers CORS preflights of the widget API. It allows the
// method and headers; whether the origin may use a project is checked on
// the request itself, which carries the project or the token.
func (s *Server) widgetPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) liveChatRoutes() []route {
	return []route{
		// Projects (administration).
		{Method: "GET", Path: "/api/v1/projects", Summary: "Live chat projects: all to managers, else those you serve", Out: ProjectList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.LiveChat.Projects(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, ProjectList{nonNil(list)})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/projects", Summary: "Create a project (chat settings right)", In: livechat.ProjectInput{}, Out: parley.Project{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.ProjectInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.CreateProject(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/projects/{id}", Summary: "One project (its secret only to managers)", Out: parley.Project{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Project(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/projects/{id}", Summary: "Change a project's General and Messages settings", In: livechat.ProjectInput{}, Out: parley.Project{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.ProjectInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UpdateProject(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/projects/{id}", Summary: "Delete a project",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.DeleteProject(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/projects/{id}/secret", Summary: "Rotate the secret that signs verified visitor ids", Out: parley.Project{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.RotateSecret(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/projects/{id}/specialists", Summary: "A project's associated specialists", Out: SpecialistList{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				list, err := s.LiveChat.Specialists(r.Context(), actor(r), id)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, SpecialistList{list})
				return nil
			})},
		{Method: "POST", Path: "/api/v1/projects/{id}/specialists", Errors: []int{409}, Summary: "Associate a user or a group at level 1 or 2",
			In: livechat.SpecialistInput{}, Out: parley.Specialist{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.SpecialistInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.AddSpecialist(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/projects/{id}/specialists/erase", Summary: "Erase the selected associations", In: IDsInput{}, Out: ErasedOutput{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in IDsInput
				if err := decode(r, &in); err != nil {
					return err
				}
				n, err := s.LiveChat.EraseSpecialists(r.Context(), actor(r), id, in.IDs)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, ErasedOutput{n})
				return nil
			})},
		{Method: "GET", Path: "/api/v1/projects/{id}/metrics", Summary: "Per-specialist figures over a period (default 30 days)",
			Out: livechat.Metrics{}, Query: "from:time to:time",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				p, err := period(r)
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.Metrics(r.Context(), actor(r), id, p))
			})},
		{Method: "GET", Path: "/api/v1/projects/{id}/metrics/{user_id}/dialogs", Summary: "View detail: a specialist's dialogs",
			Out: DialogList{}, Query: "from:time to:time",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				uid, err := pathID(r, "user_id")
				if err != nil {
					return err
				}
				p, err := period(r)
				if err != nil {
					return err
				}
				list, err := s.LiveChat.SpecialistDialogs(r.Context(), actor(r), id, uid, p)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, DialogList{list})
				return nil
			})},
		{Method: "GET", Path: "/api/v1/me/projects", Summary: "The projects you serve and your level in each", Out: MyProjectList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.LiveChat.MyProjects(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, MyProjectList{list})
				return nil
			}},
		{Method: "GET", Path: "/api/v1/case-templates", Summary: "Case templates: all to managers, to specialists those of their projects", Out: TemplateList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.LiveChat.CaseTemplates(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, TemplateList{list})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/case-templates", Summary: "Create a case template", In: livechat.TemplateInput{}, Out: parley.CaseTemplate{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.TemplateInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.SaveCaseTemplate(r.Context(), actor(r), 0, in))
			}},
		{Method: "PATCH", Path: "/api/v1/case-templates/{id}", Summary: "Change a case template", In: livechat.TemplateInput{}, Out: parley.CaseTemplate{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.TemplateInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.SaveCaseTemplate(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/case-templates/{id}", Summary: "Delete a case template no project uses",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.DeleteCaseTemplate(r.Context(), actor(r), id))
			})},

		// Dialogs (consultants).
		{Method: "GET", Path: "/api/v1/dialogs", Errors: []int{404}, Summary: "The inbox: the dialogs you may see, filtered and sorted (docs/inbox.md)", Out: livechat.DialogPage{},
			Query: "project:int assignee:ints:100 bots:bool channel:strings:100 status:string last_from:string tag:ints:100 no_tags:bool pinned:bool " +
				"unread:bool sort:string cursor:string limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q, err := dialogQuery(r)
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.Dialogs(r.Context(), actor(r), q))
			}},
		{Method: "GET", Path: "/api/v1/dialogs/{id}", Summary: "One dialog", Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Dialog(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/connect", Errors: []int{409}, Summary: "Connect to a dialog", Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Connect(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/disconnect", Errors: []int{409}, Summary: "Disconnect from a dialog", Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Disconnect(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/transfer", Errors: []int{409}, Summary: "Transfer to a level-2 specialist, or the level-2 queue",
			In: livechat.TransferInput{}, Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.TransferInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.Transfer(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/close", Summary: "End a dialog (the visitor can then rate it)", Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Close(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/case", Summary: "Convert a dialog into a case", In: livechat.ConvertInput{}, Out: parley.Case{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.ConvertInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.ConvertToCase(r.Context(), actor(r), id, in))
			})},

		// Cases.
		{Method: "GET", Path: "/api/v1/cases", Errors: []int{404}, Summary: "Cases of the projects you serve", Out: CaseList{},
			Query: "project:int status:string before:int limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q, err := listQuery(r)
				if err != nil {
					return err
				}
				list, err := s.LiveChat.Cases(r.Context(), actor(r), q)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, CaseList{list})
				return nil
			}},
		{Method: "GET", Path: "/api/v1/cases/{id}", Summary: "A case with its comments", Out: livechat.CaseView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Case(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/cases/{id}/comments", Summary: "Comment on a case", In: livechat.CommentInput{}, Out: parley.CaseComment{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.CommentInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.Comment(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/cases/{id}/close", Summary: "Close a case", Out: parley.Case{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.CloseCase(r.Context(), actor(r), id))
			})},

		// The visitor widget (docs/livechat.md).
		{Method: "GET", Path: "/api/v1/widget/projects/{key}", Summary: "Widget: a project's public configuration", Public: true, Widget: true,
			Out: livechat.PublicProject{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.LiveChat.PublicConfig(r.Context(), r.PathValue("key"), r.Header.Get("Origin")))
			}},
		{Method: "POST", Path: "/api/v1/widget/sessions", Errors: []int{404}, Summary: "Widget: start or resume a visitor session", Public: true, Widget: true,
			In: livechat.SessionInput{}, Out: livechat.VisitorSession{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.SessionInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.StartSession(r.Context(), in, r.Header.Get("Origin")))
			}},
		{Method: "PATCH", Path: "/api/v1/widget/contact", Summary: "Widget: tell your name and e-mail", Widget: true,
			In: livechat.ContactInput{}, Out: livechat.VisitorContact{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.ContactInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UpdateContact(r.Context(), visitor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/widget/messages", Summary: "Widget: your conversation and a page of its messages, oldest first: the newest, or before/after a seq",
			Widget: true, Out: livechat.VisitorHistory{}, Query: "before_seq:int after_seq:int limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				p, err := messagePage(r, "before_seq", "after_seq")
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.History(r.Context(), visitor(r), p))
			}},
		{Method: "POST", Path: "/api/v1/widget/messages", Errors: []int{409, 429}, Summary: "Widget: send a message (idempotent by client_id)", Widget: true,
			In: livechat.VisitorSendInput{}, Out: livechat.VisitorMessage{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.VisitorSendInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.Send(r.Context(), visitor(r), in))
			}},
		{Method: "POST", Path: "/api/v1/widget/files", Errors: []int{429}, Summary: "Widget: upload a file (raw body, ?name=)", Widget: true, Upload: true,
			Out: livechat.VisitorFile{}, Query: "name:string",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return s.uploadWith(w, r, func(name, ct string, size int64, body io.Reader) (any, error) {
					f, err := s.LiveChat.Upload(r.Context(), visitor(r), name, ct, size, body)
					if err != nil {
						return nil, err
					}
					return livechat.VisitorFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
						Width: f.Width, Height: f.Height, HasThumb: f.HasThumb}, nil
				})
			}},
		{Method: "GET", Path: "/api/v1/widget/files/{id}", Summary: "Widget: a file of your conversation (?token=, ?thumb=1)", Widget: true, Link: true,
			Query: "token:string thumb:int",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				f, rc, err := s.LiveChat.Download(r.Context(), visitor(r), id, r.URL.Query().Get("thumb") == "1")
				if err != nil {
					return err
				}
				return serveFile(w, f, rc, r.URL.Query().Get("thumb") == "1")
			})},
		{Method: "POST", Path: "/api/v1/widget/read", Summary: "Widget: you have read up to seq", Widget: true, In: ReadInput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in ReadInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return noContent(w, s.LiveChat.MarkRead(r.Context(), visitor(r), in.Seq))
			}},
		{Method: "POST", Path: "/api/v1/widget/typing", Summary: "Widget: you are typing", Widget: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return noContent(w, s.LiveChat.Typing(r.Context(), visitor(r)))
			}},
		{Method: "POST", Path: "/api/v1/widget/rating", Errors: []int{409}, Summary: "Widget: rate your ended conversation 1 to 5", Widget: true,
			In: livechat.RatingInput{}, Out: parley.Rating{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.RatingInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.Rate(r.Context(), visitor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/widget/transcript", Summary: "Widget: your conversation as text", Widget: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("Content-Disposition", `attachment; filename="conversation.txt"`)
				return s.LiveChat.Transcript(r.Context(), visitor(r), w)
			}},
		{Method: "GET", Path: "/api/v1/widget/ws", Summary: "Widget: the visitor's WebSocket (?token=, ?cursor=)", Widget: true,
			Query: "token:string cursor:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				cursor, err := queryInt(r, "cursor")
				if err != nil {
					return err
				}
				if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
					return parley.Invalid("upgrade", "this endpoint needs a WebSocket upgrade")
				}
				v := visitor(r)
				s.Gateway.ServeVisitor(w, r, v.Contact, cursor, s.LiveChat.TokenLeft(v))
				return nil
			}},
	}
}

// period reads ?from= and ?to= (RFC 3339).
func period(r *http.Request) (livechat.Period, error) {
	from, err := queryTime(r, "from")
	if err != nil {
		return livechat.Period{}, err
	}
	to, err := queryTime(r, "to")
	return livechat.Period{From: from, To: to}, err
}

// dialogQuery reads the inbox list's query parameters.
func dialogQuery(r *http.Request) (livechat.DialogQuery, error) {
	v := r.URL.Query()
	q := livechat.DialogQuery{Channels: queryStrings(r, "channel"), Status: v.Get("status"), LastFrom: v.Get("last_from"),
		Sort: v.Get("sort"), Cursor: v.Get("cursor")}
	var err error
	if q.ProjectID, err = queryInt(r, "project"); err != nil {
		return q, err
	}
	if q.Assignees, err = queryInts(r, "assignee"); err != nil {
		return q, err
	}
	if q.Bots, err = queryBool(r, "bots"); err != nil {
		return q, err
	}
	if q.TagIDs, err = queryInts(r, "tag"); err != nil {
		return q, err
	}
	if q.NoTags, err = queryBool(r, "no_tags"); err != nil {
		return q, err
	}
	if q.Pinned, err = queryBool(r, "pinned"); err != nil {
		return q, err
	}
	if q.Unread, err = queryBool(r, "unread"); err != nil {
		return q, err
	}
	limit, err := queryInt(r, "limit")
	q.Limit = int(limit)
	return q, err
}

// listQuery reads ?project=&status=&before=&limit= for dialogs and cases.
func listQuery(r *http.Request) (livechat.ListQuery, error) {
	var q livechat.ListQuery
	var err error
	if q.ProjectID, err = queryInt(r, "project"); err != nil {
		return q, err
	}
	if q.Before, err = queryInt(r, "before"); err != nil {
		return q, err
	}
	limit, err := queryInt(r, "limit")
	q.Limit, q.Status = int(limit), r.URL.Query().Get("status")
	return q, err
}
