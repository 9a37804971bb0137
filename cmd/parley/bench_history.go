package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sqlstore"
)

// historyReport is what `parley bench --history` measures (docs/bench.md,
// "History and search").
type historyReport struct {
	Database     string           `json:"database"`
	Messages     int              `json:"messages"`
	Users        int              `json:"users"`
	Convs        int              `json:"conversations"`
	UserConvs    int              `json:"user_conversations"`
	UserMessages int64            `json:"user_messages"`
	SeedSeconds  float64          `json:"seed_s"`
	Reused       bool             `json:"reused"`
	Sizes        map[string]int64 `json:"sizes"`
	History      []latency        `json:"history"`
	Search       []latency        `json:"search"`
	Queries      []queryResult    `json:"queries"`
}

// latency summarises the samples of one measurement, in milliseconds.
type latency struct {
	Name    string  `json:"name"`
	Path    string  `json:"path"` // store, service or http
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// queryResult is one search of the fixed set: its timings and a digest of
// its results, to compare the results of two builds.
type queryResult struct {
	sqlstore.SeedQuery
	latency
	Results int    `json:"results"`
	Digest  string `json:"digest"`
}

func benchHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opt sqlstore.SeedOptions
	var dsn string
	var reseed, seedOnly, asJSON, noHTTP bool
	var runs, searchRuns int
	var cpuProfile string
	fs := flag.NewFlagSet("parley bench --history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: parley bench --history [flags]\n\nSeeds a database with a synthetic history (or reuses one seeded before) and measures\nhistory pages and full-text search for a user in 200 conversations (see docs/bench.md).\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.Bool("history", true, "measure history and search (this mode)")
	fs.IntVar(&opt.Messages, "messages", 1_000_000, "messages to seed")
	fs.IntVar(&opt.Users, "users", 0, "users to seed (default messages/1000, between 1,000 and 10,000)")
	fs.IntVar(&opt.Conversations, "conversations", 0, "conversations to seed (default messages/500, at least 800)")
	fs.IntVar(&opt.UserConversations, "user-conversations", 200, "conversations of the measured user")
	fs.StringVar(&dsn, "database", "", "database to seed or reuse: sqlite:<path> or postgres://... (default: sqlite in the user cache directory, one file per --messages)")
	fs.BoolVar(&reseed, "reseed", false, "empty the database first (only one the bench seeded, or an empty one)")
	fs.BoolVar(&seedOnly, "seed-only", false, "seed (or finish seeding) and stop")
	fs.IntVar(&runs, "runs", 200, "history pages read per measurement")
	fs.IntVar(&searchRuns, "search-runs", 20, "runs of each search query per path")
	fs.BoolVar(&noHTTP, "no-http", false, "measure through the services only, not over HTTP")
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the search measurements to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if dsn == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dsn = "sqlite:" + filepath.Join(dir, "parley-bench", fmt.Sprintf("history-%d.db", opt.Messages))
	}
	if reseed {
		fmt.Fprintln(stderr, "bench: emptying", sqlstore.Redact(dsn))
		if err := sqlstore.ResetSeeded(ctx, dsn); err != nil {
			return err
		}
	}
	t0 := time.Now()
	info, err := sqlstore.SeedHistory(ctx, dsn, opt, stderr)
	if err != nil {
		return err
	}
	rep := &historyReport{Database: sqlstore.Redact(dsn), Messages: info.Options.Messages, Users: info.Options.Users,
		Convs: info.Options.Conversations, UserConvs: len(info.Conversations), UserMessages: info.UserMessages,
		SeedSeconds: info.Seconds, Reused: time.Since(t0) < 5*time.Second}
	if rep.Reused {
		fmt.Fprintf(stderr, "bench: reusing %s, seeded before in %.0f s (--reseed seeds it again)\n", rep.Database, info.Seconds)
	}
	if seedOnly {
		fmt.Fprintf(stdout, "seeded %s: %d messages in %.0f s\n", rep.Database, info.Messages, info.Seconds)
		return nil
	}

	cfg := DefaultConfig()
	cfg.Addr, cfg.Database, cfg.LogLevel, cfg.DrainDelay = "127.0.0.1:0", dsn, "warn", 0
	if cfg.DataDir, err = os.MkdirTemp("", "parley-history-"); err != nil {
		return err
	}
	defer os.RemoveAll(cfg.DataDir)
	m := NewMain(cfg)
	m.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := m.Run(ctx); err != nil {
		return err
	}
	defer m.Close()
	if rep.Sizes, err = m.store.Sizes(ctx); err != nil {
		return err
	}
	user, err := m.Accounts.User(ctx, info.UserID)
	if err != nil {
		return err
	}
	token, _, err := m.Accounts.CreateToken(ctx, user, "history bench")
	if err != nil {
		return err
	}
	h := &historyBench{m: m, user: user, token: token, http: !noHTTP, r: rand.New(rand.NewPCG(1, 2))}
	fmt.Fprintln(stderr, "bench: history pages")
	if rep.History, err = h.history(ctx, info, runs); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: search")
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if rep.Queries, rep.Search, err = h.search(ctx, info, searchRuns, stderr); err != nil {
		return err
	}
	if asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		rep.print(stdout)
	}
	return nil
}

