package loadgen

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/channel/telegram/telegramfake"
)

// The channel mode loads a connected channel (docs/channels.md) as issue
// 10 measures it. A fake Telegram Bot API runs in the bench process; the
// bench connects a Telegram channel to it and then:
//
//   - inbound: customers (Telegram chats) write through the channel's
//     webhook, open-loop at a fixed total rate, and the bench measures how
//     long each message takes to reach the inbox of every manager (a
//     message.created frame on the staff socket), how long the webhook
//     takes to answer (it answers after commit), and that nothing is lost
//     or stored twice, some updates being posted twice as Telegram does
//     when it retries;
//   - outbound: managers answer some of the dialogs while the fake answers
//     every send with 429 for a while, and the bench measures that every
//     reply leaves exactly once, in order per chat, never faster than the
//     channel's rate, how long the backlog takes to drain once the
//     throttling ends, and that every reply's status becomes sent.
//
// docs/bench.md ("Channels") explains the report.

// benchBotToken is the bot token of the bench's fake Telegram.
const benchBotToken = "424242:bench-token"

// chatBase is customer 0's Telegram chat id; customer i's is chatBase+i.
const chatBase int64 = 700_000_000

// ChannelOptions configure the channel mode (RunChannels). Zero values
// take the defaults noted.
type ChannelOptions struct {
	// URL is the server, e.g. http://127.0.0.1:8080 (required). It must
	// reach the bench's fake Telegram on 127.0.0.1: the same machine.
	URL string
	// AdminEmail and AdminPassword sign in an administrator who sets the
	// bench up; empty for a new server (the bench creates the first
	// administrator).
	AdminEmail, AdminPassword string

	Customers int           // Telegram chats writing to the bot (required)
	Rate      float64       // webhook messages per second, in total (Customers: one a second each)
	Duration  time.Duration // how long the customers write (10s)
	// Managers (10) are supervisors (the chat settings right) who are
	// also the project's level-1 specialists, each with the staff socket
	// open: every dialog's messages reach each of them.
	Managers int
	// Redeliver is the share of updates the bench posts a second time, as
	// Telegram does when a webhook call failed or timed out: half right
	// after the first call was answered, half at the same time as it (0:
	// none).
	Redeliver float64
	// Drain is how long to wait after the last webhook call for the
	// messages still due at the managers (5s).
	Drain time.Duration

	// Replies is how many replies the managers send in the outbound phase
	// (0: no outbound phase), spread over Dialogs dialogs (min(100,
	// Customers)).
	Replies int
	Dialogs int
	// Throttle is how long the fake answers every send with 429 once the
	// replies start (0: not at all), with retry_after RetryAfter seconds
	// (1).
	Throttle   time.Duration
	RetryAfter int

	Parallel int       // concurrent set-up requests (16)
	Progress io.Writer // progress lines; nil for none
}

