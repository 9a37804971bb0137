// Package staffsms sends text messages to colleagues' phones ("Send SMS"
// in the chat and the user panel, seed 001). It reuses the SMS channel's
// Twilio client (channel/sms): the organisation picks one of its SMS
// channels as the staff sender, and that channel's account, number and
// auth token send the texts and sign the status reports.
//
// Rules (each refused with a test): only the roles the settings name may
// send (by default admins, chat administrators and agents; plain members
// may not); the recipient needs a phone number; each sender may send a
// bounded number per hour. Users set their own phone number; those with
// the users right set anyone's.
package staffsms

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/sms"
)

// EventUpdated carries a staff SMS (created, or its status changed) to
// its sender's devices.
const EventUpdated = "sms.updated"

// settingsKey is where Settings are stored.
const settingsKey = "staff_sms"

// Settings choose the sender and who may send.
type Settings struct {
	// ChannelID is the SMS channel texts go out through (0: staff SMS is off).
	ChannelID int64 `json:"channel_id"`
	// Roles may send (empty: admin, supervisor, agent).
	Roles []parley.Role `json:"roles" max:"4"`
	// PerHour bounds what one sender sends in an hour (0: DefaultPerHour).
	PerHour int `json:"per_hour"`
}

// DefaultPerHour is the default of Settings.PerHour.
const DefaultPerHour = 20

var defaultRoles = []parley.Role{parley.RoleAdmin, parley.RoleSupervisor, parley.RoleAgent}

func (st Settings) withDefaults() Settings {
	if len(st.Roles) == 0 {
		st.Roles = slices.Clone(defaultRoles)
	}
	if st.PerHour <= 0 {
		st.PerHour = DefaultPerHour
	}
	return st
}

// Config tunes the service.
type Config struct {
	// PublicURL is the server's address as Twilio reaches it; without it
	// Twilio is not asked for status reports (texts stay "queued").
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service sends staff SMS.
type Service struct {
	store parley.Store
	sms   *sms.Adapter
	cfg   Config
}

// New returns the service; client is the SMS channel's adapter.
func New(store parley.Store, client *sms.Adapter, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{store: store, sms: client, cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Settings returns the staff SMS settings (the chat settings right).
func (s *Service) Settings(ctx context.Context, actor *parley.User) (Settings, error) {
	if err := parley.RequireRight(ctx, s.store, actor, parley.RightChatSettings, "only those with the chat settings right can see the SMS settings"); err != nil {
		return Settings{}, err
	}
	return s.settings(ctx, s.store)
}

func (s *Service) settings(ctx context.Context, r parley.Reader) (Settings, error) {
	var st Settings
	err := r.Setting(ctx, settingsKey, &st)
	return st.withDefaults(), err
}

// SetSettings changes them (the chat settings right). The channel must be
// an SMS channel.
func (s *Service) SetSettings(ctx context.Context, actor *parley.User, in Settings) (Settings, error) {
	if err := parley.AtMost("roles", len(in.Roles), 4, "roles"); err != nil {
		return Settings{}, err
	}
	if in.PerHour < 0 || in.PerHour > 10000 {
		return Settings{}, parley.Invalid("per_hour", "per_hour is 0 (the default, %d) to 10000", DefaultPerHour)
	}
	for _, r := range in.Roles {
		if !r.Valid() {
			return Settings{}, parley.Invalid("roles", "unknown role %q", r)
		}
	}
	in = in.withDefaults()
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := parley.RequireRight(ctx, tx, actor, parley.RightChatSettings, "only those with the chat settings right can change the SMS settings"); err != nil {
			return err
		}
		if in.ChannelID != 0 {
			ch, err := tx.ChannelByID(ctx, in.ChannelID)
			if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && ch.Kind != parley.ChannelSMS) {
				return parley.Invalid("channel_id", "channel_id must name an SMS channel")
			}
			if err != nil {
				return err
			}
		}
		return tx.PutSetting(ctx, settingsKey, in)
	})
	if err != nil {
		return Settings{}, err
	}
	return in, nil
}

// Info is what the user panel shows of a user's SMS: their number,
// whether the caller may send them one (and why not), and the texts sent
// to them that the caller may see.
type Info struct {
	Phone string `json:"phone"`
	// CanEdit: the caller may change the number.
	CanEdit bool `json:"can_edit"`
	CanSend bool `json:"can_send"`
	// Why says why the caller cannot send (when CanSend is false).
	Why      string             `json:"why,omitempty"`
	Messages []*parley.StaffSMS `json:"messages"`
}

