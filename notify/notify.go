// Package notify makes notifications reach people who have no Parley tab
// open: Web Push (VAPID, RFC 8030/8291/8292) to the browsers they
// subscribed, and an e-mail digest of what stayed unread for a time they
// choose, both held back in their do-not-disturb hours.
//
// Deliveries run on one node of a cluster, the holder of the notifier's
// lease (internal/leases). It finds what to send in the database rather
// than in events it heard, so a node that takes over loses nothing: each
// member's conversation records how far it was pushed and mailed
// (notify_marks), each reminder whether it was, and the notes other
// services queue (an incoming call, a mention) wait in an outbox table.
package notify

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
	"github.com/parley-chat/parley/presence"
)

// EventSettings tells a user's devices their notification settings
// changed; EventQueued (to no client) wakes the node that delivers.
const (
	EventSettings = "notify.settings"
	EventQueued   = "notify.queued"
)

// Store is what the notifier needs of the store (sqlstore implements it).
type Store interface {
	parley.Store
	reader
}

type reader interface {
	PushSubscriptions(ctx context.Context, userID int64) ([]*parley.PushSubscription, error)
	PushSubscriptionByEndpoint(ctx context.Context, endpoint string) (*parley.PushSubscription, error)
	NotifySettings(ctx context.Context, userID int64) (parley.NotifySettings, error)
	NotifyCandidates(ctx context.Context, channel string, since, before time.Time, n int) ([]parley.NotifyCandidate, error)
	ReminderNotified(ctx context.Context, channel string, reminderID int64, at time.Time) (bool, error)
	QueuedNotes(ctx context.Context, n int) ([]*parley.NotifyNote, error)
}

// Tx is a transaction of a Store.
type Tx interface {
	parley.Tx
	reader
	InitSetting(ctx context.Context, key string, v any) error
	PutPushSubscription(ctx context.Context, p *parley.PushSubscription) error
	DeletePushSubscription(ctx context.Context, userID, id int64) error
	SetNotifySettings(ctx context.Context, userID int64, s parley.NotifySettings) error
	MarkNotified(ctx context.Context, channel string, userID, convID, seq int64) error
	MarkReminderNotified(ctx context.Context, channel string, reminderID int64, at time.Time) (bool, error)
	QueueNote(ctx context.Context, n *parley.NotifyNote) error
	DeleteNote(ctx context.Context, id int64) (bool, error)
	LeaseNotify(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error)
}

// Config configures the notifier.
type Config struct {
	// Mailer sends the digests; nil: no e-mail (the settings say so).
	Mailer parley.Mailer
	// PublicURL is the web app's address, for links in e-mail.
	PublicURL string
	// VAPID keys (base64url: the public key uncompressed, the private
	// key's scalar) and subject (mailto: or https: URL). Without keys the
	// notifier generates a pair once and keeps it in the database for
	// every node.
	VAPIDPublicKey, VAPIDPrivateKey, VAPIDSubject string
	// InsecureHosts are push service hosts reached over plain http and
	// on private addresses (tests' local push service); others must be
	// https on public addresses.
	InsecureHosts []string
	// PushDelay is how long a message waits unread before it is pushed
	// (default 30 s): a user who reads it at once on some device gets
	// none.
	PushDelay time.Duration
	// Tick is how often the delivering node looks for work (default 5 s);
	// a queued note wakes it at once.
	Tick time.Duration
	// EmailEvery is how often it looks for digests to send (default 1
	// min); EmailUnit is what a setting's minute is (default a minute;
	// tests shorten it).
	EmailEvery, EmailUnit time.Duration
	// MaxSubscriptions per user (default 10).
	MaxSubscriptions int
	Node             string
	Lease            time.Duration
	HTTPClient       *http.Client
	Now              func() time.Time
	Log              *slog.Logger
}

// EmailChoices are the delays a user can choose for the digest, in
// minutes (0: never).
var EmailChoices = []int{0, 15, 60, 180, 480, 1440}

// defaultEmailAfter is the digest delay of users who never chose.
const defaultEmailAfter = 60

// Service holds the settings and subscriptions and runs the deliveries.
type Service struct {
	store    Store
	bus      parley.Bus
	presence *presence.Tracker
	cfg      Config
	log      *slog.Logger
	client   *http.Client
	vapid    vapidKeys
	since    time.Time // nothing older is notified (the notifier's first start)
	leases   *leases.Runner[int64]

	mu        sync.Mutex
	lastEmail time.Time
}

