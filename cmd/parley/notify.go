package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/parley-chat/parley/notify"
)

// NotifyConfig configures the notifications that reach people with no
// tab open (docs/operations.md, "Notifications").
type NotifyConfig struct {
	// VAPID keys and contact: without keys, a pair is generated once and
	// kept in the database for every node.
	VAPIDPublicKey, VAPIDPrivateKey, VAPIDSubject string
	// InsecureEndpoints are push service hosts reached over plain http
	// and on private addresses: tests' local push service only.
	InsecureEndpoints string
	// PushDelay is how long a message waits unread before it is pushed.
	PushDelay time.Duration

	// Not flags: end-to-end tests shorten the rounds and what a minute
	// of the e-mail setting is.
	Tick, EmailEvery, EmailUnit time.Duration
}

func (c *NotifyConfig) bind(fs *flag.FlagSet) {
	str := func(p *string, name, env, usage string) {
		if v := os.Getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" ("+env+")")
	}
	str(&c.VAPIDPublicKey, "vapid-public-key", "PARLEY_VAPID_PUBLIC_KEY", "Web Push VAPID public key, base64url (default: generated once, kept in the database)")
	str(&c.VAPIDPrivateKey, "vapid-private-key", "PARLEY_VAPID_PRIVATE_KEY", "Web Push VAPID private key, base64url, with --vapid-public-key")
	str(&c.VAPIDSubject, "vapid-subject", "PARLEY_VAPID_SUBJECT", "contact push services see, mailto:admin@example.com or an https URL (default: the public URL)")
	str(&c.InsecureEndpoints, "push-allow-insecure-endpoints", "PARLEY_PUSH_ALLOW_INSECURE_ENDPOINTS", "comma-separated push service hosts allowed over http and on private addresses (tests only)")
	if c.PushDelay == 0 {
		c.PushDelay = 30 * time.Second
	}
	if v, err := time.ParseDuration(os.Getenv("PARLEY_PUSH_DELAY")); err == nil {
		c.PushDelay = v
	}
	fs.DurationVar(&c.PushDelay, "push-delay", c.PushDelay, "how long a message waits unread before it is pushed to a user with no tab open (PARLEY_PUSH_DELAY)")
}

// startNotify starts Web Push and the e-mail digests.
func (m *Main) startNotify(ctx context.Context) error {
	cfg := m.Config
	var hosts []string
	for _, h := range strings.Split(cfg.Notify.InsecureEndpoints, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	n, err := notify.New(ctx, m.store, m.bus, m.presence, notify.Config{Mailer: m.Mailer, PublicURL: cfg.PublicURL,
		VAPIDPublicKey: cfg.Notify.VAPIDPublicKey, VAPIDPrivateKey: cfg.Notify.VAPIDPrivateKey, VAPIDSubject: cfg.Notify.VAPIDSubject,
		InsecureHosts: hosts, PushDelay: cfg.Notify.PushDelay, Tick: cfg.Notify.Tick, EmailEvery: cfg.Notify.EmailEvery,
		EmailUnit: cfg.Notify.EmailUnit, Now: cfg.Now, Log: m.Logger})
	if err != nil {
		return err
	}
	m.Notify = n
	return n.Start()
}