// Info returns a user's SMS information. Everyone sees the number (as the
// e-mail address); the history shows the texts the caller sent, or all of
// them to the recipient and to those with the chat settings right.
func (s *Service) Info(ctx context.Context, actor *parley.User, userID int64) (*Info, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	in := &Info{Messages: []*parley.StaffSMS{}}
	if in.Phone, err = s.store.UserPhone(ctx, userID); err != nil {
		return nil, err
	}
	in.CanEdit = s.canEdit(ctx, s.store, actor, userID) == nil
	by := actor.ID
	if ok, err := parley.HasRight(ctx, s.store, actor, parley.RightChatSettings); err != nil {
		return nil, err
	} else if ok || actor.ID == userID {
		by = 0
	}
	list, err := s.store.StaffSMSTo(ctx, userID, by, 50)
	if err != nil {
		return nil, err
	}
	if list != nil {
		in.Messages = list
	}
	st, err := s.settings(ctx, s.store)
	if err != nil {
		return nil, err
	}
	if err := s.mayText(st, actor, u, in.Phone); err != nil {
		in.Why = parley.ErrorMessage(err)
	} else {
		in.CanSend = true
	}
	return in, nil
}

func (s *Service) canEdit(ctx context.Context, r parley.Reader, actor *parley.User, userID int64) error {
	if actor.ID == userID && !actor.Bot {
		return nil
	}
	return parley.RequireRight(ctx, r, actor, parley.RightUsersManage, "only the user, or someone with the users right, can change their phone number")
}

// mayText is every rule of sending that needs no count: set up, the
// sender's role, the recipient's state and number.
func (s *Service) mayText(st Settings, actor, to *parley.User, phone string) error {
	if !slices.Contains(st.Roles, actor.Role) {
		return parley.Errorf(parley.EFORBIDDEN, "your role may not send SMS")
	}
	if st.ChannelID == 0 {
		return parley.Errorf(parley.ECONFLICT, "SMS is not set up: an administrator picks the SMS channel in Administration → Chat")
	}
	if !to.Active {
		return parley.Invalid("user_id", "%s is deactivated", to.Name)
	}
	if phone == "" {
		return parley.Invalid("phone", "%s has no phone number: they can add it in Settings, or an administrator in their information panel", to.Name)
	}
	return nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// NormalizePhone checks a phone number in E.164 form (+ and the country
// code), allowing the spaces, dashes, dots and brackets people type.
func NormalizePhone(raw string) (string, error) {
	p := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()\u00a0", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	if p == "" {
		return "", nil
	}
	if !e164.MatchString(p) {
		return "", parley.Invalid("phone", "a phone number in international form is required: + and the country code, like +44 20 7946 0958")
	}
	return p, nil
}

// PhoneInput sets a phone number ("" removes it).
type PhoneInput struct {
	Phone string `json:"phone"`
}

// SetPhone changes a user's phone number: their own, or anyone's with the
// users right.
func (s *Service) SetPhone(ctx context.Context, actor *parley.User, userID int64, raw string) (string, error) {
	phone, err := NormalizePhone(raw)
	if err != nil {
		return "", err
	}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		if err := s.canEdit(ctx, tx, actor, userID); err != nil {
			return err
		}
		if _, err := tx.UserByID(ctx, userID); err != nil {
			return err
		}
		if actor.ID != userID {
			if err := tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), "user.phone_changed", "user", userID, nil)); err != nil {
				return err
			}
		}
		return tx.SetUserPhone(ctx, userID, phone)
	})
	return phone, err
}

// SendInput is the text of an SMS.
type SendInput struct {
	Text string `json:"text"`
}

// maxText is Twilio's limit on a message, in UTF-16 units.
const maxText = 1600

