package channel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
)

// Config tunes the service.
type Config struct {
	// PublicURL is the server's address as services reach it
	// ("https://chat.example.com"): channels' webhook URLs start with it.
	PublicURL string
	// Node names this process in channel leases (default: random).
	Node string
	// Lease is how long a node holds a channel without renewing it: a
	// node that dies hands its channels over after at most this long
	// (default 15 s).
	Lease time.Duration
	// Poll is how often a channel's queue is looked at with nothing to
	// wake it (default 1 s); a reply committed on this node, or announced
	// on the bus by another, wakes it at once.
	Poll time.Duration
	// GiveUp is how long a message is retried before it fails (default
	// 24 h).
	GiveUp time.Duration
	// Parallel is how many of a channel's messages are sent at once, each
	// to another dialog (default 8): a service that takes a while to
	// answer still gets its rate.
	Parallel int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service runs the channels: their settings, the inbound path, the queue.
type Service struct {
	store    parley.Store
	bus      parley.Bus
	blobs    parley.Blobs
	msgs     *messaging.Service
	adapters map[string]Adapter
	cfg      Config
	log      *slog.Logger

	leases *leases.Runner[*parley.Channel] // this node's channels (worker.go)
	key    []byte                          // signs file links (files.go)
	// errMu serialises noteError: a channel's poll and its sends report
	// on the same *parley.Channel.
	errMu sync.Mutex
}

// New returns the service with its adapters and installs it as live
// chat's channels hook; Start begins polling and sending.
func New(store parley.Store, bus parley.Bus, blobs parley.Blobs, msgs *messaging.Service, chat *livechat.Service,
	cfg Config, adapters ...Adapter) *Service {
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
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Service{store: store, bus: bus, blobs: blobs, msgs: msgs, adapters: map[string]Adapter{}, cfg: cfg,
		log: cfg.Logger.With("component", "channels")}
	for _, a := range adapters {
		s.adapters[a.Kind()] = a
	}
	chat.SetChannels(s)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Kinds lists the kinds of channel this server can connect, in the
// inbox's order.
func (s *Service) Kinds() []Spec {
	out := []Spec{}
	for _, k := range parley.Channels {
		if a, ok := s.adapters[k]; ok {
			out = append(out, a.Spec())
		}
	}
	return out
}

// View is a channel as administrators see it: never its secrets' values.
type View struct {
	*parley.Channel
	// WebhookURL is where the service must send its calls.
	WebhookURL string `json:"webhook_url"`
	// NewSecrets holds the secrets Parley generated for the channel (an
	// API channel's token), in the one answer that creates them.
	NewSecrets map[string]string `json:"new_secrets,omitempty"`
}

func (s *Service) view(ch *parley.Channel) *View {
	return &View{Channel: ch, WebhookURL: s.webhookURL(ch)}
}

// webhookURL is where ch's service calls Parley.
func (s *Service) webhookURL(ch *parley.Channel) string {
	return s.cfg.PublicURL + "/api/v1/channels/" + strconv.FormatInt(ch.ID, 10) + "/webhook"
}

// canManage is the rule for connecting channels: the chat settings right,
// as for the rest of a project's settings.
func canManage(ctx context.Context, r parley.Reader, actor *parley.User) error {
	return parley.RequireRight(ctx, r, actor, parley.RightChatSettings, "only those with the chat settings right can manage channels")
}

// Channels lists a project's channels (0: every project's).
func (s *Service) Channels(ctx context.Context, actor *parley.User, projectID int64) ([]*View, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	list, err := s.store.Channels(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]*View, len(list))
	for i, ch := range list {
		out[i] = s.view(ch)
	}
	return out, nil
}

// Channel returns one channel.
func (s *Service) Channel(ctx context.Context, actor *parley.User, id int64) (*View, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	ch, err := s.store.ChannelByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ch), nil
}

// Input creates a channel. Settings and Secrets are the kind's fields
// (see Spec); secrets marked to be generated may be left out.
type Input struct {
	ProjectID int64             `json:"project_id"`
	Kind      string            `json:"kind"`
	Name      string            `json:"name"`
	Settings  map[string]string `json:"settings" max:"50"`
	Secrets   map[string]string `json:"secrets" max:"50"`
	AutoCase  bool              `json:"auto_case"`
	Paused    bool              `json:"paused"`
}

