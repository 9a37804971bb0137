package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration. Every field can be set by a flag
// or by the PARLEY_* environment variable named next to it; flags win.
type Config struct {
	Addr      string // PARLEY_ADDR
	DataDir   string // PARLEY_DATA
	Database  string // PARLEY_DATABASE: sqlite:<path> or postgres://...
	PublicURL string // PARLEY_PUBLIC_URL
	NATS      string // PARLEY_NATS: empty for the in-process bus
	// NATSSubject prefixes the bus's subjects (PARLEY_NATS_SUBJECT), so
	// several deployments can share one NATS.
	NATSSubject string
	SQLiteSync  string // PARLEY_SQLITE_SYNC: FULL or NORMAL

	S3Endpoint  string // PARLEY_S3_ENDPOINT: host:port; empty keeps files on disk
	S3Bucket    string // PARLEY_S3_BUCKET
	S3AccessKey string // PARLEY_S3_ACCESS_KEY
	S3SecretKey string // PARLEY_S3_SECRET_KEY
	S3Region    string // PARLEY_S3_REGION
	S3SSL       bool   // PARLEY_S3_SSL

	MaxMessageLength int           // PARLEY_MAX_MESSAGE_LENGTH
	MaxFileSize      int64         // PARLEY_MAX_FILE_SIZE (bytes)
	SendRate         float64       // PARLEY_SEND_RATE: messages per second per user
	SendBurst        int           // PARLEY_SEND_BURST
	LoginRate        float64       // PARLEY_LOGIN_RATE: failed sign-ins per minute per account (ten times as many per address)
	EventRetention   time.Duration // PARLEY_EVENT_RETENTION: how long missed events are kept for resuming clients
	VisitorTokenTTL  time.Duration // PARLEY_VISITOR_TOKEN_TTL: how long a widget visitor's token is valid (renewed by each session)
	ShutdownTimeout  time.Duration // PARLEY_SHUTDOWN_TIMEOUT
	DrainDelay       time.Duration // PARLEY_DRAIN_DELAY: how long /readyz fails before shutdown, so the balancer drains the node
	TrustProxy       bool          // PARLEY_TRUST_PROXY: take client addresses from X-Forwarded-For
	LogLevel         string        // PARLEY_LOG_LEVEL: debug, info, warn, error
	LogFormat        string        // PARLEY_LOG_FORMAT: text or json
	// DebugAddr serves Go's profiler (net/http/pprof) on a listener of its
	// own (PARLEY_DEBUG_ADDR); empty: off. Keep it on loopback.
	DebugAddr string
	// SMTPAddr receives e-mail for the e-mail channels set to receive by
	// SMTP (PARLEY_SMTP_ADDR, e.g. :25 behind the domain's MX); empty: off.
	SMTPAddr string
	// SMTPURL is the submission server Parley sends its own mail through
	// (PARLEY_SMTP_URL: invitations, password resets, missed messages),
	// from MailFrom (PARLEY_MAIL_FROM); empty: no such mail.
	SMTPURL  string
	MailFrom string

	// Calls (docs/calls.md): Calls turns them on (PARLEY_CALLS); the
	// STUN/TURN servers handed to clients (PARLEY_STUN_URLS,
	// PARLEY_TURN_URLS, comma-separated) with time-limited credentials
	// signed by TURNSecret (PARLEY_TURN_SECRET) for TURNTTL
	// (PARLEY_TURN_TTL); the built-in TURN server on TURNAddr
	// (PARLEY_TURN_ADDR) relaying on TURNPublicIP (PARLEY_TURN_PUBLIC_IP);
	// the SFU's one UDP port (PARLEY_RTC_UDP_PORT) and public address
	// (PARLEY_RTC_PUBLIC_IP).
	Calls        bool
	STUNURLs     string
	TURNURLs     string
	TURNSecret   string
	TURNTTL      time.Duration
	TURNAddr     string
	TURNPublicIP string
	TURNRealm    string
	RTCUDPPort   int
	RTCPublicIP  string
	// CallsLoopback keeps the SFU's media on 127.0.0.1 (end-to-end tests;
	// not a flag).
	CallsLoopback bool

	// PasswordCost is the argon2id memory in KiB (PARLEY_PASSWORD_MEMORY);
	// lowered only by tests and benchmarks.
	PasswordMemoryKiB int

	// Now is the clock of the messaging and live chat services (nil:
	// time.Now). Not a flag: end-to-end tests set it to script a day of
	// conversations or to expire visitor tokens without waiting.
	Now func() time.Time

	maxFileSize *int // the flag's value, applied by finish
}