// Send texts a user. The SMS is stored (and reported to the sender's
// devices) before the provider is called; the answer is the stored SMS,
// queued when the provider took it, failed with the reason when it did
// not. Its later statuses come with the provider's reports (Report).
func (s *Service) Send(ctx context.Context, actor *parley.User, userID int64, in SendInput) (*parley.StaffSMS, error) {
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return nil, parley.Invalid("text", "the SMS needs a text")
	}
	if n := utf16Len(text); n > maxText {
		return nil, parley.Invalid("text", "an SMS takes at most %d characters (an emoji counts two); this one has %d", maxText, n)
	}
	m := &parley.StaffSMS{SenderID: actor.ID, RecipientID: userID, Text: text, Segments: sms.Segments(text), Status: parley.SMSQueued}
	var ch *parley.Channel
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		st, err := s.settings(ctx, tx)
		if err != nil {
			return err
		}
		to, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		phone, err := tx.UserPhone(ctx, userID)
		if err != nil {
			return err
		}
		if err := s.mayText(st, actor, to, phone); err != nil {
			return err
		}
		now := s.now()
		n, err := tx.CountStaffSMS(ctx, actor.ID, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n >= st.PerHour {
			return parley.Errorf(parley.ERATELIMITED, "you have sent %d SMS in the last hour, the most allowed; try again later", n)
		}
		if ch, err = tx.ChannelByID(ctx, st.ChannelID); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.ECONFLICT, "the SMS channel picked for staff SMS was removed: an administrator picks another")
			}
			return err
		}
		if ch.Paused {
			return parley.Errorf(parley.ECONFLICT, "the SMS channel %q is paused", ch.Name)
		}
		m.To, m.ChannelID, m.CreatedAt, m.UpdatedAt = phone, ch.ID, now, now
		if err := tx.CreateStaffSMS(ctx, m); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(EventUpdated, 0, actor.ID, m))
		return nil
	})
	if err != nil {
		return nil, err
	}
	callback := ""
	if s.cfg.PublicURL != "" {
		callback = s.cfg.PublicURL + "/api/v1/sms/status/" + strconv.FormatInt(ch.ID, 10)
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	sid, serr := s.sms.SendText(sendCtx, ch, m.To, m.Text, callback)
	cancel()
	if serr != nil {
		s.cfg.Logger.Warn("staff sms refused", "sms_id", m.ID, "channel_id", ch.ID, "err", serr)
	}
	_, err = s.store.Write(context.WithoutCancel(ctx), func(tx parley.Tx) error {
		m.ExternalID, m.UpdatedAt = sid, s.now()
		if serr != nil {
			m.Status, m.Error = parley.SMSFailed, reason(serr)
		}
		if err := tx.UpdateStaffSMS(ctx, m); err != nil {
			return err
		}
		tx.Emit(parley.NewEvent(EventUpdated, 0, actor.ID, m))
		return nil
	})
	return m, err
}

// reason says why the provider refused, in the channel's words.
func reason(err error) string {
	var ce *channel.Error
	if errors.As(err, &ce) && ce.Temporary {
		return forStaff(ce.Error()) + " (try again later)"
	}
	return forStaff(err.Error())
}

// forStaff puts the channel's words, written about a dialog's customer,
// about the colleague texted.
func forStaff(s string) string {
	return strings.NewReplacer("the customer's", "the recipient's", "the customer", "the recipient").Replace(s)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// rank orders the statuses: a report never moves an SMS back, and
// delivered and failed are final.
var rank = map[string]int{parley.SMSQueued: 0, parley.SMSSent: 1, parley.SMSDelivered: 2, parley.SMSFailed: 2}

// Report handles the provider's status callback for a staff SMS sent
// through channel channelID: signed with the channel's auth token.
func (s *Service) Report(ctx context.Context, channelID int64, r *channel.Request) error {
	ch, err := s.store.ChannelByID(ctx, channelID)
	if err != nil {
		return err
	}
	if ch.Kind != parley.ChannelSMS {
		// Only an SMS channel's provider can sign a report for it.
		return parley.Errorf(parley.EUNAUTHORIZED, "the call's signature is wrong")
	}
	st, err := s.sms.TextStatusCallback(ch, r)
	if errors.Is(err, channel.ErrSignature) {
		s.cfg.Logger.Warn("sms status refused: bad signature", "channel_id", channelID)
		return parley.Errorf(parley.EUNAUTHORIZED, "the call's signature is wrong")
	}
	if err != nil || st.Status == "" {
		return err
	}
	// The report can overtake the answer that gave the SID: wait a moment
	// for it.
	var m *parley.StaffSMS
	for i := range 20 {
		m, err = s.store.StaffSMSByExternalID(ctx, channelID, st.SID)
		if parley.ErrorCode(err) != parley.ENOTFOUND || i == 19 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil // not a staff SMS of Parley's: nothing to record
	}
	if err != nil {
		return err
	}
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		cur, err := tx.StaffSMSByExternalID(ctx, channelID, st.SID)
		if err != nil {
			return err
		}
		if cur.Status == parley.SMSDelivered || cur.Status == parley.SMSFailed || rank[st.Status] <= rank[cur.Status] {
			return nil
		}
		cur.Status, cur.Error, cur.UpdatedAt = st.Status, forStaff(st.Error), s.now()
		if err := tx.UpdateStaffSMS(ctx, cur); err != nil {
			return err
		}
		*m = *cur
		tx.Emit(parley.NewEvent(EventUpdated, 0, cur.SenderID, cur))
		return nil
	})
	return err
}
