package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/tasks"
)

// Task bodies.
type (
	TaskList struct {
		Tasks []*parley.Case `json:"tasks"`
	}
	LinkList struct {
		Links []*parley.MessageLink `json:"links"`
	}
	NoteList struct {
		Notes []*parley.ContactNote `json:"notes"`
	}
)

// taskRoutes are tasks' endpoints (docs/api.md "Tasks"): a user's tasks,
// and moving a message to a task or a record's history.
func (s *Server) taskRoutes() []route {
	if s.Tasks == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/v1/tasks", Summary: "Your tasks: assigned to you or created by you, newest first", Out: TaskList{},
			Query: "role:string status:string before:int limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q := tasks.ListQuery{Role: r.URL.Query().Get("role"), Status: r.URL.Query().Get("status")}
				var err error
				if q.Before, err = queryInt(r, "before"); err != nil {
					return err
				}
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				q.Limit = int(limit)
				list, err := s.Tasks.List(r.Context(), actor(r), q)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, TaskList{list})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/tasks", Errors: []int{404}, Summary: "Create a task for yourself or a colleague, possibly in a case or from a chat",
			In: tasks.Input{}, Out: parley.Case{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in tasks.Input
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Tasks.Create(r.Context(), actor(r), in))
			}},
		{Method: "GET", Path: "/api/v1/tasks/{id}", Summary: "A task with its comments", Out: tasks.View{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Tasks.Task(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/tasks/{id}", Summary: "Change a task: title, description, assignee, due time, status",
			In: tasks.Input{}, Out: parley.Case{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in tasks.Input
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Tasks.Update(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/tasks/{id}/comments", Summary: "Comment on a task", In: livechat.CommentInput{}, Out: parley.CaseComment{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.CommentInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Tasks.Comment(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/messages/{id}/move", Errors: []int{409},
			Summary: "Move a message to a task (existing or new) or to a case's or a customer card's history; the message stays, marked",
			In:      tasks.MoveInput{}, Out: tasks.Moved{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in tasks.MoveInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Tasks.Move(r.Context(), actor(r), id, in))
			})},
		{Method: "GET", Path: "/api/v1/conversations/{id}/links", Summary: "Where a conversation's messages were moved to", Out: LinkList{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				list, err := s.Tasks.Links(r.Context(), actor(r), id)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, LinkList{list})
				return nil
			})},
		{Method: "GET", Path: "/api/v1/contacts/{id}/notes", Summary: "A customer card's history notes (messages moved there)", Out: NoteList{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				list, err := s.Tasks.Notes(r.Context(), actor(r), id)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, NoteList{list})
				return nil
			})},
	}
}
