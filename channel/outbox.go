package channel

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
)

// The durable queue: a staff reply to a channel's customer is stored with
// its place in the channel's queue, in the reply's own transaction, and
// leaves from there. One node at a time holds a channel (its lease) and
// sends the channel's queue, oldest first, at most the service's rate, one
// message of a dialog at a time so the customer reads them in order.

// CheckReply is live chat's hook: it refuses a reply the channel's
// service would refuse now, before it is stored.
func (s *Service) CheckReply(ctx context.Context, r parley.Reader, ch *parley.Channel, c *parley.Conversation, m *parley.Message) error {
	a, ok := s.adapters[ch.Kind]
	if !ok {
		return parley.Errorf(parley.ECONFLICT, "this server cannot send through %s channels", ch.Kind)
	}
	if a.Spec().FilesByLink && len(m.Files) > 0 && s.cfg.PublicURL == "" {
		return parley.Errorf(parley.ECONFLICT, "%s takes files only from a link it fetches, and this server has no public URL "+
			"(PARLEY_PUBLIC_URL): send the text alone", a.Spec().Label)
	}
	if rc, ok := a.(ReplyChecker); ok {
		if err := rc.CheckReply(ch, m); err != nil {
			return parley.Errorf(parley.ECONFLICT, "%s", err.Error())
		}
	}
	w, ok := a.(Windowed)
	if !ok || w.Window(ch) <= 0 {
		return nil
	}
	window := w.Window(ch)
	recent, err := r.ChannelMessagesOf(ctx, c.ID, 500)
	if err != nil {
		return err
	}
	for _, cm := range recent {
		if !cm.Outbound {
			if since := s.now().Sub(cm.CreatedAt); since > window {
				return parley.Errorf(parley.ECONFLICT, "%s lets a business answer only within %s of the customer's last message, "+
					"and theirs was %s ago: the customer has to write first", a.Spec().Label, hours(window), hours(since))
			}
			return nil
		}
	}
	return parley.Errorf(parley.ECONFLICT, "%s lets a business answer only within %s of the customer's last message: "+
		"the customer has to write first", a.Spec().Label, hours(window))
}

