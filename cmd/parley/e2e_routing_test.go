package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/livechat"
	"github.com/parley-chat/parley/routing"
)

// TestDistribution drives the distribution through the API as managers and
// a supervisor would: settings refused when wrong and changing nothing,
// availability, a live assignment with its explanation, a dialog that
// waits and says why, a freed place pulling it, the queue view, and an
// assignment heard after a reconnect.
func TestDistribution(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		outsider := s.newUser(t, parley.RoleAgent, "Otto Outsider")
		path := lc.path("")

		// Every setting is validated; a refusal changes nothing.
		for _, bad := range []struct {
			dist  map[string]any
			field string
		}{
			{map[string]any{"policy": "lottery"}, "distribution.policy"},
			{map[string]any{"policy": "fewest_open", "capacity": -1}, "distribution.capacity"},
			{map[string]any{"policy": "fewest_open", "project_capacity": -5}, "distribution.project_capacity"},
			{map[string]any{"policy": "fewest_open", "burst": 100000}, "distribution.burst"},
			{map[string]any{"policy": "fewest_open", "managers": []map[string]any{{"user_id": outsider.id(), "capacity": 2}}}, "distribution.managers"},
			{map[string]any{"policy": "fewest_open", "managers": []map[string]any{{"user_id": lc.a.id(), "capacity": 0}}}, "distribution.managers"},
			{map[string]any{"policy": "fewest_open", "channels": map[string]any{"pigeon": []int64{lc.a.id()}}}, "distribution.channels"},
			{map[string]any{"policy": "fewest_open", "channels": map[string]any{"whatsapp": []int64{outsider.id()}}}, "distribution.channels"},
		} {
			e := lc.admin.do("PATCH", path, map[string]any{"distribution": bad.dist}).wantErr(http.StatusBadRequest, parley.EINVALID)
			if e.Field != bad.field {
				t.Errorf("%v: field %q, want %q", bad.dist, e.Field, bad.field)
			}
		}
		lc.a.do("PATCH", path, map[string]any{"distribution": map[string]any{"policy": "fewest_open"}}).
			wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var p parley.Project
		lc.admin.do("GET", path, nil).want(http.StatusOK).decode(&p)
		if p.Distribution.Policy != parley.PolicyOff || p.Distribution.Capacity != 0 {
			t.Fatalf("refused settings changed the project: %+v", p.Distribution)
		}

		// Fewest open, one dialog each (Anna two).
		lc.admin.do("PATCH", path, map[string]any{"distribution": map[string]any{"policy": "fewest_open", "capacity": 1,
			"managers": []map[string]any{{"user_id": lc.a.id(), "capacity": 2}}}}).want(http.StatusOK).decode(&p)
		if p.Distribution.CapacityOf(lc.a.id()) != 2 || p.Distribution.CapacityOf(lc.b.id()) != 1 {
			t.Fatalf("settings: %+v", p.Distribution)
		}

		// Availability: yours to set, one of three values.
		lc.a.do("PUT", "/api/v1/me/availability", map[string]any{"availability": "away"}).wantErr(http.StatusBadRequest, parley.EINVALID)
		var ag parley.Agent
		lc.a.do("GET", "/api/v1/me/availability", nil).want(http.StatusOK).decode(&ag)
		if ag.Availability != parley.Available {
			t.Fatalf("default availability %q", ag.Availability)
		}
		adminSock := lc.admin.connect()
		adminSock.waitFor("hello")
		lc.aSock, lc.bSock = lc.a.connect(), lc.b.connect()
		lc.aSock.waitFor("hello")
		lc.bSock.waitFor("hello")
		lc.a.do("PUT", "/api/v1/me/availability", map[string]any{"availability": "busy"}).want(http.StatusOK).decode(&ag)
		if ag.Availability != parley.Busy {
			t.Fatalf("availability %q after setting busy", ag.Availability)
		}
		waitData(t, adminSock, parley.EventAgentUpdated, func(a *parley.Agent) bool { return a.UserID == lc.a.id() && a.Availability == parley.Busy })

		// A visitor writes: Anna is busy, Boris gets the dialog, live.
		vera := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		vera.send("Hello, my order is late")
		d := waitDialog(t, lc.bSock, func(d *livechat.Dialog) bool { return d.Assignee != nil && d.Assignee.ID == lc.b.id() })
		conv := d.Conversation.ID
		var h httpapi.MessagePage
		lc.b.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), nil).want(http.StatusOK).decode(&h)
		i := slices.IndexFunc(h.Messages, func(m *parley.Message) bool { return m.Event != nil && m.Event.Action == parley.ActionRouted })
		if i < 0 {
			t.Fatal("no routed line in the ribbon")
		}
		line := h.Messages[i].Event.Routing
		if line == nil || line.ChosenID != lc.b.id() || !slices.Equal(h.Messages[i].Event.UserIDs, []int64{lc.b.id()}) ||
			line.Candidates != 3 || line.Skipped[parley.SkipBusy] != 1 || line.Trigger != parley.TriggerWaiting {
			t.Fatalf("routed line %+v", h.Messages[i].Event.Routing)
		}
		// The whole decision, to those who see the dialog.
		routingPath := fmt.Sprintf("/api/v1/messages/%d/routing", h.Messages[i].ID)
		outsider.do("GET", routingPath, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		lc.b.do("GET", fmt.Sprintf("/api/v1/messages/%d/routing", h.Messages[0].ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var dec *parley.RoutingDecision
		lc.b.do("GET", routingPath, nil).want(http.StatusOK).decode(&dec)
		if dec.ChosenID != lc.b.id() || dec.Summary != line.Summary {
			t.Fatalf("the decision %+v does not match its line %+v", dec, line)
		}
		verdict := func(dec *parley.RoutingDecision, id int64) parley.RoutingVerdict {
			for _, v := range dec.Verdicts {
				if v.UserID == id {
					return v
				}
			}
			t.Fatalf("no verdict for user %d in %+v", id, dec.Verdicts)
			return parley.RoutingVerdict{}
		}
		if v := verdict(dec, lc.a.id()); v.Skip != parley.SkipBusy {
			t.Errorf("Anna's verdict %+v, want busy", v)
		}
		if v := verdict(dec, lc.l2.id()); v.Skip != parley.SkipLevel {
			t.Errorf("the level-2 specialist's verdict %+v, want level", v)
		}
		if want, _ := json.Marshal(routing.Decide(dec.Snapshot)); string(want) != string(mustJSON(t, dec)) {
			t.Errorf("the recorded decision is not Decide on its snapshot")
		}
		// The visitor never sees the line.
		for _, m := range vera.history().Messages {
			if m.Event != nil && m.Event.Action == parley.ActionRouted {
				t.Fatal("the visitor sees the distribution's line")
			}
		}

		// A second visitor waits, and the list says why.
		olga := s.visitor(t, lc.project.Key, map[string]any{"name": "Olga"})
		olga.send("Hi")
		note := waitData(t, adminSock, parley.EventQueueUpdated, func(n *routing.QueueNote) bool { return n.Note != "" })
		if want := "nobody eligible: 1 busy, 1 at capacity"; note.Note != want || note.Level != 1 || note.ProjectID != lc.project.ID {
			t.Fatalf("queue note %+v, want %q", note, want)
		}
		var page livechat.DialogPage
		lc.admin.do("GET", "/api/v1/dialogs?assignee=0", nil).want(http.StatusOK).decode(&page)
		if len(page.Dialogs) != 1 || page.Dialogs[0].QueueNote != note.Note {
			t.Fatalf("the unassigned dialog in the list: %+v", page.Dialogs)
		}
		olgaConv := page.Dialogs[0].Conversation.ID

		// The supervisor's queue view; managers may not see it.
		lc.a.do("GET", lc.path("/queue"), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var q routing.QueueView
		lc.admin.do("GET", lc.path("/queue"), nil).want(http.StatusOK).decode(&q)
		if q.Waiting[1] != 1 || len(q.Dialogs) != 1 || q.Dialogs[0].ID != olgaConv || q.Notes[1] != note.Note {
			t.Fatalf("queue view %+v", q)
		}
		loads := map[int64]routing.ManagerLoad{}
		for _, m := range q.Managers {
			loads[m.UserID] = m
		}
		if m := loads[lc.b.id()]; m.Load != 1 || m.Capacity != 1 || !m.Online {
			t.Fatalf("Boris in the queue view: %+v", m)
		}
		if m := loads[lc.a.id()]; m.Availability != parley.Busy || m.Capacity != 2 {
			t.Fatalf("Anna in the queue view: %+v", m)
		}

		// Boris cannot take it past his capacity; the refusal changes nothing.
		lc.b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", olgaConv), nil).wantErr(http.StatusConflict, parley.ECONFLICT)
		var od livechat.Dialog
		lc.admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", olgaConv), nil).want(http.StatusOK).decode(&od)
		if od.Assignee != nil || len(od.Consultants) != 0 {
			t.Fatalf("a refused take changed the dialog: %+v", od)
		}

		// The admin's socket drops; Anna becomes available and gets Olga,
		// live; the admin, resuming, hears of it.
		adminSock.ws.CloseNow()
		probe := lc.admin.connect()
		cursor := int64(probe.waitFor("hello")["cursor"].(float64))
		probe.ws.CloseNow()
		lc.a.do("PUT", "/api/v1/me/availability", map[string]any{"availability": "available"}).want(http.StatusOK)
		waitDialog(t, lc.aSock, func(d *livechat.Dialog) bool {
			return d.Conversation.ID == olgaConv && d.Assignee != nil && d.Assignee.ID == lc.a.id()
		})
		resumed := lc.admin.connectAt(cursor)
		waitDialog(t, resumed, func(d *livechat.Dialog) bool {
			return d.Conversation.ID == olgaConv && d.Assignee != nil && d.Assignee.ID == lc.a.id()
		})
		waitData(t, resumed, parley.EventQueueUpdated, func(n *routing.QueueNote) bool { return n.ProjectID == lc.project.ID && n.Note == "" })

		// Anna transfers Olga to level 2, whose only specialist is offline:
		// the dialog waits at level 2, saying why; when Lena comes online
		// (her device connects) it is hers, live.
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/transfer", olgaConv), map[string]any{}).want(http.StatusOK)
		l2note := waitData(t, resumed, parley.EventQueueUpdated, func(n *routing.QueueNote) bool { return n.Level == 2 && n.Note != "" })
		if want := "its only manager: offline"; l2note.Note != want {
			t.Fatalf("level-2 note %q, want %q", l2note.Note, want)
		}
		lc.l2Sock = lc.l2.connect()
		waitDialog(t, resumed, func(d *livechat.Dialog) bool {
			return d.Conversation.ID == olgaConv && d.Assignee != nil && d.Assignee.ID == lc.l2.id() && d.Support.Level == 2
		})

		// Boris closes Vera's dialog: his place is free, the queue is empty.
		lc.b.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/close", conv), nil).want(http.StatusOK)
		q = routing.QueueView{}
		lc.admin.do("GET", lc.path("/queue"), nil).want(http.StatusOK).decode(&q)
		if q.Waiting[1] != 0 || q.Waiting[2] != 0 || len(q.Dialogs) != 0 || q.Notes[1] != "" || q.Notes[2] != "" {
			t.Fatalf("queue view after the assignments: %+v", q)
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
