package livechat

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// ProjectInput is a project's settings as an administrator edits them:
// every field is optional in a change.
type ProjectInput struct {
	Name           *string                `json:"name"`
	Origins        *[]string              `json:"origins" max:"100"`
	ChatEnabled    *bool                  `json:"chat_enabled"`
	Hours          *parley.WorkingHours   `json:"hours"`
	Messages       *parley.ChatMessages   `json:"messages"`
	Prechat        *[]parley.PrechatField `json:"prechat_fields" max:"20"`
	CaseTemplateID *int64                 `json:"case_template_id"`
	ReplyLimits    *parley.ReplyLimits    `json:"reply_limits"`
	// AttachmentLimits replace the project's per-channel attachment
	// limits (channels left out get their defaults back).
	AttachmentLimits *map[string]parley.AttachmentLimits `json:"attachment_limits" max:"20"`
	// Distribution replaces the project's distribution settings.
	Distribution *parley.Distribution `json:"distribution"`
	// RetentionDays: dialogs closed longer ago are deleted (0: never).
	RetentionDays *int `json:"retention_days"`
}

const maxText = 2000

func textField(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch n := utf8.RuneCountInString(v); {
	case !utf8.ValidString(v):
		return "", parley.Invalid(field, "%s is not valid UTF-8", field)
	case required && n == 0:
		return "", parley.Invalid(field, "%s is required", field)
	case n > max:
		return "", parley.Invalid(field, "%s has %d characters; the limit is %d", field, n, max)
	}
	return v, nil
}

// apply validates in and applies it to p; on error p may be half changed
// and must be discarded.
func (in *ProjectInput) apply(ctx context.Context, r parley.Reader, p *parley.Project) error {
	var err error
	if in.Name != nil {
		if p.Name, err = textField("name", *in.Name, 100, true); err != nil {
			return err
		}
	}
	if in.Origins != nil {
		if err := parley.AtMost("origins", len(*in.Origins), 100, "origins"); err != nil {
			return err
		}
		p.Origins = []string{}
		for _, o := range *in.Origins {
			o, err := normalizeOrigin(o)
			if err != nil {
				return err
			}
			p.Origins = append(p.Origins, o)
		}
	}
	if in.ChatEnabled != nil {
		p.ChatEnabled = *in.ChatEnabled
	}
	if in.RetentionDays != nil {
		if d := *in.RetentionDays; d < 0 || d > maxRetentionDays {
			return parley.Invalid("retention_days", "retention_days is a number of days from 0 (keep forever) to %d", maxRetentionDays)
		}
		p.RetentionDays = *in.RetentionDays
	}
	if in.Distribution != nil {
		d, err := validDistribution(ctx, r, p.ID, *in.Distribution)
		if err != nil {
			return err
		}
		p.Distribution = d
	}
	if in.ReplyLimits != nil {
		l := *in.ReplyLimits
		if err := parley.AtMost("reply_limits.channels", len(l.Channels), maxChannelKeys, "channels"); err != nil {
			return err
		}
		if err := validLimit("reply_limits", parley.ReplyLimit{Warn: l.Warn, Limit: l.Limit}); err != nil {
			return err
		}
		for ch, cl := range l.Channels {
			if !slices.Contains(parley.Channels, ch) {
				return parley.Invalid("reply_limits.channels", "there is no channel %q", ch)
			}
			if err := validLimit("reply_limits.channels."+ch, cl); err != nil {
				return err
			}
		}
		p.ReplyLimits = l
	}
	if in.AttachmentLimits != nil {
		limits := *in.AttachmentLimits
		if err := parley.AtMost("attachment_limits", len(limits), maxChannelKeys, "channels"); err != nil {
			return err
		}
		for ch, l := range limits {
			if _, known := parley.DefaultAttachmentLimits[ch]; !known && !slices.Contains(parley.Channels, ch) {
				return parley.Invalid("attachment_limits", "there is no channel %q", ch)
			}
			if l.Image < 0 || l.Audio < 0 || l.Video < 0 || l.Other < 0 {
				return parley.Invalid("attachment_limits."+ch, "a limit is a number of bytes, 0 for the server's own")
			}
		}
		if limits == nil {
			limits = map[string]parley.AttachmentLimits{}
		}
		p.AttachmentLimits = limits
	}
	if in.Hours != nil {
		if err := validHours(*in.Hours); err != nil {
			return err
		}
		p.Hours = *in.Hours
	}
	if in.Messages != nil {
		m := *in.Messages
		for _, f := range []struct {
			name string
			v    *string
		}{{"messages.greeting", &m.Greeting}, {"messages.offline", &m.Offline}, {"messages.waiting", &m.Waiting}} {
			if *f.v, err = textField(f.name, *f.v, maxText, false); err != nil {
				return err
			}
		}
		if len(m.Shortcuts) > 200 {
			return parley.Invalid("messages.shortcuts", "at most 200 shortcuts")
		}
		for i := range m.Shortcuts {
			sc := &m.Shortcuts[i]
			if sc.Name, err = textField("messages.shortcuts.name", sc.Name, 50, true); err != nil {
				return err
			}
			if sc.Text, err = textField("messages.shortcuts.text", sc.Text, maxText, true); err != nil {
				return err
			}
		}
		if m.Shortcuts == nil {
			m.Shortcuts = []parley.Shortcut{}
		}
		p.Messages = m
	}
	if in.Prechat != nil {
		fields := *in.Prechat
		if len(fields) > 20 {
			return parley.Invalid("prechat_fields", "at most 20 pre-chat fields")
		}
		seen := map[string]bool{}
		for i := range fields {
			f := &fields[i]
			if f.Name, err = textField("prechat_fields.name", f.Name, 50, true); err != nil {
				return err
			}
			if seen[f.Name] {
				return parley.Invalid("prechat_fields", "the field %q appears twice", f.Name)
			}
			seen[f.Name] = true
			if f.Label, err = textField("prechat_fields.label", f.Label, 100, true); err != nil {
				return err
			}
		}
		p.Prechat = append([]parley.PrechatField{}, fields...)
	}
	if in.CaseTemplateID != nil {
		if id := *in.CaseTemplateID; id != 0 {
			t, err := r.CaseTemplateByID(ctx, id)
			if err != nil {
				return parley.Invalid("case_template_id", "no such case template")
			}
			if t.Mandatory() {
				return parley.Invalid("case_template_id",
					"the template %q has mandatory fields that chat cannot fill; choose a template without mandatory fields", t.Name)
			}
		}
		p.CaseTemplateID = *in.CaseTemplateID
	}
	return nil
}

