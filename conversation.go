package parley

import "time"

// ConvKind is the kind of a conversation.
type ConvKind string

const (
	// KindDirect is between two users; it is a request until the other
	// user allows it (seed 000).
	KindDirect ConvKind = "direct"
	// KindGroup is a multi-chat with any number of users (seed 001).
	KindGroup ConvKind = "group"
	// KindAssistance is between a user and the one responsible
	// administrator; it is allowed at once (seed 000).
	KindAssistance ConvKind = "assistance"
	// KindSupport is between a contact and a project's agents (later issues).
	KindSupport ConvKind = "support"
)

// ConvState is whether messages may be exchanged in a conversation.
type ConvState string

const (
	StateRequested ConvState = "requested" // direct: waiting for the other user
	StateAllowed   ConvState = "allowed"
	StateCancelled ConvState = "cancelled" // direct: the requester withdrew the request
	StateDeclined  ConvState = "declined"  // direct: the other user refused the request
)

// Conversation is a chat between users (and, for support, a contact).
type Conversation struct {
	ID    int64     `json:"id"`
	Kind  ConvKind  `json:"kind"`
	Title string    `json:"title,omitempty"`
	State ConvState `json:"state"`
	// CreatedBy is the user who created it; for a direct request, the
	// requester.
	CreatedBy int64 `json:"created_by"`
	// Declines counts how often the other user declined this direct
	// request, and DeclinedAt is the last time; they limit asking again.
	Declines   int       `json:"declines,omitempty"`
	DeclinedAt time.Time `json:"declined_at,omitzero"`
	// Key makes direct and Assistance conversations unique per pair of
	// users; empty for groups.
	Key string `json:"-"`
	// LastSeq is the seq of the newest message.
	LastSeq int64 `json:"last_seq"`
	// Support is set on support conversations (live chat with a contact).
	Support       *Support  `json:"support,omitempty"`
	LastMessageAt time.Time `json:"last_message_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Member is a user's membership in a conversation with their own read state
// and draft.
type Member struct {
	ConversationID int64     `json:"conversation_id"`
	UserID         int64     `json:"user_id"`
	Role           string    `json:"role"` // MemberOwner or MemberRegular
	JoinedAt       time.Time `json:"joined_at"`
	// DeliveredSeq and ReadSeq are the newest messages delivered to a
	// device of the user and read by the user.
	DeliveredSeq int64 `json:"delivered_seq"`
	ReadSeq      int64 `json:"read_seq"`
	// MarkedUnread is the user's own "mark as unread"; cleared by reading.
	MarkedUnread bool      `json:"marked_unread"`
	Draft        string    `json:"draft,omitempty"`
	DraftAt      time.Time `json:"draft_at,omitzero"`
}

// MemberKey names a membership: a user in a conversation.
type MemberKey struct {
	ConversationID int64
	UserID         int64
}

// PointerMove moves a member's pointers forward (Tx.MovePointers).
type PointerMove struct {
	MemberKey
	Delivered, Read int64
	// ClearMark ends the member's own "mark as unread".
	ClearMark bool
	// ClearDraftAt, when set, empties the member's draft, dated then.
	ClearDraftAt time.Time
}

const (
	MemberOwner   = "owner"
	MemberRegular = "member"
)

// Unread is the number of messages after the member's read pointer, and at
// least 1 when the member marked the conversation unread.
func (m *Member) Unread(lastSeq int64) int64 {
	n := lastSeq - m.ReadSeq
	if n < 0 {
		n = 0
	}
	if n == 0 && m.MarkedUnread {
		n = 1
	}
	return n
}

// Receipts are the pointers every member of a conversation has reached: a
// message with seq <= ReadSeq was read by all, <= DeliveredSeq delivered to
// all. The sender's own pointers always pass their messages.
type Receipts struct {
	DeliveredSeq int64 `json:"delivered_seq"`
	ReadSeq      int64 `json:"read_seq"`
}

// ReceiptsOf computes the receipts from the members' pointers.
func ReceiptsOf(members []Member) Receipts {
	var r Receipts
	for i, m := range members {
		if i == 0 || m.DeliveredSeq < r.DeliveredSeq {
			r.DeliveredSeq = m.DeliveredSeq
		}
		if i == 0 || m.ReadSeq < r.ReadSeq {
			r.ReadSeq = m.ReadSeq
		}
	}
	return r
}

// ConvFilter selects a user's conversations.
type ConvFilter struct {
	UserID int64
	Kind   ConvKind // empty: all kinds
	// Cursor continues a listing ordered by last activity, newest first.
	Cursor string
	Limit  int
}
