// Package livechat implements live chat with website visitors (seeds 002
// and 004): projects and their specialists, visitors and their widget
// sessions, dialogs that consultants connect to, whispers, transfers to
// level 2, cases and ratings, and the metrics made from them.
//
// Visitors never see staff data: everything a visitor receives is a
// projection made here (VisitorMessage, VisitorConversation), emitted as
// events addressed to the contact alone. Whispers are never projected.
package livechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/ratelimit"
	"golang.org/x/time/rate"
)

// Config tunes the service.
type Config struct {
	// TokenTTL is how long a visitor token stays valid (default a year);
	// each new widget session renews it.
	TokenTTL time.Duration
	// VisitorRate and VisitorBurst bound a visitor's messages (default 20
	// in 10 s).
	VisitorRate  float64
	VisitorBurst int
	// Now is the clock for token expiry, working hours and the times
	// live chat records (default time.Now); tests set it to script a day
	// or to expire a token without waiting.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service implements live chat.
type Service struct {
	store    parley.Store
	bus      parley.Bus
	blobs    parley.Blobs
	msgs     *messaging.Service
	presence *presence.Tracker
	cfg      Config
	log      *slog.Logger
	floods   *ratelimit.Limiter
	secret   []byte // signs visitor tokens
	channels Channels
	staff    staffCache
}

// New returns the service and installs it as messaging's support hook.
func New(ctx context.Context, store parley.Store, bus parley.Bus, blobs parley.Blobs, msgs *messaging.Service,
	pres *presence.Tracker, cfg Config) (*Service, error) {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 365 * 24 * time.Hour
	}
	if cfg.VisitorRate == 0 {
		cfg.VisitorRate, cfg.VisitorBurst = 2, 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{store: store, bus: bus, blobs: blobs, msgs: msgs, presence: pres, cfg: cfg, log: cfg.Logger,
		floods: ratelimit.New(rate.Limit(cfg.VisitorRate), cfg.VisitorBurst)}
	secret, err := s.tokenSecret(ctx)
	if err != nil {
		return nil, err
	}
	s.secret = secret
	msgs.SetSupport(s)
	return s, nil
}

// now is the service's clock at the precision Parley stores (UTC, ms).
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

const secretKey = "livechat.token_secret"

// tokenSecret loads the key visitor tokens are signed with, creating it on
// first start; every node of a cluster reads the same one.
func (s *Service) tokenSecret(ctx context.Context) ([]byte, error) {
	var hexKey string
	if err := s.store.Setting(ctx, secretKey, &hexKey); err != nil {
		return nil, err
	}
	if hexKey == "" {
		_, err := s.store.Write(ctx, func(tx parley.Tx) error {
			if err := tx.Setting(ctx, secretKey, &hexKey); err != nil || hexKey != "" {
				return err
			}
			hexKey = randomHex(32)
			return tx.PutSetting(ctx, secretKey, hexKey)
		})
		if err != nil {
			return nil, err
		}
	}
	return hex.DecodeString(hexKey)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// canManage is the rule for configuring live chat and reading its
// metrics: the chat.settings right (seed 004: General settings > Chat).
func canManage(ctx context.Context, r parley.Reader, actor *parley.User) error {
	return parley.RequireRight(ctx, r, actor, parley.RightChatSettings, "managing live chat needs the chat settings right")
}

// staffLevel returns the actor's level in a project, or 0 when they do not
// serve it.
func staffLevel(ctx context.Context, r parley.Reader, projectID, userID int64) (int, error) {
	roles, err := r.StaffRoles(ctx, userID)
	if err != nil {
		return 0, err
	}
	for _, role := range roles {
		if role.ProjectID == projectID {
			return role.Level, nil
		}
	}
	return 0, nil
}

// CanView is the rule for who sees a dialog (docs/inbox.md): those who
// manage live chat (the chat settings right) see every dialog; a project's
// specialists see its dialogs, except those reassigned away from them.
func (s *Service) CanView(ctx context.Context, c *parley.Conversation, actor *parley.User) (bool, error) {
	manager, err := parley.HasRight(ctx, s.store, actor, parley.RightChatSettings)
	if err != nil || manager {
		return manager, err
	}
	level, err := staffLevel(ctx, s.store, c.Support.ProjectID, actor.ID)
	if err != nil || level == 0 {
		return false, err
	}
	revoked, err := s.store.Revoked(ctx, c.ID, actor.ID)
	return !revoked, err
}

var _ messaging.SupportHook = (*Service)(nil)
