// Package messaging holds the rules of team chat: direct conversations with
// their request flow, the Assistance line, multi-chats, messages and their
// delivery, read state, drafts, typing, history, search and files.
package messaging

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/linkpreview"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/ratelimit"
)

// Config holds the limits of messaging.
type Config struct {
	MaxMessageLength int   // characters; default 2000
	MaxFileSize      int64 // bytes; default 50 MiB
	MaxFilesPerMsg   int   // default 10
	// SendRate and SendBurst limit messages per user per second.
	SendRate  rate.Limit
	SendBurst int
	// DeliveryFlush is how often delivery receipts are written (default
	// 200 ms: ticks stay prompt, and a busy conversation costs one write
	// per member that often, not one per message).
	DeliveryFlush time.Duration
	// Now is the clock that dates messages, edits and drafts (default
	// time.Now); tests set it to script a day.
	Now    func() time.Time
	Logger *slog.Logger
	// LinkPreviews fetches the previews of messages' first links; nil
	// turns link previews off.
	LinkPreviews *linkpreview.Client
}

// Service implements team chat.
type Service struct {
	store    parley.Store
	bus      parley.Bus
	blobs    parley.Blobs
	presence *presence.Tracker
	cfg      Config
	log      *slog.Logger
	sends    *ratelimit.Limiter
	batch    *sendBatch
	receipts *deliveries
	// lastClients: user ID → the lastClient this node last recorded.
	lastClients sync.Map
	support     SupportHook
	previews    *previewer // nil: link previews are off
	cards       CardChecker
}

// SupportHook is live chat's part in messaging: called inside the
// transaction of every change to a support conversation, it emits the
// visitor's projection and keeps the dialog's state. Errors it returns
// abort the transaction.
type SupportHook interface {
	// OpenDialog returns the dialog a contact's message goes to: their
	// open one, else their last one (closed: Reopen reopens it), else a
	// new one.
	OpenDialog(ctx context.Context, tx parley.Tx, contact *parley.Contact) (*parley.Conversation, error)
	// BeforeSend checks and prepares m before it is stored in support
	// conversation c: ECONFLICT refuses that message alone (a channel
	// that cannot carry it now), any other error the batch.
	BeforeSend(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error
	// Reopen reopens closed dialog c before a message from userID (0:
	// the customer) is stored in it; ECONFLICT refuses that message alone,
	// any other error the batch.
	Reopen(ctx context.Context, tx parley.Tx, c *parley.Conversation, userID int64) error
	// AttachmentLimits are the largest files support conversation c's
	// channel carries.
	AttachmentLimits(ctx context.Context, r parley.Reader, c *parley.Conversation) (parley.AttachmentLimits, error)
	// AfterSend runs after m is stored in support conversation c.
	AfterSend(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error
	// AfterUpdate runs after m was edited or deleted.
	AfterUpdate(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error
	// AfterRead runs after a consultant's read pointer moved to readSeq.
	AfterRead(ctx context.Context, tx parley.Tx, c *parley.Conversation, readSeq int64) error
	// CanView reports whether a user who is not connected may read the
	// dialog's history.
	CanView(ctx context.Context, c *parley.Conversation, actor *parley.User) (bool, error)
	// TypingEvents returns who else hears that actor is typing in c.
	TypingEvents(ctx context.Context, c *parley.Conversation, actor *parley.User, whisper bool) ([]parley.Event, error)
}

// SetSupport installs live chat's hook; call it before serving.
func (s *Service) SetSupport(h SupportHook) { s.support = h }

// New returns the service and starts its background writers; Close stops
// them after flushing.
func New(store parley.Store, bus parley.Bus, blobs parley.Blobs, pres *presence.Tracker, cfg Config) *Service {
	if cfg.MaxMessageLength <= 0 {
		cfg.MaxMessageLength = parley.DefaultMaxMessageLength
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 50 << 20
	}
	if cfg.MaxFilesPerMsg <= 0 {
		cfg.MaxFilesPerMsg = 10
	}
	if cfg.SendRate == 0 {
		cfg.SendRate, cfg.SendBurst = 20, 60
	}
	if cfg.DeliveryFlush <= 0 {
		cfg.DeliveryFlush = 200 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{store: store, bus: bus, blobs: blobs, presence: pres, cfg: cfg, log: cfg.Logger,
		sends: ratelimit.New(cfg.SendRate, cfg.SendBurst)}
	s.batch = &sendBatch{s}
	s.receipts = newDeliveries(s)
	if cfg.LinkPreviews != nil {
		s.previews = newPreviewer(s, cfg.LinkPreviews)
	}
	return s
}

// now is the service's clock at the precision Parley stores (UTC, ms).
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Config returns the limits in force, for clients to show.
func (s *Service) Config() Config { return s.cfg }

// Close flushes pending receipts and stops the background writer. Sends
// already queued are the store's: it commits them before it closes.
func (s *Service) Close() {
	s.previews.close()
	s.receipts.close()
}

// write runs fn in a transaction; the store publishes its events.
func (s *Service) write(ctx context.Context, fn func(tx parley.Tx) error) error {
	_, err := s.store.Write(ctx, fn)
	return err
}

// member returns the actor's membership, or ENOTFOUND for a conversation
// the actor is not in: outsiders cannot tell it exists.
func member(ctx context.Context, r parley.Reader, convID, userID int64) (*parley.Conversation, *parley.Member, error) {
	c, err := r.ConversationByID(ctx, convID)
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Member(ctx, convID, userID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	if err != nil {
		return nil, nil, err
	}
	return c, m, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
