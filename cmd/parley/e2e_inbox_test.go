package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
)

// inbox is a live chat project with three customers who wrote in.
type inbox struct {
	*liveChat
	vera, ivan, olga *visitorClient
	dialogs          map[string]int64 // customer name → dialog id
	contacts         map[string]int64 // customer name → contact id
}

func newInbox(t *testing.T, s *testServer) *inbox {
	in := &inbox{liveChat: newLiveChat(t, s), dialogs: map[string]int64{}, contacts: map[string]int64{}}
	for _, v := range []**visitorClient{&in.vera, &in.ivan, &in.olga} {
		name := map[**visitorClient]string{&in.vera: "Vera", &in.ivan: "Ivan", &in.olga: "Olga"}[v]
		*v = s.visitor(t, in.project.Key, map[string]any{"name": name, "page_url": "https://shop.example/" + name, "utm_source": "newsletter"})
		(*v).send("Hello from " + name)
		in.dialogs[name] = (*v).history().Conversation.ID
		var d livechat.Dialog
		in.admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", in.dialogs[name]), nil).want(http.StatusOK).decode(&d)
		in.contacts[name] = d.Contact.ID
	}
	return in
}

func (in *inbox) list(c *client, query string) livechat.DialogPage {
	var p livechat.DialogPage
	c.do("GET", "/api/v1/dialogs"+query, nil).want(http.StatusOK).decode(&p)
	return p
}

func names(p livechat.DialogPage) []string {
	var out []string
	for _, d := range p.Dialogs {
		out = append(out, d.Contact.Name)
	}
	return out
}

