package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/loadgen"
	"github.com/parley-chat/parley/sqlstore"
)

// bench runs the load generator (docs/bench.md). Without --url it starts
// this executable as a server on a fresh data directory and stops it at
// the end.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--history" || a == "-history" {
			return benchHistory(ctx, args, stdout, stderr)
		}
	}
	var opt loadgen.Options
	var asJSON bool
	var sqliteSync, database, debugAddr string
	var seed int
	var soak time.Duration
	var copt loadgen.ChannelOptions
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: parley bench [flags]\n\nLoad-tests a Parley server with simulated users over WebSockets (see docs/bench.md).\nWithout --url it starts its own server on a fresh data directory.\n--history measures history pages and search on a seeded database instead (parley bench --history -h).\n--channel-customers N loads a connected Telegram channel instead: webhook in, throttled reply queue out.\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&opt.URL, "url", "", "server to load (default: start one on a fresh data directory)")
	fs.StringVar(&opt.AdminEmail, "admin-email", "", "administrator who creates the bench users (with --url; default: set up a new server)")
	fs.StringVar(&opt.AdminPassword, "admin-password", "", "that administrator's password")
	fs.IntVar(&opt.Users, "users", 100, "simulated users, one WebSocket each")
	fs.IntVar(&opt.GroupSize, "group-size", 10, "members per conversation")
	fs.IntVar(&opt.Conversations, "conversations", 0, "group conversations (default users/group-size, rounded up)")
	fs.Float64Var(&opt.Rate, "rate", 0, "messages per second, in total (default 1000; with --visitors, visitors/10; with --channel-customers, one a second per customer)")
	fs.DurationVar(&opt.Duration, "duration", 0, "how long to send (default 10s; with --visitors, 30s)")
	fs.StringVar(&opt.Schedule, "schedule", "", "who sends what: spread (each message to the next conversation, from a random member; the default) or runs (each user to its own conversations in turn)")
	fs.IntVar(&opt.MessageSize, "message-size", 0, "bytes of text per message (default 100)")
	fs.BoolVar(&opt.Reconnect, "reconnect", false, "end with a reconnect storm: every socket drops, messages are sent meanwhile, every socket reconnects at once from its cursor")
	fs.IntVar(&opt.Missed, "missed", 0, "with --reconnect: messages sent to each conversation while the sockets are away (default 1)")
	fs.DurationVar(&soak, "soak", 0, "soak for this long: steady load at --rate with reconnect storms, reading the server's memory, goroutines, open files and database connections, then judging whether they stayed flat (exit status 1 if not)")
	fs.DurationVar(&opt.SampleEvery, "sample-every", 0, "soak: read the server this often (default 5s)")
	fs.DurationVar(&opt.StormEvery, "storm-every", 0, "soak: drop a share of the users' sockets this often; they reconnect from their cursors (default 30s)")
	fs.Float64Var(&opt.StormFraction, "storm-fraction", 0, "soak: the share of the users' sockets each storm drops (default 0.1)")
	fs.IntVar(&opt.Visitors, "visitors", 0, "visitor mode: website visitors, each in a live chat dialog with the consultants")
	fs.IntVar(&opt.Consultants, "consultants", 0, "visitor mode: consultants who connect to the dialogs and answer (default 10)")
	fs.IntVar(&opt.Managers, "managers", 0, "visitor mode: managers (chat settings right) who keep the inbox list open without connecting to dialogs; measures each visitor message to every manager's list (channel mode: the supervisors whose inboxes get every customer message, default 10)")
	fs.IntVar(&opt.Dialogs, "dialogs", 0, "visitor mode: open this many more dialogs (one customer message each) before the run, as the inbox's backlog")
	fs.IntVar(&copt.Customers, "channel-customers", 0, "channel mode: Telegram customers who write through a connected channel's webhook (a fake Bot API runs in the bench); with --managers (default 10), --rate (default one message a second per customer) and --duration")
	fs.Float64Var(&copt.Redeliver, "channel-redeliver", 0.01, "channel mode: share of updates posted twice, as Telegram retries (half after the first call's answer, half during it)")
	fs.IntVar(&copt.Replies, "channel-replies", 300, "channel mode: replies the managers send afterwards through the throttled channel (0: no outbound phase)")
	fs.IntVar(&copt.Dialogs, "channel-dialogs", 0, "channel mode: dialogs the replies are spread over (default min(100, customers))")
	fs.DurationVar(&copt.Throttle, "channel-throttle", 30*time.Second, "channel mode: how long the fake Bot API answers every send with 429 once the replies start")
	fs.IntVar(&copt.RetryAfter, "channel-retry-after", 1, "channel mode: the retry_after (seconds) of the fake's 429s")
	fs.IntVar(&opt.Idle, "idle", 0, "extra idle connections to hold, to measure memory per connection")
	fs.DurationVar(&opt.Drain, "drain", 5*time.Second, "how long to wait after sending for acknowledgements and deliveries")
	fs.IntVar(&opt.Parallel, "parallel", 16, "concurrent requests while setting up")
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	fs.StringVar(&database, "database", "", "PostgreSQL for the server the bench starts (postgres://...; the bench works in a new schema there and drops it at the end; default: SQLite in the server's data directory)")
	fs.IntVar(&seed, "seed", 0, "give the server's SQLite database a history of this many messages (and their events) between 10,000 other users first: seeded once as by --history, kept in the user cache directory, copied for each run")
	fs.StringVar(&sqliteSync, "sqlite-sync", "", "SQLite synchronous mode of the server the bench starts: FULL or NORMAL (default: the server's, FULL)")
	fs.StringVar(&debugAddr, "debug-addr", "", "serve Go's profiler of the server the bench starts on this address (its --debug-addr), to profile it under load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	opt.Progress = stderr
	if soak != 0 {
		if opt.Duration != 0 || soak < 0 {
			return fmt.Errorf("--soak is the duration of the soak (positive); leave out --duration")
		}
		opt.Soak, opt.Duration = true, soak
	}
	channels := copt.Customers != 0
	if channels {
		// The channel mode shares the server, load and set-up flags; the
		// other modes' flags do not apply to it.
		var other []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "users", "group-size", "conversations", "schedule", "message-size", "reconnect", "missed",
				"visitors", "consultants", "dialogs", "idle", "seed", "soak", "sample-every", "storm-every", "storm-fraction":
				other = append(other, "--"+f.Name)
			}
		})
		if len(other) > 0 {
			return fmt.Errorf("%s do not apply to the channel mode (--channel-customers)", strings.Join(other, ", "))
		}
		copt.URL, copt.AdminEmail, copt.AdminPassword = opt.URL, opt.AdminEmail, opt.AdminPassword
		copt.Rate, copt.Duration, copt.Managers, copt.Drain, copt.Parallel = opt.Rate, opt.Duration, opt.Managers, opt.Drain, opt.Parallel
		copt.Progress = stderr
		if err := copt.Validate(); err != nil {
			return err
		}
	} else {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			if strings.HasPrefix(f.Name, "channel-") {
				stray = append(stray, "--"+f.Name)
			}
		})
		if len(stray) > 0 {
			return fmt.Errorf("%s belong to the channel mode: set --channel-customers too", strings.Join(stray, ", "))
		}
		if err := opt.Validate(); err != nil {
			return err
		}
	}
	if (sqliteSync != "" || database != "" || debugAddr != "") && opt.URL != "" {
		return fmt.Errorf("--sqlite-sync, --database and --debug-addr apply to the server the bench starts, not to --url")
	}
	if sqliteSync != "" && database != "" {
		return fmt.Errorf("--sqlite-sync applies to SQLite, not to --database")
	}
	if seed != 0 && (opt.URL != "" || database != "" || seed < 0) {
		return fmt.Errorf("--seed gives a history to the SQLite database of the server the bench starts (a positive count)")
	}

	// Before the server starts: it inherits the limit.
	files := opt.FilesNeeded()
	if channels {
		files = copt.FilesNeeded()
	}
	if err := loadgen.RaiseFileLimit(files); err != nil {
		return err
	}
	var srv *loadgen.Server
	if opt.URL == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		var so loadgen.ServerOptions
		if sqliteSync != "" {
			so.Args = append(so.Args, "--sqlite-sync", sqliteSync)
		}
		if debugAddr != "" {
			so.Args = append(so.Args, "--debug-addr", debugAddr)
		}
		if database != "" {
			url, drop, err := loadgen.FreshSchema(ctx, database)
			if err != nil {
				return err
			}
			defer func() {
				if err := drop(); err != nil {
					fmt.Fprintln(stderr, "bench: dropping its schema:", err)
				}
			}()
			so.Database = url
		}
		if seed > 0 {
			dir, err := os.MkdirTemp("", "parley-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			so.Dir = dir
			if opt.AdminEmail, opt.AdminPassword, err = seedServer(ctx, seed, dir, stderr); err != nil {
				return err
			}
			// The seeded history spans a year; the default retention (a
			// week) would prune its events at start, and the storm would
			// resume over an almost empty stream.
			so.Args = append(so.Args, "--event-retention", "17520h")
		}
		fmt.Fprintln(stderr, "bench: starting a server on a fresh data directory")
		if srv, err = loadgen.StartServer(ctx, exe, so); err != nil {
			return fmt.Errorf("starting the server: %w", err)
		}
		opt.URL, copt.URL = srv.URL, srv.URL
		opt.ServerPID = srv.PID()
	}

	var rep interface {
		JSON() []byte
		Print(io.Writer)
		Failures() (errors, lost int64)
	}
	var err error
	server := "started by the bench, SQLite"
	if seed > 0 {
		server += fmt.Sprintf(", seeded with %d messages", seed)
	}
	switch {
	case database != "":
		server = "started by the bench, PostgreSQL"
	case sqliteSync != "":
		server += " synchronous=" + strings.ToUpper(sqliteSync)
	}
	switch {
	case channels:
		var chr *loadgen.ChannelReport
		if chr, err = loadgen.RunChannels(ctx, copt); err == nil {
			if srv != nil {
				chr.Server = server
			}
			rep = chr
		}
	case opt.Visitors > 0:
		var vr *loadgen.VisitorReport
		if vr, err = loadgen.RunVisitors(ctx, opt); err == nil {
			if srv != nil {
				vr.Server = server
			}
			rep = vr
		}
	default:
		var cr *loadgen.Report
		if cr, err = loadgen.Run(ctx, opt); err == nil {
			if srv != nil {
				cr.Server = server
			}
			rep = cr
		}
	}
	if err == nil {
		if asJSON {
			fmt.Fprintf(stdout, "%s\n", rep.JSON())
		} else {
			rep.Print(stdout)
		}
	}
	if srv != nil {
		// An overloaded server commits what it has queued before it
		// exits; that can take a while.
		fmt.Fprintln(stderr, "bench: stopping the server")
		if serr := srv.Stop(); serr != nil {
			fmt.Fprintln(stderr, "bench: stopping the server:", serr)
		}
		if n := srv.Warnings(); n > 0 {
			fmt.Fprintf(stderr, "bench: the server logged %d warnings or errors; the last lines:\n%s\n", n, srv.Log())
		}
	}
	if err != nil {
		return err
	}
	if errs, lost := rep.Failures(); errs > 0 || lost > 0 {
		return fmt.Errorf("bench: %d errors, %d messages lost", errs, lost)
	}
	if cr, ok := rep.(*loadgen.Report); ok && cr.Soak != nil && !cr.Soak.Flat {
		return fmt.Errorf("bench: the soak's readings did not stay flat (see the verdict)")
	}
	return nil
}