type vapidKeys struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// New checks the configuration, reads (or makes) the VAPID keys and
// returns the service; Start runs the deliveries.
func New(ctx context.Context, store parley.Store, bus parley.Bus, pres *presence.Tracker, cfg Config) (*Service, error) {
	st, ok := store.(Store)
	if !ok {
		return nil, parley.Errorf(parley.EINTERNAL, "notify: the store has no notification tables")
	}
	if cfg.Now == nil {
		cfg.Now = parley.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.PushDelay <= 0 {
		cfg.PushDelay = 30 * time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.EmailEvery <= 0 {
		cfg.EmailEvery = time.Minute
	}
	if cfg.EmailUnit <= 0 {
		cfg.EmailUnit = time.Minute
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = 10
	}
	if cfg.Node == "" {
		cfg.Node = leases.NodeID()
	}
	s := &Service{store: st, bus: bus, presence: pres, cfg: cfg, log: cfg.Log}
	s.client = cfg.HTTPClient
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, Control: s.dialControl}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 4}}
	}
	switch {
	case cfg.VAPIDPublicKey != "" || cfg.VAPIDPrivateKey != "":
		if err := checkVAPID(cfg.VAPIDPublicKey, cfg.VAPIDPrivateKey); err != nil {
			return nil, err
		}
		s.vapid = vapidKeys{Public: cfg.VAPIDPublicKey, Private: cfg.VAPIDPrivateKey}
	default:
		priv, pub, err := webpush.GenerateVAPIDKeys()
		if err != nil {
			return nil, err
		}
		s.vapid = vapidKeys{Public: pub, Private: priv}
		if err := s.initSetting(ctx, "vapid_keys", &s.vapid); err != nil {
			return nil, err
		}
	}
	s.since = cfg.Now()
	if err := s.initSetting(ctx, "notify_since", &s.since); err != nil {
		return nil, err
	}
	return s, nil
}

// initSetting keeps v under key unless a node did first, and reads what
// is kept.
func (s *Service) initSetting(ctx context.Context, key string, v any) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error { return tx.(Tx).InitSetting(ctx, key, v) })
	return err
}

// checkVAPID checks that the keys are a P-256 pair.
func checkVAPID(pub, priv string) error {
	p, err := decodeKey(priv)
	if err != nil || len(p) != 32 {
		return parley.Errorf(parley.EINVALID, "vapid-private-key: not a base64url P-256 private key")
	}
	k, err := ecdh.P256().NewPrivateKey(p)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "vapid-private-key: %v", err)
	}
	q, err := decodeKey(pub)
	if err != nil || string(k.PublicKey().Bytes()) != string(q) {
		return parley.Errorf(parley.EINVALID, "vapid-public-key is not the public key of vapid-private-key")
	}
	return nil
}

func decodeKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// Start runs the deliveries on whichever node holds the lease.
func (s *Service) Start() error {
	s.leases = &leases.Runner[int64]{
		List:    func(context.Context) ([]int64, error) { return []int64{1}, nil },
		ID:      func(id int64) int64 { return id },
		Version: func(int64) time.Time { return time.Time{} },
		Take: leases.TakeIn(s.store, func(ctx context.Context, tx parley.Tx, id int64, now, until time.Time) (bool, error) {
			return tx.(Tx).LeaseNotify(ctx, id, s.cfg.Node, now, until)
		}),
		Run: s.run, Lease: s.cfg.Lease, Log: s.log,
		Bus: s.bus, OnEvents: s.onEvents,
	}
	return s.leases.Start()
}

// Close stops the deliveries and gives the lease up.
func (s *Service) Close() {
	if s.leases != nil {
		s.leases.Stop()
	}
}

func (s *Service) onEvents(events []parley.Event) {
	for i := range events {
		if events[i].Type == EventQueued {
			s.leases.WakeAll()
			return
		}
	}
}

// EmailAvailable reports whether the server can send e-mail.
func (s *Service) EmailAvailable() bool { return s.cfg.Mailer != nil }

// VAPIDPublicKey is the key browsers subscribe with
// (applicationServerKey).
func (s *Service) VAPIDPublicKey() string { return s.vapid.Public }

