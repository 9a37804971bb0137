// Package cards is "information from the database" (issue 14, item 8): a
// message can carry cards that refer to a user, a customer, a case or a
// conversation. The sender may only attach records they may see, and
// every reader's client asks for a card's summary with the reader's own
// rights: who may not see the record gets a card that says only that
// (its kind and number), never its details. Each kind's rule is its own
// service's (accounts' directory, live chat's customers and cases,
// messaging's conversations); this package only asks them.
package cards

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/messaging"
)

// Summary is what a card shows to one reader.
type Summary struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	// Visible is false when the reader may not open the record (or it is
	// gone): the card then says so, and nothing else.
	Visible  bool   `json:"visible"`
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	// Path is where the web app opens the record ("" where it has no page:
	// a user's card opens their panel).
	Path string `json:"path,omitempty"`
}

// Service answers card summaries and searches.
type Service struct {
	store parley.Store
	msgs  *messaging.Service
	live  *livechat.Service // nil: no customers or cases
}

// New returns the service and installs its check on messaging's sends.
func New(store parley.Store, msgs *messaging.Service, live *livechat.Service) *Service {
	s := &Service{store: store, msgs: msgs, live: live}
	msgs.SetCards(s)
	return s
}

func validKind(kind string) error {
	switch kind {
	case parley.CardUser, parley.CardContact, parley.CardCase, parley.CardConversation:
		return nil
	}
	return parley.Invalid("kind", "a card is of a user, contact, case or conversation, not %q", kind)
}

// Summary returns the card of a record as actor may see it.
func (s *Service) Summary(ctx context.Context, actor *parley.User, kind string, id int64) (*Summary, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	sum, err := s.look(ctx, actor, kind, id)
	switch parley.ErrorCode(err) {
	case "":
		return sum, nil
	case parley.ENOTFOUND, parley.EFORBIDDEN:
		// Whether it exists is not the reader's to know either.
		return &Summary{Kind: kind, ID: id}, nil
	}
	return nil, err
}

// CheckCards refuses a message whose cards refer to records the sender
// may not see (or that do not exist), with the same answer for both.
func (s *Service) CheckCards(ctx context.Context, actor *parley.User, refs []parley.CardRef) error {
	for i, r := range refs {
		_, err := s.look(ctx, actor, r.Kind, r.ID)
		switch parley.ErrorCode(err) {
		case "":
			continue
		case parley.ENOTFOUND, parley.EFORBIDDEN:
			return parley.Invalid("cards", "card %d: there is no %s %d you can open", i+1, r.Kind, r.ID)
		}
		return err
	}
	return nil
}

// look is a record's summary when actor may see it, else the kind's
// service's refusal.
func (s *Service) look(ctx context.Context, actor *parley.User, kind string, id int64) (*Summary, error) {
	sum := &Summary{Kind: kind, ID: id, Visible: true}
	switch kind {
	case parley.CardUser:
		// The directory: every signed-in user sees every account.
		u, err := s.store.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		sum.Title, sum.Subtitle = u.Name, string(u.Role)
		if !u.Active {
			sum.Subtitle += ", deactivated"
		}
	case parley.CardContact:
		if s.live == nil {
			return nil, parley.Errorf(parley.ENOTFOUND, "customer not found")
		}
		c, err := s.live.Customer(ctx, actor, id)
		if err != nil {
			return nil, err
		}
		k := c.Contact
		sum.Title = k.Name
		if sum.Title == "" {
			sum.Title = fmt.Sprintf("Customer #%d", k.ID)
		}
		sum.Subtitle = strings.Join(nonEmpty(k.Email, k.Phone), " · ")
		if len(c.Dialogs) > 0 {
			sum.Path = fmt.Sprintf("/d/%d", c.Dialogs[0].Conversation.ID)
		}
	case parley.CardCase:
		if s.live == nil {
			return nil, parley.Errorf(parley.ENOTFOUND, "case not found")
		}
		v, err := s.live.Case(ctx, actor, id)
		if err != nil {
			return nil, err
		}
		sum.Title = fmt.Sprintf("#%d %s", v.ID, v.Title)
		sum.Subtitle = v.Status
		if v.Contact != nil && v.Contact.Name != "" {
			sum.Subtitle += " · " + v.Contact.Name
		}
		sum.Path = fmt.Sprintf("/cases/%d", v.ID)
	case parley.CardConversation:
		if err := s.msgs.CanRead(ctx, actor, id); err != nil {
			return nil, err
		}
		c, err := s.store.ConversationByID(ctx, id)
		if err != nil {
			return nil, err
		}
		sum.Title, sum.Subtitle, sum.Path = s.convTitle(ctx, c)
	default:
		return nil, validKind(kind)
	}
	return sum, nil
}

