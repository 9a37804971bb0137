package parley

import "time"

// An AccountToken is a single-use link Parley mails to someone: an
// invitation to join (kind TokenInvite) or a password reset (kind
// TokenReset). Only the SHA-256 of the random token is stored; the token
// itself is in the link and nowhere else. Using one deletes it.
type AccountToken struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	TokenHash string    `json:"-"`
	Email     string    `json:"email"`
	UserID    int64     `json:"user_id,omitempty"` // a reset: the account
	Role      Role      `json:"role,omitempty"`    // an invitation: the role the account gets
	GroupIDs  []int64   `json:"group_ids"`         // an invitation: the groups it joins
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// SentAt is when the link was last mailed (zero: never, e.g. no
	// mailer is configured and the administrator copied it).
	SentAt time.Time `json:"sent_at,omitempty"`
}

// Account token kinds.
const (
	TokenInvite = "invite"
	TokenReset  = "reset"
)

// Audited account actions.
const (
	AuditUserInvited       = "user.invited"
	AuditInviteResent      = "invite.resent"
	AuditInviteRevoked     = "invite.revoked"
	AuditInviteAccepted    = "invite.accepted"
	AuditPasswordReset     = "user.password_reset"
	AuditOIDCSettings      = "oidc.settings_changed"
	AuditUserCreatedByOIDC = "user.created_oidc"
	AuditLogExported       = "audit.exported"
)