// Patch changes a channel; absent fields stay. Settings and Secrets
// replace the values they name ("" clears an optional one).
type Patch struct {
	Name     *string           `json:"name"`
	Settings map[string]string `json:"settings" max:"50"`
	Secrets  map[string]string `json:"secrets" max:"50"`
	AutoCase *bool             `json:"auto_case"`
	Paused   *bool             `json:"paused"`
}

const (
	maxFieldLen = 4000
	maxFields   = 50 // settings or secrets given at once (max tags of Input and Patch)
)

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return "", parley.Invalid("name", "a channel needs a name of 1 to 100 characters")
	}
	return name, nil
}

// merge applies given values to a channel's fields and checks the result
// against the kind's fields: only known names, required ones set,
// choices among their options, URLs that are URLs.
func merge(dst map[string]string, given map[string]string, fields []Field, what string) (map[string]string, error) {
	if err := parley.AtMost(what, len(given), maxFields, "fields"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range given {
		i := slices.IndexFunc(fields, func(f Field) bool { return f.Name == k })
		if i < 0 {
			return nil, parley.Invalid(what+"."+k, "%s has no field %q", what, k)
		}
		if len(v) > maxFieldLen || !utf8.ValidString(v) {
			return nil, parley.Invalid(what+"."+k, "%s.%s is too long or not text", what, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	for _, f := range fields {
		v := out[f.Name]
		if v == "" && f.Default != "" {
			v = f.Default
			out[f.Name] = v
		}
		if v == "" {
			delete(out, f.Name)
			if f.Required {
				return nil, parley.Invalid(what+"."+f.Name, "%s.%s (%s) is required", what, f.Name, f.Label)
			}
			continue
		}
		if len(f.Options) > 0 && !slices.Contains(f.Options, v) {
			return nil, parley.Invalid(what+"."+f.Name, "%s.%s must be one of %s", what, f.Name, strings.Join(f.Options, ", "))
		}
		if f.Name == "url" || strings.HasSuffix(f.Name, "_url") {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, parley.Invalid(what+"."+f.Name, "%s.%s must be an http(s) URL", what, f.Name)
			}
		}
	}
	return out, nil
}

// generate fills the secrets Parley makes itself (Field.Default "generate")
// that are not set, and returns them.
func generate(secrets map[string]string, fields []Field) map[string]string {
	var made map[string]string
	for _, f := range fields {
		if f.Default == generated && (secrets[f.Name] == "" || secrets[f.Name] == generated) {
			if made == nil {
				made = map[string]string{}
			}
			secrets[f.Name] = randomHex(24)
			made[f.Name] = secrets[f.Name]
		}
	}
	return made
}

// generated as a secret field's default makes Parley generate the secret.
const generated = "(generated)"

// Create connects a channel to a project. The channel is saved even when
// its service refuses the credentials: LastError says why.
func (s *Service) Create(ctx context.Context, actor *parley.User, in Input) (*View, error) {
	a, ok := s.adapters[in.Kind]
	if !ok {
		return nil, parley.Invalid("kind", "unknown channel kind %q", in.Kind)
	}
	spec := a.Spec()
	name, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	settings, err := merge(nil, in.Settings, spec.Settings, "settings")
	if err != nil {
		return nil, err
	}
	given := map[string]string{}
	for k, v := range in.Secrets {
		given[k] = v
	}
	made := generate(given, spec.Secrets)
	secrets, err := merge(nil, given, spec.Secrets, "secrets")
	if err != nil {
		return nil, err
	}
	ch := &parley.Channel{ProjectID: in.ProjectID, Kind: in.Kind, Name: name, Paused: in.Paused, AutoCase: in.AutoCase,
		Settings: settings, Secrets: secrets}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if _, err := tx.ProjectByID(ctx, in.ProjectID); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Invalid("project_id", "no such project")
			}
			return err
		}
		return tx.CreateChannel(ctx, ch)
	})
	if err != nil {
		return nil, err
	}
	s.connect(ctx, ch)
	v := s.view(ch)
	v.NewSecrets = made
	return v, nil
}

