package messaging

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// ReadState is the actor's own state of one conversation, sent to their
// devices when it changes.
type ReadState struct {
	ConversationID int64 `json:"conversation_id"`
	DeliveredSeq   int64 `json:"delivered_seq"`
	ReadSeq        int64 `json:"read_seq"`
	MarkedUnread   bool  `json:"marked_unread"`
	Unread         int64 `json:"unread"`
	// Mentions are the user's unread mentions (chat.go).
	Mentions int64 `json:"mentions"`
}

// receiptsEvent is the payload of conversation.receipts.
type receiptsEvent struct {
	ConversationID int64 `json:"conversation_id"`
	parley.Receipts
}

// movePointers sets one member's pointers and emits what changed: the
// member's read state to their devices, the conversation's receipts to all
// members when they moved.
func (s *Service) movePointers(ctx context.Context, tx parley.Tx, c *parley.Conversation, userID, delivered, read int64, marked bool, notifySelf bool) error {
	ms, err := tx.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	before := parley.ReceiptsOf(ms)
	m, err := tx.SetPointers(ctx, c.ID, userID, delivered, read, marked)
	if err != nil {
		return err
	}
	for i := range ms {
		if ms[i].UserID == userID {
			ms[i] = *m
		}
	}
	if after := parley.ReceiptsOf(ms); after != before {
		tx.Emit(parley.NewEvent(parley.EventReceipts, c.ID, 0, receiptsEvent{c.ID, after}))
	}
	if c.Support != nil && s.support != nil && read > 0 {
		if err := s.support.AfterRead(ctx, tx, c, m.ReadSeq); err != nil {
			return err
		}
	}
	if notifySelf {
		mentions, err := tx.UnreadMentions(ctx, userID, []int64{c.ID})
		if err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventReadState, c.ID, userID, ReadState{ConversationID: c.ID,
			DeliveredSeq: m.DeliveredSeq, ReadSeq: m.ReadSeq, MarkedUnread: m.MarkedUnread, Unread: m.Unread(c.LastSeq),
			Mentions: mentions[c.ID]}))
	}
	return nil
}

// Unread is the user's total unread state, shown in the tab title.
type Unread struct {
	Messages      int64 `json:"messages"`
	Conversations int64 `json:"conversations"`
}

// UnreadTotal returns the actor's unread messages over all conversations.
func (s *Service) UnreadTotal(ctx context.Context, actor *parley.User) (Unread, error) {
	m, c, err := s.store.UnreadTotal(ctx, actor.ID)
	if err != nil {
		return Unread{}, err
	}
	u := Unread{m, c}
	return u, s.leaveOutMuted(ctx, actor, &u)
}

// MarkRead moves the actor's read pointer to seq (the newest message when
// seq is 0 or beyond it) and clears their unread mark.
func (s *Service) MarkRead(ctx context.Context, actor *parley.User, convID, seq int64) error {
	if seq < 0 {
		return parley.Invalid("seq", "seq cannot be negative")
	}
	return s.write(ctx, func(tx parley.Tx) error {
		c, _, err := member(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		if seq == 0 || seq > c.LastSeq {
			seq = c.LastSeq
		}
		return s.movePointers(ctx, tx, c, actor.ID, seq, seq, false, true)
	})
}

// MarkUnread sets the actor's own unread mark (seed 003): the conversation
// shows as unread for them only, until they read it.
func (s *Service) MarkUnread(ctx context.Context, actor *parley.User, convID int64) error {
	return s.write(ctx, func(tx parley.Tx) error {
		c, _, err := member(ctx, tx, convID, actor.ID)
		if err != nil {
			return err
		}
		return s.movePointers(ctx, tx, c, actor.ID, 0, 0, true, true)
	})
}

// Draft is the unsent text of a conversation, kept on the server so it
// follows the user to another device.
type Draft struct {
	ConversationID int64     `json:"conversation_id"`
	Text           string    `json:"text"`
	At             time.Time `json:"at"`
}

// SetDraft saves the actor's draft ("" clears it).
func (s *Service) SetDraft(ctx context.Context, actor *parley.User, convID int64, text string) (*Draft, error) {
	if err := s.validText(text); err != nil {
		return nil, err
	}
	d := &Draft{ConversationID: convID, Text: text, At: s.now()}
	err := s.write(ctx, func(tx parley.Tx) error {
		if _, _, err := member(ctx, tx, convID, actor.ID); err != nil {
			return err
		}
		if err := tx.SetDraft(ctx, convID, actor.ID, text, d.At); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventDraft, convID, actor.ID, d))
		return nil
	})
	return d, err
}

