package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Report is the outcome of a run. docs/bench.md explains each field.
type Report struct {
	Target        string  `json:"target"`
	Users         int     `json:"users"`
	GroupSize     int     `json:"group_size"`
	Conversations int     `json:"conversations"`
	Rate          float64 `json:"rate"`
	Schedule      string  `json:"schedule"`     // spread or runs
	MessageSize   int     `json:"message_size"` // bytes of text per message
	DurationS     float64 `json:"duration_s"`
	ElapsedS      float64 `json:"elapsed_s"` // first send to the end of the drain
	SetupS        float64 `json:"setup_s"`   // creating, signing in and connecting the users

	MessagesPlanned  int64   `json:"messages_planned"`
	MessagesSent     int64   `json:"messages_sent"`
	MessagesAcked    int64   `json:"messages_acked"`
	SentPerSec       float64 `json:"sent_per_sec"` // acknowledged (committed) messages per second
	Deliveries       int64   `json:"deliveries"`   // receipts by members other than the sender
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	OwnEchoes        int64   `json:"own_echoes"` // message.created received back by the sender's own socket

	// Latency from the send to the receipt at each other member.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// Latency from the send to its acknowledgement (after commit).
	AckP50Ms float64 `json:"ack_p50_ms"`
	AckP99Ms float64 `json:"ack_p99_ms"`
	AckMaxMs float64 `json:"ack_max_ms"`
	// How late the load generator's own sends were against their schedule:
	// high values mean the bench, not the server, could not keep the rate.
	SendLagP99Ms float64 `json:"send_lag_p99_ms"`

	Errors            int64            `json:"errors"`
	ErrorCodes        map[string]int64 `json:"error_codes,omitempty"`
	Lost              int64            `json:"lost"`               // acknowledged but missing at some member after the drain
	MissingDeliveries int64            `json:"missing_deliveries"` // the receipts those lost messages lack
	Reconnects        int64            `json:"reconnects"`         // sockets the server closed and the bench resumed
	// Of those, the sockets that resumed (hello on a new socket), and how
	// long each took from the loss being seen to that hello.
	Resumed        int64   `json:"resumed"`
	ReconnectP50Ms float64 `json:"reconnect_p50_ms"`
	ReconnectP99Ms float64 `json:"reconnect_p99_ms"`
	ReconnectMaxMs float64 `json:"reconnect_max_ms"`

	MetricsAvailable    bool    `json:"metrics_available"`
	ServerRSSBytes      int64   `json:"server_rss_bytes"`   // at the end of the send phase
	ServerGoBytes       int64   `json:"server_go_bytes"`    // Go heap in use + stacks, same moment
	ServerCPUCores      float64 `json:"server_cpu_cores"`   // server CPU seconds per second of the send phase
	BenchCPUCores       float64 `json:"bench_cpu_cores"`    // the load generator's, same period
	BytesPerConnRSS     int64   `json:"bytes_per_conn_rss"` // server memory per user connection (RSS)
	BytesPerConnGo      int64   `json:"bytes_per_conn_go"`  // same, Go heap + stacks
	IdleConnections     int     `json:"idle_connections"`   // idle connections held
	BytesPerIdleConnRSS int64   `json:"bytes_per_idle_conn_rss"`
	BytesPerIdleConnGo  int64   `json:"bytes_per_idle_conn_go"`
	ServerConnections   int64   `json:"server_connections,omitempty"` // the server's count with the idle connections open

	// The reconnect storm (--reconnect).
	StormConnections        int64   `json:"storm_connections,omitempty"` // sockets caught up
	StormS                  float64 `json:"storm_s,omitempty"`           // first dial to the last caught up
	StormP50Ms              float64 `json:"storm_p50_ms,omitempty"`      // one socket: dial to caught up
	StormP99Ms              float64 `json:"storm_p99_ms,omitempty"`
	StormMaxMs              float64 `json:"storm_max_ms,omitempty"`
	StormMissed             int64   `json:"storm_missed,omitempty"`  // missed messages received on resuming
	StormMissing            int64   `json:"storm_missing,omitempty"` // missed messages not received
	StormServerCPUMsPerConn float64 `json:"storm_server_cpu_ms_per_conn,omitempty"`

	// The server's WebSocket frames and socket writes during the send
	// phase (parley_websocket_frames_total, parley_websocket_writes_total),
	// when it exports them.
	// The store's commits a second and writes (each send is one) per
	// commit over the send phase, from parley_store_commits_total and
	// parley_store_writes_total: on SQLite each commit is an fsync.
	CommitsPerSec   float64 `json:"commits_per_sec,omitempty"`
	WritesPerCommit float64 `json:"writes_per_commit,omitempty"`

	WSFrames          int64   `json:"ws_frames,omitempty"`
	WSWrites          int64   `json:"ws_writes,omitempty"`
	FramesPerWrite    float64 `json:"frames_per_write,omitempty"`
	WritesPerDelivery float64 `json:"writes_per_delivery,omitempty"` // every socket write, per message delivered to another member

	Server string `json:"server,omitempty"` // how the server was run, when the bench started it

	Soak *SoakReport `json:"soak,omitempty"` // a soak's series and verdict
}

