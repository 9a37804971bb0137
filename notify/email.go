package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// pushes and mails count what was sent (tests and metrics read them).
var pushes, mails atomic.Int64

// Sent returns how many pushes the push services accepted and digests
// the mail server accepted since the process started.
func Sent() (pushed, mailed int64) { return pushes.Load(), mails.Load() }

// emails sends each user whose messages or reminders stayed unread for
// their chosen time one digest of them, every EmailEvery. What a digest
// listed is not listed again; users in do-not-disturb hours get theirs
// when the hours end; users with a tab in front of them get none.
func (s *Service) emails(ctx context.Context) error {
	if s.cfg.Mailer == nil {
		return nil
	}
	now := s.cfg.Now()
	s.mu.Lock()
	if now.Sub(s.lastEmail) < s.cfg.EmailEvery {
		s.mu.Unlock()
		return nil
	}
	s.lastEmail = now
	s.mu.Unlock()
	since := later(s.since, now.Add(-emailHorizon))
	cands, err := s.store.NotifyCandidates(ctx, "email", since, now, 5000)
	if err != nil {
		return err
	}
	users := byUser(cands)
	// Users with reminders due and no conversation to list.
	due, err := s.store.DueReminders(ctx, now, 0, 500)
	if err != nil {
		return err
	}
	rems := map[int64][]*parley.Reminder{}
	for _, r := range due {
		if !r.RemindAt.Before(since) {
			rems[r.UserID] = append(rems[r.UserID], r)
			if _, ok := users[r.UserID]; !ok {
				users[r.UserID] = nil
			}
		}
	}
	for user, cs := range users {
		if err := s.digest(ctx, now, user, cs, rems[user]); err != nil {
			s.log.Warn("notify: a digest", "user_id", user, "err", err)
		}
	}
	return nil
}

type digestLine struct {
	title, preview, url string
	unread              int64
}

func (s *Service) digest(ctx context.Context, now time.Time, userID int64, cs []parley.NotifyCandidate, rs []*parley.Reminder) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil || !u.Active || u.Bot {
		return nil
	}
	set, err := s.store.NotifySettings(ctx, userID)
	if err != nil {
		return err
	}
	after := s.emailAfter(set)
	present := s.presence.Of(userID) == parley.PresenceOnline
	if after == 0 || present {
		// Not missed (a tab in front of them) or not wanted: what is
		// unread now is not mailed later either.
		return s.markMailed(ctx, userID, cs, nil)
	}
	if Quiet(set, now, false) {
		return nil // after the hours
	}
	// Muted conversations are not mailed (unless they mention the user),
	// nor considered again.
	loud, _, err := s.audible(ctx, userID, cs, now)
	if err != nil {
		return err
	}
	if len(loud) < len(cs) {
		var muted []parley.NotifyCandidate
		for _, c := range cs {
			if !slices.ContainsFunc(loud, func(l parley.NotifyCandidate) bool { return l.ConversationID == c.ConversationID }) {
				muted = append(muted, c)
			}
		}
		if err := s.markMailed(ctx, userID, muted, nil); err != nil {
			return err
		}
		cs = loud
	}
	cutoff := now.Add(-time.Duration(after) * s.cfg.EmailUnit)
	// Missed: the first message of some conversation not yet read nor
	// mailed is older than the user's delay. The digest then lists every
	// conversation unread, so that one e-mail covers the batch.
	missed := false
	for _, c := range cs {
		first, err := s.store.MessageBySeq(ctx, c.ConversationID, max(c.ReadSeq, c.DoneSeq)+1)
		if err == nil && !first.CreatedAt.After(cutoff) {
			missed = true
			break
		}
	}
	for _, r := range rs {
		if !r.RemindAt.After(cutoff) {
			missed = true
		}
	}
	if !missed {
		return nil
	}
	lang := s.language(ctx, userID)
	var lines []digestLine
	var listed []parley.NotifyCandidate
	for _, c := range cs {
		conv, err := s.store.ConversationByID(ctx, c.ConversationID)
		if err != nil {
			continue
		}
		last, err := s.store.MessageBySeq(ctx, c.ConversationID, c.LastSeq)
		if err != nil {
			continue
		}
		p := preview(lang, last)
		if from := s.senderName(ctx, last); from != "" {
			p = from + ": " + p
		}
		lines = append(lines, digestLine{title: s.title(ctx, lang, conv, userID), preview: p, url: s.link(convPath(conv)), unread: c.LastSeq - c.ReadSeq})
		listed = append(listed, c)
	}
	var remLines []digestLine
	var remListed []*parley.Reminder
	for _, r := range rs {
		if done, err := s.store.ReminderNotified(ctx, "email", r.ID, r.RemindAt); err != nil || done {
			continue
		}
		p := tr(lang, "msg.other")
		if m, err := s.store.MessageByID(ctx, r.MessageID); err == nil {
			p = preview(lang, m)
		}
		remLines = append(remLines, digestLine{preview: p, url: s.link(fmt.Sprintf("/c/%d?m=%d", r.ConversationID, r.MessageID))})
		remListed = append(remListed, r)
	}
	if len(lines) == 0 && len(remLines) == 0 {
		return nil
	}
	mail := parley.Mail{To: u.Email, Subject: subject(lang, lines, remLines), Text: s.digestText(lang, u, lines, remLines)}
	if err := s.cfg.Mailer.Send(ctx, mail); err != nil {
		return err // tried again next time
	}
	mails.Add(1)
	return s.markMailed(ctx, userID, listed, remListed)
}

