package livechat

import (
	"context"
	"strings"

	"github.com/parley-chat/parley"
)

// Channels is the connected channels' part in live chat (package
// channel), installed with SetChannels: a dialog whose customer writes
// through a channel keeps its messages in the channel's record, and staff
// replies wait in the channel's queue until the service takes them.
type Channels interface {
	// CheckReply refuses (ECONFLICT) a staff message c's channel cannot
	// carry, such as WhatsApp's outside its 24-hour window or a text
	// longer than Instagram takes.
	CheckReply(ctx context.Context, r parley.Reader, ch *parley.Channel, c *parley.Conversation, m *parley.Message) error
	// Record stores that m crossed c's channel, in m's transaction: a
	// staff message is queued for the channel, a customer's received from
	// it.
	Record(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error
}

// SetChannels installs the channels' hook; call it before serving.
func (s *Service) SetChannels(h Channels) { s.channels = h }

// carried reports whether m is a message c's channel carries: what the
// customer and the staff say to each other, not system lines or whispers.
func carried(c *parley.Conversation, m *parley.Message) bool {
	return c.Support != nil && c.Support.ChannelID != 0 && (m.Kind == parley.MsgText || m.Kind == parley.MsgFile)
}

// BeforeSend is messaging's hook before a message is stored in a dialog:
// a staff reply to a channel's customer is checked against the channel
// and waits in its queue (status queued) until the channel takes it.
func (s *Service) BeforeSend(ctx context.Context, tx parley.Tx, c *parley.Conversation, m *parley.Message) error {
	if !carried(c, m) || m.ContactID != 0 {
		return nil
	}
	ch, err := tx.ChannelByID(ctx, c.Support.ChannelID)
	if parley.ErrorCode(err) == parley.ENOTFOUND || s.channels == nil {
		return parley.Errorf(parley.ECONFLICT, "this dialog's channel was removed: nothing can be sent to the customer from it")
	}
	if err != nil {
		return err
	}
	if err := s.channels.CheckReply(ctx, tx, ch, c, m); err != nil {
		return err
	}
	m.Status = parley.StatusQueued
	return nil
}

// autoCase opens the case of a channel's new dialog, its description the
// customer's source: the channel and how the customer is known there.
func (s *Service) autoCase(ctx context.Context, tx parley.Tx, ch *parley.Channel, c *parley.Conversation, contact *parley.Contact) error {
	p, err := tx.ProjectByID(ctx, c.Support.ProjectID)
	if err != nil {
		return err
	}
	who := contact.Name
	if who == "" {
		who = contact.Address
	}
	var b strings.Builder
	b.WriteString("Source: " + ch.Name + " (" + ch.Kind + ")\n")
	for _, f := range [][2]string{{"Name", contact.Name}, {"Address", contact.Address}, {"E-mail", contact.Email}, {"Phone", contact.Phone}} {
		if f[1] != "" {
			b.WriteString(f[0] + ": " + f[1] + "\n")
		}
	}
	k, err := s.newCase(ctx, tx, p, c, parley.CaseFromChannel, 0, ch.Name+": "+who, strings.TrimSpace(b.String()))
	if parley.ErrorCode(err) == parley.EINVALID {
		// The project's case template has fields chat cannot fill: the
		// customer's message still comes in, without its case.
		s.log.Warn("automatic case skipped", "channel_id", ch.ID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	return s.systemLine(ctx, tx, c, parley.SystemEvent{Action: parley.ActionCaseCreated, Title: "#" + itoa(k.ID)})
}
