package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
)

// Bodies of the team-chat basics.
type (
	ReactionList struct {
		Reactions []parley.Reaction `json:"reactions"`
	}
)

// chatRoutes are the team-chat basics (docs/api.md, "Mentions, reactions,
// threads, mute"): reactions on a message, a thread's replies, muting a
// conversation. Mentions and thread replies are sent like any message
// (POST /api/v1/conversations/{id}/messages, thread_id and mentions).
func (s *Server) chatRoutes() []route {
	react := func(add bool) func(s *Server, w http.ResponseWriter, r *http.Request) error {
		return withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := s.Messaging.React(r.Context(), actor(r), id, r.PathValue("emoji"), add)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, ReactionList{list})
			return nil
		})
	}
	return []route{
		{Method: "PUT", Path: "/api/v1/messages/{id}/reactions/{emoji}", Errors: []int{409},
			Summary: "React to a message with an emoji (the emoji URL-encoded in the path); again changes nothing",
			Out:     ReactionList{}, Handle: react(true)},
		{Method: "DELETE", Path: "/api/v1/messages/{id}/reactions/{emoji}", Errors: []int{409},
			Summary: "Take your reaction back", Out: ReactionList{}, Handle: react(false)},
		{Method: "GET", Path: "/api/v1/messages/{id}/thread", Summary: "A thread: its first message and a page of replies, oldest first (newest page, or before/after a seq)",
			Out: messaging.ThreadPage{}, Query: "before:int after:int limit:int",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var p parley.MessagePage
				var err error
				if p.Before, err = queryInt(r, "before"); err != nil {
					return err
				}
				if p.After, err = queryInt(r, "after"); err != nil {
					return err
				}
				n, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				p.Limit = int(n)
				return respond(w, http.StatusOK)(s.Messaging.Thread(r.Context(), actor(r), id, p))
			})},
		{Method: "PUT", Path: "/api/v1/conversations/{id}/mute", Summary: "Mute a team chat for you: until a time, or (no until) until you unmute it",
			In: messaging.MuteInput{}, Out: messaging.MuteState{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in messaging.MuteInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Messaging.SetMute(r.Context(), actor(r), id, &in))
			})},
		{Method: "DELETE", Path: "/api/v1/conversations/{id}/mute", Summary: "Unmute a chat", Out: messaging.MuteState{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.SetMute(r.Context(), actor(r), id, nil))
			})},
	}
}
