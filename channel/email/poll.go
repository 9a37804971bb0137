package email

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// A batch handed to deliver holds at most batchCount messages and, past
// the first, batchBytes of them: what Parley holds in memory at once.
const (
	batchCount = 10
	batchBytes = 32 << 20
)

// Polls reports whether the channel reads its mailbox by IMAP.
func (a *Adapter) Polls(ch *parley.Channel) bool { return !ReceivesBySMTP(ch) }

// Poll reads the channel's mailbox until ctx ends or the server fails.
//
// The adapter keeps nothing between calls, so the mailbox's flags are its
// memory: each round fetches the messages without \Seen (and without
// \Deleted), oldest first, hands them to deliver in batches, and marks a
// batch \Seen only once deliver has returned nil. A batch deliver fails
// stays unseen, and Poll returns the error: the next Poll fetches it again
// (the inbox stores a message once however often it comes). Skipped mail
// (automatic replies, copies of Parley's own) is marked \Seen too; mail
// that cannot be read at all is marked \Seen and \Flagged, for a person
// to look at.
//
// Between rounds Poll waits with IDLE where the server offers it,
// renewing it every IdleRestart, else sleeps PollInterval.
func (a *Adapter) Poll(ctx context.Context, ch *parley.Channel, deliver func(context.Context, *channel.Inbound) error) error {
	cfg, err := configOf(ch)
	if err != nil {
		return err
	}
	if cfg.mode != modeIMAP {
		return channel.Refused("", "the channel receives mail by SMTP, not IMAP")
	}
	s, err := a.dialIMAP(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.c.Close() })
	defer stop()
	defer s.c.Close()
	err = s.wait(cmdTimeout, func() error {
		_, err := s.c.Select(cfg.mailbox, nil).Wait()
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return mailboxError(cfg.mailbox, err)
	}
	idle := s.c.Caps().Has(imap.CapIdle)
	for {
		select { // what arrives from now on wakes the wait below
		case <-s.exists:
		default:
		}
		if err := a.fetchNew(ctx, s, cfg, deliver); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if idle {
			err = a.idle(ctx, s)
		} else {
			err = a.sleep(ctx, s)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return channel.Retry(0, "", "IMAP %s: %v", cfg.imap.Host, err)
		}
	}
}

// idle waits for the server to announce new mail, for IdleRestart, or
// for ctx.
func (a *Adapter) idle(ctx context.Context, s *imapSession) error {
	cmd, err := s.c.Idle()
	if err != nil {
		return err
	}
	d := a.IdleRestart
	if d <= 0 {
		d = DefaultIdleRestart
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil // the connection is closed with it
	case <-s.c.Closed():
		return fmt.Errorf("the server closed the connection")
	case <-t.C:
	case <-s.exists:
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	return s.wait(cmdTimeout, cmd.Wait)
}

// sleep waits PollInterval, then asks the server for news.
func (a *Adapter) sleep(ctx context.Context, s *imapSession) error {
	d := a.PollInterval
	if d <= 0 {
		d = DefaultPollInterval
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-t.C:
	}
	return s.wait(cmdTimeout, s.c.Noop().Wait)
}

// fetchNew delivers the mailbox's unseen messages, a batch at a time.
func (a *Adapter) fetchNew(ctx context.Context, s *imapSession, cfg *config, deliver func(context.Context, *channel.Inbound) error) error {
	var uids []imap.UID
	err := s.wait(cmdTimeout, func() error {
		data, err := s.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
		if err == nil {
			uids = data.AllUIDs()
		}
		return err
	})
	if err != nil || len(uids) == 0 {
		return err
	}
	slices.Sort(uids)
	sizes := map[imap.UID]int64{}
	err = s.wait(cmdTimeout, func() error {
		msgs, err := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		for _, m := range msgs {
			sizes[m.UID] = m.RFC822Size
		}
		return err
	})
	if err != nil {
		return err
	}
	for len(uids) > 0 && ctx.Err() == nil {
		n, total := 0, int64(0)
		for n < len(uids) && n < batchCount && (n == 0 || total+min(sizes[uids[n]], maxFetch) <= batchBytes) {
			total += min(sizes[uids[n]], maxFetch)
			n++
		}
		if err := a.fetchBatch(ctx, s, cfg, uids[:n], sizes, deliver); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

var (
	whole      = &imap.FetchItemBodySection{Peek: true}
	headerOnly = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
)

// fetchBatch fetches, delivers and then marks one batch. A message over
// maxFetch is fetched as its headers only, with a note instead of its
// body.
func (a *Adapter) fetchBatch(ctx context.Context, s *imapSession, cfg *config, uids []imap.UID, sizes map[imap.UID]int64,
	deliver func(context.Context, *channel.Inbound) error) error {
	var small, big []imap.UID
	for _, u := range uids {
		if sizes[u] > maxFetch {
			big = append(big, u)
		} else {
			small = append(small, u)
		}
	}
	raws := map[imap.UID][]byte{}
	fetch := func(set []imap.UID, section *imap.FetchItemBodySection) error {
		if len(set) == 0 {
			return nil
		}
		return s.wait(5*cmdTimeout, func() error {
			msgs, err := s.c.Fetch(imap.UIDSetNum(set...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
			for _, m := range msgs {
				if b := m.FindBodySection(section); b != nil {
					raws[m.UID] = b
				}
			}
			return err
		})
	}
	if err := fetch(small, whole); err != nil {
		return err
	}
	if err := fetch(big, headerOnly); err != nil {
		return err
	}
	in := &channel.Inbound{}
	var seen, unreadable []imap.UID
	for _, u := range uids {
		raw, ok := raws[u]
		if !ok {
			continue // expunged meanwhile
		}
		it := parse(raw, cfg.address, false)
		if it.msg != nil && sizes[u] > maxFetch {
			it.msg.Text = fmt.Sprintf("%s\n\n(This e-mail is %d MB, more than the %d MB Parley fetches: "+
				"its text and attachments are in the mailbox %s.)", it.msg.Text, sizes[u]>>20, maxFetch>>20, cfg.address)
		}
		if it.unreadable {
			unreadable = append(unreadable, u)
		} else {
			seen = append(seen, u)
		}
		it.addTo(in)
	}
	if len(in.Messages) > 0 || len(in.Statuses) > 0 {
		if err := deliver(ctx, in); err != nil {
			return err // left unseen: fetched again next time
		}
	}
	if err := s.store(seen, imap.FlagSeen); err != nil {
		return err
	}
	return s.store(unreadable, imap.FlagSeen, imap.FlagFlagged)
}

// store adds flags to messages, silently.
func (s *imapSession) store(uids []imap.UID, flags ...imap.Flag) error {
	if len(uids) == 0 {
		return nil
	}
	return s.wait(cmdTimeout, func() error {
		return s.c.Store(imap.UIDSetNum(uids...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	})
}
