package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A soak (Options.Soak) is the chat mode's steady load held for a long
// time with reconnect storms on the way: every StormEvery a share of the
// users' sockets is dropped by the bench and reconnects from its cursor
// (resending what was unanswered), as clients behind a flaky network do.
// Every SampleEvery the bench reads the server's resident memory,
// goroutines, open files and database connections, and at the end it
// judges whether they stayed flat (JudgeSoak).

// SoakSample is one reading of the server.
type SoakSample struct {
	T          float64 `json:"t_s"` // seconds since the load began
	RSS        float64 `json:"rss_bytes"`
	Goroutines float64 `json:"goroutines"`
	FDs        float64 `json:"open_fds"`
	DBOpen     float64 `json:"db_open"`   // connections of the store's pools, summed
	DBInUse    float64 `json:"db_in_use"` // of those, in use
	DBMax      float64 `json:"db_max"`    // the pools' maximum, summed
	Conns      float64 `json:"ws_connections"`
	Acked      int64   `json:"acked"` // messages acknowledged so far
	// The same process read through /proc, when the bench started the
	// server (a check on the exporter's figures).
	ProcRSS float64 `json:"proc_rss_bytes,omitempty"`
	ProcFDs float64 `json:"proc_fds,omitempty"`
}

// SoakLimits are the tolerances of JudgeSoak. Goroutines, files and
// database connections are exact counts, so their bounds are tight; RSS
// moves with the collector's cycles and the machine's noise, so its bound
// is wide: it catches a leak that grows steadily, not a few megabytes.
type SoakLimits struct {
	GoroutineShare float64 // goroutines may grow by this share (0.05) …
	GoroutineAbs   float64 // … plus this many (20)
	FDs            float64 // open files may grow by this many (10)
	RSSBase        float64 // RSS may grow by this many bytes over the run (64 MiB) …
	RSSPerHour     float64 // … plus this many bytes per hour of it (32 MiB)
}

// DefaultSoakLimits are the tolerances the bench judges with.
var DefaultSoakLimits = SoakLimits{GoroutineShare: 0.05, GoroutineAbs: 20, FDs: 10, RSSBase: 64 << 20, RSSPerHour: 32 << 20}

// SoakCheck is one comparison of a verdict.
type SoakCheck struct {
	Name  string  `json:"name"`
	Base  float64 `json:"base"`  // the reference: the warmed-up window, or the reading before the load
	Value float64 `json:"value"` // what is compared with it
	Limit float64 `json:"limit"` // Value may be at most this
	OK    bool    `json:"ok"`
	How   string  `json:"how"`
}

// SoakVerdict is JudgeSoak's answer.
type SoakVerdict struct {
	Flat   bool        `json:"flat"`
	Checks []SoakCheck `json:"checks"`
	// RSSGrowthPerHour is the slope of the linear fit of RSS after the
	// warm-up, in bytes per hour.
	RSSGrowthPerHour float64 `json:"rss_growth_per_hour"`
}

