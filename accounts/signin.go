package accounts

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/ratelimit"
)

// Sign-in throttling counts failures, never successes, so an office of a
// hundred people signing in at nine from one address is never refused.
// Failures are limited per account and per client address. A browser that
// has signed in to an account before (it holds a device token) has its own
// budget for that account, so an attacker guessing a password cannot lock
// its owner out, and is not refused when its address is.
type throttle struct {
	accounts *ratelimit.Limiter // failures per account (or per known device)
	addrs    *ratelimit.Limiter // failures per client address
	attempts *ratelimit.Limiter // all attempts per client address: bounds the hashing work
}

func newThrottle(r rate.Limit, burst int) throttle {
	return throttle{
		accounts: ratelimit.New(r, burst),
		addrs:    ratelimit.New(10*r, 10*burst),
		attempts: ratelimit.New(rate.Every(100*time.Millisecond), 600),
	}
}

// Credentials are what a sign-in sends.
type Credentials struct {
	Email, Password string
	// Code is the authenticator app's six digits, or a recovery code,
	// for accounts with two-factor sign-in.
	Code string
	// Device is the browser's device token from an earlier sign-in, if any.
	Device string
	// Addr and Client are the client's address and User-Agent.
	Addr, Client string
}

// SignedIn is a new session.
type SignedIn struct {
	Token   string
	Session *parley.Session
	User    *parley.User
	// Device is a new device token for the browser to keep ("" if the one
	// it sent is still good).
	Device string
}

func limited(wait time.Duration, format string, args ...any) error {
	e := parley.Errorf(parley.ERATELIMITED, format, args...)
	e.RetryAfter = max(wait, time.Second)
	return e
}