// Typing tells the other members that the actor is typing. It is not
// stored: a typing notice is only worth something live.
func (s *Service) Typing(ctx context.Context, actor *parley.User, convID int64, whisper bool) error {
	c, _, err := member(ctx, s.store, convID, actor.ID)
	if err != nil {
		return err
	}
	if err := canSend(c); err != nil {
		return err
	}
	ms, err := s.store.Members(ctx, convID)
	if err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventTyping, convID, 0, map[string]any{"conversation_id": convID, "user_id": actor.ID})
	e.Audience = make([]int64, 0, len(ms))
	for _, m := range ms {
		if m.UserID != actor.ID {
			e.Audience = append(e.Audience, m.UserID)
		}
	}
	events := []parley.Event{e}
	if c.Support != nil && s.support != nil {
		more, err := s.support.TypingEvents(ctx, c, actor, whisper)
		if err != nil {
			return err
		}
		events = append(events, more...)
	}
	return s.bus.Publish(ctx, events)
}

// Delivered records that messages up to seq reached a device of userID.
// The real-time gateway calls it after writing them to a connection;
// receipts are written in groups every DeliveryFlush.
func (s *Service) Delivered(userID, convID, seq int64) { s.receipts.add(userID, convID, seq) }

// Connected records that a device of userID connected: everything sent to
// them while they were offline is now delivered (seed 001: messages to an
// offline user stay grey until they appear online).
func (s *Service) Connected(ctx context.Context, userID int64) error {
	pending, err := s.store.Undelivered(ctx, userID)
	if err != nil {
		return err
	}
	for convID, seq := range pending {
		s.receipts.add(userID, convID, seq)
	}
	return nil
}

// deliveries coalesces delivery pointers so a burst of messages costs one
// write per member and conversation, not one per message.
type deliveries struct {
	s       *Service
	mu      sync.Mutex
	pending map[[2]int64]int64 // (conversation, user) → seq
	stop    chan struct{}
	done    chan struct{}
}

func newDeliveries(s *Service) *deliveries {
	d := &deliveries{s: s, pending: make(map[[2]int64]int64), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *deliveries) add(userID, convID, seq int64) {
	k := [2]int64{convID, userID}
	d.mu.Lock()
	if seq > d.pending[k] {
		d.pending[k] = seq
	}
	d.mu.Unlock()
}

func (d *deliveries) run() {
	defer close(d.done)
	t := time.NewTicker(d.s.cfg.DeliveryFlush)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			d.flush()
		case <-d.stop:
			d.flush()
			return
		}
	}
}

func (d *deliveries) flush() {
	d.mu.Lock()
	pending := d.pending
	if len(pending) == 0 {
		d.mu.Unlock()
		return
	}
	d.pending = make(map[[2]int64]int64, len(pending))
	d.mu.Unlock()

	byConv := make(map[int64]map[int64]int64)
	for k, seq := range pending {
		if byConv[k[0]] == nil {
			byConv[k[0]] = make(map[int64]int64)
		}
		byConv[k[0]][k[1]] = seq
	}
	convIDs := slices.Sorted(maps.Keys(byConv))
	ctx := context.Background()
	err := d.s.write(ctx, func(tx parley.Tx) error {
		all, err := tx.MembersByConversation(ctx, convIDs)
		if err != nil {
			return err
		}
		var moves []parley.PointerMove
		var changed []parley.Event
		for _, convID := range convIDs {
			ms, users := all[convID], byConv[convID]
			before := parley.ReceiptsOf(ms)
			moved := false
			for i := range ms {
				if seq := users[ms[i].UserID]; seq > ms[i].DeliveredSeq {
					moves = append(moves, parley.PointerMove{MemberKey: parley.MemberKey{ConversationID: convID, UserID: ms[i].UserID}, Delivered: seq})
					ms[i].DeliveredSeq, moved = seq, true
				}
			}
			if after := parley.ReceiptsOf(ms); moved && after != before {
				changed = append(changed, parley.NewEvent(parley.EventReceipts, convID, 0, receiptsEvent{convID, after}))
			}
		}
		if err := tx.MovePointers(ctx, moves); err != nil {
			return err
		}
		for _, e := range changed {
			tx.Emit(e)
		}
		return nil
	})
	if err != nil {
		d.s.log.Error("writing delivery receipts", "err", err)
		// Keep them for the next flush.
		d.mu.Lock()
		for k, seq := range pending {
			d.pending[k] = max(d.pending[k], seq)
		}
		d.mu.Unlock()
	}
}

func (d *deliveries) close() {
	close(d.stop)
	<-d.done
}