type historyBench struct {
	m     *Main
	user  *parley.User
	token string
	http  bool
	r     *rand.Rand
}

// history reads pages of the measured user's conversations: the newest
// page, and pages before a random seq, through the store, the service and
// the HTTP API.
func (h *historyBench) history(ctx context.Context, info *sqlstore.SeedInfo, runs int) ([]latency, error) {
	type target struct{ conv, before int64 }
	newest := make([]target, runs)
	back := make([]target, runs)
	for i := range runs {
		conv := info.Conversations[h.r.IntN(len(info.Conversations))]
		c, err := h.m.store.ConversationByID(ctx, conv)
		if err != nil {
			return nil, err
		}
		newest[i] = target{conv: conv}
		back[i] = target{conv: conv, before: 1 + h.r.Int64N(max(1, c.LastSeq))}
	}
	paths := []struct {
		name string
		read func(t target) error
	}{
		{"store", func(t target) error {
			_, err := h.m.store.Messages(ctx, t.conv, parley.MessagePage{Before: t.before, Limit: 50})
			return err
		}},
		{"service", func(t target) error {
			_, err := h.m.Messaging.History(ctx, h.user, t.conv, parley.MessagePage{Before: t.before, Limit: 50})
			return err
		}},
	}
	if h.http {
		paths = append(paths, struct {
			name string
			read func(t target) error
		}{"http", func(t target) error {
			q := url.Values{"limit": {"50"}}
			if t.before > 0 {
				q.Set("before", strconv.FormatInt(t.before, 10))
			}
			var page struct{ Messages []json.RawMessage }
			return h.get(ctx, fmt.Sprintf("/api/v1/conversations/%d/messages?%s", t.conv, q.Encode()), &page)
		}})
	}
	var out []latency
	for _, p := range paths {
		for _, set := range []struct {
			name    string
			targets []target
		}{{"newest page", newest}, {"page before a random seq", back}} {
			// An untimed pass first: the database is measured warm, as a
			// server's recent history is.
			for _, t := range set.targets {
				if err := p.read(t); err != nil {
					return nil, err
				}
			}
			samples := make([]time.Duration, 0, len(set.targets))
			for _, t := range set.targets {
				start := time.Now()
				if err := p.read(t); err != nil {
					return nil, fmt.Errorf("%s %s: %w", p.name, set.name, err)
				}
				samples = append(samples, time.Since(start))
			}
			out = append(out, summarize(set.name, p.name, samples))
		}
	}
	return out, nil
}

