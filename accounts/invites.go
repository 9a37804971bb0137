package accounts

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Invitations: an administrator invites an e-mail address with a role and
// groups; the address receives a single-use link that lets its owner
// choose a name and password and signs them in. Only the token's hash is
// stored; resending makes a new token (the old link stops working).

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// InviteInput is what an administrator fills in.
type InviteInput struct {
	Email    string      `json:"email"`
	Role     parley.Role `json:"role"`
	GroupIDs []int64     `json:"group_ids" max:"100"`
}

// InviteSent says how the link reached the invitee. Without a mailer, or
// when the mail server refused, Link is the link for the administrator to
// pass on themselves; it is never returned once mailed.
type InviteSent struct {
	Invite *parley.AccountToken `json:"invite"`
	Mailed bool                 `json:"mailed"`
	// MailError says why the e-mail was not sent ("" when it was).
	MailError string `json:"mail_error,omitempty"`
	Link      string `json:"link,omitempty"`
}

// InviteInfo is what the invitation page shows before the invitee accepts.
type InviteInfo struct {
	Email     string      `json:"email"`
	Role      parley.Role `json:"role"`
	ExpiresAt time.Time   `json:"expires_at"`
	// TwoFactorRequired: the organisation requires administrators to use
	// two-factor sign-in, and this invitation makes one; they set it up
	// right after accepting.
	TwoFactorRequired bool `json:"two_factor_required"`
}

// AcceptInput is what the invitee fills in.
type AcceptInput struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Service) now() time.Time { return s.opt.Now() }

// linkBase is the address links point to: the public URL when configured,
// else origin (the address the administrator uses).
func (s *Service) linkBase(origin string) string {
	if s.opt.PublicURL != "" {
		return s.opt.PublicURL
	}
	return strings.TrimRight(origin, "/")
}

// MailerConfigured reports whether Parley can send its own e-mail.
func (s *Service) MailerConfigured() bool { return s.opt.Mailer != nil }

// Invite invites an e-mail address (the users.manage right; only an
// administrator may invite an administrator). origin is the address the
// administrator reached the server at, used in the link when no public
// URL is configured.
func (s *Service) Invite(ctx context.Context, actor *parley.User, in InviteInput, origin string) (*InviteSent, error) {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = parley.RoleMember
	}
	if !in.Role.Valid() {
		return nil, parley.Invalid("role", "role must be admin, supervisor, agent or member")
	}
	if in.Role == parley.RoleAdmin && !actor.IsAdmin() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only an administrator may invite administrators")
	}
	if len(in.GroupIDs) > 100 {
		return nil, parley.Invalid("group_ids", "at most 100 groups")
	}
	slices.Sort(in.GroupIDs)
	in.GroupIDs = slices.Compact(in.GroupIDs)
	token := newSecret()
	now := s.now()
	inv := &parley.AccountToken{Kind: parley.TokenInvite, TokenHash: tokenHash(token), Email: email, Role: in.Role,
		GroupIDs: in.GroupIDs, CreatedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	err = s.write(ctx, func(tx parley.Tx) error {
		if _, _, err := tx.UserByEmail(ctx, email); err == nil {
			return parley.Errorf(parley.ECONFLICT, "%s already has an account", email)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		list, err := tx.AccountTokens(ctx, parley.TokenInvite)
		if err != nil {
			return err
		}
		for _, t := range list {
			if t.Email == email {
				return parley.Errorf(parley.ECONFLICT, "%s is already invited; resend or revoke that invitation", email)
			}
		}
		for _, id := range in.GroupIDs {
			if _, err := tx.GroupByID(ctx, id); parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Invalid("group_ids", "group %d does not exist", id)
			} else if err != nil {
				return err
			}
		}
		if err := tx.CreateAccountToken(ctx, inv); err != nil {
			return err
		}
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, now, parley.AuditUserInvited, "invite", inv.ID,
			map[string]any{"email": email, "role": in.Role, "group_ids": in.GroupIDs}))
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("user invited", "invite_id", inv.ID, "by", actor.ID, "role", inv.Role)
	return s.sendInvite(ctx, actor, inv, token, origin)
}