// DefaultConfig is what `parley serve` runs with when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr: ":8080", DataDir: "data", SQLiteSync: "FULL", NATSSubject: "parley.events",
		MaxMessageLength: 2000, MaxFileSize: 50 << 20, SendRate: 20, SendBurst: 60, LoginRate: 10,
		EventRetention: 7 * 24 * time.Hour, VisitorTokenTTL: 365 * 24 * time.Hour, ShutdownTimeout: 15 * time.Second, DrainDelay: 5 * time.Second,
		LogLevel: "info", LogFormat: "text",
		Calls: true, TURNTTL: 12 * time.Hour, TURNRealm: "parley",
	}
}

// bind registers the flags of c on fs, with defaults taken from the
// environment.
func (c *Config) bind(fs *flag.FlagSet) {
	str := func(p *string, name, env, usage string) {
		if v := os.Getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" ("+env+")")
	}
	boolean := func(p *bool, name, env, usage string) {
		if v, err := strconv.ParseBool(os.Getenv(env)); err == nil {
			*p = v
		}
		fs.BoolVar(p, name, *p, usage+" ("+env+")")
	}
	integer := func(p *int, name, env, usage string) {
		if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
			*p = v
		}
		fs.IntVar(p, name, *p, usage+" ("+env+")")
	}
	float := func(p *float64, name, env, usage string) {
		if v, err := strconv.ParseFloat(os.Getenv(env), 64); err == nil {
			*p = v
		}
		fs.Float64Var(p, name, *p, usage+" ("+env+")")
	}
	duration := func(p *time.Duration, name, env, usage string) {
		if v, err := time.ParseDuration(os.Getenv(env)); err == nil {
			*p = v
		}
		fs.DurationVar(p, name, *p, usage+" ("+env+")")
	}
	str(&c.Addr, "addr", "PARLEY_ADDR", "address to listen on")
	str(&c.DataDir, "data", "PARLEY_DATA", "data directory (SQLite database, files)")
	str(&c.Database, "database", "PARLEY_DATABASE", "database URL: sqlite:<path> or postgres://... (default sqlite:<data>/parley.db)")
	str(&c.PublicURL, "public-url", "PARLEY_PUBLIC_URL", "URL users reach the server at, e.g. https://chat.example.com")
	str(&c.NATS, "nats", "PARLEY_NATS", "NATS URL for the event bus shared by several nodes (default: in-process)")
	str(&c.NATSSubject, "nats-subject", "PARLEY_NATS_SUBJECT", "subject prefix on NATS, one per deployment")
	str(&c.SQLiteSync, "sqlite-sync", "PARLEY_SQLITE_SYNC", "SQLite synchronous mode: FULL (durable at commit) or NORMAL")
	str(&c.S3Endpoint, "s3-endpoint", "PARLEY_S3_ENDPOINT", "S3-compatible storage host:port for files (default: files on disk)")
	str(&c.S3Bucket, "s3-bucket", "PARLEY_S3_BUCKET", "S3 bucket")
	str(&c.S3AccessKey, "s3-access-key", "PARLEY_S3_ACCESS_KEY", "S3 access key")
	str(&c.S3SecretKey, "s3-secret-key", "PARLEY_S3_SECRET_KEY", "S3 secret key")
	str(&c.S3Region, "s3-region", "PARLEY_S3_REGION", "S3 region")
	boolean(&c.S3SSL, "s3-ssl", "PARLEY_S3_SSL", "use TLS for S3")
	integer(&c.MaxMessageLength, "max-message-length", "PARLEY_MAX_MESSAGE_LENGTH", "characters per message")
	var maxFile = int(c.MaxFileSize)
	integer(&maxFile, "max-file-size", "PARLEY_MAX_FILE_SIZE", "bytes per uploaded file")
	float(&c.SendRate, "send-rate", "PARLEY_SEND_RATE", "messages per second per user")
	integer(&c.SendBurst, "send-burst", "PARLEY_SEND_BURST", "burst of messages per user")
	float(&c.LoginRate, "login-rate", "PARLEY_LOGIN_RATE", "failed sign-ins allowed per account (refilled per minute); ten times as many per client address")
	duration(&c.EventRetention, "event-retention", "PARLEY_EVENT_RETENTION", "how long reconnecting clients can resume")
	duration(&c.VisitorTokenTTL, "visitor-token-ttl", "PARLEY_VISITOR_TOKEN_TTL", "how long a website visitor's token is valid; the widget renews it before then")
	duration(&c.ShutdownTimeout, "shutdown-timeout", "PARLEY_SHUTDOWN_TIMEOUT", "how long in-flight requests may finish on shutdown")
	duration(&c.DrainDelay, "drain-delay", "PARLEY_DRAIN_DELAY", "how long /readyz fails before shutdown begins, for the load balancer to drain the node")
	boolean(&c.TrustProxy, "trust-proxy", "PARLEY_TRUST_PROXY", "take client addresses from X-Forwarded-For")
	str(&c.LogLevel, "log-level", "PARLEY_LOG_LEVEL", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "PARLEY_LOG_FORMAT", "text or json")
	str(&c.DebugAddr, "debug-addr", "PARLEY_DEBUG_ADDR", "address for Go's profiler, /debug/pprof/ (default: off; keep it on loopback)")
	str(&c.SMTPAddr, "smtp-addr", "PARLEY_SMTP_ADDR", "address to receive e-mail for e-mail channels set to SMTP, e.g. :25 (default: off)")
	str(&c.SMTPURL, "smtp-url", "PARLEY_SMTP_URL", "submission server for Parley's own mail (invitations, password resets, missed messages): smtps://user:password@host:465 (default: off)")
	str(&c.MailFrom, "mail-from", "PARLEY_MAIL_FROM", "sender of Parley's own mail, e.g. \"Parley <noreply@example.com>\"")
	boolean(&c.Calls, "calls", "PARLEY_CALLS", "voice and video calls (docs/calls.md)")
	str(&c.STUNURLs, "stun-urls", "PARLEY_STUN_URLS", "STUN servers for calls, comma-separated, e.g. stun:stun.example.org:3478")
	str(&c.TURNURLs, "turn-urls", "PARLEY_TURN_URLS", "TURN servers for calls, comma-separated, e.g. turn:turn.example.org:3478?transport=udp")
	str(&c.TURNSecret, "turn-secret", "PARLEY_TURN_SECRET", "shared secret for time-limited TURN credentials (coturn's static-auth-secret; also the built-in TURN server's)")
	duration(&c.TURNTTL, "turn-ttl", "PARLEY_TURN_TTL", "how long TURN credentials handed to clients stay valid")
	str(&c.TURNAddr, "turn-addr", "PARLEY_TURN_ADDR", "UDP address of the built-in TURN server, e.g. :3478 (default: off)")
	str(&c.TURNPublicIP, "turn-public-ip", "PARLEY_TURN_PUBLIC_IP", "public IP the built-in TURN server relays on")
	str(&c.TURNRealm, "turn-realm", "PARLEY_TURN_REALM", "realm of the built-in TURN server")
	integer(&c.RTCUDPPort, "rtc-udp-port", "PARLEY_RTC_UDP_PORT", "one UDP port for all call media (default 0: an ephemeral port per connection)")
	str(&c.RTCPublicIP, "rtc-public-ip", "PARLEY_RTC_PUBLIC_IP", "public IP of this node for call media, behind 1:1 NAT")
	integer(&c.PasswordMemoryKiB, "password-memory", "PARLEY_PASSWORD_MEMORY", "argon2id memory in KiB (default 19456)")
	c.maxFileSize = &maxFile
}

// finish applies values that depend on others, after flags are parsed.
func (c *Config) finish() error {
	if c.maxFileSize != nil {
		c.MaxFileSize = int64(*c.maxFileSize)
	}
	if c.Database == "" {
		c.Database = "sqlite:" + filepath.Join(c.DataDir, "parley.db")
	}
	if c.MaxMessageLength < 1 || c.MaxMessageLength > 100_000 {
		return fmt.Errorf("max-message-length must be between 1 and 100000")
	}
	if c.MaxFileSize < 1 {
		return fmt.Errorf("max-file-size must be positive")
	}
	switch strings.ToUpper(c.SQLiteSync) {
	case "FULL", "NORMAL":
	default:
		return fmt.Errorf("sqlite-sync must be FULL or NORMAL")
	}
	return nil
}
