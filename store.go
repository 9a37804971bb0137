package parley

import (
	"context"
	"encoding/json"
	"time"
)

// Store is Parley's persistent state. Reads go straight to the database;
// every change goes through Write or Submit, in one transaction with the
// events that describe it. The store commits writes in groups: the writes
// that arrive while one group commits share the next transaction.
type Store interface {
	Reader
	// Write runs fn in one transaction. The events fn emits are stored with
	// the change, given stream positions in commit order and their
	// audiences resolved; after commit they are published on the bus the
	// store was opened with, in stream order, and returned. If fn returns
	// an error nothing is changed and no event is published.
	//
	// fn may be called more than once: when another write of its group
	// fails after changing something, the group starts again without it.
	// fn must therefore have no effect outside tx but setting its own
	// results, which the last call leaves.
	Write(ctx context.Context, fn func(tx Tx) error) ([]Event, error)
	// Submit queues item for b: the items of b that share a group are
	// applied by one call of b.ApplyBatch. done is called once the group
	// has committed (nil) or failed, after its events are published. Submit
	// blocks while the store's queue is full; if ctx ends first, or once
	// the store is closing, done gets EUNAVAILABLE.
	Submit(ctx context.Context, b Batcher, item any, done func(error))
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// A Batcher applies writes of one kind together, so that the writes that
// share a group commit can share statements too (one multi-row insert, one
// read per conversation). Batchers are compared by identity: use one value
// per kind of write.
type Batcher interface {
	// ApplyBatch applies items in tx, in the order they were submitted,
	// recording each item's own outcome in the item. An item that fails
	// alone must change nothing (check every item before writing any). An
	// error returned fails every item and keeps nothing of the call. Like a
	// Write's function, it may be called again, with the same or fewer
	// items, when the group starts again.
	ApplyBatch(ctx context.Context, tx Tx, items []any) error
	// BatchKey says what an item touches (for sends, its conversation).
	// Items with one key are applied in the order they were submitted; on
	// a database that runs several transactions at once, items with
	// different keys may be applied by different ones, concurrently.
	BatchKey(item any) int64
}

// Reader is every query, available both on the Store and inside a Tx. Each
// method returning one thing returns ENOTFOUND when there is none.
type Reader interface {
	ChatReader
	TaskReader // task.go
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByEmail also returns the stored password hash.
	UserByEmail(ctx context.Context, email string) (*User, string, error)
	// Users returns a page of the directory and the cursor of the next page
	// ("" at the end).
	Users(ctx context.Context, f UserFilter) ([]*User, string, error)
	CountUsers(ctx context.Context) (int, error)
	UserSettings(ctx context.Context, userID int64) (Settings, error)

	SessionByTokenHash(ctx context.Context, hash string) (*Session, error)
	Sessions(ctx context.Context, userID int64) ([]*Session, error)
	PasswordHash(ctx context.Context, userID int64) (string, error)
	TOTP(ctx context.Context, userID int64) (TOTP, error)
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)
	// KnownDevice returns the user a browser's device token was given to.
	KnownDevice(ctx context.Context, tokenHash string) (int64, error)

	Groups(ctx context.Context) ([]*Group, error)
	GroupByID(ctx context.Context, id int64) (*Group, error)
	GroupsOfUser(ctx context.Context, userID int64) ([]*Group, error)
	// UsersWithRight lists the users HasRight is true for.
	UsersWithRight(ctx context.Context, right string) ([]int64, error)
	FriendIDs(ctx context.Context, userID int64) ([]int64, error)
	// ContactIDs lists the users who share a conversation with userID or
	// have them as a friend: who needs to hear of their presence.
	ContactIDs(ctx context.Context, userID int64) ([]int64, error)

	// Setting decodes the organisation-wide setting key into v; a missing
	// key leaves v unchanged and is not an error.
	Setting(ctx context.Context, key string, v any) error

	// UserPhone is the user's phone number for staff SMS ("" when none).
	UserPhone(ctx context.Context, userID int64) (string, error)
	// StaffSMSByExternalID finds a staff SMS by the provider's id.
	StaffSMSByExternalID(ctx context.Context, channelID int64, externalID string) (*StaffSMS, error)
	// StaffSMSTo lists the SMS sent to recipientID (by senderID only, when
	// it is not 0), newest first.
	StaffSMSTo(ctx context.Context, recipientID, senderID int64, limit int) ([]*StaffSMS, error)
	// CountStaffSMS counts the SMS senderID sent since a time.
	CountStaffSMS(ctx context.Context, senderID int64, since time.Time) (int, error)

	ConversationByID(ctx context.Context, id int64) (*Conversation, error)
	ConversationByKey(ctx context.Context, key string) (*Conversation, error)
	// Conversations lists the conversations userID is a member of, newest
	// activity first, with the cursor of the next page.
	Conversations(ctx context.Context, f ConvFilter) ([]*Conversation, string, error)
	// ConversationsByKind lists every conversation of a kind (used for
	// Assistance hand-over).
	ConversationsByKind(ctx context.Context, kind ConvKind) ([]*Conversation, error)
	Member(ctx context.Context, convID, userID int64) (*Member, error)
	Members(ctx context.Context, convID int64) ([]Member, error)
	// MembersOf returns userID's membership rows for the given conversations.
	MembersOf(ctx context.Context, userID int64, convIDs []int64) (map[int64]*Member, error)
	// UnreadTotal returns the user's unread messages over all their
	// conversations and how many conversations have any.
	UnreadTotal(ctx context.Context, userID int64) (messages int64, conversations int64, err error)
	// Undelivered returns, for each conversation of userID with messages
	// not yet delivered to them, the newest seq.
	Undelivered(ctx context.Context, userID int64) (map[int64]int64, error)
	// MembersByConversation returns every member row of the given conversations.
	MembersByConversation(ctx context.Context, convIDs []int64) (map[int64][]Member, error)
	// MembersIn returns the member rows that exist among keys.
	MembersIn(ctx context.Context, keys []MemberKey) (map[MemberKey]*Member, error)

	MessageByID(ctx context.Context, id int64) (*Message, error)
	MessageBySeq(ctx context.Context, convID, seq int64) (*Message, error)
	MessageByClientID(ctx context.Context, senderID int64, clientID string) (*Message, error)
	// MessagesByClientIDs returns the stored messages that carry the given
	// client ids.
	MessagesByClientIDs(ctx context.Context, keys []ClientKey) (map[ClientKey]*Message, error)
	// Messages returns a page of history in ascending seq order.
	Messages(ctx context.Context, convID int64, p MessagePage) ([]*Message, error)
	// LastMessages returns the newest message of each conversation.
	LastMessages(ctx context.Context, convIDs []int64) (map[int64]*Message, error)
	// LastDialogMessages is LastMessages for dialogs, passing over the
	// staff notes that are not news (QuietActions).
	LastDialogMessages(ctx context.Context, convIDs []int64) (map[int64]*Message, error)
	// Search returns matching, undeleted messages from conversations the
	// user is a member of, newest first.
	Search(ctx context.Context, q SearchQuery) ([]*Message, error)
	// LinkPreviewCache returns the cached preview of a page (ENOTFOUND
	// when it was never fetched).
	LinkPreviewCache(ctx context.Context, url string) (*CachedLinkPreview, error)
	// FindContactIDs and FindCaseIDs find customers (by name, e-mail,
	// phone) and cases (by title or number) for the composer's card
	// search, newest first; callers check what the searcher may see.
	FindContactIDs(ctx context.Context, text string, limit int) ([]int64, error)
	FindCaseIDs(ctx context.Context, text string, limit int) ([]int64, error)

	FileByID(ctx context.Context, id int64) (*File, error)
	Files(ctx context.Context, ids []int64) ([]File, error)

	Reminder(ctx context.Context, userID, messageID int64) (*Reminder, error)
	Reminders(ctx context.Context, userID int64) ([]*Reminder, error)
	// DueReminders returns unfired reminders due at or before now, oldest
	// first; with userID non-zero, only that user's.
	DueReminders(ctx context.Context, now time.Time, userID int64, limit int) ([]*Reminder, error)
	// NextReminderAt returns when the next unfired reminder due after
	// after is, or the zero time.
	NextReminderAt(ctx context.Context, after time.Time) (time.Time, error)

	// Live chat.
	ProjectByID(ctx context.Context, id int64) (*Project, error)
	ProjectByKey(ctx context.Context, key string) (*Project, error)
	Projects(ctx context.Context) ([]*Project, error)
	Specialists(ctx context.Context, projectID int64) ([]*Specialist, error)
	// StaffRoles lists the projects a user serves, at their lowest level.
	StaffRoles(ctx context.Context, userID int64) ([]StaffRole, error)
	// ProjectStaff lists the users serving a project, at their lowest level.
	ProjectStaff(ctx context.Context, projectID int64) ([]StaffRole, error)
	ContactByID(ctx context.Context, id int64) (*Contact, error)
	ContactByExternalID(ctx context.Context, projectID int64, externalID string) (*Contact, error)
	Contacts(ctx context.Context, ids []int64) (map[int64]*Contact, error)
	// LastDialog returns the contact's newest support conversation.
	LastDialog(ctx context.Context, contactID int64) (*Conversation, error)
	// Dialogs lists a page of support conversations in f.Sort's order,
	// with the cursor of the next page ("" at the end).
	Dialogs(ctx context.Context, f DialogFilter) ([]*Conversation, string, error)
	// CountDialogs counts the dialogs f selects (its order and cursor
	// aside).
	CountDialogs(ctx context.Context, f DialogFilter) (int64, error)
	// Audiences returns who each conversation's events go to (see
	// Event.Audience), for events that must be addressed before the
	// conversation is gone.
	Audiences(ctx context.Context, convIDs []int64) (map[int64][]int64, error)
	// DialogViews returns userID's read state of the dialogs they viewed
	// without being connected.
	DialogViews(ctx context.Context, userID int64, convIDs []int64) (map[int64]*DialogView, error)
	// DialogFiles lists the files sent in a dialog's messages that are not
	// deleted, newest first: images, or every other file (kind
	// AttachImage or AttachOther), before the file ID before (0: from the
	// newest).
	DialogFiles(ctx context.Context, convID int64, kind string, before int64, limit int) ([]File, error)
	MessageByContactClientID(ctx context.Context, contactID int64, clientID string) (*Message, error)
	// SupportMessages returns every message of the conversations, by
	// conversation and seq.
	SupportMessages(ctx context.Context, convIDs []int64) ([]*Message, error)
	CaseTemplates(ctx context.Context) ([]*CaseTemplate, error)
	CaseTemplateByID(ctx context.Context, id int64) (*CaseTemplate, error)
	CaseByID(ctx context.Context, id int64) (*Case, error)
	// OpenCaseOf returns the newest open case of a conversation from source.
	OpenCaseOf(ctx context.Context, convID int64, source string) (*Case, error)
	Cases(ctx context.Context, f CaseFilter) ([]*Case, error)
	CaseComments(ctx context.Context, caseID int64) ([]*CaseComment, error)
	Ratings(ctx context.Context, convIDs []int64) (map[int64]*Rating, error)
	// The support inbox.
	Tags(ctx context.Context) ([]*Tag, error)
	TagByID(ctx context.Context, id int64) (*Tag, error)
	// ContactTags returns the contacts' tags, pinned first.
	ContactTags(ctx context.Context, contactIDs []int64) (map[int64][]ContactTag, error)
	// TagCounts counts, per tag, the dialogs f selects whose customer has
	// the tag (a pinned one, with f.Pinned), ignoring f's tag conditions.
	TagCounts(ctx context.Context, f DialogFilter) (map[int64]int64, error)
	// QuickReplies lists a user's own quick replies.
	QuickReplies(ctx context.Context, ownerID int64) ([]*QuickReply, error)
	QuickReplyByID(ctx context.Context, id int64) (*QuickReply, error)
	// Revoked reports whether a dialog was reassigned away from userID.
	Revoked(ctx context.Context, convID, userID int64) (bool, error)

	// Channels.
	// ChannelByID returns a channel with its secrets.
	ChannelByID(ctx context.Context, id int64) (*Channel, error)
	// Channels lists a project's channels (0: every project's).
	Channels(ctx context.Context, projectID int64) ([]*Channel, error)
	// ContactByAddress returns the customer who writes from address
	// through a channel.
	ContactByAddress(ctx context.Context, channelID int64, address string) (*Contact, error)
	ChannelMessage(ctx context.Context, messageID int64) (*ChannelMessage, error)
	ChannelMessageByExternalID(ctx context.Context, channelID int64, externalID string) (*ChannelMessage, error)
	// ChannelMessagesOf lists a conversation's channel messages, newest
	// first.
	ChannelMessagesOf(ctx context.Context, convID int64, limit int) ([]*ChannelMessage, error)
	// DueChannelMessages lists a channel's queued messages due at now,
	// oldest first, only the oldest queued one of each conversation.
	DueChannelMessages(ctx context.Context, channelID int64, now time.Time, limit int) ([]*ChannelMessage, error)
	// NextChannelMessageAt returns when the channel's next queued message
	// is due (zero: none queued).
	NextChannelMessageAt(ctx context.Context, channelID int64) (time.Time, error)

	// The distribution (routing.go). Agents returns each manager's state,
	// available for one who never set it. Loads counts their open dialogs
	// in charge, in every project; ProjectLoad a project's.
	Agents(ctx context.Context, userIDs []int64) (map[int64]*Agent, error)
	Loads(ctx context.Context, userIDs []int64) (map[int64]int, error)
	Load(ctx context.Context, userID int64) (int, error)
	ProjectLoad(ctx context.Context, projectID int64) (int, error)
	// QueuedDialogs returns a level's open dialogs nobody is in charge of,
	// in queue order (QueueDue, id), after the cursor; CountQueued counts
	// them per level.
	QueuedDialogs(ctx context.Context, projectID int64, level int, after QueueCursor, limit int) ([]*Conversation, error)
	CountQueued(ctx context.Context, projectID int64) (map[int]int, error)
	// WaitingDialogs returns the dialogs whose customer waits for an
	// answer with the given ReplyState, longest waiting first.
	WaitingDialogs(ctx context.Context, projectID int64, replyState int, limit int) ([]*Conversation, error)
	// RoutingDecision returns the whole decision of a routed line.
	RoutingDecision(ctx context.Context, messageID int64) (*RoutingDecision, error)
	// RoutingNotes returns why each project's queues wait, per level.
	RoutingNotes(ctx context.Context, projectIDs []int64) (map[int64]map[int]string, error)

	// Webhooks lists the webhooks (every one when all, else those of
	// project projectID, 0 the organisation's).
	Webhooks(ctx context.Context) ([]*Webhook, error)
	WebhookByID(ctx context.Context, id int64) (*Webhook, error)
	// WebhookEvents returns up to limit durable events after position for
	// w: a bot's as EventsSince gives them, a project's dialog events, or
	// every project's.
	WebhookEvents(ctx context.Context, w *Webhook, after int64, limit int) ([]Event, error)
	// EventByID returns one stored event.
	EventByID(ctx context.Context, id int64) (*Event, error)
	// WebhookDeliveries returns a webhook's log, newest first, before the
	// delivery id before (0: from the newest).
	WebhookDeliveries(ctx context.Context, webhookID, before int64, limit int) ([]*WebhookDelivery, error)

	// ExpiredDialogs returns up to limit of a project's dialogs closed
	// before closedBefore, oldest first.
	ExpiredDialogs(ctx context.Context, projectID int64, closedBefore time.Time, limit int) ([]int64, error)
	// RetentionRun returns a project's unfinished retention run.
	RetentionRun(ctx context.Context, projectID int64) (*RetentionRun, error)
	// TrashedBlobs lists up to limit blob keys whose rows are gone but
	// whose bytes may not be (see TrashBlobs).
	TrashedBlobs(ctx context.Context, limit int) ([]string, error)

	// AuditLog returns a page of the audit log, newest first.
	AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)

	// AccountTokenByHash returns the invitation or reset link whose token
	// hashes to hash (expired ones too: the caller checks ExpiresAt).
	AccountTokenByHash(ctx context.Context, hash string) (*AccountToken, error)
	// AccountTokens lists the links of a kind, newest first.
	AccountTokens(ctx context.Context, kind string) ([]*AccountToken, error)

	// ContactEventsSince returns up to limit durable events after position
	// for a visitor's widget, in order.
	ContactEventsSince(ctx context.Context, contactID, after int64, limit int) ([]Event, error)

	// EventsSince returns up to limit durable events after position for
	// userID's devices, in order.
	EventsSince(ctx context.Context, userID, after int64, limit int) ([]Event, error)
	// EventsBetween returns up to limit durable events with after < ID
	// <= upto, every audience's, in order, each addressed as EventsSince
	// would (for a node filling a gap in what its bus delivered).
	EventsBetween(ctx context.Context, after, upto int64, limit int) ([]Event, error)
	// EventBounds returns the oldest and newest stored stream positions.
	EventBounds(ctx context.Context) (oldest, newest int64, err error)
}

