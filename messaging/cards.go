package messaging

import (
	"context"

	"github.com/parley-chat/parley"
)

// maxCards is how many records one message may refer to.
const maxCards = 5

// CardChecker checks that a sender may see the records a message's cards
// refer to (package cards, with each kind's own service's rule).
type CardChecker interface {
	CheckCards(ctx context.Context, actor *parley.User, refs []parley.CardRef) error
}

// SetCards installs the check of cards; without it messages carry none.
func (s *Service) SetCards(c CardChecker) { s.cards = c }

func validCards(refs []parley.CardRef, visitor bool) error {
	if len(refs) == 0 {
		return nil
	}
	if visitor {
		return parley.Invalid("cards", "visitors cannot send cards")
	}
	if len(refs) > maxCards {
		return parley.Invalid("cards", "at most %d cards per message", maxCards)
	}
	seen := make(map[parley.CardRef]bool)
	for _, r := range refs {
		switch r.Kind {
		case parley.CardUser, parley.CardContact, parley.CardCase, parley.CardConversation:
		default:
			return parley.Invalid("cards", "a card is of a user, contact, case or conversation, not %q", r.Kind)
		}
		if r.ID <= 0 || seen[r] {
			return parley.Invalid("cards", "each card needs the id of a record, once")
		}
		seen[r] = true
	}
	return nil
}

func (s *Service) checkCards(ctx context.Context, actor *parley.User, refs []parley.CardRef) error {
	if len(refs) == 0 {
		return nil
	}
	if s.cards == nil {
		return parley.Invalid("cards", "this server does not take cards")
	}
	return s.cards.CheckCards(ctx, actor, refs)
}

// CanRead reports (nil) whether the actor may read a conversation's
// history: its members, and the staff of a support dialog. Others get
// ENOTFOUND.
func (s *Service) CanRead(ctx context.Context, actor *parley.User, convID int64) error {
	return s.readable(ctx, convID, actor)
}
