package parley

import "time"

// Webhook delivers the event stream to another system's URL (issue 10):
// a project's dialog events, every project's (ProjectID 0), or, for a bot
// (UserID), exactly the events the bot's own connection would get. Each
// webhook reads the stream from its own cursor, in order, so a receiver
// that was down gets what it missed.
type Webhook struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id,omitempty"`
	UserID    int64  `json:"user_id,omitempty"`
	URL       string `json:"url"`
	// Events are the event types delivered (empty: all).
	Events []string `json:"events"`
	// Secret signs every call (HMAC-SHA256 with a timestamp); it is shown
	// once, when the webhook is created.
	Secret string `json:"-"`
	Active bool   `json:"active"`
	// Cursor is the stream position delivered up to.
	Cursor    int64     `json:"cursor"`
	LastError string    `json:"last_error,omitempty"`
	ErrorAt   time.Time `json:"error_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookDelivery is one attempt to deliver an event: the webhook's log.
type WebhookDelivery struct {
	ID         int64     `json:"id"`
	WebhookID  int64     `json:"webhook_id"`
	EventID    int64     `json:"event_id"`
	EventType  string    `json:"event_type"`
	Attempt    int       `json:"attempt"`
	OK         bool      `json:"ok"`
	StatusCode int       `json:"status_code,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}