// normalizeOrigin accepts "https://shop.example[:port]" (or "*") and
// returns it in the form browsers send in the Origin header.
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.User != nil {
		return "", parley.Invalid("origins", "%q is not a website origin like https://shop.example", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func validHours(h parley.WorkingHours) error {
	if err := parley.AtMost("hours.days", len(h.Days), 50, "time ranges"); err != nil {
		return err
	}
	if h.TimeZone != "" {
		if _, err := time.LoadLocation(h.TimeZone); err != nil {
			return parley.Invalid("hours.time_zone", "unknown time zone %q", h.TimeZone)
		}
	}
	for _, d := range h.Days {
		_, e1 := time.Parse("15:04", d.From)
		_, e2 := time.Parse("15:04", d.To)
		if d.Weekday < 0 || d.Weekday > 6 || e1 != nil || e2 != nil || d.From >= d.To {
			return parley.Invalid("hours.days", "each day needs a weekday 0-6 and a time range like 09:00-18:00")
		}
	}
	return nil
}

// CreateProject creates a support line; chat is enabled and open at all
// hours until configured otherwise.
func (s *Service) CreateProject(ctx context.Context, actor *parley.User, in ProjectInput) (*parley.Project, error) {
	if in.Name == nil {
		return nil, parley.Invalid("name", "name is required")
	}
	p := &parley.Project{Key: randomHex(12), Secret: randomHex(32), ChatEnabled: true, Origins: []string{},
		Prechat: []parley.PrechatField{}, Messages: parley.ChatMessages{
			Greeting:  "Hello! How can we help you?",
			Offline:   "We are offline now. Leave a message and we will answer as soon as we can.",
			Waiting:   "Thank you! A consultant will answer in a moment.",
			Shortcuts: []parley.Shortcut{}}}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if err := in.apply(ctx, tx, p); err != nil {
			return err
		}
		return tx.CreateProject(ctx, p)
	})
	return p, err
}

// UpdateProject changes a project's settings.
func (s *Service) UpdateProject(ctx context.Context, actor *parley.User, id int64, in ProjectInput) (*parley.Project, error) {
	var p *parley.Project
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if p, err = tx.ProjectByID(ctx, id); err != nil {
			return err
		}
		if err := in.apply(ctx, tx, p); err != nil {
			return err
		}
		if err := tx.UpdateProject(ctx, p); err != nil {
			return err
		}
		// Those who manage live chat see settings change, and the
		// project's distribution, on whichever node, looks again.
		managers, err := tx.UsersWithRight(ctx, parley.RightChatSettings)
		if err != nil {
			return err
		}
		e := parley.NewEvent(parley.EventProjectUpdated, 0, 0, map[string]int64{"project_id": p.ID})
		e.Audience = append([]int64{}, managers...) // never nil: nil would be everyone
		tx.Emit(e)
		return nil
	})
	return p, err
}

