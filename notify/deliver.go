package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/leases"
)

// Payload is what a push carries to the service worker (web/pwa/sw.js).
type Payload struct {
	Kind  string `json:"kind"` // message, reminder, call, mention, test
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"` // the web app's path to open on a click
	Tag   string `json:"tag"` // one notification per tag on a device
}

// Horizons: older unread is not notified (a conversation that stayed
// unread for weeks is not news).
const (
	pushHorizon  = 24 * time.Hour
	emailHorizon = 7 * 24 * time.Hour
	// perUser bounds the pushes one user gets in one round; more
	// conversations become one summary.
	perUser = 3
	// previewLen bounds a message's text in a push or an e-mail.
	previewLen = 140
)

// run delivers while this node holds the lease: at once, every Tick, and
// when woken by a queued note.
func (s *Service) run(ctx context.Context, _ int64, wake <-chan struct{}) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		s.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// round does one pass of every kind of delivery. A send that has begun
// finishes and is recorded even if the lease is lost meanwhile (Grace).
func (s *Service) round(ctx context.Context) {
	g, cancel := leases.Grace(ctx, 10*time.Second)
	defer cancel()
	for _, step := range []struct {
		name string
		fn   func(context.Context) error
	}{{"notes", s.notes}, {"messages", s.messages}, {"reminders", s.reminders}, {"e-mail", s.emails}} {
		if ctx.Err() != nil {
			return
		}
		if err := step.fn(g); err != nil && ctx.Err() == nil {
			s.log.Warn("notify: delivering", "step", step.name, "err", err)
		}
	}
}

// notes pushes the queued notes: each is taken off the queue first (so
// that no other node sends it again), then sent.
func (s *Service) notes(ctx context.Context) error {
	notes, err := s.store.QueuedNotes(ctx, 100)
	if err != nil {
		return err
	}
	for _, n := range notes {
		var taken bool
		if _, err := s.store.Write(ctx, func(tx parley.Tx) error {
			var err error
			taken, err = tx.(Tx).DeleteNote(ctx, n.ID)
			return err
		}); err != nil || !taken {
			continue
		}
		if n.Kind != "test" {
			if s.presence.Online(n.UserID) {
				continue // a tab rings or shows it
			}
			set, err := s.store.NotifySettings(ctx, n.UserID)
			if err != nil || Quiet(set, s.cfg.Now(), n.Kind == "call" || n.Kind == "mention") {
				continue
			}
		}
		urgency := webpush.UrgencyNormal
		if n.Kind == "call" {
			urgency = webpush.UrgencyHigh
		}
		title, body := noteText(s.language(ctx, n.UserID), n)
		s.push(ctx, n.UserID, Payload{Kind: n.Kind, Title: title, Body: body, URL: n.URL, Tag: n.Tag}, urgency)
	}
	return nil
}

// CallNote is the note that rings a callee with no tab open: it carries
// the caller's name ("" if unknown) and "voice" or "video", and the push
// says them in the callee's language (noteText).
func CallNote(callee int64, caller string, video bool, url, tag string) parley.NotifyNote {
	kind := "voice"
	if video {
		kind = "video"
	}
	return parley.NotifyNote{UserID: callee, Kind: "call", Title: caller, Body: kind, URL: url, Tag: tag}
}

// noteText is a queued note's title and body in the recipient's
// language. The notes of this package (the test) and the ring of a call
// (CallNote: the caller's name and "voice" or "video") are written in it;
// others are sent as queued.
func noteText(lang string, n *parley.NotifyNote) (title, body string) {
	title, body = n.Title, n.Body
	switch n.Kind {
	case "test":
		return "Parley", tr(lang, "push.test")
	case "call":
		if title == "" {
			title = tr(lang, "push.call.someone")
		} else {
			title = tr(lang, "push.call", title)
		}
		body = tr(lang, "push.call.voice")
		if n.Body == "video" {
			body = tr(lang, "push.call.video")
		}
	}
	return title, body
}

