// Package accounts holds the rules for staff accounts: users and roles,
// passwords, browser sessions and API tokens, groups and their rights, the
// directory, friends and per-user settings.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
)

// Options configure the service.
type Options struct {
	Argon2 Argon2Params
	// SessionTTL is how long a browser session lasts without use.
	SessionTTL time.Duration
	// LoginRate and LoginBurst limit failed sign-ins per account; ten
	// times as many are allowed per client address (see throttle).
	LoginRate  rate.Limit
	LoginBurst int
	Logger     *slog.Logger
	// Mailer sends invitations and password resets (nil: none is
	// configured; invitations then hand the link to the administrator and
	// resets by e-mail are unavailable).
	Mailer parley.Mailer
	// PublicURL is the address links in e-mail point to ("": invitations
	// use the inviting administrator's address; resets are unavailable).
	PublicURL string
	// Now is the clock (nil: parley.Now); tests move it.
	Now func() time.Time
}

// Service implements the account rules.
type Service struct {
	store    parley.Store
	opt      Options
	log      *slog.Logger
	throttle throttle
	// dummyHash is checked when an e-mail is unknown, so a login takes as
	// long whether or not the account exists.
	dummyHash string
	resets    resetThrottle
	oidc      oidcCache
	mailing   sync.WaitGroup // reset mails being sent
}

// New returns the service.
func New(store parley.Store, opt Options) *Service {
	if opt.Argon2.MemoryKiB == 0 {
		opt.Argon2 = DefaultArgon2
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 30 * 24 * time.Hour
	}
	if opt.LoginRate == 0 {
		opt.LoginRate, opt.LoginBurst = rate.Every(6*time.Second), 10
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = parley.Now
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	return &Service{store: store, opt: opt, log: opt.Logger, resets: newResetThrottle(),
		throttle: newThrottle(opt.LoginRate, opt.LoginBurst), dummyHash: hashPassword("parley", opt.Argon2)}
}

// Close waits for the e-mail being sent in the background and closes the
// connections to the sign-in provider.
func (s *Service) Close() {
	s.mailing.Wait()
	s.oidc.close()
}

// NewUser is the input for creating a user.
type NewUser struct {
	Email    string      `json:"email"`
	Name     string      `json:"name"`
	Password string      `json:"password"`
	Role     parley.Role `json:"role"`
}

const (
	minPassword = 8
	maxPassword = 256
	maxName     = 100
)

func (in *NewUser) normalize() error {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	if in.Name, err = normalizeName(in.Name); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = parley.RoleMember
	}
	if !in.Role.Valid() {
		return parley.Invalid("role", "role must be admin, supervisor, agent or member")
	}
	return validPassword(in.Password)
}

func normalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", parley.Invalid("email", "a valid e-mail address is required")
	}
	return s, nil
}

func normalizeName(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxName {
		return "", parley.Invalid("name", "a name of 1 to %d characters is required", maxName)
	}
	return s, nil
}

func validPassword(p string) error {
	if utf8.RuneCountInString(p) < minPassword || len(p) > maxPassword || !utf8.ValidString(p) {
		return parley.Invalid("password", "the password must have %d to %d characters", minPassword, maxPassword)
	}
	return nil
}

// CreateUser creates a user. actor nil means the operator (the command
// line); otherwise the actor needs the users.manage right.
func (s *Service) CreateUser(ctx context.Context, actor *parley.User, in NewUser) (*parley.User, error) {
	if actor != nil {
		if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
			return nil, err
		}
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	if actor != nil && in.Role == parley.RoleAdmin && !actor.IsAdmin() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only an administrator may create administrators")
	}
	u := &parley.User{Email: in.Email, Name: in.Name, Role: in.Role, Active: true}
	hash := hashPassword(in.Password, s.opt.Argon2)
	if err := s.write(ctx, func(tx parley.Tx) error {
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
		return nil
	}); err != nil {
		return nil, err
	}
	s.log.Info("user created", "user_id", u.ID, "role", u.Role)
	return u, nil
}

// CreateBot creates a bot account (the users.manage right) and an API
// token for it, shown once. A bot has the agent role, no password (it
// cannot sign in) and an address no mail reaches; it acts through the API
// like a person, where administrators make it a project's specialist.
func (s *Service) CreateBot(ctx context.Context, actor *parley.User, name string) (*parley.User, string, error) {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return nil, "", err
	}
	name, err := normalizeName(name)
	if err != nil {
		return nil, "", err
	}
	u := &parley.User{Email: "bot-" + newSecret()[:12] + "@bots.invalid", Name: name, Role: parley.RoleAgent, Active: true, Bot: true}
	token := newSecret()
	err = s.write(ctx, func(tx parley.Tx) error {
		if err := tx.CreateUser(ctx, u, ""); err != nil {
			return err
		}
		sess := &parley.Session{UserID: u.ID, Kind: parley.SessionToken, Name: "bot", TokenHash: tokenHash(token)}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	s.log.Info("bot created", "user_id", u.ID, "by", actor.ID)
	return u, token, nil
}

// NeedsSetup reports whether no user exists yet: the first-run screen then
// lets the first administrator in.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.store.CountUsers(ctx)
	return n == 0, err
}

