package messaging

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// The team-chat basics (issue 14, item 11): mentions, @all, reactions,
// threads and muting a chat. They are for team chats (direct, multi-chat,
// Assistance), not for dialogs with customers, whose messages a customer
// sees through a channel that carries none of them. docs/decisions.md,
// "Team-chat basics", says why each rule is what it is.

// Limits of the team-chat basics.
const (
	maxEmojiBytes    = 32 // one emoji grapheme: a ZWJ family with skin tones fits
	maxEmojiPerMsg   = 50 // different emoji on one message
	maxMentionIDs    = 100
	maxThreadPage    = 200
	mentionAllKeywrd = "all"
)

var errTeamChatOnly = parley.Invalid("conversation_id", "mentions, reactions, threads and mutes are for team chats, not dialogs with customers")

// validEmoji reports whether e is one emoji grapheme: one pictograph (or
// a regional-indicator flag, or a keycap), or several joined by ZWJ, with
// variation selectors, skin tones and tag characters; no letters, spaces,
// control characters or two emoji side by side.
func validEmoji(e string) bool {
	if e == "" || len(e) > maxEmojiBytes || !utf8.ValidString(e) {
		return false
	}
	runes := []rune(e)
	clusters := 0
	joined := false   // the previous rune was a ZWJ
	regional := false // the previous pictograph was a lone regional indicator
	for i, r := range runes {
		switch {
		case r == 0x200D: // zero-width joiner: between two pictographs
			if i == 0 || i == len(runes)-1 || joined {
				return false
			}
			joined = true
			continue
		case r == 0xFE0F || r == 0xFE0E || r == 0x20E3: // variation selectors, keycap
		case r >= 0x1F3FB && r <= 0x1F3FF: // skin tones
		case r >= 0xE0020 && r <= 0xE007F: // tags (subdivision flags)
		case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators: two make a flag
			if regional {
				regional = false
			} else {
				regional = true
				if !joined {
					clusters++
				}
			}
		case (r == '#' || r == '*' || (r >= '0' && r <= '9')) && i == 0 && slices.Contains(runes, 0x20E3):
			clusters++
		case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2190 && r <= 0x21FF,
			r >= 0x2300 && r <= 0x23FF, r >= 0x2B00 && r <= 0x2BFF, r >= 0x2900 && r <= 0x297F,
			r == 0x00A9 || r == 0x00AE || r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299:
			if !unicode.IsGraphic(r) {
				return false
			}
			regional = false
			if !joined {
				clusters++
			}
		default:
			return false
		}
		joined = false
	}
	return clusters == 1
}

// ReactionsEvent is the payload of message.reactions: the change and the
// message's whole list after it, so applying it twice changes nothing.
type ReactionsEvent struct {
	ConversationID int64             `json:"conversation_id"`
	MessageID      int64             `json:"message_id"`
	Seq            int64             `json:"seq"`
	ThreadID       int64             `json:"thread_id,omitempty"`
	UserID         int64             `json:"user_id"`
	Emoji          string            `json:"emoji"`
	Added          bool              `json:"added"`
	Reactions      []parley.Reaction `json:"reactions"`
}

