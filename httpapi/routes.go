package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/messaging"
)

// route is one endpoint: how it is served and how the OpenAPI document
// describes it. Every endpoint of the API is in the table below.
type route struct {
	Method, Path, Summary string
	Public                bool // no authentication
	// Setup marks the routes an administrator who must set up two-factor
	// sign-in may still call (their profile, the set-up, signing out).
	Setup  bool
	Widget bool // the visitor widget's: CORS for allowed origins, visitor token unless Public
	Link   bool // a widget file the host page links to (<img>, <a>): no Origin needed, the token suffices
	Upload bool // the body is a file's raw bytes
	// Redirect: a browser navigation answered 302 (sign-in with a
	// provider), errors included.
	Redirect bool
	Errors   []int  // error statuses beyond those the flags imply (see route.errors), e.g. 409, 429
	In       any    // request body type, nil if none
	Out      any    // 2xx response body type, nil for 204
	Query    string // query parameters, "name:type ..." (type int, string, time, bool; ints, strings: comma-separated, "name:ints:N" with at most N)
	Handle   func(s *Server, w http.ResponseWriter, r *http.Request) error
}

// Request and response bodies.
type (
	LoginInput struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		// Code is the authenticator app's code or a recovery code, for
		// accounts with two-factor sign-in.
		Code string `json:"code,omitempty"`
		// DeviceToken is the device_token an earlier sign-in gave this
		// client (browsers keep it in a cookie instead).
		DeviceToken string `json:"device_token,omitempty"`
	}
	LoginOutput struct {
		Token     string       `json:"token"`
		CSRFToken string       `json:"csrf_token"`
		User      *parley.User `json:"user"`
		// DeviceToken is given on a first sign-in from a client; sending
		// it back later keeps the client's own budget of failed attempts.
		DeviceToken string `json:"device_token,omitempty"`
		// TwoFactorSetupRequired: the organisation requires this
		// administrator to set up two-factor sign-in before anything else.
		TwoFactorSetupRequired bool `json:"two_factor_setup_required,omitempty"`
	}
	PasswordInput struct {
		CurrentPassword string `json:"current_password"`
		Password        string `json:"password"`
	}
	CodeInput struct {
		Code string `json:"code"`
	}
	DisableTwoFactorInput struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	EndedOutput struct {
		Ended int `json:"ended"`
	}
	SetupStatus struct {
		NeedsSetup bool `json:"needs_setup"`
	}
	TokenInput struct {
		Name string `json:"name"`
	}
	TokenOutput struct {
		Token   string          `json:"token"`
		Session *parley.Session `json:"session"`
	}
	UserPage struct {
		Users      []*parley.User `json:"users"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}
	ConversationPage struct {
		Conversations []*messaging.ConversationView `json:"conversations"`
		NextCursor    string                        `json:"next_cursor,omitempty"`
	}
	DirectInput struct {
		UserID int64 `json:"user_id"`
	}
	GroupChatInput struct {
		Title              string  `json:"title"`
		UserIDs            []int64 `json:"user_ids" max:"1000"`
		FromConversationID int64   `json:"from_conversation_id"`
	}
	RenameInput struct {
		Title string `json:"title"`
	}
	MembersInput struct {
		UserIDs []int64 `json:"user_ids" max:"1000"`
	}
	MessagePage struct {
		Messages []*parley.Message `json:"messages"`
	}
	SendBody struct {
		ClientID string  `json:"client_id"`
		Text     string  `json:"text"`
		QuoteID  int64   `json:"quote_id"`
		FileIDs  []int64 `json:"file_ids" max:"10"`
		// Whisper: in a dialog with a visitor, a text only staff see.
		Whisper bool `json:"whisper"`
		// A reply in a thread (also to the main timeline with in_channel),
		// and the user ids the client resolved as mentions (chat.go).
		ThreadID  int64   `json:"thread_id"`
		InChannel bool    `json:"in_channel"`
		Mentions  []int64 `json:"mentions" max:"100"`
		// Cards: records the message refers to (GET /api/v1/cards).
		Cards []parley.CardRef `json:"cards,omitempty" max:"5"`
	}
	TextInput struct {
		Text string `json:"text"`
	}
	ReadInput struct {
		Seq int64 `json:"seq"`
	}
	ReminderInput struct {
		RemindAt time.Time `json:"remind_at"`
	}
	SnoozeInput struct {
		Hours int `json:"hours"`
	}
	ReminderList struct {
		Reminders []*parley.Reminder `json:"reminders"`
	}
	GroupList struct {
		Groups []*parley.Group `json:"groups"`
	}
	Limits struct {
		MaxMessageLength int   `json:"max_message_length"`
		MaxFileSize      int64 `json:"max_file_size"`
		MaxFilesPerMsg   int   `json:"max_files_per_message"`
	}
)

func (s *Server) coreRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document", Public: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				writeJSON(w, http.StatusOK, s.OpenAPI())
				return nil
			}},
		{Method: "GET", Path: "/api/v1/setup", Summary: "Whether the server still needs its first administrator", Public: true, Out: SetupStatus{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				needs, err := s.Accounts.NeedsSetup(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, SetupStatus{needs})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/setup", Errors: []int{401, 409, 429}, Summary: "Create the first administrator and sign in (only while no user exists)", Public: true,
			In: accounts.NewUser{}, Out: LoginOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.NewUser
				if err := decode(r, &in); err != nil {
					return err
				}
				if _, err := s.Accounts.Setup(r.Context(), in); err != nil {
					return err
				}
				return s.login(w, r, LoginInput{Email: in.Email, Password: in.Password})
			}},
		{Method: "POST", Path: "/api/v1/auth/login", Errors: []int{401, 429}, Summary: "Sign in with e-mail and password", Public: true, In: LoginInput{}, Out: LoginOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in LoginInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return s.login(w, r, in)
			}},
		{Method: "POST", Path: "/api/v1/auth/logout", Summary: "End this session (or revoke the bearer token used)", Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				if err := s.Accounts.Logout(r.Context(), session(r)); err != nil {
					return err
				}
				clearSessionCookies(w)
				w.WriteHeader(http.StatusNoContent)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/me", Summary: "The signed-in user", Out: parley.User{}, Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return s.writeUser(w, r, actor(r).ID)
			}},
		{Method: "PATCH", Path: "/api/v1/me", Summary: "Change your name, password or photo", In: accounts.UserPatch{}, Out: parley.User{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return s.patchUser(w, r, actor(r).ID)
			}},
		{Method: "GET", Path: "/api/v1/me/unread", Summary: "Your unread messages in total, and in how many conversations", Out: messaging.Unread{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				u, err := s.Messaging.UnreadTotal(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, u)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/me/settings", Summary: "Your preferences", Out: parley.Settings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				set, err := s.Accounts.Settings(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, set)
				return nil
			}},
		{Method: "PUT", Path: "/api/v1/me/settings", Summary: "Replace your preferences", In: parley.Settings{}, Out: parley.Settings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var set parley.Settings
				if err := decode(r, &set); err != nil {
					return err
				}
				if err := s.Accounts.SetSettings(r.Context(), actor(r), set); err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, set)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/me/tokens", Summary: "Your sessions and API tokens", Out: []*parley.Session{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.Accounts.Tokens(r.Context(), actor(r))
				if err != nil {
					return err
				}
				for _, t := range list {
					t.Current = t.ID == session(r).ID
				}
				writeJSON(w, http.StatusOK, nonNil(list))
				return nil
			}},
		{Method: "POST", Path: "/api/v1/me/tokens/sign-out-others", Summary: "End every other browser session of yours (API tokens stay)", Out: EndedOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				n, err := s.Accounts.SignOutOthers(r.Context(), actor(r), session(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, EndedOutput{n})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/me/password", Errors: []int{429}, Summary: "Change your password (asks for the current one; ends your other sessions, rotates this one's token)",
			In: PasswordInput{}, Out: accounts.Rotated{}, Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in PasswordInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return s.rotated(w, r)(s.Accounts.ChangePassword(r.Context(), actor(r), session(r), in.CurrentPassword, in.Password))
			}},
		{Method: "GET", Path: "/api/v1/me/two-factor", Summary: "Whether two-factor sign-in is on, and recovery codes left", Out: accounts.TwoFactorStatus{}, Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				st, err := s.Accounts.TwoFactor(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, st)
				return nil
			}},
		{Method: "POST", Path: "/api/v1/me/two-factor/setup", Errors: []int{409}, Summary: "Start setting up two-factor sign-in: a new secret and its QR code", Out: accounts.TwoFactorSetup{}, Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				setup, err := s.Accounts.BeginTwoFactor(r.Context(), actor(r), s.issuer())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, setup)
				return nil
			}},
		{Method: "POST", Path: "/api/v1/me/two-factor/enable", Errors: []int{409}, Summary: "Turn two-factor sign-in on with a code from the app (recovery codes shown once; rotates this session's token)",
			In: CodeInput{}, Out: accounts.Rotated{}, Setup: true,
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in CodeInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return s.rotated(w, r)(s.Accounts.EnableTwoFactor(r.Context(), actor(r), session(r), in.Code))
			}},
		{Method: "POST", Path: "/api/v1/me/two-factor/disable", Errors: []int{409, 429}, Summary: "Turn two-factor sign-in off (asks for the password and a code)",
			In: DisableTwoFactorInput{}, Out: accounts.Rotated{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in DisableTwoFactorInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return s.rotated(w, r)(s.Accounts.DisableTwoFactor(r.Context(), actor(r), session(r), in.Password, in.Code))
			}},
		{Method: "GET", Path: "/api/v1/security", Summary: "The organisation's sign-in rules", Out: accounts.SecuritySettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				sec, err := s.Accounts.Security(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, sec)
				return nil
			}},
		{Method: "PUT", Path: "/api/v1/security", Summary: "Change the organisation's sign-in rules (administrators)", In: accounts.SecuritySettings{}, Out: accounts.SecuritySettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.SecuritySettings
				if err := decode(r, &in); err != nil {
					return err
				}
				sec, err := s.Accounts.SetSecurity(r.Context(), actor(r), in)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, sec)
				return nil
			}},
		{Method: "POST", Path: "/api/v1/me/tokens", Summary: "Create an API token (shown once)", In: TokenInput{}, Out: TokenOutput{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in TokenInput
				if err := decode(r, &in); err != nil {
					return err
				}
				token, sess, err := s.Accounts.CreateToken(r.Context(), actor(r), in.Name)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusCreated, TokenOutput{token, sess})
				return nil
			}},
		{Method: "DELETE", Path: "/api/v1/me/tokens/{id}", Summary: "Revoke a session or API token",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Accounts.RevokeToken(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/config", Summary: "Limits clients should show before they bite", Out: Limits{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				c := s.Messaging.Config()
				writeJSON(w, http.StatusOK, Limits{c.MaxMessageLength, c.MaxFileSize, c.MaxFilesPerMsg})
				return nil
			}},

		{Method: "GET", Path: "/api/v1/users", Summary: "Search the directory by name and e-mail", Out: UserPage{},
			Query: "q:string group_id:int ids:ints:500 bots:bool cursor:string limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				f, err := userFilter(r)
				if err != nil {
					return err
				}
				users, next, err := s.Accounts.Directory(r.Context(), f)
				if err != nil {
					return err
				}
				s.Presence.Fill(users...)
				writeJSON(w, http.StatusOK, UserPage{nonNil(users), next})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/users", Errors: []int{409}, Summary: "Create a user (users.manage)", In: accounts.NewUser{}, Out: parley.User{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in accounts.NewUser
				if err := decode(r, &in); err != nil {
					return err
				}
				u, err := s.Accounts.CreateUser(r.Context(), actor(r), in)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusCreated, u)
				return nil
			}},
		{Method: "GET", Path: "/api/v1/users/{id}", Summary: "One user, with groups, presence and last client", Out: parley.User{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return s.writeUser(w, r, id)
			})},
		{Method: "PATCH", Path: "/api/v1/users/{id}", Errors: []int{409}, Summary: "Change a user: role, status, e-mail (users.manage)", In: accounts.UserPatch{}, Out: parley.User{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return s.patchUser(w, r, id)
			})},

		{Method: "GET", Path: "/api/v1/groups", Summary: "The organisation's groups (contact tree)", Out: GroupList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				gs, err := s.Accounts.Groups(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, GroupList{nonNil(gs)})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/groups", Summary: "Create a group (users.manage)", In: accounts.GroupInput{}, Out: parley.Group{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error { return s.saveGroup(w, r, 0) }},
		{Method: "PUT", Path: "/api/v1/groups/{id}", Summary: "Replace a group (users.manage)", In: accounts.GroupInput{}, Out: parley.Group{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return s.saveGroup(w, r, id)
			})},
		{Method: "DELETE", Path: "/api/v1/groups/{id}", Summary: "Delete a group (users.manage)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Accounts.DeleteGroup(r.Context(), actor(r), id))
			})},

		{Method: "GET", Path: "/api/v1/friends", Summary: "Your \"My friends\" list", Out: UserPage{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				users, err := s.Accounts.Friends(r.Context(), actor(r))
				if err != nil {
					return err
				}
				s.Presence.Fill(users...)
				writeJSON(w, http.StatusOK, UserPage{Users: nonNil(users)})
				return nil
			}},
		{Method: "PUT", Path: "/api/v1/friends/{id}", Summary: "Add a user to your friends",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Accounts.AddFriend(r.Context(), actor(r), id))
			})},
		{Method: "DELETE", Path: "/api/v1/friends/{id}", Summary: "Remove a user from your friends",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Accounts.RemoveFriend(r.Context(), actor(r), id))
			})},

		{Method: "GET", Path: "/api/v1/chat/settings", Summary: "Chat settings (the Assistance line)", Out: messaging.ChatSettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				cs, err := s.Messaging.ChatSettings(r.Context())
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, cs)
				return nil
			}},
		{Method: "PUT", Path: "/api/v1/chat/settings", Summary: "Change chat settings (chat administrators)", In: messaging.ChatSettings{}, Out: messaging.ChatSettings{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in messaging.ChatSettings
				if err := decode(r, &in); err != nil {
					return err
				}
				cs, err := s.Messaging.SetChatSettings(r.Context(), actor(r), in)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, cs)
				return nil
			}},
		{Method: "POST", Path: "/api/v1/assistance", Errors: []int{400, 409}, Summary: "Open your Assistance chat with the responsible administrator", Out: messaging.ConversationView{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				return respond(w, http.StatusOK)(s.Messaging.OpenAssistance(r.Context(), actor(r)))
			}},

		{Method: "GET", Path: "/api/v1/conversations", Summary: "Your conversations, newest activity first", Out: ConversationPage{},
			Query: "kind:string cursor:string limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				q := r.URL.Query()
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				list, next, err := s.Messaging.Conversations(r.Context(), actor(r),
					parley.ConvFilter{Kind: parley.ConvKind(q.Get("kind")), Cursor: q.Get("cursor"), Limit: int(limit)})
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, ConversationPage{nonNil(list), next})
				return nil
			}},
		{Method: "POST", Path: "/api/v1/conversations/direct", Errors: []int{409}, Summary: "Open (or request) the direct conversation with a user", In: DirectInput{}, Out: messaging.ConversationView{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in DirectInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Messaging.OpenDirect(r.Context(), actor(r), in.UserID))
			}},
		{Method: "POST", Path: "/api/v1/conversations/group", Errors: []int{404}, Summary: "Create a multi-chat (from_conversation_id: Add interlocutors)", In: GroupChatInput{}, Out: messaging.ConversationView{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				var in GroupChatInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusCreated)(s.Messaging.CreateGroup(r.Context(), actor(r), in.Title, in.UserIDs, in.FromConversationID))
			}},
		{Method: "GET", Path: "/api/v1/conversations/{id}", Summary: "One of your conversations", Out: messaging.ConversationView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.Conversation(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/conversations/{id}", Errors: []int{409}, Summary: "Rename a multi-chat", In: RenameInput{}, Out: messaging.ConversationView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in RenameInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Messaging.Rename(r.Context(), actor(r), id, in.Title))
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/allow", Errors: []int{409}, Summary: "Allow a direct request sent to you", Out: messaging.ConversationView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.Allow(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/cancel", Errors: []int{409}, Summary: "Refuse a direct request, or withdraw yours", Out: messaging.ConversationView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.Cancel(r.Context(), actor(r), id))
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/members", Errors: []int{409}, Summary: "Add people to a multi-chat", In: MembersInput{}, Out: messaging.ConversationView{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in MembersInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Messaging.AddMembers(r.Context(), actor(r), id, in.UserIDs))
			})},
		{Method: "DELETE", Path: "/api/v1/conversations/{id}/members/{user_id}", Errors: []int{409}, Summary: "Leave a multi-chat, or remove someone (owner, chat administrators)",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				uid, err := pathID(r, "user_id")
				if err != nil {
					return err
				}
				return noContent(w, s.Messaging.RemoveMember(r.Context(), actor(r), id, uid))
			})},
		{Method: "GET", Path: "/api/v1/conversations/{id}/messages", Summary: "History, oldest first: newest page, or before/after a seq, or a period",
			Out: MessagePage{}, Query: "before:int after:int since:time until:time period:string tz:string limit:int",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				p, err := messagePage(r, "before", "after")
				if err != nil {
					return err
				}
				msgs, err := s.Messaging.History(r.Context(), actor(r), id, p)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, MessagePage{nonNil(msgs)})
				return nil
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/messages", Errors: []int{409, 429}, Summary: "Send a message (idempotent by client_id)", In: SendBody{}, Out: parley.Message{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in SendBody
				if err := decode(r, &in); err != nil {
					return err
				}
				client, version := clientOf(r)
				m, err := s.Messaging.Send(r.Context(), actor(r), messaging.SendInput{ConversationID: id, ClientID: in.ClientID,
					Text: in.Text, QuoteID: in.QuoteID, FileIDs: in.FileIDs, Whisper: in.Whisper, Client: client, ClientVersion: version,
					Cards: in.Cards, ThreadID: in.ThreadID, InChannel: in.InChannel, Mentions: in.Mentions})
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusCreated, m)
				return nil
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/read", Summary: "Mark read up to seq (0: everything)", In: ReadInput{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in ReadInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return noContent(w, s.Messaging.MarkRead(r.Context(), actor(r), id, in.Seq))
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/unread", Summary: "Mark as unread, for you only",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Messaging.MarkUnread(r.Context(), actor(r), id))
			})},
		{Method: "PUT", Path: "/api/v1/conversations/{id}/draft", Summary: "Save your draft (empty text clears it)", In: TextInput{}, Out: messaging.Draft{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in TextInput
				if err := decode(r, &in); err != nil {
					return err
				}
				d, err := s.Messaging.SetDraft(r.Context(), actor(r), id, in.Text)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, d)
				return nil
			})},
		{Method: "POST", Path: "/api/v1/conversations/{id}/typing", Errors: []int{409}, Summary: "Tell the others you are typing (?whisper=true: a whisper, which the visitor does not hear of)",
			Query: "whisper:bool",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				whisper, err := queryBool(r, "whisper")
				if err != nil {
					return err
				}
				return noContent(w, s.Messaging.Typing(r.Context(), actor(r), id, whisper))
			})},

		{Method: "GET", Path: "/api/v1/messages/{id}", Summary: "One message of your conversations", Out: parley.Message{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.Message(r.Context(), actor(r), id))
			})},
		{Method: "PATCH", Path: "/api/v1/messages/{id}", Errors: []int{409}, Summary: "Edit your message", In: TextInput{}, Out: parley.Message{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in TextInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Messaging.Edit(r.Context(), actor(r), id, in.Text))
			})},
		{Method: "DELETE", Path: "/api/v1/messages/{id}", Errors: []int{409}, Summary: "Delete your message", Out: parley.Message{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusOK)(s.Messaging.Delete(r.Context(), actor(r), id))
			})},
		{Method: "PUT", Path: "/api/v1/messages/{id}/reminder", Summary: "Set or move your reminder on a message", In: ReminderInput{}, Out: parley.Reminder{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in ReminderInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Reminders.Set(r.Context(), actor(r), id, in.RemindAt))
			})},
		{Method: "POST", Path: "/api/v1/messages/{id}/reminder/snooze", Summary: "Snooze your reminder for some hours", In: SnoozeInput{}, Out: parley.Reminder{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				var in SnoozeInput
				if err := decode(r, &in); err != nil {
					return err
				}
				return respond(w, http.StatusOK)(s.Reminders.Snooze(r.Context(), actor(r), id, in.Hours))
			})},
		{Method: "DELETE", Path: "/api/v1/messages/{id}/reminder", Summary: "Clear your reminder (\"Do not notify\")",
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return noContent(w, s.Reminders.Clear(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/reminders", Summary: "Your reminders, with their messages", Out: ReminderList{},
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				list, err := s.Reminders.List(r.Context(), actor(r))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, ReminderList{list})
				return nil
			}},
		{Method: "GET", Path: "/api/v1/search", Errors: []int{404}, Summary: "Full-text search in your conversations (or one)", Out: MessagePage{},
			Query: "q:string conversation_id:int before:int limit:int",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				cid, err := queryInt(r, "conversation_id")
				if err != nil {
					return err
				}
				before, err := queryInt(r, "before")
				if err != nil {
					return err
				}
				limit, err := queryInt(r, "limit")
				if err != nil {
					return err
				}
				msgs, err := s.Messaging.Search(r.Context(), actor(r), parley.SearchQuery{Text: r.URL.Query().Get("q"),
					ConversationID: cid, Before: before, Limit: int(limit)})
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, MessagePage{msgs})
				return nil
			}},

		{Method: "POST", Path: "/api/v1/files", Summary: "Upload a file: the raw bytes as the body, its name in ?name=; " +
			"?conversation_id= checks a dialog's attachment limits before reading it",
			Out: parley.File{}, Query: "name:string conversation_id:int", Upload: true, Handle: (*Server).upload},
		{Method: "POST", Path: "/api/v1/files/{id}/copy", Summary: "Copy a file you can read into a new upload of yours, to send it again",
			Out: parley.File{},
			Handle: withID(func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error {
				return respond(w, http.StatusCreated)(s.Messaging.CopyFile(r.Context(), actor(r), id))
			})},
		{Method: "GET", Path: "/api/v1/files/{id}", Summary: "Download a file (its uploader, or members of its conversation)",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error { return s.download(w, r, false) }},
		{Method: "GET", Path: "/api/v1/files/{id}/thumbnail", Summary: "An image's preview (JPEG, at most 320 px)",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error { return s.download(w, r, true) }},

		{Method: "GET", Path: "/api/v1/ws", Summary: "The real-time WebSocket (see docs/realtime.md)", Query: "cursor:int client:string version:string",
			Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
				cursor, err := queryInt(r, "cursor")
				if err != nil {
					return err
				}
				if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
					// Refused here rather than by the WebSocket library, so
					// the answer has the API's error shape.
					w.Header().Set("Upgrade", "websocket")
					writeJSON(w, http.StatusUpgradeRequired, ErrorBody{Error: ErrorDetail{Code: parley.EINVALID,
						Message: "this endpoint needs a WebSocket upgrade (Upgrade: websocket)"}})
					return nil
				}
				client, version := clientOf(r)
				s.Gateway.Serve(w, r, actor(r), session(r).ID, cursor, client, version)
				return nil
			}},
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, in LoginInput) error {
	device := in.DeviceToken
	if c, err := r.Cookie(DeviceCookie); err == nil && device == "" {
		device = c.Value
	}
	out, err := s.Accounts.Login(r.Context(), accounts.Credentials{Email: in.Email, Password: in.Password, Code: in.Code,
		Device: device, Addr: s.clientAddr(r), Client: r.UserAgent()})
	if err != nil {
		return err
	}
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

// rotated answers a change of credentials: the session's new token, in
// cookies too when the session came from them.
func (s *Server) rotated(w http.ResponseWriter, r *http.Request) func(*accounts.Rotated, error) error {
	return func(out *accounts.Rotated, err error) error {
		if err != nil {
			return err
		}
		if out.Session != nil {
			if _, fromCookie := bearer(r); fromCookie {
				s.setSessionCookies(w, out.Token, out.Session)
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// issuer names the server in authenticator apps.
func (s *Server) issuer() string {
	if u, err := url.Parse(s.PublicURL); err == nil && u.Host != "" {
		return "Parley (" + u.Hostname() + ")"
	}
	return "Parley"
}

func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, id int64) error {
	u, err := s.Accounts.User(r.Context(), id)
	if err != nil {
		return err
	}
	s.Presence.Fill(u)
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id int64) error {
	var p accounts.UserPatch
	if err := decode(r, &p); err != nil {
		return err
	}
	if _, err := s.Accounts.UpdateUser(r.Context(), actor(r), id, p); err != nil {
		return err
	}
	return s.writeUser(w, r, id)
}

func (s *Server) saveGroup(w http.ResponseWriter, r *http.Request, id int64) error {
	var in accounts.GroupInput
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := s.Accounts.SaveGroup(r.Context(), actor(r), id, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, g)
	return nil
}

func userFilter(r *http.Request) (parley.UserFilter, error) {
	q := r.URL.Query()
	f := parley.UserFilter{Query: q.Get("q"), Cursor: q.Get("cursor")}
	var err error
	if f.GroupID, err = queryInt(r, "group_id"); err != nil {
		return f, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return f, err
	}
	f.Limit = int(limit)
	if f.IDs, err = queryInts(r, "ids"); err != nil {
		return f, err
	}
	if slices.Contains(f.IDs, 0) {
		return f, parley.Invalid("ids", "ids must be positive integers")
	}
	f.Bots, err = queryBool(r, "bots")
	return f, err
}

// messagePage reads the history parameters: the seq cursors (named before
// and after on staff history, before_seq and after_seq on the widget's),
// since, until, limit, and period, one of the seed's filters (yesterday,
// 7d, 30d, 3m, 1y) counted in the time zone tz.
func messagePage(r *http.Request, before, after string) (parley.MessagePage, error) {
	var p parley.MessagePage
	var err error
	if p.Before, err = queryInt(r, before); err != nil {
		return p, err
	}
	if p.After, err = queryInt(r, after); err != nil {
		return p, err
	}
	if p.Since, err = queryTime(r, "since"); err != nil {
		return p, err
	}
	if p.Until, err = queryTime(r, "until"); err != nil {
		return p, err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return p, err
	}
	p.Limit = int(limit)
	if period := r.URL.Query().Get("period"); period != "" {
		loc := time.UTC
		if tz := r.URL.Query().Get("tz"); tz != "" {
			if loc, err = time.LoadLocation(tz); err != nil {
				return p, parley.Invalid("tz", "unknown time zone %q", tz)
			}
		}
		since, err := PeriodStart(period, time.Now().In(loc))
		if err != nil {
			return p, err
		}
		p.Since = since
	}
	return p, nil
}

// PeriodStart returns when a history period filter begins, relative to now
// in the user's time zone: "yesterday" starts at the beginning of
// yesterday; the others count back from now.
func PeriodStart(period string, now time.Time) (time.Time, error) {
	switch period {
	case "yesterday":
		y, m, d := now.AddDate(0, 0, -1).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()).UTC(), nil
	case "7d":
		return now.AddDate(0, 0, -7).UTC(), nil
	case "30d":
		return now.AddDate(0, 0, -30).UTC(), nil
	case "3m":
		return now.AddDate(0, -3, 0).UTC(), nil
	case "1y":
		return now.AddDate(-1, 0, 0).UTC(), nil
	}
	return time.Time{}, parley.Invalid("period", "period must be yesterday, 7d, 30d, 3m or 1y")
}

// clientOf names the app a request comes from: the X-Parley-Client header
// ("web/1.4.0"), or the client and version query parameters.
func clientOf(r *http.Request) (client, version string) {
	if h := r.Header.Get("X-Parley-Client"); h != "" {
		client, version, _ = strings.Cut(h, "/")
	} else {
		client, version = r.URL.Query().Get("client"), r.URL.Query().Get("version")
	}
	clip := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, s)
		if len(s) > 40 {
			s = s[:40]
		}
		return s
	}
	return clip(client), clip(version)
}

func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// respond writes a service's result with status, or returns its error.
func respond(w http.ResponseWriter, status int) func(any, error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		writeJSON(w, status, v)
		return nil
	}
}

// withID adapts a handler of a route with an {id} path value, parsing it
// first.
func withID(h func(s *Server, w http.ResponseWriter, r *http.Request, id int64) error) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return h(s, w, r, id)
	}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	to, err := queryInt(r, "conversation_id")
	if err != nil {
		return err
	}
	return s.uploadWith(w, r, func(name, contentType string, size int64, body io.Reader) (any, error) {
		return s.Messaging.Upload(r.Context(), actor(r), to, name, contentType, size, body)
	})
}

// uploadWith checks an upload's name and size against the limit before
// reading it, then hands the body to store.
func (s *Server) uploadWith(w http.ResponseWriter, r *http.Request, store func(name, contentType string, size int64, body io.Reader) (any, error)) error {
	name := r.URL.Query().Get("name")
	if name == "" {
		return parley.Invalid("name", "the file name is required (?name=)")
	}
	max := s.Messaging.Config().MaxFileSize
	if r.ContentLength > max {
		return parley.Errorf(parley.ETOOLARGE, "the file has %d bytes; the limit is %d", r.ContentLength, max)
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, max)
	size := r.ContentLength
	if size < 0 {
		// A chunked body: its size is known once it is read. It goes
		// to a temporary file (never memory) and is refused as soon as
		// it passes the limit.
		spool, err := os.CreateTemp(s.UploadTempDir, "parley-upload-*")
		if err != nil {
			return err
		}
		defer func() { spool.Close(); os.Remove(spool.Name()) }()
		if size, err = io.Copy(spool, io.LimitReader(r.Body, max+1)); err != nil {
			return parley.Invalid("body", "reading the body: %v", err)
		}
		if size > max {
			return parley.Errorf(parley.ETOOLARGE, "the file has more than %d bytes, the limit", max)
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			return err
		}
		body = spool
	}
	f, err := store(name, r.Header.Get("Content-Type"), size, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, thumb bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, rc, err := s.Messaging.Download(r.Context(), actor(r), id, thumb)
	if err != nil {
		return err
	}
	return serveFile(w, f, rc, thumb)
}

// serveFile writes a stored file (fileHeaders says how).
func serveFile(w http.ResponseWriter, f *parley.File, rc io.ReadCloser, thumb bool) error {
	defer rc.Close()
	fileHeaders(w.Header(), f.Name, f.ContentType)
	h := w.Header()
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	if !thumb {
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	}
	// Once bytes went out, a failure can no longer become an error answer.
	if n, err := io.Copy(w, rc); err != nil && n == 0 {
		return err
	}
	return nil
}