// sendInvite mails the link, recording when it went out; the
// administrator gets the link itself when it could not be mailed.
func (s *Service) sendInvite(ctx context.Context, actor *parley.User, inv *parley.AccountToken, token, origin string) (*InviteSent, error) {
	link := s.linkBase(origin) + "/invite/" + url.PathEscape(token)
	out := &InviteSent{Invite: inv}
	if s.opt.Mailer == nil {
		out.MailError, out.Link = "no mail server is configured (--smtp-url): copy the link and send it yourself", link
		return out, nil
	}
	text := fmt.Sprintf("Hello,\n\n%s invites you to join Parley as %s.\n\nOpen this link to choose your name and password:\n\n%s\n\n"+
		"The link works once, until %s. If you did not expect this invitation, ignore this e-mail.\n",
		actor.Name, article(string(inv.Role)), link, inv.ExpiresAt.Format("2 January 2006 15:04 MST"))
	if err := s.opt.Mailer.Send(ctx, parley.Mail{To: inv.Email, Subject: actor.Name + " invites you to Parley", Text: text}); err != nil {
		out.MailError, out.Link = parley.ErrorMessage(err), link
		return out, nil
	}
	out.Mailed = true
	sent := s.now()
	if err := s.write(ctx, func(tx parley.Tx) error {
		return tx.RenewAccountToken(ctx, inv.ID, inv.TokenHash, inv.ExpiresAt, sent)
	}); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	inv.SentAt = sent
	return out, nil
}

func article(role string) string {
	if strings.IndexByte("aeiou", role[0]) >= 0 {
		return "an " + role
	}
	return "a " + role
}

// Invites lists the pending invitations (the users.manage right), expired
// ones too: they can be resent.
func (s *Service) Invites(ctx context.Context, actor *parley.User) ([]*parley.AccountToken, error) {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return nil, err
	}
	list, err := s.store.AccountTokens(ctx, parley.TokenInvite)
	if list == nil {
		list = []*parley.AccountToken{}
	}
	return list, err
}

func (s *Service) invite(ctx context.Context, tx parley.Reader, actor *parley.User, id int64) (*parley.AccountToken, error) {
	list, err := tx.AccountTokens(ctx, parley.TokenInvite)
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t.ID == id {
			if t.Role == parley.RoleAdmin && !actor.IsAdmin() {
				return nil, parley.Errorf(parley.EFORBIDDEN, "only an administrator may change an invitation of an administrator")
			}
			return t, nil
		}
	}
	return nil, parley.Errorf(parley.ENOTFOUND, "invitation not found")
}

// ResendInvite makes a new link for an invitation, valid for another
// InviteTTL, and sends it; the previous link stops working.
func (s *Service) ResendInvite(ctx context.Context, actor *parley.User, id int64, origin string) (*InviteSent, error) {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return nil, err
	}
	token := newSecret()
	var inv *parley.AccountToken
	err := s.write(ctx, func(tx parley.Tx) error {
		var err error
		if inv, err = s.invite(ctx, tx, actor, id); err != nil {
			return err
		}
		inv.TokenHash, inv.ExpiresAt, inv.SentAt = tokenHash(token), s.now().Add(InviteTTL), time.Time{}
		if err := tx.RenewAccountToken(ctx, inv.ID, inv.TokenHash, inv.ExpiresAt, time.Time{}); err != nil {
			return err
		}
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), parley.AuditInviteResent, "invite", inv.ID, map[string]any{"email": inv.Email}))
	})
	if err != nil {
		return nil, err
	}
	return s.sendInvite(ctx, actor, inv, token, origin)
}