// finish computes the report's totals once every goroutine has ended.
func (r *runner) finish(rep *Report) {
	var lat, ackLat, lag, reconn []int64
	var nLat, nAck, nLag int
	for _, u := range r.users {
		nLat, nAck, nLag = nLat+len(u.lat), nAck+len(u.ackLat), nLag+len(u.lag)
		reconn = append(reconn, u.reconn...)
	}
	lat, ackLat, lag = make([]int64, 0, nLat), make([]int64, 0, nAck), make([]int64, 0, nLag)
	want := int32(r.opt.GroupSize - 1)
	var unacked int64
	for _, u := range r.users {
		lat, ackLat, lag = append(lat, u.lat...), append(ackLat, u.ackLat...), append(lag, u.lag...)
		for k := range u.recs {
			rec := &u.recs[k]
			state := rec.state.Load()
			if state == acked && rec.ackAt.Load() > r.cutoff {
				state = pending // acknowledged after the drain: too late
			}
			switch state {
			case acked:
				rep.MessagesAcked++
				if got := rec.got.Load(); got < want {
					rep.Lost++
					rep.MissingDeliveries += int64(want - got)
				}
			case pending:
				if rec.sentAt.Load() != 0 {
					unacked++
				}
			}
		}
	}
	if unacked > 0 {
		r.st.fail("unacknowledged", unacked)
	}
	slices.Sort(lat)
	slices.Sort(ackLat)
	slices.Sort(lag)
	rep.P50Ms, rep.P99Ms, rep.MaxMs = ms(quantile(lat, 0.50)), ms(quantile(lat, 0.99)), ms(quantile(lat, 1))
	rep.AckP50Ms, rep.AckP99Ms, rep.AckMaxMs = ms(quantile(ackLat, 0.50)), ms(quantile(ackLat, 0.99)), ms(quantile(ackLat, 1))
	rep.SendLagP99Ms = ms(quantile(lag, 0.99))
	slices.Sort(reconn)
	rep.Resumed = int64(len(reconn))
	rep.ReconnectP50Ms, rep.ReconnectP99Ms, rep.ReconnectMaxMs = ms(quantile(reconn, 0.50)), ms(quantile(reconn, 0.99)), ms(quantile(reconn, 1))

	s := &r.st
	rep.MessagesSent = s.sent.Load()
	rep.Deliveries, rep.OwnEchoes, rep.Reconnects = s.deliveries.Load(), s.echoes.Load(), s.reconnects.Load()
	rep.ErrorCodes = s.errorCodes()
	for _, n := range rep.ErrorCodes {
		rep.Errors += n
	}
	rep.SentPerSec = round(rep.SentPerSec, 1)
	rep.DeliveriesPerSec = round(rep.DeliveriesPerSec, 1)
	rep.ElapsedS = round(rep.ElapsedS, 2)
	rep.ServerCPUCores = round(rep.ServerCPUCores, 2)
	rep.BenchCPUCores = round(rep.BenchCPUCores, 2)
	if rep.WSWrites > 0 {
		rep.FramesPerWrite = round(float64(rep.WSFrames)/float64(rep.WSWrites), 3)
	}
	if rep.Deliveries > 0 {
		rep.WritesPerDelivery = round(float64(rep.WSWrites)/float64(rep.Deliveries), 3)
	}
}

