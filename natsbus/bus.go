// Package natsbus implements parley.Bus over core NATS, so that the parley
// nodes behind a load balancer see each other's events: every node publishes
// the batches it commits on one subject and every node, the publisher
// included, subscribes to it.
//
// Core NATS delivers at most once, and orders each publisher's messages but
// not different publishers' ones. A node that is disconnected from NATS
// misses the batches published meanwhile (its own are buffered and sent on
// reconnect). Parley wraps this bus in internal/ordered, which puts durable
// events back in stream order and reads what the bus lost from the store.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/fanout"
)

// DefaultSubjectPrefix is the subject prefix used unless WithSubjectPrefix
// gives another. Nodes that share events must use the same prefix; clusters
// that share a NATS server must use different ones.
const DefaultSubjectPrefix = "parley.events"

// readyTimeout bounds the round trip Ready makes to the server, so a health
// probe gets an answer well within its own timeout.
const readyTimeout = 2 * time.Second

// maxPooledBuffer is the largest encoding buffer kept for reuse; a rare huge
// batch should not pin its buffer forever.
const maxPooledBuffer = 64 << 10

// Bus is a parley.Bus over one NATS connection. The node holds a single NATS
// subscription and decodes each batch once for all its local subscribers,
// which it calls one after another on that subscription's goroutine: a
// subscriber's function is never called by two goroutines at once, and every
// subscriber on a node sees the batches in the same order.
type Bus struct {
	nc      *nats.Conn
	subject string
	log     *slog.Logger
	// drainWait bounds how long Close waits for the drain to finish.
	drainWait time.Duration

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	// connClosed is closed by the connection's closed callback: the last
	// callback nats.go makes, after the drain has delivered everything.
	connClosed chan struct{}

	subs fanout.List

	bufs sync.Pool // *[]byte for encoding
}

// Option configures New.
type Option func(*config)

type config struct {
	prefix   string
	log      *slog.Logger
	natsOpts []nats.Option
}

// WithSubjectPrefix sets the subject prefix (DefaultSubjectPrefix if not
// given). Batches travel on prefix + ".batch".
func WithSubjectPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithLogger sets the logger for connection events: disconnects, reconnects,
// slow-consumer errors and undecodable batches. The default is slog.Default().
func WithLogger(log *slog.Logger) Option {
	return func(c *config) { c.log = log }
}

// WithNATSOptions passes options to nats.Connect after the bus's own, for
// what a deployment needs and the URL cannot carry: credentials files,
// NKeys, TLS settings, a connection name. They may override the bus's
// reconnect settings and logging callbacks; a closed callback given here is
// still called.
func WithNATSOptions(opts ...nats.Option) Option {
	return func(c *config) { c.natsOpts = append(c.natsOpts, opts...) }
}

// New connects to the NATS server(s) at url (a comma-separated list is
// allowed) and subscribes to the event subject. It fails if no server can be
// reached now, so a wrong address is reported at start; once connected, the
// bus reconnects forever, buffering what is published meanwhile.
func New(url string, opts ...Option) (*Bus, error) {
	cfg := config{prefix: DefaultSubjectPrefix, log: slog.Default()}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := validPrefix(cfg.prefix); err != nil {
		return nil, err
	}
	b := &Bus{
		subject:    cfg.prefix + ".batch",
		log:        cfg.log.With("subject", cfg.prefix+".batch"),
		connClosed: make(chan struct{}),
	}

	o := nats.GetDefaultOptions()
	o.Url = url
	o.Name = "parley"
	// Never give up: a node without the bus would silently stop fanning
	// out, which is worse than failing its readiness check until NATS is
	// back.
	o.MaxReconnect = -1
	o.ReconnectBufSize = nats.DefaultReconnectBufSize
	o.DisconnectedErrCB = func(_ *nats.Conn, err error) {
		if b.closed.Load() {
			return
		}
		b.log.Warn("nats disconnected", "err", err)
	}
	o.ReconnectedCB = func(nc *nats.Conn) {
		b.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
	}
	o.ReconnectErrCB = func(_ *nats.Conn, err error) {
		b.log.Debug("nats reconnect attempt failed", "err", err)
	}
	o.AsyncErrorCB = func(_ *nats.Conn, _ *nats.Subscription, err error) {
		// A slow consumer means batches were dropped: clients on this
		// node missed live events until they resume.
		b.log.Error("nats error", "err", err)
	}
	for _, opt := range cfg.natsOpts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("natsbus: option: %w", err)
		}
	}
	userClosed := o.ClosedCB
	o.ClosedCB = func(nc *nats.Conn) {
		b.log.Info("nats connection closed")
		close(b.connClosed)
		if userClosed != nil {
			userClosed(nc)
		}
	}
	b.drainWait = o.DrainTimeout + 5*time.Second

	// The URL may hold credentials, so errors name neither it nor the
	// server list.
	nc, err := o.Connect()
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	b.nc = nc
	if _, err := nc.Subscribe(b.subject, b.deliver); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: subscribe: %w", err)
	}
	// Flush waits until the server has processed the subscription, so a
	// batch published anywhere after New returns reaches this node.
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: subscribe: %w", err)
	}
	b.log.Info("nats connected", "url", nc.ConnectedUrlRedacted())
	return b, nil
}