// React adds (add) or removes the actor's emoji on a message of a team
// chat they are a member of, and returns the message's reactions. Adding
// twice or removing what is not there changes nothing and emits nothing.
func (s *Service) React(ctx context.Context, actor *parley.User, msgID int64, emoji string, add bool) ([]parley.Reaction, error) {
	if !validEmoji(emoji) {
		return nil, parley.Invalid("emoji", "a reaction is one emoji")
	}
	var out []parley.Reaction
	err := s.write(ctx, func(tx parley.Tx) error {
		m, err := tx.MessageByID(ctx, msgID)
		if err != nil {
			return err
		}
		c, _, err := member(ctx, tx, m.ConversationID, actor.ID)
		if err != nil {
			return parley.Errorf(parley.ENOTFOUND, "message not found")
		}
		if c.Support != nil {
			return errTeamChatOnly
		}
		if err := canSend(c); err != nil {
			return err
		}
		if m.Kind == parley.MsgEvent {
			return parley.Invalid("message_id", "system lines take no reactions")
		}
		if m.Deleted() {
			return parley.Errorf(parley.ECONFLICT, "the message was deleted")
		}
		all, err := tx.Reactions(ctx, []int64{m.ID})
		if err != nil {
			return err
		}
		out = all[m.ID]
		if add && len(out) >= maxEmojiPerMsg && !slices.ContainsFunc(out, func(r parley.Reaction) bool { return r.Emoji == emoji }) {
			return parley.Errorf(parley.ECONFLICT, "this message has %d different reactions, the most it can have", maxEmojiPerMsg)
		}
		var changed bool
		if add {
			changed, err = tx.AddReaction(ctx, c.ID, m.ID, actor.ID, emoji, s.now())
		} else {
			changed, err = tx.RemoveReaction(ctx, m.ID, actor.ID, emoji)
		}
		if err != nil || !changed {
			return err
		}
		if all, err = tx.Reactions(ctx, []int64{m.ID}); err != nil {
			return err
		}
		out = all[m.ID]
		e := parley.NewEvent(parley.EventReaction, c.ID, 0, ReactionsEvent{ConversationID: c.ID, MessageID: m.ID, Seq: m.Seq,
			ThreadID: m.ThreadID, UserID: actor.ID, Emoji: emoji, Added: add, Reactions: nonNilReactions(out)})
		e.Seq = m.Seq
		tx.Emit(e)
		return nil
	})
	return nonNilReactions(out), err
}

func nonNilReactions(r []parley.Reaction) []parley.Reaction {
	if r == nil {
		return []parley.Reaction{}
	}
	return r
}

// fillReactions puts each message's reactions on it.
func (s *Service) fillReactions(ctx context.Context, r parley.Reader, msgs ...*parley.Message) error {
	ids := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		if m.Kind != parley.MsgEvent {
			ids = append(ids, m.ID)
		}
	}
	all, err := r.Reactions(ctx, ids)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		m.Reactions = all[m.ID]
	}
	return nil
}

// MuteInput mutes a conversation until a time, or (Until zero) until the
// user unmutes it.
type MuteInput struct {
	Until time.Time `json:"until,omitzero"`
}

// MuteState is a member's mute of a conversation, sent to their devices.
type MuteState struct {
	ConversationID int64     `json:"conversation_id"`
	Muted          bool      `json:"muted"`
	Until          time.Time `json:"until,omitzero"`
}

