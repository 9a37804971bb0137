package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// decodeJSON decodes a TEXT column; empty leaves v as it is.
func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// encodeJSON encodes v for a TEXT column (unlike jsonText, empty lists and
// maps are kept as such).
func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sqlstore: encoding " + err.Error()) // only domain types are stored
	}
	return string(b)
}

// Projects.

const projectCols = "id, name, key, secret, origins, chat_enabled, hours, messages, prechat, case_template_id, reply_limits, attachment_limits, created_at, updated_at, distribution, retention_days"

func scanProject(r scanner) (*parley.Project, error) {
	var p parley.Project
	var origins, hours, messages, prechat, limits, attach, dist string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.Name, &p.Key, &p.Secret, &origins, &p.ChatEnabled, &hours, &messages, &prechat,
		&p.CaseTemplateID, &limits, &attach, &created, &updated, &dist, &p.RetentionDays); err != nil {
		return nil, err
	}
	p.Origins, p.Prechat = []string{}, []parley.PrechatField{}
	for _, d := range []struct {
		s string
		v any
	}{{origins, &p.Origins}, {hours, &p.Hours}, {messages, &p.Messages}, {prechat, &p.Prechat}, {limits, &p.ReplyLimits},
		{attach, &p.AttachmentLimits}, {dist, &p.Distribution}} {
		if err := decodeJSON(d.s, d.v); err != nil {
			return nil, err
		}
	}
	attachmentLimits(&p)
	normalizeDistribution(&p.Distribution)
	p.CreatedAt, p.UpdatedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(updated)
	return &p, nil
}

func (q *q) ProjectByID(ctx context.Context, id int64) (*parley.Project, error) {
	rows, err := q.query(ctx, "SELECT "+projectCols+" FROM projects WHERE id = $1", id)
	return one(rows, err, scanProject, "project")
}

func (q *q) ProjectByKey(ctx context.Context, key string) (*parley.Project, error) {
	rows, err := q.query(ctx, "SELECT "+projectCols+" FROM projects WHERE key = $1", key)
	return one(rows, err, scanProject, "project")
}

func (q *q) Projects(ctx context.Context) ([]*parley.Project, error) {
	rows, err := q.query(ctx, "SELECT "+projectCols+" FROM projects ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanProject)
}

func (q *q) CreateProject(ctx context.Context, p *parley.Project) error {
	now := parley.Now()
	p.CreatedAt, p.UpdatedAt = now, now
	err := q.row(ctx, "project", `INSERT INTO projects (name, key, secret, origins, chat_enabled, hours, messages, prechat, case_template_id,
			reply_limits, attachment_limits, created_at, updated_at, distribution, retention_days)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) RETURNING id`,
		[]any{p.Name, p.Key, p.Secret, encodeJSON(p.Origins), p.ChatEnabled, encodeJSON(p.Hours), encodeJSON(p.Messages),
			encodeJSON(p.Prechat), p.CaseTemplateID, encodeJSON(p.ReplyLimits), encodeJSON(attachmentLimits(p)), parley.Millis(now),
			encodeJSON(normalizeDistribution(&p.Distribution)), p.RetentionDays}, &p.ID)
	return mapErr(err, "project")
}

func (q *q) UpdateProject(ctx context.Context, p *parley.Project) error {
	p.UpdatedAt = parley.Now()
	return q.execOne(ctx, "project", `UPDATE projects SET name = $2, secret = $3, origins = $4, chat_enabled = $5, hours = $6,
		messages = $7, prechat = $8, case_template_id = $9, updated_at = $10, reply_limits = $11,
		attachment_limits = $12, distribution = $13, retention_days = $14 WHERE id = $1`,
		p.ID, p.Name, p.Secret, encodeJSON(p.Origins), p.ChatEnabled, encodeJSON(p.Hours), encodeJSON(p.Messages),
		encodeJSON(p.Prechat), p.CaseTemplateID, parley.Millis(p.UpdatedAt), encodeJSON(p.ReplyLimits), encodeJSON(attachmentLimits(p)),
		encodeJSON(normalizeDistribution(&p.Distribution)), p.RetentionDays)
}

// normalizeDistribution gives d its defaults (policy off, empty lists),
// so a project stored before distribution existed reads like a new one.
func normalizeDistribution(d *parley.Distribution) *parley.Distribution {
	if d.Policy == "" {
		d.Policy = parley.PolicyOff
	}
	if d.Managers == nil {
		d.Managers = []parley.ManagerCapacity{}
	}
	if d.Channels == nil {
		d.Channels = map[string][]int64{}
	}
	return d
}

// attachmentLimits is p's, never nil: none is written and read as {}.
func attachmentLimits(p *parley.Project) map[string]parley.AttachmentLimits {
	if p.AttachmentLimits == nil {
		p.AttachmentLimits = map[string]parley.AttachmentLimits{}
	}
	return p.AttachmentLimits
}

func (q *q) DeleteProject(ctx context.Context, id int64) error {
	return q.execOne(ctx, "project", "DELETE FROM projects WHERE id = $1", id)
}

// Specialists.

func (q *q) Specialists(ctx context.Context, projectID int64) ([]*parley.Specialist, error) {
	rows, err := q.query(ctx, `SELECT s.id, s.project_id, s.user_id, s.group_id, s.level, s.created_at,
			COALESCE(u.name, g.name, '')
		FROM specialists s LEFT JOIN users u ON u.id = s.user_id LEFT JOIN user_groups g ON g.id = s.group_id
		WHERE s.project_id = $1 ORDER BY s.level, s.id`, projectID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*parley.Specialist, error) {
		var s parley.Specialist
		var created int64
		err := r.Scan(&s.ID, &s.ProjectID, &s.UserID, &s.GroupID, &s.Level, &created, &s.Name)
		s.CreatedAt = parley.TimeFromMillis(created)
		return &s, err
	})
}

func (q *q) AddSpecialist(ctx context.Context, s *parley.Specialist) error {
	s.CreatedAt = parley.Now()
	err := q.row(ctx, "specialist", `INSERT INTO specialists (project_id, user_id, group_id, level, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		[]any{s.ProjectID, s.UserID, s.GroupID, s.Level, parley.Millis(s.CreatedAt)}, &s.ID)
	return mapErr(err, "this specialist association")
}

func (q *q) DeleteSpecialists(ctx context.Context, projectID int64, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := q.exec(ctx, "DELETE FROM specialists WHERE project_id = $1 AND id IN ("+placeholders(2, len(ids))+")",
		append([]any{projectID}, int64Args(ids)...)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q *q) staffRoles(ctx context.Context, where string, arg int64) ([]parley.StaffRole, error) {
	rows, err := q.query(ctx, "SELECT project_id, user_id, MIN(level) FROM project_staff WHERE "+where+
		" GROUP BY project_id, user_id ORDER BY project_id, user_id", arg)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (parley.StaffRole, error) {
		var s parley.StaffRole
		return s, r.Scan(&s.ProjectID, &s.UserID, &s.Level)
	})
}

func (q *q) StaffRoles(ctx context.Context, userID int64) ([]parley.StaffRole, error) {
	return q.staffRoles(ctx, "user_id = $1", userID)
}

func (q *q) ProjectStaff(ctx context.Context, projectID int64) ([]parley.StaffRole, error) {
	return q.staffRoles(ctx, "project_id = $1", projectID)
}

// Contacts.

const contactCols = "id, project_id, external_id, name, email, phone, page_url, referrer, utm_source, attributes, created_at, last_seen_at, blocked, channel_id, address, erased_at"

func scanContact(r scanner) (*parley.Contact, error) {
	var c parley.Contact
	var ext *string
	var attrs string
	var created, seen, erased int64
	if err := r.Scan(&c.ID, &c.ProjectID, &ext, &c.Name, &c.Email, &c.Phone, &c.PageURL, &c.Referrer, &c.UTMSource,
		&attrs, &created, &seen, &c.Blocked, &c.ChannelID, &c.Address, &erased); err != nil {
		return nil, err
	}
	if ext != nil {
		c.ExternalID = *ext
	}
	if err := decodeJSON(attrs, &c.Attributes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastSeenAt, c.ErasedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(seen), parley.TimeFromMillis(erased)
	return &c, nil
}

func (q *q) ContactByID(ctx context.Context, id int64) (*parley.Contact, error) {
	rows, err := q.query(ctx, "SELECT "+contactCols+" FROM contacts WHERE id = $1", id)
	return one(rows, err, scanContact, "contact")
}

func (q *q) ContactByExternalID(ctx context.Context, projectID int64, externalID string) (*parley.Contact, error) {
	rows, err := q.query(ctx, "SELECT "+contactCols+" FROM contacts WHERE project_id = $1 AND external_id = $2", projectID, externalID)
	return one(rows, err, scanContact, "contact")
}

func (q *q) ContactByAddress(ctx context.Context, channelID int64, address string) (*parley.Contact, error) {
	rows, err := q.query(ctx, "SELECT "+contactCols+" FROM contacts WHERE channel_id = $1 AND address = $2 AND channel_id <> 0", channelID, address)
	return one(rows, err, scanContact, "contact")
}

func (q *q) Contacts(ctx context.Context, ids []int64) (map[int64]*parley.Contact, error) {
	out := make(map[int64]*parley.Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, "SELECT "+contactCols+" FROM contacts WHERE id IN ("+placeholders(1, len(ids))+")", int64Args(ids)...)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanContact)
	for _, c := range list {
		out[c.ID] = c
	}
	return out, err
}

func (q *q) CreateContact(ctx context.Context, c *parley.Contact) error {
	now := parley.Now()
	c.CreatedAt, c.LastSeenAt = now, now
	err := q.row(ctx, "contact", `INSERT INTO contacts (project_id, external_id, name, email, phone, page_url, referrer, utm_source, attributes,
			created_at, last_seen_at, channel_id, address)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12) RETURNING id`,
		[]any{c.ProjectID, nullString(c.ExternalID), c.Name, c.Email, c.Phone, c.PageURL, c.Referrer, c.UTMSource,
			encodeJSON(c.Attributes), parley.Millis(now), c.ChannelID, c.Address}, &c.ID)
	return mapErr(err, "contact")
}

func (q *q) UpdateContact(ctx context.Context, c *parley.Contact) error {
	return q.execOne(ctx, "contact", `UPDATE contacts SET name = $2, email = $3, phone = $4, page_url = $5, referrer = $6,
		utm_source = $7, attributes = $8, last_seen_at = $9, blocked = $10 WHERE id = $1`,
		c.ID, c.Name, c.Email, c.Phone, c.PageURL, c.Referrer, c.UTMSource, encodeJSON(c.Attributes), parley.Millis(c.LastSeenAt), c.Blocked)
}

// Dialogs (support conversations).

func (q *q) LastDialog(ctx context.Context, contactID int64) (*parley.Conversation, error) {
	// "<> 0" lets the planner use the partial index conversations_contact:
	// neither SQLite nor a generic PostgreSQL plan infers it from "= $1".
	rows, err := q.query(ctx, "SELECT "+convCols+" FROM conversations c WHERE c.contact_id = $1 AND c.contact_id <> 0 ORDER BY c.id DESC LIMIT 1", contactID)
	return one(rows, err, scanConv, "conversation")
}

// Dialogs lists support conversations in one of two orders, each total
// (ties broken by id) so that a cursor never skips or repeats a dialog:
// by last activity, newest first; or for processing, the dialogs waiting
// for a reply first (longest waiting at the top), then the others by last
// activity. A page costs at most two queries, whatever its size.
func (q *q) Dialogs(ctx context.Context, f parley.DialogFilter) ([]*parley.Conversation, string, error) {
	if f.ProjectIDs != nil && len(f.ProjectIDs) == 0 {
		return nil, "", nil
	}
	n := limit(f.Limit, 100, 1000)
	seg, at, id := "", int64(0), int64(0) // where the cursor points
	if f.Cursor != "" {
		key, cid, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		seg, key = "a", strings.TrimPrefix(key, "a")
		if w, ok := strings.CutPrefix(key, "w"); ok {
			if f.Sort != parley.SortProcessing {
				return nil, "", parley.Invalid("cursor", "this cursor is for the processing order")
			}
			seg, key = "w", w
		}
		if at, err = strconv.ParseInt(key, 10, 64); err != nil {
			return nil, "", parley.Invalid("cursor", "invalid cursor")
		}
		id = cid
	}
	drive, err := q.rareTag(ctx, f)
	if err != nil {
		return nil, "", err
	}
	var out []*parley.Conversation
	// Closed dialogs, and those a manager answered last, wait for nobody:
	// their processing order is the activity order.
	maybeWaiting := f.Status != parley.SupportClosed && f.LastFrom != parley.FromManager
	if f.Sort == parley.SortProcessing && seg != "a" && maybeWaiting {
		b := dialogQuery(f, drive)
		b.where("c.waiting_since <> 0")
		if seg == "w" {
			b.where("(c.waiting_since > " + b.arg(at) + " OR (c.waiting_since = " + b.arg(at) + " AND c.id > " + b.arg(id) + "))")
		}
		page, err := q.dialogPage(ctx, b, " ORDER BY c.waiting_since, c.id", n+1)
		if err != nil {
			return nil, "", err
		}
		out = page
		seg, at, id = "", 0, 0 // the answered ones follow from their start
	}
	if len(out) <= n {
		b := dialogQuery(f, drive)
		if f.Sort == parley.SortProcessing {
			b.where("c.waiting_since = 0")
		}
		if seg == "a" {
			b.where("(c.activity_at < " + b.arg(at) + " OR (c.activity_at = " + b.arg(at) + " AND c.id < " + b.arg(id) + "))")
		}
		page, err := q.dialogPage(ctx, b, " ORDER BY c.activity_at DESC, c.id DESC", n+1-len(out))
		if err != nil {
			return nil, "", err
		}
		out = append(out, page...)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	last := out[n-1]
	if f.Sort == parley.SortProcessing && !last.Support.WaitingSince.IsZero() {
		return out, encodeCursor("w"+strconv.FormatInt(parley.Millis(last.Support.WaitingSince), 10), last.ID), nil
	}
	return out, encodeCursor("a"+strconv.FormatInt(parley.Millis(last.Support.ActivityAt), 10), last.ID), nil
}

func (q *q) dialogPage(ctx context.Context, b *sqlBuilder, order string, n int) ([]*parley.Conversation, error) {
	rows, err := q.adhoc(ctx, b.sql+order+limitRows(n), b.args...)
	if err != nil {
		return nil, err
	}
	page, err := collect(rows, scanConv)
	if len(page) > n {
		page = page[:n]
	}
	return page, err
}

// rareTagCustomers is how few customers a tag must have for the list to be
// read from the tag's customers rather than along the order's index.
var rareTagCustomers int64 = 2000

// rareTag returns the filter's tag with the fewest customers (who pinned
// it, with f.Pinned) if it has
// fewer than rareTagCustomers, else 0. Walking the order's index and
// testing each dialog finds a page at once when the tag is common, but
// reads every dialog when it is rare; starting from a rare tag's customers
// and sorting their dialogs is then cheaper. Each probe reads at most
// rareTagCustomers entries of the tag's index.
func (q *q) rareTag(ctx context.Context, f parley.DialogFilter) (int64, error) {
	best, fewest := int64(0), rareTagCustomers
	pinned := ""
	if f.Pinned {
		pinned = " AND pinned = TRUE"
	}
	for _, tag := range f.TagIDs {
		var n int64
		err := q.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM contact_tags WHERE tag_id = $1"+pinned+" LIMIT "+
			strconv.FormatInt(rareTagCustomers, 10)+") t", tag).Scan(&n)
		if err != nil {
			return 0, err
		}
		if n < fewest {
			best, fewest = tag, n
		}
	}
	return best, nil
}

// dialogQuery selects the dialogs f filters, without order or cursor; with
// drive, from that tag's customers first (see rareTag).
func dialogQuery(f parley.DialogFilter, drive int64) *sqlBuilder {
	b := &sqlBuilder{sql: "SELECT " + convCols + " FROM conversations c WHERE c.project_id <> 0"}
	if drive != 0 {
		// The tag's customers first, then their dialogs: a materialized
		// CTE keeps PostgreSQL from walking the order's index and probing
		// the tag for each dialog instead (its plan for the actual values,
		// which it makes for a prepared statement's first five runs, did
		// that: 17,736 probes and two parallel workers, 150 ms), and CROSS
		// JOIN keeps SQLite from reordering.
		pinned := ""
		if f.Pinned {
			pinned = " AND pinned = TRUE"
		}
		b.sql = "WITH d AS MATERIALIZED (SELECT contact_id FROM contact_tags WHERE tag_id = " + b.arg(drive) + pinned + ") " +
			"SELECT " + convCols + " FROM d CROSS JOIN conversations c WHERE c.contact_id = d.contact_id AND c.contact_id <> 0 AND c.project_id <> 0"
	}
	if f.ProjectIDs != nil {
		b.in("c.project_id", int64Args(f.ProjectIDs))
	}
	if f.Viewer != 0 {
		b.where("NOT EXISTS (SELECT 1 FROM dialog_revoked r WHERE r.conversation_id = c.id AND r.user_id = " + b.arg(f.Viewer) + ")")
	}
	if f.ContactID != 0 {
		b.where("c.contact_id = " + b.arg(f.ContactID) + " AND c.contact_id <> 0") // see LastDialog
	}
	if f.UserID != 0 {
		// Dialogs the user connected to: their "connected" system lines.
		line := `%"action":"connected","actor_id":` + strconv.FormatInt(f.UserID, 10)
		b.where("c.id IN (SELECT conversation_id FROM messages WHERE kind = 'event' AND (event LIKE " + b.arg(line+",%") +
			" OR event LIKE " + b.arg(line+"}%") + "))")
	}
	if f.Assignees != nil {
		b.in("c.assignee_id", int64Args(f.Assignees))
	}
	if f.Bots {
		b.where("c.assignee_id IN (SELECT id FROM users WHERE bot)")
	}
	if f.Channels != nil {
		vals := make([]any, len(f.Channels))
		for i, ch := range f.Channels {
			vals[i] = ch
		}
		b.in("c.channel", vals)
	}
	if f.Status != "" {
		b.where("c.status = " + b.arg(f.Status))
	}
	if f.LastFrom != "" {
		b.where("c.last_from = " + b.arg(f.LastFrom))
	}
	pinned := ""
	if f.Pinned {
		pinned = " AND t.pinned = TRUE"
	}
	for _, tag := range f.TagIDs {
		if tag == drive {
			continue
		}
		b.where("EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id AND t.tag_id = " + b.arg(tag) + pinned + ")")
	}
	switch {
	case f.NoTags:
		b.where("NOT EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id" + pinned + ")")
	case f.Pinned && len(f.TagIDs) == 0:
		b.where("EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.contact_id" + pinned + ")")
	}
	if f.UnreadFor != 0 {
		u := b.arg(f.UnreadFor)
		// A member's unread is their read pointer's; a viewer's, the
		// unanswered messages since they last read it (DialogView).
		b.where("(EXISTS (SELECT 1 FROM members m WHERE m.conversation_id = c.id AND m.user_id = " + u +
			" AND (m.marked_unread = TRUE OR m.read_seq < c.last_seq))" +
			" OR (NOT EXISTS (SELECT 1 FROM members m WHERE m.conversation_id = c.id AND m.user_id = " + u + ")" +
			" AND (EXISTS (SELECT 1 FROM dialog_views v WHERE v.user_id = " + u + " AND v.conversation_id = c.id" +
			" AND (v.marked_unread = TRUE OR (c.unanswered > 0 AND v.read_seq < c.last_seq)))" +
			" OR (c.unanswered > 0 AND NOT EXISTS (SELECT 1 FROM dialog_views v WHERE v.user_id = " + u + " AND v.conversation_id = c.id)))))")
	}
	if !f.From.IsZero() {
		b.where("c.created_at >= " + b.arg(parley.Millis(f.From)))
	}
	if !f.To.IsZero() {
		b.where("c.created_at < " + b.arg(parley.Millis(f.To)))
	}
	return b
}

func (q *q) LockContacts(ctx context.Context, ids ...int64) error {
	lock := q.s.dialect.forUpdate()
	if lock == "" || len(ids) == 0 {
		return nil // SQLite's one writer needs no locks
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return q.multi(ctx, len(ids), ints(1), func(rows string) string {
		return "SELECT id FROM contacts WHERE id IN (SELECT column1 FROM (" + rows + ") v) ORDER BY id" + lock
	}, func(dst []any, i int) []any { return append(dst, ids[i]) }, func(*sql.Rows) error { return nil })
}

func (q *q) SetContactRead(ctx context.Context, convID, seq int64) error {
	if err := q.lockConversations(ctx, convID); err != nil {
		return err
	}
	_, err := q.exec(ctx, "UPDATE conversations SET contact_read_seq = $2 WHERE id = $1 AND contact_read_seq < $2", convID, seq)
	return err
}

// SupportMessages returns every message of the given conversations, by
// conversation and seq: what metrics and transcripts are made of.
func (q *q) SupportMessages(ctx context.Context, convIDs []int64) ([]*parley.Message, error) {
	if len(convIDs) == 0 {
		return nil, nil
	}
	rows, err := q.query(ctx, "SELECT "+msgCols+" FROM messages m WHERE m.conversation_id IN ("+placeholders(1, len(convIDs))+
		") ORDER BY m.conversation_id, m.seq", int64Args(convIDs)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMessage)
}

// Case templates.

func scanTemplate(r scanner) (*parley.CaseTemplate, error) {
	var t parley.CaseTemplate
	var fields string
	var created int64
	if err := r.Scan(&t.ID, &t.Name, &fields, &created); err != nil {
		return nil, err
	}
	t.Fields = []parley.CaseField{}
	t.CreatedAt = parley.TimeFromMillis(created)
	return &t, decodeJSON(fields, &t.Fields)
}

func (q *q) CaseTemplates(ctx context.Context) ([]*parley.CaseTemplate, error) {
	rows, err := q.query(ctx, "SELECT id, name, fields, created_at FROM case_templates ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTemplate)
}

func (q *q) CaseTemplateByID(ctx context.Context, id int64) (*parley.CaseTemplate, error) {
	rows, err := q.query(ctx, "SELECT id, name, fields, created_at FROM case_templates WHERE id = $1", id)
	return one(rows, err, scanTemplate, "case template")
}

func (q *q) CreateCaseTemplate(ctx context.Context, t *parley.CaseTemplate) error {
	t.CreatedAt = parley.Now()
	return q.row(ctx, "case template", "INSERT INTO case_templates (name, fields, created_at) VALUES ($1, $2, $3) RETURNING id",
		[]any{t.Name, encodeJSON(t.Fields), parley.Millis(t.CreatedAt)}, &t.ID)
}

func (q *q) UpdateCaseTemplate(ctx context.Context, t *parley.CaseTemplate) error {
	return q.execOne(ctx, "case template", "UPDATE case_templates SET name = $2, fields = $3 WHERE id = $1", t.ID, t.Name, encodeJSON(t.Fields))
}

func (q *q) DeleteCaseTemplate(ctx context.Context, id int64) error {
	return q.execOne(ctx, "case template", "DELETE FROM case_templates WHERE id = $1", id)
}

// Cases.

// project_id is NULL for a task in no project (read as 0).
const caseCols = "id, COALESCE(project_id, 0), conversation_id, contact_id, source, status, title, description, fields, created_by, created_at, closed_at, closed_by, " +
	"kind, assignee_id, due_at, due_fired_at, parent_id, updated_at"

func scanCase(r scanner) (*parley.Case, error) {
	var c parley.Case
	var fields string
	var created, closed, due, fired, updated int64
	if err := r.Scan(&c.ID, &c.ProjectID, &c.ConversationID, &c.ContactID, &c.Source, &c.Status, &c.Title, &c.Description,
		&fields, &c.CreatedBy, &created, &closed, &c.ClosedBy, &c.Kind, &c.AssigneeID, &due, &fired, &c.ParentID, &updated); err != nil {
		return nil, err
	}
	c.Fields = map[string]string{}
	c.CreatedAt, c.ClosedAt = parley.TimeFromMillis(created), parley.TimeFromMillis(closed)
	c.DueAt, c.DueFiredAt, c.UpdatedAt = parley.TimeFromMillis(due), parley.TimeFromMillis(fired), parley.TimeFromMillis(updated)
	return &c, decodeJSON(fields, &c.Fields)
}

func (q *q) CaseByID(ctx context.Context, id int64) (*parley.Case, error) {
	rows, err := q.query(ctx, "SELECT "+caseCols+" FROM cases WHERE id = $1", id)
	return one(rows, err, scanCase, "case")
}

func (q *q) OpenCaseOf(ctx context.Context, convID int64, source string) (*parley.Case, error) {
	rows, err := q.query(ctx, "SELECT "+caseCols+" FROM cases WHERE conversation_id = $1 AND source = $2 AND status = 'open' ORDER BY id DESC LIMIT 1",
		convID, source)
	return one(rows, err, scanCase, "case")
}

func (q *q) Cases(ctx context.Context, f parley.CaseFilter) ([]*parley.Case, error) {
	if len(f.ProjectIDs) == 0 {
		return nil, nil
	}
	args := int64Args(f.ProjectIDs)
	query := "SELECT " + caseCols + " FROM cases WHERE project_id IN (" + placeholders(1, len(args)) + ")"
	if f.Status != "" {
		args = append(args, f.Status)
		query += " AND status = $" + strconv.Itoa(len(args))
	}
	if f.ContactID != 0 {
		args = append(args, f.ContactID)
		query += " AND contact_id = $" + strconv.Itoa(len(args))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		query += " AND id < $" + strconv.Itoa(len(args))
	}
	if f.Viewer != 0 {
		args = append(args, f.Viewer)
		query += " AND NOT EXISTS (SELECT 1 FROM dialog_revoked r WHERE r.conversation_id = cases.conversation_id AND r.user_id = $" +
			strconv.Itoa(len(args)) + ")"
	}
	args = append(args, limit(f.Limit, 100, 500))
	query += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCase)
}

func (q *q) CreateCase(ctx context.Context, c *parley.Case) error {
	c.CreatedAt = parley.Now()
	if c.Kind == "" {
		c.Kind = parley.KindCase
	}
	var project any // NULL: a task in no project
	if c.ProjectID != 0 {
		project = c.ProjectID
	}
	return q.row(ctx, "case", `INSERT INTO cases (project_id, conversation_id, contact_id, source, status, title, description, fields, created_by, created_at,
		kind, assignee_id, due_at, parent_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		[]any{project, c.ConversationID, c.ContactID, c.Source, c.Status, c.Title, c.Description, encodeJSON(c.Fields),
			c.CreatedBy, parley.Millis(c.CreatedAt), c.Kind, c.AssigneeID, parley.Millis(c.DueAt), c.ParentID, parley.Millis(c.UpdatedAt)}, &c.ID)
}

func (q *q) UpdateCase(ctx context.Context, c *parley.Case) error {
	return q.execOne(ctx, "case", `UPDATE cases SET status = $2, title = $3, fields = $4, closed_at = $5, closed_by = $6,
		description = $7, assignee_id = $8, due_at = $9, due_fired_at = $10, updated_at = $11 WHERE id = $1`,
		c.ID, c.Status, c.Title, encodeJSON(c.Fields), parley.Millis(c.ClosedAt), c.ClosedBy,
		c.Description, c.AssigneeID, parley.Millis(c.DueAt), parley.Millis(c.DueFiredAt), parley.Millis(c.UpdatedAt))
}

func (q *q) CaseComments(ctx context.Context, caseID int64) ([]*parley.CaseComment, error) {
	rows, err := q.query(ctx, "SELECT id, case_id, author_id, contact_id, text, created_at, message_id, conversation_id FROM case_comments WHERE case_id = $1 ORDER BY id", caseID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*parley.CaseComment, error) {
		var c parley.CaseComment
		var at int64
		err := r.Scan(&c.ID, &c.CaseID, &c.AuthorID, &c.ContactID, &c.Text, &at, &c.MessageID, &c.ConversationID)
		c.CreatedAt = parley.TimeFromMillis(at)
		return &c, err
	})
}

