package parley

import (
	"context"
	"slices"
	"time"
)

// Role is a staff account's role. Roles are ordered: each includes the
// rights of the ones below it for chat purposes.
type Role string

const (
	RoleAdmin      Role = "admin"      // everything, including users, groups and chat settings
	RoleSupervisor Role = "supervisor" // chat administrator
	RoleAgent      Role = "agent"      // manager, consultant, specialist
	RoleMember     Role = "member"     // plain team member
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleSupervisor, RoleAgent, RoleMember:
		return true
	}
	return false
}

// User is a staff account. Contacts (customers, visitors) are never Users.
type User struct {
	ID     int64  `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Active bool   `json:"active"`
	// Bot accounts act through the API with a token and receive their
	// events by webhook; they cannot sign in.
	Bot bool `json:"bot,omitempty"`
	// TwoFactor is set when the user signs in with a time-based code as
	// well as a password.
	TwoFactor bool `json:"two_factor,omitempty"`
	// PhotoFileID is the uploaded file shown as the user's photo, or 0.
	PhotoFileID int64 `json:"photo_file_id,omitempty"`
	// LastClient and LastClientVersion name the client the user last wrote
	// from (seed 001 shows them under the user's photo).
	LastClient        string    `json:"last_client,omitempty"`
	LastClientVersion string    `json:"last_client_version,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`

	// Presence is filled in by the presence tracker when the user is
	// returned to a client; it is not stored.
	Presence Presence `json:"presence,omitempty"`
	// Groups is filled in where a client needs it (directory, user panel).
	Groups []GroupRef `json:"groups,omitempty"`
}

// IsAdmin reports whether the user may administer the organisation.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Presence is a user's availability, aggregated over all their devices.
type Presence string

const (
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
	PresenceOffline Presence = "offline"
)

// Settings are a user's own preferences, used by the web app.
type Settings struct {
	DesktopNotifications bool `json:"desktop_notifications"`
	TypingNotifications  bool `json:"typing_notifications"`
	// SendOnEnter sends on Enter when true, on Ctrl+Enter when false.
	SendOnEnter       bool `json:"send_on_enter"`
	Sound             bool `json:"sound"`
	AlwaysScrollToEnd bool `json:"always_scroll_to_end"`
	// Language is the web app's language: one of Languages, or "" for the
	// browser's (web/app/lang.ts).
	Language string `json:"language"`
}

// Languages are the languages the web app and the widget speak.
var Languages = []string{"en", "ru", "es"}

// Validate checks the preferences a user sends.
func (s Settings) Validate() error {
	if s.Language != "" && !slices.Contains(Languages, s.Language) {
		return Invalid("language", "language must be \"\" (the browser's language), en, ru or es")
	}
	return nil
}

// DefaultSettings are what a new user starts with.
func DefaultSettings() Settings {
	return Settings{DesktopNotifications: true, TypingNotifications: true, SendOnEnter: true, Sound: true, AlwaysScrollToEnd: true}
}

// Session is a signed-in browser session or a named API token. Only a hash
// of the secret is stored.
type Session struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Kind      string    `json:"kind"` // SessionBrowser or SessionToken
	Name      string    `json:"name,omitempty"`
	TokenHash string    `json:"-"`
	CSRF      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never
	// Client and Addr are the browser (User-Agent) and client address the
	// session signed in from, so a user can tell their sessions apart.
	Client string `json:"client,omitempty"`
	Addr   string `json:"addr,omitempty"`
	// Current is set on the session the list was asked through.
	Current bool `json:"current,omitempty"`
}

// TOTP is a user's two-factor state: the shared secret (pending until a
// first code confirms it), whether it is on, and the last time step a code
// was accepted for, so each code works once.
type TOTP struct {
	Secret  string
	Enabled bool
	Step    int64
}

const (
	SessionBrowser = "session" // from a password login
	SessionToken   = "token"   // a named API token for programs and bots
)

// Group is a named set of users carrying rights; groups form the
// organisation's contact tree through ParentID.
type Group struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	ParentID  int64     `json:"parent_id,omitempty"`
	Rights    []string  `json:"rights"`
	MemberIDs []int64   `json:"member_ids"`
	CreatedAt time.Time `json:"created_at"`
}

// GroupRef names a group a user belongs to.
type GroupRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Rights a group can carry. Admins hold every right.
const (
	RightDialogsDelete = "dialogs.delete"
	RightUsersManage   = "users.manage"
	RightChatSettings  = "chat.settings"
)

// RolesWithRight lists the roles that hold right whatever their groups:
// administrators hold every right, supervisors (chat administrators)
// chat.settings.
func RolesWithRight(right string) []Role {
	if right == RightChatSettings {
		return []Role{RoleAdmin, RoleSupervisor}
	}
	return []Role{RoleAdmin}
}

// KnownRights lists every right a group may carry.
var KnownRights = []string{RightDialogsDelete, RightUsersManage, RightChatSettings}

// UserFilter selects users from the directory.
type UserFilter struct {
	Query   string  // matches name or e-mail, case-insensitive
	GroupID int64   // only members of this group
	IDs     []int64 // only these users
	Active  *bool
	Bots    bool // only bot accounts
	// Cursor continues a listing ordered by name, then ID; it is the
	// NextCursor of the previous page.
	Cursor string
	Limit  int
}

// RequireRight refuses (EFORBIDDEN, saying why) unless u holds right.
func RequireRight(ctx context.Context, r Reader, u *User, right, why string) error {
	ok, err := HasRight(ctx, r, u, right)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(EFORBIDDEN, "%s", why)
	}
	return nil
}

// HasRight reports whether u holds right: the roles RolesWithRight names
// hold it, others hold what their groups carry. It is the one place this
// rule lives (Reader.UsersWithRight answers the same for everyone at once).
func HasRight(ctx context.Context, r Reader, u *User, right string) (bool, error) {
	if slices.Contains(RolesWithRight(right), u.Role) {
		return true, nil
	}
	groups, err := r.GroupsOfUser(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, g := range groups {
		if slices.Contains(g.Rights, right) {
			return true, nil
		}
	}
	return false, nil
}