func TestInboxTags(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")

		// Only those with the chat settings right manage tags; bad input
		// is refused and changes nothing.
		in.a.do("POST", "/api/v1/tags", map[string]any{"name": "VIP", "color": "#ff0000"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": " ", "color": "#ff0000"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": "VIP", "color": "red"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var vip, late, gone parley.Tag
		sock := in.a.connect()
		sock.waitFor("hello")
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": "VIP", "color": "#FF0000"}).want(http.StatusCreated).decode(&vip)
		if f := sock.waitFor(parley.EventTagUpdated); f["data"].(map[string]any)["name"] != "VIP" {
			t.Fatalf("tag event: %v", f)
		}
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": "vip", "color": "#00ff00"}).wantErr(http.StatusConflict, parley.ECONFLICT)
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": "Late payer", "color": "#00ff00"}).want(http.StatusCreated).decode(&late)
		in.admin.do("POST", "/api/v1/tags", map[string]any{"name": "Gone", "color": "#000000"}).want(http.StatusCreated).decode(&gone)
		if vip.Color != "#ff0000" {
			t.Fatalf("colour kept as %q", vip.Color)
		}
		in.admin.do("PATCH", fmt.Sprintf("/api/v1/tags/%d", late.ID), map[string]any{"name": "VIP", "color": "#00ff00"}).
			wantErr(http.StatusConflict, parley.ECONFLICT)
		in.admin.do("PATCH", fmt.Sprintf("/api/v1/tags/%d", late.ID), map[string]any{"name": "Late", "color": "#ffaa00"}).want(http.StatusOK).decode(&late)
		in.a.do("PATCH", fmt.Sprintf("/api/v1/tags/%d", late.ID), map[string]any{"name": "X", "color": "#ffaa00"}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)

		// The project's specialists tag its customers; others cannot.
		tag := func(c *client, name string, tag int64, pinned bool) *response {
			return c.do("PUT", fmt.Sprintf("/api/v1/contacts/%d/tags/%d", in.contacts[name], tag), map[string]any{"pinned": pinned})
		}
		tag(outsider, "Vera", vip.ID, true).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		tag(in.a, "Vera", 999999, true).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var vera parley.Contact
		tag(in.a, "Vera", vip.ID, true).want(http.StatusOK).decode(&vera)
		tag(in.a, "Vera", late.ID, false).want(http.StatusOK).decode(&vera)
		if len(vera.Tags) != 2 || vera.Tags[0].TagID != vip.ID || !vera.Tags[0].Pinned || vera.Tags[1].Pinned {
			t.Fatalf("Vera's tags, pinned first: %+v", vera.Tags)
		}
		tag(in.b, "Ivan", late.ID, true).want(http.StatusOK)
		tag(in.b, "Olga", gone.ID, false).want(http.StatusOK)

		// The list filters by tags (AND), no tags and pinned tags.
		for _, c := range []struct {
			query string
			want  []string
		}{
			{fmt.Sprintf("?tag=%d", late.ID), []string{"Ivan", "Vera"}},
			{fmt.Sprintf("?tag=%d,%d", late.ID, vip.ID), []string{"Vera"}},
			{fmt.Sprintf("?tag=%d&pinned=true", late.ID), []string{"Ivan"}},
			{"?pinned=true", []string{"Ivan", "Vera"}},
			{"?no_tags=true&pinned=true", []string{"Olga"}},
			{"?no_tags=true", nil},
		} {
			got := names(in.list(in.a, c.query))
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.query, got, c.want)
			}
		}
		in.a.do("GET", fmt.Sprintf("/api/v1/dialogs?tag=%d&no_tags=true", vip.ID), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.a.do("GET", "/api/v1/dialogs?tag=999999", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.a.do("GET", "/api/v1/dialogs?tag=x", nil).wantErr(http.StatusBadRequest, parley.EINVALID)

		// The tag list counts dialogs, most used first; pinned counts only
		// pinned tags.
		var tl httpapi.TagList
		in.a.do("GET", "/api/v1/tags", nil).want(http.StatusOK).decode(&tl)
		counts := map[string]int64{}
		for _, tg := range tl.Tags {
			counts[tg.Name] = tg.Dialogs
		}
		if tl.Tags[0].Name != "Late" || counts["Late"] != 2 || counts["VIP"] != 1 || counts["Gone"] != 1 {
			t.Fatalf("tag counts: %+v", counts)
		}
		in.a.do("GET", "/api/v1/tags?pinned=true", nil).want(http.StatusOK).decode(&tl)
		for _, tg := range tl.Tags {
			if want := map[string]int64{"Late": 1, "VIP": 1, "Gone": 0}[tg.Name]; tg.Dialogs != want {
				t.Errorf("pinned count of %s: %d, want %d", tg.Name, tg.Dialogs, want)
			}
		}

		// Deleting a tag takes it off every customer.
		in.a.do("DELETE", fmt.Sprintf("/api/v1/tags/%d", gone.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		in.admin.do("DELETE", fmt.Sprintf("/api/v1/tags/%d", gone.ID), nil).want(http.StatusNoContent)
		if f := sock.waitFor(parley.EventTagDeleted); f["data"].(map[string]any)["id"] != float64(gone.ID) {
			t.Fatalf("tag deletion event: %v", f)
		}
		if got := names(in.list(in.a, "?no_tags=true")); !slices.Equal(got, []string{"Olga"}) {
			t.Fatalf("after deleting Olga's only tag, untagged: %v", got)
		}
		in.a.do("DELETE", fmt.Sprintf("/api/v1/contacts/%d/tags/%d", in.contacts["Vera"], late.ID), nil).want(http.StatusOK).decode(&vera)
		if len(vera.Tags) != 1 {
			t.Fatalf("after untagging: %+v", vera.Tags)
		}
	})
}

func TestInboxListOrderAndFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		member := s.newUser(t, parley.RoleMember, "")

		// Anna connects to Ivan's dialog (taking charge) and answers.
		var d livechat.Dialog
		in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", in.dialogs["Ivan"]), nil).want(http.StatusOK).decode(&d)
		if d.Assignee == nil || d.Assignee.ID != in.a.id() {
			t.Fatalf("the first to connect takes charge: %+v", d.Assignee)
		}
		in.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", in.dialogs["Ivan"]), map[string]any{"text": "Hi Ivan"}).
			want(http.StatusCreated)

		// Last activity: newest communication first, paged one by one
		// without skipping or repeating.
		var all []string
		cursor := ""
		for range 4 {
			p := in.list(in.a, "?sort=activity&limit=1&cursor="+cursor)
			all = append(all, names(p)...)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(all, []string{"Ivan", "Olga", "Vera"}) {
			t.Fatalf("by last activity, page by page: %v", all)
		}

		// Filters: the manager in charge (0: unassigned), who wrote last,
		// status, channel.
		for _, c := range []struct {
			query string
			want  []string
		}{
			{fmt.Sprintf("?assignee=%d", in.a.id()), []string{"Ivan"}},
			{"?assignee=0", []string{"Olga", "Vera"}},
			{"?last_from=manager", []string{"Ivan"}},
			{"?last_from=customer", []string{"Olga", "Vera"}},
			{"?status=closed", nil},
			{"?channel=widget&status=open", []string{"Ivan", "Olga", "Vera"}},
		} {
			if got := names(in.list(in.a, c.query)); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.query, got, c.want)
			}
		}
		for _, q := range []string{"?status=pending", "?last_from=bot", "?channel=fax", "?assignee=999999", "?sort=alphabet", "?no_tags=maybe",
			"?sort=processing", "?cursor=nonsense"} {
			in.a.do("GET", "/api/v1/dialogs"+q, nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		if p := in.list(member, ""); len(p.Dialogs) != 0 {
			t.Fatalf("someone serving no project sees %v", names(p))
		}

		// With reply time limits the processing order is the default:
		// waiting dialogs first, longest waiting at the top, then the
		// answered ones; each waiting dialog says when it is due.
		in.a.do("PATCH", in.path(""), map[string]any{"reply_limits": map[string]any{"warn_s": 60, "limit_s": 300}}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		in.admin.do("PATCH", in.path(""), map[string]any{"reply_limits": map[string]any{"warn_s": 300, "limit_s": 60}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		in.admin.do("PATCH", in.path(""), map[string]any{"reply_limits": map[string]any{"warn_s": 60, "limit_s": 300,
			"channels": map[string]any{"fax": map[string]any{"limit_s": 10}}}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.admin.do("PATCH", in.path(""), map[string]any{"reply_limits": map[string]any{"warn_s": 60, "limit_s": 300}}).want(http.StatusOK)
		p := in.list(in.a, "")
		if p.Sort != parley.SortProcessing || !slices.Equal(names(p), []string{"Vera", "Olga", "Ivan"}) {
			t.Fatalf("processing order (%s): %v", p.Sort, names(p))
		}
		vera := p.Dialogs[0]
		if vera.Support.WaitingSince.IsZero() || !vera.ReplyDueAt.Equal(vera.Support.WaitingSince.Add(300e9)) ||
			!vera.ReplyWarnAt.Equal(vera.Support.WaitingSince.Add(60e9)) || !p.Dialogs[2].ReplyDueAt.IsZero() {
			t.Fatalf("reply limits: %+v, answered %+v", vera, p.Dialogs[2])
		}
		all, cursor = nil, ""
		for range 4 {
			p := in.list(in.a, "?limit=1&cursor="+cursor)
			all = append(all, names(p)...)
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(all, []string{"Vera", "Olga", "Ivan"}) {
			t.Fatalf("processing order, page by page: %v", all)
		}
		// A cursor belongs to its order.
		first := in.list(in.a, "?limit=1")
		in.a.do("GET", "/api/v1/dialogs?sort=activity&cursor="+first.NextCursor, nil).wantErr(http.StatusBadRequest, parley.EINVALID)

		// A closed dialog waits for nobody.
		in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", in.dialogs["Vera"]), nil).want(http.StatusOK)
		p = in.list(in.a, "")
		if got := names(p); got[0] != "Olga" || !p.Dialogs[0].Support.WaitingSince.Before(p.Dialogs[0].ReplyDueAt) ||
			slices.IndexFunc(p.Dialogs, func(d *livechat.Dialog) bool { return d.Contact.Name == "Vera" && !d.Support.WaitingSince.IsZero() }) >= 0 {
			t.Fatalf("after closing Vera's dialog: %v", got)
		}
	})
}

func TestInboxReassign(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		path := fmt.Sprintf("/api/v1/dialogs/%d", conv)
		in.a.do("POST", path+"/connect", nil).want(http.StatusOK)

		// Only the manager in charge or a manager reassigns, and only to
		// the project's specialists.
		in.b.do("POST", path+"/reassign", map[string]any{"user_id": in.b.id()}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		in.a.do("POST", path+"/reassign", map[string]any{"user_id": outsider.id()}).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.a.do("POST", path+"/reassign", map[string]any{"user_id": in.a.id()}).wantErr(http.StatusConflict, parley.ECONFLICT)
		outsider.do("POST", path+"/reassign", map[string]any{"user_id": in.b.id()}).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		aSock := in.a.connect()
		aSock.waitFor("hello")
		var d livechat.Dialog
		in.a.do("POST", path+"/reassign", map[string]any{"user_id": in.b.id()}).want(http.StatusOK).decode(&d)
		if d.Assignee == nil || d.Assignee.ID != in.b.id() {
			t.Fatalf("the answer to the reassignment: %+v", d.Assignee)
		}
		in.b.do("GET", path, nil).want(http.StatusOK).decode(&d)
		if d.Assignee == nil || d.Assignee.ID != in.b.id() || len(d.Consultants) != 1 || d.Consultants[0].ID != in.b.id() {
			t.Fatalf("after the reassignment: assignee %+v, connected %+v", d.Assignee, d.Consultants)
		}
		// Boris can answer at once.
		in.b.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"text": "Boris here"}).want(http.StatusCreated)
		aSock.waitFor(parley.EventConversationRemoved)

		// Anna can neither read nor write it any more, nor find it.
		in.a.do("GET", path, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.a.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil).want(http.StatusNotFound)
		in.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"text": "still here?"}).want(http.StatusNotFound)
		in.a.do("POST", path+"/connect", nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		if slices.Contains(names(in.list(in.a, "")), "Vera") {
			t.Fatal("Anna still lists Vera's dialog")
		}

		// Nor does she hear of it: Vera writes, then Olga; Anna hears Olga.
		in.vera.send("Anyone?")
		in.olga.send("Me again")
		for {
			var f map[string]any
			select {
			case f = <-aSock.frames:
			case <-time.After(15 * time.Second):
				t.Fatal("Anna heard nothing of Olga")
			}
			b, _ := json.Marshal(f["data"])
			var d livechat.Dialog
			var m parley.Message
			json.Unmarshal(b, &d)
			json.Unmarshal(b, &m)
			if (f["type"] == parley.EventDialogUpdated && d.Conversation.ID == conv) ||
				(f["type"] == parley.EventMessageCreated && m.ConversationID == conv) {
				t.Fatalf("Anna heard of the dialog reassigned away from her: %v", f)
			}
			if f["type"] == parley.EventDialogUpdated && d.Conversation.ID == in.dialogs["Olga"] {
				break
			}
		}

		// The ribbon says who reassigned to whom.
		var h httpapi.MessagePage
		in.b.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil).want(http.StatusOK).decode(&h)
		i := slices.IndexFunc(h.Messages, func(m *parley.Message) bool { return m.Event != nil && m.Event.Action == parley.ActionReassigned })
		if i < 0 {
			t.Fatal("no system line for the reassignment")
		}
		last := h.Messages[i]
		if last.Event == nil || last.Event.Action != parley.ActionReassigned || last.Event.ActorID != in.a.id() ||
			!slices.Equal(last.Event.UserIDs, []int64{in.b.id(), in.a.id()}) {
			t.Fatalf("the system line: %+v", last.Event)
		}

		// A manager reassigns a closed dialog without reopening it, and
		// back to Anna, who sees it again.
		in.b.do("POST", path+"/close", nil).want(http.StatusOK)
		in.admin.do("POST", path+"/reassign", map[string]any{"user_id": in.a.id()}).want(http.StatusOK).decode(&d)
		if d.Support.Status != parley.SupportClosed || d.Assignee.ID != in.a.id() {
			t.Fatalf("reassigning a closed dialog: %+v", d.Support)
		}
		in.a.do("GET", path, nil).want(http.StatusOK)
		in.b.do("GET", path, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	})
}

func TestInboxQuickReplies(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		lc.admin.do("PATCH", lc.path(""), map[string]any{"messages": map[string]any{
			"shortcuts": []map[string]any{{"name": "hours", "text": "We answer 9 to 18."}}}}).want(http.StatusOK)

		for _, bad := range []map[string]any{{"shortcut": "", "text": "x"}, {"shortcut": "two words", "text": "x"},
			{"shortcut": "x", "text": " "}, {"shortcut": "x", "text": string(make([]byte, 2001))}} {
			lc.a.do("POST", "/api/v1/quick-replies", bad).wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		var x parley.QuickReply
		lc.a.do("POST", "/api/v1/quick-replies", map[string]any{"shortcut": "/thanks", "text": "Thank you!"}).want(http.StatusCreated).decode(&x)
		if x.Shortcut != "thanks" || x.OwnerID != lc.a.id() {
			t.Fatalf("created %+v", x)
		}
		var list httpapi.QuickReplyList
		lc.a.do("GET", "/api/v1/quick-replies", nil).want(http.StatusOK).decode(&list)
		if len(list.QuickReplies) != 2 || list.QuickReplies[0].Shortcut != "thanks" ||
			list.QuickReplies[1].Shortcut != "hours" || list.QuickReplies[1].ProjectID != lc.project.ID {
			t.Fatalf("Anna's quick replies: %+v", list.QuickReplies)
		}
		// Someone else's quick replies are not theirs to see or change.
		lc.b.do("GET", "/api/v1/quick-replies", nil).want(http.StatusOK).decode(&list)
		if len(list.QuickReplies) != 1 {
			t.Fatalf("Boris sees %+v", list.QuickReplies)
		}
		lc.b.do("PATCH", fmt.Sprintf("/api/v1/quick-replies/%d", x.ID), map[string]any{"shortcut": "t", "text": "y"}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		lc.b.do("DELETE", fmt.Sprintf("/api/v1/quick-replies/%d", x.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		lc.a.do("PATCH", fmt.Sprintf("/api/v1/quick-replies/%d", x.ID), map[string]any{"shortcut": "ty", "text": "Thanks a lot!"}).
			want(http.StatusOK).decode(&x)
		if x.Shortcut != "ty" || x.Text != "Thanks a lot!" {
			t.Fatalf("changed %+v", x)
		}
		lc.a.do("DELETE", fmt.Sprintf("/api/v1/quick-replies/%d", x.ID), nil).want(http.StatusNoContent)
		lc.a.do("GET", "/api/v1/quick-replies", nil).want(http.StatusOK).decode(&list)
		if len(list.QuickReplies) != 1 {
			t.Fatalf("after deleting: %+v", list.QuickReplies)
		}
	})
}

func TestInboxBlockCustomer(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		conv := in.dialogs["Vera"]
		in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
		block := fmt.Sprintf("/api/v1/contacts/%d/block", in.contacts["Vera"])
		unblock := fmt.Sprintf("/api/v1/contacts/%d/unblock", in.contacts["Vera"])
		count := func() int {
			var h httpapi.MessagePage
			in.a.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil).want(http.StatusOK).decode(&h)
			return len(h.Messages)
		}

		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		outsider.do("POST", block, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.a.do("POST", "/api/v1/contacts/999999/block", nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		var k parley.Contact
		in.a.do("POST", block, nil).want(http.StatusOK).decode(&k)
		if !k.Blocked {
			t.Fatal("not blocked")
		}
		n := count()

		// Nothing reaches them, nothing comes from them, nothing is stored.
		e := in.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"text": "Hello?"}).
			wantErr(http.StatusConflict, parley.ECONFLICT)
		if e.Message == "" {
			t.Fatal("no reason given")
		}
		in.vera.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "blocked-1", "text": "Let me in"}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		if got := count(); got != n {
			t.Fatalf("%d messages after refused sends, want %d", got, n)
		}
		var d livechat.Dialog
		in.a.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", conv), nil).want(http.StatusOK).decode(&d)
		if !d.Contact.Blocked {
			t.Fatal("the dialog does not show the customer as blocked")
		}

		// Unblocking restores both ways; the ribbon records both changes.
		in.a.do("POST", unblock, nil).want(http.StatusOK).decode(&k)
		in.a.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]any{"text": "Welcome back"}).want(http.StatusCreated)
		in.vera.send("Thanks")
		var h httpapi.MessagePage
		in.a.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil).want(http.StatusOK).decode(&h)
		var actions []string
		for _, m := range h.Messages {
			if m.Event != nil {
				actions = append(actions, m.Event.Action)
			}
		}
		if !slices.Contains(actions, parley.ActionBlocked) || !slices.Contains(actions, parley.ActionUnblocked) {
			t.Fatalf("system lines: %v", actions)
		}
	})
}