// convTitle names a conversation for its card: a chat's title, a direct
// chat's two people, a dialog's customer.
func (s *Service) convTitle(ctx context.Context, c *parley.Conversation) (title, sub, path string) {
	path = fmt.Sprintf("/c/%d", c.ID)
	switch {
	case c.Support != nil:
		path = fmt.Sprintf("/d/%d", c.ID)
		name := fmt.Sprintf("customer #%d", c.Support.ContactID)
		if k, err := s.store.ContactByID(ctx, c.Support.ContactID); err == nil && k.Name != "" {
			name = k.Name
		}
		return "Dialog with " + name, string(c.Support.Status), path
	case c.Title != "":
		return c.Title, string(c.Kind) + " chat", path
	}
	ms, err := s.store.Members(ctx, c.ID)
	var names []string
	if err == nil {
		for _, m := range ms {
			if u, err := s.store.UserByID(ctx, m.UserID); err == nil {
				names = append(names, u.Name)
			}
		}
	}
	return strings.Join(names, " and "), string(c.Kind) + " chat", path
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// perKind is how many results of each kind a search returns, and
// candidates how many records of a kind it looks at before checking which
// the searcher may see.
const (
	perKind    = 5
	candidates = 50
)

// Search finds records actor may see whose name or title contains text:
// users, customers, cases and actor's conversations, a few of each.
func (s *Service) Search(ctx context.Context, actor *parley.User, text string) ([]*Summary, error) {
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > 100 {
		return nil, parley.Invalid("q", "the search text is too long or not valid UTF-8")
	}
	out := []*Summary{}
	if text == "" {
		return out, nil
	}
	add := func(kind string, ids []int64) error {
		n := 0
		for _, id := range ids {
			if n == perKind {
				break
			}
			sum, err := s.look(ctx, actor, kind, id)
			if c := parley.ErrorCode(err); c == parley.ENOTFOUND || c == parley.EFORBIDDEN {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, sum)
			n++
		}
		return nil
	}
	users, _, err := s.store.Users(ctx, parley.UserFilter{Query: text, Limit: perKind})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if err := add(parley.CardUser, ids); err != nil {
		return nil, err
	}
	if s.live != nil {
		if ids, err = s.store.FindContactIDs(ctx, text, candidates); err != nil {
			return nil, err
		}
		if err := add(parley.CardContact, ids); err != nil {
			return nil, err
		}
		if ids, err = s.store.FindCaseIDs(ctx, text, candidates); err != nil {
			return nil, err
		}
		if err := add(parley.CardCase, ids); err != nil {
			return nil, err
		}
	}
	// The actor's own conversations, by the name their card would show.
	convs, _, err := s.msgs.Conversations(ctx, actor, parley.ConvFilter{Limit: 200})
	if err != nil {
		return nil, err
	}
	low := strings.ToLower(text)
	n := 0
	for _, c := range convs {
		if n == perKind {
			break
		}
		title, sub, path := s.convTitle(ctx, c.Conversation)
		if strings.Contains(strings.ToLower(title), low) {
			out = append(out, &Summary{Kind: parley.CardConversation, ID: c.ID, Visible: true, Title: title, Subtitle: sub, Path: path})
			n++
		}
	}
	return out, nil
}