// Validate fills in the defaults and checks the options. An empty URL
// passes, so that a command can check its flags before it starts a
// server; RunChannels requires one.
func (o *ChannelOptions) Validate() error {
	if o.URL != "" {
		if err := (&Options{URL: o.URL}).Validate(); err != nil {
			return err
		}
	}
	if o.AdminEmail != "" && o.AdminPassword == "" {
		return errors.New("loadgen: an admin e-mail needs the admin password")
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.Managers, 10)
	def(&o.Parallel, 16)
	def(&o.RetryAfter, 1)
	def(&o.Dialogs, min(100, o.Customers))
	if o.Rate == 0 {
		o.Rate = float64(o.Customers)
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Drain == 0 {
		o.Drain = 5 * time.Second
	}
	planned := o.Rate * o.Duration.Seconds()
	switch {
	case o.Customers < 1 || o.Customers > 100_000:
		return errors.New("loadgen: the channel mode needs between 1 and 100,000 customers")
	case o.Managers < 1 || o.Managers > 1000:
		return errors.New("loadgen: between 1 and 1000 managers")
	case o.Rate <= 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return errors.New("loadgen: the rate must be positive")
	case o.Duration < 0 || o.Drain < 0 || o.Throttle < 0:
		return errors.New("loadgen: durations must be positive")
	case planned < 1:
		return errors.New("loadgen: at this rate and duration no message is sent")
	case planned > 50e6:
		return errors.New("loadgen: more than 50 million messages in one run; lower --rate or --duration")
	case o.Redeliver < 0 || o.Redeliver > 0.5 || math.IsNaN(o.Redeliver):
		return errors.New("loadgen: the share of updates delivered twice is between 0 and 0.5")
	case o.Replies < 0 || o.Replies > 1_000_000:
		return errors.New("loadgen: between 0 and 1,000,000 replies")
	case o.Dialogs < 1 || o.Dialogs > o.Customers:
		return fmt.Errorf("loadgen: the replies go to between 1 and %d dialogs (one per customer)", o.Customers)
	case o.Throttle > time.Hour:
		return errors.New("loadgen: the fake throttles for at most an hour")
	case o.RetryAfter < 1 || o.RetryAfter > 300:
		return errors.New("loadgen: retry_after is between 1 and 300 seconds")
	}
	return nil
}

// FilesNeeded is about how many open files a run needs: the managers'
// sockets, a connection per customer at worst, and room for the rest.
func (o *ChannelOptions) FilesNeeded() uint64 {
	return uint64(o.Customers + o.Managers + 8*o.Parallel + 256)
}

// How an update is posted again (ChannelOptions.Redeliver).
const (
	redeliverNone uint8 = iota
	redeliverAfter
	redeliverConcurrent
)

// chSend is one message of a customer.
type chSend struct {
	record          // got counts the managers whose socket received it
	redeliver uint8 // set before the run
}

// chCustomer is one Telegram chat writing to the bot.
type chCustomer struct {
	idx   int
	sends []chSend // message k has message_id k+1
	conv  atomic.Int64
	// Owned by the sender.
	lag, post, postSteady []int64
}

// chManager is one manager with the inbox open.
type chManager struct {
	idx   int
	id    int64
	token string
	ws    *websocket.Conn
	// Owned by the socket's reader.
	seen                 [][]uint8 // per customer, per message: message.created frames received
	lastSeq              map[int64]int64
	lat, steady, opening []int64
}

// chReply is one reply of the outbound phase.
type chReply struct {
	id     int64 // the message's id; 0 if the server did not take it
	dialog int   // index in the chosen dialogs
	n      int   // its place among the dialog's replies
	mgr    *chManager
}

// crunner holds the state of one channel-mode run.
type crunner struct {
	opt   ChannelOptions
	api   *api
	hook  *http.Client // webhook calls
	base  string
	wsHC  *http.Client
	epoch time.Time
	runID string
	pass  string

	fake      *telegramfake.Server
	channelID int64
	hookURL   string
	secret    string
	cust      []*chCustomer
	mgrs      []*chManager

	readers sync.WaitGroup
	sockets // every socket, to close at the end
	cutoff  int64
	st      stats

	managerGot                                 atomic.Int64 // first receipts of a message at a manager
	dupMessages, dupFrames                     atomic.Int64
	redelivered, redeliveredOK, redeliveredCon atomic.Int64
}

// ChannelReport is the outcome of a channel-mode run; docs/bench.md
// explains each field.
type ChannelReport struct {
	Target    string  `json:"target"`
	Customers int     `json:"customers"`
	Managers  int     `json:"managers"`
	Rate      float64 `json:"rate"`
	DurationS float64 `json:"duration_s"`
	SetupS    float64 `json:"setup_s"`
	ElapsedS  float64 `json:"elapsed_s"` // first webhook call to the end of the drain
	// ChannelError is the channel's last_error after it was connected
	// (without a public URL: that Telegram's webhook could not be set).
	ChannelError string `json:"channel_error,omitempty"`

	// Inbound: webhook calls.
	MessagesPlanned       int64   `json:"messages_planned"`
	WebhookPosted         int64   `json:"webhook_posted"`   // first calls, one per message
	WebhookAccepted       int64   `json:"webhook_accepted"` // answered 200 (stored) before the end of the drain
	WebhookFailed         int64   `json:"webhook_failed"`
	WebhookPerSec         float64 `json:"webhook_per_sec"` // accepted per second, first call to last answer
	Redelivered           int64   `json:"redelivered"`     // calls repeated with the same update
	RedeliveredConcurrent int64   `json:"redelivered_concurrent"`
	RedeliveredAccepted   int64   `json:"redelivered_accepted"`
	WebhookP50Ms          float64 `json:"webhook_p50_ms"`
	WebhookP95Ms          float64 `json:"webhook_p95_ms"`
	WebhookP99Ms          float64 `json:"webhook_p99_ms"`
	WebhookMaxMs          float64 `json:"webhook_max_ms"`
	WebhookSteadyP99Ms    float64 `json:"webhook_steady_p99_ms"` // each customer's second message on
	SendLagP99Ms          float64 `json:"send_lag_p99_ms"`

	// Inbound: the managers' inboxes, from just before the webhook call to
	// the message.created frame at each manager.
	ManagerDeliveries  int64   `json:"manager_deliveries"` // (message, manager) pairs that arrived
	ManagerMissing     int64   `json:"manager_missing"`    // accepted (message, manager) pairs that never did
	DeliveryP50Ms      float64 `json:"delivery_p50_ms"`
	DeliveryP95Ms      float64 `json:"delivery_p95_ms"`
	DeliveryP99Ms      float64 `json:"delivery_p99_ms"`
	DeliveryMaxMs      float64 `json:"delivery_max_ms"`
	DeliveryWorstP99Ms float64 `json:"delivery_worst_manager_p99_ms"`
	// Steady state: each customer's second message on (the first opens
	// the customer's contact and dialog).
	SteadyP50Ms  float64 `json:"steady_p50_ms"`
	SteadyP95Ms  float64 `json:"steady_p95_ms"`
	SteadyP99Ms  float64 `json:"steady_p99_ms"`
	SteadyMaxMs  float64 `json:"steady_max_ms"`
	OpeningP50Ms float64 `json:"opening_p50_ms"`
	OpeningP99Ms float64 `json:"opening_p99_ms"`
	OpeningMaxMs float64 `json:"opening_max_ms"`

	Lost       int64 `json:"lost"`       // accepted messages missing at some manager after the drain (+ out_missing)
	Duplicates int64 `json:"duplicates"` // the same customer message in a manager's inbox twice (stored twice)
	// DuplicateFrames are message.created frames received twice (the same
	// conversation and seq).
	DuplicateFrames  int64 `json:"duplicate_frames"`
	StoredChecked    int64 `json:"stored_checked"`    // customer messages counted in the histories of the dialogs with redeliveries
	StoredDuplicates int64 `json:"stored_duplicates"` // of them, stored more than once
	StoredMissing    int64 `json:"stored_missing"`    // accepted, yet not in the history

	MetricsAvailable bool    `json:"metrics_available"`
	ServerRSSBytes   int64   `json:"server_rss_bytes"`
	ServerCPUCores   float64 `json:"server_cpu_cores"` // during the inbound phase
	BenchCPUCores    float64 `json:"bench_cpu_cores"`
	// MachineCPUCores is every process's CPU over the same time (Linux,
	// /proc/stat): beyond the server's and the bench's, it is what other
	// work on the machine took from them.
	MachineCPUCores float64 `json:"machine_cpu_cores,omitempty"`
	CommitsPerSec   float64 `json:"commits_per_sec,omitempty"`
	WritesPerCommit float64 `json:"writes_per_commit,omitempty"`

	// Outbound: replies through the throttled channel.
	OutDialogs       int     `json:"out_dialogs"`
	OutReplies       int     `json:"out_replies"`
	OutAccepted      int     `json:"out_accepted"` // replies the API stored (201, status queued)
	OutPostS         float64 `json:"out_post_s"`   // sending them through the API
	OutThrottleS     float64 `json:"out_throttle_s"`
	OutRetryAfterS   int     `json:"out_retry_after_s"`
	Out429s          int     `json:"out_429s"`       // sends the fake answered with 429
	OutReceived      int     `json:"out_received"`   // distinct replies the fake took
	OutMissing       int     `json:"out_missing"`    // accepted replies it never took
	OutDuplicates    int     `json:"out_duplicates"` // replies it took more than once
	OutOutOfOrder    int     `json:"out_out_of_order"`
	OutMisdelivered  int     `json:"out_misdelivered"`     // a reply sent to another chat
	OutUnexpected    int     `json:"out_unexpected"`       // sends that were no bench reply
	OutRateLimit     float64 `json:"out_rate_limit"`       // the channel kind's rate (GET /channel-kinds)
	OutMaxPerSec     int     `json:"out_max_per_sec"`      // most sends in any 1 s window
	OutMaxChatPerSec int     `json:"out_max_chat_per_sec"` // most sends to one chat in any 1 s window
	// OutPerSecond counts the replies taken in each second from the end
	// of the throttling (the first also holds any taken before it).
	OutPerSecond     []int   `json:"out_per_second,omitempty"`
	OutAvgPerSec     float64 `json:"out_avg_per_sec"` // over the drain: first to last send after the throttling
	OutFirstMs       float64 `json:"out_first_ms"`    // end of the throttling to the first reply taken
	OutDrainS        float64 `json:"out_drain_s"`     // end of the throttling (or of posting) to the last reply taken
	OutIdealDrainS   float64 `json:"out_ideal_drain_s"`
	OutStatusSent    int     `json:"out_status_sent"`
	OutStatusNotSent int     `json:"out_status_not_sent"`

	Errors     int64            `json:"errors"`
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`

	Server string `json:"server,omitempty"`
}

// RunChannels runs the channel mode against the server at opt.URL.
func RunChannels(ctx context.Context, opt ChannelOptions) (*ChannelReport, error) {
	if opt.URL == "" {
		return nil, errors.New("loadgen: the server URL is required")
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := RaiseFileLimit(opt.FilesNeeded()); err != nil {
		return nil, err
	}
	secret := make([]byte, 12)
	crand.Read(secret)
	base := strings.TrimRight(opt.URL, "/")
	hc := &http.Client{Transport: newTransport(opt.Parallel * 4), Timeout: time.Minute}
	hook := &http.Client{Transport: newTransport(min(opt.Customers, 1024)), Timeout: time.Minute}
	wsTr, _ := wsTransport(opt.URL, opt.Managers)
	r := &crunner{
		opt:   opt,
		api:   &api{base: base, hc: hc},
		hook:  hook,
		base:  base,
		wsHC:  &http.Client{Transport: wsTr},
		epoch: time.Now(),
		runID: hex.EncodeToString(secret[:4]),
		pass:  "bench-" + hex.EncodeToString(secret[4:]),
		fake:  telegramfake.New(benchBotToken),
	}
	defer r.fake.Close()
	defer hc.CloseIdleConnections()
	defer hook.CloseIdleConnections()
	stop := context.AfterFunc(ctx, r.closeSockets)
	defer stop()
	defer func() {
		r.closeSockets()
		r.readers.Wait()
	}()
	return r.run(ctx)
}

func (r *crunner) progress(format string, args ...any) {
	if r.opt.Progress != nil {
		fmt.Fprintf(r.opt.Progress, "bench: "+format+"\n", args...)
	}
}

func (r *crunner) run(ctx context.Context) (*ChannelReport, error) {
	o := r.opt
	rep := &ChannelReport{Target: o.URL, Customers: o.Customers, Managers: o.Managers, Rate: o.Rate,
		DurationS: o.Duration.Seconds()}
	t0 := time.Now()
	r.progress("creating a project, %d managers and a Telegram channel (fake Bot API at %s)", o.Managers, r.fake.URL())
	admin, err := r.setUp(ctx, rep)
	if err != nil {
		return nil, err
	}
	rep.SetupS = round(time.Since(t0).Seconds(), 2)
	if err := r.inbound(ctx, rep); err != nil {
		return nil, err
	}
	if err := r.checkStored(ctx, admin, rep); err != nil {
		return nil, err
	}
	if o.Replies > 0 {
		if err := r.outbound(ctx, rep); err != nil {
			return nil, err
		}
	}
	// Leave no channel calling a fake that is about to stop (a server
	// given with --url keeps running).
	if err := r.api.call(ctx, "DELETE", fmt.Sprintf("/api/v1/channels/%d", r.channelID), admin, nil, nil); err != nil {
		r.progress("removing the bench's channel: %v", err)
	}
	r.closeSockets()
	r.readers.Wait()
	r.finish(rep)
	return rep, nil
}

// setUp creates the project, the managers (supervisors, level-1
// specialists of the project, sockets open) and the channel. It returns
// the administrator's token.
func (r *crunner) setUp(ctx context.Context, rep *ChannelReport) (string, error) {
	o := r.opt
	admin, err := r.api.admin(ctx, Options{AdminEmail: o.AdminEmail, AdminPassword: o.AdminPassword}, r.runID, r.pass)
	if err != nil {
		return "", err
	}
	var project struct {
		ID int64 `json:"id"`
	}
	if err := r.api.call(ctx, "POST", "/api/v1/projects", admin, map[string]any{
		"name": "Bench channels " + r.runID, "chat_enabled": true}, &project); err != nil {
		return "", fmt.Errorf("creating the project: %w", err)
	}
	r.mgrs = make([]*chManager, o.Managers)
	if err := forEach(ctx, o.Managers, o.Parallel, func(ctx context.Context, i int) error {
		m := &chManager{idx: i, lastSeq: map[int64]int64{}}
		var err error
		m.id, m.token, err = r.api.createUser(ctx, admin, fmt.Sprintf("bench-%s-manager-%d@example.com", r.runID, i),
			fmt.Sprintf("Manager %d", i), r.pass, "supervisor")
		if err != nil {
			return err
		}
		r.mgrs[i] = m
		// Specialists of the project, so that it has someone online to
		// answer: otherwise every message would be filed as an offline
		// case.
		return r.api.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/specialists", project.ID), admin,
			map[string]any{"user_id": m.id, "level": 1}, nil)
	}); err != nil {
		return "", fmt.Errorf("creating managers: %w", err)
	}

	var ch struct {
		ID         int64             `json:"id"`
		LastError  string            `json:"last_error"`
		NewSecrets map[string]string `json:"new_secrets"`
	}
	if err := r.api.call(ctx, "POST", "/api/v1/channels", admin, map[string]any{"project_id": project.ID, "kind": "telegram",
		"name": "Bench bot " + r.runID, "settings": map[string]string{"mode": "webhook", "base_url": r.fake.URL()},
		"secrets": map[string]string{"token": benchBotToken}}, &ch); err != nil {
		return "", fmt.Errorf("connecting the Telegram channel: %w", err)
	}
	r.channelID, r.secret, rep.ChannelError = ch.ID, ch.NewSecrets["webhook_secret"], ch.LastError
	if r.secret == "" {
		return "", errors.New("connecting the Telegram channel: no webhook_secret in new_secrets")
	}
	r.hookURL = fmt.Sprintf("%s/api/v1/channels/%d/webhook", r.base, ch.ID)
	if ch.LastError != "" {
		r.progress("the channel says %q; the bench calls its webhook itself", ch.LastError)
	}

	planned := int(o.Rate*o.Duration.Seconds() + 0.5)
	rng := rand.New(rand.NewPCG(uint64(o.Customers), uint64(planned)))
	r.cust = make([]*chCustomer, o.Customers)
	var twice int
	for i := range r.cust {
		c := &chCustomer{idx: i}
		c.sends = make([]chSend, (planned-i+o.Customers-1)/o.Customers) // message j is customer j%Customers's
		r.cust[i] = c
	}
	for j := range planned {
		if o.Redeliver > 0 && rng.Float64() < o.Redeliver {
			s := &r.cust[j%o.Customers].sends[j/o.Customers]
			s.redeliver = redeliverAfter + uint8(twice%2)
			twice++
		}
	}

	r.progress("connecting %d managers", o.Managers)
	for _, m := range r.mgrs {
		m.seen = make([][]uint8, len(r.cust))
		for i, c := range r.cust {
			m.seen[i] = make([]uint8, len(c.sends))
		}
		ws, err := r.open(ctx, r.base+"/api/v1/ws?client=bench&version=1", http.Header{"Authorization": {"Bearer " + m.token}})
		if err != nil {
			return "", fmt.Errorf("connecting a manager: %w", err)
		}
		m.ws = ws
		r.readers.Add(1)
		go r.readManager(m)
	}
	return admin, nil
}

// open dials a socket and reads its hello.
func (r *crunner) open(ctx context.Context, url string, h http.Header) (*websocket.Conn, error) {
	return r.sockets.open(ctx, r.wsHC, url, h)
}

func (r *crunner) closeSockets() { r.sockets.closeAll() }

// readManager reads a manager's staff socket: the customers' messages as
// they reach the inbox.
func (r *crunner) readManager(m *chManager) {
	defer r.readers.Done()
	readFrames(m.ws, r.epoch, &r.ending, &r.st, func(f *frame, now int64) {
		if string(f.typ) == `"message.created"` {
			r.created(m, f, now)
		}
	})
}

// created handles a message.created frame at manager m.
func (r *crunner) created(m *chManager, f *frame, now int64) {
	_, cid, err := messageFields(f.data)
	if err != nil {
		r.st.fail("bad_frame", 1)
		return
	}
	if f.seq <= m.lastSeq[f.conv] {
		r.dupFrames.Add(1)
		r.st.fail("duplicate_delivery", 1)
		return
	}
	m.lastSeq[f.conv] = f.seq
	i, k, ok := r.token(cid)
	if !ok {
		return // a reply, a system line
	}
	c := r.cust[i]
	c.conv.CompareAndSwap(0, f.conv)
	s := &m.seen[i][k]
	if *s > 0 {
		r.dupMessages.Add(1)
		r.st.fail("duplicate_message", 1)
		if *s < math.MaxUint8 {
			*s++
		}
		return
	}
	*s = 1
	rec := &c.sends[k].record
	rec.got.Add(1)
	if t := rec.sentAt.Load(); t > 0 {
		m.lat = append(m.lat, now-t)
		if k > 0 {
			m.steady = append(m.steady, now-t)
		} else {
			m.opening = append(m.opening, now-t)
		}
	}
	r.managerGot.Add(1)
}

// token reads the customer and message of a channel message's client id,
// "ch:<chat id>:<message id>" (channel.ClientID of Telegram's id).
func (r *crunner) token(cid []byte) (i, k int, ok bool) {
	rest, found := bytes.CutPrefix(cid, []byte("ch:"))
	if !found {
		return 0, 0, false
	}
	colon := bytes.IndexByte(rest, ':')
	if colon < 0 {
		return 0, 0, false
	}
	chat, ok1 := parseInt(rest[:colon])
	mid, ok2 := parseInt(rest[colon+1:])
	i, k = int(chat-chatBase), int(mid-1)
	if !ok1 || !ok2 || chat < chatBase || i >= len(r.cust) || k < 0 || k >= len(r.cust[i].sends) {
		return 0, 0, false
	}
	return i, k, true
}

// update is the body of Telegram's webhook call for customer c's message
// k, update j+1 of the run.
func update(c *chCustomer, k, j int) []byte {
	b := make([]byte, 0, 320)
	chat := strconv.AppendInt(nil, chatBase+int64(c.idx), 10)
	name := "Customer " + strconv.Itoa(c.idx)
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, int64(j)+1, 10)
	b = append(b, `,"message":{"message_id":`...)
	b = strconv.AppendInt(b, int64(k)+1, 10)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, time.Now().Unix(), 10)
	b = append(b, `,"chat":{"id":`...)
	b = append(b, chat...)
	b = append(b, `,"type":"private","first_name":"`...)
	b = append(b, name...)
	b = append(b, `"},"from":{"id":`...)
	b = append(b, chat...)
	b = append(b, `,"is_bot":false,"first_name":"`...)
	b = append(b, name...)
	b = append(b, `"},"text":"bench channel message `...)
	b = strconv.AppendInt(b, int64(c.idx), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(k), 10)
	b = append(b, `"}}`...)
	return b
}

// post makes one webhook call and returns the error code of a failure
// ("" for 200).
func (r *crunner) post(body []byte) string {
	req, err := http.NewRequest(http.MethodPost, r.hookURL, bytes.NewReader(body))
	if err != nil {
		return "http"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", r.secret)
	resp, err := r.hook.Do(req)
	if err != nil {
		return "http"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "webhook_" + strconv.Itoa(resp.StatusCode)
	}
	return ""
}

// repost delivers an update again, as Telegram does after a failed call.
func (r *crunner) repost(body []byte, concurrent bool) {
	r.redelivered.Add(1)
	if concurrent {
		r.redeliveredCon.Add(1)
	}
	if code := r.post(body); code != "" {
		r.st.fail("redelivery_"+code, 1)
		return
	}
	r.redeliveredOK.Add(1)
}

// send makes customer c write on schedule: message k at (idx +
// k·Customers)/Rate seconds after start. A customer's calls follow one
// another, as Telegram sends one chat's updates in order.
func (r *crunner) send(c *chCustomer, start time.Time, stop <-chan struct{}) {
	n := len(r.cust)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := range c.sends {
		j := c.idx + k*n
		due := start.Add(time.Duration(float64(j) / r.opt.Rate * 1e9))
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-stop:
				return
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		c.lag = append(c.lag, time.Since(due).Nanoseconds())
		s := &c.sends[k]
		body := update(c, k, j)
		sent := time.Since(r.epoch).Nanoseconds()
		s.sentAt.Store(sent)
		r.st.sent.Add(1)
		var again chan struct{}
		if s.redeliver == redeliverConcurrent {
			again = make(chan struct{})
			go func() {
				defer close(again)
				r.repost(body, true)
			}()
		}
		code := r.post(body)
		now := time.Since(r.epoch).Nanoseconds()
		if code != "" {
			s.state.Store(failed)
			r.st.failed.Add(1)
			r.st.fail(code, 1)
		} else {
			s.ackAt.Store(now)
			s.state.Store(acked)
			r.st.acked.Add(1)
			storeMax(&r.st.lastAck, now)
			c.post = append(c.post, now-sent)
			if k > 0 {
				c.postSteady = append(c.postSteady, now-sent)
			}
		}
		if s.redeliver == redeliverAfter {
			r.repost(body, false)
		}
		if again != nil {
			<-again
		}
	}
}

// inbound runs the customers' schedules and waits for their messages to
// reach every manager.
func (r *crunner) inbound(ctx context.Context, rep *ChannelReport) error {
	o := r.opt
	rep.MessagesPlanned = int64(o.Rate*o.Duration.Seconds() + 0.5)
	r.progress("%d customers write %g messages/s through the webhook for %s; %d managers have the inbox open",
		o.Customers, o.Rate, o.Duration, o.Managers)
	m0, merr := r.api.metrics(ctx)
	cpu0 := cpuTime()
	busy0, busyOK := machineBusy()
	mgrs := int64(len(r.mgrs))
	drained := func() bool {
		s := &r.st
		acked := s.acked.Load()
		return acked+s.failed.Load() >= s.sent.Load() && r.managerGot.Load() >= acked*mgrs
	}
	var lastAcked int64
	var lastTick time.Time
	start, end, err := sendAndDrain(ctx, len(r.cust), o.Duration+5*time.Second, o.Drain,
		func(i int, start time.Time, stop <-chan struct{}) { r.send(r.cust[i], start, stop) },
		drained,
		func(start, now time.Time) {
			if lastTick.IsZero() {
				lastTick = start
			}
			a := r.st.acked.Load()
			r.progress("%5.1fs  posted %d  stored %d (%.0f/s)  in managers' inboxes %d of %d", now.Sub(start).Seconds(),
				r.st.sent.Load(), a, float64(a-lastAcked)/now.Sub(lastTick).Seconds(), r.managerGot.Load(), a*mgrs)
			lastAcked, lastTick = a, now
		})
	if err != nil {
		return err
	}
	r.cutoff = end.Sub(r.epoch).Nanoseconds()
	// A webhook's answer and its message's frames leave the server about
	// together: those answered just before the cutoff get a moment more.
	for deadline := time.Now().Add(2 * time.Second); r.missing() > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := end.Sub(start).Seconds()
	rep.ElapsedS = round(elapsed, 2)
	rep.BenchCPUCores = round((cpuTime()-cpu0).Seconds()/elapsed, 2)
	if busy1, ok := machineBusy(); ok && busyOK {
		rep.MachineCPUCores = round((busy1-busy0).Seconds()/elapsed, 2)
	}
	if merr == nil {
		if m1, err := r.api.metrics(ctx); err == nil {
			rep.MetricsAvailable = true
			rep.ServerCPUCores = round((m1.CPU-m0.CPU)/elapsed, 2)
			rep.ServerRSSBytes = int64(m1.RSS)
			if commits := m1.Commits - m0.Commits; commits > 0 {
				rep.CommitsPerSec = round(commits/elapsed, 1)
				rep.WritesPerCommit = round((m1.StoreWrites-m0.StoreWrites)/commits, 2)
			}
		}
	}
	if t := r.st.lastAck.Load() - start.Sub(r.epoch).Nanoseconds(); t > 0 {
		rep.WebhookPerSec = round(float64(r.st.acked.Load())/(float64(t)/1e9), 1)
	}
	// Lost is decided now: the outbound phase that follows brings no
	// customer messages.
	for _, c := range r.cust {
		for k := range c.sends {
			s := &c.sends[k]
			if s.state.Load() != acked || s.ackAt.Load() > r.cutoff {
				continue
			}
			rep.WebhookAccepted++
			if got := s.got.Load(); got < int32(mgrs) {
				rep.Lost++
				rep.ManagerMissing += mgrs - int64(got)
			}
		}
	}
	rep.WebhookPosted, rep.WebhookFailed = r.st.sent.Load(), r.st.failed.Load()
	unanswered := rep.WebhookPosted - rep.WebhookFailed - r.st.acked.Load()
	if late := r.st.acked.Load() - rep.WebhookAccepted; late+unanswered > 0 {
		r.st.fail("unanswered", late+unanswered) // answered after the drain, or never
	}
	rep.Redelivered, rep.RedeliveredConcurrent, rep.RedeliveredAccepted = r.redelivered.Load(), r.redeliveredCon.Load(), r.redeliveredOK.Load()
	return nil
}

// machineBusy returns the CPU time every process of the machine has used
// since boot (Linux's /proc/stat, in its usual 100 ticks a second).
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue // idle, iowait
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, true
}

// missing counts the (message, manager) receipts still due for messages
// accepted before the cutoff.
func (r *crunner) missing() int64 {
	var n int64
	want := int32(len(r.mgrs))
	for _, c := range r.cust {
		for k := range c.sends {
			s := &c.sends[k]
			if s.state.Load() == acked && s.ackAt.Load() <= r.cutoff && s.got.Load() < want {
				n += int64(want - s.got.Load())
			}
		}
	}
	return n
}

// checkStored counts, in the history of every dialog that had an update
// delivered twice, how often each customer message was stored: exactly
// once, whatever the managers' sockets showed.
func (r *crunner) checkStored(ctx context.Context, admin string, rep *ChannelReport) error {
	var convs []*chCustomer
	for _, c := range r.cust {
		if c.conv.Load() == 0 {
			continue
		}
		for k := range c.sends {
			if c.sends[k].redeliver != redeliverNone {
				convs = append(convs, c)
				break
			}
		}
	}
	var checked, dups, missing atomic.Int64
	err := forEach(ctx, len(convs), r.opt.Parallel, func(ctx context.Context, i int) error {
		c := convs[i]
		counts := make([]int, len(c.sends))
		before := int64(0)
		for {
			var page struct {
				Messages []struct {
					Seq      int64  `json:"seq"`
					ClientID string `json:"client_id"`
				} `json:"messages"`
			}
			path := fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", c.conv.Load())
			if before > 0 {
				path += "&before=" + strconv.FormatInt(before, 10)
			}
			if err := r.api.call(ctx, "GET", path, admin, nil, &page); err != nil {
				return fmt.Errorf("reading a dialog's history: %w", err)
			}
			for _, m := range page.Messages {
				if ci, k, ok := r.token([]byte(m.ClientID)); ok && ci == c.idx {
					counts[k]++
				}
			}
			if len(page.Messages) < 200 {
				break
			}
			before = page.Messages[0].Seq
		}
		for k, n := range counts {
			switch st := c.sends[k].state.Load(); {
			case n > 1:
				dups.Add(1)
			case n == 0 && st == acked:
				missing.Add(1)
			}
			if n > 0 || c.sends[k].state.Load() == acked {
				checked.Add(1)
			}
		}
		return nil
	})
	rep.StoredChecked, rep.StoredDuplicates, rep.StoredMissing = checked.Load(), dups.Load(), missing.Load()
	if n := rep.StoredDuplicates; n > 0 {
		r.st.fail("stored_twice", n)
	}
	return err
}

// outbound answers Dialogs dialogs with Replies replies while the fake
// throttles the bot, and follows them out.
func (r *crunner) outbound(ctx context.Context, rep *ChannelReport) error {
	o := r.opt
	var dialogs []int64 // conversation ids
	var chats []int64
	for _, c := range r.cust {
		if conv := c.conv.Load(); conv != 0 && len(dialogs) < min(o.Dialogs, o.Replies) {
			dialogs, chats = append(dialogs, conv), append(chats, chatBase+int64(c.idx))
		}
	}
	if len(dialogs) == 0 {
		return errors.New("loadgen: no dialog reached the managers, so there is none to answer")
	}
	D := len(dialogs)
	rep.OutDialogs, rep.OutReplies, rep.OutThrottleS, rep.OutRetryAfterS = D, o.Replies, o.Throttle.Seconds(), o.RetryAfter

	var kinds struct {
		Kinds []struct {
			Kind string  `json:"kind"`
			Rate float64 `json:"rate"`
		} `json:"kinds"`
	}
	if err := r.api.call(ctx, "GET", "/api/v1/channel-kinds", r.mgrs[0].token, nil, &kinds); err != nil {
		return fmt.Errorf("reading the channel kinds: %w", err)
	}
	for _, k := range kinds.Kinds {
		if k.Kind == "telegram" {
			rep.OutRateLimit = k.Rate
		}
	}

	r.progress("outbound: %d managers connect to %d dialogs", len(r.mgrs), D)
	if err := forEach(ctx, D, o.Parallel, func(ctx context.Context, d int) error {
		return r.api.call(ctx, "POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", dialogs[d]), r.mgrs[d%len(r.mgrs)].token, nil, nil)
	}); err != nil {
		return fmt.Errorf("connecting managers to dialogs: %w", err)
	}

	sentBefore := len(r.fake.Sent())
	throttled0 := r.fake.Throttled()
	t0 := time.Now()
	if o.Throttle > 0 {
		r.fake.Throttle(o.Throttle, o.RetryAfter)
	}
	throttleEnd := t0.Add(o.Throttle)
	r.progress("outbound: the fake answers 429 (retry_after %d) for %s; %d replies over %d dialogs", o.RetryAfter, o.Throttle, o.Replies, D)
	// Reply q is dialog q mod D's reply q/D; one dialog's replies are
	// sent one after another, so that their order is the order stored.
	replies := make([]chReply, o.Replies)
	var accepted atomic.Int64
	forEach(ctx, D, o.Parallel, func(ctx context.Context, d int) error {
		m := r.mgrs[d%len(r.mgrs)]
		for q := d; q < o.Replies; q += D {
			n := q / D
			id := strconv.Itoa(d) + "." + strconv.Itoa(n)
			var out struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			}
			replies[q] = chReply{dialog: d, n: n, mgr: m}
			if err := r.api.call(ctx, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", dialogs[d]), m.token,
				map[string]string{"client_id": "r" + id, "text": "bench reply " + id}, &out); err != nil {
				code := "http"
				if e, ok := err.(*apiError); ok {
					code = e.Code
				}
				r.st.fail("reply_"+code, 1)
				continue
			}
			if out.Status != "queued" {
				r.st.fail("reply_not_queued", 1)
			}
			replies[q].id = out.ID
			accepted.Add(1)
		}
		return nil
	})
	posted := time.Now()
	rep.OutAccepted, rep.OutPostS = int(accepted.Load()), round(posted.Sub(t0).Seconds(), 2)
	if posted.After(throttleEnd) && o.Throttle > 0 {
		r.progress("outbound: posting the replies took longer (%.1f s) than the throttling", posted.Sub(t0).Seconds())
	}
	from := throttleEnd
	if posted.After(from) {
		from = posted
	}

	// Wait for the fake to have them all, or for long after they were due.
	want := rep.OutAccepted
	deadline := from.Add(time.Duration(float64(want)/max(rep.OutRateLimit, 1)*2*float64(time.Second)) + time.Minute)
	distinct := func(sent []telegramfake.Sent) int {
		seen := map[string]bool{}
		for _, s := range sent {
			seen[s.Text] = true
		}
		return len(seen)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		sent := r.fake.Sent()[sentBefore:]
		got := distinct(sent)
		if got >= want || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-tick.C:
			r.progress("outbound: %5.1fs  %d of %d replies taken by the fake, %d answered 429", now.Sub(t0).Seconds(),
				got, want, r.fake.Throttled()-throttled0)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// A reply sent twice would follow soon after the first.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	sent := r.fake.Sent()[sentBefore:]
	rep.Out429s = r.fake.Throttled() - throttled0
	r.analyzeOutbound(rep, replies, chats, sent, throttleEnd, from)
	r.checkStatuses(ctx, rep, replies)
	return nil
}

// analyzeOutbound checks what the fake took: every reply once, in order
// per chat, never faster than the channel's rate.
func (r *crunner) analyzeOutbound(rep *ChannelReport, replies []chReply, chats []int64, sent []telegramfake.Sent, throttleEnd, from time.Time) {
	D := len(chats)
	byKey := map[[2]int]int{} // (dialog, n) → index in replies
	for q, rp := range replies {
		if rp.id != 0 {
			byKey[[2]int{rp.dialog, rp.n}] = q
		}
	}
	counts := make([]int, len(replies))
	next := make([]int, D) // per dialog: the n expected next (the lowest not yet taken)
	var times []time.Time
	chatTimes := make([][]time.Time, D)
	var first, last time.Time
	prefix := "bench reply "
	for _, s := range sent {
		text, ok := strings.CutPrefix(s.Text, prefix)
		d, n, ok2 := parseClientID([]byte(text))
		q, known := byKey[[2]int{d, n}]
		if !ok || !ok2 || !known {
			rep.OutUnexpected++
			continue
		}
		times = append(times, s.At)
		chatTimes[d] = append(chatTimes[d], s.At)
		if s.ChatID != chats[d] {
			rep.OutMisdelivered++
		}
		counts[q]++
		if counts[q] > 1 {
			rep.OutDuplicates++
			continue
		}
		if s.At.After(throttleEnd) || s.At.Equal(throttleEnd) {
			if first.IsZero() {
				first = s.At
			}
		}
		last = s.At
		// In order: the replies of a dialog that the server stored leave
		// in the order they were stored (n). One not accepted is skipped.
		for next[d]*D+d < len(replies) && replies[next[d]*D+d].id == 0 {
			next[d]++
		}
		if n != next[d] {
			rep.OutOutOfOrder++
		}
		next[d] = max(next[d], n+1)
	}
	for q, rp := range replies {
		switch {
		case rp.id == 0:
		case counts[q] == 0:
			rep.OutMissing++
		default:
			rep.OutReceived++
		}
	}
	rep.OutMaxPerSec = maxInWindow(times)
	for _, ts := range chatTimes {
		rep.OutMaxChatPerSec = max(rep.OutMaxChatPerSec, maxInWindow(ts))
	}
	for _, t := range times {
		sec := max(int(t.Sub(throttleEnd)/time.Second), 0)
		for len(rep.OutPerSecond) <= sec {
			rep.OutPerSecond = append(rep.OutPerSecond, 0)
		}
		rep.OutPerSecond[sec]++
	}
	if !first.IsZero() {
		rep.OutFirstMs = ms(first.Sub(throttleEnd).Nanoseconds())
		if last.After(first) {
			rep.OutAvgPerSec = round(float64(rep.OutReceived-1)/last.Sub(first).Seconds(), 1)
		}
	}
	if !last.IsZero() {
		rep.OutDrainS = round(max(last.Sub(from), 0).Seconds(), 2)
	}
	if rep.OutRateLimit > 0 {
		rep.OutIdealDrainS = round(float64(rep.OutAccepted)/rep.OutRateLimit, 2)
	}
	for code, n := range map[string]int{"reply_missing": rep.OutMissing, "reply_duplicated": rep.OutDuplicates,
		"reply_out_of_order": rep.OutOutOfOrder, "reply_misdelivered": rep.OutMisdelivered} {
		if n > 0 {
			r.st.fail(code, int64(n))
		}
	}
	// A rate r with a burst of one allows r+1 sends in a 1 s window (one
	// at each end); more is over the limit.
	if rep.OutRateLimit > 0 && float64(rep.OutMaxPerSec) > rep.OutRateLimit+1 {
		r.st.fail("over_rate_limit", 1)
	}
}

// maxInWindow sorts times and returns the most of them within any 1 s.
func maxInWindow(times []time.Time) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i, j := 0, 0; i < len(times); i++ {
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// checkStatuses waits (10 s at most) for every reply the fake took to
// show the status sent.
func (r *crunner) checkStatuses(ctx context.Context, rep *ChannelReport, replies []chReply) {
	pending := make([]int, 0, len(replies))
	for q, rp := range replies {
		if rp.id != 0 {
			pending = append(pending, q)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pending) > 0 && ctx.Err() == nil {
		done := make([]bool, len(pending))
		forEach(ctx, len(pending), r.opt.Parallel, func(ctx context.Context, i int) error {
			rp := replies[pending[i]]
			var m struct {
				Status string `json:"status"`
			}
			if err := r.api.call(ctx, "GET", fmt.Sprintf("/api/v1/messages/%d", rp.id), rp.mgr.token, nil, &m); err == nil {
				done[i] = m.Status == "sent"
			}
			return nil
		})
		kept := pending[:0]
		for i, q := range pending {
			if done[i] {
				rep.OutStatusSent++
			} else {
				kept = append(kept, q)
			}
		}
		pending = kept
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	rep.OutStatusNotSent = len(pending)
	if len(pending) > 0 {
		r.st.fail("reply_status_not_sent", int64(len(pending)))
	}
}

// finish computes the latencies once every reader has ended.
func (r *crunner) finish(rep *ChannelReport) {
	var all, steady, opening, post, postSteady, lag []int64
	for _, m := range r.mgrs {
		all, steady, opening = append(all, m.lat...), append(steady, m.steady...), append(opening, m.opening...)
		slices.Sort(m.lat)
		rep.DeliveryWorstP99Ms = max(rep.DeliveryWorstP99Ms, ms(quantile(m.lat, 0.99)))
	}
	for _, c := range r.cust {
		post, postSteady, lag = append(post, c.post...), append(postSteady, c.postSteady...), append(lag, c.lag...)
	}
	for _, s := range [][]int64{all, steady, opening, post, postSteady, lag} {
		slices.Sort(s)
	}
	rep.ManagerDeliveries = r.managerGot.Load()
	rep.DeliveryP50Ms, rep.DeliveryP95Ms = ms(quantile(all, 0.5)), ms(quantile(all, 0.95))
	rep.DeliveryP99Ms, rep.DeliveryMaxMs = ms(quantile(all, 0.99)), ms(quantile(all, 1))
	rep.SteadyP50Ms, rep.SteadyP95Ms = ms(quantile(steady, 0.5)), ms(quantile(steady, 0.95))
	rep.SteadyP99Ms, rep.SteadyMaxMs = ms(quantile(steady, 0.99)), ms(quantile(steady, 1))
	rep.OpeningP50Ms, rep.OpeningP99Ms, rep.OpeningMaxMs = ms(quantile(opening, 0.5)), ms(quantile(opening, 0.99)), ms(quantile(opening, 1))
	rep.WebhookP50Ms, rep.WebhookP95Ms = ms(quantile(post, 0.5)), ms(quantile(post, 0.95))
	rep.WebhookP99Ms, rep.WebhookMaxMs = ms(quantile(post, 0.99)), ms(quantile(post, 1))
	rep.WebhookSteadyP99Ms = ms(quantile(postSteady, 0.99))
	rep.SendLagP99Ms = ms(quantile(lag, 0.99))
	rep.Duplicates, rep.DuplicateFrames = r.dupMessages.Load(), r.dupFrames.Load()
	rep.Lost += int64(rep.OutMissing)
	rep.ErrorCodes = r.st.errorCodes()
	for _, n := range rep.ErrorCodes {
		rep.Errors += n
	}
}

// JSON returns the report as one JSON object.
func (rep *ChannelReport) JSON() []byte { return toJSON(rep) }

// Failures returns the errors (webhook calls refused, duplicates,
// replies out of order or over the rate, ...) and the messages lost (in
// a manager's inbox or on the way out).
func (rep *ChannelReport) Failures() (errors, lost int64) { return rep.Errors, rep.Lost }

// Print writes the report for people.
func (rep *ChannelReport) Print(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-16s "+format+"\n", append([]any{label}, args...)...)
	}
	server := rep.Target
	if rep.Server != "" {
		server += " (" + rep.Server + ")"
	}
	p("server", "%s", server)
	p("load", "%d Telegram customers write %g messages/s for %gs through the webhook; %d managers have the inbox open",
		rep.Customers, rep.Rate, rep.DurationS, rep.Managers)
	p("setup", "%.1f s", rep.SetupS)
	if rep.ChannelError != "" {
		p("channel", "last_error %q (the bench calls the webhook itself)", rep.ChannelError)
	}
	p("webhook", "%d of %d planned posted, %d stored (200), %d failed: %.0f messages/s stored",
		rep.WebhookPosted, rep.MessagesPlanned, rep.WebhookAccepted, rep.WebhookFailed, rep.WebhookPerSec)
	p("  latency", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (the call until its answer, after commit; p99 %.1f ms from each customer's second message on)",
		rep.WebhookP50Ms, rep.WebhookP95Ms, rep.WebhookP99Ms, rep.WebhookMaxMs, rep.WebhookSteadyP99Ms)
	p("  again", "%d updates posted twice (%d while the first call was in flight), %d answered 200",
		rep.Redelivered, rep.RedeliveredConcurrent, rep.RedeliveredAccepted)
	p("inbox", "%d deliveries to managers: p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (just before the webhook call to message.created at each manager; worst manager's p99 %.1f ms)",
		rep.ManagerDeliveries, rep.DeliveryP50Ms, rep.DeliveryP95Ms, rep.DeliveryP99Ms, rep.DeliveryMaxMs, rep.DeliveryWorstP99Ms)
	p("  steady", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (each customer's second message on: contact and dialog exist)",
		rep.SteadyP50Ms, rep.SteadyP95Ms, rep.SteadyP99Ms, rep.SteadyMaxMs)
	p("  opening", "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (each customer's first message: creates the contact, opens the dialog)",
		rep.OpeningP50Ms, rep.OpeningP99Ms, rep.OpeningMaxMs)
	p("  missed", "%d  (stored messages × managers whose inbox never got them)", rep.ManagerMissing)
	p("duplicates", "%d in inboxes, %d frames twice; %d of %d messages in the redelivered customers' histories stored twice, %d missing",
		rep.Duplicates, rep.DuplicateFrames, rep.StoredDuplicates, rep.StoredChecked, rep.StoredMissing)
	p("send lag", "p99 %.1f ms  (how late the bench's own webhook calls were)", rep.SendLagP99Ms)
	if rep.MetricsAvailable {
		p("server use", "RSS %s at the end; %.2f cores busy while customers wrote (bench: %.2f, the whole machine: %.2f)",
			size(rep.ServerRSSBytes), rep.ServerCPUCores, rep.BenchCPUCores, rep.MachineCPUCores)
		if rep.CommitsPerSec > 0 {
			p("commits", "%.0f a second, %.1f writes each", rep.CommitsPerSec, rep.WritesPerCommit)
		}
	}
	if rep.OutReplies > 0 {
		p("outbound", "%d replies over %d dialogs (%d stored as queued in %.1f s); the fake answered 429 (retry_after %d s) for %gs: %d times",
			rep.OutReplies, rep.OutDialogs, rep.OutAccepted, rep.OutPostS, rep.OutRetryAfterS, rep.OutThrottleS, rep.Out429s)
		p("  taken", "%d once, %d missing, %d twice, %d out of order, %d to the wrong chat, %d unexpected sends",
			rep.OutReceived, rep.OutMissing, rep.OutDuplicates, rep.OutOutOfOrder, rep.OutMisdelivered, rep.OutUnexpected)
		p("  drain", "%.2f s from the end of the throttling to the last reply (%.2f s at the rate); first reply after %.0f ms",
			rep.OutDrainS, rep.OutIdealDrainS, rep.OutFirstMs)
		p("  rate", "at most %d sends in any 1 s window (%d to one chat), %.1f/s on average while draining (the channel's rate: %g/s); each second: %v",
			rep.OutMaxPerSec, rep.OutMaxChatPerSec, rep.OutAvgPerSec, rep.OutRateLimit, rep.OutPerSecond)
		p("  status", "%d sent, %d not (GET /api/v1/messages/{id})", rep.OutStatusSent, rep.OutStatusNotSent)
	}
	p("errors", "%s", errorSummary(rep.Errors, rep.ErrorCodes))
	p("lost", "%d  (stored, yet missing at a manager after the drain, or a stored reply the fake never took)", rep.Lost)
}
