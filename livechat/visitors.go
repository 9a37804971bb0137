package livechat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
)

// Visitor is an authenticated widget session: a contact of a project.
type Visitor struct {
	Contact *parley.Contact
	Project *parley.Project
	// Expires is when the token the visitor came with stops being
	// accepted; their WebSocket ends then (TokenLeft).
	Expires time.Time
}

// TokenLeft is how long the visitor's token stays valid, by the service's
// clock: the visitor socket is closed when it runs out.
func (s *Service) TokenLeft(v *Visitor) time.Duration { return v.Expires.Sub(s.now()) }

// token returns a signed visitor token, "contact.project.expiry.signature",
// and the instant it expires (exp to the second, as the token says it).
func (s *Service) token(contactID, projectID int64, exp time.Time) (string, time.Time) {
	payload := fmt.Sprintf("%d.%d.%d", contactID, projectID, exp.Unix())
	return payload + "." + s.sign(payload), time.Unix(exp.Unix(), 0).UTC()
}

func (s *Service) sign(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var (
	errBadToken     = parley.Errorf(parley.EUNAUTHORIZED, "the visitor token is invalid; start a new session")
	errExpiredToken = parley.Errorf(parley.EUNAUTHORIZED, "the visitor token has expired; start a new session")
	errErased       = parley.Errorf(parley.EUNAUTHORIZED, "this visitor's data was erased; start a new session")
)

// Authenticate checks a visitor token and that it belongs to the project
// the request's origin may use.
func (s *Service) Authenticate(ctx context.Context, token, origin string) (*Visitor, error) {
	v, err := s.visitorOf(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := AllowOrigin(v.Project, origin); err != nil {
		return nil, err
	}
	return v, nil
}

// AuthenticateLink checks the token of a request the host page makes with
// a plain link or image (<a href>, <img src>) to one of the visitor's
// files: such requests carry no Origin, so the token alone is the
// capability. An Origin that is present must still be allowed.
func (s *Service) AuthenticateLink(ctx context.Context, token, origin string) (*Visitor, error) {
	if origin != "" {
		return s.Authenticate(ctx, token, origin)
	}
	return s.visitorOf(ctx, token)
}

// visitorOf checks a token's signature and expiry and loads its visitor.
func (s *Service) visitorOf(ctx context.Context, token string) (*Visitor, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !hmac.Equal([]byte(s.sign(token[:i])), []byte(token[i+1:])) {
		return nil, errBadToken
	}
	parts := strings.Split(token[:i], ".")
	if len(parts) != 3 {
		return nil, errBadToken
	}
	var n [3]int64
	for k, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, errBadToken
		}
		n[k] = v
	}
	// Expired from the very instant the session answer named (expires_at).
	exp := time.Unix(n[2], 0).UTC()
	if !s.now().Before(exp) {
		return nil, errExpiredToken
	}
	c, err := s.store.ContactByID(ctx, n[0])
	if err != nil || c.ProjectID != n[1] {
		return nil, errBadToken
	}
	if !c.ErasedAt.IsZero() {
		return nil, errErased
	}
	p, err := s.store.ProjectByID(ctx, c.ProjectID)
	if err != nil {
		return nil, errBadToken
	}
	return &Visitor{Contact: c, Project: p, Expires: exp}, nil
}

// AllowOrigin is the rule for which websites may embed a project's chat.
// Browsers always send Origin on the widget's cross-origin requests; a
// request without one is not from a page and is treated as a page of an
// unknown site (except a file fetched by a link: AuthenticateLink).
func AllowOrigin(p *parley.Project, origin string) error {
	o := strings.ToLower(origin)
	for _, allowed := range p.Origins {
		if allowed == "*" || allowed == o {
			return nil
		}
	}
	if origin == "" {
		origin = "a page without an origin"
	}
	return parley.Errorf(parley.EFORBIDDEN, "%s may not embed this chat; add it to the project's allowed origins", origin)
}

