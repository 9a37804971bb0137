package api

// The wire format of the API channel, both ways. docs/channels.md
// documents it for the people who write the other system.

// Event is one event a system sends Parley: a customer's message or the
// news of a reply Parley sent. A call carries one Event, or a Batch.
//
//	{"type": "message", "message": {...}}
//	{"type": "status", "status": {...}}
type Event struct {
	Type    string   `json:"type"` // "message" or "status"
	Message *Message `json:"message,omitempty"`
	Status  *Status  `json:"status,omitempty"`
}

// Batch is several events in one call, stored in order:
//
//	{"events": [{"type": "message", ...}, {"type": "status", ...}]}
type Batch struct {
	Events []Event `json:"events"`
}

// Message is a customer's message, as the system sends it.
type Message struct {
	// ID is the system's id of the message, unique in the channel: a
	// message sent again with the same id is stored once. Ids starting
	// with "parley-" are Parley's.
	ID   string `json:"id"`
	From Sender `json:"from"`
	// Text and Files: at least one of them.
	Text string `json:"text,omitempty"`
	// ReplyTo is the id of the message this one answers: one of the
	// customer's, or the id the system gave one of Parley's replies.
	ReplyTo string `json:"reply_to,omitempty"`
	Files   []File `json:"files,omitempty"`
}

// Sender is the customer: ID is the system's id for them (their address
// in the channel, where replies go); the rest fills a new customer's card.
type Sender struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// File is a customer's attachment: a link Parley fetches it from (URL),
// or its bytes in standard base64 (Data); one of them.
type File struct {
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	URL         string `json:"url,omitempty"`
	Data        string `json:"data,omitempty"`
}

// Status is the system's news of a reply Parley sent it.
type Status struct {
	// ID is the id the system gave the reply (its answer's "id"), or
	// "parley-<message id>" when it gave none.
	ID     string `json:"id"`
	Status string `json:"status"`          // "delivered", "read" or "failed"
	Error  string `json:"error,omitempty"` // why it failed, shown on the reply
}

// Reply is what Parley POSTs to the system's url: a manager's reply to a
// customer.
//
//	{"type": "message", "message": {...}, "sent_at": "2026-01-02T15:04:05.000Z"}
type Reply struct {
	Type    string       `json:"type"` // "message"
	Message ReplyMessage `json:"message"`
	// SentAt is when the manager sent it (the same on every retry).
	SentAt string `json:"sent_at"`
}

// ReplyMessage is a reply.
type ReplyMessage struct {
	// ID is Parley's id of the message; a reply sent again (after a
	// timeout) has the same id, so the system can skip duplicates.
	ID             int64       `json:"id"`
	ConversationID int64       `json:"conversation_id"`
	To             Recipient   `json:"to"`
	Text           string      `json:"text,omitempty"`
	ReplyTo        string      `json:"reply_to,omitempty"` // the system's id of the message it answers
	Files          []ReplyFile `json:"files,omitempty"`
}

// Recipient is the customer a reply is for: the id the system gave them.
type Recipient struct {
	ID string `json:"id"`
}

// ReplyFile is a reply's attachment: a link to fetch it from, valid for a
// day, or, when the server has no public URL, its bytes in standard
// base64.
type ReplyFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url,omitempty"`
	Data        string `json:"data,omitempty"`
}

// Ping is the call Parley's "test connection" makes: {"type": "ping"}.
type Ping struct {
	Type   string `json:"type"` // "ping"
	SentAt string `json:"sent_at"`
}

// Answer is the system's optional answer to a reply: its own id for the
// message, used in its status reports and replies' reply_to.
type Answer struct {
	ID string `json:"id"`
}
