package parley

import (
	"strings"
	"time"
)

// The support inbox (seed 003) is live chat's support conversations seen as
// one list: the types below extend them (the manager in charge, the
// channel, tags on the customer, quick replies, reply time limits).

// Channels through which customers write: the website widget, and the
// services a project connects (see Channel).
const (
	ChannelWidget    = "widget"
	ChannelTelegram  = "telegram"
	ChannelWhatsApp  = "whatsapp"
	ChannelMessenger = "messenger"
	ChannelInstagram = "instagram"
	ChannelEmail     = "email"
	ChannelSMS       = "sms"
	ChannelAPI       = "api"
)

// Channels lists every channel, in the order the inbox shows them.
var Channels = []string{ChannelWidget, ChannelTelegram, ChannelWhatsApp, ChannelMessenger, ChannelInstagram,
	ChannelEmail, ChannelSMS, ChannelAPI}

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
	Channels map[string]ReplyLimit `json:"channels,omitempty" max:"20"`
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

// DialogView is a dialog's read state for a user who sees it without being
// connected to it (a member's is on their member row). Such a viewer's
// unread count is the dialog's unanswered customer messages, unless they
// read it since its last message, and at least 1 while they marked it
// unread.
type DialogView struct {
	ConversationID int64
	UserID         int64
	ReadSeq        int64
	MarkedUnread   bool
}

// Unread is the viewer's unread count of c: its unanswered messages, or
// those after the viewer's last read, whichever is fewer.
func (v *DialogView) Unread(c *Conversation) int64 {
	var n int64
	if c.Support != nil {
		n = c.Support.Unanswered
		if v != nil {
			n = min(n, max(0, c.LastSeq-v.ReadSeq))
		}
	}
	if n == 0 && v != nil && v.MarkedUnread {
		n = 1
	}
	return n
}

// AttachmentLimits are the largest files a channel carries, in bytes, by
// kind (seed 003's table; 0 means the server's own limit).
type AttachmentLimits struct {
	Image int64 `json:"image"`
	Audio int64 `json:"audio"`
	Video int64 `json:"video"`
	Other int64 `json:"other"`
}

// Attachment kinds, as a file's content type makes them.
const (
	AttachImage = "image"
	AttachAudio = "audio"
	AttachVideo = "video"
	AttachOther = "other"
)

// AttachmentKind is the kind of file a content type is.
func AttachmentKind(contentType string) string {
	for _, k := range []string{AttachImage, AttachAudio, AttachVideo} {
		if strings.HasPrefix(contentType, k+"/") {
			return k
		}
	}
	return AttachOther
}

// For returns the limit for a file of the content type (0: none).
func (l AttachmentLimits) For(contentType string) int64 {
	switch AttachmentKind(contentType) {
	case AttachImage:
		return l.Image
	case AttachAudio:
		return l.Audio
	case AttachVideo:
		return l.Video
	}
	return l.Other
}

// Capped returns l with every limit at most max (0 becomes max).
func (l AttachmentLimits) Capped(max int64) AttachmentLimits {
	c := func(v int64) int64 {
		if v <= 0 || v > max {
			return max
		}
		return v
	}
	return AttachmentLimits{c(l.Image), c(l.Audio), c(l.Video), c(l.Other)}
}

const mb = 1 << 20

// DefaultAttachmentLimits are seed 003's limits of the messengers' own
// APIs, by channel (checked against each service's documentation in
// CHANNELS.md), plus e-mail's usual 25 MB and a Twilio MMS's 5 MB; the
// widget and the API channel, not listed, have the server's file limit.
// A project can lower (or, up to the server's limit, raise) them per
// channel (Project.AttachmentLimits).
var DefaultAttachmentLimits = map[string]AttachmentLimits{
	ChannelMessenger: {8 * mb, 25 * mb, 25 * mb, 25 * mb},
	ChannelInstagram: {8 * mb, 25 * mb, 25 * mb, 25 * mb},
	ChannelWhatsApp:  {5 * mb, 16 * mb, 16 * mb, 100 * mb},
	ChannelTelegram:  {10 * mb, 50 * mb, 50 * mb, 50 * mb},
	ChannelEmail:     {25 * mb, 25 * mb, 25 * mb, 25 * mb},
	ChannelSMS:       {5 * mb, 5 * mb, 5 * mb, 5 * mb},
}

// AttachmentLimitsFor returns the limits of a project's channel: the
// project's own, else the channel's default, each at most max (the
// server's file limit).
func (p *Project) AttachmentLimitsFor(channel string, max int64) AttachmentLimits {
	if l, ok := p.AttachmentLimits[channel]; ok {
		return l.Capped(max)
	}
	return DefaultAttachmentLimits[channel].Capped(max)
}