// PublicProject is what the widget learns of a project before a session.
type PublicProject struct {
	Name        string                `json:"name"`
	ChatEnabled bool                  `json:"chat_enabled"`
	Online      bool                  `json:"online"`
	Messages    PublicMessages        `json:"messages"`
	Prechat     []parley.PrechatField `json:"prechat_fields"`
	// MaxMessageLength (characters) and MaxFileSize (bytes) are the
	// limits of what a visitor may send, so the widget refuses more
	// before sending, as the staff app does.
	MaxMessageLength int   `json:"max_message_length"`
	MaxFileSize      int64 `json:"max_file_size"`
	// AttachmentLimits are the widget channel's, by kind of file (each at
	// most MaxFileSize).
	AttachmentLimits parley.AttachmentLimits `json:"attachment_limits"`
}

// PublicMessages are the texts the widget shows.
type PublicMessages struct {
	Greeting string `json:"greeting"`
	Offline  string `json:"offline"`
	Waiting  string `json:"waiting"`
}

// PublicConfig returns a project's widget configuration for an allowed origin.
func (s *Service) PublicConfig(ctx context.Context, key, origin string) (*PublicProject, error) {
	p, err := s.store.ProjectByKey(ctx, key)
	if err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "no chat with this key")
	}
	if err := AllowOrigin(p, origin); err != nil {
		return nil, err
	}
	online, err := s.online(ctx, p)
	if err != nil {
		return nil, err
	}
	lim := s.msgs.Config()
	return &PublicProject{Name: p.Name, ChatEnabled: p.ChatEnabled, Online: online, Prechat: p.Prechat,
		Messages:         PublicMessages{p.Messages.Greeting, p.Messages.Offline, p.Messages.Waiting},
		MaxMessageLength: lim.MaxMessageLength, MaxFileSize: lim.MaxFileSize,
		AttachmentLimits: p.AttachmentLimitsFor(parley.ChannelWidget, lim.MaxFileSize)}, nil
}

// online reports whether someone can answer a new dialog now: within
// working hours and a level-1 specialist connected (on this node's
// presence; see docs/livechat.md for clusters).
func (s *Service) online(ctx context.Context, p *parley.Project) (bool, error) {
	return s.onlineAt(ctx, p, parley.Level1, 0)
}

// canAnswer reports whether someone the dialog alerts is online now: the
// level-1 specialists while it is at level 1; after a transfer the
// specialist chosen, or any level-2 specialist for the queue. A closed
// dialog answers as a new one would (the next message opens one).
func (s *Service) canAnswer(ctx context.Context, p *parley.Project, c *parley.Conversation) (bool, error) {
	if c.Support.Status != parley.SupportOpen || c.Support.Level != parley.Level2 {
		return s.online(ctx, p)
	}
	return s.onlineAt(ctx, p, parley.Level2, c.Support.TransferTo)
}

// onlineAt reports whether, within working hours, the specialist to (if
// not 0) or any specialist of the level is connected.
func (s *Service) onlineAt(ctx context.Context, p *parley.Project, level int, to int64) (bool, error) {
	if !p.ChatEnabled || !p.Hours.Open(s.now()) {
		return false, nil
	}
	if to != 0 {
		return s.presence.Online(to), nil
	}
	staff, err := s.projectStaff(ctx, p.ID)
	if err != nil {
		return false, err
	}
	for _, st := range staff {
		if st.Level == level && s.presence.Online(st.UserID) {
			return true, nil
		}
	}
	return false, nil
}