func hours(d time.Duration) string {
	if d >= 2*time.Hour {
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// Record is live chat's hook after a message crossing a channel is stored:
// in the same transaction, a customer's is recorded with the service's id,
// a staff reply queued.
func (s *Service) Record(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	cm := &parley.ChannelMessage{MessageID: m.ID, ChannelID: c.Support.ChannelID, ConversationID: c.ID}
	if m.ContactID != 0 {
		cm.ExternalID, cm.State = m.ExternalID, parley.DeliveryReceived
	} else {
		cm.Outbound, cm.State, cm.NextAt = true, parley.DeliveryQueued, m.CreatedAt
	}
	return tx.PutChannelMessage(ctx, cm)
}

// statusRank orders delivery statuses: a report never moves a message
// back (a late "delivered" after "read"), and a failure after delivery is
// ignored.
func statusRank(st parley.MsgStatus) int {
	switch st {
	case parley.StatusSent:
		return 1
	case parley.StatusDelivered:
		return 2
	case parley.StatusRead:
		return 3
	case parley.StatusFailed:
		return 4
	}
	return 0
}

// report applies a service's status report. Reports for messages Parley
// does not know (sent by other means) are ignored.
func (s *Service) report(ctx context.Context, ch *parley.Channel, st StatusReport) error {
	var convID int64
	var upto time.Time
	if st.ExternalID != "" {
		cm, err := s.store.ChannelMessageByExternalID(ctx, ch.ID, st.ExternalID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			// A report can overtake the record of its own send's answer:
			// while replies are in flight, the service is asked to
			// deliver it again; otherwise it is for a message Parley did
			// not send, and is dropped.
			if next, err := s.store.NextChannelMessageAt(ctx, ch.ID); err == nil && !next.IsZero() {
				return parley.Errorf(parley.EUNAVAILABLE, "a status report for a message not recorded yet")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if !cm.Outbound {
			return nil
		}
		if st.Status == parley.StatusFailed || st.Status == parley.StatusSent {
			return s.setStatus(ctx, cm.MessageID, st.Status, st.Error)
		}
		convID, upto = cm.ConversationID, cm.UpdatedAt
	} else {
		contact, err := s.store.ContactByAddress(ctx, ch.ID, st.From)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		last, err := s.store.LastDialog(ctx, contact.ID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		convID, upto = last.ID, st.Watermark
	}
	// Delivered or read up to a message: so is every one sent before it.
	// A sent record's UpdatedAt is when it left (reports do not change
	// the record; they change the message).
	list, err := s.store.ChannelMessagesOf(ctx, convID, 200)
	if err != nil {
		return err
	}
	for _, cm := range list {
		if cm.Outbound && cm.State == parley.DeliverySent && !cm.UpdatedAt.After(upto) {
			if err := s.setStatus(ctx, cm.MessageID, st.Status, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// setStatus moves a message's delivery status forward and tells the
// dialog's staff.
func (s *Service) setStatus(ctx context.Context, msgID int64, st parley.MsgStatus, reason string) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		m, err := tx.MessageByID(ctx, msgID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		cur := statusRank(m.Status)
		if statusRank(st) <= cur || (st == parley.StatusFailed && cur >= statusRank(parley.StatusDelivered)) {
			return nil
		}
		return s.emitStatus(ctx, tx, m, st, reason)
	})
	return err
}

func (s *Service) emitStatus(ctx context.Context, tx parley.Tx, m *parley.Message, st parley.MsgStatus, reason string) error {
	if err := tx.SetMessageStatus(ctx, m.ID, st, reason); err != nil {
		return err
	}
	m.Status, m.StatusError = st, reason
	e := parley.NewEvent(parley.EventMessageUpdated, m.ConversationID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
	return nil
}

// fail ends a queued message for good.
func (s *Service) fail(ctx context.Context, tx parley.Tx, cm *parley.ChannelMessage, reason string) error {
	cm.State, cm.Error = parley.DeliveryFailed, reason
	if err := tx.UpdateChannelMessage(ctx, cm); err != nil {
		return err
	}
	m, err := tx.MessageByID(ctx, cm.MessageID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return s.emitStatus(ctx, tx, m, parley.StatusFailed, reason)
}

// backoff is the wait before attempt n+1 of a message the service failed
// without saying how long to wait: 2 s doubling to 5 minutes.
func backoff(attempts int) time.Duration {
	d := 2 * time.Second << min(attempts, 10)
	return min(d, 5*time.Minute)
}

// queue is a channel's sending state on the node that holds it.
type queue struct {
	limit *rate.Limiter // the channel's rate
	// chats limits each dialog to the service's rate for one customer.
	chats     map[int64]*rate.Limiter
	chatRate  float64
	chatBurst int
	// probe: after the service throttled the channel, one message goes
	// alone to see whether it takes messages again.
	probe bool
}

// chatAllows reports whether a dialog may get a message now.
func (q *queue) chatAllows(convID int64) bool {
	if q.chatRate <= 0 {
		return true
	}
	l := q.chats[convID]
	if l == nil {
		if len(q.chats) > 10000 {
			clear(q.chats) // a limiter at rest is full again anyway
		}
		l = rate.NewLimiter(rate.Limit(q.chatRate), q.chatBurst)
		q.chats[convID] = l
	}
	return l.Allow()
}

// sendQueue sends ch's due messages until none is due or the service asks
// to wait; it returns how long to wait before looking again (0: when
// woken or at the next poll).
func (s *Service) sendQueue(ctx context.Context, ch *parley.Channel, q *queue) (time.Duration, error) {
	for ctx.Err() == nil {
		due, err := s.store.DueChannelMessages(ctx, ch.ID, s.now(), 100)
		if err != nil || len(due) == 0 {
			return 0, err
		}
		// Each due message is another dialog's, so they may leave at
		// once (Parallel at a time, at the channel's rate).
		var (
			mu       sync.Mutex
			wait     time.Duration
			firstErr error
			wg       sync.WaitGroup
			sent     int
		)
		parallel := s.cfg.Parallel
		if q.probe {
			parallel = 1
		}
		sem := make(chan struct{}, parallel)
		for _, cm := range due {
			if !q.chatAllows(cm.ConversationID) {
				continue // this customer's limit: next round
			}
			if q.limit.Wait(ctx) != nil {
				break
			}
			mu.Lock()
			stop := wait > 0 || firstErr != nil
			mu.Unlock()
			if stop {
				// The service is throttling the channel: nothing more
				// leaves until it says, and then the oldest first again.
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			sent++
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				w, err := s.deliver(ctx, ch, cm)
				mu.Lock()
				wait = max(wait, w)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}()
			if q.probe {
				wg.Wait()
				q.probe = wait > 0
				if q.probe {
					break
				}
				sem = make(chan struct{}, s.cfg.Parallel)
			}
		}
		wg.Wait()
		if wait > 0 {
			q.probe = true
		}
		if wait > 0 || firstErr != nil || ctx.Err() != nil {
			return wait, firstErr
		}
		if sent == 0 {
			// Only customers at their own limit are due: look again
			// when one of them may have a message.
			return time.Duration(float64(time.Second) / q.chatRate), nil
		}
	}
	return 0, nil
}

// sendGrace is how long a send in flight may finish once its node stops.
const sendGrace = 5 * time.Second

// deliver hands one queued message to the service and records the
// outcome. It returns the wait the service asked for, if any.
func (s *Service) deliver(ctx context.Context, ch *parley.Channel, cm *parley.ChannelMessage) (time.Duration, error) {
	out, reason, err := s.outbound(ctx, ch, cm)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		// Its message, dialog or customer is gone: it cannot leave, and
		// must not be looked at again and again.
		err, reason = nil, "the message's dialog or customer no longer exists"
	}
	if err != nil {
		return 0, err
	}
	if reason != "" {
		_, err := s.store.Write(ctx, func(tx parley.Tx) error { return s.fail(ctx, tx, cm, reason) })
		return 0, err
	}
	// A send in flight when the node stops finishes and is recorded
	// (within a grace period), or the next holder would send it again.
	// Cut off, it stays queued and is sent again by whichever node holds
	// the channel next: the service may have taken it, and a duplicate
	// is the price of never losing a message to a node that dies.
	ctx, cancel := leases.Grace(ctx, sendGrace)
	defer cancel()
	id, sendErr := s.adapters[ch.Kind].Send(ctx, ch, out)
	if ctx.Err() != nil {
		return 0, nil
	}
	now := s.now()
	var wait time.Duration
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		cur, err := tx.ChannelMessage(ctx, cm.MessageID)
		if err != nil || cur.State != parley.DeliveryQueued {
			return err // deleted with its dialog, or ended meanwhile
		}
		if sendErr == nil {
			cur.State, cur.ExternalID, cur.Error = parley.DeliverySent, id, ""
			if err := tx.UpdateChannelMessage(ctx, cur); err != nil {
				return err
			}
			m, err := tx.MessageByID(ctx, cur.MessageID)
			if err != nil {
				return err
			}
			if statusRank(m.Status) < statusRank(parley.StatusSent) {
				return s.emitStatus(ctx, tx, m, parley.StatusSent, "")
			}
			return nil
		}
		e := asError(sendErr)
		if !e.Temporary || now.Sub(cur.CreatedAt) > s.cfg.GiveUp {
			return s.fail(ctx, tx, cur, e.Message)
		}
		cur.Error = e.Error()
		if wait = e.RetryAfter; wait > 0 {
			// The service throttles the channel, not this message: it
			// is tried again when the service says, without a backoff
			// of its own.
			cur.NextAt = now.Add(wait)
		} else {
			cur.Attempts++
			cur.NextAt = now.Add(backoff(cur.Attempts - 1))
		}
		return tx.UpdateChannelMessage(ctx, cur)
	})
	if err != nil {
		return 0, err
	}
	// The channel shows the service's failures (unreachable, throttling,
	// 5xx) until a send succeeds; a refusal of one message (a customer
	// who blocked the bot) is that message's, shown on it, not the
	// channel's.
	if sendErr == nil || asError(sendErr).Temporary {
		s.noteError(ctx, ch, sendErr)
	}
	return wait, nil
}

// outbound builds the reply for the service, or says why it cannot leave.
func (s *Service) outbound(ctx context.Context, ch *parley.Channel, cm *parley.ChannelMessage) (*Outbound, string, error) {
	m, err := s.store.MessageByID(ctx, cm.MessageID)
	if err != nil {
		return nil, "", err
	}
	if m.Deleted() {
		return nil, "the message was deleted before it left", nil
	}
	c, err := s.store.ConversationByID(ctx, cm.ConversationID)
	if err != nil {
		return nil, "", err
	}
	if c.Support == nil || c.Support.ContactID == 0 {
		return nil, "the dialog was unpinned from its customer", nil
	}
	contact, err := s.store.ContactByID(ctx, c.Support.ContactID)
	if err != nil {
		return nil, "", err
	}
	if contact.Blocked {
		return nil, "the customer is blocked", nil
	}
	out := &Outbound{Message: m, Contact: contact, Text: m.Text, Subject: c.Title}
	if s.cfg.PublicURL != "" {
		out.StatusURL = s.webhookURL(ch)
	}
	for _, f := range m.Files {
		key := f.BlobKey()
		out.Files = append(out.Files, OutFile{Name: f.Name, ContentType: f.ContentType, Size: f.Size, URL: s.fileURL(ch, &f),
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				rc, _, err := s.blobs.Get(ctx, key)
				return rc, err
			}})
	}
	thread, err := s.store.ChannelMessagesOf(ctx, c.ID, 50)
	if err != nil {
		return nil, "", err
	}
	for _, t := range thread {
		if t.ExternalID != "" && t.MessageID != m.ID {
			out.Thread = append(out.Thread, t.ExternalID)
		}
		if m.QuoteID != 0 && t.MessageID == m.QuoteID {
			out.ReplyTo = t.ExternalID
		}
	}
	return out, "", nil
}

// queuedMarker finds the replies a committed batch queued: their
// message.created events carry the queued status.
var queuedMarker = []byte(`"status":"queued"`)

func queuedIn(events []parley.Event) bool {
	for i := range events {
		e := &events[i]
		if e.Type == parley.EventMessageCreated && e.ProjectID != 0 && bytes.Contains(e.Data, queuedMarker) {
			return true
		}
	}
	return false
}
