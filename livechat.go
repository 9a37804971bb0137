package parley

import "time"

// Project is a support line (seed 004): the website chat of one product or
// team, with its settings and its specialists.
type Project struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Key names the project in the embed snippet and the widget API; it is
	// public. Secret signs verified visitor ids (HMAC-SHA256) and is only
	// shown to those who manage the project.
	Key    string `json:"key"`
	Secret string `json:"secret,omitempty"`
	// Origins are the websites allowed to embed the widget, as
	// "https://example.com" (scheme, host and optional port); "*" allows any.
	Origins     []string       `json:"origins"`
	ChatEnabled bool           `json:"chat_enabled"`
	Hours       WorkingHours   `json:"hours"`
	Messages    ChatMessages   `json:"messages"`
	Prechat     []PrechatField `json:"prechat_fields"`
	// CaseTemplateID is the template of the cases chat creates (0: the
	// built-in one, with no fields).
	CaseTemplateID int64 `json:"case_template_id"`
	// ReplyLimits are the inbox's reply time limits (none by default).
	ReplyLimits ReplyLimits `json:"reply_limits"`
	// AttachmentLimits override DefaultAttachmentLimits per channel.
	AttachmentLimits map[string]AttachmentLimits `json:"attachment_limits"`
	// Distribution is how dialogs reach the project's managers.
	Distribution Distribution `json:"distribution"`
	// RetentionDays deletes dialogs closed longer ago than that, with
	// their files (0: keep them forever).
	RetentionDays int       `json:"retention_days"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// WorkingHours are when the project's consultants answer. Outside them a
// visitor's message becomes a case. No days means always.
type WorkingHours struct {
	TimeZone string     `json:"time_zone"` // IANA name; empty is UTC
	Days     []DayHours `json:"days" max:"50"`
}

// DayHours is one weekday's opening time, "09:00" to "18:00" in the
// project's time zone. Weekday 0 is Sunday.
type DayHours struct {
	Weekday int    `json:"weekday"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// Open reports whether t falls within the working hours.
func (h WorkingHours) Open(t time.Time) bool {
	if len(h.Days) == 0 {
		return true
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	t = t.In(loc)
	hm := t.Format("15:04")
	for _, d := range h.Days {
		if d.Weekday == int(t.Weekday()) && hm >= d.From && hm < d.To {
			return true
		}
	}
	return false
}

// ChatMessages are the texts of "Messages and shortcuts".
type ChatMessages struct {
	Greeting  string     `json:"greeting"`
	Offline   string     `json:"offline"`
	Waiting   string     `json:"waiting"`
	Shortcuts []Shortcut `json:"shortcuts" max:"200"`
}

// Shortcut is a ready text a consultant inserts by its short name.
type Shortcut struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// PrechatField is a question the widget asks before the first message.
// Name "name" and "email" fill the contact's own fields; others are kept
// as the contact's attributes.
type PrechatField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Required bool   `json:"required"`
}

// Specialist levels (seed 004).
const (
	Level1 = 1 // serves the conversations visitors start
	Level2 = 2 // serves only conversations another specialist transfers
)

// Specialist associates a user, or every member of a group, with a project
// at a level.
type Specialist struct {
	ID        int64     `json:"id"`
	ProjectID int64     `json:"project_id"`
	UserID    int64     `json:"user_id,omitempty"`
	GroupID   int64     `json:"group_id,omitempty"`
	Level     int       `json:"level"`
	Name      string    `json:"name"` // the user's or the group's, for display
	CreatedAt time.Time `json:"created_at"`
}

// StaffRole is a user's level in a project, through any of their
// associations (the lowest level wins).
type StaffRole struct {
	ProjectID int64 `json:"project_id"`
	UserID    int64 `json:"user_id"`
	Level     int   `json:"level"`
}