// SessionInput starts or resumes a widget session.
type SessionInput struct {
	Project   string            `json:"project"`
	Token     string            `json:"token"`
	UserID    string            `json:"user_id"`
	UserHash  string            `json:"user_hash"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Fields    map[string]string `json:"fields" max:"20"`
	PageURL   string            `json:"page_url"`
	Referrer  string            `json:"referrer"`
	UTMSource string            `json:"utm_source"`
}

// VisitorSession is a started widget session. (Named apart from
// parley.Session, a staff sign-in: the OpenAPI document names schemas by
// type name.)
type VisitorSession struct {
	Token string `json:"token"`
	// ExpiresAt is when the token stops being accepted; ExpiresIn says
	// the same in seconds from now, for a client whose clock is not the
	// server's. A session started with the token before then renews it
	// for the same visitor; the visitor socket ends at expiry (4401).
	ExpiresAt    time.Time            `json:"expires_at"`
	ExpiresIn    int64                `json:"expires_in"`
	Contact      *VisitorContact      `json:"contact"`
	Conversation *VisitorConversation `json:"conversation"`
}

// VisitorContact is the visitor's own card.
type VisitorContact struct {
	Name       string            `json:"name"`
	Email      string            `json:"email"`
	Verified   bool              `json:"verified"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

func visitorContact(c *parley.Contact) *VisitorContact {
	return &VisitorContact{Name: c.Name, Email: c.Email, Verified: c.ExternalID != "", Attributes: c.Attributes}
}

// StartSession identifies the visitor: by a verified id from the host
// site, else by their earlier token, else as a new contact. The contact
// card records where they came from.
func (s *Service) StartSession(ctx context.Context, in SessionInput, origin string) (*VisitorSession, error) {
	p, err := s.store.ProjectByKey(ctx, in.Project)
	if err != nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "no chat with this key")
	}
	if err := AllowOrigin(p, origin); err != nil {
		return nil, err
	}
	if !p.ChatEnabled {
		return nil, parley.Errorf(parley.ECONFLICT, "this chat is disabled")
	}
	var card contactCard
	if err := card.from(in); err != nil {
		return nil, err
	}
	var c *parley.Contact
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		var err error
		switch {
		case in.UserID != "":
			if len(in.UserID) > 200 || !hmac.Equal([]byte(in.UserHash), []byte(userHash(p.Secret, in.UserID))) {
				return parley.Errorf(parley.EFORBIDDEN, "the user_hash does not match user_id; sign the id with the project's secret")
			}
			c, err = tx.ContactByExternalID(ctx, p.ID, in.UserID)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				c, err = &parley.Contact{ProjectID: p.ID, ExternalID: in.UserID}, nil
			}
		case in.Token != "":
			var v *Visitor
			if v, err = s.Authenticate(ctx, in.Token, origin); err == nil && v.Project.ID != p.ID {
				err = errBadToken
			}
			if err == nil {
				c = v.Contact
			}
			if err == errBadToken || err == errExpiredToken || err == errErased {
				// A stale token (an expired one, a reset project, an
				// erased visitor) starts a new visitor rather than locking
				// the widget out.
				c, err = &parley.Contact{ProjectID: p.ID}, nil
			}
		default:
			c = &parley.Contact{ProjectID: p.ID}
		}
		if err != nil {
			return err
		}
		if err := card.apply(p, c); err != nil {
			return err
		}
		c.LastSeenAt = s.now()
		if c.ID == 0 {
			return tx.CreateContact(ctx, c)
		}
		return tx.UpdateContact(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	sess := &VisitorSession{Contact: visitorContact(c)}
	sess.Token, sess.ExpiresAt = s.token(c.ID, p.ID, now.Add(s.cfg.TokenTTL))
	sess.ExpiresIn = int64(sess.ExpiresAt.Sub(now) / time.Second)
	if conv, err := s.store.LastDialog(ctx, c.ID); err == nil {
		if sess.Conversation, err = s.visitorConversation(ctx, s.store, conv); err != nil {
			return nil, err
		}
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	return sess, nil
}

// userHash is what a host site sends to prove it knows the user: the hex
// HMAC-SHA256 of the id with the project's secret.
func userHash(secret, userID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// contactCard is what a visitor tells about themselves.
type contactCard struct {
	name, email, pageURL, referrer, utm *string
	fields                              map[string]string
}

func (cc *contactCard) from(in SessionInput) error {
	for _, f := range []struct {
		name string
		v    string
		dst  **string
		max  int
	}{{"name", in.Name, &cc.name, 100}, {"email", in.Email, &cc.email, 200}, {"page_url", in.PageURL, &cc.pageURL, 2000},
		{"referrer", in.Referrer, &cc.referrer, 2000}, {"utm_source", in.UTMSource, &cc.utm, 200}} {
		if f.v == "" {
			continue
		}
		v, err := textField(f.name, f.v, f.max, false)
		if err != nil {
			return err
		}
		*f.dst = &v
	}
	if cc.email != nil && *cc.email != "" && !strings.Contains(*cc.email, "@") {
		return parley.Invalid("email", "the e-mail address is not valid")
	}
	for _, u := range []*string{cc.pageURL, cc.referrer} {
		if u != nil {
			if pu, err := url.Parse(*u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
				return parley.Invalid("page_url", "page_url and referrer must be http(s) addresses")
			}
		}
	}
	if len(in.Fields) > 20 {
		return parley.Invalid("fields", "at most 20 fields")
	}
	for k, v := range in.Fields {
		if _, err := textField("fields."+k, v, 500, false); err != nil {
			return err
		}
	}
	cc.fields = in.Fields
	return nil
}

// apply fills the contact; pre-chat fields other than name and e-mail
// become attributes, and only fields the project asks for are kept.
func (cc *contactCard) apply(p *parley.Project, c *parley.Contact) error {
	for _, f := range []struct {
		v   *string
		dst *string
	}{{cc.name, &c.Name}, {cc.email, &c.Email}, {cc.pageURL, &c.PageURL}, {cc.referrer, &c.Referrer}, {cc.utm, &c.UTMSource}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	for _, f := range p.Prechat {
		v, ok := cc.fields[f.Name]
		if !ok {
			continue
		}
		switch f.Name {
		case "name":
			c.Name = v
		case "email":
			c.Email = v
		default:
			if c.Attributes == nil {
				c.Attributes = map[string]string{}
			}
			c.Attributes[f.Name] = v
		}
	}
	return nil
}

// ContactInput changes the visitor's card (Parley.identify on the host page).
type ContactInput struct {
	Name   string            `json:"name"`
	Email  string            `json:"email"`
	Fields map[string]string `json:"fields" max:"20"`
}

// UpdateContact records what the visitor tells about themselves.
func (s *Service) UpdateContact(ctx context.Context, v *Visitor, in ContactInput) (*VisitorContact, error) {
	var card contactCard
	if err := card.from(SessionInput{Name: in.Name, Email: in.Email, Fields: in.Fields}); err != nil {
		return nil, err
	}
	c := *v.Contact
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := card.apply(v.Project, &c); err != nil {
			return err
		}
		c.LastSeenAt = s.now()
		if err := tx.UpdateContact(ctx, &c); err != nil {
			return err
		}
		conv, err := tx.LastDialog(ctx, c.ID)
		if err != nil {
			return nil
		}
		if c.Email != "" && c.Email != v.Contact.Email {
			if err := s.replyTo(ctx, tx, conv, &c); err != nil {
				return err
			}
		}
		return s.emitDialog(ctx, tx, conv)
	})
	return visitorContact(&c), err
}

// replyTo records on the dialog's open offline case where to answer the
// visitor, when they give an e-mail address after the case was filed (the
// widget asks for one while nobody is online): the case carries it even if
// the contact's card changes later.
func (s *Service) replyTo(ctx context.Context, tx parley.Tx, conv *parley.Conversation, c *parley.Contact) error {
	k, err := tx.OpenCaseOf(ctx, conv.ID, parley.CaseFromOffline)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.AddCaseComment(ctx, &parley.CaseComment{CaseID: k.ID, ContactID: c.ID, Text: "Reply to " + c.Email})
}

// VisitorMessage is a message as a visitor sees it.
type VisitorMessage struct {
	ID        int64          `json:"id"`
	Seq       int64          `json:"seq"`
	Kind      parley.MsgKind `json:"kind"`
	Text      string         `json:"text"`
	From      string         `json:"from"` // visitor, consultant or system
	Name      string         `json:"name,omitempty"`
	Files     []VisitorFile  `json:"files,omitempty"`
	ClientID  string         `json:"client_id,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	EditedAt  time.Time      `json:"edited_at,omitzero"`
	Deleted   bool           `json:"deleted,omitempty"`
	Event     *VisitorEvent  `json:"event,omitempty"`
}

// VisitorFile is an attachment as a visitor sees it.
type VisitorFile struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	HasThumb    bool   `json:"has_thumbnail,omitempty"`
}

// VisitorEvent is a system line: someone connected, the dialog closed...
// Name is the consultant who acted; To, on a transfer, the level-2
// specialist chosen (none: the level-2 queue).
type VisitorEvent struct {
	Action string `json:"action"`
	Name   string `json:"name,omitempty"`
	To     string `json:"to,omitempty"`
	Text   string `json:"text,omitempty"`
}

// names resolves staff names for projections, caching within a call.
type names struct {
	r     parley.Reader
	cache map[int64]string
}

func (n *names) of(ctx context.Context, id int64) string {
	if name, ok := n.cache[id]; ok {
		return name
	}
	name := "Consultant"
	if u, err := n.r.UserByID(ctx, id); err == nil {
		name = firstName(u.Name)
	}
	if n.cache == nil {
		n.cache = map[int64]string{}
	}
	n.cache[id] = name
	return name
}

// firstName is what visitors are told of a consultant: the first name only.
func firstName(full string) string {
	if f := strings.Fields(full); len(f) > 0 {
		return f[0]
	}
	return full
}

// project returns the visitor's view of m, or nil for what visitors never
// see (whispers, and system lines about staff-only matters).
func project(ctx context.Context, n *names, m *parley.Message) *VisitorMessage {
	if m.Kind == parley.MsgWhisper {
		return nil
	}
	v := &VisitorMessage{ID: m.ID, Seq: m.Seq, Kind: m.Kind, Text: m.Text, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt,
		Deleted: m.Deleted(), ClientID: m.ClientID}
	switch {
	case m.Kind == parley.MsgEvent:
		v.From = "system"
		if m.Event == nil {
			return nil
		}
		ev := &VisitorEvent{Action: m.Event.Action}
		switch m.Event.Action {
		case parley.ActionConnected, parley.ActionDisconnected:
			ev.Name = n.of(ctx, m.Event.ActorID)
		case parley.ActionTransferred:
			if m.Event.ActorID != 0 {
				ev.Name = n.of(ctx, m.Event.ActorID)
			}
			if len(m.Event.UserIDs) > 0 {
				ev.To = n.of(ctx, m.Event.UserIDs[0])
			}
		case parley.ActionClosed:
		case parley.ActionCaseCreated:
			// Who saved it: the visitor is told a person is still there.
			ev.Text = m.Event.Title
			if m.Event.ActorID != 0 {
				ev.Name = n.of(ctx, m.Event.ActorID)
			}
		case parley.ActionOffline:
			ev.Text = m.Event.Title
		default:
			return nil
		}
		v.Event = ev
	case m.ContactID != 0:
		v.From = "visitor"
	default:
		v.From, v.Name, v.ClientID = "consultant", n.of(ctx, m.SenderID), ""
	}
	for _, f := range m.Files {
		v.Files = append(v.Files, VisitorFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
			Width: f.Width, Height: f.Height, HasThumb: f.HasThumb})
	}
	return v
}

// VisitorConversation is the visitor's view of their dialog.
type VisitorConversation struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	LastSeq int64  `json:"last_seq"`
	// ReadSeq is how far consultants have read the visitor's messages.
	ReadSeq     int64         `json:"read_seq"`
	Consultants []VisitorName `json:"consultants"`
	Rated       bool          `json:"rated"`
	// Online is whether someone can answer the dialog now: a consultant
	// connected, or one it alerts online (a level-2 specialist after a
	// transfer; see canAnswer).
	Online bool `json:"online"`
}

// VisitorName is a consultant as the visitor knows them.
type VisitorName struct {
	Name string `json:"name"`
}

func (s *Service) visitorConversation(ctx context.Context, r parley.Reader, c *parley.Conversation) (*VisitorConversation, error) {
	ms, err := r.Members(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	v := &VisitorConversation{ID: c.ID, Status: c.Support.Status, LastSeq: c.LastSeq, Consultants: []VisitorName{}}
	n := &names{r: r}
	for _, m := range ms {
		v.ReadSeq = max(v.ReadSeq, m.ReadSeq)
		v.Consultants = append(v.Consultants, VisitorName{n.of(ctx, m.UserID)})
	}
	if v.Online = len(ms) > 0 && c.Support.Status == parley.SupportOpen; !v.Online {
		p, err := r.ProjectByID(ctx, c.Support.ProjectID)
		if err != nil {
			return nil, err
		}
		if v.Online, err = s.canAnswer(ctx, p, c); err != nil {
			return nil, err
		}
	}
	if v.Online = len(ms) > 0 && c.Support.Status == parley.SupportOpen; !v.Online {
		p, err := r.ProjectByID(ctx, c.Support.ProjectID)
		if err != nil {
			return nil, err
		}
		if v.Online, err = s.canAnswer(ctx, p, c); err != nil {
			return nil, err
		}
	}
	if c.Support.Status == parley.SupportClosed {
		rs, err := r.Ratings(ctx, []int64{c.ID})
		if err != nil {
			return nil, err
		}
		v.Rated = rs[c.ID] != nil
	}
	return v, nil
}

// emitVisitorConversation tells the visitor their dialog changed.
func (s *Service) emitVisitorConversation(ctx context.Context, tx parley.Tx, c *parley.Conversation) error {
	if c.Support.ContactID == 0 {
		return nil // unpinned: no customer to tell
	}
	v, err := s.visitorConversation(ctx, tx, c)
	if err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventConversationUpdated, c.ID, 0, v)
	e.ContactID = c.Support.ContactID
	tx.Emit(e)
	return nil
}

// VisitorHistory is the visitor's dialog and a page of its messages.
type VisitorHistory struct {
	Conversation *VisitorConversation `json:"conversation"`
	Messages     []*VisitorMessage    `json:"messages"`
}

// maxHistoryPage bounds a page of the visitor's history (and is the
// default: the widget loads the newest page at once).
const maxHistoryPage = 200

// History returns the visitor's current or last dialog and a page of its
// messages, oldest first, as staff history pages: without cursors the
// newest, else those before p.Before and/or after p.After. The limit
// (default and at most 200) counts the messages the visitor sees, so a
// page is short only at the end of the dialog, however many whispers lie
// in between.
func (s *Service) History(ctx context.Context, v *Visitor, p parley.MessagePage) (*VisitorHistory, error) {
	out := &VisitorHistory{Messages: []*VisitorMessage{}}
	c, err := s.store.LastDialog(ctx, v.Contact.ID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if out.Conversation, err = s.visitorConversation(ctx, s.store, c); err != nil {
		return nil, err
	}
	if p.Limit <= 0 || p.Limit > maxHistoryPage {
		p.Limit = maxHistoryPage
	}
	want, forward := p.Limit, p.After > 0 && p.Before == 0 // as the store pages
	n := &names{r: s.store}
	for {
		msgs, err := s.store.Messages(ctx, c.ID, p)
		if err != nil {
			return nil, err
		}
		page := []*VisitorMessage{}
		for _, m := range msgs {
			if vm := project(ctx, n, m); vm != nil {
				page = append(page, vm)
			}
		}
		if forward {
			out.Messages = append(out.Messages, page...)
		} else {
			out.Messages = append(page, out.Messages...)
		}
		if len(out.Messages) >= want || len(msgs) < p.Limit {
			break
		}
		// Whispers and staff-only lines took room: read on past them.
		if forward {
			p.After = msgs[len(msgs)-1].Seq
		} else {
			p.Before = msgs[0].Seq
		}
	}
	if extra := len(out.Messages) - want; extra > 0 {
		// Keep those nearest the cursor; the next page starts after them.
		if forward {
			out.Messages = out.Messages[:want]
		} else {
			out.Messages = out.Messages[extra:]
		}
	}
	return out, nil
}

// VisitorSendInput is a visitor's message.
type VisitorSendInput struct {
	ClientID string  `json:"client_id"`
	Text     string  `json:"text"`
	FileIDs  []int64 `json:"file_ids" max:"10"`
}

// openKey marks a contact's open dialog; it is unique, so two first
// messages racing open one dialog.
func openKey(contactID int64) string { return "support:" + strconv.FormatInt(contactID, 10) }

// Send stores a visitor's message, opening a dialog if none is open.
func (s *Service) Send(ctx context.Context, v *Visitor, in VisitorSendInput) (*VisitorMessage, error) {
	if !s.floods.Allow("contact:" + strconv.FormatInt(v.Contact.ID, 10)) {
		return nil, parley.Errorf(parley.ERATELIMITED, "you are sending too fast; wait a moment")
	}
	if !v.Project.ChatEnabled {
		return nil, parley.Errorf(parley.ECONFLICT, "this chat is disabled")
	}
	// The message's group commit opens the dialog if none is open.
	m, err := s.msgs.SendAsContact(ctx, v.Contact, messaging.SendInput{ClientID: in.ClientID, Text: in.Text, FileIDs: in.FileIDs})
	if err != nil {
		return nil, err
	}
	return project(ctx, &names{r: s.store}, m), nil
}

// OpenDialog returns the dialog a contact's message goes to: their open
// one, else their last one, which the message reopens (seed 003: a closed
// dialog reopens on a new message), else a new one. Messaging calls it
// inside a visitor's send, with the contact locked.
func (s *Service) OpenDialog(ctx context.Context, tx parley.Tx, contact *parley.Contact) (*parley.Conversation, error) {
	c, err := tx.ConversationByKey(ctx, openKey(contact.ID))
	if parley.ErrorCode(err) != parley.ENOTFOUND {
		return c, err
	}
	if c, err = tx.LastDialog(ctx, contact.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		return c, err
	}
	name := contact.Name
	c = &parley.Conversation{Kind: parley.KindSupport, State: parley.StateAllowed, Key: openKey(contact.ID),
		Title: name, CreatedAt: s.now(), Support: &parley.Support{ProjectID: contact.ProjectID, ContactID: contact.ID,
			Status: parley.SupportOpen, Level: parley.Level1, Channel: parley.ChannelWidget, ActivityAt: s.now()}}
	var ch *parley.Channel
	if contact.ChannelID != 0 {
		var err error
		if ch, err = tx.ChannelByID(ctx, contact.ChannelID); err != nil {
			return nil, err
		}
		c.Support.Channel, c.Support.ChannelID = ch.Kind, ch.ID
	}
	p, err := tx.ProjectByID(ctx, contact.ProjectID)
	if err != nil {
		return nil, err
	}
	enqueue(p, c, c.CreatedAt)
	if err := tx.CreateConversation(ctx, c); err != nil {
		return nil, err
	}
	if ch != nil && ch.AutoCase {
		// Seed 003's automatic order creation: a case for each new
		// dialog of the channel, with where the customer came from.
		if err := s.autoCase(ctx, tx, ch, c, contact); err != nil {
			return nil, err
		}
	}
	return c, s.emitVisitorConversation(ctx, tx, c)
}

// MarkRead records how far the visitor has read; consultants see it.
func (s *Service) MarkRead(ctx context.Context, v *Visitor, seq int64) error {
	if seq <= 0 {
		return parley.Invalid("seq", "seq must be positive")
	}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		c, err := tx.LastDialog(ctx, v.Contact.ID)
		if err != nil {
			return err
		}
		seq = min(seq, c.LastSeq)
		if seq <= c.Support.ContactReadSeq {
			return nil
		}
		if err := tx.SetContactRead(ctx, c.ID, seq); err != nil {
			return err
		}
		c.Support.ContactReadSeq = seq
		return s.emitDialog(ctx, tx, c)
	})
	return err
}

// Typing tells the dialog's staff that the visitor is typing.
func (s *Service) Typing(ctx context.Context, v *Visitor) error {
	c, err := s.store.ConversationByKey(ctx, openKey(v.Contact.ID))
	if err != nil {
		return err
	}
	e := parley.NewEvent(parley.EventTyping, c.ID, 0, map[string]any{"conversation_id": c.ID, "contact_id": v.Contact.ID})
	if e.Audience, err = s.staffAudience(ctx, c, 0); err != nil {
		return err
	}
	return s.bus.Publish(ctx, []parley.Event{e})
}

// staffAudience is everyone on the staff side of a dialog except one user.
func (s *Service) staffAudience(ctx context.Context, c *parley.Conversation, except int64) ([]int64, error) {
	ms, err := s.store.Members(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	staff, err := s.projectStaff(ctx, c.Support.ProjectID)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{except: true}
	out := []int64{}
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, m := range ms {
		add(m.UserID)
	}
	for _, st := range staff {
		add(st.UserID)
	}
	return out, nil
}

// RatingInput is the visitor's score of an ended dialog.
type RatingInput struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// Rate records the visitor's rating of their last, closed dialog, once.
func (s *Service) Rate(ctx context.Context, v *Visitor, in RatingInput) (*parley.Rating, error) {
	if in.Score < 1 || in.Score > 5 {
		return nil, parley.Invalid("score", "the score is from 1 to 5")
	}
	comment, err := textField("comment", in.Comment, maxText, false)
	if err != nil {
		return nil, err
	}
	var r *parley.Rating
	_, err = s.store.Write(ctx, func(tx parley.Tx) error {
		c, err := tx.LastDialog(ctx, v.Contact.ID)
		if err != nil {
			return parley.Errorf(parley.ECONFLICT, "there is no conversation to rate")
		}
		if c.Support.Status != parley.SupportClosed {
			return parley.Errorf(parley.ECONFLICT, "the conversation can be rated once it has ended")
		}
		r = &parley.Rating{ConversationID: c.ID, ContactID: v.Contact.ID, Score: in.Score, Comment: comment}
		if err := tx.PutRating(ctx, c.Support.ProjectID, r); err != nil {
			if parley.ErrorCode(err) == parley.ECONFLICT {
				return parley.Errorf(parley.ECONFLICT, "this conversation was already rated")
			}
			return err
		}
		if err := s.emitVisitorConversation(ctx, tx, c); err != nil {
			return err
		}
		return s.emitDialog(ctx, tx, c)
	})
	return r, err
}

// Transcript writes the visitor's last dialog as plain text, without
// whispers (the visitor's export).
func (s *Service) Transcript(ctx context.Context, v *Visitor, w io.Writer) error {
	c, err := s.store.LastDialog(ctx, v.Contact.ID)
	if err != nil {
		return err
	}
	msgs, err := s.store.SupportMessages(ctx, []int64{c.ID})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Conversation with %s\n\n", v.Project.Name)
	writeTranscript(ctx, w, &names{r: s.store}, v.Contact, msgs)
	return nil
}

// writeTranscript is the one text form of a dialog, for the visitor's
// export and for cases: whispers never appear in it.
func writeTranscript(ctx context.Context, w io.Writer, n *names, contact *parley.Contact, msgs []*parley.Message) {
	who := contact.Name
	if who == "" {
		who = "Visitor"
	}
	for _, m := range msgs {
		p := project(ctx, n, m)
		if p == nil || p.Deleted {
			continue
		}
		at := m.CreatedAt.Format("2006-01-02 15:04")
		switch p.From {
		case "system":
			fmt.Fprintf(w, "[%s] — %s\n", at, p.Event.line())
		case "visitor":
			fmt.Fprintf(w, "[%s] %s: %s\n", at, who, p.Text)
		default:
			fmt.Fprintf(w, "[%s] %s: %s\n", at, p.Name, p.Text)
		}
		for _, f := range p.Files {
			fmt.Fprintf(w, "    (file: %s)\n", f.Name)
		}
	}
}

// line is the system line as a sentence, worded as the staff timeline
// words it (with first names).
func (e *VisitorEvent) line() string {
	who := e.Name
	if who == "" {
		who = "A consultant"
	}
	switch e.Action {
	case parley.ActionConnected:
		return who + " connected to the dialog"
	case parley.ActionDisconnected:
		return who + " disconnected"
	case parley.ActionTransferred:
		to := "the level-2 queue"
		if e.To != "" {
			to = e.To + " (level 2)"
		}
		if e.Name == "" {
			return "The dialog was transferred to " + to
		}
		return e.Name + " transferred the dialog to " + to
	case parley.ActionClosed:
		return "The dialog was closed"
	case parley.ActionCaseCreated:
		return "The dialog was converted into case " + e.Text
	case parley.ActionOffline:
		return e.Text
	}
	return strings.TrimSpace(e.Action + " " + e.Text)
}

// Upload stores a visitor's file for their next message.
func (s *Service) Upload(ctx context.Context, v *Visitor, name, contentType string, size int64, r io.Reader) (*parley.File, error) {
	if !s.floods.Allow("contact:" + strconv.FormatInt(v.Contact.ID, 10)) {
		return nil, parley.Errorf(parley.ERATELIMITED, "you are sending too fast; wait a moment")
	}
	limits := &messaging.Limits{Channel: parley.ChannelWidget,
		AttachmentLimits: v.Project.AttachmentLimitsFor(parley.ChannelWidget, s.msgs.Config().MaxFileSize)}
	return s.msgs.UploadAsContact(ctx, v.Contact, limits, name, contentType, size, r)
}

// Download returns a file of the visitor's own dialogs.
func (s *Service) Download(ctx context.Context, v *Visitor, id int64, thumb bool) (*parley.File, io.ReadCloser, error) {
	f, err := s.store.FileByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ok := f.ContactID == v.Contact.ID
	if !ok && f.ConversationID != 0 {
		// Staff files sent into the visitor's dialog (whispers are text
		// only, so no file is staff-only).
		c, err := s.store.ConversationByID(ctx, f.ConversationID)
		ok = err == nil && c.Support != nil && c.Support.ContactID == v.Contact.ID
	}
	if !ok {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "file not found")
	}
	return s.msgs.Open(ctx, f, thumb)
}