// RotateSecret replaces the secret verified visitor ids are signed with.
func (s *Service) RotateSecret(ctx context.Context, actor *parley.User, id int64) (*parley.Project, error) {
	var p *parley.Project
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		var err error
		if p, err = tx.ProjectByID(ctx, id); err != nil {
			return err
		}
		p.Secret = randomHex(32)
		return tx.UpdateProject(ctx, p)
	})
	return p, err
}

// DeleteProject removes a project with its specialists, contacts and
// cases; its dialogs stay in the database, read-only.
func (s *Service) DeleteProject(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		return tx.DeleteProject(ctx, id)
	})
	s.forgetStaff(id)
	return err
}

// Project returns one project; its secret only to managers.
func (s *Service) Project(ctx context.Context, actor *parley.User, id int64) (*parley.Project, error) {
	p, err := s.store.ProjectByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return p, s.redact(ctx, actor, p)
}

// Projects lists every project to managers, and to others those they serve.
func (s *Service) Projects(ctx context.Context, actor *parley.User) ([]*parley.Project, error) {
	all, err := s.store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	if canManage(ctx, s.store, actor) == nil {
		return all, nil
	}
	roles, err := s.store.StaffRoles(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	out := []*parley.Project{}
	for _, p := range all {
		for _, r := range roles {
			if r.ProjectID == p.ID {
				p.Secret = ""
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (s *Service) redact(ctx context.Context, actor *parley.User, p *parley.Project) error {
	if canManage(ctx, s.store, actor) == nil {
		return nil
	}
	level, err := staffLevel(ctx, s.store, p.ID, actor.ID)
	if err != nil {
		return err
	}
	if level == 0 {
		return parley.Errorf(parley.ENOTFOUND, "project not found")
	}
	p.Secret = ""
	return nil
}

// MyProject is a project the user serves and their level in it.
type MyProject struct {
	Project *parley.Project `json:"project"`
	Level   int             `json:"level"`
}

// MyProjects lists the projects the actor serves as a specialist.
func (s *Service) MyProjects(ctx context.Context, actor *parley.User) ([]MyProject, error) {
	roles, err := s.store.StaffRoles(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	out := []MyProject{}
	for _, r := range roles {
		p, err := s.store.ProjectByID(ctx, r.ProjectID)
		if err != nil {
			return nil, err
		}
		p.Secret = ""
		out = append(out, MyProject{Project: p, Level: r.Level})
	}
	return out, nil
}

// Specialists lists a project's associations.
func (s *Service) Specialists(ctx context.Context, actor *parley.User, projectID int64) ([]*parley.Specialist, error) {
	if _, err := s.Project(ctx, actor, projectID); err != nil {
		return nil, err
	}
	list, err := s.store.Specialists(ctx, projectID)
	if list == nil {
		list = []*parley.Specialist{}
	}
	return list, err
}

// SpecialistInput associates a user or a group.
type SpecialistInput struct {
	UserID  int64 `json:"user_id"`
	GroupID int64 `json:"group_id"`
	Level   int   `json:"level"`
}

// AddSpecialist associates a user, or every member of a group, with a
// project at level 1 or 2.
func (s *Service) AddSpecialist(ctx context.Context, actor *parley.User, projectID int64, in SpecialistInput) (*parley.Specialist, error) {
	if (in.UserID == 0) == (in.GroupID == 0) {
		return nil, parley.Invalid("user_id", "give either user_id or group_id")
	}
	if in.Level != parley.Level1 && in.Level != parley.Level2 {
		return nil, parley.Invalid("level", "level must be 1 or 2")
	}
	sp := &parley.Specialist{ProjectID: projectID, UserID: in.UserID, GroupID: in.GroupID, Level: in.Level}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if _, err := tx.ProjectByID(ctx, projectID); err != nil {
			return err
		}
		if in.UserID != 0 {
			u, err := tx.UserByID(ctx, in.UserID)
			if err != nil || !u.Active {
				return parley.Invalid("user_id", "no such active user")
			}
			sp.Name = u.Name
		} else {
			g, err := tx.GroupByID(ctx, in.GroupID)
			if err != nil {
				return parley.Invalid("group_id", "no such group")
			}
			sp.Name = g.Name
		}
		return tx.AddSpecialist(ctx, sp)
	})
	s.forgetStaff(projectID)
	return sp, err
}

// EraseSpecialists removes the selected associations (seed 004: check the
// boxes, then Erase).
func (s *Service) EraseSpecialists(ctx context.Context, actor *parley.User, projectID int64, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, parley.Invalid("ids", "select the specialists to erase")
	}
	if err := parley.AtMost("ids", len(ids), maxDelete, "specialists at a time"); err != nil {
		return 0, err
	}
	var n int64
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if _, err := tx.ProjectByID(ctx, projectID); err != nil {
			return err
		}
		var err error
		n, err = tx.DeleteSpecialists(ctx, projectID, ids)
		return err
	})
	s.forgetStaff(projectID)
	return n, err
}

// TemplateInput is a case template as edited.
type TemplateInput struct {
	Name   string             `json:"name"`
	Fields []parley.CaseField `json:"fields" max:"50"`
}

func (in *TemplateInput) validate() error {
	var err error
	if in.Name, err = textField("name", in.Name, 100, true); err != nil {
		return err
	}
	if len(in.Fields) > 50 {
		return parley.Invalid("fields", "at most 50 fields")
	}
	seen := map[string]bool{}
	for i := range in.Fields {
		f := &in.Fields[i]
		if f.Name, err = textField("fields.name", f.Name, 50, true); err != nil {
			return err
		}
		if seen[f.Name] {
			return parley.Invalid("fields", "the field %q appears twice", f.Name)
		}
		seen[f.Name] = true
		if f.Label, err = textField("fields.label", f.Label, 100, true); err != nil {
			return err
		}
		if f.Default, err = textField("fields.default", f.Default, maxText, false); err != nil {
			return err
		}
	}
	if in.Fields == nil {
		in.Fields = []parley.CaseField{}
	}
	return nil
}

// CaseTemplates lists the templates: every one to those who manage live
// chat, and to a specialist those of the projects they serve, read only,
// so their cases can show the fields' labels. Anyone else is refused.
func (s *Service) CaseTemplates(ctx context.Context, actor *parley.User) ([]*parley.CaseTemplate, error) {
	manageErr := canManage(ctx, s.store, actor)
	var used map[int64]bool
	if manageErr != nil {
		roles, err := s.store.StaffRoles(ctx, actor.ID)
		if err != nil {
			return nil, err
		}
		if len(roles) == 0 {
			return nil, manageErr
		}
		used = map[int64]bool{}
		for _, r := range roles {
			p, err := s.store.ProjectByID(ctx, r.ProjectID)
			if err != nil {
				return nil, err
			}
			used[p.CaseTemplateID] = true
		}
	}
	all, err := s.store.CaseTemplates(ctx)
	if err != nil {
		return nil, err
	}
	list := []*parley.CaseTemplate{}
	for _, t := range all {
		if used == nil || used[t.ID] {
			list = append(list, t)
		}
	}
	return list, nil
}

// SaveCaseTemplate creates (id 0) or changes a template. A template a
// project uses cannot gain mandatory fields.
func (s *Service) SaveCaseTemplate(ctx context.Context, actor *parley.User, id int64, in TemplateInput) (*parley.CaseTemplate, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	t := &parley.CaseTemplate{ID: id, Name: in.Name, Fields: in.Fields}
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if id == 0 {
			return tx.CreateCaseTemplate(ctx, t)
		}
		old, err := tx.CaseTemplateByID(ctx, id)
		if err != nil {
			return err
		}
		t.CreatedAt = old.CreatedAt
		if t.Mandatory() {
			if p, err := projectUsing(ctx, tx, id); err != nil || p != nil {
				if p != nil {
					return parley.Invalid("fields", "the project %q uses this template for chat cases, which cannot have mandatory fields", p.Name)
				}
				return err
			}
		}
		return tx.UpdateCaseTemplate(ctx, t)
	})
	return t, err
}