// Contact is a customer or website visitor. Never a User.
type Contact struct {
	ID        int64 `json:"id"`
	ProjectID int64 `json:"project_id"`
	// ExternalID is the host site's own id for a verified visitor.
	ExternalID string            `json:"external_id,omitempty"`
	Name       string            `json:"name"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	PageURL    string            `json:"page_url,omitempty"`
	Referrer   string            `json:"referrer,omitempty"`
	UTMSource  string            `json:"utm_source,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Blocked customers can neither write nor be written to.
	Blocked bool `json:"blocked"`
	// ChannelID and Address identify a customer who writes through a
	// channel: their chat id, phone number, e-mail address or the
	// system's own id, unique in the channel.
	ChannelID int64  `json:"channel_id,omitempty"`
	Address   string `json:"address,omitempty"`
	// Tags are the customer's tags, pinned ones first; set by the inbox's
	// views, not by the store's contact reads.
	Tags       []ContactTag `json:"tags,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
	LastSeenAt time.Time    `json:"last_seen_at"`
	// ErasedAt is when the customer's personal data was erased (zero:
	// never): the row stays, empty, so that their old widget token is
	// refused and erasing again changes nothing.
	ErasedAt time.Time `json:"erased_at,omitzero"`
}

// Support conversation statuses.
const (
	SupportOpen   = "open"
	SupportClosed = "closed"
)

// Support is the live-chat state of a support conversation.
type Support struct {
	ProjectID int64  `json:"project_id"`
	ContactID int64  `json:"contact_id"`
	Status    string `json:"status"` // SupportOpen or SupportClosed
	// Level is 1 until a consultant transfers the dialog to level 2;
	// TransferTo is then the level-2 specialist chosen, or 0 for the
	// level-2 queue.
	Level      int   `json:"level"`
	TransferTo int64 `json:"transfer_to,omitempty"`
	// ContactReadSeq is the newest message the visitor has read.
	ContactReadSeq int64 `json:"contact_read_seq"`
	// FiledSeq is the newest visitor message filed into an offline case
	// (nobody could answer, or outside working hours); it does not make
	// the dialog wait for a consultant.
	FiledSeq int64     `json:"filed_seq,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// AssigneeID is the manager in charge (0: nobody yet).
	AssigneeID int64 `json:"assignee_id,omitempty"`
	// Channel is how the customer writes (ChannelWidget, ...), and
	// ChannelID the connected channel (0 for the widget).
	Channel   string `json:"channel"`
	ChannelID int64  `json:"channel_id,omitempty"`
	// ActivityAt is the last communication, from either side (system lines
	// and whispers do not count); LastFrom says whose it was.
	ActivityAt time.Time `json:"activity_at,omitzero"`
	LastFrom   string    `json:"last_from,omitempty"`
	// WaitingSince is when the customer's first unanswered message since
	// the dialog (re)opened was sent; zero once a manager answers or the
	// dialog closes. The processing order and the reply limits count from
	// it.
	WaitingSince time.Time `json:"waiting_since,omitzero"`
	// Unanswered counts the customer's messages since WaitingSince: the
	// unread count of staff who are not connected to the dialog.
	Unanswered int64 `json:"unanswered"`
	// AssignedAt is when the manager in charge got the dialog; QueuedAt
	// when it last started waiting for one (open, nobody in charge).
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	QueuedAt   time.Time `json:"queued_at,omitzero"`
	// QueueDue orders the queue: the reply deadline from QueuedAt, or
	// QueuedAt itself without reply limits (oldest, or most overdue,
	// first).
	QueueDue time.Time `json:"-"`
	// ReplyState is how far the customer's current wait has gone past
	// the reply limits (ReplyWarned, ReplyOverdue), and MissedBy the
	// managers who had the dialog past its limit during that wait: the
	// distribution never gives it back to them.
	ReplyState int     `json:"-"`
	MissedBy   []int64 `json:"-"`
}

// Reply limit states of a customer's wait.
const (
	ReplyInTime  = 0
	ReplyWarned  = 1
	ReplyOverdue = 2
)

// CaseField is one field of a case template.
type CaseField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Required bool   `json:"required"`
	Default  string `json:"default,omitempty"`
}

// CaseTemplate says which fields a case gets.
type CaseTemplate struct {
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	Fields    []CaseField `json:"fields"`
	CreatedAt time.Time   `json:"created_at"`
}

// Mandatory reports whether the template has a required field without a
// default: chat cannot fill it, so chat cannot use the template (seed 004).
func (t *CaseTemplate) Mandatory() bool {
	for _, f := range t.Fields {
		if f.Required && f.Default == "" {
			return true
		}
	}
	return false
}

