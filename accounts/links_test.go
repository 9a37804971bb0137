package accounts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/channel/email"
	"github.com/parley-chat/parley/channel/email/emailtest"
	"github.com/parley-chat/parley/sqlstore"
	"github.com/parley-chat/parley/sqlstore/sqltest"
)

// clock is a movable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	store  *sqlstore.Store
	acc    *accounts.Service
	smtp   *emailtest.SMTP
	clock  *clock
	admin  *parley.User
	member *parley.User
}

var cheap = accounts.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// newEnv opens a SQLite store and the service with a mailer sending to a
// local SMTP server (mail false: no mailer).
func newEnv(t *testing.T, mail bool) *env {
	t.Helper()
	e := &env{store: sqltest.MustOpenSQLite(t), clock: &clock{t: parley.Now()}}
	opt := accounts.Options{Argon2: cheap, PublicURL: "https://chat.example.com", Now: e.clock.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mail {
		e.smtp = emailtest.NewSMTP(t, emailtest.SMTPOptions{NoAuth: true})
		m, err := email.NewMailer(e.smtp.URL(), "Parley <parley@example.com>")
		if err != nil {
			t.Fatal(err)
		}
		opt.Mailer = m
	}
	e.acc = accounts.New(e.store, opt)
	t.Cleanup(e.acc.Close)
	ctx := context.Background()
	var err error
	if e.admin, err = e.acc.CreateUser(ctx, nil, accounts.NewUser{Email: "ada@example.com", Name: "Ada", Password: "password-ada", Role: parley.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if e.member, err = e.acc.CreateUser(ctx, nil, accounts.NewUser{Email: "mel@example.com", Name: "Mel", Password: "password-mel"}); err != nil {
		t.Fatal(err)
	}
	return e
}

var linkRE = regexp.MustCompile(`https://chat\.example\.com/(invite|reset)/([A-Za-z0-9_-]+)`)

// linkIn returns the token of the link in a mail.
func linkIn(t *testing.T, m emailtest.Mail) string {
	t.Helper()
	got := linkRE.FindSubmatch(m.Data)
	if got == nil {
		t.Fatalf("no link in the mail:\n%s", m.Data)
	}
	return string(got[2])
}

func code(err error) string { return parley.ErrorCode(err) }

func TestInvitations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	g, err := e.acc.SaveGroup(ctx, e.admin, 0, accounts.GroupInput{Name: "Support"})
	if err != nil {
		t.Fatal(err)
	}

	// A member may not invite, and nothing is stored.
	if _, err := e.acc.Invite(ctx, e.member, accounts.InviteInput{Email: "x@example.com"}, ""); code(err) != parley.EFORBIDDEN {
		t.Fatalf("member invites: %v", err)
	}
	if _, err := e.acc.Invites(ctx, e.member); code(err) != parley.EFORBIDDEN {
		t.Fatalf("member lists invitations: %v", err)
	}
	// users.manage without being an administrator: no administrators.
	sup, err := e.acc.CreateUser(ctx, nil, accounts.NewUser{Email: "sue@example.com", Name: "Sue", Password: "password-sue", Role: parley.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.SaveGroup(ctx, e.admin, 0, accounts.GroupInput{Name: "HR", Rights: []string{parley.RightUsersManage}, MemberIDs: []int64{sup.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Invite(ctx, sup, accounts.InviteInput{Email: "boss@example.com", Role: parley.RoleAdmin}, ""); code(err) != parley.EFORBIDDEN {
		t.Fatalf("supervisor invites an administrator: %v", err)
	}
	for _, in := range []accounts.InviteInput{{Email: "not an address"}, {Email: "mel@example.com"}, {Email: "y@example.com", Role: "boss"},
		{Email: "y@example.com", GroupIDs: []int64{9999}}} {
		if _, err := e.acc.Invite(ctx, e.admin, in, ""); err == nil {
			t.Fatalf("invitation %+v accepted", in)
		}
	}
	if list, _ := e.acc.Invites(ctx, e.admin); len(list) != 0 {
		t.Fatalf("refused invitations stored: %+v", list)
	}

	sent, err := e.acc.Invite(ctx, e.admin, accounts.InviteInput{Email: " New@Example.com ", Role: parley.RoleAgent, GroupIDs: []int64{g.ID}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !sent.Mailed || sent.Link != "" || sent.Invite.Email != "new@example.com" || sent.Invite.SentAt.IsZero() {
		t.Fatalf("sent %+v", sent)
	}
	mails := e.smtp.WaitSent(t, 1)
	if mails[0].To[0] != "new@example.com" || !bytes.Contains(mails[0].Data, []byte("Ada invites you")) {
		t.Fatalf("mail %s", mails[0].Data)
	}
	first := linkIn(t, mails[0])
	if _, err := e.acc.Invite(ctx, e.admin, accounts.InviteInput{Email: "new@example.com"}, ""); code(err) != parley.ECONFLICT {
		t.Fatalf("second invitation: %v", err)
	}

	// Resending replaces the link.
	if _, err := e.acc.ResendInvite(ctx, e.admin, sent.Invite.ID, ""); err != nil {
		t.Fatal(err)
	}
	token := linkIn(t, e.smtp.WaitSent(t, 2)[1])
	if _, err := e.acc.InviteInfo(ctx, first); code(err) != parley.ENOTFOUND {
		t.Fatalf("replaced link: %v", err)
	}
	info, err := e.acc.InviteInfo(ctx, token)
	if err != nil || info.Email != "new@example.com" || info.Role != parley.RoleAgent {
		t.Fatalf("info %+v %v", info, err)
	}

	// Bad input changes nothing; then the link works once.
	if _, err := e.acc.AcceptInvite(ctx, accounts.AcceptInput{Token: token, Name: "Nina", Password: "short"}, "127.0.0.1", ""); code(err) != parley.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	in, err := e.acc.AcceptInvite(ctx, accounts.AcceptInput{Token: token, Name: "Nina", Password: "password-nina"}, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if in.User.Role != parley.RoleAgent || in.User.Email != "new@example.com" || in.Token == "" {
		t.Fatalf("accepted %+v", in.User)
	}
	if u, _, err := e.acc.Authenticate(ctx, in.Token); err != nil || u.ID != in.User.ID {
		t.Fatalf("the new session does not work: %v", err)
	}
	if u, _ := e.acc.User(ctx, in.User.ID); len(u.Groups) != 1 || u.Groups[0].ID != g.ID {
		t.Fatalf("groups %+v", u.Groups)
	}
	if _, err := e.acc.AcceptInvite(ctx, accounts.AcceptInput{Token: token, Name: "Eve", Password: "password-eve"}, "127.0.0.1", ""); code(err) != parley.ENOTFOUND {
		t.Fatalf("used link: %v", err)
	}
	if _, err := e.acc.Login(ctx, accounts.Credentials{Email: "new@example.com", Password: "password-nina", Addr: "127.0.0.1"}); err != nil {
		t.Fatalf("signing in with the chosen password: %v", err)
	}

	// An expired link changes nothing; a revoked one neither.
	old, err := e.acc.Invite(ctx, e.admin, accounts.InviteInput{Email: "late@example.com"}, "")
	if err != nil {
		t.Fatal(err)
	}
	late := linkIn(t, e.smtp.WaitSent(t, 3)[2])
	e.clock.add(accounts.InviteTTL + time.Second)
	if _, err := e.acc.AcceptInvite(ctx, accounts.AcceptInput{Token: late, Name: "Late", Password: "password-late"}, "127.0.0.1", ""); code(err) != parley.ENOTFOUND {
		t.Fatalf("expired link: %v", err)
	}
	if _, _, err := e.store.UserByEmail(ctx, "late@example.com"); code(err) != parley.ENOTFOUND {
		t.Fatalf("an expired link created the account: %v", err)
	}
	if err := e.acc.RevokeInvite(ctx, e.member, old.Invite.ID); code(err) != parley.EFORBIDDEN {
		t.Fatalf("member revokes: %v", err)
	}
	if err := e.acc.RevokeInvite(ctx, e.admin, old.Invite.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.acc.Invites(ctx, e.admin); len(list) != 0 {
		t.Fatalf("after revoking: %+v", list)
	}

	// Every administrative step is in the audit log.
	page, err := e.acc.AuditLog(ctx, e.admin, parley.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range page.Entries {
		actions = append(actions, a.Action)
	}
	want := "invite.revoked user.invited invite.accepted invite.resent user.invited"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit log %q, want %q", strings.Join(actions, " "), want)
	}
}

func TestInvitationWithoutMailer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false)
	sent, err := e.acc.Invite(ctx, e.admin, accounts.InviteInput{Email: "new@example.com"}, "http://ignored")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Mailed || !strings.Contains(sent.MailError, "no mail server") || !strings.HasPrefix(sent.Link, "https://chat.example.com/invite/") {
		t.Fatalf("without a mailer: %+v", sent)
	}
	if !sent.Invite.SentAt.IsZero() {
		t.Fatal("an invitation never mailed says it was sent")
	}
	token := sent.Link[strings.LastIndexByte(sent.Link, '/')+1:]
	if _, err := e.acc.InviteInfo(ctx, token); err != nil {
		t.Fatalf("the copied link: %v", err)
	}
	if err := e.acc.RequestReset(ctx, accounts.ResetInput{Email: "mel@example.com"}, "127.0.0.1"); code(err) != parley.ECONFLICT {
		t.Fatalf("reset without a mailer: %v", err)
	}
}

func TestPasswordReset(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	s1, err := e.acc.Login(ctx, accounts.Credentials{Email: "mel@example.com", Password: "password-mel", Addr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	// The same answer for an unknown address; mail only for the known.
	if err := e.acc.RequestReset(ctx, accounts.ResetInput{Email: "nobody@example.com"}, "127.0.0.2"); err != nil {
		t.Fatalf("unknown address: %v", err)
	}
	if err := e.acc.RequestReset(ctx, accounts.ResetInput{Email: "MEL@example.com"}, "127.0.0.2"); err != nil {
		t.Fatalf("known address: %v", err)
	}
	mails := e.smtp.WaitSent(t, 1)
	e.acc.Close()
	if len(e.smtp.Sent()) != 1 || mails[0].To[0] != "mel@example.com" {
		t.Fatalf("mails %+v", e.smtp.Sent())
	}
	token := linkIn(t, mails[0])
	// Per address: three, then refused, whether or not it has an account.
	for _, addr := range []string{"mel@example.com", "nobody@example.com"} {
		var last error
		for range 4 {
			last = e.acc.RequestReset(ctx, accounts.ResetInput{Email: addr}, "127.0.0.3")
		}
		if code(last) != parley.ERATELIMITED {
			t.Fatalf("%s: fourth request %v", addr, last)
		}
	}
	e.acc.Close()
	// The newest link is the only one that works.
	mails = e.smtp.Sent()
	if len(mails) < 2 {
		t.Fatalf("%d mails", len(mails))
	}
	if _, err := e.acc.ResetInfo(ctx, token); code(err) != parley.ENOTFOUND {
		t.Fatalf("older link: %v", err)
	}
	// The mails go out in the background, in any order: exactly one of
	// their links works.
	live := 0
	for _, m := range mails {
		if tk := linkIn(t, m); tk != token {
			if info, err := e.acc.ResetInfo(ctx, tk); err == nil {
				if info.Email != "mel@example.com" {
					t.Fatalf("info %+v", info)
				}
				live++
				token = tk
			}
		}
	}
	if live != 1 {
		t.Fatalf("%d links of %d work, want 1", live, len(mails))
	}
	if err := e.acc.ResetPassword(ctx, accounts.NewPasswordInput{Token: token, Password: "short"}, "127.0.0.1"); code(err) != parley.EINVALID {
		t.Fatalf("short: %v", err)
	}
	if err := e.acc.ResetPassword(ctx, accounts.NewPasswordInput{Token: token, Password: "brand-new-password"}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.acc.Authenticate(ctx, s1.Token); code(err) != parley.EUNAUTHORIZED {
		t.Fatalf("the old session survived the reset: %v", err)
	}
	if err := e.acc.ResetPassword(ctx, accounts.NewPasswordInput{Token: token, Password: "another-password"}, "127.0.0.1"); code(err) != parley.ENOTFOUND {
		t.Fatalf("used link: %v", err)
	}
	if _, err := e.acc.Login(ctx, accounts.Credentials{Email: "mel@example.com", Password: "brand-new-password", Addr: "127.0.0.1"}); err != nil {
		t.Fatalf("the new password: %v", err)
	}

	// An expired link changes nothing.
	e2 := newEnv(t, true)
	if err := e2.acc.RequestReset(ctx, accounts.ResetInput{Email: "mel@example.com"}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	token = linkIn(t, e2.smtp.WaitSent(t, 1)[0])
	e2.clock.add(accounts.ResetTTL + time.Second)
	if err := e2.acc.ResetPassword(ctx, accounts.NewPasswordInput{Token: token, Password: "expired-password"}, "127.0.0.1"); code(err) != parley.ENOTFOUND {
		t.Fatalf("expired link: %v", err)
	}
	if _, err := e2.acc.Login(ctx, accounts.Credentials{Email: "mel@example.com", Password: "password-mel", Addr: "127.0.0.1"}); err != nil {
		t.Fatalf("the old password after an expired link: %v", err)
	}
}

func TestAuditExport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false)
	for _, addr := range []string{"a@example.com", "b@example.com", "=cmd@example.com"} {
		if _, err := e.acc.Invite(ctx, e.admin, accounts.InviteInput{Email: addr}, "http://127.0.0.1"); err != nil && !strings.HasPrefix(addr, "=") {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := e.acc.ExportAudit(ctx, e.member, parley.AuditFilter{}, accounts.ExportCSV, &buf); code(err) != parley.EFORBIDDEN || buf.Len() != 0 {
		t.Fatalf("member export: %v, %d bytes", err, buf.Len())
	}
	if err := e.acc.ExportAudit(ctx, e.admin, parley.AuditFilter{}, "xml", &buf); code(err) != parley.EINVALID {
		t.Fatalf("xml: %v", err)
	}
	if err := e.acc.ExportAudit(ctx, e.admin, parley.AuditFilter{Action: parley.AuditUserInvited}, accounts.ExportCSV, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || rows[0][4] != "action" || rows[1][4] != "user.invited" || !strings.Contains(rows[1][7], "@example.com") {
		t.Fatalf("csv %q", rows)
	}
	buf.Reset()
	if err := e.acc.ExportAudit(ctx, e.admin, parley.AuditFilter{Since: e.clock.now().Add(time.Hour)}, accounts.ExportJSONL, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a period with nothing gave %q", buf.String())
	}
	buf.Reset()
	if err := e.acc.ExportAudit(ctx, e.admin, parley.AuditFilter{}, accounts.ExportJSONL, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first parley.AuditEntry
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Action != parley.AuditLogExported {
		t.Fatalf("first line %q: %v", lines[0], err)
	}
}