// quantile returns the nearest-rank q-quantile of sorted values.
func quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(ns int64) float64 { return round(float64(ns)/1e6, 3) }

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// JSON returns the report as one JSON object.
func (rep *Report) JSON() []byte { return toJSON(rep) }

// Failures returns the errors and the messages lost.
func (rep *Report) Failures() (errors, lost int64) { return rep.Errors, rep.Lost }

func toJSON(rep any) []byte {
	b, err := json.Marshal(rep)
	if err != nil {
		panic("loadgen: encoding the report: " + err.Error())
	}
	return b
}

// Print writes the report for people.
func (rep *Report) Print(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-16s "+format+"\n", append([]any{label}, args...)...)
	}
	server := rep.Target
	if rep.Server != "" {
		server += " (" + rep.Server + ")"
	}
	p("server", "%s", server)
	p("load", "%d users in %d conversations of %d, %g messages/s for %gs, %s schedule, %d-byte messages",
		rep.Users, rep.Conversations, rep.GroupSize, rep.Rate, rep.DurationS, rep.Schedule, rep.MessageSize)
	p("setup", "%.1f s", rep.SetupS)
	p("sent", "%d of %d planned, %d acknowledged: %.0f messages/s committed", rep.MessagesSent, rep.MessagesPlanned, rep.MessagesAcked, rep.SentPerSec)
	p("delivered", "%d to members other than the sender: %.0f deliveries/s", rep.Deliveries, rep.DeliveriesPerSec)
	p("latency", "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (send to receipt at each other member)", rep.P50Ms, rep.P99Ms, rep.MaxMs)
	p("ack latency", "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (send to acknowledgement after commit)", rep.AckP50Ms, rep.AckP99Ms, rep.AckMaxMs)
	p("send lag", "p99 %.1f ms  (how late the bench's own sends were)", rep.SendLagP99Ms)
	p("errors", "%s", errorSummary(rep.Errors, rep.ErrorCodes))
	p("lost", "%d  (acknowledged, yet missing at some member after the drain; %d receipts missing)", rep.Lost, rep.MissingDeliveries)
	if rep.Reconnects == 0 {
		p("reconnects", "0")
	} else {
		p("reconnects", "%d, %d resumed: p50 %.1f ms  p99 %.1f ms  max %.1f ms  (a lost socket to hello on its new one)",
			rep.Reconnects, rep.Resumed, rep.ReconnectP50Ms, rep.ReconnectP99Ms, rep.ReconnectMaxMs)
	}
	if rep.StormConnections > 0 {
		p("storm", "%d sockets caught up in %.2f s: each p50 %.1f ms  p99 %.1f ms  max %.1f ms; %d missed messages received, %d missing; server %.2f ms CPU per connection",
			rep.StormConnections, rep.StormS, rep.StormP50Ms, rep.StormP99Ms, rep.StormMaxMs, rep.StormMissed, rep.StormMissing, rep.StormServerCPUMsPerConn)
	}
	if rep.Soak != nil {
		defer rep.Soak.Print(w)
	}
	if !rep.MetricsAvailable {
		p("memory", "unknown (the server's /metrics could not be read)")
		return
	}
	p("server use", "RSS %s, Go heap+stacks %s at the end; %.2f cores busy while sending (bench: %.2f)",
		size(rep.ServerRSSBytes), size(rep.ServerGoBytes), rep.ServerCPUCores, rep.BenchCPUCores)
	if rep.CommitsPerSec > 0 {
		p("commits", "%.0f a second, %.1f writes each (a send is a write)", rep.CommitsPerSec, rep.WritesPerCommit)
	}
	if rep.WSWrites > 0 {
		p("socket writes", "%d for %d frames: %.2f frames a write, %.2f writes per delivery", rep.WSWrites, rep.WSFrames,
			rep.FramesPerWrite, rep.WritesPerDelivery)
	}
	p("per connection", "%s RSS, %s Go heap+stacks (each user's socket, with its state)", size(rep.BytesPerConnRSS), size(rep.BytesPerConnGo))
	if rep.IdleConnections > 0 {
		p("idle", "%d connections: %s RSS, %s Go heap+stacks each", rep.IdleConnections, size(rep.BytesPerIdleConnRSS), size(rep.BytesPerIdleConnGo))
	}
}

