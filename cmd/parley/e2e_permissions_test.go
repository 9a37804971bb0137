package main

// The permission matrix (issue 13): every route of the API, asked by every
// kind of caller, about something of their own, a colleague's and another
// project's, against the answer it must give. A route the server serves
// without an entry below fails the test, and so does an entry without a
// route; every refusal is checked to carry its documented error code and
// to have changed nothing in the database.
//
// # The table
//
// One line per route: its key as the route table spells it ("METHOD
// /path/{param}"), what its {id} names (a kind of the world below: user,
// token, group, conv, msg, file, project, template, dialog, case, contact,
// tag, qr, channel, webhook, vfile, line; or "" for none), a grid of the
// expected answers, and the request body (nil, a value, "raw" for a few
// bytes, or a func(*permCell) any that builds it per cell). Optional
// fields: query (the query string; {id} is filled as in the path), fresh
// (each allowed cell acts on a new resource of the kind, for routes that
// destroy or re-shape what they act on), freshActor (each allowed cell uses
// a new session of the caller: signing out) and prep (run before each
// allowed cell).
//
// The grid has one group per caller, in this order:
//
//	admin supervisor agent member bot visitor none
//
// "none" sends no credentials; "visitor" sends a visitor token of project A;
// the bot is an API-token user serving project A at level 1, as the agent
// does. Widget routes are called with the shop's Origin whoever calls, so
// the answer is about the credentials. A group is one letter when the route
// is about nothing anyone owns (or about yourself), else three, about:
//
//   - your own: your conversation, message, file, token, quick reply; the
//     agent's dialog in project A (its case, its customer); project A;
//   - a colleague's: in team chat, the colleague's message or file in your
//     conversation, or their conversation, token, quick reply; in live
//     chat, a dialog of project A the agent had and that was then
//     reassigned to the colleague (so the agent may no longer see it, and
//     the bot sees a colleague's dialog); for project-scoped kinds
//     (projects, channels, webhooks) project A's again;
//   - another project's: project B's; for team chat routes the
//     conversation of a project B dialog, the B agent's line and the B
//     customer's file in it, or the B agent's token and quick reply.
//
//	A  allowed: 2xx, or a 4xx that is not a refusal (400, 409, 413, 426)
//	U  401 unauthorized
//	F  403 forbidden
//	N  404 not_found (also for what the caller may not know exists)
//
// Adding a route is adding one line (docs/api.md says which refusal is
// which), e.g.
//
//	{key: "GET /api/v1/things/{id}", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU"},
//	{key: "POST /api/v1/me/things", grid: staffOnly, body: map[string]any{"name": "x"}},
//
// Shorthands for common grids are below (staffOnly, managers, ...).
//
// Every route's refusals run first, on the world as it was made, with a
// fingerprint of every table (permDB) after each route's, which must equal
// the one before; then the allowed cells. No answer may show a private team
// chat's text, project B's customer's to anyone but managers, or a dialog
// reassigned away from the agent to the agent.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/sqlstore"
)

// Callers, in the grid's order.
var permCallers = []string{"admin", "supervisor", "agent", "member", "bot", "visitor", "none"}

// Ownerships, in the grid's order.
var permOwnerships = []string{"own", "colleague", "other"}

// Common grids.
const (
	anyone       = "A A A A A A A"
	staffOnly    = "A A A A A U U" // any signed-in user, about themselves or the organisation
	managers     = "A A F F F U U" // the chat settings right (admins, supervisors)
	usersManage  = "A F F F F U U" // the users.manage right (admins)
	visitorsOnly = "U U U U U A U"
	// Services calling a channel's webhook authenticate themselves with the
	// channel's secret, never a user's token.
	serviceOnly = "UUU UUU UUU UUU UUU UUU UUU"
)

type permEntry struct {
	key        string
	kind       string // what {id} names; "" for none
	query      string // the query string, with {id} filled as in the path
	grid       string
	body       any
	fresh      bool
	freshActor bool
	prep       func(*permCell) // run before each allowed cell
}

// tagContact puts the shared tag on the cell's contact.
func tagContact(c *permCell) {
	c.w.callers["admin"].do("PUT", fmt.Sprintf("/api/v1/contacts/%d/tags/%d", c.id, c.w.tag), map[string]any{"pinned": false}).want(http.StatusOK)
}