// Login checks a password (and the second factor, if the account has one)
// and opens a browser session. A wrong e-mail and a wrong password get the
// same answer and take as long.
func (s *Service) Login(ctx context.Context, c Credentials) (*SignedIn, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	if !s.throttle.attempts.Allow(c.Addr) {
		return nil, limited(s.throttle.attempts.Wait(c.Addr), "too many sign-in attempts from your address; try again in a minute")
	}
	// A known device has its own budget for its own account.
	budget, known := "account:"+email, false
	if c.Device != "" && len(c.Device) <= 100 {
		if owner, err := s.store.KnownDevice(ctx, tokenHash(c.Device)); err == nil {
			if u, _, err := s.store.UserByEmail(ctx, email); err == nil && u.ID == owner {
				budget, known = "device:"+tokenHash(c.Device), true
			}
		}
	}
	if s.throttle.accounts.Blocked(budget) {
		wait := s.throttle.accounts.Wait(budget)
		return nil, limited(wait, "too many failed sign-ins to this account; try again in %s", humanWait(wait))
	}
	if !known && s.throttle.addrs.Blocked("addr:"+c.Addr) {
		wait := s.throttle.addrs.Wait("addr:" + c.Addr)
		return nil, limited(wait, "too many failed sign-ins from your network; try again in %s, or from a browser you have signed in with before", humanWait(wait))
	}
	fail := func(err error) (*SignedIn, error) {
		s.throttle.accounts.Allow(budget)
		s.throttle.addrs.Allow("addr:" + c.Addr)
		return nil, err
	}
	denied := parley.Errorf(parley.EUNAUTHORIZED, "wrong e-mail or password")
	u, hash, err := s.store.UserByEmail(ctx, email)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		checkPassword(c.Password, s.dummyHash)
		return fail(denied)
	}
	if err != nil {
		return nil, err
	}
	if !checkPassword(c.Password, hash) || !u.Active {
		return fail(denied)
	}
	if u.TwoFactor {
		if strings.TrimSpace(c.Code) == "" {
			return nil, parley.Errorf(parley.ETWOFACTOR, "enter the code from your authenticator app, or a recovery code")
		}
		ok, err := s.checkCode(ctx, u.ID, c.Code)
		if err != nil {
			return nil, err
		}
		if !ok {
			return fail(parley.Errorf(parley.EUNAUTHORIZED, "wrong or already used code"))
		}
	}
	out := &SignedIn{User: u, Token: newSecret()}
	out.Session = &parley.Session{UserID: u.ID, Kind: parley.SessionBrowser, TokenHash: tokenHash(out.Token), CSRF: newSecret(),
		ExpiresAt: parley.Now().Add(s.opt.SessionTTL), Client: clip(c.Client, 200), Addr: clip(c.Addr, 64)}
	if !known {
		out.Device = newSecret()
	}
	err = s.write(ctx, func(tx parley.Tx) error {
		if out.Device != "" {
			if err := tx.AddKnownDevice(ctx, tokenHash(out.Device), u.ID); err != nil {
				return err
			}
		}
		return tx.CreateSession(ctx, out.Session)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("signed in", "user_id", u.ID, "two_factor", u.TwoFactor)
	return out, nil
}

func humanWait(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", max(1, int(d.Seconds()+0.5)))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()+0.999))
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// base32NoPad spells recovery codes: 5 random bytes, 8 characters.
var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// checkCode accepts a current authenticator code (the apps' common
// settings, RFC 6238: SHA-1, six digits, 30-second steps, one step of
// clock skew either way), once (a code seen once
// cannot be replayed, even within its 30 seconds), or an unused recovery
// code, which it uses up.
func (s *Service) checkCode(ctx context.Context, userID int64, code string) (bool, error) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	t, err := s.store.TOTP(ctx, userID)
	if err != nil || t.Secret == "" {
		return false, err
	}
	if len(code) == 6 {
		now := parley.Now()
		for _, skew := range []int64{0, -1, 1} {
			at := now.Add(time.Duration(skew) * 30 * time.Second)
			ok, err := totp.ValidateCustom(code, t.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil || !ok {
				continue
			}
			step := at.Unix() / 30
			var used bool
			err = s.write(ctx, func(tx parley.Tx) error {
				used, err = tx.UseTOTPStep(ctx, userID, step)
				return err
			})
			return used, err
		}
		return false, nil
	}
	var used bool
	err = s.write(ctx, func(tx parley.Tx) error {
		used, err = tx.UseRecoveryCode(ctx, userID, tokenHash(normalizeRecovery(code)))
		return err
	})
	return used, err
}

func normalizeRecovery(code string) string {
	return strings.ToLower(strings.ReplaceAll(code, "-", ""))
}

// TwoFactorSetup is a pending two-factor secret for the user to add to an
// authenticator app.
type TwoFactorSetup struct {
	Secret string `json:"secret"`
	// URL is the otpauth:// URL the QR code holds.
	URL string `json:"url"`
	// QR is a PNG of the QR code as a data: URL.
	QR string `json:"qr"`
}

// BeginTwoFactor creates a new pending secret for the actor; it takes
// effect when a code from it is confirmed. Starting again replaces a
// pending secret; an enabled one must be turned off first.
func (s *Service) BeginTwoFactor(ctx context.Context, actor *parley.User, issuer string) (*TwoFactorSetup, error) {
	if actor.Bot {
		return nil, parley.Errorf(parley.EFORBIDDEN, "bots sign in with tokens, not passwords")
	}
	if actor.TwoFactor {
		return nil, parley.Errorf(parley.ECONFLICT, "two-factor sign-in is already on; turn it off first to change the app")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: actor.Email, Period: 30,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	if err := s.write(ctx, func(tx parley.Tx) error { return tx.SetTOTP(ctx, actor.ID, key.Secret(), false) }); err != nil {
		return nil, err
	}
	return &TwoFactorSetup{Secret: key.Secret(), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// Rotated is what a change of credentials hands back: the session's new
// token (the old one stops working) and, when two-factor sign-in was just
// turned on, the recovery codes, shown once.
type Rotated struct {
	Token         string   `json:"token"`
	CSRFToken     string   `json:"csrf_token"`
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// Session is the rotated session, for the transport to set cookies.
	Session *parley.Session `json:"-"`
}

// EnableTwoFactor turns two-factor sign-in on with the pending secret, once
// a code from it proves the app holds it. The actor's other browser
// sessions end and this one gets a new token.
func (s *Service) EnableTwoFactor(ctx context.Context, actor *parley.User, sess *parley.Session, code string) (*Rotated, error) {
	if actor.TwoFactor {
		return nil, parley.Errorf(parley.ECONFLICT, "two-factor sign-in is already on")
	}
	t, err := s.store.TOTP(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	if t.Secret == "" {
		return nil, parley.Errorf(parley.ECONFLICT, "start setting up two-factor sign-in first")
	}
	if !totp.Validate(strings.TrimSpace(code), t.Secret) {
		return nil, parley.Invalid("code", "that code does not match; check the app's clock and enter the current code")
	}
	codes := make([]string, 10)
	hashes := make([]string, len(codes))
	for i := range codes {
		b := make([]byte, 5)
		rand.Read(b)
		c := strings.ToLower(base32NoPad.EncodeToString(b)) // 8 characters
		codes[i], hashes[i] = c[:4]+"-"+c[4:], tokenHash(c)
	}
	out, err := s.rotate(ctx, actor, sess, "two-factor sign-in turned on", func(tx parley.Tx) error {
		if err := tx.SetTOTP(ctx, actor.ID, t.Secret, true); err != nil {
			return err
		}
		if _, err := tx.UseTOTPStep(ctx, actor.ID, parley.Now().Unix()/30); err != nil {
			return err
		}
		return tx.SetRecoveryCodes(ctx, actor.ID, hashes)
	})
	if err != nil {
		return nil, err
	}
	out.RecoveryCodes = codes
	return out, nil
}

// DisableTwoFactor turns two-factor sign-in off; it asks for the password
// and a current code (or a recovery code), so a session left open on a
// shared computer cannot remove it. An administrator the organisation
// requires it of cannot turn it off.
func (s *Service) DisableTwoFactor(ctx context.Context, actor *parley.User, sess *parley.Session, password, code string) (*Rotated, error) {
	if !actor.TwoFactor {
		return nil, parley.Errorf(parley.ECONFLICT, "two-factor sign-in is not on")
	}
	if sec, err := s.Security(ctx); err != nil {
		return nil, err
	} else if sec.RequireAdminTwoFactor && actor.IsAdmin() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "the organisation requires administrators to use two-factor sign-in")
	}
	if err := s.checkCurrentPassword(ctx, actor, "password", password); err != nil {
		return nil, err
	}
	ok, err := s.checkCode(ctx, actor.ID, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parley.Invalid("code", "wrong or already used code")
	}
	return s.rotate(ctx, actor, sess, "two-factor sign-in turned off", func(tx parley.Tx) error {
		if err := tx.SetTOTP(ctx, actor.ID, "", false); err != nil {
			return err
		}
		return tx.SetRecoveryCodes(ctx, actor.ID, nil)
	})
}

// TwoFactorStatus says whether two-factor sign-in is on and how many
// recovery codes are left.
type TwoFactorStatus struct {
	Enabled       bool `json:"enabled"`
	RecoveryCodes int  `json:"recovery_codes_left"`
	// Required is set when the organisation requires it of this user.
	Required bool `json:"required"`
}

// TwoFactor returns the actor's two-factor status.
func (s *Service) TwoFactor(ctx context.Context, actor *parley.User) (TwoFactorStatus, error) {
	st := TwoFactorStatus{Enabled: actor.TwoFactor}
	n, err := s.store.RecoveryCodesLeft(ctx, actor.ID)
	if err != nil {
		return st, err
	}
	st.RecoveryCodes = n
	sec, err := s.Security(ctx)
	st.Required = sec.RequireAdminTwoFactor && actor.IsAdmin()
	return st, err
}

// ChangePassword sets the actor's own password; it asks for the current
// one, so a session left open cannot be turned into the account. Failed
// checks count against the account's sign-in budget.
func (s *Service) ChangePassword(ctx context.Context, actor *parley.User, sess *parley.Session, current, next string) (*Rotated, error) {
	if err := validPassword(next); err != nil {
		return nil, err
	}
	if err := s.checkCurrentPassword(ctx, actor, "current_password", current); err != nil {
		return nil, err
	}
	hash := hashPassword(next, s.opt.Argon2)
	return s.rotate(ctx, actor, sess, "password changed", func(tx parley.Tx) error { return tx.SetPassword(ctx, actor.ID, hash) })
}

func (s *Service) checkCurrentPassword(ctx context.Context, actor *parley.User, field, password string) error {
	budget := "account:" + strings.ToLower(actor.Email)
	if s.throttle.accounts.Blocked(budget) {
		wait := s.throttle.accounts.Wait(budget)
		return limited(wait, "too many wrong passwords; try again in %s", humanWait(wait))
	}
	hash, err := s.store.PasswordHash(ctx, actor.ID)
	if err != nil {
		return err
	}
	if password == "" || !checkPassword(password, hash) {
		s.throttle.accounts.Allow(budget)
		return parley.Invalid(field, "your current password is wrong")
	}
	return nil
}

// rotate applies a change of the actor's credentials: it ends their other
// browser sessions (API tokens stay: they are credentials of their own)
// and gives this session a new token, in the change's transaction.
func (s *Service) rotate(ctx context.Context, actor *parley.User, sess *parley.Session, why string, change func(tx parley.Tx) error) (*Rotated, error) {
	out := &Rotated{Token: newSecret(), CSRFToken: newSecret()}
	err := s.write(ctx, func(tx parley.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		keep := int64(0)
		if sess != nil && sess.Kind == parley.SessionBrowser {
			keep = sess.ID
			if err := tx.RotateSession(ctx, sess.ID, tokenHash(out.Token), out.CSRFToken); err != nil {
				return err
			}
		}
		ended, err := tx.DeleteOtherSessions(ctx, actor.ID, keep, parley.SessionBrowser)
		if err != nil {
			return err
		}
		for _, id := range ended {
			tx.Emit(parley.NewEvent(parley.EventSessionEnded, 0, actor.ID, map[string]int64{"session_id": id}))
		}
		u, err := tx.UserByID(ctx, actor.ID)
		if err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventUserUpdated, 0, 0, u))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sess != nil && sess.Kind == parley.SessionBrowser {
		rotated := *sess
		rotated.TokenHash, rotated.CSRF = tokenHash(out.Token), out.CSRFToken
		out.Session = &rotated
	} else {
		out.Token, out.CSRFToken = "", ""
	}
	s.log.Info(why, "user_id", actor.ID)
	return out, nil
}

// SignOutOthers ends every browser session of the actor but this one.
func (s *Service) SignOutOthers(ctx context.Context, actor *parley.User, sess *parley.Session) (int, error) {
	keep := int64(0)
	if sess != nil {
		keep = sess.ID
	}
	var n int
	err := s.write(ctx, func(tx parley.Tx) error {
		ended, err := tx.DeleteOtherSessions(ctx, actor.ID, keep, parley.SessionBrowser)
		for _, id := range ended {
			tx.Emit(parley.NewEvent(parley.EventSessionEnded, 0, actor.ID, map[string]int64{"session_id": id}))
		}
		n = len(ended)
		return err
	})
	return n, err
}

// SecuritySettings are the organisation's sign-in rules.
type SecuritySettings struct {
	// RequireAdminTwoFactor: administrators must sign in with a second
	// factor; one without it can only set it up.
	RequireAdminTwoFactor bool `json:"require_admin_two_factor"`
}

const securityKey = "security"

// Security returns the organisation's sign-in rules.
func (s *Service) Security(ctx context.Context) (SecuritySettings, error) {
	var sec SecuritySettings
	err := s.store.Setting(ctx, securityKey, &sec)
	return sec, err
}

// SetSecurity changes the organisation's sign-in rules (administrators
// only). An administrator may require two-factor sign-in of administrators
// only once they use it themselves, so they cannot shut themselves out.
func (s *Service) SetSecurity(ctx context.Context, actor *parley.User, sec SecuritySettings) (SecuritySettings, error) {
	if !actor.IsAdmin() {
		return sec, parley.Errorf(parley.EFORBIDDEN, "only an administrator may change the sign-in rules")
	}
	if sec.RequireAdminTwoFactor && !actor.TwoFactor {
		return sec, parley.Invalid("require_admin_two_factor", "turn on two-factor sign-in for your own account first")
	}
	err := s.write(ctx, func(tx parley.Tx) error {
		if err := tx.PutSetting(ctx, securityKey, sec); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(parley.EventSettings, 0, 0, map[string]any{"security": sec}))
		return nil
	})
	return sec, err
}

// MustSetUpTwoFactor reports whether u may only set up two-factor sign-in
// (the organisation requires it of administrators and u has none).
func (s *Service) MustSetUpTwoFactor(ctx context.Context, u *parley.User) (bool, error) {
	if !u.IsAdmin() || u.TwoFactor || u.Bot {
		return false, nil
	}
	sec, err := s.Security(ctx)
	return sec.RequireAdminTwoFactor, err
}