// JudgeSoak decides whether a soak's readings stayed flat. during are the
// readings under load, in time order; before is the reading with every
// user connected before the load began, after the one once the load ended
// and the server settled (each field its lowest of a few readings). The
// first 10 % of the run is warm-up; the window after it (10-30 %) is
// compared with the last 20 %, by medians, so that a reading taken in a
// burst does not decide:
//
//   - goroutines: the last 20 % at most the window + share + abs;
//   - open files: at most the window + FDs;
//   - database connections: never more open than the pools allow;
//   - RSS: the growth of its linear fit over the judged part (from 10 %)
//     at most RSSBase + RSSPerHour per hour;
//
// and after the load, with every user still connected as before it:
// goroutines and open files within the same bounds of before, and the
// connections in use back to before's.
func JudgeSoak(during []SoakSample, before, after SoakSample, lim SoakLimits) SoakVerdict {
	var v SoakVerdict
	add := func(name string, base, value, limit float64, how string) {
		v.Checks = append(v.Checks, SoakCheck{Name: name, Base: base, Value: value, Limit: limit, OK: value <= limit, How: how})
	}
	if len(during) < 10 {
		add("readings", 10, float64(len(during)), math.Inf(-1), "at least 10 readings under load are needed to judge")
		return v
	}
	t0, t1 := during[0].T, during[len(during)-1].T
	span := t1 - t0
	var warm, tail, judged []SoakSample
	for _, s := range during {
		switch f := (s.T - t0) / span; {
		case f >= 0.8:
			tail = append(tail, s)
		case f >= 0.1 && f <= 0.3:
			warm = append(warm, s)
		}
		if s.T-t0 >= 0.1*span {
			judged = append(judged, s)
		}
	}
	med := func(ss []SoakSample, f func(SoakSample) float64) float64 {
		vs := make([]float64, len(ss))
		for i, s := range ss {
			vs[i] = f(s)
		}
		return median(vs)
	}
	gor := func(s SoakSample) float64 { return s.Goroutines }
	fds := func(s SoakSample) float64 { return s.FDs }
	wg, wf := med(warm, gor), med(warm, fds)
	add("goroutines", wg, med(tail, gor), wg*(1+lim.GoroutineShare)+lim.GoroutineAbs,
		fmt.Sprintf("median of the last 20 %% ≤ median after warm-up (10-30 %%) + %g %% + %g", lim.GoroutineShare*100, lim.GoroutineAbs))
	add("open files", wf, med(tail, fds), wf+lim.FDs,
		fmt.Sprintf("median of the last 20 %% ≤ median after warm-up (10-30 %%) + %g", lim.FDs))
	if before.DBMax > 0 {
		worst, limit := math.Inf(-1), 0.0
		for _, s := range during {
			if s.DBOpen-s.DBMax > worst {
				worst, limit = s.DBOpen-s.DBMax, s.DBMax
			}
		}
		add("db connections open", limit, worst+limit, limit, "every reading: open ≤ the pools' maximum")
	}
	slope := fitSlope(judged)
	v.RSSGrowthPerHour = slope * 3600
	jspan := judged[len(judged)-1].T - judged[0].T
	add("rss growth", med(warm, func(s SoakSample) float64 { return s.RSS }), slope*jspan, lim.RSSBase+lim.RSSPerHour*jspan/3600,
		fmt.Sprintf("linear fit from 10 %%: growth ≤ %s + %s per hour", size(int64(lim.RSSBase)), size(int64(lim.RSSPerHour))))
	add("goroutines after load", before.Goroutines, after.Goroutines, before.Goroutines*(1+lim.GoroutineShare)+lim.GoroutineAbs,
		fmt.Sprintf("settled after the load ≤ before it + %g %% + %g", lim.GoroutineShare*100, lim.GoroutineAbs))
	add("open files after load", before.FDs, after.FDs, before.FDs+lim.FDs, fmt.Sprintf("settled after the load ≤ before it + %g", lim.FDs))
	if before.DBMax > 0 {
		add("db connections in use after load", before.DBInUse, after.DBInUse, before.DBInUse, "settled after the load ≤ before it")
	}
	v.Flat = true
	for _, c := range v.Checks {
		v.Flat = v.Flat && c.OK
	}
	return v
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// fitSlope is the least-squares slope of RSS over time, bytes per second.
func fitSlope(ss []SoakSample) float64 {
	var n, st, sr float64
	for _, s := range ss {
		n, st, sr = n+1, st+s.T, sr+s.RSS
	}
	mt, mr := st/n, sr/n
	var num, den float64
	for _, s := range ss {
		num += (s.T - mt) * (s.RSS - mr)
		den += (s.T - mt) * (s.T - mt)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// SoakReport is the soak's part of the report.
type SoakReport struct {
	DurationS     float64      `json:"duration_s"`
	SampleEveryS  float64      `json:"sample_every_s"`
	StormEveryS   float64      `json:"storm_every_s"`
	StormFraction float64      `json:"storm_fraction"`
	Storms        int          `json:"storms"`
	Dropped       int64        `json:"dropped"` // sockets the bench dropped; each must reconnect
	Before        SoakSample   `json:"before"`
	After         SoakSample   `json:"after"`
	Samples       []SoakSample `json:"samples"`
	Limits        SoakLimits   `json:"limits"`
	SoakVerdict
}

// soakRun is a soak under way: its monitor samples and storms while the
// send phase runs.
type soakRun struct {
	r    *runner
	rep  *SoakReport
	done chan struct{}
	stop chan struct{}
	once sync.Once
}

// startSoak reads the server before the load and starts the monitor,
// which samples every SampleEvery and drops a share of the sockets every
// StormEvery until Duration has passed (the drain is not sampled: the
// load has ended).
func (r *runner) startSoak(ctx context.Context) (*soakRun, error) {
	o := r.opt
	// The set-up's keep-alive connections would otherwise close during the
	// run (IdleConnTimeout) and lower the server's files below the
	// reading they are in.
	r.api.hc.CloseIdleConnections()
	before, err := r.settledSample(ctx, nil, time.Now())
	if err != nil {
		return nil, fmt.Errorf("soak: reading the server: %w", err)
	}
	s := &soakRun{r: r, done: make(chan struct{}), stop: make(chan struct{}), rep: &SoakReport{
		DurationS: o.Duration.Seconds(), SampleEveryS: o.SampleEvery.Seconds(), StormEveryS: o.StormEvery.Seconds(),
		StormFraction: o.StormFraction, Before: before, Limits: DefaultSoakLimits}}
	r.progress("soak: before the load: %s", before.line())
	go s.monitor(ctx)
	return s, nil
}

func (s *soakRun) monitor(ctx context.Context) {
	defer close(s.done)
	r, o := s.r, s.r.opt
	start := time.Now()
	end := start.Add(o.Duration)
	rng := rand.New(rand.NewPCG(uint64(o.Users), 7))
	tick := time.NewTicker(o.SampleEvery)
	defer tick.Stop()
	nextStorm := start.Add(o.StormEvery)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case now := <-tick.C:
			if now.After(end) {
				return
			}
			if smp, err := r.sample(ctx, start); err == nil {
				s.rep.Samples = append(s.rep.Samples, smp)
				r.progress("soak %4.0fs: %s", smp.T, smp.line())
			} else {
				r.progress("soak: reading the server: %v", err)
			}
			// Storms come right after a reading, so the next one finds
			// the sockets back.
			if o.StormEvery > 0 && o.StormFraction > 0 && !now.Before(nextStorm) && now.Add(o.SampleEvery).Before(end) {
				nextStorm = nextStorm.Add(o.StormEvery)
				s.rep.Storms++
				s.rep.Dropped += r.dropSockets(rng, o.StormFraction)
			}
		}
	}
}

// dropSockets closes a share of the users' sockets, chosen at random; their
// readers reconnect from the cursor and resend what was unanswered.
func (r *runner) dropSockets(rng *rand.Rand, share float64) int64 {
	n := int(math.Ceil(share * float64(len(r.users))))
	var dropped int64
	for _, i := range rng.Perm(len(r.users))[:n] {
		u := r.users[i]
		u.mu.Lock()
		if u.ws != nil {
			u.ws.CloseNow()
			dropped++
		}
		u.mu.Unlock()
	}
	return dropped
}

// finish stops the monitor, reads the server once the load has ended and
// judges. Reading after the load waits up to 30 s for the server to settle
// back to the reading before it (work queued during the load ends, the
// full-text index catches up); what never comes back is a leak.
func (s *soakRun) finish(ctx context.Context) *SoakReport {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	r, rep := s.r, s.rep
	lim := rep.Limits
	// A server that fell behind is still working through its backlog;
	// give it a minute more to catch up, else its busy connections would
	// read as a leak.
	for wait := time.Now().Add(time.Minute); !r.drained() && time.Now().Before(wait) && ctx.Err() == nil; {
		time.Sleep(100 * time.Millisecond)
	}
	if !r.drained() {
		r.progress("soak: the server has not caught up with the load; the readings after it are taken while it works")
	}
	settled := func(a SoakSample) bool {
		b := rep.Before
		return a.Goroutines <= b.Goroutines*(1+lim.GoroutineShare)+lim.GoroutineAbs && a.FDs <= b.FDs+lim.FDs && a.DBInUse <= b.DBInUse
	}
	deadline := time.Now().Add(30 * time.Second)
	after, err := r.settledSample(ctx, func(a SoakSample) bool { return settled(a) || time.Now().After(deadline) }, time.Now())
	if err != nil {
		r.progress("soak: reading the server after the load: %v", err)
	}
	rep.After = after
	r.progress("soak: after the load: %s", after.line())
	rep.SoakVerdict = JudgeSoak(rep.Samples, rep.Before, rep.After, lim)
	return rep
}

// abort stops the monitor without judging.
func (s *soakRun) abort() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// settledSample reads the server at least three times a second apart and
// keeps each field's lowest value (a goroutine or a connection busy for a
// moment is not a leak), going on until enough(lowest) holds.
func (r *runner) settledSample(ctx context.Context, enough func(SoakSample) bool, start time.Time) (SoakSample, error) {
	var low SoakSample
	for i := 0; ; i++ {
		s, err := r.sample(ctx, start)
		if err != nil {
			return low, err
		}
		if i == 0 {
			low = s
		} else {
			low.RSS, low.Goroutines, low.FDs = min(low.RSS, s.RSS), min(low.Goroutines, s.Goroutines), min(low.FDs, s.FDs)
			low.DBOpen, low.DBInUse, low.DBMax, low.Conns = min(low.DBOpen, s.DBOpen), min(low.DBInUse, s.DBInUse), s.DBMax, s.Conns
			low.ProcRSS, low.ProcFDs, low.T, low.Acked = min(low.ProcRSS, s.ProcRSS), min(low.ProcFDs, s.ProcFDs), s.T, s.Acked
		}
		if i >= 2 && (enough == nil || enough(low)) {
			return low, nil
		}
		select {
		case <-ctx.Done():
			return low, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// sample reads the server's /metrics, and /proc when the bench knows the
// server's process.
func (r *runner) sample(ctx context.Context, start time.Time) (SoakSample, error) {
	m, err := r.api.metrics(ctx)
	if err != nil {
		return SoakSample{}, err
	}
	s := SoakSample{T: round(time.Since(start).Seconds(), 1), RSS: m.RSS, Goroutines: m.Goroutines, FDs: m.FDs,
		DBOpen: m.DBOpen, DBInUse: m.DBInUse, DBMax: m.DBMax, Conns: m.Conns, Acked: r.st.acked.Load()}
	if pid := r.opt.ServerPID; pid > 0 {
		s.ProcRSS, s.ProcFDs = procStats(pid)
	}
	return s, nil
}

// procStats reads a process's resident memory and open files from /proc
// (Linux); zeros where it cannot.
func procStats(pid int) (rss, fds float64) {
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				rss = kb * 1024
			}
		}
		f.Close()
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		fds = float64(len(ents))
	}
	return rss, fds
}

func (s SoakSample) line() string {
	l := fmt.Sprintf("rss %s  goroutines %.0f  open files %.0f  db connections %.0f open, %.0f in use (max %.0f)  sockets %.0f",
		size(int64(s.RSS)), s.Goroutines, s.FDs, s.DBOpen, s.DBInUse, s.DBMax, s.Conns)
	if s.ProcRSS > 0 {
		l += fmt.Sprintf("  /proc: rss %s, %.0f files", size(int64(s.ProcRSS)), s.ProcFDs)
	}
	return l
}

// Print writes the soak's series and verdict for people.
func (rep *SoakReport) Print(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-16s "+format+"\n", append([]any{label}, args...)...)
	}
	p("soak", "%s, %d readings every %gs; %d storms every %gs dropping %g %% of the users' sockets (%d drops)",
		time.Duration(rep.DurationS*float64(time.Second)), len(rep.Samples), rep.SampleEveryS, rep.Storms, rep.StormEveryS,
		rep.StormFraction*100, rep.Dropped)
	if len(rep.Samples) > 0 {
		series := []struct {
			name string
			f    func(SoakSample) float64
			mib  bool
		}{
			{"rss", func(s SoakSample) float64 { return s.RSS }, true},
			{"goroutines", func(s SoakSample) float64 { return s.Goroutines }, false},
			{"open files", func(s SoakSample) float64 { return s.FDs }, false},
			{"db open", func(s SoakSample) float64 { return s.DBOpen }, false},
			{"db in use", func(s SoakSample) float64 { return s.DBInUse }, false},
			{"sockets", func(s SoakSample) float64 { return s.Conns }, false},
		}
		f := func(v float64, mib bool) string {
			if mib {
				return fmt.Sprintf("%.1f MiB", v/(1<<20))
			}
			return fmt.Sprintf("%.0f", v)
		}
		p("", "%-12s %10s %10s %10s %10s %12s %12s", "", "before", "first", "last", "peak", "after load", "max")
		for _, s := range series {
			peak := math.Inf(-1)
			for _, smp := range rep.Samples {
				peak = max(peak, s.f(smp))
			}
			maxCol := ""
			if s.name == "db open" {
				maxCol = f(rep.Before.DBMax, false)
			}
			p("", "%-12s %10s %10s %10s %10s %12s %12s", s.name, f(s.f(rep.Before), s.mib), f(s.f(rep.Samples[0]), s.mib),
				f(s.f(rep.Samples[len(rep.Samples)-1]), s.mib), f(peak, s.mib), f(s.f(rep.After), s.mib), maxCol)
		}
		p("rss trend", "%+.1f MiB per hour (linear fit after the warm-up)", rep.RSSGrowthPerHour/(1<<20))
		// The series itself, at most 40 rows.
		step := max(1, (len(rep.Samples)+39)/40)
		p("series", "%8s %10s %10s %10s %8s %8s %8s", "t", "rss MiB", "goroutines", "open files", "db open", "in use", "sockets")
		for i := 0; i < len(rep.Samples); i += step {
			s := rep.Samples[i]
			p("", "%7.0fs %10.1f %10.0f %10.0f %8.0f %8.0f %8.0f", s.T, s.RSS/(1<<20), s.Goroutines, s.FDs, s.DBOpen, s.DBInUse, s.Conns)
		}
	}
	verdict := "FLAT"
	if !rep.Flat {
		verdict = "NOT FLAT (a leak?)"
	}
	p("verdict", "%s", verdict)
	for _, c := range rep.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		base, val, limit := fmt.Sprintf("%.0f", c.Base), fmt.Sprintf("%.0f", c.Value), fmt.Sprintf("%.0f", c.Limit)
		if strings.HasPrefix(c.Name, "rss") {
			base, val, limit = size(int64(c.Base)), size(int64(c.Value)), size(int64(c.Limit))
		}
		p("", "%s %-34s base %s, value %s, limit %s  (%s)", mark, c.Name, base, val, limit, c.How)
	}
}