// A consultant typing a whisper is staff-only drafting: colleagues hear of
// it, the visitor does not.
func TestWhisperTypingStaysWithStaff(t *testing.T) {
	s := newServer(t)
	in := newInbox(t, s)
	conv := in.dialogs["Vera"]
	in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
	vSock := in.vera.connect(0)
	vSock.waitFor("hello")
	bSock := in.b.connect()
	bSock.waitFor("hello")

	in.a.do("POST", convPath(conv, "/typing?whisper=true"), nil).want(http.StatusNoContent)
	if f := bSock.waitFor("typing"); f["data"].(map[string]any)["user_id"] != float64(in.a.id()) {
		t.Fatalf("a colleague's typing frame: %v", f)
	}
	in.a.do("POST", convPath(conv, "/typing?whisper=maybe"), nil).wantErr(http.StatusBadRequest, parley.EINVALID)
	in.a.do("POST", convPath(conv, "/messages"), map[string]any{"text": "Let me check"}).want(http.StatusCreated)
	for {
		var f map[string]any
		select {
		case f = <-vSock.frames:
		case <-time.After(15 * time.Second):
			t.Fatal("the visitor got no message")
		}
		if f["type"] == "typing" {
			t.Fatal("the visitor heard a whisper being typed")
		}
		if f["type"] == parley.EventMessageCreated {
			break
		}
	}
	// An ordinary reply's typing does reach the visitor.
	in.a.do("POST", convPath(conv, "/typing"), nil).want(http.StatusNoContent)
	vSock.waitFor("typing")
}

