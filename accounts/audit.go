package accounts

import (
	"context"
	"regexp"

	"github.com/parley-chat/parley"
)

// AuditPage is a page of the audit log, newest first; NextBefore continues
// it (0: the end).
type AuditPage struct {
	Entries    []*parley.AuditEntry `json:"entries"`
	NextBefore int64                `json:"next_before,omitempty"`
}

var auditName = regexp.MustCompile(`^[a-z_.]{0,64}$`)

// AuditLog returns a page of the audit log: administrators only.
func (s *Service) AuditLog(ctx context.Context, actor *parley.User, f parley.AuditFilter) (*AuditPage, error) {
	if !actor.IsAdmin() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only administrators can read the audit log")
	}
	if !auditName.MatchString(f.Action) {
		return nil, parley.Invalid("action", "action is a name such as contact.erased")
	}
	if !auditName.MatchString(f.TargetType) {
		return nil, parley.Invalid("target_type", "target_type is a name such as contact")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	list, err := s.store.AuditLog(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{Entries: list}
	if page.Entries == nil {
		page.Entries = []*parley.AuditEntry{}
	}
	if len(list) == f.Limit {
		page.NextBefore = list[len(list)-1].ID
	}
	return page, nil
}
