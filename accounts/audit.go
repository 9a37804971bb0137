package accounts

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// AuditPage is a page of the audit log, newest first; NextBefore continues
// it (0: the end).
type AuditPage struct {
	Entries    []*parley.AuditEntry `json:"entries"`
	NextBefore int64                `json:"next_before,omitempty"`
}

var auditName = regexp.MustCompile(`^[a-z_.]{0,64}$`)

// AuditLog returns a page of the audit log: administrators only.
func (s *Service) AuditLog(ctx context.Context, actor *parley.User, f parley.AuditFilter) (*AuditPage, error) {
	if !actor.IsAdmin() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only administrators can read the audit log")
	}
	if !auditName.MatchString(f.Action) {
		return nil, parley.Invalid("action", "action is a name such as contact.erased")
	}
	if !auditName.MatchString(f.TargetType) {
		return nil, parley.Invalid("target_type", "target_type is a name such as contact")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	list, err := s.store.AuditLog(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{Entries: list}
	if page.Entries == nil {
		page.Entries = []*parley.AuditEntry{}
	}
	if len(list) == f.Limit {
		page.NextBefore = list[len(list)-1].ID
	}
	return page, nil
}

// Audit log export formats.
const (
	ExportCSV   = "csv"
	ExportJSONL = "jsonl"
)

// CheckAuditExport checks an export before anything is written: only
// administrators, a known format, valid filters.
func (s *Service) CheckAuditExport(ctx context.Context, actor *parley.User, f parley.AuditFilter, format string) error {
	if !actor.IsAdmin() {
		return parley.Errorf(parley.EFORBIDDEN, "only administrators can export the audit log")
	}
	if format != ExportCSV && format != ExportJSONL {
		return parley.Invalid("format", "format is csv or jsonl")
	}
	if !auditName.MatchString(f.Action) {
		return parley.Invalid("action", "action is a name such as contact.erased")
	}
	if !auditName.MatchString(f.TargetType) {
		return parley.Invalid("target_type", "target_type is a name such as contact")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return parley.Invalid("since", "since must be before until")
	}
	return nil
}

// ExportAudit writes the audit log matching f, newest first, to w as CSV
// (a header row, then one row per entry) or JSON lines, page by page so
// that a log of any length streams in constant memory. Call
// CheckAuditExport first; an error after the first write means the
// download is incomplete. The export itself is audited.
func (s *Service) ExportAudit(ctx context.Context, actor *parley.User, f parley.AuditFilter, format string, w io.Writer) error {
	if err := s.CheckAuditExport(ctx, actor, f, format); err != nil {
		return err
	}
	if err := s.write(ctx, func(tx parley.Tx) error {
		return tx.Audit(ctx, parley.NewAudit(ctx, actor, s.now(), parley.AuditLogExported, "", 0, map[string]any{
			"format": format, "action": f.Action, "since": f.Since, "until": f.Until}))
	}); err != nil {
		return err
	}
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	if format == ExportCSV {
		cw = csv.NewWriter(w)
		cw.Write([]string{"id", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "detail", "client_addr"})
	}
	f.Limit, f.Before = 200, 0
	for {
		list, err := s.store.AuditLog(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range list {
			if cw != nil {
				cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.Format("2006-01-02T15:04:05.000Z07:00"), strconv.FormatInt(e.ActorID, 10),
					csvSafe(e.ActorName), e.Action, e.TargetType, strconv.FormatInt(e.TargetID, 10), string(e.Detail), e.ClientAddr})
			} else if err := enc.Encode(e); err != nil {
				return err
			}
		}
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if len(list) < f.Limit {
			return nil
		}
		f.Before = list[len(list)-1].ID
	}
}

// csvSafe keeps a spreadsheet from reading a name as a formula (CWE-1236).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
