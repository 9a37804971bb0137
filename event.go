package parley

import (
	"context"
	"encoding/json"
	"time"
)

// Event types carried on the real-time stream. The wire format of each is
// documented in docs/realtime.md.
const (
	EventMessageCreated      = "message.created"
	EventMessageUpdated      = "message.updated" // edited or deleted
	EventConversationUpdated = "conversation.updated"
	EventConversationRemoved = "conversation.removed" // the user is no longer a member
	EventReceipts            = "conversation.receipts"
	EventReadState           = "read_state" // the user's own pointers, unread mark, unread count
	EventDraft               = "draft"
	EventTyping              = "typing"
	EventPresence            = "presence"
	EventReminderDue         = "reminder.due"
	EventReminderUpdated     = "reminder.updated"
	EventSettings            = "settings.updated"
	EventUserUpdated         = "user.updated"
	EventSessionEnded        = "session.ended"  // a sign-out: the gateway closes that session's sockets
	EventDialogUpdated       = "dialog.updated" // a support conversation's live-chat state, to its project's staff
	EventTagUpdated          = "tag.updated"    // a customer tag was created, renamed or recoloured
	EventTagDeleted          = "tag.deleted"
	EventDialogDeleted       = "dialog.deleted"  // deleted for good, with its history and files
	EventAgentUpdated        = "agent.updated"   // a manager's availability changed
	EventQueueUpdated        = "queue.updated"   // why a project's queue waits changed
	EventProjectUpdated      = "project.updated" // a project's settings changed (to those who manage live chat)
	EventContactErased       = "contact.erased"  // a customer was erased: the gateway closes their widget's sockets
)

// Event is one change a client sees on its real-time connection.
//
// Durable events are stored in the same transaction as the change they
// describe and get a stream position (ID) that increases in commit order; a
// reconnecting client presents the last ID it saw and receives every durable
// event after it. Ephemeral events (typing, presence) have ID 0 and are only
// delivered live.
type Event struct {
	ID             int64  `json:"id,omitempty"`
	Type           string `json:"type"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	// Seq is the message's seq for message events.
	Seq  int64           `json:"seq,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
	At   time.Time       `json:"at"`

	// UserID, when set, restricts the event to that user's devices;
	// otherwise it goes to the members of ConversationID (or, with neither,
	// to every user).
	UserID int64 `json:"-"`
	// Audience lists the users the event is for, resolved when the event is
	// committed: the gateway routes by it without querying the store.
	Audience []int64 `json:"-"`
	// ProjectID is the support project of ConversationID: its specialists
	// get the event too. Set by the store.
	ProjectID int64 `json:"-"`
	// ContactID makes the event a visitor's: it goes to that contact's
	// widget only, never to a user. Visitor events carry the visitor's
	// projection of what changed, never staff data.
	ContactID int64 `json:"-"`
}

// Broadcast reports whether the event is for every signed-in user (such as
// directory changes): it names no user, conversation or audience.
func (e *Event) Broadcast() bool {
	return e.Audience == nil && e.UserID == 0 && e.ConversationID == 0 && e.ContactID == 0
}

// Bus carries events from the node that committed them to the real-time
// gateways of every node. Publish is called after commit; a subscriber on any
// node sees each published batch once, and batches from one publisher in the
// order they were published.
type Bus interface {
	// Publish hands a batch to every subscriber. It returns once the batch
	// is accepted by the transport, not once it is delivered.
	Publish(ctx context.Context, events []Event) error
	// Subscribe calls fn for every batch published by any node until the
	// returned cancel function is called. fn runs on the bus's goroutine and
	// must not block; it must not modify the events.
	Subscribe(fn func([]Event)) (cancel func(), err error)
	// Close stops delivery and releases the transport.
	Close() error
}
