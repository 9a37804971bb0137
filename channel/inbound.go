package channel

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
)

// Webhook handles a service's call to channel id's webhook URL. The call
// is answered only once what it carries is stored: an error makes the
// service deliver it again, and redelivered messages are stored once.
func (s *Service) Webhook(ctx context.Context, id int64, r *Request) (*Response, error) {
	ch, err := s.store.ChannelByID(ctx, id)
	if err != nil {
		return nil, err
	}
	a, ok := s.adapters[ch.Kind]
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "channel not found")
	}
	in, err := a.Webhook(ctx, ch, r)
	if errors.Is(err, ErrSignature) {
		s.log.Warn("webhook refused: bad signature", "channel_id", id, "kind", ch.Kind)
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the webhook's signature or secret is wrong")
	}
	if err != nil {
		if pe := (*parley.Error)(nil); errors.As(err, &pe) {
			return nil, err
		}
		return nil, parley.Invalid("body", "%s", err.Error())
	}
	if ch.Paused && (len(in.Messages) > 0 || len(in.Statuses) > 0) {
		// The service keeps what it could not deliver and tries again.
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the channel is paused")
	}
	if err := s.Receive(ctx, ch, in); err != nil {
		if pe := (*parley.Error)(nil); !errors.As(err, &pe) {
			// A file the service would not serve yet, a database that
			// did not answer: the service delivers the call again.
			s.log.Warn("webhook call not stored", "channel_id", id, "err", err)
			return nil, parley.Errorf(parley.EUNAVAILABLE, "could not store the call; deliver it again")
		}
		return nil, err
	}
	return in.Response, nil
}

// Receive stores what a webhook call or a poll brought: customers'
// messages into their dialogs (opened as needed), then status reports.
// It returns once all is committed; an error means some of it may not be,
// and the whole may be delivered again.
func (s *Service) Receive(ctx context.Context, ch *parley.Channel, in *Inbound) error {
	for i := range in.Messages {
		if err := s.receive(ctx, ch, &in.Messages[i]); err != nil {
			return err
		}
	}
	for _, st := range in.Statuses {
		st.ExternalID, st.From, st.Error = validText(st.ExternalID), validText(st.From), validText(st.Error)
		if err := s.report(ctx, ch, st); err != nil {
			return err
		}
	}
	return nil
}

// ClientID is the client id a channel's message is stored with: the
// service's id, hashed when it is longer than client ids may be. A contact
// is one address in one channel, so the service's ids cannot collide.
func ClientID(externalID string) string {
	if len(externalID) <= 60 && utf8.ValidString(externalID) {
		return "ch:" + externalID
	}
	sum := sha256.Sum256([]byte(externalID))
	return "ch#" + base64.RawURLEncoding.EncodeToString(sum[:30])
}

func (s *Service) receive(ctx context.Context, ch *parley.Channel, m *InMessage) error {
	if m.From == "" || m.ExternalID == "" {
		return parley.Invalid("body", "a message without its sender or its id")
	}
	// Services pass on what customers' software sent: raw 8-bit mail
	// headers, %FF in a form. Stored as it came, invalid UTF-8 or a NUL
	// would make PostgreSQL fail the call (retried forever) or the text be
	// refused (the message lost); repaired, it is kept.
	for _, p := range []*string{&m.ExternalID, &m.From, &m.Name, &m.Email, &m.Phone, &m.Subject, &m.Text, &m.ReplyTo} {
		*p = validText(*p)
	}
	contact, err := s.contact(ctx, ch, m)
	if err != nil {
		return err
	}
	clientID := ClientID(m.ExternalID)
	if _, err := s.store.MessageByContactClientID(ctx, contact.ID, clientID); err == nil {
		return nil // delivered again: stored already
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	text := strings.TrimSpace(m.Text)
	var fileIDs []int64
	for _, f := range m.Files {
		id, note, err := s.fetch(ctx, ch, contact, f)
		if err != nil {
			return err
		}
		if id != 0 {
			fileIDs = append(fileIDs, id)
		} else {
			text = strings.TrimSpace(text + "\n" + note)
		}
	}
	if text == "" && len(fileIDs) == 0 {
		text = "(an empty message)"
	}
	var quote int64
	if m.ReplyTo != "" {
		quote = s.quoted(ctx, ch, contact, m.ReplyTo)
	}
	// A text longer than a message may be (an e-mail) arrives as several
	// messages, each with its own client id.
	parts := split(text, s.msgs.Config().MaxMessageLength)
	for i, part := range parts {
		in := messaging.SendInput{ClientID: clientID, Text: part, ExternalID: m.ExternalID, QuoteID: quote}
		if i > 0 {
			in = messaging.SendInput{ClientID: ClientID(fmt.Sprintf("%s#%d", m.ExternalID, i)), Text: part}
		}
		if i == len(parts)-1 {
			in.FileIDs = fileIDs
		}
		stored, err := s.msgs.SendAsContact(ctx, contact, in)
		if err == nil && i == 0 && m.Subject != "" {
			err = s.title(ctx, stored.ConversationID, contact, m.Subject)
		}
		if err != nil {
			switch parley.ErrorCode(err) {
			case parley.EINVALID, parley.EFORBIDDEN, parley.ETOOLARGE, parley.ECONFLICT, parley.ENOTFOUND:
				// Refused for good (a blocked customer, an unpinned
				// dialog): the service is not asked to send it again.
				s.log.Info("channel message refused", "channel_id", ch.ID, "contact_id", contact.ID, "err", err)
				return nil
			}
			return err
		}
	}
	return nil
}

// title names a dialog after the subject of the e-mail that opened it
// (replies answer "Re:" it); a dialog already titled keeps its title.
func (s *Service) title(ctx context.Context, convID int64, contact *parley.Contact, subject string) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		c, err := tx.ConversationByID(ctx, convID)
		if err != nil || (c.Title != "" && c.Title != contact.Name) {
			return err
		}
		c.Title = truncate(strings.TrimSpace(subject), 200)
		return tx.UpdateConversation(ctx, c)
	})
	return err
}

