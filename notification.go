package parley

import "time"

// PushSubscription is one browser's Web Push subscription (the Push API's
// PushSubscription): where its push service takes messages for it and the
// keys that encrypt them (RFC 8291).
type PushSubscription struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"-"`
	Endpoint string `json:"endpoint"`
	// P256DH is the browser's public key, Auth its authentication
	// secret, both base64url as the browser gives them.
	P256DH    string    `json:"-"`
	Auth      string    `json:"-"`
	UserAgent string    `json:"user_agent"`
	CreatedAt time.Time `json:"created_at"`
}

// NotifySettings are a user's choices about the notifications that reach
// them while Parley is closed (notify package).
type NotifySettings struct {
	// EmailAfterMinutes: e-mail a digest of what stays unread this long;
	// 0 is never, -1 (stored) is the default (60 when a mailer exists).
	EmailAfterMinutes int `json:"email_after_minutes"`
	// Do-not-disturb hours in TimeZone: from From to To ("HH:MM", To may
	// be before From: the hours cross midnight) on Days (0 Sunday ..
	// 6 Saturday, the day the hours start).
	DNDEnabled bool   `json:"dnd_enabled"`
	DNDFrom    string `json:"dnd_from"`
	DNDTo      string `json:"dnd_to"`
	DNDDays    []int  `json:"dnd_days" max:"7"`
	TimeZone   string `json:"time_zone"`
	// PausedUntil pauses every notification until then (zero: not
	// paused).
	PausedUntil time.Time `json:"paused_until"`
	// CallsBreakThrough lets an incoming call (and a mention) through
	// do-not-disturb hours, though not through a pause.
	CallsBreakThrough bool `json:"calls_break_through"`
}

// DefaultNotifySettings are a new user's.
func DefaultNotifySettings() NotifySettings {
	return NotifySettings{EmailAfterMinutes: -1, DNDFrom: "22:00", DNDTo: "08:00",
		DNDDays: []int{0, 1, 2, 3, 4, 5, 6}, TimeZone: "UTC"}
}

// NotifyCandidate is a member's conversation with messages not yet read
// and not yet notified on a channel ("push" or "email").
type NotifyCandidate struct {
	UserID         int64
	ConversationID int64
	LastSeq        int64 // the conversation's newest
	ReadSeq        int64 // the member's read pointer
	DoneSeq        int64 // the newest already notified on the channel
	LastMessageAt  time.Time
}

// NotifyNote is a notification queued for a user by another service (an
// incoming call, a mention): the notifier pushes it if the user has no
// tab open.
type NotifyNote struct {
	ID     int64     `json:"id"`
	UserID int64     `json:"user_id"`
	Kind   string    `json:"kind"` // call, mention, ...
	Title  string    `json:"title"`
	Body   string    `json:"body"`
	URL    string    `json:"url"` // a path of the web app
	Tag    string    `json:"tag"` // a newer note with one tag replaces the older on the device
	At     time.Time `json:"at"`
}
