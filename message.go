package parley

import (
	"strconv"
	"time"
)

// MsgKind is the kind of a message.
type MsgKind string

const (
	MsgText    MsgKind = "text"
	MsgFile    MsgKind = "file" // attachments, optionally with a caption
	MsgEvent   MsgKind = "event"
	MsgWhisper MsgKind = "whisper" // staff only (support, later issues)
)

// MsgStatus is a message's delivery status as its sender sees it.
type MsgStatus string

const (
	StatusQueued    MsgStatus = "queued" // not yet acknowledged (client side), or waiting for its channel
	StatusSent      MsgStatus = "sent"   // committed
	StatusDelivered MsgStatus = "delivered"
	StatusRead      MsgStatus = "read"
	StatusFailed    MsgStatus = "failed"
)

// DefaultMaxMessageLength is the default limit on a message's text, in
// characters (seed 003: 2000).
const DefaultMaxMessageLength = 2000

// Message is one entry in a conversation, ordered by Seq.
type Message struct {
	ID             int64 `json:"id"`
	ConversationID int64 `json:"conversation_id"`
	Seq            int64 `json:"seq"`
	SenderID       int64 `json:"sender_id,omitempty"` // 0 for system lines and visitors
	// ContactID is set on a visitor's own messages in a support conversation.
	ContactID int64     `json:"contact_id,omitempty"`
	Kind      MsgKind   `json:"kind"`
	Text      string    `json:"text"`
	QuoteID   int64     `json:"quote_id,omitempty"`
	Quote     *Quote    `json:"quote,omitempty"`
	ClientID  string    `json:"client_id,omitempty"`
	Files     []File    `json:"files,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	EditedAt  time.Time `json:"edited_at,omitzero"`
	DeletedAt time.Time `json:"deleted_at,omitzero"`
	// Event describes a system line (kind "event").
	Event *SystemEvent `json:"event,omitempty"`
	// Status is, for a message a channel carried to a customer, its
	// delivery as the channel reported it, with the channel's reason
	// when it failed; otherwise clients compute it from the
	// conversation's receipts.
	Status      MsgStatus `json:"status,omitempty"`
	StatusError string    `json:"status_error,omitempty"`
	// ExternalID is, while a customer's message from a channel is being
	// stored, the channel's id of it (kept with the channel's record of
	// the message, not on the message).
	ExternalID string `json:"-"`
}

// Deleted reports whether the message was deleted; its text and files are
// gone and clients show "deleted".
func (m *Message) Deleted() bool { return !m.DeletedAt.IsZero() }

// StatusFor returns the message's delivery status given the conversation's
// receipts, unless its channel reported one (kept with the message).
func (m *Message) StatusFor(r Receipts) MsgStatus {
	if m.Status != "" {
		return m.Status
	}
	switch {
	case m.Seq <= r.ReadSeq:
		return StatusRead
	case m.Seq <= r.DeliveredSeq:
		return StatusDelivered
	}
	return StatusSent
}

// ClientKey is the client id of a user's message (SenderID) or a visitor's
// (ContactID): unique per sender.
type ClientKey struct {
	SenderID  int64
	ContactID int64
	ClientID  string
}

// Key returns the message's client key.
func (m *Message) Key() ClientKey {
	return ClientKey{SenderID: m.SenderID, ContactID: m.ContactID, ClientID: m.ClientID}
}

// Quote is the excerpt of a quoted message shown above a reply.
type Quote struct {
	ID       int64  `json:"id"`
	SenderID int64  `json:"sender_id"`
	Text     string `json:"text"`
	Deleted  bool   `json:"deleted,omitempty"`
}

// SystemEvent is the content of a system line.
type SystemEvent struct {
	Action  string  `json:"action"` // see the Action constants
	ActorID int64   `json:"actor_id,omitempty"`
	UserIDs []int64 `json:"user_ids,omitempty"`
	Title   string  `json:"title,omitempty"`
	// Routing is the distribution's decision in brief, on ActionRouted
	// lines.
	Routing *RoutingLine `json:"routing,omitempty"`
	// Call is the call a call_* line is about (docs/calls.md).
	Call *CallSummary `json:"call,omitempty"`
}

// CallSummary describes a call on its system line.
type CallSummary struct {
	ID    string `json:"id"`
	Video bool   `json:"video,omitempty"`
	// Duration is the call's length in seconds, on call_ended lines.
	Duration int64 `json:"duration,omitempty"`
}

// System line actions.
const (
	ActionCreated    = "created"
	ActionAllowed    = "allowed"
	ActionJoined     = "joined"  // users added
	ActionRemoved    = "removed" // users removed by someone else
	ActionLeft       = "left"
	ActionRenamed    = "renamed"
	ActionReassigned = "reassigned" // Assistance handed to another administrator; a dialog to another manager (UserIDs: the new one, then the previous one)

	// Live chat (support conversations).
	ActionConnected    = "connected"     // a consultant connected to the dialog
	ActionDisconnected = "disconnected"  // a consultant disconnected
	ActionTransferred  = "transferred"   // moved to level 2 (UserIDs: the specialist chosen, if any)
	ActionTransferNote = "transfer_note" // staff only: the hand-over note of a transfer (Title; ActorID, UserIDs as the transfer's)
	ActionClosed       = "closed"
	ActionReopened     = "reopened"     // a message from the customer (no actor) or a manager reopened the closed dialog
	ActionUnpinned     = "unpinned"     // the dialog was unlinked from its customer
	ActionCaseCreated  = "case_created" // Title: the case number
	ActionOffline      = "offline"      // nobody could answer: the project's offline text
	ActionBlocked      = "blocked"      // the customer was blocked
	ActionUnblocked    = "unblocked"

	// The distribution (staff only: the customer never sees these).
	ActionRouted       = "routed"        // Routing: the decision and its reasons; UserIDs: the manager given the dialog, if any
	ActionOverCapacity = "over_capacity" // an administrator took or gave the dialog past a manager's capacity (Title: "6/5"; UserIDs: the manager)
	ActionReplyWarning = "reply_warning" // the customer's wait passed the warning limit
	ActionReplyOverdue = "reply_overdue" // the customer's wait passed the reply time limit (UserIDs: the manager in charge, if any)
)

// QuietActions are the system lines that record what the distribution did
// and saw: they stay in the ribbon but are not a dialog's news, so the
// list's preview and the rule for a dialog waiting pass over them.
var QuietActions = []string{ActionRouted, ActionOverCapacity, ActionReplyWarning, ActionReplyOverdue}

// File is an uploaded file; it becomes visible to a conversation's members
// when a message carrying it is sent there.
type File struct {
	ID      int64 `json:"id"`
	OwnerID int64 `json:"owner_id"`
	// ContactID is the visitor who uploaded it (OwnerID is then 0).
	ContactID      int64     `json:"contact_id,omitempty"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	Name           string    `json:"name"`
	ContentType    string    `json:"content_type"`
	Size           int64     `json:"size"`
	Width          int       `json:"width,omitempty"`
	Height         int       `json:"height,omitempty"`
	HasThumb       bool      `json:"has_thumbnail,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// BlobKey is where the file's bytes are stored.
func (f *File) BlobKey() string { return "files/" + strconv.FormatInt(f.ID, 10) }

// ThumbKey is where the file's thumbnail is stored.
func (f *File) ThumbKey() string { return "thumbs/" + strconv.FormatInt(f.ID, 10) }

// MessagePage selects a page of a conversation's history. Without Before or
// After it returns the newest messages.
type MessagePage struct {
	Before int64 // seq: messages older than this
	After  int64 // seq: messages newer than this
	Since  time.Time
	Until  time.Time
	Limit  int
}

// SearchQuery searches the messages a user may see.
type SearchQuery struct {
	UserID         int64
	Text           string
	ConversationID int64 // 0: every conversation of the user
	Before         int64 // message ID cursor
	Limit          int
}

// Reminder is a user's reminder about a message (seed 001).
type Reminder struct {
	ID             int64     `json:"id"`
	UserID         int64     `json:"user_id"`
	MessageID      int64     `json:"message_id"`
	ConversationID int64     `json:"conversation_id"`
	RemindAt       time.Time `json:"remind_at"`
	// FiredAt is when the notification was delivered; zero while pending.
	FiredAt   time.Time `json:"fired_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// Message is filled in when a reminder is shown, for its text.
	Message *Message `json:"message,omitempty"`
}