// errorSummary is the error count with its codes, e.g. "3 (http 1, rate_limited 2)".
func errorSummary(n int64, codes map[string]int64) string {
	s := fmt.Sprint(n)
	if len(codes) > 0 {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(codes)) {
			parts = append(parts, fmt.Sprintf("%s %d", code, codes[code]))
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func size(b int64) string {
	switch v := float64(b); {
	case math.Abs(v) >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case math.Abs(v) >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case math.Abs(v) >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// JSON returns the report as one JSON object.
func (rep *VisitorReport) JSON() []byte { return toJSON(rep) }

// Failures returns the errors and the messages lost.
func (rep *VisitorReport) Failures() (errors, lost int64) {
	return rep.Errors + rep.AlertsMissing, rep.Lost
}

// Print writes the report for people.
func (rep *VisitorReport) Print(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-16s "+format+"\n", append([]any{label}, args...)...)
	}
	server := rep.Target
	if rep.Server != "" {
		server += " (" + rep.Server + ")"
	}
	p("server", "%s", server)
	p("load", "%d visitors, %d consultants; visitors write %g messages/s for %gs, consultants answer each",
		rep.Visitors, rep.Consultants, rep.Rate, rep.DurationS)
	p("setup", "%.1f s", rep.SetupS)
	p("dialogs", "%d opened, each connected to a consultant", rep.Dialogs)
	p("sent", "visitors %d of %d planned (%d acknowledged); answers %d (%d acknowledged): %.0f messages/s committed",
		rep.MessagesSent, rep.MessagesPlanned, rep.MessagesAcked, rep.AnswersSent, rep.AnswersAcked, rep.SentPerSec)
	p("latency", "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (every message, send to each receipt)", rep.P50Ms, rep.P99Ms, rep.MaxMs)
	p("  visitor", "p50 %.1f ms  p99 %.1f ms  (visitor to every consultant of the project)", rep.VisitorP50Ms, rep.VisitorP99Ms)
	p("  answer", "p50 %.1f ms  p99 %.1f ms  (consultant to visitor)", rep.AnswerP50Ms, rep.AnswerP99Ms)
	p("  ack", "p99 %.1f ms  (visitor's send until the widget API answered)", rep.AckP99Ms)
	p("alert", "p50 %.1f ms  p99 %.1f ms  max %.1f ms  (first message to the new-dialog alert at each consultant; %d alerts, %d missing)",
		rep.AlertP50Ms, rep.AlertP99Ms, rep.AlertMaxMs, rep.Alerts, rep.AlertsMissing)
	rep.printManagers(p)
	p("send lag", "p99 %.1f ms  (how late the bench's own sends were)", rep.SendLagP99Ms)
	p("errors", "%s", errorSummary(rep.Errors, rep.ErrorCodes))
	p("lost", "%d  (acknowledged, yet missing at a consultant or a manager's list, or never answered to the visitor)", rep.Lost)
	if rep.MetricsAvailable {
		p("server use", "RSS %s at the end; %.2f cores busy while sending (bench: %.2f)",
			size(rep.ServerRSSBytes), rep.ServerCPUCores, rep.BenchCPUCores)
	}
}