// SubscriptionInput is a browser's PushSubscription as toJSON gives it.
type SubscriptionInput struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Subscribe stores the actor's browser subscription. A browser that
// subscribes again (or whose signed-in user changed) keeps one row.
func (s *Service) Subscribe(ctx context.Context, actor *parley.User, in SubscriptionInput) (*parley.PushSubscription, error) {
	if err := s.checkEndpoint(in.Endpoint); err != nil {
		return nil, err
	}
	if k, err := decodeKey(in.Keys.P256DH); err != nil || len(k) != 65 {
		return nil, parley.Invalid("keys.p256dh", "not a base64url P-256 public key")
	} else if _, err := ecdh.P256().NewPublicKey(k); err != nil {
		return nil, parley.Invalid("keys.p256dh", "not a point of P-256")
	}
	if k, err := decodeKey(in.Keys.Auth); err != nil || len(k) != 16 {
		return nil, parley.Invalid("keys.auth", "not a base64url 16-byte secret")
	}
	ua := in.UserAgent
	if len(ua) > 300 {
		ua = ua[:300]
	}
	p := &parley.PushSubscription{UserID: actor.ID, Endpoint: in.Endpoint, P256DH: in.Keys.P256DH, Auth: in.Keys.Auth,
		UserAgent: strings.ToValidUTF8(ua, ""), CreatedAt: s.cfg.Now()}
	_, err := s.store.Write(ctx, func(ptx parley.Tx) error {
		tx := ptx.(Tx)
		have, err := tx.PushSubscriptions(ctx, actor.ID)
		if err != nil {
			return err
		}
		if len(have) >= s.cfg.MaxSubscriptions && !slices.ContainsFunc(have, func(h *parley.PushSubscription) bool { return h.Endpoint == in.Endpoint }) {
			return parley.Errorf(parley.ECONFLICT, "at most %d browsers can receive notifications; turn them off in one first", s.cfg.MaxSubscriptions)
		}
		return tx.PutPushSubscription(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Subscriptions lists the actor's browsers.
func (s *Service) Subscriptions(ctx context.Context, actor *parley.User) ([]*parley.PushSubscription, error) {
	ps, err := s.store.PushSubscriptions(ctx, actor.ID)
	if ps == nil {
		ps = []*parley.PushSubscription{}
	}
	return ps, err
}

// Unsubscribe deletes one of the actor's subscriptions; someone else's is
// not found.
func (s *Service) Unsubscribe(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		return tx.(Tx).DeletePushSubscription(ctx, actor.ID, id)
	})
	return err
}

// checkEndpoint accepts a push service URL: https (http only for the
// allowed insecure hosts), with a host and no credentials.
func (s *Service) checkEndpoint(raw string) error {
	if raw == "" || len(raw) > 2000 {
		return parley.Invalid("endpoint", "give the push service URL (at most 2000 characters)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return parley.Invalid("endpoint", "not an absolute URL without credentials")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.insecure(u.Hostname()):
	default:
		return parley.Invalid("endpoint", "a push service is reached over https")
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && privateIP(ip) && !s.insecure(u.Hostname()) {
		return parley.Invalid("endpoint", "a push service is not on a private address")
	}
	return nil
}

func (s *Service) insecure(host string) bool {
	return slices.Contains(s.cfg.InsecureHosts, host)
}

func privateIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast()
}

// dialControl refuses connections to private addresses, where an
// endpoint's host name could lead the server, unless the address is an
// allowed insecure host.
func (s *Service) dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip != nil && privateIP(ip) && !s.insecure(host) {
		return parley.Errorf(parley.EINVALID, "push service at a private address %s refused", host)
	}
	return nil
}

// SettingsView is a user's settings as the app shows them.
type SettingsView struct {
	parley.NotifySettings
	// EmailAvailable: the server has a mailer; without one no digest is
	// sent whatever the setting.
	EmailAvailable bool  `json:"email_available"`
	EmailChoices   []int `json:"email_choices"`
	// Subscriptions counts the browsers that receive pushes.
	Subscriptions int `json:"subscriptions"`
}

// Settings returns the actor's notification settings.
func (s *Service) Settings(ctx context.Context, actor *parley.User) (*SettingsView, error) {
	set, err := s.store.NotifySettings(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, actor.ID, set)
}

func (s *Service) view(ctx context.Context, userID int64, set parley.NotifySettings) (*SettingsView, error) {
	ps, err := s.store.PushSubscriptions(ctx, userID)
	if err != nil {
		return nil, err
	}
	v := &SettingsView{NotifySettings: set, EmailAvailable: s.cfg.Mailer != nil, EmailChoices: EmailChoices, Subscriptions: len(ps)}
	if v.EmailAfterMinutes < 0 {
		v.EmailAfterMinutes = s.emailAfter(set)
	}
	return v, nil
}

// emailAfter is the digest delay in minutes a user's settings mean.
func (s *Service) emailAfter(set parley.NotifySettings) int {
	if set.EmailAfterMinutes >= 0 {
		return set.EmailAfterMinutes
	}
	if s.cfg.Mailer == nil {
		return 0
	}
	return defaultEmailAfter
}

// maxPause bounds a pause of notifications.
const maxPause = 7 * 24 * time.Hour

// SetSettings checks and stores the actor's settings and tells their
// devices.
func (s *Service) SetSettings(ctx context.Context, actor *parley.User, in parley.NotifySettings) (*SettingsView, error) {
	if err := parley.AtMost("dnd_days", len(in.DNDDays), 7, "days"); err != nil {
		return nil, err
	}
	// -1 is the server's default (60 with a mailer): what an app that
	// cannot offer e-mail sends, so that the user still gets it once an
	// operator configures a mailer.
	if in.EmailAfterMinutes != -1 && !slices.Contains(EmailChoices, in.EmailAfterMinutes) {
		return nil, parley.Invalid("email_after_minutes", "choose one of %v, or -1 for the server's default", EmailChoices)
	}
	if in.EmailAfterMinutes > 0 && s.cfg.Mailer == nil {
		return nil, parley.Invalid("email_after_minutes", "this server cannot send e-mail")
	}
	if _, ok := clock(in.DNDFrom); !ok {
		return nil, parley.Invalid("dnd_from", "a time as HH:MM")
	}
	if _, ok := clock(in.DNDTo); !ok {
		return nil, parley.Invalid("dnd_to", "a time as HH:MM")
	}
	days := map[int]bool{}
	for _, d := range in.DNDDays {
		if d < 0 || d > 6 || days[d] {
			return nil, parley.Invalid("dnd_days", "days are 0 (Sunday) to 6 (Saturday), each once")
		}
		days[d] = true
	}
	if in.DNDEnabled && len(in.DNDDays) == 0 {
		return nil, parley.Invalid("dnd_days", "choose the days do-not-disturb hours apply on")
	}
	slices.Sort(in.DNDDays)
	if in.DNDDays == nil {
		in.DNDDays = []int{}
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || len(in.TimeZone) > 64 {
		return nil, parley.Invalid("time_zone", "not a time zone of the IANA database, e.g. Europe/Berlin")
	}
	now := s.cfg.Now()
	switch {
	case in.PausedUntil.IsZero() || !in.PausedUntil.After(now):
		in.PausedUntil = time.Time{}
	case in.PausedUntil.After(now.Add(maxPause)):
		return nil, parley.Invalid("paused_until", "pause notifications for at most a week")
	default:
		in.PausedUntil = in.PausedUntil.UTC().Truncate(time.Millisecond)
	}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := tx.(Tx).SetNotifySettings(ctx, actor.ID, in); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(EventSettings, 0, actor.ID, in))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, actor.ID, in)
}

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Quiet reports whether notifications to a user with these settings are
// held back at now: paused, or in do-not-disturb hours (which an urgent
// note, a call or a mention, passes if the user lets it).
func Quiet(set parley.NotifySettings, now time.Time, urgent bool) bool {
	if now.Before(set.PausedUntil) {
		return true
	}
	if !set.DNDEnabled || (urgent && set.CallsBreakThrough) {
		return false
	}
	return inHours(set, now)
}

func inHours(set parley.NotifySettings, now time.Time) bool {
	loc, err := time.LoadLocation(set.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	t := now.In(loc)
	from, _ := clock(set.DNDFrom)
	to, _ := clock(set.DNDTo)
	m := t.Hour()*60 + t.Minute()
	day := int(t.Weekday())
	on := func(d int) bool { return slices.Contains(set.DNDDays, (d+7)%7) }
	switch {
	case from == to: // the whole day
		return on(day)
	case from < to:
		return on(day) && m >= from && m < to
	case m >= from: // hours across midnight, the evening part
		return on(day)
	case m < to: // the morning part: the hours began yesterday
		return on(day - 1)
	}
	return false
}

// Notify queues a note for a user, pushed to their browsers by the
// delivering node if they have no tab open and are not in do-not-disturb
// hours (a "call" or "mention" passes them if they let it). It is the
// hook other services call: an incoming call, a mention.
func (s *Service) Notify(ctx context.Context, note parley.NotifyNote) error {
	if note.UserID == 0 || note.Title == "" {
		return parley.Errorf(parley.EINVALID, "a note needs a user and a title")
	}
	note.At = s.cfg.Now()
	_, err := s.store.Write(ctx, func(tx parley.Tx) error { return tx.(Tx).QueueNote(ctx, &note) })
	if err != nil {
		return err
	}
	s.wake(ctx)
	return nil
}

// Test queues a test notification to the actor's browsers, sent even
// with a tab open.
func (s *Service) Test(ctx context.Context, actor *parley.User) error {
	ps, err := s.store.PushSubscriptions(ctx, actor.ID)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return parley.Errorf(parley.ECONFLICT, "no browser of yours receives notifications yet")
	}
	return s.Notify(ctx, parley.NotifyNote{UserID: actor.ID, Kind: "test", Title: "Parley",
		Body: tr("en", "push.test"), URL: "/settings", Tag: "test"}) // in the user's language when sent

}

// wake tells the delivering node, wherever it is, to look now.
func (s *Service) wake(ctx context.Context) {
	e := parley.NewEvent(EventQueued, 0, 0, map[string]any{})
	e.Audience = []int64{0} // nodes only, no client
	if err := s.bus.Publish(ctx, []parley.Event{e}); err != nil {
		s.log.Warn("notify: waking the delivering node", "err", err)
	}
}