// split cuts text into pieces of at most max characters, at a line or a
// space where it can.
func split(text string, max int) []string {
	var out []string
	for utf8.RuneCountInString(text) > max {
		r := []rune(text)
		cut := max
		for i := max; i > max/2; i-- {
			if r[i] == '\n' || r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimSpace(string(r[:cut])))
		text = strings.TrimSpace(string(r[cut:]))
	}
	return append(out, text)
}

// contact returns the customer who writes from m.From, creating them.
func (s *Service) contact(ctx context.Context, ch *parley.Channel, m *InMessage) (*parley.Contact, error) {
	c, err := s.store.ContactByAddress(ctx, ch.ID, m.From)
	if parley.ErrorCode(err) != parley.ENOTFOUND {
		return c, err
	}
	name := strings.TrimSpace(m.Name)
	if name == "" {
		name = m.From
	}
	c = &parley.Contact{ProjectID: ch.ProjectID, ChannelID: ch.ID, Address: m.From, Name: truncate(name, 200),
		Email: truncate(m.Email, 200), Phone: truncate(m.Phone, 50)}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error { return tx.CreateContact(ctx, c) })
	if parley.ErrorCode(err) == parley.ECONFLICT {
		// Another delivery of the customer's first messages created them.
		return s.store.ContactByAddress(ctx, ch.ID, m.From)
	}
	return c, err
}

// validText is s as valid UTF-8 without NUL characters.
func validText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// quoted is the message the customer answered, if it is in their current
// dialog (0 otherwise: a quote across dialogs is left out).
func (s *Service) quoted(ctx context.Context, ch *parley.Channel, contact *parley.Contact, replyTo string) int64 {
	cm, err := s.store.ChannelMessageByExternalID(ctx, ch.ID, replyTo)
	if err != nil {
		return 0
	}
	last, err := s.store.LastDialog(ctx, contact.ID)
	if err != nil || last.ID != cm.ConversationID || last.Support.Status != parley.SupportOpen {
		return 0
	}
	return cm.MessageID
}

// fetch stores an attachment in Parley's files for the customer's
// message. A file over the channel's or the server's limit is not
// fetched: note says so in the message instead.
func (s *Service) fetch(ctx context.Context, ch *parley.Channel, contact *parley.Contact, f InFile) (int64, string, error) {
	limits := &messaging.Limits{Channel: ch.Kind, AttachmentLimits: parley.AttachmentLimits{}}
	if p, err := s.store.ProjectByID(ctx, ch.ProjectID); err == nil {
		limits.AttachmentLimits = p.AttachmentLimitsFor(ch.Kind, s.msgs.Config().MaxFileSize)
	}
	rc, err := f.Open(ctx)
	if err != nil {
		if e := asError(err); !e.Temporary {
			return 0, fmt.Sprintf("(a file the customer sent could not be fetched: %s)", e.Message), nil
		}
		return 0, "", err
	}
	defer rc.Close()
	var body io.Reader = rc
	size := f.Size
	if size <= 0 {
		// The service did not say how large it is: spool it to learn.
		tmp, err := os.CreateTemp("", "parley-inbound-*")
		if err != nil {
			return 0, "", err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		n, err := io.Copy(tmp, io.LimitReader(rc, s.msgs.Config().MaxFileSize+1))
		if err != nil {
			return 0, "", err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return 0, "", err
		}
		body, size = tmp, n
	}
	file, err := s.msgs.UploadAsContact(ctx, contact, limits, f.Name, f.ContentType, size, body)
	if err != nil {
		switch parley.ErrorCode(err) {
		case parley.ETOOLARGE, parley.EINVALID:
			return 0, fmt.Sprintf("(a file the customer sent was not kept: %s)", parley.ErrorMessage(err)), nil
		}
		return 0, "", err
	}
	return file.ID, "", nil
}