// Case sources and statuses.
const (
	CaseFromOffline      = "offline"      // a visitor wrote while nobody could answer
	CaseFromConversation = "conversation" // a consultant converted a dialog
	CaseFromChannel      = "channel"      // a channel's new dialog, with automatic case creation
	CaseFromTask         = "task"         // a user created a task (team chat, user panel, a message)
	CaseOpen             = "open"
	CaseInProgress       = "in_progress" // a task someone works on
	CaseClosed           = "closed"      // a case closed, a task done
)

// Case is a ticket made from a chat (seed 004).
type Case struct {
	ID             int64  `json:"id"`
	ProjectID      int64  `json:"project_id"`
	ConversationID int64  `json:"conversation_id"`
	ContactID      int64  `json:"contact_id"`
	Source         string `json:"source"`
	Status         string `json:"status"`
	Title          string `json:"title"`
	// Description is the visitor's message, or the conversation's
	// transcript without whispers.
	Description string            `json:"description"`
	Fields      map[string]string `json:"fields"`
	CreatedBy   int64             `json:"created_by,omitempty"` // 0: the visitor
	CreatedAt   time.Time         `json:"created_at"`
	ClosedAt    time.Time         `json:"closed_at,omitzero"`
	ClosedBy    int64             `json:"closed_by,omitempty"`
	// Kind is "case" or "task" (task.go): a task is a case with an
	// assignee and a due date, possibly in no project (ProjectID 0).
	Kind       string    `json:"kind"`
	AssigneeID int64     `json:"assignee_id,omitempty"`
	DueAt      time.Time `json:"due_at,omitzero"`
	DueFiredAt time.Time `json:"due_fired_at,omitzero"`
	ParentID   int64     `json:"parent_id,omitempty"` // the case a task belongs to
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// CaseComment is a note on a case: a specialist's, or a visitor's later
// message while the project is still offline.
type CaseComment struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	AuthorID  int64     `json:"author_id,omitempty"`  // a user
	ContactID int64     `json:"contact_id,omitempty"` // or the visitor
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	// MessageID and ConversationID link back to the message the comment
	// was moved from.
	MessageID      int64 `json:"message_id,omitempty"`
	ConversationID int64 `json:"conversation_id,omitempty"`
}

// CaseFilter selects cases.
type CaseFilter struct {
	ProjectIDs []int64
	ContactID  int64  // 0: any
	Status     string // empty: any
	Before     int64  // id cursor: cases with a smaller id
	Limit      int
	// Viewer's cases of dialogs reassigned away from them are left out:
	// a case holds its dialog's transcript.
	Viewer int64
}

// Rating is a visitor's score of an ended conversation.
type Rating struct {
	ConversationID int64     `json:"conversation_id"`
	ContactID      int64     `json:"contact_id"`
	Score          int       `json:"score"` // 1 to 5
	Comment        string    `json:"comment,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// DialogFilter selects support conversations: the inbox's list, live
// chat's sidebar and the metrics. Every field narrows the list; together
// they combine with AND.
type DialogFilter struct {
	ProjectIDs []int64 // nil: every project; empty: none
	// Viewer's dialogs reassigned away from them are left out.
	Viewer    int64
	ContactID int64
	UserID    int64 // only those this specialist connected to
	// Assignees: the managers in charge; 0 in the list means unassigned.
	Assignees []int64
	// Bots: only dialogs a bot is in charge of (seed 003's bots filter).
	Bots     bool
	Channels []string
	Status   string // SupportOpen, SupportClosed or empty
	LastFrom string // FromCustomer, FromManager or empty
	// TagIDs: the customer has every one of them (pinned ones, with
	// Pinned). NoTags: the customer has no tag (no pinned tag, with
	// Pinned). Pinned alone: the customer has a pinned tag.
	TagIDs []int64
	NoTags bool
	Pinned bool
	// UnreadFor: only those unread for this user (see DialogView).
	UnreadFor int64
	From, To  time.Time // created in [From, To); zero: unbounded
	Sort      string    // SortActivity (default) or SortProcessing
	// Cursor continues a listing where the previous page ended.
	Cursor string
	Limit  int
}

// RetentionRun is the state of a project's retention run, kept in the
// database so that a run cut short by a restart resumes with the same
// cutoff and counts: it deletes the dialogs closed before Cutoff.
type RetentionRun struct {
	ProjectID int64
	Cutoff    time.Time
	StartedAt time.Time
	Dialogs   int64 // deleted so far
	Files     int64
}
