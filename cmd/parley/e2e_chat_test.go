package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/messaging"
)

// TestChatBasics drives mentions, reactions, threads and mutes over HTTP
// and the WebSocket: a reaction and a thread reply reach another member
// live, a member who was away gets them on resume, and who is no member is
// refused.
func TestChatBasics(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		ann := s.newUser(t, parley.RoleMember, "Ann")
		bea := s.newUser(t, parley.RoleMember, "Bea Lee")
		cal := s.newUser(t, parley.RoleMember, "Cal")
		out := s.newUser(t, parley.RoleMember, "Out")
		g := ann.group("Team", bea, cal)
		root := ann.send(g.ID, "Who takes the release?")

		cursor := func(c *client) int64 {
			sock := c.connect()
			hello := sock.waitFor("hello")
			sock.ws.Close(websocket.StatusNormalClosure, "")
			return int64(hello["cursor"].(float64))
		}
		calAt := cursor(cal)
		live := bea.connect()
		live.waitFor("hello")

		// Cal mutes the chat; the mention still counts for him.
		var mute messaging.MuteState
		cal.do("PUT", fmt.Sprintf("/api/v1/conversations/%d/mute", g.ID), map[string]any{}).want(http.StatusOK).decode(&mute)
		if !mute.Muted {
			t.Fatalf("mute %+v", mute)
		}

		// A reaction reaches Bea live.
		thumbs := "/api/v1/messages/" + itoa(root.ID) + "/reactions/" + url.PathEscape("👍")
		var rl httpapi.ReactionList
		ann.do("PUT", thumbs, nil).want(http.StatusOK).decode(&rl)
		if len(rl.Reactions) != 1 || rl.Reactions[0].Emoji != "👍" || rl.Reactions[0].UserIDs[0] != ann.id() {
			t.Fatalf("reactions %+v", rl)
		}
		f := live.waitFor(parley.EventReaction)
		if d := f["data"].(map[string]any); d["message_id"].(float64) != float64(root.ID) || d["added"] != true {
			t.Errorf("reaction frame %v", f)
		}

		// Bea replies in the thread over the WebSocket, mentioning Cal;
		// the retry with the same client id is the same message.
		frame := func(req int) []byte {
			b, _ := json.Marshal(map[string]any{"type": "send", "req": req, "conversation_id": g.ID, "client_id": "th-1",
				"text": "I do, @Cal reviews", "thread_id": root.ID})
			return b
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var reply parley.Message
		for req := 1; req <= 2; req++ {
			if err := live.ws.Write(ctx, websocket.MessageText, frame(req)); err != nil {
				t.Fatal(err)
			}
			ack := live.waitFor("ack")
			b, _ := json.Marshal(ack["message"])
			var m parley.Message
			json.Unmarshal(b, &m)
			if m.ThreadID != root.ID || m.Mentions == nil || !slices.Equal(m.Mentions.UserIDs, []int64{cal.id()}) {
				t.Fatalf("ack %v", ack)
			}
			if req == 2 && m.ID != reply.ID {
				t.Errorf("the retry stored a second reply: %d, %d", reply.ID, m.ID)
			}
			reply = m
		}

		// The thread's page, and the main timeline without the reply.
		var th messaging.ThreadPage
		ann.do("GET", fmt.Sprintf("/api/v1/messages/%d/thread", root.ID), nil).want(http.StatusOK).decode(&th)
		if th.Root.Thread == nil || th.Root.Thread.Replies != 1 || len(th.Replies) != 1 || th.Replies[0].ID != reply.ID ||
			len(th.Root.Reactions) != 1 {
			t.Errorf("thread %+v %+v", th.Root, th.Replies)
		}
		for _, m := range ann.history(g.ID, "") {
			if m.ID == reply.ID {
				t.Error("the thread reply is in the main timeline")
			}
		}
		if v := cal.conversation(g.ID); !v.Muted || v.Mentions != 1 {
			t.Errorf("Cal's view: muted %v, mentions %d", v.Muted, v.Mentions)
		}

		// Cal, away since before all this, gets it all on resume: the
		// mute, the reaction, the root's summary and the reply.
		back := cal.connectAt(calAt)
		back.waitFor("hello")
		back.waitFor(parley.EventMuted)
		back.waitFor(parley.EventReaction)
		up := back.waitFor(parley.EventMessageUpdated)
		if d := up["data"].(map[string]any); d["id"].(float64) != float64(root.ID) || d["thread"] == nil {
			t.Errorf("root update %v", up)
		}
		cr := back.waitFor(parley.EventMessageCreated)
		if d := cr["data"].(map[string]any); d["id"].(float64) != float64(reply.ID) || d["thread_id"].(float64) != float64(root.ID) {
			t.Errorf("reply frame %v", cr)
		}

		// Refused: who is no member, a word for an emoji, a mute in the past.
		out.do("PUT", thumbs, nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		out.do("GET", fmt.Sprintf("/api/v1/messages/%d/thread", root.ID), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		out.do("PUT", fmt.Sprintf("/api/v1/conversations/%d/mute", g.ID), map[string]any{}).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		out.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", g.ID), map[string]any{"text": "x", "thread_id": root.ID}).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		ann.do("PUT", "/api/v1/messages/"+itoa(root.ID)+"/reactions/yes", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		cal.do("PUT", fmt.Sprintf("/api/v1/conversations/%d/mute", g.ID), map[string]any{"until": "2000-01-01T00:00:00Z"}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		ann.do("DELETE", thumbs, nil).want(http.StatusOK).decode(&rl)
		if len(rl.Reactions) != 0 {
			t.Errorf("after removal %+v", rl)
		}
		cal.do("DELETE", fmt.Sprintf("/api/v1/conversations/%d/mute", g.ID), nil).want(http.StatusOK).decode(&mute)
		if mute.Muted {
			t.Error("still muted")
		}
	})
}
