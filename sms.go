package parley

import "time"

// StaffSMS is a text message a staff member sent to a colleague's phone
// ("Send SMS" in the chat and the user panel), through the SMS channel the
// organisation picked as its sender. Its status follows the provider's
// reports: queued (accepted by the provider), sent (handed to the
// carrier), delivered, or failed with the reason.
type StaffSMS struct {
	ID          int64  `json:"id"`
	SenderID    int64  `json:"sender_id"`
	RecipientID int64  `json:"recipient_id"`
	To          string `json:"to"`
	Text        string `json:"text"`
	// Segments is how many SMS the text takes (what the provider bills).
	Segments   int       `json:"segments"`
	ChannelID  int64     `json:"channel_id"`
	ExternalID string    `json:"external_id,omitempty"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Statuses of a StaffSMS, in the order they advance (failed ends it at
// any point).
const (
	SMSQueued    = "queued"
	SMSSent      = "sent"
	SMSDelivered = "delivered"
	SMSFailed    = "failed"
)