// SetMute mutes (in non-nil) or unmutes a team chat for the actor: a
// muted chat makes no sound or notification but for mentions of them,
// and its unread messages leave the total out (docs/decisions.md).
func (s *Service) SetMute(ctx context.Context, actor *parley.User, convID int64, in *MuteInput) (*MuteState, error) {
	now := s.now()
	if in != nil && !in.Until.IsZero() && !in.Until.After(now) {
		return nil, parley.Invalid("until", "a mute ends in the future")
	}
	st := &MuteState{ConversationID: convID}
	err := s.write(ctx, func(tx parley.Tx) error {
		c, _, err := member(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		if c.Support != nil {
			return errTeamChatOnly
		}
		var m *parley.Mute
		if in != nil {
			m = &parley.Mute{ConversationID: convID, UserID: actor.ID, Until: in.Until.UTC().Truncate(time.Millisecond)}
			st.Muted, st.Until = true, m.Until
		}
		if err := tx.SetMute(ctx, convID, actor.ID, m); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventMuted, convID, actor.ID, st))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Muted reports whether userID muted the conversation at now: for
// notifiers (Web Push, e-mail) that must stay quiet in a muted chat but
// for mentions.
func (s *Service) Muted(ctx context.Context, userID, convID int64) (bool, error) {
	ms, err := s.store.Mutes(ctx, userID, []int64{convID})
	if err != nil {
		return false, err
	}
	return ms[convID].Active(s.now()), nil
}

// fillChatState adds the viewer's mutes and unread mentions to views.
func (s *Service) fillChatState(ctx context.Context, r parley.Reader, viewer int64, vs []*ConversationView) error {
	if viewer == 0 || len(vs) == 0 {
		return nil
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	mutes, err := r.Mutes(ctx, viewer, ids)
	if err != nil {
		return err
	}
	mentions, err := r.UnreadMentions(ctx, viewer, ids)
	if err != nil {
		return err
	}
	now := s.now()
	for _, v := range vs {
		if m := mutes[v.ID]; m.Active(now) {
			v.Muted, v.MutedUntil = true, m.Until
		}
		v.Mentions = mentions[v.ID]
	}
	return nil
}

// leaveOutMuted takes the actor's muted chats out of their unread total
// (Slack's rule: a muted chat makes no badge), but for their unread
// mentions there, which count.
func (s *Service) leaveOutMuted(ctx context.Context, actor *parley.User, u *Unread) error {
	mutes, err := s.store.Mutes(ctx, actor.ID, nil)
	if err != nil || len(mutes) == 0 {
		return err
	}
	now := s.now()
	var ids []int64
	for id, m := range mutes {
		if m.Active(now) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	members, err := s.store.MembersOf(ctx, actor.ID, ids)
	if err != nil {
		return err
	}
	mentions, err := s.store.UnreadMentions(ctx, actor.ID, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		m := members[id]
		if m == nil {
			continue
		}
		c, err := s.store.ConversationByID(ctx, id)
		if err != nil {
			return err
		}
		if n := m.Unread(c.LastSeq); n > 0 {
			u.Messages -= n
			u.Conversations--
			if k := mentions[id]; k > 0 {
				u.Messages += min(k, n)
				u.Conversations++
			}
		}
	}
	u.Messages, u.Conversations = max(u.Messages, 0), max(u.Conversations, 0)
	return nil
}

// ThreadPage is a thread: its first message and a page of its replies.
type ThreadPage struct {
	Root    *parley.Message   `json:"root"`
	Replies []*parley.Message `json:"replies"`
}

// Thread returns a thread's first message and a page of its replies
// (oldest first: the newest page, or before/after a seq).
func (s *Service) Thread(ctx context.Context, actor *parley.User, rootID int64, p parley.MessagePage) (*ThreadPage, error) {
	root, err := s.store.MessageByID(ctx, rootID)
	if err != nil {
		return nil, err
	}
	if _, _, err := member(ctx, s.store, root.ConversationID, actor.ID); err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	if root.ThreadID != 0 {
		return nil, parley.Invalid("id", "this message is a reply in a thread; open its thread's first message")
	}
	if p.Limit > maxThreadPage {
		p.Limit = maxThreadPage
	}
	replies, err := s.store.ThreadMessages(ctx, rootID, p)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, root.ConversationID)
	if err != nil {
		return nil, err
	}
	rc := parley.ReceiptsOf(ms)
	all := append([]*parley.Message{root}, replies...)
	for _, m := range all {
		m.Status = m.StatusFor(rc)
	}
	if err := s.fillReactions(ctx, s.store, all...); err != nil {
		return nil, err
	}
	if replies == nil {
		replies = []*parley.Message{}
	}
	return &ThreadPage{Root: root, Replies: replies}, nil
}

// composeChat checks a message's thread and resolves its mentions, inside
// the send's transaction (compose).
func (s *Service) composeChat(ctx context.Context, tx parley.Tx, c *parley.Conversation, r *sendReq, m *parley.Message) error {
	in := &r.in
	if c.Support != nil {
		if in.ThreadID != 0 || len(in.Mentions) > 0 || in.InChannel {
			return errTeamChatOnly
		}
		return nil
	}
	if in.InChannel && in.ThreadID == 0 {
		return parley.Invalid("in_channel", "in_channel is for a reply in a thread")
	}
	if in.ThreadID != 0 {
		root, err := tx.MessageByID(ctx, in.ThreadID)
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		if err != nil || root.ConversationID != c.ID || root.Kind == parley.MsgEvent {
			return parley.Invalid("thread_id", "the thread's message is not in this conversation")
		}
		if root.ThreadID != 0 {
			return parley.Invalid("thread_id", "a reply in a thread cannot start a thread: reply in its thread")
		}
		if root.Deleted() && root.Thread == nil {
			return parley.Errorf(parley.ECONFLICT, "the message was deleted")
		}
		m.ThreadID, m.InChannel = root.ID, in.InChannel
	}
	if len(in.Mentions) > maxMentionIDs {
		return parley.Invalid("mentions", "at most %d mentions", maxMentionIDs)
	}
	if len(in.Mentions) == 0 && !strings.Contains(in.Text, "@") {
		return nil
	}
	ms, err := tx.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ms))
	for i, x := range ms {
		ids[i] = x.UserID
	}
	users, _, err := tx.Users(ctx, parley.UserFilter{IDs: ids, Limit: len(ids)})
	if err != nil {
		return err
	}
	m.Mentions = resolveMentions(in.Text, in.Mentions, users, c.Kind == parley.KindGroup)
	if m.Mentions.Empty() {
		m.Mentions = nil
	}
	return nil
}

// resolveMentions finds the mentions of a text among a conversation's
// members: an @ followed by a member's name (the longest that matches,
// ending at a word's end), and the ids the client sent that are members.
// An id that is no member is dropped: it neither notifies nor links.
// @all counts only in a multi-chat.
func resolveMentions(text string, sent []int64, members []*parley.User, group bool) *parley.Mentions {
	out := &parley.Mentions{}
	isMember := make(map[int64]bool, len(members))
	for _, u := range members {
		isMember[u.ID] = true
	}
	add := func(id int64) {
		if isMember[id] && !slices.Contains(out.UserIDs, id) {
			out.UserIDs = append(out.UserIDs, id)
		}
	}
	for _, id := range sent {
		add(id)
	}
	lower := strings.ToLower(text)
	for i := 0; i < len(lower); i++ {
		if lower[i] != '@' || (i > 0 && wordRune(lastRune(lower[:i]))) {
			continue
		}
		rest := lower[i+1:]
		if group && hasWord(rest, mentionAllKeywrd) {
			out.All = true
			continue
		}
		var best *parley.User
		for _, u := range members {
			n := strings.ToLower(u.Name)
			if n != "" && hasWord(rest, n) && (best == nil || len(n) > len(best.Name)) {
				best = u
			}
		}
		if best != nil {
			add(best.ID)
		}
	}
	slices.Sort(out.UserIDs)
	return out
}

// hasWord reports whether s starts with w followed by the end or a
// character that is no letter or digit.
func hasWord(s, w string) bool {
	if !strings.HasPrefix(s, w) {
		return false
	}
	if len(s) == len(w) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[len(w):])
	return !wordRune(r)
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// storedChat finishes a stored team-chat message: the users it mentions
// get their mention rows, and a reply moves its thread's summary, whose
// first message is announced again (message.updated).
func (s *Service) storedChat(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	if c.Support != nil {
		return nil
	}
	if !m.Mentions.Empty() {
		var notify []int64
		if m.Mentions.All {
			ms, err := tx.Members(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, x := range ms {
				notify = append(notify, x.UserID)
			}
		} else {
			notify = m.Mentions.UserIDs
		}
		rows := make([]parley.MentionRow, 0, len(notify))
		for _, id := range notify {
			if id != m.SenderID {
				rows = append(rows, parley.MentionRow{UserID: id, ConversationID: c.ID, Seq: m.Seq, MessageID: m.ID})
			}
		}
		if err := tx.InsertMentions(ctx, rows); err != nil {
			return err
		}
	}
	if m.ThreadID == 0 {
		return nil
	}
	root, err := tx.MessageByID(ctx, m.ThreadID)
	if err != nil {
		return err
	}
	t := root.Thread
	if t == nil {
		t = &parley.ThreadSummary{UserIDs: []int64{}}
	}
	t.Replies++
	t.LastReplyAt = m.CreatedAt
	if !slices.Contains(t.UserIDs, m.SenderID) {
		t.UserIDs = append(t.UserIDs, m.SenderID)
	}
	if err := tx.SetThread(ctx, root.ID, *t); err != nil {
		return err
	}
	root.Thread = t
	if err := s.fillReactions(ctx, tx, root); err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventMessageUpdated, root.ConversationID, 0, root)
	e.Seq = root.Seq
	tx.Emit(e)
	return nil
}
