package accounts

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/ratelimit"
)

// Password reset by e-mail. Asking for a reset gets the same answer
// whether or not the address has an account (the account is looked up and
// the mail sent in the background, so the answer takes as long too). Requests are limited
// per address and per client address; the link works once, for ResetTTL,
// and setting a new password ends every browser session of the account.
// It does not sign in: the next sign-in asks for the new password and,
// when the account has one, the second factor.

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

type resetThrottle struct {
	emails *ratelimit.Limiter // requests per e-mail address
	addrs  *ratelimit.Limiter // requests per client address
}

func newResetThrottle() resetThrottle {
	return resetThrottle{emails: ratelimit.New(rate.Every(20*time.Minute), 3), addrs: ratelimit.New(rate.Every(time.Minute), 20)}
}

// ResetInput asks for a reset link.
type ResetInput struct {
	Email string `json:"email"`
}

// NewPasswordInput sets a new password with a reset link's token.
type NewPasswordInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// ResetInfo is what the reset page shows.
type ResetInfo struct {
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ResetAvailable reports whether password reset by e-mail can work here:
// it needs a mailer and a public URL (a link built from a request's Host
// header could point a victim's reset link at an attacker's site).
func (s *Service) ResetAvailable() bool { return s.opt.Mailer != nil && s.opt.PublicURL != "" }

// RequestReset mails a reset link to email if it belongs to an active
// person's account. The answer says nothing about whether it does.
func (s *Service) RequestReset(ctx context.Context, in ResetInput, addr string) error {
	if !s.ResetAvailable() {
		return parley.Errorf(parley.ECONFLICT, "password reset by e-mail is not set up on this server; ask an administrator to set a new password")
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if _, err := normalizeEmail(email); err != nil {
		return err
	}
	if !s.resets.addrs.Allow("addr:" + addr) {
		return limited(s.resets.addrs.Wait("addr:"+addr), "too many reset requests from your network; try again later")
	}
	if !s.resets.emails.Allow("email:" + email) {
		return limited(s.resets.emails.Wait("email:"+email), "a reset link was just sent to this address; check your mail or try again later")
	}
	// Everything that depends on whether the address has an account
	// happens after the answer: looking it up, storing the link (a
	// commit takes milliseconds; nothing to store takes microseconds) and
	// sending the mail.
	s.mailing.Add(1)
	go func() {
		defer s.mailing.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.sendReset(ctx, email); err != nil {
			s.log.Warn("password reset e-mail not sent", "err", parley.ErrorMessage(err))
		}
	}()
	return nil
}

// sendReset stores a new reset link for email's account, if it has an
// active one, and mails it.
func (s *Service) sendReset(ctx context.Context, email string) error {
	token := newSecret()
	var sent *parley.AccountToken
	err := s.write(ctx, func(tx parley.Tx) error {
		sent = nil
		u, _, err := tx.UserByEmail(ctx, email)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if !u.Active || u.Bot {
			return nil
		}
		// The newest link is the only one that works.
		if err := tx.DeleteAccountTokensOf(ctx, parley.TokenReset, email); err != nil {
			return err
		}
		now := s.now()
		sent = &parley.AccountToken{Kind: parley.TokenReset, TokenHash: tokenHash(token), Email: email, UserID: u.ID,
			CreatedAt: now, ExpiresAt: now.Add(ResetTTL), SentAt: now}
		return tx.CreateAccountToken(ctx, sent)
	})
	if err != nil || sent == nil {
		return err
	}
	link := s.opt.PublicURL + "/reset/" + url.PathEscape(token)
	text := fmt.Sprintf("Hello,\n\nSomeone (we hope you) asked to set a new Parley password for %s.\n\nOpen this link to choose a new password:\n\n%s\n\n"+
		"The link works once, for one hour. Setting a new password signs you out everywhere.\n"+
		"If you did not ask for this, ignore this e-mail: your password stays as it is.\n", email, link)
	return s.opt.Mailer.Send(ctx, parley.Mail{To: email, Subject: "Set a new Parley password", Text: text})
}

// ResetInfo describes a live reset link.
func (s *Service) ResetInfo(ctx context.Context, token string) (*ResetInfo, error) {
	t, err := s.link(ctx, s.store, parley.TokenReset, token)
	if err != nil {
		return nil, err
	}
	return &ResetInfo{Email: t.Email, ExpiresAt: t.ExpiresAt}, nil
}

// ResetPassword sets a new password with a reset link, uses the link up
// and ends every browser session of the account (API tokens stay: they
// are credentials of their own). A used, replaced or expired link changes
// nothing.
func (s *Service) ResetPassword(ctx context.Context, in NewPasswordInput, addr string) error {
	if err := validPassword(in.Password); err != nil {
		return err
	}
	if !s.throttle.attempts.Allow(addr) {
		return limited(s.throttle.attempts.Wait(addr), "too many attempts from your address; try again in a minute")
	}
	hash := hashPassword(in.Password, s.opt.Argon2)
	var userID int64
	err := s.write(ctx, func(tx parley.Tx) error {
		t, err := s.link(ctx, tx, parley.TokenReset, in.Token)
		if err != nil {
			return err
		}
		if ok, err := tx.DeleteAccountToken(ctx, t.ID); err != nil {
			return err
		} else if !ok {
			return errLinkGone
		}
		u, err := tx.UserByID(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !u.Active || u.Email != t.Email {
			return errLinkGone // deactivated, or the address changed since
		}
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		ended, err := tx.DeleteOtherSessions(ctx, u.ID, 0, parley.SessionBrowser)
		if err != nil {
			return err
		}
		for _, id := range ended {
			tx.Emit(parley.NewEvent(parley.EventSessionEnded, 0, u.ID, map[string]int64{"session_id": id}))
		}
		userID = u.ID
		return tx.Audit(ctx, parley.NewAudit(ctx, u, s.now(), parley.AuditPasswordReset, "user", u.ID,
			map[string]any{"sessions_ended": len(ended)}))
	})
	if err != nil {
		return err
	}
	s.log.Info("password reset by e-mail", "user_id", userID)
	return nil
}
