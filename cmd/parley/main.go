// Command parley is the Parley server and its tools:
//
//	parley serve                 run the server (SQLite in ./data by default)
//	parley migrate               apply database migrations and exit
//	parley user create ...       create a user (e.g. the first administrator)
//	parley bench ...             load-test a server (see docs/bench.md)
//	parley backup --out FILE     back up a running server (database and files)
//	parley restore --in FILE     restore a backup into an empty database
//
// Configuration comes from flags and PARLEY_* environment variables; see
// `parley serve -h` and the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/calls"
	"github.com/parley-chat/parley/channel"

	"github.com/parley-chat/parley/channel/api"
	"github.com/parley-chat/parley/channel/email"
	"github.com/parley-chat/parley/channel/meta"
	"github.com/parley-chat/parley/channel/sms"
	"github.com/parley-chat/parley/channel/telegram"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/internal/ordered"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/natsbus"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/realtime"
	"github.com/parley-chat/parley/reminders"
	"github.com/parley-chat/parley/retention"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/web"
	"github.com/parley-chat/parley/webhooks"
	_ "time/tzdata" // time zones for history period filters on any machine
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: parley <command> [flags]

commands:
  serve        run the server
  migrate      apply database migrations and exit
  user create  create a user: --email --name --password --role
  bench        load-test a server (parley bench -h)
  backup       write a backup of the database and files: --out FILE
  restore      restore a backup into an empty database: --in FILE
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "migrate":
		cfg, err := parseConfig("migrate", args[1:], stderr)
		if err != nil {
			return err
		}
		s, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "database is up to date")
		return s.Close()
	case "user":
		if len(args) < 2 || args[1] != "create" {
			fmt.Fprint(stderr, usage)
			return flag.ErrHelp
		}
		return createUser(ctx, args[2:], stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], stdout, stderr)
	case "backup":
		return backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func parseConfig(name string, args []string, stderr io.Writer, extra ...func(*flag.FlagSet)) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.bind(fs)
	for _, fn := range extra {
		fn(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, cfg.finish()
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	m := NewMain(cfg)
	m.Logger = newLogger(cfg, stderr)
	if err := m.Run(ctx); err != nil {
		return err
	}
	m.Logger.Info("parley is serving", "url", m.URL(), "database", m.store.Dialect(), "data", cfg.DataDir)
	if n, err := m.Accounts.NeedsSetup(ctx); err == nil && n {
		m.Logger.Info("no users yet: open the web app to create the first administrator (or run `parley user create --role admin ...`, or POST /api/v1/setup)",
			"url", m.URL())
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func createUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in accounts.NewUser
	var role string
	cfg, err := parseConfig("user create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in.Email, "email", "", "e-mail address (sign-in name)")
		fs.StringVar(&in.Name, "name", "", "full name")
		fs.StringVar(&in.Password, "password", "", "password (at least 8 characters)")
		fs.StringVar(&role, "role", "member", "admin, supervisor, agent or member")
	})
	if err != nil {
		return err
	}
	in.Role = parley.Role(role)
	store, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	acc := accounts.New(store, accounts.Options{Argon2: argon2(cfg), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	u, err := acc.CreateUser(ctx, nil, in)
	if err != nil {
		return errors.New(parley.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created %s %s <%s> with id %d\n", u.Role, u.Name, u.Email, u.ID)
	return nil
}

func argon2(cfg Config) accounts.Argon2Params {
	p := accounts.DefaultArgon2
	if cfg.PasswordMemoryKiB > 0 {
		p.MemoryKiB = uint32(cfg.PasswordMemoryKiB)
	}
	return p
}

// Main is the running server: NewMain, then Run; Close shuts it down
// gracefully. End-to-end tests run it on port 0.
type Main struct {
	Config Config
	Logger *slog.Logger

	store     *sqlstore.Store
	bus       parley.Bus
	Accounts  *accounts.Service
	Messaging *messaging.Service
	LiveChat  *livechat.Service
	Channels  *channel.Service
	Webhooks  *webhooks.Service
	Routing   *routing.Service
	Retention *retention.Service
	reminders *reminders.Service
	gateway   *realtime.Gateway
	Calls     *calls.Service    // nil with --calls=false
	turn      *calls.TURNServer // the built-in TURN server (Config.TURNAddr)
	presence  *presence.Tracker
	server    *http.Server
	ln        net.Listener
	debug     *http.Server // the profiler (Config.DebugAddr)
	mail      *smtp.Server // inbound e-mail (Config.SMTPAddr)
	// Mailer sends Parley's own mail (Config.SMTPURL); nil when none is
	// configured.
	Mailer    parley.Mailer
	debugURL  string
	stopPrune context.CancelFunc
	pruned    chan struct{} // closed when prune has returned
	served    chan error
	draining  atomic.Bool // /readyz fails: the node is about to stop
	closeOnce sync.Once
	closeErr  error
}

// NewMain returns a server with the given configuration.
func NewMain(cfg Config) *Main { return &Main{Config: cfg, Logger: slog.Default()} }

// URL is where the server listens, once Run has returned.
func (m *Main) URL() string {
	addr := m.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Run opens the database, bus and file storage, starts the services and
// begins serving. It returns once the server is listening.
func (m *Main) Run(ctx context.Context) (err error) {
	cfg, log := m.Config, m.Logger
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "tmp"), 0o700); err != nil {
		return err
	}
	if cfg.Database == "" {
		// As for `parley serve` (Config.finish): SQLite in the data directory.
		cfg.Database = "sqlite:" + filepath.Join(cfg.DataDir, "parley.db")
	}
	if cfg.NATS != "" {
		if m.bus, err = natsbus.New(cfg.NATS, natsbus.WithLogger(log), natsbus.WithSubjectPrefix(cfg.NATSSubject)); err != nil {
			return fmt.Errorf("nats: %w", err)
		}
	} else {
		m.bus = inmem.NewBus()
	}
	m.store, err = sqlstore.Open(ctx, cfg.Database, sqlstore.Options{Synchronous: strings.ToUpper(cfg.SQLiteSync),
		Publish: m.bus.Publish, Logger: log})
	if err != nil {
		return err
	}
	// Every service hears the stream in order and whole, whichever node
	// committed what (internal/ordered).
	ob, err := ordered.New(m.bus, m.store, ordered.Config{Log: log})
	if err != nil {
		return err
	}
	m.bus = ob
	blobs, err := m.openBlobs()
	if err != nil {
		return err
	}
	if cfg.SMTPURL != "" {
		ml, err := email.NewMailer(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return fmt.Errorf("smtp-url: %w", err)
		}
		m.Mailer = ml
	}
	m.presence = presence.New(m.store, m.bus, log)
	m.Accounts = accounts.New(m.store, accounts.Options{Argon2: argon2(cfg), Logger: log,
		LoginRate: rate.Limit(cfg.LoginRate / 60), LoginBurst: max(1, int(cfg.LoginRate))})
	m.Messaging = messaging.New(m.store, m.bus, blobs, m.presence, messaging.Config{
		MaxMessageLength: cfg.MaxMessageLength, MaxFileSize: cfg.MaxFileSize,
		SendRate: rate.Limit(cfg.SendRate), SendBurst: cfg.SendBurst, Now: cfg.Now, Logger: log})
	m.reminders = reminders.New(m.store, m.presence, log)
	if m.LiveChat, err = livechat.New(ctx, m.store, m.bus, blobs, m.Messaging, m.presence, livechat.Config{TokenTTL: cfg.VisitorTokenTTL, Now: cfg.Now, Logger: log}); err != nil {
		return err
	}
	m.Channels = channel.New(m.store, m.bus, blobs, m.Messaging, m.LiveChat,
		channel.Config{PublicURL: cfg.PublicURL, Now: cfg.Now, Logger: log}, adapters()...)
	if err := m.Channels.Start(ctx); err != nil {
		return err
	}
	m.Webhooks = webhooks.New(m.store, m.bus, m.Accounts, webhooks.Config{Now: cfg.Now, Logger: log})
	if err := m.Webhooks.Start(); err != nil {
		return err
	}
	m.Routing = routing.New(m.store, m.bus, m.LiveChat, m.presence, routing.Config{Now: cfg.Now, Log: log})
	if err := m.Routing.Start(); err != nil {
		return err
	}
	m.Retention = retention.New(m.store, m.bus, m.LiveChat, retention.Config{Now: cfg.Now, Log: log})
	if err := m.Retention.Start(); err != nil {
		return err
	}
	var origins []string
	if cfg.PublicURL != "" {
		origins = append(origins, strings.TrimPrefix(strings.TrimPrefix(cfg.PublicURL, "https://"), "http://"))
	}
	if err := m.startCalls(); err != nil {
		return err
	}
	if m.gateway, err = realtime.New(m.store, m.bus, m.Messaging, m.reminders, m.presence,
		realtime.Config{OriginPatterns: origins, Logger: log, Calls: m.callFrames()}); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_websocket_connections", Help: "Open WebSocket connections."},
			func() float64 { return float64(m.gateway.Connections()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_writes_total", Help: "Writes run by the store (each send is one)."},
			func() float64 { return float64(m.store.Stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_commits_total", Help: "Transactions the store committed; writes/commits is the mean group."},
			func() float64 { return float64(m.store.Stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_restarts_total", Help: "Groups run again without a write that failed after changing something."},
			func() float64 { return float64(m.store.Stats().Restarts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_websocket_frames_total",
			Help: "Frames sent on WebSockets (events, acknowledgements, the gateway's own frames)."},
			func() float64 { return float64(m.gateway.Stats().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_websocket_writes_total",
			Help: "Socket writes on WebSockets; each carries one message of many frames, or a control frame."},
			func() float64 { return float64(m.gateway.Stats().Writes) }))
	// The pools' connections (open, in use, the maximum) show a
	// connection that is never given back: go_sql_*{db_name="read"}.
	for name, db := range m.store.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
	api := &httpapi.Server{Accounts: m.Accounts, Messaging: m.Messaging, LiveChat: m.LiveChat, Channels: m.Channels, Webhooks: m.Webhooks, Routing: m.Routing,
		Reminders: m.reminders, Presence: m.presence, Gateway: m.gateway, Calls: m.Calls, Logger: log, Registry: reg,
		TrustProxy: cfg.TrustProxy, PublicURL: cfg.PublicURL, UploadTempDir: filepath.Join(cfg.DataDir, "tmp"),
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), Ready: m.ready, Web: web.Handler()}
	m.server = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if m.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return err
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.ln) }()
	if cfg.SMTPAddr != "" {
		if err := m.serveMail(cfg.SMTPAddr); err != nil {
			return fmt.Errorf("smtp listener: %w", err)
		}
	}
	if cfg.DebugAddr != "" {
		if err := m.serveDebug(cfg.DebugAddr); err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
	}
	pruneCtx, cancel := context.WithCancel(context.Background())
	m.stopPrune, m.pruned = cancel, make(chan struct{})
	go func() {
		defer close(m.pruned)
		m.prune(pruneCtx)
	}()
	return nil
}

// adapters are the kinds of channel the server connects.
func adapters() []channel.Adapter {
	return []channel.Adapter{telegram.New(nil), meta.WhatsApp(nil), meta.Messenger(nil), meta.Instagram(nil),
		email.New(), sms.New(nil), api.New(nil)}
}

// serveDebug serves Go's profiler on its own listener, apart from the API
// (which has no such routes), for an operator looking at a live server.
func (m *Main) serveDebug(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go m.debug.Serve(ln)
	m.debugURL = "http://" + ln.Addr().String() + "/debug/pprof/"
	m.Logger.Info("profiler listening", "url", m.debugURL)
	return nil
}

func (m *Main) openBlobs() (parley.Blobs, error) {
	cfg := m.Config
	if cfg.S3Endpoint == "" {
		return blob.NewDisk(filepath.Join(cfg.DataDir, "files"))
	}
	return blob.NewS3(blob.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey,
		SecretKey: cfg.S3SecretKey, Region: cfg.S3Region, UseSSL: cfg.S3SSL, CreateBucket: true})
}

func (m *Main) ready(ctx context.Context) error {
	if m.draining.Load() {
		return errors.New("shutting down")
	}
	if err := m.store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if b, ok := m.bus.(interface{ Ready() error }); ok {
		if err := b.Ready(); err != nil {
			return fmt.Errorf("bus: %w", err)
		}
	}
	return nil
}

// prune deletes stream events, and webhook log entries, older than the
// retention every hour, in chunks, each its own write: the writer runs
// sends in between.
func (m *Main) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		for more := true; more && ctx.Err() == nil; {
			_, err := m.store.Write(ctx, func(tx parley.Tx) error {
				before := parley.Now().Add(-m.Config.EventRetention)
				n, err := tx.DeleteEventsBefore(ctx, before)
				if err != nil {
					return err
				}
				// A webhook's log goes with the events it could resend.
				d, err := tx.DeleteWebhookDeliveriesBefore(ctx, before)
				more = n >= 10000 || d >= 10000
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					m.Logger.Warn("pruning events", "err", err)
				}
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close shuts down gracefully: no new requests, in-flight requests finish,
// sockets are told to reconnect, queued messages are committed and
// acknowledged, then storage closes.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	var errs []error
	if m.server != nil && m.Config.DrainDelay > 0 {
		// /readyz fails first: the balancer stops sending new clients
		// here while the node still serves the ones it has.
		m.draining.Store(true)
		m.Logger.Info("draining before shutdown", "delay", m.Config.DrainDelay)
		time.Sleep(m.Config.DrainDelay)
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.mail != nil {
		m.mail.Close()
	}
	if m.stopPrune != nil {
		m.stopPrune()
		<-m.pruned // it writes to the store, which closes below
	}
	if m.gateway != nil {
		m.gateway.Close()
	}
	m.closeCalls()
	if m.Channels != nil {
		m.Channels.Close()
	}
	if m.Webhooks != nil {
		m.Webhooks.Close()
	}
	if m.Routing != nil {
		m.Routing.Close()
	}
	if m.Retention != nil {
		m.Retention.Close()
	}
	if m.Messaging != nil {
		m.Messaging.Close()
	}
	if m.reminders != nil {
		m.reminders.Close()
	}
	if m.presence != nil {
		m.presence.Close() // the other nodes drop this one's devices at once
	}
	// The store commits the writes still queued and publishes their
	// events before the bus closes.
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	if m.bus != nil {
		errs = append(errs, m.bus.Close())
	}
	return errors.Join(errs...)
}
