// Package webhooks delivers the event stream to other systems (issue 10):
// a project's dialog events, every project's, or a bot's own events, each
// webhook from its own cursor in the stream, in order, signed, retried
// until the receiver takes them, with a log of every attempt that an
// administrator reads and resends from. Bots are staff accounts that act
// through the API with a token and get their events this way.
package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/internal/leases"
	"github.com/parley-chat/parley/signature"
)

// Config tunes the service.
type Config struct {
	Node   string        // this process in leases (default random)
	Lease  time.Duration // default 15 s
	Poll   time.Duration // how often a webhook looks for events with nothing to wake it (default 1 s)
	GiveUp time.Duration // how long an event is retried before it is skipped (default 24 h)
	// Client makes the calls (default: a 10 s timeout per call).
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
}

// Service runs the webhooks and creates bots.
type Service struct {
	store    parley.Store
	bus      parley.Bus
	accounts *accounts.Service
	cfg      Config
	log      *slog.Logger

	leases *leases.Runner[*parley.Webhook] // this node's webhooks (worker.go)
}

// New returns the service; Start begins delivering.
func New(store parley.Store, bus parley.Bus, acc *accounts.Service, cfg Config) *Service {
	if cfg.Node == "" {
		cfg.Node = randomHex(8)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = 24 * time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{store: store, bus: bus, accounts: acc, cfg: cfg, log: cfg.Logger.With("component", "webhooks")}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// canManage is the rule for webhooks: the chat settings right.
func canManage(ctx context.Context, r parley.Reader, actor *parley.User) error {
	return parley.RequireRight(ctx, r, actor, parley.RightChatSettings, "only those with the chat settings right can manage webhooks")
}

// View is a webhook as administrators see it; Secret only in the answer
// that creates it.
type View struct {
	*parley.Webhook
	Secret string `json:"secret,omitempty"`
}

// Input creates a webhook: for a project (0: every project's dialogs), or
// for a bot (UserID, a bot account: the bot's own events).
type Input struct {
	ProjectID int64    `json:"project_id"`
	UserID    int64    `json:"user_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events" max:"100"`
}

// Patch changes a webhook; absent fields stay. RotateSecret replaces the
// secret with a new one, shown in the answer.
type Patch struct {
	URL          *string   `json:"url"`
	Events       *[]string `json:"events" max:"100"`
	Active       *bool     `json:"active"`
	RotateSecret bool      `json:"rotate_secret"`
}

func checkURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return "", parley.Invalid("url", "url must be an http(s) URL")
	}
	return u.String(), nil
}

// eventTypes are the event types a webhook may choose (the durable ones
// staff receive).
var eventTypes = []string{parley.EventMessageCreated, parley.EventMessageUpdated, parley.EventConversationUpdated,
	parley.EventConversationRemoved, parley.EventReceipts, parley.EventDialogUpdated, parley.EventDialogDeleted,
	parley.EventReadState, parley.EventDraft, parley.EventReminderDue, parley.EventReminderUpdated, parley.EventUserUpdated,
	parley.EventTagUpdated, parley.EventTagDeleted, parley.EventSettings}

// maxEvents bounds a webhook's event list (the max tags of Input, Patch
// and BotInput).
const maxEvents = 100

func checkEvents(list []string) ([]string, error) {
	if err := parley.AtMost("events", len(list), maxEvents, "event types"); err != nil {
		return nil, err
	}
	out := []string{}
	for _, e := range list {
		if !slices.Contains(eventTypes, e) {
			return nil, parley.Invalid("events", "unknown event type %q", e)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Webhooks lists every webhook.
func (s *Service) Webhooks(ctx context.Context, actor *parley.User) ([]*View, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	list, err := s.store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*View, len(list))
	for i, w := range list {
		out[i] = &View{Webhook: w}
	}
	return out, nil
}

// Create adds a webhook. It delivers the events committed from now on.
func (s *Service) Create(ctx context.Context, actor *parley.User, in Input) (*View, error) {
	u, err := checkURL(in.URL)
	if err != nil {
		return nil, err
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		return nil, err
	}
	if in.ProjectID != 0 && in.UserID != 0 {
		return nil, parley.Invalid("user_id", "a webhook is a project's or a bot's, not both")
	}
	w := &parley.Webhook{ProjectID: in.ProjectID, UserID: in.UserID, URL: u, Events: events, Secret: randomHex(24), Active: true}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if in.ProjectID != 0 {
			if _, err := tx.ProjectByID(ctx, in.ProjectID); err != nil {
				return parley.Invalid("project_id", "no such project")
			}
		}
		if in.UserID != 0 {
			if b, err := tx.UserByID(ctx, in.UserID); err != nil || !b.Bot {
				return parley.Invalid("user_id", "user_id must be a bot's")
			}
		}
		_, newest, err := tx.EventBounds(ctx)
		if err != nil {
			return err
		}
		w.Cursor = newest
		return tx.CreateWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	s.kickLeases()
	return &View{Webhook: w, Secret: w.Secret}, nil
}

// Update changes a webhook's URL, events or whether it is active.
func (s *Service) Update(ctx context.Context, actor *parley.User, id int64, p Patch) (*View, error) {
	var w *parley.Webhook
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if w, err = tx.WebhookByID(ctx, id); err != nil {
			return err
		}
		if p.URL != nil {
			if w.URL, err = checkURL(*p.URL); err != nil {
				return err
			}
		}
		if p.Events != nil {
			if w.Events, err = checkEvents(*p.Events); err != nil {
				return err
			}
		}
		if p.Active != nil {
			w.Active = *p.Active
		}
		if p.RotateSecret {
			w.Secret = randomHex(24)
		}
		return tx.UpdateWebhook(ctx, w)
	})
	if err != nil {
		return nil, err
	}
	s.kickLeases()
	v := &View{Webhook: w}
	if p.RotateSecret {
		v.Secret = w.Secret
	}
	return v, nil
}

// Webhook returns one webhook.
func (s *Service) Webhook(ctx context.Context, actor *parley.User, id int64) (*View, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &View{Webhook: w}, nil
}

// Delete removes a webhook and its log.
func (s *Service) Delete(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		return tx.DeleteWebhook(ctx, id)
	})
	s.kickLeases()
	return err
}

// Deliveries returns a webhook's log, newest first.
func (s *Service) Deliveries(ctx context.Context, actor *parley.User, id, before int64, limit int) ([]*parley.WebhookDelivery, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	if _, err := s.store.WebhookByID(ctx, id); err != nil {
		return nil, err
	}
	return s.store.WebhookDeliveries(ctx, id, before, limit)
}

// Resend delivers a logged delivery's event again, now, and logs the
// attempt (the admin UI's "resend").
func (s *Service) Resend(ctx context.Context, actor *parley.User, id, deliveryID int64) (*parley.WebhookDelivery, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	w, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.WebhookDeliveries(ctx, id, deliveryID+1, 1)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 || ds[0].ID != deliveryID {
		return nil, parley.Errorf(parley.ENOTFOUND, "delivery not found")
	}
	e, err := s.store.EventByID(ctx, ds[0].EventID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, parley.Errorf(parley.ECONFLICT, "the event is no longer kept (older than the event retention)")
	}
	if err != nil {
		return nil, err
	}
	d := s.post(ctx, w, *e, ds[0].Attempt+1)
	_, err = s.store.Write(ctx, func(tx parley.Tx) error { return tx.AddWebhookDelivery(ctx, d) })
	return d, err
}

// BotInput creates a bot, optionally with its webhook.
type BotInput struct {
	Name       string   `json:"name"`
	WebhookURL string   `json:"webhook_url"`
	Events     []string `json:"events" max:"100"`
}

// Bot is a created bot: its account, its API token and its webhook's
// secret, each shown this once.
type Bot struct {
	User    *parley.User `json:"user"`
	Token   string       `json:"token"`
	Webhook *View        `json:"webhook,omitempty"`
}

// CreateBot creates a bot account with its token and, given a URL, the
// webhook its events go to.
func (s *Service) CreateBot(ctx context.Context, actor *parley.User, in BotInput) (*Bot, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	if err := parley.AtMost("events", len(in.Events), maxEvents, "event types"); err != nil {
		return nil, err
	}
	if in.WebhookURL != "" {
		if _, err := checkURL(in.WebhookURL); err != nil {
			return nil, parley.Invalid("webhook_url", "webhook_url must be an http(s) URL")
		}
		if _, err := checkEvents(in.Events); err != nil {
			return nil, err
		}
	}
	u, token, err := s.accounts.CreateBot(ctx, actor, in.Name)
	if err != nil {
		return nil, err
	}
	b := &Bot{User: u, Token: token}
	if in.WebhookURL != "" {
		if b.Webhook, err = s.Create(ctx, actor, Input{UserID: u.ID, URL: in.WebhookURL, Events: in.Events}); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// call is the body of a webhook call: the event as the real-time
// connection carries it, with the webhook's id.
type call struct {
	WebhookID int64 `json:"webhook_id"`
	parley.Event
}

// post makes one call and says how it went.
func (s *Service) post(ctx context.Context, w *parley.Webhook, e parley.Event, attempt int) *parley.WebhookDelivery {
	d := &parley.WebhookDelivery{WebhookID: w.ID, EventID: e.ID, EventType: e.Type, Attempt: attempt, CreatedAt: s.now()}
	body, _ := json.Marshal(call{WebhookID: w.ID, Event: e})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		d.Error = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set("X-Parley-Event", e.Type)
	req.Header.Set("X-Parley-Delivery", strconv.FormatInt(w.ID, 10)+"-"+strconv.FormatInt(e.ID, 10))
	req.Header.Set(signature.Header, signature.Sign([]byte(w.Secret), s.cfg.Now(), body))
	start := time.Now()
	resp, err := s.cfg.Client.Do(req)
	d.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		d.Error = "the receiver could not be reached"
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout") {
			d.Error = "the receiver did not answer in time"
		}
		return d
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	d.StatusCode = resp.StatusCode
	d.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	if !d.OK {
		d.Error = fmt.Sprintf("the receiver answered %s", resp.Status)
	}
	return d
}
