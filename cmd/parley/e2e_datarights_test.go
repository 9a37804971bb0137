package main

import (
	"net/http"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
)

// TestAuditLogAccess: only administrators read the audit log; bad filters
// are refused.
func TestAuditLogAccess(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	for _, role := range []parley.Role{parley.RoleSupervisor, parley.RoleAgent, parley.RoleMember} {
		s.newUser(t, role, "").do("GET", "/api/v1/audit", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
	}
	s.anon(t).do("GET", "/api/v1/audit", nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
	admin.do("GET", "/api/v1/audit?action=DROP%20TABLE", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	admin.do("GET", "/api/v1/audit?target_id=x", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	var page accounts.AuditPage
	admin.do("GET", "/api/v1/audit", nil).want(http.StatusOK).decode(&page)
	if page.Entries == nil || len(page.Entries) != 0 || page.NextBefore != 0 {
		t.Fatalf("a new server's audit log: %+v", page)
	}
}