// Tx is a transaction: every query, plus the writes. Methods that insert set
// the ID on their argument.
type Tx interface {
	Reader
	ChatWriter
	TaskWriter // task.go

	CreateUser(ctx context.Context, u *User, passwordHash string) error // ECONFLICT on a taken e-mail
	UpdateUser(ctx context.Context, u *User) error
	SetPassword(ctx context.Context, userID int64, hash string) error
	SetUserSettings(ctx context.Context, userID int64, s Settings) error
	SetClient(ctx context.Context, userID int64, client, version string) error

	CreateSession(ctx context.Context, s *Session) error
	TouchSession(ctx context.Context, id int64, at time.Time) error
	DeleteSession(ctx context.Context, id int64) error
	DeleteSessions(ctx context.Context, userID int64) error
	// DeleteOtherSessions ends the user's sessions of a kind but one, and
	// returns the ids it ended.
	DeleteOtherSessions(ctx context.Context, userID, keepID int64, kind string) ([]int64, error)
	// RotateSession gives a session a new token and CSRF token.
	RotateSession(ctx context.Context, id int64, tokenHash, csrf string) error
	// SetTOTP stores a (pending or enabled) two-factor secret; "" removes it.
	SetTOTP(ctx context.Context, userID int64, secret string, enabled bool) error
	// UseTOTPStep records that a code of time step step was used; false if
	// that step or a later one was used already.
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)
	SetRecoveryCodes(ctx context.Context, userID int64, hashes []string) error
	// UseRecoveryCode removes a recovery code; false if there was none.
	UseRecoveryCode(ctx context.Context, userID int64, hash string) (bool, error)
	// AddKnownDevice records a device token of the user's, keeping the
	// newest few per user.
	AddKnownDevice(ctx context.Context, tokenHash string, userID int64) error

	CreateGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, g *Group) error // also replaces members
	DeleteGroup(ctx context.Context, id int64) error
	AddFriend(ctx context.Context, userID, friendID int64) error
	RemoveFriend(ctx context.Context, userID, friendID int64) error

	PutSetting(ctx context.Context, key string, v any) error

	// SetUserPhone stores a user's phone number ("" removes it).
	SetUserPhone(ctx context.Context, userID int64, phone string) error
	CreateStaffSMS(ctx context.Context, m *StaffSMS) error
	// UpdateStaffSMS stores a staff SMS's external id, status and error.
	UpdateStaffSMS(ctx context.Context, m *StaffSMS) error

	CreateConversation(ctx context.Context, c *Conversation) error // ECONFLICT on a taken key
	UpdateConversation(ctx context.Context, c *Conversation) error
	AddMember(ctx context.Context, m *Member) error
	RemoveMember(ctx context.Context, convID, userID int64) error
	// SetPointers moves a member's pointers forward (never back), sets the
	// unread mark, and returns the updated row.
	SetPointers(ctx context.Context, convID, userID, delivered, read int64, markedUnread bool) (*Member, error)
	// MovePointers applies many moves as SetPointers does one, without
	// reading the rows back; a move of someone no longer a member is
	// ignored. Rows are locked in one order (conversation, user), so
	// writers moving many pointers never deadlock each other.
	MovePointers(ctx context.Context, moves []PointerMove) error
	// LockConversations returns the conversations among ids that exist,
	// locked until the transaction ends. Locks are taken in ID order, so
	// writers that lock several conversations never deadlock each other.
	LockConversations(ctx context.Context, ids []int64) (map[int64]*Conversation, error)
	// DeleteEventsBefore prunes the stream, oldest first, in chunks: it
	// removes at most 10,000 events dated before before, and is called
	// again while it removes that many. Clients whose cursor is older are
	// told to refetch their state.
	DeleteEventsBefore(ctx context.Context, before time.Time) (int64, error)
	SetDraft(ctx context.Context, convID, userID int64, text string, at time.Time) error
	// ClearDraft empties a member's draft and reports whether there was one.
	ClearDraft(ctx context.Context, convID, userID int64, at time.Time) (bool, error)

	// InsertMessage takes the conversation's next seq for m, stores it and
	// updates the conversation's last activity. A taken client id is
	// ECONFLICT, and takes no seq.
	InsertMessage(ctx context.Context, m *Message) error
	// InsertMessages stores new messages, in order: each takes its
	// conversation's next seq, and each conversation's last seq and last
	// activity move once for all of its messages. It sets ID and Seq (and
	// CreatedAt when zero). The client ids must be free (see
	// MessagesByClientIDs); a taken one fails the call.
	InsertMessages(ctx context.Context, ms []*Message) error
	UpdateMessage(ctx context.Context, m *Message) error
	// SetMessagePreview stores a message's link preview (nil: none).
	SetMessagePreview(ctx context.Context, messageID int64, p *LinkPreview) error
	// PutLinkPreviewCache caches a fetched page's preview.
	PutLinkPreviewCache(ctx context.Context, url string, c *CachedLinkPreview) error

	CreateFile(ctx context.Context, f *File) error
	// AttachFile binds an unbound file to a conversation and message.
	AttachFile(ctx context.Context, fileID, convID, messageID int64) error

	PutReminder(ctx context.Context, r *Reminder) error // one per (user, message)
	DeleteReminder(ctx context.Context, userID, messageID int64) error
	// MarkReminderFired marks an unfired reminder fired; ENOTFOUND if it
	// is gone or already fired (another node fired it).
	MarkReminderFired(ctx context.Context, id int64, at time.Time) error

	CreateProject(ctx context.Context, p *Project) error // ECONFLICT on a taken key
	UpdateProject(ctx context.Context, p *Project) error
	DeleteProject(ctx context.Context, id int64) error
	AddSpecialist(ctx context.Context, s *Specialist) error // ECONFLICT if already associated
	DeleteSpecialists(ctx context.Context, projectID int64, ids []int64) (int64, error)
	CreateContact(ctx context.Context, c *Contact) error // ECONFLICT on a taken external id
	// LockContacts locks the contacts' rows until the transaction ends, in
	// ID order, before their conversations': a contact's writes (opening
	// its dialog) then wait for each other instead of racing.
	LockContacts(ctx context.Context, ids ...int64) error
	UpdateContact(ctx context.Context, c *Contact) error
	// SetContactRead moves the visitor's read pointer forward (never back).
	SetContactRead(ctx context.Context, convID, seq int64) error
	CreateCaseTemplate(ctx context.Context, t *CaseTemplate) error
	UpdateCaseTemplate(ctx context.Context, t *CaseTemplate) error
	DeleteCaseTemplate(ctx context.Context, id int64) error
	CreateCase(ctx context.Context, c *Case) error
	UpdateCase(ctx context.Context, c *Case) error
	AddCaseComment(ctx context.Context, c *CaseComment) error
	PutRating(ctx context.Context, projectID int64, r *Rating) error // ECONFLICT if already rated

	CreateTag(ctx context.Context, t *Tag) error // ECONFLICT on a taken name
	UpdateTag(ctx context.Context, t *Tag) error // ECONFLICT on a taken name
	DeleteTag(ctx context.Context, id int64) error
	// SetContactTag puts a tag on a contact, or changes whether it is pinned.
	SetContactTag(ctx context.Context, contactID, tagID int64, pinned bool) error
	RemoveContactTag(ctx context.Context, contactID, tagID int64) error
	CreateQuickReply(ctx context.Context, x *QuickReply) error
	UpdateQuickReply(ctx context.Context, x *QuickReply) error
	DeleteQuickReply(ctx context.Context, id int64) error
	// SetRevoked records (or forgets) that a dialog was reassigned away
	// from userID.
	SetRevoked(ctx context.Context, convID, userID int64, revoked bool) error
	SetDialogView(ctx context.Context, v *DialogView) error
	// UnpinDialog unlinks a dialog from its customer: it keeps its
	// history, but no longer belongs to the customer's card, and the
	// customer's next message opens a new dialog.
	UnpinDialog(ctx context.Context, convID int64) error
	// DeleteDialogs deletes dialogs and everything stored with them
	// (messages, memberships, read states, files' rows, events, ratings),
	// returning the deleted files, whose blobs the caller removes after
	// the commit.
	DeleteDialogs(ctx context.Context, ids []int64) ([]File, error)

	CreateChannel(ctx context.Context, c *Channel) error
	UpdateChannel(ctx context.Context, c *Channel) error // name, paused, auto_case, settings, secrets
	// SetChannelError records the channel's last failure ("" clears it).
	SetChannelError(ctx context.Context, id int64, msg string, at time.Time) error
	DeleteChannel(ctx context.Context, id int64) error
	// LeaseChannel takes or renews owner's lease of a channel until until:
	// the node holding it polls the channel and sends its queue. False if
	// another owner's lease has not expired by now.
	LeaseChannel(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error)
	// PutChannelMessage records a message that crossed a channel;
	// ECONFLICT if the channel's id of it is taken.
	PutChannelMessage(ctx context.Context, m *ChannelMessage) error
	UpdateChannelMessage(ctx context.Context, m *ChannelMessage) error
	// LockAgent creates a manager's state if need be and locks it until
	// the commit: every assignment takes it, so two cannot both count the
	// same free place. PutAgent writes it.
	LockAgent(ctx context.Context, userID int64) (*Agent, error)
	PutAgent(ctx context.Context, a *Agent) error
	// AssignDialog gives an open dialog in the charge of from (0: nobody)
	// to another manager, and reports false, changing nothing, when it is
	// not (any more) open and in from's charge.
	AssignDialog(ctx context.Context, convID, from, to int64, at time.Time) (bool, error)
	// LockProject locks a project's row until the commit (its load).
	LockProject(ctx context.Context, id int64) error
	// LeaseProject takes or renews the lease of a project's dispatcher.
	LeaseProject(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error)
	// PutRoutingDecision stores the whole decision of a routed line.
	PutRoutingDecision(ctx context.Context, messageID, convID int64, d *RoutingDecision) error
	// SetRoutingNote records why a queue waits, and reports a change.
	SetRoutingNote(ctx context.Context, projectID int64, level int, note string, at time.Time) (bool, error)
	CreateWebhook(ctx context.Context, w *Webhook) error
	UpdateWebhook(ctx context.Context, w *Webhook) error // url, events, active, secret
	DeleteWebhook(ctx context.Context, id int64) error
	// SetWebhookCursor moves a webhook's cursor and records its last
	// error ("" clears it).
	SetWebhookCursor(ctx context.Context, id, cursor int64, lastError string, at time.Time) error
	// LeaseWebhook is LeaseChannel for a webhook's delivery.
	LeaseWebhook(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error)
	AddWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// DeleteWebhookDeliveriesBefore prunes the webhooks' logs, at most
	// 10,000 entries a call, as DeleteEventsBefore does the stream.
	DeleteWebhookDeliveriesBefore(ctx context.Context, before time.Time) (int64, error)

	// SetMessageStatus stores the delivery status a channel reported.
	SetMessageStatus(ctx context.Context, messageID int64, status MsgStatus, reason string) error

	// EraseContact empties a customer's row (name, e-mail, phone,
	// attributes, source, channel address, external id), marks it erased
	// at at, and deletes their tags, cases, ratings, events and the files
	// they uploaded that no dialog holds, returning those files. Their
	// dialogs are deleted first, with DeleteDialogs.
	EraseContact(ctx context.Context, id int64, at time.Time) ([]File, error)
	// TrashBlobs records blob keys to delete, in the transaction that
	// drops their rows; UntrashBlobs forgets them once the blob store has
	// deleted them. A node that dies in between leaves them listed for
	// the next sweep (TrashedBlobs), never a blob without its row.
	TrashBlobs(ctx context.Context, keys []string) error
	UntrashBlobs(ctx context.Context, keys []string) error
	// LeaseRetention is LeaseProject for a project's retention job.
	LeaseRetention(ctx context.Context, projectID int64, owner string, now, until time.Time) (bool, error)
	// PutRetentionRun starts or advances a project's retention run;
	// EndRetentionRun forgets it.
	PutRetentionRun(ctx context.Context, r *RetentionRun) error
	EndRetentionRun(ctx context.Context, projectID int64) error

	// Audit adds an entry to the audit log, in the transaction of the
	// change it records (At defaults to now).
	Audit(ctx context.Context, e *AuditEntry) error

	CreateAccountToken(ctx context.Context, t *AccountToken) error
	// RenewAccountToken gives a link a new token, expiry and sending time.
	RenewAccountToken(ctx context.Context, id int64, hash string, expires, sent time.Time) error
	// DeleteAccountToken deletes a link; false if it was gone already
	// (so a link is used at most once).
	DeleteAccountToken(ctx context.Context, id int64) (bool, error)
	// DeleteAccountTokensOf deletes every link of a kind for an e-mail.
	DeleteAccountTokensOf(ctx context.Context, kind, email string) error

	// Emit appends an event to the transaction; it is stored only if the
	// transaction commits.
	Emit(e Event)
}

// NewEvent builds an event whose Data is the JSON encoding of data.
func NewEvent(typ string, convID, userID int64, data any) Event {
	b, err := json.Marshal(data)
	if err != nil {
		// Only domain types are passed here; failing to encode one is a
		// programming error.
		panic("parley: encoding event " + typ + ": " + err.Error())
	}
	return Event{Type: typ, ConversationID: convID, UserID: userID, Data: b, At: Now()}
}
