package livechat

import (
	"context"
	"slices"

	"github.com/parley-chat/parley"
)

// The tasks package files tasks and moved messages into live chat's
// records (cases, customer cards) under live chat's own rules of who sees
// them; these are those rules, read inside the caller's transaction.

// CaseFor returns a case the actor may see (ENOTFOUND otherwise).
func (s *Service) CaseFor(ctx context.Context, r parley.Reader, actor *parley.User, id int64) (*parley.Case, error) {
	return s.caseFor(ctx, r, actor, id)
}

// ContactFor returns a customer the actor may see (ENOTFOUND otherwise).
func (s *Service) ContactFor(ctx context.Context, r parley.Reader, actor *parley.User, id int64) (*parley.Contact, error) {
	return s.contactFor(ctx, r, actor, id)
}

// SeesProject reports whether the actor sees a project's cases: its
// specialists, and those who manage live chat.
func (s *Service) SeesProject(ctx context.Context, actor *parley.User, projectID int64) (bool, error) {
	ids, err := s.visibleProjects(ctx, actor)
	return slices.Contains(ids, projectID), err
}
