package messaging

import (
	"time"

	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// ConversationView is a conversation as one user sees it.
type ConversationView struct {
	*parley.Conversation
	Members  []MemberView    `json:"members"`
	Receipts parley.Receipts `json:"receipts"`
	// The viewer's own state; absent from events sent to every member.
	Unread       int64           `json:"unread"`
	MarkedUnread bool            `json:"marked_unread"`
	ReadSeq      int64           `json:"read_seq"`
	Draft        string          `json:"draft,omitempty"`
	LastMessage  *parley.Message `json:"last_message,omitempty"`
	// AskAgainAt, on a declined direct request, is when the requester may
	// ask again; absent when they cannot (only the other user can start).
	AskAgainAt time.Time `json:"ask_again_at,omitzero"`
	// The viewer's mute (MutedUntil zero: until they unmute) and their
	// mentions after their read pointer (chat.go).
	Muted      bool      `json:"muted,omitempty"`
	MutedUntil time.Time `json:"muted_until,omitzero"`
	Mentions   int64     `json:"mentions,omitempty"`
}

// MemberView is a member with what clients show of them.
type MemberView struct {
	UserID      int64           `json:"user_id"`
	Name        string          `json:"name"`
	Email       string          `json:"email"`
	Role        string          `json:"role"`
	Presence    parley.Presence `json:"presence"`
	Active      bool            `json:"active"`
	PhotoFileID int64           `json:"photo_file_id,omitempty"`
}

// views builds the views of convs for viewer (0: no personal state).
func (s *Service) views(ctx context.Context, r parley.Reader, viewer int64, convs []*parley.Conversation) ([]*ConversationView, error) {
	ids := make([]int64, len(convs))
	for i, c := range convs {
		ids[i] = c.ID
	}
	members, err := r.MembersByConversation(ctx, ids)
	if err != nil {
		return nil, err
	}
	var userIDs []int64
	for _, ms := range members {
		for _, m := range ms {
			userIDs = append(userIDs, m.UserID)
		}
	}
	slices.Sort(userIDs)
	userIDs = slices.Compact(userIDs)
	users := make(map[int64]*parley.User, len(userIDs))
	if len(userIDs) > 0 {
		list, _, err := r.Users(ctx, parley.UserFilter{IDs: userIDs, Limit: len(userIDs)})
		if err != nil {
			return nil, err
		}
		s.presence.Fill(list...)
		for _, u := range list {
			users[u.ID] = u
		}
	}
	var last map[int64]*parley.Message
	if viewer != 0 {
		if last, err = r.LastMessages(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]*ConversationView, len(convs))
	for i, c := range convs {
		v := &ConversationView{Conversation: c, Members: []MemberView{}}
		if c.State == parley.StateDeclined {
			v.AskAgainAt = AskAgainAt(c)
		}
		ms := members[c.ID]
		v.Receipts = parley.ReceiptsOf(ms)
		for _, m := range ms {
			u := users[m.UserID]
			if u == nil {
				continue
			}
			v.Members = append(v.Members, MemberView{UserID: u.ID, Name: u.Name, Email: u.Email, Role: m.Role,
				Presence: u.Presence, Active: u.Active, PhotoFileID: u.PhotoFileID})
			if m.UserID == viewer {
				v.Unread, v.MarkedUnread, v.ReadSeq, v.Draft = m.Unread(c.LastSeq), m.MarkedUnread, m.ReadSeq, m.Draft
			}
		}
		if lm := last[c.ID]; lm != nil {
			lm.Status = lm.StatusFor(v.Receipts)
			v.LastMessage = lm
		}
		out[i] = v
	}
	return out, s.fillChatState(ctx, r, viewer, out)
}

// emitConversation emits conversation.updated to every member.
func (s *Service) emitConversation(ctx context.Context, tx parley.Tx, c *parley.Conversation) error {
	vs, err := s.views(ctx, tx, 0, []*parley.Conversation{c})
	if err != nil {
		return err
	}
	tx.Emit(parley.NewEvent(parley.EventConversationUpdated, c.ID, 0, vs[0]))
	return nil
}

// Conversations lists the actor's conversations, newest activity first.
func (s *Service) Conversations(ctx context.Context, actor *parley.User, f parley.ConvFilter) ([]*ConversationView, string, error) {
	switch f.Kind {
	case "", parley.KindDirect, parley.KindGroup, parley.KindAssistance, parley.KindSupport:
	default:
		return nil, "", parley.Invalid("kind", "kind must be direct, group, assistance or support")
	}
	f.UserID = actor.ID
	convs, next, err := s.store.Conversations(ctx, f)
	if err != nil {
		return nil, "", err
	}
	vs, err := s.views(ctx, s.store, actor.ID, convs)
	return vs, next, err
}

// Conversation returns one conversation of the actor.
func (s *Service) Conversation(ctx context.Context, actor *parley.User, id int64) (*ConversationView, error) {
	c, _, err := member(ctx, s.store, id, actor.ID)
	if err != nil {
		return nil, err
	}
	vs, err := s.views(ctx, s.store, actor.ID, []*parley.Conversation{c})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

func directKey(a, b int64) string {
	return fmt.Sprintf("direct:%d:%d", min(a, b), max(a, b))
}

// activeUser returns the user, or EINVALID if there is no such active user.
func activeUser(ctx context.Context, r parley.Reader, id int64, field string) (*parley.User, error) {
	u, err := r.UserByID(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && !u.Active) {
		return nil, parley.Invalid(field, "no active user with id %d", id)
	}
	return u, err
}

// OpenDirect opens the direct conversation between the actor and another
// user (seed 000). A new one is a request the other user must allow before
// anything can be sent. Opening one the other user requested allows it;
// opening a cancelled one requests it again.
func (s *Service) OpenDirect(ctx context.Context, actor *parley.User, userID int64) (*ConversationView, error) {
	if userID == actor.ID {
		return nil, parley.Invalid("user_id", "you cannot start a direct conversation with yourself")
	}
	var conv *parley.Conversation
	err := s.write(ctx, func(tx parley.Tx) error {
		if _, err := activeUser(ctx, tx, userID, "user_id"); err != nil {
			return err
		}
		key := directKey(actor.ID, userID)
		c, err := tx.ConversationByKey(ctx, key)
		switch {
		case parley.ErrorCode(err) == parley.ENOTFOUND:
			c = &parley.Conversation{Kind: parley.KindDirect, State: parley.StateRequested, CreatedBy: actor.ID, Key: key}
			if err := tx.CreateConversation(ctx, c); err != nil {
				return err
			}
			for _, id := range []int64{actor.ID, userID} {
				if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: id, Role: parley.MemberRegular}); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		case c.State == parley.StateAllowed:
			conv = c
			return nil
		case c.State == parley.StateRequested && c.CreatedBy == actor.ID:
			conv = c
			return nil
		case c.State == parley.StateRequested:
			// Both asked: that is consent on both sides.
			if err := s.allow(ctx, tx, actor, c); err != nil {
				return err
			}
		case c.State == parley.StateDeclined && c.CreatedBy == actor.ID:
			if err := s.mayAskAgain(ctx, tx, c, userID); err != nil {
				return err
			}
			c.State = parley.StateRequested
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		case c.State == parley.StateDeclined:
			// The one who declined asks after all: a fresh request.
			c.State, c.CreatedBy, c.Declines, c.DeclinedAt = parley.StateRequested, actor.ID, 0, time.Time{}
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		default: // withdrawn: ask again
			c.State, c.CreatedBy = parley.StateRequested, actor.ID
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		conv = c
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, conv.ID)
}

// Declined requests may be asked again only after a pause that grows with
// each refusal, and not at all after the last: then only the other user
// can start the conversation.
var askAgainAfter = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour}

// AskAgainAt is when the requester of a declined direct request may ask
// again; zero if never.
func AskAgainAt(c *parley.Conversation) time.Time {
	if c.Declines < 1 || c.Declines > len(askAgainAfter) {
		return time.Time{}
	}
	return c.DeclinedAt.Add(askAgainAfter[c.Declines-1])
}

func (s *Service) mayAskAgain(ctx context.Context, r parley.Reader, c *parley.Conversation, otherID int64) error {
	at := AskAgainAt(c)
	other, err := r.UserByID(ctx, otherID)
	if err != nil {
		return err
	}
	if at.IsZero() {
		return parley.Errorf(parley.ECONFLICT, "%s declined your request %d times; you cannot ask again, but they can still start a conversation with you",
			other.Name, c.Declines)
	}
	if s.now().Before(at) {
		return parley.Errorf(parley.ECONFLICT, "%s declined your request; you can ask again after %s", other.Name, at.UTC().Format("2 January 2006 15:04 MST"))
	}
	return nil
}

// Allow accepts a direct request sent to the actor.
func (s *Service) Allow(ctx context.Context, actor *parley.User, convID int64) (*ConversationView, error) {
	err := s.write(ctx, func(tx parley.Tx) error {
		c, _, err := member(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		if c.Kind != parley.KindDirect || c.State != parley.StateRequested {
			return parley.Errorf(parley.ECONFLICT, "there is no request to allow")
		}
		if c.CreatedBy == actor.ID {
			return parley.Errorf(parley.EFORBIDDEN, "the other user must allow your request")
		}
		if err := s.allow(ctx, tx, actor, c); err != nil {
			return err
		}
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

func (s *Service) allow(ctx context.Context, tx parley.Tx, actor *parley.User, c *parley.Conversation) error {
	c.State, c.Declines, c.DeclinedAt = parley.StateAllowed, 0, time.Time{}
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionAllowed, ActorID: actor.ID})
}

// Cancel declines a direct request sent to the actor, or withdraws one the
// actor sent. A withdrawn request may be asked again at once; a declined
// one only after a pause (AskAgainAt), and the requester sees which it was.
func (s *Service) Cancel(ctx context.Context, actor *parley.User, convID int64) (*ConversationView, error) {
	err := s.write(ctx, func(tx parley.Tx) error {
		c, _, err := member(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		if c.Kind != parley.KindDirect || c.State != parley.StateRequested {
			return parley.Errorf(parley.ECONFLICT, "there is no request to cancel")
		}
		if c.CreatedBy == actor.ID {
			c.State = parley.StateCancelled
		} else {
			c.State, c.Declines, c.DeclinedAt = parley.StateDeclined, c.Declines+1, s.now()
		}
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

// systemLine appends a system line (kind "event") to the conversation.
func (s *Service) systemLine(ctx context.Context, tx parley.Tx, c *parley.Conversation, ev parley.SystemEvent) error {
	m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgEvent, Event: &ev, CreatedAt: s.now()}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	c.LastSeq, c.LastMessageAt = m.Seq, m.CreatedAt
	if ev.ActorID != 0 {
		// The actor has seen what they did.
		if _, err := tx.SetPointers(ctx, c.ID, ev.ActorID, m.Seq, m.Seq, false); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
	}
	e := parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	return nil
}

// ChatSettings are the organisation's chat settings (seed 000, "Chat
// Settings" window).
type ChatSettings struct {
	AssistanceEnabled bool  `json:"assistance_enabled"`
	AssistanceAdminID int64 `json:"assistance_admin_id"`
}

const chatSettingsKey = "chat"

// ChatSettings returns the chat settings; everyone may read them (the web
// app shows the Assistance button from them).
func (s *Service) ChatSettings(ctx context.Context) (ChatSettings, error) {
	var cs ChatSettings
	err := s.store.Setting(ctx, chatSettingsKey, &cs)
	return cs, err
}

// SetChatSettings saves the chat settings. Enabling Assistance needs exactly
// one responsible administrator: an active admin or supervisor. When the
// responsible administrator changes, every open Assistance chat is handed
// to the new one with its whole history, and the previous one leaves it.
func (s *Service) SetChatSettings(ctx context.Context, actor *parley.User, cs ChatSettings) (ChatSettings, error) {
	err := s.write(ctx, func(tx parley.Tx) error {
		ok, err := parley.HasRight(ctx, tx, actor, parley.RightChatSettings)
		if err != nil {
			return err
		}
		if !ok {
			return parley.Errorf(parley.EFORBIDDEN, "only a chat administrator may change chat settings")
		}
		if cs.AssistanceEnabled || cs.AssistanceAdminID != 0 {
			admin, err := activeUser(ctx, tx, cs.AssistanceAdminID, "assistance_admin_id")
			if err != nil {
				return err
			}
			if admin.Role != parley.RoleAdmin && admin.Role != parley.RoleSupervisor {
				return parley.Invalid("assistance_admin_id", "the responsible administrator must be an administrator or supervisor")
			}
		}
		var old ChatSettings
		if err := tx.Setting(ctx, chatSettingsKey, &old); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, chatSettingsKey, cs); err != nil {
			return err
		}
		if cs.AssistanceAdminID != 0 && old.AssistanceAdminID != cs.AssistanceAdminID {
			if err := s.handOverAssistance(ctx, tx, actor, cs.AssistanceAdminID); err != nil {
				return err
			}
		}
		tx.Emit(parley.NewEvent(parley.EventSettings, 0, 0, map[string]any{"chat": cs}))
		return nil
	})
	return cs, err
}

// handOverAssistance makes admin the administrator of every Assistance chat.
func (s *Service) handOverAssistance(ctx context.Context, tx parley.Tx, actor *parley.User, admin int64) error {
	convs, err := tx.ConversationsByKind(ctx, parley.KindAssistance)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if c.CreatedBy == admin {
			// The new administrator's own question cannot go to
			// themselves: it stays with whoever was answering it.
			continue
		}
		ms, err := tx.Members(ctx, c.ID)
		if err != nil {
			return err
		}
		// The user who asked is the regular member; the administrator
		// holds the owner role.
		var previous int64
		for _, m := range ms {
			if m.Role == parley.MemberOwner && m.UserID != admin {
				previous = m.UserID
			}
		}
		if previous != 0 {
			if err := tx.RemoveMember(ctx, c.ID, previous); err != nil {
				return err
			}
			tx.Emit(parley.NewEvent(parley.EventConversationRemoved, c.ID, previous, map[string]int64{"conversation_id": c.ID}))
		}
		if _, err := tx.Member(ctx, c.ID, admin); parley.ErrorCode(err) == parley.ENOTFOUND {
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: admin, Role: parley.MemberOwner}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionReassigned, ActorID: actor.ID, UserIDs: []int64{admin}}); err != nil {
			return err
		}
		if err := s.emitConversation(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// OpenAssistance opens the actor's Assistance chat with the responsible
// administrator; it is allowed at once (seed 000).
func (s *Service) OpenAssistance(ctx context.Context, actor *parley.User) (*ConversationView, error) {
	var convID int64
	err := s.write(ctx, func(tx parley.Tx) error {
		var cs ChatSettings
		if err := tx.Setting(ctx, chatSettingsKey, &cs); err != nil {
			return err
		}
		if !cs.AssistanceEnabled {
			return parley.Errorf(parley.ECONFLICT, "the Assistance line is not enabled")
		}
		if cs.AssistanceAdminID == actor.ID {
			return parley.Invalid("user", "you are the responsible administrator of the Assistance line")
		}
		key := fmt.Sprintf("assistance:%d", actor.ID)
		c, err := tx.ConversationByKey(ctx, key)
		if err == nil {
			convID = c.ID
			return nil
		}
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		c = &parley.Conversation{Kind: parley.KindAssistance, State: parley.StateAllowed, CreatedBy: actor.ID, Key: key, Title: "Assistance"}
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: actor.ID, Role: parley.MemberRegular}); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: cs.AssistanceAdminID, Role: parley.MemberOwner}); err != nil {
			return err
		}
		convID = c.ID
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

const maxTitle = 100
const maxGroupMembers = 1000

func normalizeTitle(t string) (string, error) {
	t = strings.Join(strings.Fields(t), " ")
	if !utf8.ValidString(t) || utf8.RuneCountInString(t) > maxTitle {
		return "", parley.Invalid("title", "the title must have at most %d characters", maxTitle)
	}
	return t, nil
}

// CreateGroup creates a multi-chat of the actor and userIDs. With from set
// (a direct conversation of the actor), its members join too: this is "Add
// interlocutors" (seed 001); the direct conversation stays as it is.
func (s *Service) CreateGroup(ctx context.Context, actor *parley.User, title string, userIDs []int64, from int64) (*ConversationView, error) {
	title, err := normalizeTitle(title)
	if err != nil {
		return nil, err
	}
	if len(userIDs) > maxGroupMembers {
		return nil, parley.Invalid("user_ids", "a multi-chat has at most %d members", maxGroupMembers)
	}
	var convID int64
	err = s.write(ctx, func(tx parley.Tx) error {
		ids := []int64{actor.ID}
		if from != 0 {
			_, _, err := member(ctx, tx, from, actor.ID)
			if err != nil {
				return err
			}
			ms, err := tx.Members(ctx, from)
			if err != nil {
				return err
			}
			for _, m := range ms {
				ids = append(ids, m.UserID)
			}
		}
		ids = append(ids, userIDs...)
		ids = dedupe(ids)
		if len(ids) < 2 {
			return parley.Invalid("user_ids", "a multi-chat needs at least one other person")
		}
		if len(ids) > maxGroupMembers {
			return parley.Invalid("user_ids", "a multi-chat has at most %d members", maxGroupMembers)
		}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			u, err := activeUser(ctx, tx, id, "user_ids")
			if err != nil {
				return err
			}
			names = append(names, u.Name)
		}
		if title == "" {
			title = defaultTitle(names)
		}
		c := &parley.Conversation{Kind: parley.KindGroup, State: parley.StateAllowed, CreatedBy: actor.ID, Title: title}
		if err := tx.CreateConversation(ctx, c); err != nil {
			return err
		}
		for _, id := range ids {
			role := parley.MemberRegular
			if id == actor.ID {
				role = parley.MemberOwner
			}
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: id, Role: role}); err != nil {
				return err
			}
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionCreated, ActorID: actor.ID, UserIDs: ids[1:], Title: title}); err != nil {
			return err
		}
		convID = c.ID
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

func defaultTitle(names []string) string {
	t := strings.Join(names, ", ")
	if utf8.RuneCountInString(t) > maxTitle {
		t = string([]rune(t)[:maxTitle-1]) + "…"
	}
	return t
}

// groupOf returns a multi-chat the actor is a member of.
func groupOf(ctx context.Context, tx parley.Tx, convID, actorID int64) (*parley.Conversation, *parley.Member, error) {
	c, m, err := member(ctx, tx, convID, actorID)
	if err != nil {
		return nil, nil, err
	}
	if c.Kind != parley.KindGroup {
		return nil, nil, parley.Errorf(parley.ECONFLICT, "only multi-chats have members added, removed or renamed")
	}
	return c, m, nil
}

// AddMembers adds users to a multi-chat; any member may. New members see the
// whole history, with nothing unread.
func (s *Service) AddMembers(ctx context.Context, actor *parley.User, convID int64, userIDs []int64) (*ConversationView, error) {
	if len(userIDs) > maxGroupMembers {
		return nil, parley.Invalid("user_ids", "a multi-chat has at most %d members", maxGroupMembers)
	}
	err := s.write(ctx, func(tx parley.Tx) error {
		c, _, err := groupOf(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		existing, err := tx.Members(ctx, convID)
		if err != nil {
			return err
		}
		var added []int64
		for _, id := range dedupe(userIDs) {
			if slices.ContainsFunc(existing, func(m parley.Member) bool { return m.UserID == id }) {
				continue
			}
			if _, err := activeUser(ctx, tx, id, "user_ids"); err != nil {
				return err
			}
			added = append(added, id)
		}
		if len(added) == 0 {
			return parley.Invalid("user_ids", "name at least one user who is not a member yet")
		}
		if len(existing)+len(added) > maxGroupMembers {
			return parley.Invalid("user_ids", "a multi-chat has at most %d members", maxGroupMembers)
		}
		for _, id := range added {
			if err := tx.AddMember(ctx, &parley.Member{ConversationID: c.ID, UserID: id, Role: parley.MemberRegular}); err != nil {
				return err
			}
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionJoined, ActorID: actor.ID, UserIDs: added}); err != nil {
			return err
		}
		for _, id := range added {
			// Joining members start with everything read.
			if _, err := tx.SetPointers(ctx, c.ID, id, c.LastSeq, c.LastSeq, false); err != nil {
				return err
			}
		}
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

// RemoveMember removes a user from a multi-chat. Anyone may leave; removing
// someone else needs the chat's owner or a chat administrator.
func (s *Service) RemoveMember(ctx context.Context, actor *parley.User, convID, userID int64) error {
	return s.write(ctx, func(tx parley.Tx) error {
		c, m, err := groupOf(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		action := parley.ActionLeft
		if userID != actor.ID {
			action = parley.ActionRemoved
			admin, err := parley.HasRight(ctx, tx, actor, parley.RightChatSettings)
			if err != nil {
				return err
			}
			if m.Role != parley.MemberOwner && !admin {
				return parley.Errorf(parley.EFORBIDDEN, "only the chat's owner or a chat administrator may remove members")
			}
		}
		if err := tx.RemoveMember(ctx, convID, userID); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventConversationRemoved, convID, userID, map[string]int64{"conversation_id": convID}))
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: action, ActorID: actor.ID, UserIDs: []int64{userID}}); err != nil {
			return err
		}
		return s.emitConversation(ctx, tx, c)
	})
}

// Rename sets a multi-chat's title; any member may.
func (s *Service) Rename(ctx context.Context, actor *parley.User, convID int64, title string) (*ConversationView, error) {
	title, err := normalizeTitle(title)
	if err != nil {
		return nil, err
	}
	if title == "" {
		return nil, parley.Invalid("title", "the title cannot be empty")
	}
	err = s.write(ctx, func(tx parley.Tx) error {
		c, _, err := groupOf(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		c.Title = title
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		if err := s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionRenamed, ActorID: actor.ID, Title: title}); err != nil {
			return err
		}
		return s.emitConversation(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	return s.Conversation(ctx, actor, convID)
}

func dedupe(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
