package parley

import (
	"context"
	"time"
)

// Case kinds: a task is a case (docs/decisions.md "Tasks and cases").
const (
	KindCase = "case"
	KindTask = "task"
)

// Message link targets: where a message was moved to.
const (
	LinkTask    = "task"
	LinkCase    = "case"
	LinkContact = "contact"
)

// Task events (docs/realtime.md).
const (
	EventTaskUpdated  = "task.updated"   // created, edited, commented: to its creator and assignee
	EventTaskAssigned = "task.assigned"  // to the new assignee
	EventTaskDue      = "task.due"       // the due time came, once, to the assignee
	EventMessageLinks = "message.linked" // a message was moved to a task or a record's history
)

// TaskFilter selects tasks for one user.
type TaskFilter struct {
	UserID int64
	// Role: "assigned" (to UserID), "created" (by UserID), or "" (either).
	Role   string
	Status string // empty: any
	Before int64  // id cursor
	Limit  int
}

// ContactNote is an entry of a customer card's history.
type ContactNote struct {
	ID             int64     `json:"id"`
	ContactID      int64     `json:"contact_id"`
	AuthorID       int64     `json:"author_id"`
	Text           string    `json:"text"`
	MessageID      int64     `json:"message_id,omitempty"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// MessageLink records that a message was moved to a task, a case or a
// customer card: the message stays and shows the link.
type MessageLink struct {
	ID             int64     `json:"id"`
	MessageID      int64     `json:"message_id"`
	ConversationID int64     `json:"conversation_id"`
	Target         string    `json:"target"` // LinkTask, LinkCase, LinkContact
	TargetID       int64     `json:"target_id"`
	UserID         int64     `json:"user_id"`
	CreatedAt      time.Time `json:"created_at"`
}

// TaskReader reads tasks, customer notes and message links.
type TaskReader interface {
	Tasks(ctx context.Context, f TaskFilter) ([]*Case, error)
	// DueTasks returns tasks due at or before now whose due notification
	// has not fired, oldest first.
	DueTasks(ctx context.Context, now time.Time, limit int) ([]*Case, error)
	// NextTaskDueAt returns the due time of the next such task after
	// after (zero: none).
	NextTaskDueAt(ctx context.Context, after time.Time) (time.Time, error)
	ContactNotes(ctx context.Context, contactID int64) ([]*ContactNote, error)
	MessageLinks(ctx context.Context, convID int64) ([]*MessageLink, error)
}

// TaskWriter changes them.
type TaskWriter interface {
	// MarkTaskDueFired marks a task's due notification fired; ENOTFOUND if
	// it already fired (another node, or the due time moved).
	MarkTaskDueFired(ctx context.Context, id int64, due, at time.Time) error
	AddContactNote(ctx context.Context, n *ContactNote) error
	AddMessageLink(ctx context.Context, l *MessageLink) error
}