// messages pushes the conversations whose new messages stayed unread for
// PushDelay, to members with no tab open; members with one, or in
// do-not-disturb hours, are marked as notified without a push.
func (s *Service) messages(ctx context.Context) error {
	now := s.cfg.Now()
	cands, err := s.store.NotifyCandidates(ctx, "push", later(s.since, now.Add(-pushHorizon)), now.Add(-s.cfg.PushDelay), 500)
	if err != nil {
		return err
	}
	for user, cs := range byUser(cands) {
		online := s.presence.Online(user)
		var set parley.NotifySettings
		var loud []parley.NotifyCandidate
		var mentioned map[int64]bool
		if !online {
			if set, err = s.store.NotifySettings(ctx, user); err != nil {
				return err
			}
			if loud, mentioned, err = s.audible(ctx, user, cs, now); err != nil {
				return err
			}
		}
		var pays []Payload
		lang := "en"
		if len(loud) > 0 {
			lang = s.language(ctx, user)
		}
		n := 0
		for _, c := range loud {
			if Quiet(set, now, mentioned[c.ConversationID]) {
				continue
			}
			if n++; n > perUser {
				continue
			}
			p, err := s.messagePayload(ctx, lang, user, c)
			if err != nil {
				s.log.Warn("notify: a message to push", "conversation_id", c.ConversationID, "err", err)
			} else if p != nil {
				if mentioned[c.ConversationID] {
					p.Kind = "mention"
				}
				pays = append(pays, *p)
			}
		}
		if n > perUser {
			pays = append(pays, Payload{Kind: "message", Title: "Parley",
				Body: trn(lang, "push.more", int64(n-perUser), n-perUser), URL: "/", Tag: "more"})
		}
		// Recorded before sending: a node that takes over does not send
		// them again.
		if _, err := s.store.Write(ctx, func(tx parley.Tx) error {
			for _, c := range cs {
				if err := tx.(Tx).MarkNotified(ctx, "push", user, c.ConversationID, c.LastSeq); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for _, p := range pays {
			s.push(ctx, user, p, webpush.UrgencyNormal)
		}
	}
	return nil
}

// audible is what of a user's candidates may make a sound: conversations
// they muted are left out unless they hold an unread mention of the user,
// which is marked (a mention passes do-not-disturb hours for those who let
// it, docs/decisions.md "Team-chat basics").
func (s *Service) audible(ctx context.Context, user int64, cs []parley.NotifyCandidate, now time.Time) ([]parley.NotifyCandidate, map[int64]bool, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ConversationID
	}
	mutes, err := s.store.Mutes(ctx, user, ids)
	if err != nil {
		return nil, nil, err
	}
	unread, err := s.store.UnreadMentions(ctx, user, ids)
	if err != nil {
		return nil, nil, err
	}
	var keep []parley.NotifyCandidate
	mentioned := map[int64]bool{}
	for _, c := range cs {
		switch {
		case unread[c.ConversationID] > 0:
			mentioned[c.ConversationID] = true
		case mutes[c.ConversationID].Active(now):
			continue
		}
		keep = append(keep, c)
	}
	return keep, mentioned, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func byUser(cands []parley.NotifyCandidate) map[int64][]parley.NotifyCandidate {
	out := map[int64][]parley.NotifyCandidate{}
	for _, c := range cands {
		out[c.UserID] = append(out[c.UserID], c)
	}
	return out
}

// messagePayload is the push of a conversation's newest message in the
// user's language, nil if there is nothing to say (the newest is the
// user's own).
func (s *Service) messagePayload(ctx context.Context, lang string, userID int64, c parley.NotifyCandidate) (*Payload, error) {
	conv, err := s.store.ConversationByID(ctx, c.ConversationID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.MessageBySeq(ctx, c.ConversationID, c.LastSeq)
	if err != nil {
		return nil, err
	}
	if m.SenderID == userID {
		return nil, nil
	}
	title := s.title(ctx, lang, conv, userID)
	if from := s.senderName(ctx, m); from != "" && from != title {
		title = from + " · " + title
	}
	body := preview(lang, m)
	if n := c.LastSeq - max(c.ReadSeq, c.DoneSeq); n > 1 {
		body = tr(lang, "msg.more", body, n-1)
	}
	return &Payload{Kind: "message", Title: title, Body: body, URL: convPath(conv), Tag: fmt.Sprintf("conv-%d", conv.ID)}, nil
}

func convPath(c *parley.Conversation) string {
	if c.Kind == parley.KindSupport {
		return fmt.Sprintf("/d/%d", c.ID)
	}
	return fmt.Sprintf("/c/%d", c.ID)
}

// title names a conversation as the user sees it in their list (in
// their language when it has no name).
func (s *Service) title(ctx context.Context, lang string, c *parley.Conversation, userID int64) string {
	if c.Title != "" {
		return c.Title
	}
	switch c.Kind {
	case parley.KindSupport:
		if c.Support != nil {
			if ct, err := s.store.ContactByID(ctx, c.Support.ContactID); err == nil && ct.Name != "" {
				return ct.Name
			}
		}
		return tr(lang, "conv.customer")
	case parley.KindAssistance:
		return tr(lang, "conv.assistance")
	}
	ms, err := s.store.Members(ctx, c.ID)
	if err == nil {
		for _, m := range ms {
			if m.UserID != userID {
				if u, err := s.store.UserByID(ctx, m.UserID); err == nil {
					return u.Name
				}
			}
		}
	}
	return tr(lang, "conv.untitled")
}

func (s *Service) senderName(ctx context.Context, m *parley.Message) string {
	if m.SenderID == 0 {
		return ""
	}
	u, err := s.store.UserByID(ctx, m.SenderID)
	if err != nil {
		return ""
	}
	return u.Name
}

// preview is a message's text cut to previewLen characters on one line,
// or what it holds (said in lang).
func preview(lang string, m *parley.Message) string {
	if m.DeletedAt.IsZero() == false {
		return tr(lang, "msg.deleted")
	}
	text := strings.Join(strings.Fields(m.Text), " ")
	if text == "" {
		switch {
		case len(m.Files) == 1:
			return tr(lang, "msg.file", m.Files[0].Name)
		case len(m.Files) > 1:
			return trn(lang, "msg.files", int64(len(m.Files)), len(m.Files))
		case m.Kind == parley.MsgEvent:
			return tr(lang, "msg.event")
		}
		return tr(lang, "msg.other")
	}
	return cut(text, previewLen)
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// reminders pushes the due reminders of users with no tab open (with one,
// the reminders service shows them), once per time they were due.
func (s *Service) reminders(ctx context.Context) error {
	now := s.cfg.Now()
	due, err := s.store.DueReminders(ctx, now, 0, 200)
	if err != nil {
		return err
	}
	for _, r := range due {
		if r.RemindAt.Before(later(s.since, now.Add(-pushHorizon))) || s.presence.Online(r.UserID) {
			continue
		}
		ps, err := s.store.PushSubscriptions(ctx, r.UserID)
		if err != nil || len(ps) == 0 {
			continue
		}
		var first bool
		if _, err := s.store.Write(ctx, func(tx parley.Tx) error {
			var err error
			first, err = tx.(Tx).MarkReminderNotified(ctx, "push", r.ID, r.RemindAt)
			return err
		}); err != nil || !first {
			continue
		}
		set, err := s.store.NotifySettings(ctx, r.UserID)
		if err != nil || Quiet(set, now, false) {
			continue
		}
		lang := s.language(ctx, r.UserID)
		body := tr(lang, "msg.other")
		if m, err := s.store.MessageByID(ctx, r.MessageID); err == nil {
			body = preview(lang, m)
		}
		s.push(ctx, r.UserID, Payload{Kind: "reminder", Title: tr(lang, "push.reminder"), Body: body,
			URL: fmt.Sprintf("/c/%d?m=%d&snooze=1", r.ConversationID, r.MessageID), Tag: fmt.Sprintf("reminder-%d", r.ID)}, webpush.UrgencyHigh)
	}
	return nil
}

// push sends a payload to every browser of the user; a subscription the
// push service says is gone (404, 410) is deleted.
func (s *Service) push(ctx context.Context, userID int64, p Payload, urgency webpush.Urgency) {
	// A deactivated account's browsers get nothing more.
	if u, err := s.store.UserByID(ctx, userID); err != nil || !u.Active {
		return
	}
	subs, err := s.store.PushSubscriptions(ctx, userID)
	if err != nil {
		s.log.Warn("notify: subscriptions", "user_id", userID, "err", err)
		return
	}
	body, _ := json.Marshal(p)
	for _, sub := range subs {
		s.send(ctx, sub, body, urgency, p.Tag)
	}
}

func (s *Service) send(ctx context.Context, sub *parley.PushSubscription, body []byte, urgency webpush.Urgency, tag string) {
	ttl := 24 * 3600
	if urgency == webpush.UrgencyHigh {
		ttl = 600
	}
	res, err := webpush.SendNotificationWithContext(ctx, body,
		&webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256DH, Auth: sub.Auth}},
		&webpush.Options{HTTPClient: s.client, Subscriber: s.subject(), VAPIDPublicKey: s.vapid.Public,
			VAPIDPrivateKey: s.vapid.Private, TTL: ttl, Urgency: urgency, Topic: topic(tag)})
	if err != nil {
		s.log.Warn("notify: push", "subscription_id", sub.ID, "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		s.log.Info("notify: a push subscription expired; deleted", "subscription_id", sub.ID, "status", res.StatusCode)
		if _, err := s.store.Write(ctx, func(tx parley.Tx) error {
			return tx.(Tx).DeletePushSubscription(ctx, 0, sub.ID)
		}); err != nil {
			s.log.Warn("notify: deleting a subscription", "err", err)
		}
	case res.StatusCode >= 300:
		s.log.Warn("notify: the push service refused a push", "subscription_id", sub.ID, "status", res.StatusCode)
	default:
		pushes.Add(1)
	}
}

// subject is the VAPID "sub" claim: the configured contact, else the
// public https URL, else a mailto of the server's host. (webpush-go adds
// "mailto:" to anything that is not https.)
func (s *Service) subject() string {
	sub := s.cfg.VAPIDSubject
	if sub == "" && strings.HasPrefix(s.cfg.PublicURL, "https://") {
		sub = s.cfg.PublicURL
	}
	if sub == "" {
		sub = "mailto:parley@localhost"
	}
	return strings.TrimPrefix(sub, "mailto:")
}

// topic is a push's Topic header (RFC 8030 5.4: at most 32 base64url
// characters): a newer push with one topic replaces an undelivered older.
func topic(tag string) string {
	var b strings.Builder
	for _, r := range tag {
		if b.Len() == 32 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
