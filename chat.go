package parley

import (
	"context"
	"time"
)

// Team-chat basics (issue 14, item 11): threads, mentions, reactions and
// muting a conversation. See docs/decisions.md, "Team-chat basics".

// Event types of the team-chat basics (docs/realtime.md).
const (
	// EventReaction is a reaction added or removed, to the conversation's
	// members: the message's whole reaction list after the change.
	EventReaction = "message.reactions"
	// EventMuted is a member's mute changed, to that member's devices.
	EventMuted = "conversation.muted"
)

// Mentions are the users a message mentions: members of its conversation
// when it was sent. All is an @all in a multi-chat.
type Mentions struct {
	UserIDs []int64 `json:"user_ids,omitempty"`
	All     bool    `json:"all,omitempty"`
}

// Empty reports whether the message mentions nobody.
func (m *Mentions) Empty() bool { return m == nil || (len(m.UserIDs) == 0 && !m.All) }

// ThreadSummary is, on a thread's first message, what its replies are.
type ThreadSummary struct {
	Replies     int64     `json:"replies"`
	LastReplyAt time.Time `json:"last_reply_at"`
	// UserIDs are the users who replied, in the order they first did.
	UserIDs []int64 `json:"user_ids"`
}

// Reaction is one emoji on a message with the users who reacted with it,
// in the order they did.
type Reaction struct {
	Emoji   string  `json:"emoji"`
	Count   int     `json:"count"`
	UserIDs []int64 `json:"user_ids"`
}

// Mute is a member's muting of a conversation: until a time, or (Until
// zero) until they unmute.
type Mute struct {
	ConversationID int64     `json:"conversation_id"`
	UserID         int64     `json:"user_id"`
	Until          time.Time `json:"until,omitzero"`
}

// Active reports whether the mute holds at now.
func (m *Mute) Active(now time.Time) bool {
	return m != nil && (m.Until.IsZero() || m.Until.After(now))
}

// MentionRow is one user notified by a message's mention.
type MentionRow struct {
	UserID         int64
	ConversationID int64
	Seq            int64
	MessageID      int64
}

// ChatReader is the queries of the team-chat basics (part of Reader).
type ChatReader interface {
	// ThreadMessages returns a page of a thread's replies in ascending seq
	// order (p's Before/After/Limit).
	ThreadMessages(ctx context.Context, threadID int64, p MessagePage) ([]*Message, error)
	// Reactions returns the reactions of the given messages, by message,
	// emoji in the order first used.
	Reactions(ctx context.Context, messageIDs []int64) (map[int64][]Reaction, error)
	// Mutes returns userID's mutes of the given conversations (nil: of
	// every conversation; expired ones too: the caller compares with the
	// time).
	Mutes(ctx context.Context, userID int64, convIDs []int64) (map[int64]*Mute, error)
	// UnreadMentions counts, per conversation of convIDs, the mentions of
	// userID after their read pointer.
	UnreadMentions(ctx context.Context, userID int64, convIDs []int64) (map[int64]int64, error)
}

// ChatWriter is the writes of the team-chat basics (part of Tx).
type ChatWriter interface {
	// AddReaction adds userID's emoji to a message; false if it was there.
	AddReaction(ctx context.Context, convID, messageID, userID int64, emoji string, at time.Time) (bool, error)
	// RemoveReaction removes it; false if it was not there.
	RemoveReaction(ctx context.Context, messageID, userID int64, emoji string) (bool, error)
	// SetMute mutes (mute non-nil) or unmutes a conversation for a user.
	SetMute(ctx context.Context, convID, userID int64, mute *Mute) error
	// InsertMentions records who a stored message notifies.
	InsertMentions(ctx context.Context, rows []MentionRow) error
	// SetThread writes a thread's summary on its first message.
	SetThread(ctx context.Context, rootID int64, t ThreadSummary) error
}
