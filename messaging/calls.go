package messaging

import (
	"context"

	"github.com/parley-chat/parley"
)

// CallLine writes a call's system line (missed, declined, ended with its
// length) into the conversation, as any other system line: it arrives as
// message.created. The calls service decides when; nothing else calls it.
func (s *Service) CallLine(ctx context.Context, convID int64, ev parley.SystemEvent) error {
	return s.write(ctx, func(tx parley.Tx) error {
		c, err := tx.ConversationByID(ctx, convID)
		if err != nil {
			return err
		}
		return s.systemLine(ctx, tx, c, ev)
	})
}