// DeleteCaseTemplate removes a template no project uses.
func (s *Service) DeleteCaseTemplate(ctx context.Context, actor *parley.User, id int64) error {
	_, err := s.store.Write(ctx, func(tx parley.Tx) error {
		if err := canManage(ctx, tx, actor); err != nil {
			return err
		}
		if p, err := projectUsing(ctx, tx, id); err != nil || p != nil {
			if p != nil {
				return parley.Errorf(parley.ECONFLICT, "the project %q uses this template", p.Name)
			}
			return err
		}
		return tx.DeleteCaseTemplate(ctx, id)
	})
	return err
}

func projectUsing(ctx context.Context, r parley.Reader, templateID int64) (*parley.Project, error) {
	all, err := r.Projects(ctx)
	for _, p := range all {
		if p.CaseTemplateID == templateID {
			return p, nil
		}
	}
	return nil, err
}

// validLimit checks a pair of reply time limits: none (both zero), or a
// limit of at most 30 days with a warning before it (or none).
func validLimit(field string, l parley.ReplyLimit) error {
	const max = 30 * 24 * 3600
	switch {
	case l.Warn < 0 || l.Limit < 0 || l.Limit > max:
		return parley.Invalid(field, "reply time limits are between 0 and %d seconds", max)
	case l.Limit == 0 && l.Warn != 0:
		return parley.Invalid(field, "a warning needs a limit to warn before")
	case l.Warn >= l.Limit && l.Limit != 0:
		return parley.Invalid(field, "the warning (warn_s) comes before the limit (limit_s)")
	}
	return nil
}

