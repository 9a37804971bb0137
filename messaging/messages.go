package messaging

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// SendInput is a message to send.
type SendInput struct {
	ConversationID int64   `json:"conversation_id"`
	ClientID       string  `json:"client_id"`
	Text           string  `json:"text"`
	QuoteID        int64   `json:"quote_id"`
	FileIDs        []int64 `json:"file_ids"`
	// Whisper sends a text only the staff of a support conversation see.
	Whisper bool `json:"whisper"`
	// Cards refer to records the sender may see (see CardChecker).
	Cards []parley.CardRef `json:"cards,omitempty"`
	// Client and ClientVersion name the app the message was written from.
	Client        string `json:"-"`
	ClientVersion string `json:"-"`
	// ExternalID is a channel's id of a customer's message (see
	// parley.Message.ExternalID).
	ExternalID string `json:"-"`
	// ThreadID makes the message a reply in the thread of that message;
	// InChannel sends it to the main timeline too. Mentions are user ids
	// the client resolved (the server also finds @Name in the text).
	ThreadID  int64   `json:"thread_id"`
	InChannel bool    `json:"in_channel"`
	Mentions  []int64 `json:"mentions"`
}

const maxClientID = 64

func (s *Service) validateSend(in *SendInput, visitor bool) error {
	// A visitor's send may leave the conversation out: it goes to their
	// open dialog, opened with it if they have none.
	if in.ConversationID < 0 || (in.ConversationID == 0 && !visitor) {
		return parley.Invalid("conversation_id", "conversation_id is required")
	}
	if len(in.ClientID) > maxClientID || !utf8.ValidString(in.ClientID) {
		return parley.Invalid("client_id", "client_id must have at most %d characters", maxClientID)
	}
	if err := s.validText(in.Text); err != nil {
		return err
	}
	if strings.TrimSpace(in.Text) == "" && len(in.FileIDs) == 0 && len(in.Cards) == 0 {
		return parley.Invalid("text", "a message needs text or a file")
	}
	if in.Whisper && len(in.FileIDs) > 0 {
		return parley.Invalid("file_ids", "a whisper can only be text")
	}
	if len(in.FileIDs) > s.cfg.MaxFilesPerMsg {
		return parley.Invalid("file_ids", "at most %d files per message", s.cfg.MaxFilesPerMsg)
	}
	in.FileIDs = dedupe(in.FileIDs)
	return validCards(in.Cards, visitor)
}

