package messaging

import (
	"context"
	"strings"
	"sync"
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
	// Client and ClientVersion name the app the message was written from.
	Client        string `json:"-"`
	ClientVersion string `json:"-"`
}

const maxClientID = 64

func (s *Service) validateSend(in *SendInput) error {
	if in.ConversationID <= 0 {
		return parley.Invalid("conversation_id", "conversation_id is required")
	}
	if len(in.ClientID) > maxClientID || !utf8.ValidString(in.ClientID) {
		return parley.Invalid("client_id", "client_id must have at most %d characters", maxClientID)
	}
	if err := s.validText(in.Text); err != nil {
		return err
	}
	if strings.TrimSpace(in.Text) == "" && len(in.FileIDs) == 0 {
		return parley.Invalid("text", "a message needs text or a file")
	}
	if in.Whisper && len(in.FileIDs) > 0 {
		return parley.Invalid("file_ids", "a whisper can only be text")
	}
	if len(in.FileIDs) > s.cfg.MaxFilesPerMsg {
		return parley.Invalid("file_ids", "at most %d files per message", s.cfg.MaxFilesPerMsg)
	}
	in.FileIDs = dedupe(in.FileIDs)
	return nil
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
// conversation, through the same group commit as every send.
func (s *Service) SendAsContact(ctx context.Context, contact *parley.Contact, in SendInput) (*parley.Message, error) {
	return s.wait(ctx, func(done func(*parley.Message, error)) {
		if in.Whisper {
			done(nil, parley.Invalid("whisper", "visitors cannot whisper"))
			return
		}
		if err := s.validateSend(&in); err != nil {
			done(nil, err)
			return
		}
		s.commit.enqueue(ctx, &sendReq{contact: contact, in: in, done: done})
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
// the result after commit. Sends queued by one caller commit in order. When
// MaxQueue sends are already waiting it blocks until there is room (or ctx
// ends): a connection that sends faster than the server commits is slowed
// down at its socket, instead of every send waiting longer.
func (s *Service) SendAsync(ctx context.Context, actor *parley.User, in SendInput, done func(*parley.Message, error)) {
	if err := s.validateSend(&in); err != nil {
		done(nil, err)
		return
	}
	if !s.sends.Allow(itoa(actor.ID)) {
		done(nil, parley.Errorf(parley.ERATELIMITED, "you are sending too fast; slow down"))
		return
	}
	s.commit.enqueue(ctx, &sendReq{actor: actor, in: in, done: done})
}

// sendInTx applies one send inside the group's transaction. An error it
// returns fails this send alone.
func (s *Service) sendInTx(ctx context.Context, tx parley.Tx, b *batchState, r *sendReq) (*parley.Message, error) {
	in := &r.in
	c, err := b.conversation(ctx, tx, in.ConversationID, r)
	if err != nil {
		return nil, err
	}
	if err := canSend(c); err != nil {
		return nil, err
	}
	m := &parley.Message{ConversationID: c.ID, Kind: parley.MsgText, Text: in.Text, ClientID: in.ClientID, CreatedAt: s.now()}
	if r.contact != nil {
		m.ContactID = r.contact.ID
	} else {
		m.SenderID = r.actor.ID
	}
	if in.Whisper {
		if c.Support == nil {
			return nil, parley.Invalid("whisper", "whispers are only for dialogs with visitors")
		}
		m.Kind = parley.MsgWhisper
	}
	if in.QuoteID != 0 {
		q, err := tx.MessageByID(ctx, in.QuoteID)
		if err != nil || q.ConversationID != c.ID || q.Kind == parley.MsgEvent {
			return nil, parley.Invalid("quote_id", "the quoted message is not in this conversation")
		}
		m.QuoteID, m.Quote = q.ID, quoteOf(q)
	}
	if len(in.FileIDs) > 0 {
		files, err := tx.Files(ctx, in.FileIDs)
		if err != nil {
			return nil, err
		}
		if len(files) != len(in.FileIDs) {
			return nil, parley.Invalid("file_ids", "unknown file")
		}
		for _, f := range files {
			if f.OwnerID != m.SenderID || f.ContactID != m.ContactID || f.ConversationID != 0 {
				return nil, parley.Invalid("file_ids", "file %d is not an unsent upload of yours", f.ID)
			}
		}
		m.Kind, m.Files = parley.MsgFile, files
	}
	if err := tx.InsertMessage(ctx, m); err != nil {
		if parley.ErrorCode(err) == parley.ECONFLICT && in.ClientID != "" {
			return retried(ctx, tx, r)
		}
		return nil, err
	}
	c.LastSeq = m.Seq
	for i := range m.Files {
		if err := tx.AttachFile(ctx, m.Files[i].ID, c.ID, m.ID); err != nil {
			return nil, err
		}
		m.Files[i].ConversationID = c.ID
	}
	m.Status = parley.StatusSent
	e := parley.NewEvent(parley.EventMessageCreated, c.ID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	if c.Support != nil && s.support != nil {
		if err := s.support.AfterSend(ctx, tx, c, m); err != nil {
			return nil, err
		}
	}
	if r.contact != nil {
		return m, nil
	}
	// The sender has read everything up to their own message; their
	// manual unread mark ends with it. Written once per batch.
	b.senders[[2]int64{c.ID, r.actor.ID}] = m.Seq
	if in.Client != "" && (in.Client != r.actor.LastClient || in.ClientVersion != r.actor.LastClientVersion) {
		if err := tx.SetClient(ctx, r.actor.ID, in.Client, in.ClientVersion); err != nil {
			return nil, err
		}
		r.actor.LastClient, r.actor.LastClientVersion = in.Client, in.ClientVersion
	}
	return m, nil
}

// retried answers a send whose client id was used before with the first
// result, so a retry never creates a second message.
func retried(ctx context.Context, tx parley.Tx, r *sendReq) (*parley.Message, error) {
	var prev *parley.Message
	var err error
	if r.contact != nil {
		prev, err = tx.MessageByContactClientID(ctx, r.contact.ID, r.in.ClientID)
	} else {
		prev, err = tx.MessageByClientID(ctx, r.actor.ID, r.in.ClientID)
	}
	if err != nil {
		return nil, err
	}
	if prev.ConversationID != r.in.ConversationID {
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

// batchState caches, within one group commit, what several sends to the
// same conversation would each look up.
type batchState struct {
	convs   map[int64]*parley.Conversation
	members map[[2]int64]bool
	senders map[[2]int64]int64 // (conversation, sender) → seq of their newest message
}

func newBatchState() *batchState {
	return &batchState{convs: make(map[int64]*parley.Conversation), members: make(map[[2]int64]bool),
		senders: make(map[[2]int64]int64)}
}

// afterSends moves each sender's pointers past their own messages and
// clears their draft of the conversation: what was drafted has been sent.
func (b *batchState) afterSends(ctx context.Context, tx parley.Tx, now time.Time) error {
	for k, seq := range b.senders {
		if _, err := tx.SetPointers(ctx, k[0], k[1], seq, seq, false); err != nil {
			return err
		}
		cleared, err := tx.ClearDraft(ctx, k[0], k[1], now)
		if err != nil {
			return err
		}
		if cleared {
			tx.Emit(parley.NewEvent(parley.EventDraft, k[0], k[1], &Draft{ConversationID: k[0], At: now}))
		}
	}
	return nil
}

func (b *batchState) conversation(ctx context.Context, tx parley.Tx, convID int64, r *sendReq) (*parley.Conversation, error) {
	c, ok := b.convs[convID]
	if !ok {
		var err error
		if c, err = tx.ConversationByID(ctx, convID); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
			}
			return nil, err
		}
		b.convs[convID] = c
	}
	if r.contact != nil {
		// A visitor writes only into their own open dialog.
		if c.Support == nil || c.Support.ContactID != r.contact.ID {
			return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
		}
		if c.Support.Status != parley.SupportOpen {
			return nil, parley.Errorf(parley.ECONFLICT, "this conversation has ended")
		}
		return c, nil
	}
	if c.Support != nil && c.Support.Status != parley.SupportOpen {
		return nil, parley.Errorf(parley.ECONFLICT, "this dialog is closed")
	}
	k := [2]int64{convID, r.actor.ID}
	if _, ok := b.members[k]; !ok {
		_, err := tx.Member(ctx, convID, r.actor.ID)
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
		b.members[k] = err == nil
	}
	if !b.members[k] {
		return nil, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	return c, nil
}

type sendReq struct {
	actor   *parley.User    // a user sending,
	contact *parley.Contact // or a visitor
	in      SendInput
	done    func(*parley.Message, error)
	msg     *parley.Message
	err     error
}

// committer groups sends into shared transactions: while one transaction
// commits, the next sends queue up and then commit together, so the cost of
// a commit (and its fsync) is shared by every send in the group.
type committer struct {
	s      *Service
	mu     sync.Mutex
	queue  []*sendReq
	wake   chan struct{}
	closed bool
	done   chan struct{}
	// slots holds one token per queued or committing send: at most
	// MaxQueue wait.
	slots chan struct{}
}

func newCommitter(s *Service) *committer {
	c := &committer{s: s, wake: make(chan struct{}, 1), done: make(chan struct{}), slots: make(chan struct{}, s.cfg.MaxQueue)}
	go c.run()
	return c
}

func (c *committer) enqueue(ctx context.Context, r *sendReq) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		r.done(nil, parley.Errorf(parley.EUNAVAILABLE, "the server is busy; retry"))
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.slots
		r.done(nil, parley.Errorf(parley.EUNAVAILABLE, "the server is shutting down; retry"))
		return
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *committer) run() {
	defer close(c.done)
	var batch []*sendReq
	for {
		c.mu.Lock()
		n := min(len(c.queue), c.s.cfg.MaxBatch)
		batch = append(batch[:0], c.queue[:n]...)
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = nil
		}
		closed := c.closed
		c.mu.Unlock()
		if len(batch) > 0 {
			c.commit(batch)
			continue
		}
		if closed {
			return
		}
		<-c.wake
	}
}

func (c *committer) commit(batch []*sendReq) {
	ctx := context.Background()
	_, err := c.s.store.Write(ctx, func(tx parley.Tx) error {
		b := newBatchState()
		for _, r := range batch {
			r.msg, r.err = c.s.sendInTx(ctx, tx, b, r)
			if r.err != nil && parley.ErrorCode(r.err) == parley.EINTERNAL {
				// A database error may have aborted the transaction:
				// fail the group; each sender retries with its client id.
				return r.err
			}
		}
		return b.afterSends(ctx, tx, c.s.now())
	})
	if err != nil {
		c.s.log.Error("group commit", "sends", len(batch), "err", err)
		for _, r := range batch {
			r.msg, r.err = nil, parley.Errorf(parley.EUNAVAILABLE, "the message could not be stored; retry")
		}
	}
	for _, r := range batch {
		<-c.slots
		r.done(r.msg, r.err)
	}
}

// close stops accepting sends and returns once every queued send is
// committed and acknowledged.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
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
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		return s.emitUpdated(ctx, tx, m)
	})
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
		m.Text, m.Files, m.DeletedAt = "", nil, s.now()
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

// Message returns one message of a conversation the actor is in, with its
// delivery status (for links to a message and for jumping to it).
func (s *Service) Message(ctx context.Context, actor *parley.User, id int64) (*parley.Message, error) {
	m, err := s.store.MessageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, _, err := member(ctx, s.store, m.ConversationID, actor.ID); err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	ms, err := s.store.Members(ctx, m.ConversationID)
	if err != nil {
		return nil, err
	}
	m.Status = m.StatusFor(parley.ReceiptsOf(ms))
	return m, nil
}

// History returns a page of a conversation's messages, oldest first, each
// with its delivery status.
func (s *Service) History(ctx context.Context, actor *parley.User, convID int64, p parley.MessagePage) ([]*parley.Message, error) {
	if _, _, err := member(ctx, s.store, convID, actor.ID); err != nil {
		// A dialog's history is open to its project's staff, connected
		// or not, and to those who manage live chat.
		if !s.canView(ctx, convID, actor) {
			return nil, err
		}
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
