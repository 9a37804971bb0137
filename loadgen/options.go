// Package loadgen is the load generator behind `parley bench`: it signs in
// simulated users over real WebSockets, puts them into group chats, sends
// messages at a fixed total rate and measures what the server accepts, what
// reaches every member and how long that takes, what is lost, and how much
// server memory a connection costs. docs/bench.md explains how to read its
// report.
package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"time"
)

// Options configure a run. Zero values take the defaults noted.
type Options struct {
	// URL is the server, e.g. http://127.0.0.1:8080 (required).
	URL string
	// AdminEmail and AdminPassword sign in an administrator who creates the
	// bench users. When AdminEmail is empty the server must be new: the
	// bench creates the first administrator through POST /api/v1/setup.
	AdminEmail, AdminPassword string

	Users         int           // simulated users, one WebSocket each (100)
	GroupSize     int           // members per conversation (10)
	Conversations int           // group conversations (Users/GroupSize, rounded up)
	Rate          float64       // messages per second, in total (1000)
	Duration      time.Duration // how long to send (10s)
	// Schedule picks who sends message j to which conversation:
	// ScheduleSpread (the default) sends each message to the next
	// conversation from a random member of it, as real traffic spreads
	// over every conversation; ScheduleRuns has user j mod Users send
	// to its own conversations in turn, so a run of consecutive messages
	// goes to one conversation (the bench's schedule before spread).
	Schedule string
	// MessageSize pads each message's text to this many bytes (100).
	MessageSize int
	// Reconnect ends the run with a reconnect storm: every user's socket
	// drops at once, Missed messages are sent to each conversation
	// meanwhile, and every socket reconnects at once from its cursor.
	Reconnect bool
	Missed    int // (1)
	// Idle is how many extra connections to open and hold without
	// traffic, to measure the server's memory per idle connection. They
	// belong to IdleUsers users of their own (min(Idle, 10)) that are in
	// no conversation.
	Idle      int
	IdleUsers int
	// Drain is how long to wait after the last send for outstanding
	// acknowledgements and deliveries (5s).
	Drain time.Duration
	// Parallel bounds concurrent set-up requests: creating users, signing
	// in, creating conversations (16). Sockets open 4× as many at a time.
	Parallel int
	// Progress receives progress lines while the bench runs; nil for none.
	Progress io.Writer

	// Visitors switches to the visitor mode (RunVisitors): that many
	// website visitors each open a live chat dialog with the Consultants
	// (10) of one project, who connect and answer every message. Rate is
	// then the visitors' messages per second in total (Visitors/10: each
	// visitor writes every 10 s); the answers come on top.
	Visitors    int
	Consultants int
	// Managers (visitor mode) are users with the chat settings right who
	// keep the support inbox's list open on the staff socket and connect
	// to no dialog; the bench measures how long each visitor message
	// takes to reach every manager's list. Dialogs more dialogs, each
	// with one customer message, are opened before the run, as a backlog.
	Managers int
	Dialogs  int

	// Soak holds the load for Duration with reconnect storms on the way
	// and judges whether the server's memory, goroutines, open files and
	// database connections stayed flat (soak.go): every SampleEvery (5s)
	// the bench reads the server, every StormEvery (30s) it drops
	// StormFraction (0.1) of the users' sockets, which reconnect.
	Soak          bool
	SampleEvery   time.Duration
	StormEvery    time.Duration
	StormFraction float64
	// ServerPID is the server's process when the bench started it: a soak
	// also reads its /proc.
	ServerPID int

	// Observer, if set, hears every hello, message and acknowledgement of
	// the chat mode's users (a test comparing the run with the database).
	Observer Observer
}

// The send schedules (Options.Schedule).
const (
	ScheduleSpread = "spread"
	ScheduleRuns   = "runs"
)