// validPrefix rejects prefixes NATS would refuse or treat as wildcards.
func validPrefix(prefix string) error {
	if prefix == "" || strings.ContainsAny(prefix, " \t\r\n") {
		return fmt.Errorf("natsbus: invalid subject prefix %q", prefix)
	}
	for tok := range strings.SplitSeq(prefix, ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return fmt.Errorf("natsbus: invalid subject prefix %q", prefix)
		}
	}
	return nil
}

// Publish sends events to every node as one NATS message and returns once
// it is queued on the connection. While disconnected, batches are buffered
// up to the reconnect buffer (8 MB by default) and sent on reconnect. An
// empty batch is not sent. ctx is not consulted: queueing does not wait on
// the network.
//
// Publish returns EUNAVAILABLE after Close or when disconnected with a full
// buffer, and ETOOLARGE for a batch over the server's maximum payload (1 MB
// by default).
func (b *Bus) Publish(_ context.Context, events []parley.Event) error {
	if b.closed.Load() {
		return errClosed()
	}
	if len(events) == 0 {
		return nil
	}
	bp, _ := b.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := appendBatch((*bp)[:0], events)
	// nats.go copies the payload into its write buffer, so buf can be
	// reused as soon as Publish returns.
	err := b.nc.Publish(b.subject, buf)
	if cap(buf) <= maxPooledBuffer {
		*bp = buf
		b.bufs.Put(bp)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return errClosed()
	case errors.Is(err, nats.ErrReconnectBufExceeded):
		return parley.Errorf(parley.EUNAVAILABLE, "event bus is disconnected and its buffer is full")
	case errors.Is(err, nats.ErrMaxPayload):
		return parley.Errorf(parley.ETOOLARGE, "event batch of %d bytes is over the NATS limit of %d", len(buf), b.nc.MaxPayload())
	}
	return fmt.Errorf("natsbus: publish: %w", err)
}

// deliver is the NATS message handler; nats.go calls it on one goroutine,
// in the order messages arrived.
func (b *Bus) deliver(msg *nats.Msg) {
	if b.subs.Empty() {
		return
	}
	events, err := decodeBatch(msg.Data)
	if err != nil {
		// Most likely a node running an incompatible version.
		b.log.Error("dropping undecodable event batch", "err", err, "bytes", len(msg.Data))
		return
	}
	b.subs.Deliver(events)
}

// Subscribe registers fn for every batch this node receives after it
// returns, from any node. fn runs on the bus's delivery goroutine: it must
// not block, or NATS will drop batches for this node once its pending limit
// fills. All subscribers of a node share the decoded events, which is why fn
// must not modify them. The returned cancel may be called more than once,
// from any goroutine, including from inside fn.
//
// Subscribe returns EUNAVAILABLE after Close.
func (b *Bus) Subscribe(fn func([]parley.Event)) (cancel func(), err error) {
	if b.closed.Load() {
		return nil, errClosed()
	}
	return b.subs.Add(fn)
}

// Ready reports whether the bus can carry events now: it returns nil when
// the connection is up and the server answers a round trip, and EUNAVAILABLE
// otherwise. It is meant for a readiness probe (/readyz).
func (b *Bus) Ready() error {
	if b.closed.Load() {
		return errClosed()
	}
	if st := b.nc.Status(); st != nats.CONNECTED {
		return parley.Errorf(parley.EUNAVAILABLE, "event bus is %s", strings.ToLower(st.String()))
	}
	if err := b.nc.FlushTimeout(readyTimeout); err != nil {
		return parley.Errorf(parley.EUNAVAILABLE, "event bus server did not answer: %v", err)
	}
	return nil
}

// Close drains the connection: batches already published are sent, batches
// already received are delivered, and then the connection closes. Publish and
// Subscribe fail from the moment Close is called, and nothing is delivered
// after it returns. Closing twice is harmless.
//
// Close must not be called from a subscriber's function: it waits for the
// delivery goroutine to finish.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		err := b.nc.Drain()
		switch {
		case errors.Is(err, nats.ErrConnectionReconnecting):
			// nats.go closed the connection at once; what was
			// buffered for the reconnect is lost.
			b.log.Warn("nats closed while disconnected; buffered batches dropped")
		case err != nil && !errors.Is(err, nats.ErrConnectionClosed):
			b.log.Warn("nats drain failed", "err", err)
			b.nc.Close()
		}
		select {
		case <-b.connClosed:
		case <-time.After(b.drainWait):
			b.nc.Close()
			b.closeErr = errors.New("natsbus: drain timed out")
		}

		b.subs.Close()
	})
	return b.closeErr
}

func errClosed() error { return fanout.ErrClosed() }

var _ parley.Bus = (*Bus)(nil)