func (s *Service) validText(t string) error {
	if !utf8.ValidString(t) {
		return parley.Invalid("text", "the text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(t); n > s.cfg.MaxMessageLength {
		return parley.Invalid("text", "the message has %d characters; the limit is %d", n, s.cfg.MaxMessageLength)
	}
	return nil
}

// Send stores a message and returns it once committed. A retry with the
// same client id returns the first result instead of a second message.
func (s *Service) Send(ctx context.Context, actor *parley.User, in SendInput) (*parley.Message, error) {
	return s.wait(ctx, func(done func(*parley.Message, error)) { s.SendAsync(ctx, actor, in, done) })
}

// SendAsContact stores a visitor's message in their own support
// conversation, with the same group commit as every send. Without a
// conversation it goes to the contact's open dialog, which the same commit
// opens if there is none: a visitor's first message costs one commit.
func (s *Service) SendAsContact(ctx context.Context, contact *parley.Contact, in SendInput) (*parley.Message, error) {
	return s.wait(ctx, func(done func(*parley.Message, error)) {
		if in.Whisper {
			done(nil, parley.Invalid("whisper", "visitors cannot whisper"))
			return
		}
		if err := s.validateSend(&in, true); err != nil {
			done(nil, err)
			return
		}
		if in.ConversationID == 0 && s.support == nil {
			done(nil, parley.Invalid("conversation_id", "conversation_id is required"))
			return
		}
		s.submit(ctx, &sendReq{contact: contact, in: in, done: done})
	})
}

func (s *Service) wait(ctx context.Context, send func(done func(*parley.Message, error))) (*parley.Message, error) {
	type result struct {
		m   *parley.Message
		err error
	}
	ch := make(chan result, 1)
	send(func(m *parley.Message, err error) { ch <- result{m, err} })
	select {
	case r := <-ch:
		return r.m, r.err
	case <-ctx.Done():
		// The send may still commit; a retry with the client id finds it.
		return nil, ctx.Err()
	}
}

// SendAsync queues a message for the next group commit and calls done with
// the result after commit. A caller's sends to one conversation commit in
// the order it queued them (its batch key is the conversation). When
// the store's queue is full it blocks until there is room (or ctx ends): a
// connection that sends faster than the server commits is slowed down at
// its socket, instead of every send waiting longer.
func (s *Service) SendAsync(ctx context.Context, actor *parley.User, in SendInput, done func(*parley.Message, error)) {
	if err := s.validateSend(&in, false); err != nil {
		done(nil, err)
		return
	}
	if !s.sends.Allow(itoa(actor.ID)) {
		done(nil, parley.Errorf(parley.ERATELIMITED, "you are sending too fast; slow down"))
		return
	}
	if err := s.checkCards(ctx, actor, in.Cards); err != nil {
		done(nil, err)
		return
	}
	s.submit(ctx, &sendReq{actor: actor, in: in, done: done})
}

func (s *Service) submit(ctx context.Context, r *sendReq) {
	s.store.Submit(ctx, s.batch, r, func(err error) {
		switch {
		case err == nil:
			if r.err == nil {
				s.previews.queue(r.msg)
			}
			r.done(r.msg, r.err)
		case parley.ErrorCode(err) == parley.EUNAVAILABLE || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			r.done(nil, err) // busy, closing, or the sender has gone
		default:
			// The group could not commit: nothing of this send is stored,
			// and a retry with its client id is safe.
			s.log.Error("storing a message", "conversation_id", r.in.ConversationID, "err", err)
			r.done(nil, parley.Errorf(parley.EUNAVAILABLE, "the message could not be stored; retry"))
		}
	})
}

type sendReq struct {
	actor   *parley.User    // a user sending,
	contact *parley.Contact // or a visitor
	in      SendInput
	done    func(*parley.Message, error)

	// Set by sendBatch, again each time it runs.
	conv int64 // the conversation: in.ConversationID, or the dialog it opened
	msg  *parley.Message
	err  error
	same *sendReq // an earlier send of the batch with the same client id
}

func (r *sendReq) clientKey() parley.ClientKey {
	k := parley.ClientKey{ClientID: r.in.ClientID}
	if r.contact != nil {
		k.ContactID = r.contact.ID
	} else {
		k.SenderID = r.actor.ID
	}
	return k
}

var (
	errVisitorBlocked = parley.Errorf(parley.EFORBIDDEN, "you cannot write to this chat")
	// An erasure that commits while a visitor's send waits for their lock
	// must not leave a new dialog behind.
	errVisitorErased = parley.Errorf(parley.EUNAUTHORIZED, "this visitor's data was erased; start a new session")
	errStaffBlocked  = parley.Errorf(parley.ECONFLICT, "this customer is blocked: unblock them to write to them")
	errUnpinned      = parley.Errorf(parley.ECONFLICT, "this dialog was unpinned from its customer: nothing can be sent to them from it")
)

// sendBatch applies the sends that share a group commit together: one read
// of their conversations (locked, in ID order), of the senders'
// memberships and of client ids already used, one insert of the team-chat
// messages, one update of the senders' pointers. Support conversations'
// messages are stored one at a time, each followed by live chat's hook,
// which may add a system line after it.
type sendBatch struct{ s *Service }

// BatchKey is the send's conversation; a visitor's first message, which
// opens its dialog, is keyed by the visitor (negative, apart from
// conversations).
func (b *sendBatch) BatchKey(item any) int64 {
	r := item.(*sendReq)
	if r.in.ConversationID == 0 {
		return -r.contact.ID
	}
	return r.in.ConversationID
}

func (b *sendBatch) ApplyBatch(ctx context.Context, tx parley.Tx, items []any) error {
	s := b.s
	reqs := make([]*sendReq, len(items))
	convIDs := make([]int64, 0, len(items))
	var memberKeys []parley.MemberKey
	var clientKeys []parley.ClientKey
	var opening []int64 // visitors whose dialog this batch may open
	for i, it := range items {
		r := it.(*sendReq)
		r.conv, r.msg, r.err, r.same = r.in.ConversationID, nil, nil, nil
		reqs[i] = r
		if r.conv == 0 {
			opening = append(opening, r.contact.ID)
		}
	}
	if err := tx.LockContacts(ctx, opening...); err != nil {
		return err
	}
	// A blocked customer's messages are refused (seed 003): their rows are
	// read after their locks (a visitor opening a dialog) or their
	// conversations' (below), which blocking takes too, so a block and a
	// send cannot overlap.
	contacts, err := tx.Contacts(ctx, opening)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		if r.conv == 0 {
			if k := contacts[r.contact.ID]; k != nil && k.Blocked {
				r.err = errVisitorBlocked
				continue
			}
			if k := contacts[r.contact.ID]; k != nil && !k.ErasedAt.IsZero() {
				r.err = errVisitorErased
				continue
			}
			c, err := s.support.OpenDialog(ctx, tx, r.contact)
			if err != nil {
				return err
			}
			r.conv = c.ID
		}
		convIDs = append(convIDs, r.conv)
		if r.actor != nil {
			memberKeys = append(memberKeys, parley.MemberKey{ConversationID: r.conv, UserID: r.actor.ID})
		}
		if r.in.ClientID != "" {
			clientKeys = append(clientKeys, r.clientKey())
		}
	}
	convs, err := tx.LockConversations(ctx, convIDs)
	if err != nil {
		return err
	}
	var dialogContacts []int64
	for _, c := range convs {
		if c.Support != nil && contacts[c.Support.ContactID] == nil {
			dialogContacts = append(dialogContacts, c.Support.ContactID)
		}
	}
	more, err := tx.Contacts(ctx, dialogContacts)
	if err != nil {
		return err
	}
	maps.Copy(contacts, more)
	members, err := tx.MembersIn(ctx, memberKeys)
	if err != nil {
		return err
	}
	prev, err := tx.MessagesByClientIDs(ctx, clientKeys)
	if err != nil {
		return err
	}

	now := s.now()
	first := make(map[parley.ClientKey]*sendReq) // the batch's own client ids
	files := make(map[int64]bool)                // files sent by the batch
	var plain []*sendReq                         // team-chat messages, stored together
	var msgs []*parley.Message
	moves := make(map[parley.MemberKey]int64) // the senders' newest seq
	for _, r := range reqs {
		if r.err != nil {
			continue // refused before its dialog opened
		}
		c, err := s.sendable(convs[r.conv], r, members)
		if err == nil && c.Support != nil && c.Support.ContactID == 0 {
			err = errUnpinned
		}
		if err == nil && c.Support != nil && contacts[c.Support.ContactID] != nil && contacts[c.Support.ContactID].Blocked {
			err = errStaffBlocked
			if r.contact != nil {
				err = errVisitorBlocked
			}
		}
		if err != nil {
			r.err = err
			continue
		}
		if r.in.ClientID != "" {
			k := r.clientKey()
			if p := prev[k]; p != nil {
				r.msg, r.err = retried(p, r)
				continue
			}
			if f := first[k]; f != nil {
				r.same = f
				continue
			}
			first[k] = r
		}
		m, err := s.compose(ctx, tx, c, r, now, files)
		if err != nil {
			r.err = err
			continue
		}
		if c.Support == nil {
			r.msg = m
			plain, msgs = append(plain, r), append(msgs, m)
			continue
		}
		if s.support != nil {
			if err := s.support.BeforeSend(ctx, tx, c, m); err != nil {
				if parley.ErrorCode(err) != parley.ECONFLICT {
					return err
				}
				r.err = err
				continue
			}
		}
		if c.Support.Status == parley.SupportClosed && !r.in.Whisper {
			// A message from either side reopens a closed dialog (seed 003);
			// a whisper, for staff alone, does not.
			var by int64
			if r.actor != nil {
				by = r.actor.ID
			}
			if err := s.support.Reopen(ctx, tx, c, by); err != nil {
				if parley.ErrorCode(err) != parley.ECONFLICT {
					return err
				}
				r.err = err
				continue
			}
		}
		r.msg = m
		if err := tx.InsertMessages(ctx, []*parley.Message{m}); err != nil {
			return err
		}
		if err := s.stored(ctx, tx, c, r); err != nil {
			return err
		}
		if s.support != nil {
			if err := s.support.AfterSend(ctx, tx, c, m); err != nil {
				return err
			}
		}
	}
	if err := tx.InsertMessages(ctx, msgs); err != nil {
		return err
	}
	for _, r := range plain {
		if err := s.stored(ctx, tx, convs[r.conv], r); err != nil {
			return err
		}
	}

	// The sender has read everything up to their own message, their
	// manual unread mark ends with it and their draft is sent.
	for _, r := range reqs {
		if r.same != nil {
			r.msg, r.err = r.same.msg, r.same.err
			if r.err == nil && r.msg.ConversationID != r.conv {
				r.msg, r.err = nil, parley.Invalid("client_id", "this client id was used for another conversation")
			}
			continue
		}
		if r.err != nil || r.actor == nil || r.msg == nil {
			continue
		}
		k := parley.MemberKey{ConversationID: r.msg.ConversationID, UserID: r.actor.ID}
		moves[k] = max(moves[k], r.msg.Seq)
	}
	if len(moves) == 0 {
		return nil
	}
	list := make([]parley.PointerMove, 0, len(moves))
	for k, seq := range moves {
		mv := parley.PointerMove{MemberKey: k, Delivered: seq, Read: seq, ClearMark: true}
		if m := members[k]; m != nil && m.Draft != "" {
			mv.ClearDraftAt = now
			tx.Emit(parley.NewEvent(parley.EventDraft, k.ConversationID, k.UserID, &Draft{ConversationID: k.ConversationID, At: now}))
		}
		list = append(list, mv)
	}
	if err := tx.MovePointers(ctx, list); err != nil {
		return err
	}
	// The app each sender wrote from, when it changed: users in ID order
	// (rows locked in one order), each once.
	clients := make(map[int64]lastClient)
	for _, r := range reqs {
		in := &r.in
		if r.err == nil && r.actor != nil && r.same == nil && in.Client != "" {
			c := lastClient{in.Client, in.ClientVersion}
			if c != s.lastClientOf(r.actor) {
				clients[r.actor.ID] = c
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(clients)) {
		c := clients[id]
		if err := tx.SetClient(ctx, id, c.client, c.version); err != nil {
			return err
		}
		s.lastClients.Store(id, c)
	}
	return nil
}

// lastClient is the app (and its version) a user last wrote from.
type lastClient struct{ client, version string }

// lastClientOf is the app the user last wrote from, as this node knows it.
// Sends on several connections and transactions read it at once, so it is
// kept here, not in the connection's copy of the user.
func (s *Service) lastClientOf(u *parley.User) lastClient {
	if c, ok := s.lastClients.Load(u.ID); ok {
		return c.(lastClient)
	}
	return lastClient{u.LastClient, u.LastClientVersion}
}

// sendable checks that r may write into c (nil: there is no such
// conversation) and returns it.
func (s *Service) sendable(c *parley.Conversation, r *sendReq, members map[parley.MemberKey]*parley.Member) (*parley.Conversation, error) {
	if c == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	if r.contact != nil {
		// A visitor writes only into their own dialog (a closed one
		// reopens: see ApplyBatch).
		if c.Support == nil || c.Support.ContactID != r.contact.ID {
			return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
		}
		return c, nil
	}
	if members[parley.MemberKey{ConversationID: c.ID, UserID: r.actor.ID}] == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	if err := canSend(c); err != nil {
		return nil, err
	}
	if r.in.Whisper && c.Support == nil {
		return nil, parley.Invalid("whisper", "whispers are only for dialogs with visitors")
	}
	return c, nil
}

// compose builds r's message, checking its quote and files. files holds
// the files already sent by the batch: a file goes with one message.
func (s *Service) compose(ctx context.Context, tx parley.Tx, c *parley.Conversation, r *sendReq, now time.Time, files map[int64]bool) (*parley.Message, error) {
	in := &r.in
	m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgText, Text: in.Text, ClientID: in.ClientID, CreatedAt: now,
		ExternalID: in.ExternalID}
	if r.contact != nil {
		m.ContactID = r.contact.ID
	} else {
		m.SenderID = r.actor.ID
	}
	if in.Whisper {
		m.Kind = parley.MsgWhisper
	}
	m.Cards = in.Cards
	if in.QuoteID != 0 {
		q, err := tx.MessageByID(ctx, in.QuoteID)
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
		if err != nil || q.ConversationID != c.ID || q.Kind == parley.MsgEvent {
			return nil, parley.Invalid("quote_id", "the quoted message is not in this conversation")
		}
		m.QuoteID, m.Quote = q.ID, quoteOf(q)
	}
	if len(in.FileIDs) > 0 {
		fs, err := tx.Files(ctx, in.FileIDs)
		if err != nil {
			return nil, err
		}
		if len(fs) != len(in.FileIDs) {
			return nil, parley.Invalid("file_ids", "unknown file")
		}
		for _, f := range fs {
			if f.OwnerID != m.SenderID || f.ContactID != m.ContactID || f.ConversationID != 0 || files[f.ID] {
				return nil, parley.Invalid("file_ids", "file %d is not an unsent upload of yours", f.ID)
			}
		}
		limits, err := s.limitsOf(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if err := limits.check(f.ContentType, f.Size); err != nil {
				return nil, err
			}
		}
		for _, f := range fs {
			files[f.ID] = true
		}
		m.Kind, m.Files = parley.MsgFile, fs
	}
	if err := s.composeChat(ctx, tx, c, r, m); err != nil {
		return nil, err
	}
	return m, nil
}

// stored finishes a stored message: its files are bound to it and its
// event is emitted.
func (s *Service) stored(ctx context.Context, tx parley.Tx, c *parley.Conversation, r *sendReq) error {
	m := r.msg
	c.LastSeq = max(c.LastSeq, m.Seq)
	for i := range m.Files {
		if err := tx.AttachFile(ctx, m.Files[i].ID, c.ID, m.ID); err != nil {
			return err
		}
		m.Files[i].ConversationID = c.ID
	}
	if m.Status == "" {
		m.Status = parley.StatusSent
	}
	if err := s.storedChat(ctx, tx, c, m); err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	return nil
}

// retried answers a send whose client id was used before with the first
// result, so a retry never creates a second message.
func retried(prev *parley.Message, r *sendReq) (*parley.Message, error) {
	if prev.ConversationID != r.conv {
		return nil, parley.Invalid("client_id", "this client id was used for another conversation")
	}
	return prev, nil
}

// canSend is the rule for writing into a conversation the sender is a
// member of.
func canSend(c *parley.Conversation) error {
	switch c.State {
	case parley.StateAllowed:
		return nil
	case parley.StateRequested:
		return parley.Errorf(parley.ECONFLICT, "the request has not been allowed yet; nothing can be sent until it is")
	}
	return parley.Errorf(parley.ECONFLICT, "the request was cancelled; request again to write")
}

func quoteOf(q *parley.Message) *parley.Quote {
	text := q.Text
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	return &parley.Quote{ID: q.ID, SenderID: q.SenderID, Text: text, Deleted: q.Deleted()}
}

// Edit changes the text of one of the actor's own messages.
func (s *Service) Edit(ctx context.Context, actor *parley.User, msgID int64, text string) (*parley.Message, error) {
	if err := s.validText(text); err != nil {
		return nil, err
	}
	var m *parley.Message
	err := s.write(ctx, func(tx parley.Tx) error {
		var err error
		if m, err = s.ownMessage(ctx, tx, actor, msgID); err != nil {
			return err
		}
		if strings.TrimSpace(text) == "" && len(m.Files) == 0 {
			return parley.Invalid("text", "the text cannot be empty; delete the message instead")
		}
		m.Text, m.EditedAt = text, s.now()
		previewAfterEdit(m)
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		return s.emitUpdated(ctx, tx, m)
	})
	if err == nil {
		s.previews.queue(m)
	}
	return m, err
}

// Delete deletes one of the actor's own messages: its text and files are
// removed and clients show it as deleted.
func (s *Service) Delete(ctx context.Context, actor *parley.User, msgID int64) (*parley.Message, error) {
	var m *parley.Message
	var files []parley.File
	err := s.write(ctx, func(tx parley.Tx) error {
		var err error
		if m, err = s.ownMessage(ctx, tx, actor, msgID); err != nil {
			return err
		}
		files = m.Files
		m.Text, m.Files, m.DeletedAt, m.Preview, m.Cards = "", nil, s.now(), nil, nil
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		return s.emitUpdated(ctx, tx, m)
	})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		s.blobs.Delete(ctx, f.BlobKey())
		s.blobs.Delete(ctx, f.ThumbKey())
	}
	return m, nil
}

// emitUpdated announces an edited or deleted message, to the visitor too
// in a support conversation.
func (s *Service) emitUpdated(ctx context.Context, tx parley.Tx, m *parley.Message) error {
	// The update replaces the message on clients: with its reactions.
	if err := s.fillReactions(ctx, tx, m); err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventMessageUpdated, m.ConversationID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	if s.support == nil {
		return nil
	}
	c, err := tx.ConversationByID(ctx, m.ConversationID)
	if err != nil || c.Support == nil {
		return err
	}
	return s.support.AfterUpdate(ctx, tx, c, m)
}

func (s *Service) ownMessage(ctx context.Context, tx parley.Tx, actor *parley.User, id int64) (*parley.Message, error) {
	m, err := tx.MessageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, _, err := member(ctx, tx, m.ConversationID, actor.ID); err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	if m.SenderID != actor.ID || m.Kind == parley.MsgEvent {
		return nil, parley.Errorf(parley.EFORBIDDEN, "you can only change your own messages")
	}
	if m.Deleted() {
		return nil, parley.Errorf(parley.ECONFLICT, "the message was deleted")
	}
	return m, nil
}

// Message returns one message of a conversation the actor may read, with its
// delivery status (for links to a message and for jumping to it).
func (s *Service) Message(ctx context.Context, actor *parley.User, id int64) (*parley.Message, error) {
	m, err := s.store.MessageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	// Whoever may read the history may read one of its messages: a
	// dialog's are open to its project's staff and to managers, members
	// or not.
	if err := s.readable(ctx, m.ConversationID, actor); err != nil {
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
		}
		return nil, err
	}
	ms, err := s.store.Members(ctx, m.ConversationID)
	if err != nil {
		return nil, err
	}
	m.Status = m.StatusFor(parley.ReceiptsOf(ms))
	if err := s.fillReactions(ctx, s.store, m); err != nil {
		return nil, err
	}
	return m, nil
}

// History returns a page of a conversation's messages, oldest first, each
// with its delivery status.
func (s *Service) History(ctx context.Context, actor *parley.User, convID int64, p parley.MessagePage) ([]*parley.Message, error) {
	// A dialog's history is open to its project's staff, connected or
	// not, and to those who manage live chat.
	if err := s.readable(ctx, convID, actor); err != nil {
		return nil, err
	}
	msgs, err := s.store.Messages(ctx, convID, p)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, convID)
	if err != nil {
		return nil, err
	}
	r := parley.ReceiptsOf(ms)
	for _, m := range msgs {
		m.Status = m.StatusFor(r)
	}
	if err := s.fillReactions(ctx, s.store, msgs...); err != nil {
		return nil, err
	}
	return msgs, nil
}

// Search finds messages in the actor's conversations (or one of them).
func (s *Service) Search(ctx context.Context, actor *parley.User, q parley.SearchQuery) ([]*parley.Message, error) {
	if !utf8.ValidString(q.Text) || len(q.Text) > 500 {
		return nil, parley.Invalid("q", "the search text is too long or not valid UTF-8")
	}
	if q.ConversationID != 0 {
		if _, _, err := member(ctx, s.store, q.ConversationID, actor.ID); err != nil {
			return nil, err
		}
	}
	q.UserID = actor.ID
	msgs, err := s.store.Search(ctx, q)
	if msgs == nil {
		msgs = []*parley.Message{}
	}
	return msgs, err
}