// Validate fills in the defaults and checks the options. An empty URL
// passes, so that a command can check its flags before it starts a
// server; Run requires one.
func (o *Options) Validate() error {
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("loadgen: %q is not an http(s) URL", o.URL)
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
	def(&o.Users, 100)
	def(&o.GroupSize, 10)
	def(&o.Parallel, 16)
	if o.Visitors != 0 {
		return o.validateVisitors()
	}
	if o.Consultants != 0 || o.Managers != 0 || o.Dialogs != 0 {
		return errors.New("loadgen: consultants, managers and seeded dialogs belong to the visitor mode; set the number of visitors too")
	}
	if o.Rate == 0 {
		o.Rate = 1000
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Drain == 0 {
		o.Drain = 5 * time.Second
	}
	if o.Schedule == "" {
		o.Schedule = ScheduleSpread
	}
	def(&o.MessageSize, 100)
	if o.Soak {
		if o.SampleEvery == 0 {
			o.SampleEvery = 5 * time.Second
		}
		if o.StormEvery == 0 {
			o.StormEvery = 30 * time.Second
		}
		if o.StormFraction == 0 {
			o.StormFraction = 0.1
		}
		switch {
		case o.SampleEvery < 0 || o.StormEvery < 0:
			return errors.New("loadgen: soak intervals must be positive")
		case o.Duration < 10*o.SampleEvery:
			return fmt.Errorf("loadgen: a soak of %s gives fewer than 10 readings every %s; soak longer or read more often", o.Duration, o.SampleEvery)
		case o.StormFraction < 0 || o.StormFraction > 1:
			return errors.New("loadgen: the storm fraction is between 0 and 1")
		}
	} else if o.SampleEvery != 0 || o.StormEvery != 0 || o.StormFraction != 0 {
		return errors.New("loadgen: readings and storms every so often belong to the soak")
	}
	if o.Reconnect {
		def(&o.Missed, 1)
	}
	switch {
	case o.Missed < 0 || (o.Missed > 0 && !o.Reconnect):
		return errors.New("loadgen: messages missed belong to the reconnect storm (and cannot be negative)")
	case o.Schedule != ScheduleSpread && o.Schedule != ScheduleRuns:
		return fmt.Errorf("loadgen: the schedule is %q or %q", ScheduleSpread, ScheduleRuns)
	case o.MessageSize < 40 || o.MessageSize > 2000:
		return errors.New("loadgen: the message size is between 40 and 2000 bytes")
	case o.Users < 2:
		return errors.New("loadgen: at least 2 users are needed")
	case o.GroupSize < 2 || o.GroupSize > o.Users:
		return fmt.Errorf("loadgen: the group size must be between 2 and the number of users (%d)", o.Users)
	case o.GroupSize > 1000:
		return errors.New("loadgen: a conversation has at most 1000 members")
	case o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return errors.New("loadgen: the rate must be positive")
	case o.Duration < 0 || o.Drain < 0:
		return errors.New("loadgen: durations must be positive")
	case o.Idle < 0 || o.IdleUsers < 0 || o.Conversations < 0 || o.Parallel < 0:
		return errors.New("loadgen: counts must not be negative")
	case o.Rate*o.Duration.Seconds() > 50e6:
		return errors.New("loadgen: more than 50 million messages in one run; lower --rate or --duration")
	case o.Users+o.Idle > 1_000_000:
		return errors.New("loadgen: more than a million connections")
	}
	if o.Conversations == 0 {
		o.Conversations = (o.Users + o.GroupSize - 1) / o.GroupSize
	}
	if o.Conversations*o.GroupSize < o.Users {
		return fmt.Errorf("loadgen: %d conversations of %d members leave users outside every conversation; use at least %d",
			o.Conversations, o.GroupSize, (o.Users+o.GroupSize-1)/o.GroupSize)
	}
	if o.Idle > 0 && o.IdleUsers == 0 {
		o.IdleUsers = min(o.Idle, 10)
	}
	if o.Idle == 0 {
		o.IdleUsers = 0
	}
	return nil
}

// FilesNeeded is about how many open files a run needs, in the bench and
// in the server it loads: a socket for each connection, those of the
// set-up requests, and room for the rest.
func (o *Options) FilesNeeded() uint64 {
	if o.Visitors > 0 {
		return uint64(o.Visitors + o.Consultants + o.Managers + 8*o.Parallel + 256)
	}
	return uint64(o.Users + o.Idle + 8*o.Parallel + 256)
}

// validateVisitors checks the options of the visitor mode.
func (o *Options) validateVisitors() error {
	if o.Consultants == 0 {
		o.Consultants = 10
	}
	if o.Rate == 0 {
		o.Rate = float64(o.Visitors) / 10
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Drain == 0 {
		o.Drain = 5 * time.Second
	}
	planned := o.Rate * o.Duration.Seconds()
	switch {
	case o.Visitors < 0 || o.Visitors > 100_000:
		return errors.New("loadgen: between 1 and 100,000 visitors")
	case o.Consultants < 1 || o.Consultants > 1000:
		return errors.New("loadgen: between 1 and 1000 consultants")
	case o.Managers < 0 || o.Managers > 1000:
		return errors.New("loadgen: between 0 and 1000 managers")
	case o.Dialogs < 0 || o.Dialogs > 1_000_000:
		return errors.New("loadgen: between 0 and 1,000,000 seeded dialogs")
	case o.Idle != 0 || o.IdleUsers != 0 || o.Conversations != 0 || o.Schedule != "" || o.MessageSize != 0 || o.Reconnect || o.Soak:
		return errors.New("loadgen: idle connections, conversations, schedules, message sizes, the reconnect storm and the soak belong to the chat mode, not to the visitor mode")
	case o.Rate <= 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return errors.New("loadgen: the rate must be positive")
	case o.Duration < 0 || o.Drain < 0:
		return errors.New("loadgen: durations must be positive")
	case o.Rate > float64(o.Visitors):
		// The widget lets one visitor send 20 messages in 10 s.
		return fmt.Errorf("loadgen: %g messages/s is more than one a second per visitor, which the server refuses as a flood; at most %d",
			o.Rate, o.Visitors)
	case planned < float64(o.Visitors):
		return fmt.Errorf("loadgen: at %g messages/s not every visitor writes within %s; send for at least %s",
			o.Rate, o.Duration, time.Duration(float64(o.Visitors)/o.Rate*float64(time.Second)).Round(time.Second))
	case planned > 50e6:
		return errors.New("loadgen: more than 50 million messages in one run; lower --rate or --duration")
	}
	return nil
}