// Update changes a channel's name, settings, secrets or state.
func (s *Service) Update(ctx context.Context, actor *parley.User, id int64, p Patch) (*View, error) {
	var ch *parley.Channel
	var made map[string]string
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if ch, err = tx.ChannelByID(ctx, id); err != nil {
			return err
		}
		spec := s.adapters[ch.Kind].Spec()
		if p.Name != nil {
			if ch.Name, err = checkName(*p.Name); err != nil {
				return err
			}
		}
		if ch.Settings, err = merge(ch.Settings, p.Settings, spec.Settings, "settings"); err != nil {
			return err
		}
		given := map[string]string{}
		for k, v := range p.Secrets {
			given[k] = v
		}
		secrets, err := merge(ch.Secrets, given, spec.Secrets, "secrets")
		if err != nil {
			return err
		}
		made = generate(secrets, spec.Secrets)
		ch.Secrets = secrets
		if p.AutoCase != nil {
			ch.AutoCase = *p.AutoCase
		}
		if p.Paused != nil {
			ch.Paused = *p.Paused
		}
		return tx.UpdateChannel(ctx, ch)
	})
	if err != nil {
		return nil, err
	}
	s.connect(ctx, ch)
	v := s.view(ch)
	v.NewSecrets = made
	return v, nil
}

// connect registers a saved channel with its service (or unregisters a
// paused one) and gets the lease loop to (re)start its worker.
func (s *Service) connect(ctx context.Context, ch *parley.Channel) {
	defer s.kickLeases()
	c, ok := s.adapters[ch.Kind].(Connector)
	if !ok {
		return
	}
	var err error
	if ch.Paused {
		err = c.Disconnect(ctx, ch)
	} else {
		err = c.Connect(ctx, ch, s.webhookURL(ch))
	}
	s.noteError(ctx, ch, err)
}

// noteError records a channel's failure for administrators, or clears the
// last one after a success.
func (s *Service) noteError(ctx context.Context, ch *parley.Channel, err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == ch.LastError {
		return // logged when it began
	}
	if err != nil {
		s.log.Warn("channel failed", "channel_id", ch.ID, "kind", ch.Kind, "err", msg)
	}
	at := s.now()
	if msg == "" {
		at = time.Time{}
	}
	if _, werr := s.store.Write(ctx, func(tx parley.Tx) error { return tx.SetChannelError(ctx, ch.ID, msg, at) }); werr == nil {
		ch.LastError, ch.ErrorAt = msg, at
	}
}

// Delete removes a channel. Its dialogs keep their history; replies still
// queued fail, and nothing more can be sent from those dialogs.
func (s *Service) Delete(ctx context.Context, actor *parley.User, id int64) error {
	var ch *parley.Channel
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if ch, err = tx.ChannelByID(ctx, id); err != nil {
			return err
		}
		for {
			due, err := tx.DueChannelMessages(ctx, id, time.Unix(1<<40, 0), 500)
			if err != nil {
				return err
			}
			if len(due) == 0 {
				break
			}
			for _, cm := range due {
				if err := s.fail(ctx, tx, cm, "the channel was removed before the message left"); err != nil {
					return err
				}
			}
		}
		return tx.DeleteChannel(ctx, id)
	})
	if err != nil {
		return err
	}
	if c, ok := s.adapters[ch.Kind].(Connector); ok {
		if err := c.Disconnect(ctx, ch); err != nil {
			s.log.Warn("unregistering a removed channel", "channel_id", id, "err", err)
		}
	}
	s.kickLeases()
	return nil
}

// TestResult is what a channel's service answered.
type TestResult struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"` // what answered
	Error  string `json:"error,omitempty"`  // why not
}

// Test calls the channel's service with its credentials.
func (s *Service) Test(ctx context.Context, actor *parley.User, id int64) (*TestResult, error) {
	if err := canManage(ctx, s.store, actor); err != nil {
		return nil, err
	}
	ch, err := s.store.ChannelByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	detail, err := s.adapters[ch.Kind].Test(ctx, ch)
	s.noteError(context.WithoutCancel(ctx), ch, err)
	if err != nil {
		return &TestResult{Error: err.Error()}, nil
	}
	return &TestResult{OK: true, Detail: detail}, nil
}

// HTTPClient is the client adapters use unless given their own: a bounded
// wait for every call, so a service that hangs fails the attempt (and the
// queue retries it) instead of holding the channel.
func HTTPClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }
