package parley

import "time"

// The support inbox (seed 003) is live chat's support conversations seen as
// one list: the types below extend them (the manager in charge, the
// channel, tags on the customer, quick replies, reply time limits).

// Channels through which customers write. Only the widget exists so far.
const ChannelWidget = "widget"

// Channels lists every channel, in the order the inbox shows them.
var Channels = []string{ChannelWidget}

// Who wrote a dialog's last communication (Support.LastFrom).
const (
	FromCustomer = "customer"
	FromManager  = "manager"
)

// ReplyLimits are a project's reply time limits (seed 003's "Time limits"):
// a customer's first unanswered message should be answered within Limit,
// and the list warns after Warn. Zero Limit means none, and the inbox then
// offers no processing order. Channels override them per channel.
type ReplyLimits struct {
	Warn     Seconds               `json:"warn_s"`
	Limit    Seconds               `json:"limit_s"`
	Channels map[string]ReplyLimit `json:"channels,omitempty"`
}

// ReplyLimit is one channel's pair of limits.
type ReplyLimit struct {
	Warn  Seconds `json:"warn_s"`
	Limit Seconds `json:"limit_s"`
}

// Seconds is a duration in whole seconds, as the API writes it.
type Seconds int64

// Duration converts s.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// For returns the limits that apply to a channel.
func (l ReplyLimits) For(channel string) ReplyLimit {
	if c, ok := l.Channels[channel]; ok {
		return c
	}
	return ReplyLimit{Warn: l.Warn, Limit: l.Limit}
}

// Tag is a coloured label administrators define and managers put on
// customers (seed 003).
type Tag struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"` // "#rrggbb"
	// Dialogs is how many dialogs the viewer may see have a customer with
	// the tag (pinned only, when the list asked for pinned tags); set by
	// the inbox's tag list.
	Dialogs   int64     `json:"dialogs"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ContactTag is a tag on a customer; pinned tags show under the customer's
// name in the dialog list.
type ContactTag struct {
	TagID  int64  `json:"tag_id"`
	Name   string `json:"name"`
	Color  string `json:"color"`
	Pinned bool   `json:"pinned"`
}

// QuickReply is a saved answer a manager inserts from the composer's
// lightning panel or by typing "/" and its shortcut. A manager's own are
// stored as quick replies (OwnerID); a project's are its shortcuts
// (ChatMessages.Shortcuts, edited in the project's settings), listed with
// ProjectID set and no ID.
type QuickReply struct {
	ID        int64     `json:"id,omitempty"`
	OwnerID   int64     `json:"owner_id,omitempty"`
	ProjectID int64     `json:"project_id,omitempty"`
	Shortcut  string    `json:"shortcut"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Dialog list orders.
const (
	SortActivity   = "activity"   // newest communication first, from either side
	SortProcessing = "processing" // waiting for a reply first, longest waiting at the top
)