func TestInboxCustomerCard(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		in := newInbox(t, s)
		path := fmt.Sprintf("/api/v1/contacts/%d", in.contacts["Vera"])
		conv := in.dialogs["Vera"]
		in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", conv), nil).want(http.StatusOK)
		in.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/case", conv), map[string]any{"title": "Refund"}).want(http.StatusCreated)

		var card livechat.CustomerCard
		in.b.do("GET", path, nil).want(http.StatusOK).decode(&card)
		if card.Contact.Name != "Vera" || card.Contact.PageURL != "https://shop.example/Vera" || card.Contact.UTMSource != "newsletter" ||
			len(card.Dialogs) != 1 || card.Dialogs[0].Conversation.ID != conv || len(card.Cases) != 2 || card.Cases[0].Title != "Refund" || card.Cases[1].Source != parley.CaseFromOffline {
			t.Fatalf("Vera's card: %+v, dialogs %d, cases %+v", card.Contact, len(card.Dialogs), card.Cases)
		}

		// (Vera wrote while nobody was online: her message became a case
		// too.) The project's staff edit the card; bad input changes
		// nothing; others
		// do not see it.
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		outsider.do("GET", path, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("PATCH", path, map[string]any{"phone": "+1 555 0100"}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		in.b.do("PATCH", path, map[string]any{"email": "not an address"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.b.do("PATCH", path, map[string]any{"attributes": map[string]any{"": "x"}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		in.b.do("PATCH", path, map[string]any{"nickname": "V"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var k parley.Contact
		in.b.do("PATCH", path, map[string]any{"phone": "+1 555 0100", "attributes": map[string]any{"plan": "gold"}}).want(http.StatusOK).decode(&k)
		if k.Phone != "+1 555 0100" || k.Attributes["plan"] != "gold" || k.Name != "Vera" || k.Email != "" {
			t.Fatalf("after editing: %+v", k)
		}
	})
}

// Those who manage live chat see every dialog, so their lists stay live
// too, though they serve no project.
func TestInboxManagersHearEveryDialog(t *testing.T) {
	s := newServer(t)
	in := newInbox(t, s)
	sock := in.admin.connect()
	sock.waitFor("hello")
	in.olga.send("Still there?")
	d := waitDialog(t, sock, func(d *livechat.Dialog) bool { return d.Conversation.ID == in.dialogs["Olga"] })
	if d.LastMessage == nil || d.LastMessage.Text != "Still there?" {
		t.Fatalf("the administrator's dialog update: %+v", d.LastMessage)
	}
}