// RevokeInvite deletes an invitation: its link stops working.
func (s *Service) RevokeInvite(ctx context.Context, actor *parley.User, id int64) error {
	if err := s.require(ctx, actor, parley.RightUsersManage); err != nil {
		return err
	}
	return s.write(ctx, func(tx parley.Tx) error {
		inv, err := s.invite(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if _, err := tx.DeleteAccountToken(ctx, inv.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), parley.AuditInviteRevoked, "invite", inv.ID, map[string]any{"email": inv.Email}))
	})
}

var errLinkGone = parley.Errorf(parley.ENOTFOUND, "this link does not work any more: it was used, revoked or replaced by a newer one, or it expired")

// link finds a live link of a kind by its token.
func (s *Service) link(ctx context.Context, r parley.Reader, kind, token string) (*parley.AccountToken, error) {
	if token == "" || len(token) > 100 {
		return nil, errLinkGone
	}
	t, err := r.AccountTokenByHash(ctx, tokenHash(token))
	if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && (t.Kind != kind || !s.now().Before(t.ExpiresAt))) {
		return nil, errLinkGone
	}
	return t, err
}

// InviteInfo describes a live invitation link (no sign-in needed: the
// token is the credential).
func (s *Service) InviteInfo(ctx context.Context, token string) (*InviteInfo, error) {
	inv, err := s.link(ctx, s.store, parley.TokenInvite, token)
	if err != nil {
		return nil, err
	}
	sec, err := s.Security(ctx)
	if err != nil {
		return nil, err
	}
	return &InviteInfo{Email: inv.Email, Role: inv.Role, ExpiresAt: inv.ExpiresAt,
		TwoFactorRequired: sec.RequireAdminTwoFactor && inv.Role == parley.RoleAdmin}, nil
}

// AcceptInvite creates the invited account with the name and password the
// invitee chose, in the invited role and groups, uses the link up and
// opens a browser session. An administrator the organisation requires
// two-factor sign-in of gets a session that can only set it up.
func (s *Service) AcceptInvite(ctx context.Context, in AcceptInput, addr, client string) (*SignedIn, error) {
	name, err := normalizeName(in.Name)
	if err != nil {
		return nil, err
	}
	if err := validPassword(in.Password); err != nil {
		return nil, err
	}
	if !s.throttle.attempts.Allow(addr) {
		return nil, limited(s.throttle.attempts.Wait(addr), "too many attempts from your address; try again in a minute")
	}
	hash := hashPassword(in.Password, s.opt.Argon2)
	out := &SignedIn{Token: newSecret(), Device: newSecret()}
	err = s.write(ctx, func(tx parley.Tx) error {
		inv, err := s.link(ctx, tx, parley.TokenInvite, in.Token)
		if err != nil {
			return err
		}
		if ok, err := tx.DeleteAccountToken(ctx, inv.ID); err != nil {
			return err
		} else if !ok {
			return errLinkGone
		}
		u := &parley.User{Email: inv.Email, Name: name, Role: inv.Role, Active: true}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		for _, gid := range inv.GroupIDs {
			g, err := tx.GroupByID(ctx, gid)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue // deleted since the invitation
			} else if err != nil {
				return err
			}
			g.MemberIDs = append(g.MemberIDs, u.ID)
			if err := tx.UpdateGroup(ctx, g); err != nil {
				return err
			}
		}
		out.User = u
		out.Session = &parley.Session{UserID: u.ID, Kind: parley.SessionBrowser, TokenHash: tokenHash(out.Token), CSRF: newSecret(),
			ExpiresAt: s.now().Add(s.opt.SessionTTL), Client: clip(client, 200), Addr: clip(addr, 64)}
		if err := tx.AddKnownDevice(ctx, tokenHash(out.Device), u.ID); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, out.Session); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
		return tx.Audit(ctx, parley.NewAudit(ctx, u, s.now(), parley.AuditInviteAccepted, "user", u.ID,
			map[string]any{"invite_id": inv.ID, "invited_by": inv.CreatedBy, "role": inv.Role}))
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("invitation accepted", "user_id", out.User.ID, "role", out.User.Role)
	return out, nil
}