// search runs every query of the seeded set through the service and over
// HTTP, and summarises each class of queries.
func (h *historyBench) search(ctx context.Context, info *sqlstore.SeedInfo, runs int, progress io.Writer) ([]queryResult, []latency, error) {
	type key struct{ class, path string }
	byClass := map[key][]time.Duration{}
	var classes []key
	var results []queryResult
	paths := []string{"service"}
	if h.http {
		paths = append(paths, "http")
	}
	for _, sq := range info.Queries {
		q := parley.SearchQuery{Text: sq.Text, ConversationID: sq.ConversationID, Limit: 50}
		first, err := h.m.Messaging.Search(ctx, h.user, q)
		if err != nil {
			return nil, nil, fmt.Errorf("search %q: %w", sq.Text, err)
		}
		got := first
		if sq.NextPage {
			if len(first) == 0 {
				return nil, nil, fmt.Errorf("search %q: no first page", sq.Text)
			}
			q.Before = first[len(first)-1].ID
			if got, err = h.m.Messaging.Search(ctx, h.user, q); err != nil {
				return nil, nil, err
			}
		}
		for _, path := range paths {
			samples := make([]time.Duration, 0, runs)
			for range runs {
				start := time.Now()
				if path == "service" {
					_, err = h.m.Messaging.Search(ctx, h.user, q)
				} else {
					v := url.Values{"q": {q.Text}, "limit": {"50"}}
					if q.ConversationID != 0 {
						v.Set("conversation_id", strconv.FormatInt(q.ConversationID, 10))
					}
					if q.Before != 0 {
						v.Set("before", strconv.FormatInt(q.Before, 10))
					}
					var page struct{ Messages []json.RawMessage }
					err = h.get(ctx, "/api/v1/search?"+v.Encode(), &page)
				}
				if err != nil {
					return nil, nil, fmt.Errorf("search %q over %s: %w", sq.Text, path, err)
				}
				samples = append(samples, time.Since(start))
			}
			k := key{sq.Class, path}
			if _, ok := byClass[k]; !ok {
				classes = append(classes, k)
			}
			byClass[k] = append(byClass[k], samples...)
			if path == "service" {
				r := queryResult{SeedQuery: sq, latency: summarize(sq.Text, path, samples), Results: len(got), Digest: digest(got)}
				results = append(results, r)
				fmt.Fprintf(progress, "bench: %-22s %-24q %3d results  p50 %8.2f ms  max %8.2f ms\n", sq.Class, sq.Text, r.Results, r.P50, r.Max)
			}
		}
	}
	var out []latency
	for _, k := range classes {
		out = append(out, summarize(k.class, k.path, byClass[k]))
	}
	return results, out, nil
}

func (h *historyBench) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", h.m.URL()+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// digest identifies a result list: its IDs, in order.
func digest(msgs []*parley.Message) string {
	f := fnv.New64a()
	for _, m := range msgs {
		fmt.Fprintf(f, "%d,", m.ID)
	}
	return strconv.FormatUint(f.Sum64(), 16)
}

func summarize(name, path string, samples []time.Duration) latency {
	slices.Sort(samples)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	l := latency{Name: name, Path: path, Samples: len(samples)}
	if len(samples) > 0 {
		l.P50 = ms(samples[len(samples)/2])
		l.P99 = ms(samples[min(len(samples)-1, len(samples)*99/100)])
		l.Max = ms(samples[len(samples)-1])
	}
	return l
}

func (r *historyReport) print(w io.Writer) {
	mib := func(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
	fmt.Fprintf(w, "database       %s\n", r.Database)
	fmt.Fprintf(w, "history        %d messages, %d users, %d conversations; the measured user in %d (%d messages)\n",
		r.Messages, r.Users, r.Convs, r.UserConvs, r.UserMessages)
	reused := ""
	if r.Reused {
		reused = " (an earlier run; reused)"
	}
	fmt.Fprintf(w, "seeding        %.0f s%s\n", r.SeedSeconds, reused)
	fmt.Fprintf(w, "size           %s in all; messages %s, of which the search index %s; events %s\n",
		mib(r.Sizes["total"]), mib(r.Sizes["messages"]), mib(r.Sizes["search"]), mib(r.Sizes["events"]))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nmeasurement\tpath\tsamples\tp50 ms\tp99 ms\tmax ms\t")
	for _, set := range [][]latency{r.History, r.Search} {
		for _, l := range set {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t\n", l.Name, l.Path, l.Samples, l.P50, l.P99, l.Max)
		}
	}
	tw.Flush()
}