// seedServer gives the database in dir a history of n messages (and their
// events) between other users: the history --history measures, seeded once
// into the user cache directory and copied. It creates an administrator for
// the bench, whose e-mail and password it returns.
func seedServer(ctx context.Context, n int, dir string, stderr io.Writer) (string, string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", "", err
	}
	seeded := filepath.Join(cache, "parley-bench", fmt.Sprintf("history-%d.db", n))
	fmt.Fprintf(stderr, "bench: a history of %d messages (%s)\n", n, seeded)
	if _, err := sqlstore.SeedHistory(ctx, "sqlite:"+seeded, sqlstore.SeedOptions{Messages: n}, stderr); err != nil {
		return "", "", err
	}
	db := filepath.Join(dir, "parley.db")
	if err := copyFile(seeded, db); err != nil {
		return "", "", fmt.Errorf("copying the seeded database: %w", err)
	}
	store, err := sqlstore.Open(ctx, "sqlite:"+db, sqlstore.Options{})
	if err != nil {
		return "", "", err
	}
	defer store.Close()
	secret := make([]byte, 8)
	rand.Read(secret)
	email, pass := "bench-admin-"+hex.EncodeToString(secret[:4])+"@example.com", "bench-"+hex.EncodeToString(secret[4:])
	acc := accounts.New(store, accounts.Options{Argon2: accounts.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.DiscardHandler)})
	if _, err := acc.CreateUser(ctx, nil, accounts.NewUser{Email: email, Name: "Bench Admin", Password: pass, Role: parley.RoleAdmin}); err != nil {
		return "", "", err
	}
	return email, pass, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