// Bounds of the distribution's settings.
const (
	maxCapacity = 1000
	// maxChannelKeys bounds the maps keyed by channel kind (there are
	// fewer kinds; the cap answers before the kinds are checked).
	maxChannelKeys     = 20
	maxProjectCapacity = 1_000_000
)

// validDistribution checks distribution settings: a known policy, bounded
// capacities, and managers who serve the project.
func validDistribution(ctx context.Context, r parley.Reader, projectID int64, d parley.Distribution) (parley.Distribution, error) {
	if d.Policy == "" {
		d.Policy = parley.PolicyOff
	}
	if !slices.Contains(parley.Policies, d.Policy) {
		return d, parley.Invalid("distribution.policy", "policy is one of off, round_robin, fewest_open")
	}
	for _, f := range []struct {
		name     string
		v, limit int
	}{{"capacity", d.Capacity, maxCapacity}, {"project_capacity", d.ProjectCapacity, maxProjectCapacity}, {"burst", d.Burst, maxCapacity}} {
		if f.v < 0 || f.v > f.limit {
			return d, parley.Invalid("distribution."+f.name, "%s is from 0 (no limit) to %d", f.name, f.limit)
		}
	}
	var staff []parley.StaffRole
	if projectID != 0 {
		var err error
		if staff, err = r.ProjectStaff(ctx, projectID); err != nil {
			return d, err
		}
	}
	serves := func(id int64) bool {
		return slices.ContainsFunc(staff, func(s parley.StaffRole) bool { return s.UserID == id })
	}
	if err := parley.AtMost("distribution.managers", len(d.Managers), maxCapacity, "managers"); err != nil {
		return d, err
	}
	if err := parley.AtMost("distribution.channels", len(d.Channels), maxChannelKeys, "channels"); err != nil {
		return d, err
	}
	seen := map[int64]bool{}
	for _, m := range d.Managers {
		switch {
		case !serves(m.UserID):
			return d, parley.Invalid("distribution.managers", "user %d is not a specialist of this project", m.UserID)
		case seen[m.UserID]:
			return d, parley.Invalid("distribution.managers", "user %d is listed twice", m.UserID)
		case m.Capacity < 1 || m.Capacity > maxCapacity:
			return d, parley.Invalid("distribution.managers", "a manager's capacity is from 1 to %d", maxCapacity)
		}
		seen[m.UserID] = true
	}
	if d.Managers == nil {
		d.Managers = []parley.ManagerCapacity{}
	}
	if d.Channels == nil {
		d.Channels = map[string][]int64{}
	}
	for kind, ids := range d.Channels {
		if !slices.Contains(parley.Channels, kind) {
			return d, parley.Invalid("distribution.channels", "there is no channel %q", kind)
		}
		if len(ids) == 0 || len(ids) > maxCapacity {
			return d, parley.Invalid("distribution.channels", "%s lists from 1 to %d managers (leave it out for all)", kind, maxCapacity)
		}
		for _, id := range ids {
			if !serves(id) {
				return d, parley.Invalid("distribution.channels", "user %d is not a specialist of this project", id)
			}
		}
		ids = slices.Clone(ids)
		slices.Sort(ids)
		if len(slices.Compact(ids)) != len(d.Channels[kind]) {
			return d, parley.Invalid("distribution.channels", "%s lists a manager twice", kind)
		}
	}
	return d, nil
}