// permTable is the matrix. Keep it in route-table order.
var permTable = []permEntry{
	// Accounts.
	{key: "GET /api/v1/openapi.json", grid: anyone},
	{key: "GET /api/v1/setup", grid: anyone},
	{key: "POST /api/v1/setup", grid: anyone, body: map[string]any{"email": "late@example.com", "name": "Late", "password": testPassword}},
	{key: "POST /api/v1/auth/login", grid: anyone, body: func(c *permCell) any {
		return map[string]any{"email": c.w.spare.user.Email, "password": testPassword}
	}},
	{key: "POST /api/v1/auth/logout", grid: staffOnly, freshActor: true},
	{key: "GET /api/v1/me", grid: staffOnly},
	{key: "PATCH /api/v1/me", grid: staffOnly, body: func(c *permCell) any { return map[string]any{"name": c.actor.user.Name} }},
	{key: "GET /api/v1/me/unread", grid: staffOnly},
	{key: "GET /api/v1/me/settings", grid: staffOnly},
	{key: "PUT /api/v1/me/settings", grid: staffOnly, body: map[string]any{}},
	{key: "GET /api/v1/me/tokens", grid: staffOnly},
	{key: "POST /api/v1/me/tokens", grid: staffOnly, body: map[string]any{"name": "script"}},
	{key: "DELETE /api/v1/me/tokens/{id}", kind: "token", grid: "ANN ANN ANN ANN ANN UUU UUU", fresh: true},
	{key: "POST /api/v1/me/tokens/sign-out-others", grid: staffOnly},
	{key: "POST /api/v1/me/password", grid: staffOnly, body: map[string]any{"current_password": "not it", "password": "a new password"}},
	{key: "GET /api/v1/me/two-factor", grid: staffOnly},
	// Bots sign in with tokens: they have no second factor to set up.
	{key: "POST /api/v1/me/two-factor/setup", grid: "A A A A F U U"},
	{key: "POST /api/v1/me/two-factor/enable", grid: staffOnly, body: map[string]any{"code": "000000"}},
	{key: "POST /api/v1/me/two-factor/disable", grid: staffOnly, body: map[string]any{"password": testPassword, "code": "000000"}},
	{key: "GET /api/v1/security", grid: staffOnly},
	{key: "PUT /api/v1/security", grid: usersManage, body: map[string]any{"require_admin_two_factor": false}},
	{key: "GET /api/v1/config", grid: staffOnly},
	{key: "GET /api/v1/users", grid: staffOnly},
	{key: "POST /api/v1/users", grid: usersManage, body: func(c *permCell) any {
		return map[string]any{"email": c.w.unique("new") + "@example.com", "name": "New", "password": testPassword, "role": "member"}
	}},
	{key: "GET /api/v1/users/{id}", kind: "user", grid: "AAA AAA AAA AAA AAA UUU UUU"},
	// Your own name is yours to change (PATCH /me); your status is not.
	{key: "PATCH /api/v1/users/{id}", kind: "user", grid: "AAA FFF FFF FFF FFF UUU UUU", body: map[string]any{"active": true}},
	{key: "GET /api/v1/groups", grid: staffOnly},
	{key: "POST /api/v1/groups", grid: usersManage, body: func(c *permCell) any { return map[string]any{"name": c.w.unique("Group")} }},
	{key: "PUT /api/v1/groups/{id}", kind: "group", grid: usersManage, body: map[string]any{"name": "Shared group"}},
	{key: "DELETE /api/v1/groups/{id}", kind: "group", grid: usersManage, fresh: true},
	{key: "GET /api/v1/friends", grid: staffOnly},
	{key: "PUT /api/v1/friends/{id}", kind: "user", grid: "AAA AAA AAA AAA AAA UUU UUU"},
	{key: "DELETE /api/v1/friends/{id}", kind: "user", grid: "AAA AAA AAA AAA AAA UUU UUU"},
	{key: "GET /api/v1/chat/settings", grid: staffOnly},
	{key: "PUT /api/v1/chat/settings", grid: managers, body: map[string]any{"assistance_enabled": false}},
	{key: "POST /api/v1/assistance", grid: staffOnly},

	// Conversations and messages.
	{key: "GET /api/v1/conversations", grid: staffOnly},
	{key: "POST /api/v1/conversations/direct", grid: staffOnly, body: func(c *permCell) any { return map[string]any{"user_id": c.w.colleague.id()} }},
	{key: "POST /api/v1/conversations/group", grid: staffOnly, body: func(c *permCell) any {
		return map[string]any{"title": "Ad hoc", "user_ids": []int64{c.w.colleague.id()}}
	}},
	{key: "GET /api/v1/conversations/{id}", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "PATCH /api/v1/conversations/{id}", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", body: map[string]any{"title": "Team"}},
	{key: "POST /api/v1/conversations/{id}/allow", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "POST /api/v1/conversations/{id}/cancel", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "POST /api/v1/conversations/{id}/members", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", body: func(c *permCell) any {
		return map[string]any{"user_ids": []int64{c.w.colleague.id()}}
	}},
	{key: "DELETE /api/v1/conversations/{id}/members/{user_id}", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", fresh: true},
	{key: "GET /api/v1/conversations/{id}/messages", kind: "conv", grid: "ANA ANA ANN ANN ANN UUU UUU"},
	{key: "POST /api/v1/conversations/{id}/messages", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", body: map[string]any{"text": "hello"}},
	{key: "POST /api/v1/conversations/{id}/read", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", body: map[string]any{"seq": 0}},
	{key: "POST /api/v1/conversations/{id}/unread", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "PUT /api/v1/conversations/{id}/draft", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU", body: map[string]any{"text": "draft"}},
	{key: "POST /api/v1/conversations/{id}/typing", kind: "conv", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "GET /api/v1/messages/{id}", kind: "msg", grid: "AAA AAA AAN AAN AAN UUU UUU"},
	{key: "PATCH /api/v1/messages/{id}", kind: "msg", grid: "AFN AFN AFN AFN AFN UUU UUU", body: map[string]any{"text": "edited"}},
	{key: "DELETE /api/v1/messages/{id}", kind: "msg", grid: "AFN AFN AFN AFN AFN UUU UUU", fresh: true},
	{key: "PUT /api/v1/messages/{id}/reminder", kind: "msg", grid: "AAN AAN AAN AAN AAN UUU UUU", body: func(c *permCell) any {
		return map[string]any{"remind_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	}},
	{key: "POST /api/v1/messages/{id}/reminder/snooze", kind: "msg", grid: "AAN AAN AAN AAN AAN UUU UUU", body: map[string]any{"hours": 1}},
	{key: "DELETE /api/v1/messages/{id}/reminder", kind: "msg", grid: "AAN AAN AAN AAN AAN UUU UUU"},
	{key: "GET /api/v1/reminders", grid: staffOnly},
	{key: "GET /api/v1/search", kind: "conv", query: "q=hello&conversation_id={id}", grid: "ANN ANN ANN ANN ANN UUU UUU"},
	{key: "POST /api/v1/files", query: "name=a.txt", grid: staffOnly, body: "raw"},
	{key: "POST /api/v1/files/{id}/copy", kind: "file", grid: "AAA AAA AAN AAN AAN UUU UUU"},
	{key: "GET /api/v1/files/{id}", kind: "file", grid: "AAA AAA AAN AAN AAN UUU UUU"},
	{key: "GET /api/v1/files/{id}/thumbnail", kind: "file", grid: "AAA AAA AAN AAN AAN UUU UUU"},
	{key: "GET /api/v1/ws", grid: staffOnly},

	// Live chat: projects.
	{key: "GET /api/v1/projects", grid: staffOnly},
	{key: "POST /api/v1/projects", grid: managers, body: func(c *permCell) any { return map[string]any{"name": c.w.unique("Project")} }},
	{key: "GET /api/v1/projects/{id}", kind: "project", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "PATCH /api/v1/projects/{id}", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU", body: map[string]any{"chat_enabled": true}},
	{key: "DELETE /api/v1/projects/{id}", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU", fresh: true},
	{key: "POST /api/v1/projects/{id}/secret", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "GET /api/v1/projects/{id}/specialists", kind: "project", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "POST /api/v1/projects/{id}/specialists", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU", body: func(c *permCell) any {
		return map[string]any{"user_id": c.w.spare.id(), "level": 2}
	}},
	{key: "POST /api/v1/projects/{id}/specialists/erase", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU",
		body: func(c *permCell) any { return map[string]any{"ids": []int64{c.w.spareAssociation(c.id)}} }},
	{key: "GET /api/v1/projects/{id}/metrics", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "GET /api/v1/projects/{id}/metrics/{user_id}/dialogs", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "GET /api/v1/me/projects", grid: staffOnly},
	{key: "GET /api/v1/case-templates", grid: "A A A F A U U"},
	{key: "POST /api/v1/case-templates", grid: managers, body: func(c *permCell) any { return map[string]any{"name": c.w.unique("Template")} }},
	{key: "PATCH /api/v1/case-templates/{id}", kind: "template", grid: managers, body: map[string]any{"name": "Shared template"}},
	{key: "DELETE /api/v1/case-templates/{id}", kind: "template", grid: managers, fresh: true},

	// Live chat: dialogs and cases.
	{key: "GET /api/v1/dialogs", kind: "project", query: "project={id}", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "GET /api/v1/dialogs/{id}", kind: "dialog", grid: "AAA AAA ANN NNN AAN UUU UUU"},
	{key: "POST /api/v1/dialogs/{id}/connect", kind: "dialog", grid: "FFF FFF ANN NNN AAN UUU UUU", fresh: true},
	{key: "POST /api/v1/dialogs/{id}/disconnect", kind: "dialog", grid: "FFF FFF ANN NNN AAN UUU UUU", fresh: true},
	{key: "POST /api/v1/dialogs/{id}/transfer", kind: "dialog", grid: "FFF FFF ANN NNN AAN UUU UUU", fresh: true, body: map[string]any{}},
	{key: "POST /api/v1/dialogs/{id}/close", kind: "dialog", grid: "FFF FFF ANN NNN AAN UUU UUU", fresh: true},
	{key: "POST /api/v1/dialogs/{id}/case", kind: "dialog", grid: "FFF FFF ANN NNN AAN UUU UUU", fresh: true, body: map[string]any{"title": "A case"}},
	{key: "GET /api/v1/cases", kind: "project", query: "project={id}", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "GET /api/v1/cases/{id}", kind: "case", grid: "AAA AAA ANN NNN AAN UUU UUU"},
	{key: "POST /api/v1/cases/{id}/comments", kind: "case", grid: "AAA AAA ANN NNN AAN UUU UUU", body: map[string]any{"text": "a note"}},
	{key: "POST /api/v1/cases/{id}/close", kind: "case", grid: "AAA AAA ANN NNN AAN UUU UUU", fresh: true},

	// The widget.
	{key: "GET /api/v1/widget/projects/{key}", grid: anyone},
	{key: "POST /api/v1/widget/sessions", grid: anyone, body: func(c *permCell) any { return map[string]any{"project": c.w.projA.Key} }},
	{key: "PATCH /api/v1/widget/contact", grid: visitorsOnly, body: map[string]any{"name": "Vera"}},
	{key: "GET /api/v1/widget/messages", grid: visitorsOnly},
	{key: "POST /api/v1/widget/messages", grid: visitorsOnly, body: func(c *permCell) any {
		return map[string]any{"client_id": c.w.unique("v"), "text": "hello"}
	}},
	{key: "POST /api/v1/widget/files", query: "name=a.txt", grid: visitorsOnly, body: "raw"},
	{key: "GET /api/v1/widget/files/{id}", kind: "vfile", grid: "UUU UUU UUU UUU UUU ANN UUU"},
	{key: "POST /api/v1/widget/read", grid: visitorsOnly, body: map[string]any{"seq": 0}},
	{key: "POST /api/v1/widget/typing", grid: visitorsOnly},
	{key: "POST /api/v1/widget/rating", grid: visitorsOnly, body: map[string]any{"score": 5}},
	{key: "GET /api/v1/widget/transcript", grid: visitorsOnly},
	{key: "GET /api/v1/widget/ws", grid: visitorsOnly},

	// The support inbox.
	{key: "POST /api/v1/dialogs/{id}/reassign", kind: "dialog", grid: "AAA AAA ANN NNN FFN UUU UUU", fresh: true,
		body: func(c *permCell) any { return map[string]any{"user_id": c.w.colleague.id()} }},
	{key: "GET /api/v1/dialogs/unread", grid: staffOnly},
	{key: "POST /api/v1/dialogs/{id}/read", kind: "dialog", grid: "AAA AAA ANN NNN AAN UUU UUU"},
	{key: "POST /api/v1/dialogs/{id}/unread", kind: "dialog", grid: "AAA AAA ANN NNN AAN UUU UUU"},
	{key: "GET /api/v1/dialogs/{id}/files", kind: "dialog", grid: "AAA AAA ANN NNN AAN UUU UUU"},
	{key: "POST /api/v1/dialogs/{id}/unpin", kind: "dialog", grid: "AAA AAA ANN NNN FFN UUU UUU", fresh: true},
	{key: "POST /api/v1/dialogs/delete", kind: "dialog", grid: "AAA FFF FFF FFF FFF UUU UUU", fresh: true,
		body: func(c *permCell) any { return map[string]any{"ids": []int64{c.id}} }},
	{key: "GET /api/v1/tags", kind: "project", query: "project={id}", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "POST /api/v1/tags", grid: managers, body: func(c *permCell) any { return map[string]any{"name": c.w.unique("tag"), "color": "#336699"} }},
	{key: "PATCH /api/v1/tags/{id}", kind: "tag", grid: managers, body: map[string]any{"name": "vip", "color": "#336699"}},
	{key: "DELETE /api/v1/tags/{id}", kind: "tag", grid: managers, fresh: true},
	{key: "PUT /api/v1/contacts/{id}/tags/{tag_id}", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU", body: map[string]any{"pinned": false}},
	{key: "DELETE /api/v1/contacts/{id}/tags/{tag_id}", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU", prep: tagContact},
	{key: "GET /api/v1/contacts/{id}", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	// Customers' data rights: the chat settings right, whoever's customer.
	{key: "GET /api/v1/contacts/{id}/export", kind: "contact", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "POST /api/v1/contacts/{id}/erase", kind: "contact", grid: "AAA AAA FFF FFF FFF UUU UUU", fresh: true},
	{key: "GET /api/v1/audit", grid: usersManage},
	{key: "PATCH /api/v1/contacts/{id}", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU", body: map[string]any{"phone": "+100"}},
	{key: "POST /api/v1/contacts/{id}/block", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU", fresh: true},
	{key: "POST /api/v1/contacts/{id}/unblock", kind: "contact", grid: "AAA AAA AAN NNN AAN UUU UUU"},
	{key: "GET /api/v1/quick-replies", grid: staffOnly},
	{key: "POST /api/v1/quick-replies", grid: staffOnly, body: func(c *permCell) any { return map[string]any{"shortcut": c.w.unique("qr"), "text": "Hi"} }},
	{key: "PATCH /api/v1/quick-replies/{id}", kind: "qr", grid: "ANN ANN ANN ANN ANN UUU UUU", body: map[string]any{"shortcut": "mine", "text": "Hello"}},
	{key: "DELETE /api/v1/quick-replies/{id}", kind: "qr", grid: "ANN ANN ANN ANN ANN UUU UUU", fresh: true},

	// Channels.
	{key: "GET /api/v1/channel-kinds", grid: staffOnly},
	{key: "GET /api/v1/channels", grid: managers},
	{key: "POST /api/v1/channels", grid: managers, body: func(c *permCell) any {
		return map[string]any{"project_id": c.w.projA.ID, "kind": "api", "name": "CRM", "settings": map[string]string{"url": c.w.sink.URL}}
	}},
	{key: "GET /api/v1/channels/{id}", kind: "channel", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "PATCH /api/v1/channels/{id}", kind: "channel", grid: "AAA AAA FFF FFF FFF UUU UUU", body: map[string]any{"name": "CRM"}},
	{key: "DELETE /api/v1/channels/{id}", kind: "channel", grid: "AAA AAA FFF FFF FFF UUU UUU", fresh: true},
	{key: "POST /api/v1/channels/{id}/test", kind: "channel", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "GET /api/v1/channels/{id}/webhook", kind: "channel", grid: serviceOnly},
	{key: "POST /api/v1/channels/{id}/webhook", kind: "channel", grid: serviceOnly, body: map[string]any{"type": "message"}},
	// A file link without a valid signature is no file.
	{key: "GET /api/v1/channels/{id}/files/{file}", kind: "channel", grid: "NNN NNN NNN NNN NNN NNN NNN"},

	// Webhooks and bots.
	{key: "GET /api/v1/webhooks", grid: managers},
	{key: "POST /api/v1/webhooks", grid: managers, body: func(c *permCell) any {
		return map[string]any{"project_id": c.w.projA.ID, "url": c.w.sink.URL, "events": []string{"dialog.updated"}}
	}},
	{key: "GET /api/v1/webhooks/{id}", kind: "webhook", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "PATCH /api/v1/webhooks/{id}", kind: "webhook", grid: "AAA AAA FFF FFF FFF UUU UUU", body: map[string]any{"active": false}},
	{key: "DELETE /api/v1/webhooks/{id}", kind: "webhook", grid: "AAA AAA FFF FFF FFF UUU UUU", fresh: true},
	{key: "GET /api/v1/webhooks/{id}/deliveries", kind: "webhook", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	{key: "POST /api/v1/webhooks/{id}/deliveries/{delivery}/resend", kind: "webhook", grid: "AAA AAA FFF FFF FFF UUU UUU"},
	// A bot is an account: users.manage, besides the chat settings right.
	{key: "POST /api/v1/bots", grid: usersManage, body: func(c *permCell) any { return map[string]any{"name": c.w.unique("Bot")} }},

	// Distribution.
	{key: "GET /api/v1/me/availability", grid: staffOnly},
	{key: "PUT /api/v1/me/availability", grid: staffOnly, body: map[string]any{"availability": "available"}},
	// The world's dialogs were taken by hand, so no line is a decision of the
	// distribution: those who may see the dialog learn just that (404 "not
	// a decision"), the others are refused first by the dialog's own
	// visibility check, as on every dialog route (TestDistribution reads
	// real decisions).
	{key: "GET /api/v1/messages/{id}/routing", kind: "line", grid: "NNN NNN NNN NNN NNN UUU UUU"},
	{key: "GET /api/v1/projects/{id}/queue", kind: "project", grid: "AAA AAA FFF FFF FFF UUU UUU"},

	// Calls (docs/calls.md): a bot sees no calls and gets no TURN credentials.
	{key: "GET /api/v1/calls", grid: staffOnly},
	{key: "GET /api/v1/calls/ice-servers", grid: "A A A A F U U"},
}

// Texts no answer may show: a message of a team conversation none of the
// callers is in, and project B's customer's (to all but managers).
const (
	permSecretTeam = "hello from a private team chat 7f3a"
	permSecretB    = "hello from customer B 9c1e"
	// The agent's no more once the dialog is reassigned away from them.
	permSecretRevoked = "hello from a reassigned customer 4d2b"
)

// permWorld is the one fixture every cell runs against.
type permWorld struct {
	t                   *testing.T
	s                   *testServer
	callers             map[string]*client
	colleague, outsider *client // another agent of project A; an agent of project B
	spare               *client // a user specialists routes add and erase
	projA, projB        parley.Project
	visitors            [3]*visitorClient // of project A (the caller), A (a colleague's), B
	sink                *httptest.Server  // answers 200 to whatever calls it (webhooks, channels)
	n                   atomic.Int64

	// byCaller holds, per kind and caller, the id of the caller's own
	// resource and a colleague's; byOwner the kinds whose three ids are
	// the same for every caller.
	byCaller map[string]map[string][3]int64
	byOwner  map[string][3]int64
	tag      int64
	delivery [3]int64
}

func (w *permWorld) unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, w.n.Add(1))
}

func newPermWorld(t *testing.T, opts ...serverOption) *permWorld {
	s := newServer(t, opts...)
	w := &permWorld{t: t, s: s, callers: map[string]*client{}, byCaller: map[string]map[string][3]int64{}, byOwner: map[string][3]int64{}}
	w.sink = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte("{}")) }))
	t.Cleanup(w.sink.Close)
	admin := s.newUser(t, parley.RoleAdmin, "Ada Admin")
	w.callers["admin"] = admin
	w.callers["supervisor"] = s.newUser(t, parley.RoleSupervisor, "Sue Supervisor")
	w.callers["agent"] = s.newUser(t, parley.RoleAgent, "Anna Agent")
	w.callers["member"] = s.newUser(t, parley.RoleMember, "Max Member")
	w.colleague = s.newUser(t, parley.RoleAgent, "Colin Colleague")
	w.outsider = s.newUser(t, parley.RoleAgent, "Otto Outsider")
	w.spare = s.newUser(t, parley.RoleAgent, "Spencer Spare")
	var bot struct {
		User  parley.User `json:"user"`
		Token string      `json:"token"`
	}
	admin.do("POST", "/api/v1/bots", map[string]any{"name": "Helper Bot"}).want(http.StatusCreated).decode(&bot)
	s.logs.secret(bot.Token)
	w.callers["bot"] = &client{s: s, t: t, token: bot.Token, user: bot.User, header: http.Header{}}
	w.callers["none"] = s.anon(t)

	for _, p := range []*parley.Project{&w.projA, &w.projB} {
		admin.do("POST", "/api/v1/projects", map[string]any{"name": w.unique("Shop"), "origins": []string{shopOrigin}}).
			want(http.StatusCreated).decode(p)
	}
	for _, sp := range []struct {
		c       *client
		project int64
		level   int
	}{{w.callers["agent"], w.projA.ID, 1}, {w.colleague, w.projA.ID, 1}, {w.callers["bot"], w.projA.ID, 1},
		{w.outsider, w.projB.ID, 1}, {w.spare, w.projA.ID, 2}, {w.spare, w.projB.ID, 2}} {
		admin.do("POST", fmt.Sprintf("/api/v1/projects/%d/specialists", sp.project),
			map[string]any{"user_id": sp.c.id(), "level": sp.level}).want(http.StatusCreated)
	}

	// Live chat: the visitors (the caller is the first), a dialog in charge
	// of the agent (and the bot), one of the colleague, one of project B.
	w.visitors = [3]*visitorClient{s.visitor(t, w.projA.Key, nil), s.visitor(t, w.projA.Key, nil), s.visitor(t, w.projB.Key, nil)}
	w.callers["visitor"] = w.visitors[0].client
	var vfiles [3]int64
	for i, v := range w.visitors {
		v.send([]string{"hello", "hello", permSecretB}[i])
		var f livechat.VisitorFile
		vc := *v.client
		vc.header = v.header.Clone()
		vc.header.Set("Content-Type", "image/png")
		vc.do("POST", "/api/v1/widget/files?name=a.png", pngBytes()).want(http.StatusCreated).decode(&f)
		v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": w.unique("f"), "file_ids": []int64{f.ID}}).want(http.StatusCreated)
		vfiles[i] = f.ID
	}
	w.byOwner["vfile"] = vfiles
	var dialogs, contacts, cases, lines [3]int64
	for i := range 3 {
		var d *livechat.Dialog
		if i < 2 {
			d = w.dialog(i)
		} else {
			// The B visitor's dialog, with their file: the team chat
			// routes' other project.
			d = w.serve(w.visitors[2], w.outsider)
		}
		dialogs[i], contacts[i] = d.Conversation.ID, d.Contact.ID
		cases[i] = w.caseOf(i)
		lines[i] = w.line(d.Conversation.ID)
	}
	w.byOwner["dialog"], w.byOwner["contact"], w.byOwner["case"], w.byOwner["line"] = dialogs, contacts, cases, lines
	// Team chat: each caller's own conversation with the colleague, their
	// message and file in it, the colleague's message and file there; the
	// conversation of project B's dialog, the outsider's line and the
	// customer's file in it; the outsider's token and quick reply.
	outConv, outMsg, outFile := dialogs[2], lines[2], vfiles[2]
	outToken := w.token(w.outsider)
	outQR := w.quickReply(w.outsider)
	for _, name := range []string{"admin", "supervisor", "agent", "member", "bot"} {
		c := w.callers[name]
		conv := w.conv(c)
		mine := c.send(conv.ID, "mine")
		theirs := w.colleague.send(conv.ID, "theirs")
		colConv := w.conv(w.colleague)
		w.colleague.send(colConv.ID, permSecretTeam)
		w.set("conv", name, conv.ID, colConv.ID, outConv)
		w.set("msg", name, mine.ID, theirs.ID, outMsg)
		w.set("file", name, w.sharedFile(c, conv.ID), w.sharedFile(w.colleague, conv.ID), outFile)
		w.set("token", name, w.token(c), w.token(w.colleague), outToken)
		w.set("qr", name, w.quickReply(c), w.quickReply(w.colleague), outQR)
		w.set("user", name, c.id(), w.colleague.id(), w.outsider.id())
	}

	w.byOwner["project"] = [3]int64{w.projA.ID, w.projA.ID, w.projB.ID}
	var group parley.Group
	admin.do("POST", "/api/v1/groups", map[string]any{"name": "Shared group"}).want(http.StatusCreated).decode(&group)
	w.byOwner["group"] = [3]int64{group.ID, group.ID, group.ID}
	var tmpl parley.CaseTemplate
	admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Shared template"}).want(http.StatusCreated).decode(&tmpl)
	w.byOwner["template"] = [3]int64{tmpl.ID, tmpl.ID, tmpl.ID}
	var tag parley.Tag
	admin.do("POST", "/api/v1/tags", map[string]any{"name": "vip", "color": "#336699"}).want(http.StatusCreated).decode(&tag)
	w.tag = tag.ID
	w.byOwner["tag"] = [3]int64{tag.ID, tag.ID, tag.ID}
	chA, chB := w.channel(w.projA.ID), w.channel(w.projB.ID)
	w.byOwner["channel"] = [3]int64{chA, chA, chB}
	whA, whB := w.webhook(w.projA.ID), w.webhook(w.projB.ID)
	w.byOwner["webhook"] = [3]int64{whA, whA, whB}
	// Something for the webhooks to deliver.
	for _, v := range w.visitors {
		v.send("again")
	}
	for i, wh := range []int64{whA, whA, whB} {
		eventually(t, "a webhook delivery is logged", func() bool {
			var out struct {
				Deliveries []parley.WebhookDelivery `json:"deliveries"`
			}
			admin.do("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", wh), nil).want(http.StatusOK).decode(&out)
			if len(out.Deliveries) > 0 {
				w.delivery[i] = out.Deliveries[0].ID
			}
			return len(out.Deliveries) > 0
		})
	}
	return w
}

func (w *permWorld) set(kind, caller string, own, colleague, other int64) {
	if w.byCaller[kind] == nil {
		w.byCaller[kind] = map[string][3]int64{}
	}
	w.byCaller[kind][caller] = [3]int64{own, colleague, other}
}

// conv is a multi-chat of c and the colleague (the spare, if c is the
// colleague).
func (w *permWorld) conv(c *client) convView {
	other := w.colleague.id()
	if c == w.colleague {
		other = w.spare.id()
	}
	var v convView
	c.do("POST", "/api/v1/conversations/group", map[string]any{"title": "Team", "user_ids": []int64{other}}).
		want(http.StatusCreated).decode(&v)
	return v
}

// file is an image c uploads (an image, so it has a preview).
func (w *permWorld) file(c *client) int64 {
	var f parley.File
	c.upload("a.png", "image/png", pngBytes()).want(http.StatusCreated).decode(&f)
	return f.ID
}

func pngBytes() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	return buf.Bytes()
}

// spareAssociation is the spare user's association with the project,
// made again if a cell erased it.
func (w *permWorld) spareAssociation(project int64) int64 {
	admin := w.callers["admin"]
	var list httpapi.SpecialistList
	admin.get(fmt.Sprintf("/api/v1/projects/%d/specialists", project), &list)
	for _, sp := range list.Specialists {
		if sp.UserID == w.spare.id() {
			return sp.ID
		}
	}
	var sp parley.Specialist
	admin.do("POST", fmt.Sprintf("/api/v1/projects/%d/specialists", project), map[string]any{"user_id": w.spare.id(), "level": 2}).
		want(http.StatusCreated).decode(&sp)
	return sp.ID
}

// sharedFile is a file c uploads and sends in conv.
func (w *permWorld) sharedFile(c *client, conv int64) int64 {
	id := w.file(c)
	c.sendBody(conv, map[string]any{"text": "a file", "file_ids": []int64{id}})
	return id
}

func (w *permWorld) token(c *client) int64 {
	var out httpapi.TokenOutput
	c.do("POST", "/api/v1/me/tokens", map[string]any{"name": "script"}).want(http.StatusCreated).decode(&out)
	w.s.logs.secret(out.Token)
	return out.Session.ID
}

func (w *permWorld) quickReply(c *client) int64 {
	var q parley.QuickReply
	c.do("POST", "/api/v1/quick-replies", map[string]any{"shortcut": w.unique("qr"), "text": "Hi"}).want(http.StatusCreated).decode(&q)
	return q.ID
}

// dialog starts a new dialog: i 0 in project A in charge of the agent; 1
// in project A, the agent's first, then reassigned to the colleague (so
// the agent may no longer see it, and the bot sees a colleague's); 2 in
// project B.
func (w *permWorld) dialog(i int) *livechat.Dialog {
	key, who := w.projA.Key, w.callers["agent"]
	if i == 2 {
		key, who = w.projB.Key, w.outsider
	}
	v := w.s.visitor(w.t, key, nil)
	v.send([]string{"I need help", permSecretRevoked, "I need help"}[i])
	d := w.serve(v, who)
	if i == 1 {
		w.callers["admin"].do("POST", fmt.Sprintf("/api/v1/dialogs/%d/reassign", d.Conversation.ID),
			map[string]any{"user_id": w.colleague.id()}).want(http.StatusOK).decode(d)
		w.colleague.send(d.Conversation.ID, "I take it from here")
	}
	return d
}

// serve has who take v's dialog and answer it.
func (w *permWorld) serve(v *visitorClient, who *client) *livechat.Dialog {
	conv := v.history().Conversation.ID
	var d livechat.Dialog
	who.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK).decode(&d)
	who.send(conv, "How can I help?")
	return &d
}

func (w *permWorld) caseOf(i int) int64 {
	d := w.dialog(i)
	var c parley.Case
	[]*client{w.callers["agent"], w.colleague, w.outsider}[i].do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", d.Conversation.ID), map[string]any{"title": "Case"}).
		want(http.StatusCreated).decode(&c)
	return c.ID
}

// line is a message of the dialog (its routing decision, if any).
func (w *permWorld) line(conv int64) int64 {
	msgs := w.callers["admin"].history(conv, "")
	return msgs[len(msgs)-1].ID
}

func (w *permWorld) channel(project int64) int64 {
	var ch struct {
		ID         int64             `json:"id"`
		NewSecrets map[string]string `json:"new_secrets"`
	}
	w.callers["admin"].do("POST", "/api/v1/channels", map[string]any{"project_id": project, "kind": "api", "name": "CRM",
		"settings": map[string]string{"url": w.sink.URL}}).want(http.StatusCreated).decode(&ch)
	for _, v := range ch.NewSecrets {
		w.s.logs.secret(v)
	}
	return ch.ID
}

func (w *permWorld) webhook(project int64) int64 {
	var wh struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	w.callers["admin"].do("POST", "/api/v1/webhooks", map[string]any{"project_id": project, "url": w.sink.URL,
		"events": []string{"message.created"}}).want(http.StatusCreated).decode(&wh)
	w.s.logs.secret(wh.Secret)
	return wh.ID
}

// make creates a new resource of kind for an allowed cell that consumes
// it, shaped as the cell's ownership says.
func (w *permWorld) make(kind, caller string, own int) int64 {
	admin := w.callers["admin"]
	c := w.callers[caller]
	proj := w.projA.ID
	if own == 2 {
		proj = w.projB.ID
	}
	switch kind {
	case "token":
		return w.token(c)
	case "group":
		var g parley.Group
		admin.do("POST", "/api/v1/groups", map[string]any{"name": w.unique("Group")}).want(http.StatusCreated).decode(&g)
		return g.ID
	case "conv":
		return w.conv(c).ID
	case "msg":
		return c.send(w.byCaller["conv"][caller][0], "to delete").ID
	case "project":
		var p parley.Project
		admin.do("POST", "/api/v1/projects", map[string]any{"name": w.unique("Doomed")}).want(http.StatusCreated).decode(&p)
		return p.ID
	case "template":
		var t parley.CaseTemplate
		admin.do("POST", "/api/v1/case-templates", map[string]any{"name": w.unique("Template")}).want(http.StatusCreated).decode(&t)
		return t.ID
	case "dialog":
		return w.dialog(own).Conversation.ID
	case "contact":
		return w.dialog(own).Contact.ID
	case "case":
		return w.caseOf(own)
	case "tag":
		var t parley.Tag
		admin.do("POST", "/api/v1/tags", map[string]any{"name": w.unique("tag"), "color": "#000000"}).want(http.StatusCreated).decode(&t)
		return t.ID
	case "qr":
		return w.quickReply(c)
	case "channel":
		return w.channel(proj)
	case "webhook":
		return w.webhook(proj)
	}
	w.t.Fatalf("no maker for %q", kind)
	return 0
}

// permCell is one request of the matrix.
type permCell struct {
	w      *permWorld
	e      permEntry
	caller string
	own    int // index in permOwnerships; 0 for one-letter groups
	want   byte
	actor  *client
	id     int64
}

func (c *permCell) String() string {
	if len(strings.Fields(c.e.grid)[0]) == 1 {
		return fmt.Sprintf("%s as %s", c.e.key, c.caller)
	}
	return fmt.Sprintf("%s as %s on %s", c.e.key, c.caller, permOwnerships[c.own])
}

// path fills the route's parameters for the cell.
func (c *permCell) path() string {
	w := c.w
	p := c.e.key[strings.IndexByte(c.e.key, ' ')+1:]
	id := c.id
	if id == 0 && c.e.kind != "" {
		id = w.id(c.e.kind, c.caller, c.own)
	}
	c.id = id
	r := strings.NewReplacer(
		"{id}", itoa(id),
		"{key}", w.projA.Key,
		"{tag_id}", itoa(w.tag),
		"{delivery}", itoa(w.delivery[c.own]),
		"{file}", "1",
		"{user_id}", itoa(c.userParam()),
	)
	p = r.Replace(p)
	if c.e.query != "" {
		p += "?" + r.Replace(c.e.query)
	}
	return p
}

// userParam is {user_id}: yourself, leaving a conversation; else the
// specialist whose dialogs are asked for.
func (c *permCell) userParam() int64 {
	if strings.HasPrefix(c.e.key, "DELETE /api/v1/conversations/") {
		if a := c.w.callers[c.caller]; a != nil {
			return max(a.user.ID, 1)
		}
	}
	return []int64{c.w.callers["agent"].id(), c.w.colleague.id(), c.w.outsider.id()}[c.own]
}

func (w *permWorld) id(kind, caller string, own int) int64 {
	if ids, ok := w.byOwner[kind]; ok {
		return ids[own]
	}
	byCaller, ok := w.byCaller[kind]
	if !ok {
		w.t.Fatalf("the world has no %q", kind)
	}
	if ids, ok := byCaller[caller]; ok {
		return ids[own]
	}
	// Visitors and nobody ask about the agent's.
	return byCaller["agent"][own]
}

func (c *permCell) do() *response {
	path := c.path()
	method := c.e.key[:strings.IndexByte(c.e.key, ' ')]
	body := c.e.body
	if f, ok := body.(func(*permCell) any); ok {
		body = f(c)
	}
	if body == "raw" {
		body = []byte("some bytes")
	}
	actor := c.actor
	if strings.HasPrefix(path, "/api/v1/widget/") {
		// Whoever calls, from the shop's page: the answer is about the
		// credentials, not the origin.
		a := *actor
		a.header = actor.header.Clone()
		a.header.Set("Origin", shopOrigin)
		actor = &a
	}
	r := actor.do(method, path, body)
	if bytes.Contains(r.Body, []byte(permSecretTeam)) || (c.caller == "agent" && bytes.Contains(r.Body, []byte(permSecretRevoked))) ||
		(c.caller != "admin" && c.caller != "supervisor" && bytes.Contains(r.Body, []byte(permSecretB))) {
		c.w.t.Errorf("%s: the answer shows what the caller may not see: %.300s", c, r.Body)
	}
	return r
}

// permDB reads the whole database for fingerprints: the tables and columns
// a backup holds (sqlstore.Snapshot), read again on one connection.
type permDB struct {
	t      *testing.T
	db     *sql.DB
	tables []sqlstore.Table
	pg     bool
}

func newPermDB(t *testing.T, dsn string) *permDB {
	snap, err := sqlstore.OpenSnapshot(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := &permDB{t: t, tables: snap.Tables(), pg: snap.Dialect() == "postgres"}
	snap.Close()
	if p.pg {
		p.db, err = sql.Open("pgx", dsn)
	} else {
		p.db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:")+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	}
	if err != nil {
		t.Fatal(err)
	}
	p.db.SetMaxOpenConns(1)
	t.Cleanup(func() { p.db.Close() })
	return p
}

// fingerprint is a digest of every row of every table, less what changes
// without anyone asking: a session's last use, the leases nodes renew, and
// what the webhook and channel workers record as they follow the event
// stream on their own (their cursors, errors and the delivery log: the
// events table, fingerprinted, is what they follow).
func (p *permDB) fingerprint() string {
	t := p.t
	t.Helper()
	ctx := context.Background()
	var opts *sql.TxOptions
	if p.pg {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	volatile := map[string]bool{"sessions.last_used_at": true, "webhooks.cursor": true, "webhooks.last_error": true,
		"webhooks.error_at": true, "channels.last_error": true, "channels.error_at": true}
	var b strings.Builder
	for _, tb := range p.tables {
		if tb.Name == "webhook_deliveries" {
			continue
		}
		var cols []string
		for _, col := range tb.Columns {
			if !volatile[tb.Name+"."+col] && col != "lease_owner" && col != "lease_until" {
				cols = append(cols, `"`+col+`"`)
			}
		}
		query := "SELECT " + strings.Join(cols, ", ") + ` FROM "` + tb.Name + `"`
		if slices.Contains(tb.Columns, "id") {
			query += " ORDER BY id"
		} else {
			query += " ORDER BY " + strings.Join(cols, ", ")
		}
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		h := sha256.New()
		n := 0
		var buf []byte
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			n++
			buf = buf[:0]
			for _, v := range vals {
				buf = permAppend(buf, v)
			}
			h.Write(buf)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(&b, "%s %d %s\n", tb.Name, n, hex.EncodeToString(h.Sum(nil))[:12])
	}
	return b.String()
}

// permAppend encodes a column's value for the fingerprint (fmt is slow
// under -race, and the events table is read often).
func permAppend(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		buf = append(buf, 'n')
	case int64:
		buf = strconv.AppendInt(append(buf, 'i'), x, 10)
	case float64:
		buf = strconv.AppendFloat(append(buf, 'f'), x, 'g', -1, 64)
	case bool:
		buf = strconv.AppendBool(append(buf, 'b'), x)
	case string:
		buf = append(strconv.AppendInt(append(buf, 's'), int64(len(x)), 10), x...)
	case []byte:
		buf = append(strconv.AppendInt(append(buf, 'x'), int64(len(x)), 10), x...)
	case time.Time:
		buf = strconv.AppendInt(append(buf, 't'), x.UnixNano(), 10)
	default:
		buf = fmt.Appendf(append(buf, 'v'), "%v", x)
	}
	return append(buf, 0)
}

// permRoutes lists the served routes, from the OpenAPI document (which is
// generated from the route table).
func permRoutes(t *testing.T, s *testServer) []string {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	s.anon(t).do("GET", "/api/v1/openapi.json", nil).want(http.StatusOK).decode(&doc)
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" /api/v1"+strings.TrimPrefix(p, "/api/v1"))
		}
	}
	sort.Strings(out)
	return out
}

func TestPermissionMatrix(t *testing.T) {
	eachDB(t, testPermissionMatrix)
}

func testPermissionMatrix(t *testing.T, opts ...serverOption) {
	w := newPermWorld(t, opts...)
	dsn := w.s.m.Config.Database
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(w.s.m.Config.DataDir, "parley.db")
	}

	// The fingerprint sees a change.
	db := newPermDB(t, dsn)
	before := db.fingerprint()
	w.callers["member"].send(w.byCaller["conv"]["member"][0], "a change")
	if db.fingerprint() == before {
		t.Fatal("the fingerprint missed a new message")
	}

	// What the agent had before a dialog was reassigned away is gone from
	// their list, their search and the customer's card too.
	agent := w.callers["agent"]
	for _, path := range []string{"/api/v1/dialogs?project=" + itoa(w.projA.ID), "/api/v1/search?q=reassigned",
		"/api/v1/conversations", "/api/v1/cases", fmt.Sprintf("/api/v1/contacts/%d", w.byOwner["contact"][1])} {
		r := agent.do("GET", path, nil).want(http.StatusOK)
		var ids struct {
			Dialogs []struct {
				Conversation struct {
					ID int64 `json:"id"`
				} `json:"conversation"`
			} `json:"dialogs"`
			Cases []struct {
				ConversationID int64 `json:"conversation_id"`
			} `json:"cases"`
		}
		json.Unmarshal(r.Body, &ids)
		shown := bytes.Contains(r.Body, []byte(permSecretRevoked))
		for _, d := range ids.Dialogs {
			shown = shown || d.Conversation.ID == w.byOwner["dialog"][1]
		}
		for _, k := range ids.Cases {
			shown = shown || k.ConversationID == w.byOwner["dialog"][1]
		}
		if shown {
			t.Errorf("GET %s shows the agent a dialog reassigned away from them: %.300s", path, r.Body)
		}
	}

	// Nor through a reference: quoting, attaching, copying or adding to a
	// group chat from what you cannot see is refused and shows nothing.
	secretB := w.callers["admin"].history(w.byOwner["dialog"][2], "")[0]
	if secretB.Text != permSecretB {
		t.Fatalf("project B's first line is %q", secretB.Text)
	}
	member := w.callers["member"]
	before = db.fingerprint()
	own := w.byCaller["conv"]["member"][0]
	colConv := w.byCaller["conv"]["member"][1]
	for _, probe := range []struct {
		method, path string
		body         any
	}{
		{"POST", convPath(own, "/messages"), map[string]any{"text": "see", "quote_id": secretB.ID}},
		{"POST", convPath(own, "/messages"), map[string]any{"text": "see", "file_ids": []int64{w.byOwner["vfile"][2]}}},
		{"POST", "/api/v1/conversations/group", map[string]any{"title": "Spy", "user_ids": []int64{w.colleague.id()}, "from_conversation_id": colConv}},
	} {
		r := member.do(probe.method, probe.path, probe.body)
		if bytes.Contains(r.Body, []byte(permSecretB)) || bytes.Contains(r.Body, []byte(permSecretTeam)) ||
			r.Status < 300 {
			t.Errorf("%s %s %v: %d %.300s", probe.method, probe.path, probe.body, r.Status, r.Body)
		}
	}
	if after := db.fingerprint(); after != before {
		t.Errorf("refused references changed the database:\n%s", permDiff(before, after))
	}

	// Every route has an entry, every entry a route.
	served := permRoutes(t, w.s)
	var keys []string
	for _, e := range permTable {
		if slices.Contains(keys, e.key) {
			t.Errorf("%s: two entries", e.key)
		}
		keys = append(keys, e.key)
		if !slices.Contains(served, e.key) {
			t.Errorf("%s: an entry for a route that is not served", e.key)
		}
	}
	for _, k := range served {
		if !slices.Contains(keys, k) {
			t.Errorf("%s: a route without an entry in permTable", k)
		}
	}

	// The cells, refused and allowed, route by route.
	var refused, allowed [][]*permCell
	for _, e := range permTable {
		groups := strings.Fields(e.grid)
		if len(groups) != len(permCallers) {
			t.Errorf("%s: grid %q has %d groups, want %d", e.key, e.grid, len(groups), len(permCallers))
			continue
		}
		var ref, all []*permCell
		for i, g := range groups {
			if len(g) != 1 && len(g) != 3 {
				t.Errorf("%s: grid group %q", e.key, g)
				continue
			}
			for own := range len(g) {
				c := &permCell{w: w, e: e, caller: permCallers[i], own: own, want: g[own], actor: w.callers[permCallers[i]]}
				if c.want == 'A' {
					all = append(all, c)
				} else {
					ref = append(ref, c)
				}
			}
		}
		refused, allowed = append(refused, ref), append(allowed, all)
	}

	// Every refusal first, while the world is as it was made: each has its
	// documented code, and a route's refusals change nothing (one
	// fingerprint after each route's: reading every table after each cell
	// is too slow under -race).
	codes := map[byte]struct {
		status int
		code   string
	}{'U': {401, parley.EUNAUTHORIZED}, 'F': {403, parley.EFORBIDDEN}, 'N': {404, parley.ENOTFOUND}}
	before = db.fingerprint()
	for _, cells := range refused {
		if len(cells) == 0 {
			continue
		}
		for _, c := range cells {
			r := c.do()
			want := codes[c.want]
			var body httpapi.ErrorBody
			json.Unmarshal(r.Body, &body)
			if r.Status != want.status || body.Error.Code != want.code {
				t.Errorf("%s: %d %s, want %d %s (%.200s)", c, r.Status, body.Error.Code, want.status, want.code, r.Body)
			}
		}
		if after := db.fingerprint(); after != before {
			t.Errorf("%s: refused (%d cells), but the database changed:\n%s", cells[0].e.key, len(cells), permDiff(before, after))
			before = after
		}
	}

	// Then what is allowed: an answer that is not a refusal.
	refusal := func(status int) bool { return status == 401 || status == 403 || status == 404 }
	for _, cells := range allowed {
		for _, c := range cells {
			e := c.e
			if e.fresh {
				c.id = w.make(e.kind, c.caller, c.own)
			}
			if e.prep != nil {
				c.path()
				e.prep(c)
			}
			if e.freshActor {
				a := *c.actor
				var out httpapi.TokenOutput
				c.actor.do("POST", "/api/v1/me/tokens", map[string]any{"name": "session"}).want(http.StatusCreated).decode(&out)
				w.s.logs.secret(out.Token)
				a.token = out.Token
				c.actor = &a
			}
			if r := c.do(); refusal(r.Status) {
				t.Errorf("%s: refused with %d, want an answer (%.200s)", c, r.Status, r.Body)
			}
		}
	}
}

// permDiff names the tables whose rows differ.
func permDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			out = append(out, "  "+al[i]+" -> "+bl[i])
		}
	}
	return strings.Join(out, "\n")
}
