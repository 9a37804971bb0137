package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// Request and response bodies of the support inbox.
type (
	TagList struct {
		Tags []*parley.Tag `json:"tags"`
	}
	QuickReplyList struct {
		QuickReplies []*parley.QuickReply `json:"quick_replies"`
	}
	UnreadDialogs struct {
		Dialogs int64 `json:"dialogs"`
	}
	FileList struct {
		Files []parley.File `json:"files"`
	}
	DeletedOutput struct {
		Deleted int `json:"deleted"`
	}
)

// inboxRoutes are the support inbox's endpoints beyond live chat's dialog
// routes (docs/inbox.md).
func (s *Server) inboxRoutes() []route {
	return []route{
		{Method: "POST", Path: "/api/v1/dialogs/{id}/reassign", Errors: []int{409}, Summary: "Hand a dialog to another of its project's specialists (a manager, or the manager in charge)",
			In: livechat.ReassignInput{}, Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.ReassignInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.Reassign(r.Context(), actor(r), id, in))
			})},

		{Method: "GET", Path: "/api/v1/dialogs/unread", Summary: "How many dialogs are unread for you (the inbox header)", Out: UnreadDialogs{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				n, err := s.LiveChat.UnreadDialogs(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, UnreadDialogs{n})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/read", Summary: "Mark a dialog read for you, up to its last message",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.MarkDialog(r.Context(), actor(r), id, false))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/unread", Summary: "Mark a dialog unread, for you only",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.MarkDialog(r.Context(), actor(r), id, true))
			})},
		{Method: "GET", Path: "/api/v1/dialogs/{id}/files", Summary: "A dialog's attachments, newest first: its images (kind=image) or other files (kind=file)",
			Out: FileList{}, Query: "kind:string before:int limit:int",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				q := livechat.FilesQuery{Kind: r.URL.Query().Get("kind")}
				var err error
				if q.Before, err = queryInt(r, "before"); err != nil {
					return err
				}
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				q.Limit = int(limit)
				fs, err := s.LiveChat.DialogFiles(r.Context(), actor(r), id, q)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, FileList{fs})
				return nil
			})},
		{Method: "POST", Path: "/api/v1/dialogs/{id}/unpin", Errors: []int{409}, Summary: "Unlink a dialog from its customer (a manager, or the manager in charge)",
			Out: livechat.Dialog{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Unpin(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/dialogs/delete", Errors: []int{404}, Summary: "Delete dialogs for good, with their history and files (the dialogs.delete right)",
			In: IDsInput{}, Out: DeletedOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in IDsInput
				if err := decode(r, &in); err != nil {
					return err
				}
				n, err := s.LiveChat.DeleteDialogs(r.Context(), actor(r), in.IDs)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, DeletedOutput{n})
				return nil
			}},

		// Tags.
		{Method: "GET", Path: "/api/v1/tags", Errors: []int{404}, Summary: "Customer tags with their dialog counts under the inbox's filters, most used first",
			Out: TagList{}, Query: "project:int assignee:ints:100 bots:bool channel:strings:100 status:string last_from:string pinned:bool",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q, err := dialogQuery(r)
				if err != nil {
					return err
				}
				tags, err := s.LiveChat.Tags(r.Context(), actor(r), q)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, TagList{tags})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/tags", Errors: []int{409}, Summary: "Create a tag (chat settings right)", In: livechat.TagInput{}, Out: parley.Tag{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.TagInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.CreateTag(r.Context(), actor(r), in))
			}},
		{Method: "PATCH", Path: "/api/v1/tags/{id}", Errors: []int{409}, Summary: "Rename or recolour a tag (chat settings right)", In: livechat.TagInput{}, Out: parley.Tag{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.TagInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UpdateTag(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/tags/{id}", Summary: "Delete a tag and take it off every customer (chat settings right)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.DeleteTag(r.Context(), actor(r), id))
			})},
		{Method: "PUT", Path: "/api/v1/contacts/{id}/tags/{tag_id}", Summary: "Put a tag on a customer, or pin or unpin it there",
			In: livechat.ContactTagInput{}, Out: parley.Contact{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				tag, err := pathID(r, "tag_id")
				if err != nil {
					return err
				}
				var in livechat.ContactTagInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.TagContact(r.Context(), actor(r), id, tag, in))
			})},
		{Method: "DELETE", Path: "/api/v1/contacts/{id}/tags/{tag_id}", Summary: "Take a tag off a customer", Out: parley.Contact{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				tag, err := pathID(r, "tag_id")
				if err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UntagContact(r.Context(), actor(r), id, tag))
			})},

		{Method: "GET", Path: "/api/v1/contacts/{id}", Summary: "A customer's card: tags, source, their dialogs and cases", Out: livechat.CustomerCard{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Customer(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/contacts/{id}", Summary: "Change a customer's name, e-mail, phone or custom attributes", In: livechat.ContactPatch{}, Out: parley.Contact{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.ContactPatch
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UpdateCustomer(r.Context(), actor(r), id, in))
			})},
		{Method: "POST", Path: "/api/v1/contacts/{id}/block", Summary: "Block a customer: nothing is sent to or received from them", Out: parley.Contact{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Block(r.Context(), actor(r), id, true))
			})},
		{Method: "POST", Path: "/api/v1/contacts/{id}/unblock", Summary: "Unblock a customer", Out: parley.Contact{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.LiveChat.Block(r.Context(), actor(r), id, false))
			})},

		// Quick replies.
		{Method: "GET", Path: "/api/v1/quick-replies", Summary: "Your quick replies, then the shortcuts of the projects you serve", Out: QuickReplyList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.LiveChat.QuickReplies(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, QuickReplyList{list})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/quick-replies", Summary: "Save a quick reply of your own", In: livechat.QuickReplyInput{}, Out: parley.QuickReply{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in livechat.QuickReplyInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.LiveChat.CreateQuickReply(r.Context(), actor(r), in))
			}},
		{Method: "PATCH", Path: "/api/v1/quick-replies/{id}", Summary: "Change one of your quick replies", In: livechat.QuickReplyInput{}, Out: parley.QuickReply{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in livechat.QuickReplyInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.LiveChat.UpdateQuickReply(r.Context(), actor(r), id, in))
			})},
		{Method: "DELETE", Path: "/api/v1/quick-replies/{id}", Summary: "Delete one of your quick replies",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.LiveChat.DeleteQuickReply(r.Context(), actor(r), id))
			})},
	}
}