func (s *Service) markMailed(ctx context.Context, userID int64, cs []parley.NotifyCandidate, rs []*parley.Reminder) error {
	if len(cs) == 0 && len(rs) == 0 {
		return nil
	}
	_, err := s.store.Write(ctx, func(ptx parley.Tx) error {
		tx := ptx.(Tx)
		for _, c := range cs {
			if err := tx.MarkNotified(ctx, "email", userID, c.ConversationID, c.LastSeq); err != nil {
				return err
			}
		}
		for _, r := range rs {
			if _, err := tx.MarkReminderNotified(ctx, "email", r.ID, r.RemindAt); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// subject is a digest's subject in lang.
func subject(lang string, lines, rems []digestLine) string {
	var n int64
	for _, l := range lines {
		n += l.unread
	}
	switch {
	case len(lines) == 0:
		return trn(lang, "mail.subject.reminders", int64(len(rems)), len(rems))
	case len(lines) == 1:
		return tr(lang, "mail.subject.one", trn(lang, "mail.unread", n, n), lines[0].title)
	}
	return trn(lang, "mail.subject.many", int64(len(lines)), trn(lang, "mail.unread", n, n), len(lines))
}

// link makes an app path absolute with the public URL ("" without one).
func (s *Service) link(path string) string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(s.cfg.PublicURL, "/") + path
}

// digestText is a digest's text in lang.
func (s *Service) digestText(lang string, u *parley.User, lines, rems []digestLine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", tr(lang, "mail.hello", u.Name))
	if len(lines) > 0 {
		fmt.Fprintf(&b, "%s\n\n", tr(lang, "mail.conversations"))
		for _, l := range lines {
			fmt.Fprintf(&b, "* %s: %s\n  %s\n", l.title, trn(lang, "mail.unread", l.unread, l.unread), l.preview)
			if l.url != "" {
				fmt.Fprintf(&b, "  %s\n", l.url)
			}
			b.WriteString("\n")
		}
	}
	if len(rems) > 0 {
		fmt.Fprintf(&b, "%s\n\n", tr(lang, "mail.reminders"))
		for _, l := range rems {
			fmt.Fprintf(&b, "* %s\n", l.preview)
			if l.url != "" {
				fmt.Fprintf(&b, "  %s\n", l.url)
			}
			b.WriteString("\n")
		}
	}
	if app := s.link("/"); app != "" {
		fmt.Fprintf(&b, "%s\n\n", tr(lang, "mail.open", app))
	}
	b.WriteString("-- \n")
	if set := s.link("/settings#notifications"); set != "" {
		b.WriteString(tr(lang, "mail.footer.link", set))
	} else {
		b.WriteString(tr(lang, "mail.footer"))
	}
	b.WriteString("\n")
	return b.String()
}
