package parley

import (
	"slices"
	"time"
)

// Channel is a service a project receives customers' messages through
// (issue 10): a Telegram bot, a WhatsApp number, a Facebook page, an
// Instagram account, an e-mail box, an SMS number or another system using
// the API. Customers who write through it become the project's contacts
// with the channel's address, and their dialogs go to the project's inbox
// like the widget's; replies go back through the channel.
type Channel struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	Kind      string `json:"kind"` // ChannelTelegram, ...
	// Name is shown beside the channel's icon in the dialog list.
	Name string `json:"name"`
	// Paused channels neither receive (webhooks are answered 503, so the
	// service keeps the messages and retries) nor send (replies wait in
	// the queue).
	Paused bool `json:"paused"`
	// AutoCase opens a case for every new dialog of the channel, with the
	// customer's source (seed 003's automatic order creation).
	AutoCase bool `json:"auto_case"`
	// Settings are the channel's public settings (its service's base URL,
	// a phone number id, an IMAP host, ...), as its kind defines them.
	Settings map[string]string `json:"settings"`
	// Secrets are its tokens and passwords: stored, used, never logged and
	// never returned; SecretsSet names those that are set.
	Secrets    map[string]string `json:"-"`
	SecretsSet []string          `json:"secrets_set"`
	// LastError is the service's last refusal or failure (cleared by the
	// next success), so that administrators see a broken channel.
	LastError string    `json:"last_error,omitempty"`
	ErrorAt   time.Time `json:"error_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NameSecrets fills SecretsSet from Secrets.
func (c *Channel) NameSecrets() {
	c.SecretsSet = []string{}
	for k, v := range c.Secrets {
		if v != "" {
			c.SecretsSet = append(c.SecretsSet, k)
		}
	}
	slices.Sort(c.SecretsSet)
}

// Channel message states: an outbound message is queued until its channel
// accepts it (sent) or refuses it for good (failed); an inbound one is
// received.
const (
	DeliveryQueued   = "queued"
	DeliverySent     = "sent"
	DeliveryFailed   = "failed"
	DeliveryReceived = "received"
)

// ChannelMessage is a message that crossed a channel, either way: the
// channel's own id for it, and for an outbound one its place in the
// channel's durable queue.
type ChannelMessage struct {
	MessageID      int64
	ChannelID      int64
	ConversationID int64
	Outbound       bool
	// ExternalID is the channel's id of the message (empty until sent).
	ExternalID string
	State      string // DeliveryQueued, ...
	Attempts   int
	NextAt     time.Time // when a queued message is tried (again)
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
