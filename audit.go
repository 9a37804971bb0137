package parley

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry records one sensitive action in the audit log: who did it
// (their name as it was then, so that renaming or removing the user keeps
// the record readable), what and to what, from where. It is written with
// Tx.Audit in the transaction of the change it records, so that the log
// holds an entry for every committed change and for nothing else. Detail
// is a short JSON object of counts and ids: never the personal data an
// action removed.
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    int64           `json:"actor_id,omitempty"` // 0: the system (a background job)
	ActorName  string          `json:"actor_name"`
	Action     string          `json:"action"` // "contact.erased", "retention.run", ...
	TargetType string          `json:"target_type,omitempty"`
	TargetID   int64           `json:"target_id,omitempty"`
	Detail     json.RawMessage `json:"detail"`
	ClientAddr string          `json:"client_addr,omitempty"`
}

// Audited actions.
const (
	AuditContactExported = "contact.exported"
	AuditContactErased   = "contact.erased"
	AuditRetentionRun    = "retention.run"
)

// AuditFilter selects a page of the audit log, newest first.
type AuditFilter struct {
	Action     string    // "": any
	TargetType string    // "": any
	TargetID   int64     // 0: any
	Since      time.Time // zero: from the first entry
	Until      time.Time // zero: to the last; entries before it
	Before     int64     // an entry id: the page before it (0: from the newest)
	Limit      int
}

// NewAudit returns the entry of action by actor (nil: the system) on a
// target, at, with detail encoded as JSON and the client address of ctx.
func NewAudit(ctx context.Context, actor *User, at time.Time, action, targetType string, targetID int64, detail any) *AuditEntry {
	e := &AuditEntry{At: at, Action: action, TargetType: targetType, TargetID: targetID, ClientAddr: ClientAddr(ctx),
		ActorName: "system"}
	if actor != nil {
		e.ActorID, e.ActorName = actor.ID, actor.Name
	}
	e.Detail = json.RawMessage("{}")
	if detail != nil {
		if b, err := json.Marshal(detail); err == nil {
			e.Detail = b
		}
	}
	return e
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the address a request came from
// (set by the transport, read by services for the audit log).
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddr returns the client address of ctx ("" for none).
func ClientAddr(ctx context.Context) string {
	s, _ := ctx.Value(clientAddrKey{}).(string)
	return s
}