func (q *q) AddCaseComment(ctx context.Context, c *parley.CaseComment) error {
	c.CreatedAt = parley.Now()
	return q.row(ctx, "comment", `INSERT INTO case_comments (case_id, author_id, contact_id, text, created_at, message_id, conversation_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, []any{c.CaseID, c.AuthorID, c.ContactID, c.Text, parley.Millis(c.CreatedAt),
		c.MessageID, c.ConversationID}, &c.ID)
}

// Ratings.

func scanRating(r scanner) (*parley.Rating, error) {
	var x parley.Rating
	var at int64
	err := r.Scan(&x.ConversationID, &x.ContactID, &x.Score, &x.Comment, &at)
	x.CreatedAt = parley.TimeFromMillis(at)
	return &x, err
}

func (q *q) Ratings(ctx context.Context, convIDs []int64) (map[int64]*parley.Rating, error) {
	out := make(map[int64]*parley.Rating, len(convIDs))
	if len(convIDs) == 0 {
		return out, nil
	}
	rows, err := q.query(ctx, "SELECT conversation_id, contact_id, score, comment, created_at FROM ratings WHERE conversation_id IN ("+
		placeholders(1, len(convIDs))+")", int64Args(convIDs)...)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanRating)
	for _, r := range list {
		out[r.ConversationID] = r
	}
	return out, err
}

func (q *q) PutRating(ctx context.Context, projectID int64, r *parley.Rating) error {
	r.CreatedAt = parley.Now()
	_, err := q.exec(ctx, `INSERT INTO ratings (conversation_id, contact_id, project_id, score, comment, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ConversationID, r.ContactID, projectID, r.Score, r.Comment, parley.Millis(r.CreatedAt))
	return mapErr(err, "rating")
}

// one scans the single row of rows; none is ENOTFOUND.
func one[T any](rows interface {
	Next() bool
	Err() error
	Close() error
	Scan(...any) error
}, err error, scan func(scanner) (T, error), what string) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return zero, err
		}
		return zero, parley.Errorf(parley.ENOTFOUND, "%s not found", what)
	}
	return scan(rows)
}