// Setup creates the first administrator. It is refused once any user
// exists, so it cannot be used to take over a running server.
func (s *Service) Setup(ctx context.Context, in NewUser) (*parley.User, error) {
	in.Role = parley.RoleAdmin
	if err := in.normalize(); err != nil {
		return nil, err
	}
	u := &parley.User{Email: in.Email, Name: in.Name, Role: parley.RoleAdmin, Active: true}
	hash := hashPassword(in.Password, s.opt.Argon2)
	err := s.write(ctx, func(tx parley.Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return parley.Errorf(parley.ECONFLICT, "the server is already set up; sign in instead")
		}
		return tx.CreateUser(ctx, u, hash)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("first administrator created", "user_id", u.ID)
	return u, nil
}

// UserPatch changes some fields of a user; nil fields stay.
type UserPatch struct {
	Email       *string      `json:"email"`
	Name        *string      `json:"name"`
	Role        *parley.Role `json:"role"`
	Active      *bool        `json:"active"`
	Password    *string      `json:"password"`
	PhotoFileID *int64       `json:"photo_file_id"`
}

// UpdateUser changes a user. Users may change their own name and photo
// (their password through ChangePassword); e-mail, role, active and another
// user's password need users.manage, and only an administrator may grant or
// change the admin role. Deactivating a user ends every session they have;
// a new role or a password set by someone else ends their browser sessions.
func (s *Service) UpdateUser(ctx context.Context, actor *parley.User, id int64, p UserPatch) (*parley.User, error) {
	self := actor.ID == id
	manage := s.HasRight(ctx, actor, parley.RightUsersManage)
	if !self && !manage {
		return nil, parley.Errorf(parley.EFORBIDDEN, "you may not change other users")
	}
	if (p.Email != nil || p.Role != nil || p.Active != nil) && !manage {
		return nil, parley.Errorf(parley.EFORBIDDEN, "changing e-mail, role or status needs the users.manage right")
	}
	var hash string
	if p.Password != nil {
		if self {
			return nil, parley.Invalid("password", "change your own password with POST /api/v1/me/password, which asks for the current one")
		}
		if err := validPassword(*p.Password); err != nil {
			return nil, err
		}
		hash = hashPassword(*p.Password, s.opt.Argon2)
	}
	var u *parley.User
	err := s.write(ctx, func(tx parley.Tx) error {
		var err error
		if u, err = tx.UserByID(ctx, id); err != nil {
			return err
		}
		if (u.IsAdmin() || (p.Role != nil && *p.Role == parley.RoleAdmin)) && !actor.IsAdmin() && !self {
			return parley.Errorf(parley.EFORBIDDEN, "only an administrator may change an administrator")
		}
		if p.Email != nil {
			if u.Email, err = normalizeEmail(*p.Email); err != nil {
				return err
			}
		}
		if p.Name != nil {
			if u.Name, err = normalizeName(*p.Name); err != nil {
				return err
			}
		}
		oldRole := u.Role
		if p.Role != nil {
			if !p.Role.Valid() {
				return parley.Invalid("role", "role must be admin, supervisor, agent or member")
			}
			if self && u.IsAdmin() && *p.Role != parley.RoleAdmin {
				return parley.Invalid("role", "you cannot remove your own administrator role")
			}
			u.Role = *p.Role
		}
		if p.Active != nil {
			if self && !*p.Active {
				return parley.Invalid("active", "you cannot deactivate yourself")
			}
			u.Active = *p.Active
		}
		if p.PhotoFileID != nil {
			if *p.PhotoFileID != 0 {
				f, err := tx.FileByID(ctx, *p.PhotoFileID)
				if err != nil || f.OwnerID != u.ID || f.Width == 0 {
					return parley.Invalid("photo_file_id", "the photo must be an image uploaded by the user")
				}
			}
			u.PhotoFileID = *p.PhotoFileID
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if hash != "" {
			if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
				return err
			}
		}
		if !u.Active {
			if err := tx.DeleteSessions(ctx, u.ID); err != nil {
				return err
			}
		} else if hash != "" || u.Role != oldRole {
			// A new password or role is a new start: the user signs in
			// again and gets a fresh session token.
			ended, err := tx.DeleteOtherSessions(ctx, u.ID, 0, parley.SessionBrowser)
			if err != nil {
				return err
			}
			for _, id := range ended {
				tx.Emit(parley.NewEvent(parley.EventSessionEnded, 0, u.ID, map[string]int64{"session_id": id}))
			}
		}
		tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// User returns one user of the directory.
func (s *Service) User(ctx context.Context, id int64) (*parley.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return u, s.withGroups(ctx, []*parley.User{u})
}

// Directory searches the users by name and e-mail. Everyone signed in may
// search it: team chat needs to find anyone in the organisation.
func (s *Service) Directory(ctx context.Context, f parley.UserFilter) ([]*parley.User, string, error) {
	if len(f.Query) > 200 || !utf8.ValidString(f.Query) {
		return nil, "", parley.Invalid("q", "the search text is too long or not valid UTF-8")
	}
	if len(f.IDs) > 500 {
		return nil, "", parley.Invalid("ids", "at most 500 ids")
	}
	users, next, err := s.store.Users(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return users, next, s.withGroups(ctx, users)
}

func (s *Service) withGroups(ctx context.Context, users []*parley.User) error {
	groups, err := s.store.Groups(ctx)
	if err != nil {
		return err
	}
	byUser := make(map[int64][]parley.GroupRef)
	for _, g := range groups {
		for _, id := range g.MemberIDs {
			byUser[id] = append(byUser[id], parley.GroupRef{ID: g.ID, Name: g.Name})
		}
	}
	for _, u := range users {
		u.Groups = byUser[u.ID]
	}
	return nil
}

// HasRight reports whether the user holds the right (parley.HasRight); a
// failure to read their groups counts as not holding it.
func (s *Service) HasRight(ctx context.Context, u *parley.User, right string) bool {
	ok, err := parley.HasRight(ctx, s.store, u, right)
	if err != nil {
		s.log.Error("reading groups", "err", err)
	}
	return ok
}

func (s *Service) require(ctx context.Context, u *parley.User, right string) error {
	if !s.HasRight(ctx, u, right) {
		return parley.Errorf(parley.EFORBIDDEN, "this needs the %s right", right)
	}
	return nil
}

// Session tokens: 32 random bytes; only their SHA-256 is stored.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticate resolves a bearer token or session cookie to its user.
// Expired sessions and deactivated users are refused.
func (s *Service) Authenticate(ctx context.Context, token string) (*parley.User, *parley.Session, error) {
	denied := parley.Errorf(parley.EUNAUTHORIZED, "sign in first")
	if token == "" || len(token) > 100 {
		return nil, nil, denied
	}
	sess, err := s.store.SessionByTokenHash(ctx, tokenHash(token))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil, denied
	}
	if err != nil {
		return nil, nil, err
	}
	now := parley.Now()
	if !sess.ExpiresAt.IsZero() && now.After(sess.ExpiresAt) {
		return nil, nil, denied
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, denied
	}
	// Sliding expiry, written at most once an hour per session.
	if now.Sub(sess.LastUsed) > time.Hour {
		s.write(ctx, func(tx parley.Tx) error { return tx.TouchSession(ctx, sess.ID, now) })
		if sess.Kind == parley.SessionBrowser {
			sess.ExpiresAt = now.Add(s.opt.SessionTTL)
		}
	}
	return u, sess, nil
}

// Logout ends a session or revokes a token.
func (s *Service) Logout(ctx context.Context, sess *parley.Session) error {
	return s.write(ctx, func(tx parley.Tx) error {
		if err := tx.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventSessionEnded, 0, sess.UserID, map[string]int64{"session_id": sess.ID}))
		return nil
	})
}

// CreateToken creates a named API token for the actor; the token is shown
// once and never again.
func (s *Service) CreateToken(ctx context.Context, actor *parley.User, name string) (string, *parley.Session, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName || !utf8.ValidString(name) {
		return "", nil, parley.Invalid("name", "a token name of 1 to %d characters is required", maxName)
	}
	token := newSecret()
	sess := &parley.Session{UserID: actor.ID, Kind: parley.SessionToken, Name: name, TokenHash: tokenHash(token)}
	if err := s.write(ctx, func(tx parley.Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// Tokens lists the actor's sessions and API tokens.
func (s *Service) Tokens(ctx context.Context, actor *parley.User) ([]*parley.Session, error) {
	return s.store.Sessions(ctx, actor.ID)
}

// RevokeToken deletes one of the actor's sessions or tokens.
func (s *Service) RevokeToken(ctx context.Context, actor *parley.User, id int64) error {
	sessions, err := s.store.Sessions(ctx, actor.ID)
	if err != nil {
		return err
	}
	for _, sess := range sessions {
		if sess.ID == id {
			return s.Logout(ctx, sess)
		}
	}
	return parley.Errorf(parley.ENOTFOUND, "token not found")
}

// Settings returns the actor's preferences.
func (s *Service) Settings(ctx context.Context, actor *parley.User) (parley.Settings, error) {
	return s.store.UserSettings(ctx, actor.ID)
}

// SetSettings stores the actor's preferences and tells their other devices.
func (s *Service) SetSettings(ctx context.Context, actor *parley.User, set parley.Settings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx parley.Tx) error {
		if err := tx.SetUserSettings(ctx, actor.ID, set); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventSettings, 0, actor.ID, set))
		return nil
	})
}

// write runs a transaction and publishes its events after commit.
// write runs fn in a transaction; the store publishes its events.
func (s *Service) write(ctx context.Context, fn func(tx parley.Tx) error) error {
	_, err := s.store.Write(ctx, fn)
	return err
}
