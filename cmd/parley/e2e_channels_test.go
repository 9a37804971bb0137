package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/telegram/telegramfake"
	"github.com/parley-chat/parley/livechat"
)

// The channels' end-to-end tests: a real server with a fake of each
// service on 127.0.0.1, driven as the service and as the inbox's staff.

const botToken = "123456:TEST-token-value"

// channelView decodes a channel as the API shows it.
type channelView struct {
	parley.Channel
	SecretsSet []string          `json:"secrets_set"`
	WebhookURL string            `json:"webhook_url"`
	NewSecrets map[string]string `json:"new_secrets"`
}

// connectTelegram connects a Telegram channel to the live chat's project.
func connectTelegram(t *testing.T, lc *liveChat, fake *telegramfake.Server, mode string) channelView {
	t.Helper()
	lc.s.logs.secret(botToken)
	var ch channelView
	lc.admin.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": "telegram", "name": "Shop bot",
		"settings": map[string]string{"base_url": fake.URL(), "mode": mode}, "secrets": map[string]string{"token": botToken}}).
		want(http.StatusCreated).decode(&ch)
	if ch.LastError != "" {
		t.Fatalf("connecting the channel: %s", ch.LastError)
	}
	return ch
}

// dialogOf finds the dialog of the customer with the given address.
func dialogOf(t *testing.T, c *client, address string) *livechat.Dialog {
	t.Helper()
	var found *livechat.Dialog
	eventually(t, "the customer's dialog is listed", func() bool {
		var p livechat.DialogPage
		c.do("GET", "/api/v1/dialogs?channel=telegram", nil).want(http.StatusOK).decode(&p)
		for _, d := range p.Dialogs {
			if d.Contact != nil && d.Contact.Address == address {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

func TestTelegramChannel(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		fake := telegramfake.New(botToken)
		t.Cleanup(fake.Close)
		s := newServer(t, append(opts, withPublicURL())...)
		lc := newLiveChat(t, s)
		sock := lc.a.connect()
		sock.waitFor("hello")

		// Connecting: only the chat settings right; the token never comes
		// back, the webhook secret Parley generated is shown once.
		lc.a.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": "telegram", "name": "x",
			"secrets": map[string]string{"token": botToken}}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("GET", "/api/v1/channels", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.admin.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": "telegram", "name": "x"}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		lc.admin.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": "fax", "name": "x"}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		ch := connectTelegram(t, lc, fake, "webhook")
		if !strings.Contains(strings.Join(ch.SecretsSet, ","), "token") || ch.NewSecrets["webhook_secret"] == "" {
			t.Fatalf("secrets: set %v, new %v", ch.SecretsSet, ch.NewSecrets)
		}
		raw := lc.admin.do("GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), nil).want(http.StatusOK).Body
		if bytes.Contains(raw, []byte(botToken)) || bytes.Contains(raw, []byte(ch.NewSecrets["webhook_secret"])) {
			t.Fatalf("a secret came back: %s", raw)
		}
		if url, secret := fake.Webhook(); url != ch.WebhookURL || secret != ch.NewSecrets["webhook_secret"] {
			t.Fatalf("webhook set to %q with %q; want %q", url, secret, ch.WebhookURL)
		}
		// Nobody without the chat settings right reads, changes, tests or
		// removes it, and a refusal changes nothing.
		chPath := fmt.Sprintf("/api/v1/channels/%d", ch.ID)
		lc.a.do("GET", chPath, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("PATCH", chPath, map[string]any{"name": "hijacked", "paused": true}).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("POST", chPath+"/test", nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		lc.a.do("DELETE", chPath, nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		var still channelView
		lc.admin.do("GET", chPath, nil).want(http.StatusOK).decode(&still)
		if still.Name != "Shop bot" || still.Paused {
			t.Fatalf("a refused change changed the channel: %+v", still.Channel)
		}
		var test channel.TestResult
		lc.admin.do("POST", fmt.Sprintf("/api/v1/channels/%d/test", ch.ID), nil).want(http.StatusOK).decode(&test)
		if !test.OK || !strings.Contains(test.Detail, "@parley_test_bot") {
			t.Fatalf("test connection: %+v", test)
		}

		// A customer writes: their dialog opens in the project, like a
		// widget's, with the channel.
		up, status := fake.Deliver(telegramfake.Update{ChatID: 555001, FirstName: "Tom", Text: "Hi from Telegram"}, "")
		if status != http.StatusOK {
			t.Fatalf("webhook answered %d", status)
		}
		d := dialogOf(t, lc.a, "555001")
		if d.Support.Channel != "telegram" || d.Support.ChannelID != ch.ID || d.Contact.Name != "Tom" || d.ChannelName != "Shop bot" {
			t.Fatalf("dialog: %+v contact %+v", d.Support, d.Contact)
		}
		waitData(t, sock, "message.created", func(m *parley.Message) bool { return m.Text == "Hi from Telegram" })

		// Delivered again (Telegram retries): stored once. A wrong secret:
		// refused, nothing stored.
		if status := fake.Redeliver(up, ""); status != http.StatusOK {
			t.Fatalf("redelivery answered %d", status)
		}
		if _, status := fake.Deliver(telegramfake.Update{ChatID: 555001, FirstName: "Tom", Text: "forged"}, "wrong"); status != http.StatusUnauthorized {
			t.Fatalf("a wrong secret answered %d", status)
		}
		if got := texts(lc.admin.history(d.Conversation.ID, "")); !sameStrings(got, []string{"Hi from Telegram"}) {
			t.Fatalf("history after a redelivery and a forgery: %q", got)
		}

		// A photo: fetched into Parley's files.
		photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 64)
		fake.Deliver(telegramfake.Update{ChatID: 555001, FirstName: "Tom", Text: "the receipt", File: photo, Photo: true}, "")
		var got *parley.Message
		eventually(t, "the photo is stored", func() bool {
			for _, m := range lc.admin.history(d.Conversation.ID, "") {
				if m.Text == "the receipt" && len(m.Files) == 1 {
					got = m
					return true
				}
			}
			return false
		})
		if body := lc.a.do("GET", fmt.Sprintf("/api/v1/files/%d", got.Files[0].ID), nil).want(http.StatusOK).Body; !bytes.Equal(body, photo) {
			t.Fatalf("the stored photo has %d bytes, want %d", len(body), len(photo))
		}

		// A reply goes out through the bot, as an answer to the quoted
		// message; its status follows what Telegram answered.
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
		reply := lc.a.sendBody(d.Conversation.ID, map[string]any{"text": "Hello Tom", "quote_id": got.ID})
		if reply.Status != parley.StatusQueued {
			t.Fatalf("a reply is %q until Telegram takes it", reply.Status)
		}
		waitData(t, sock, "message.updated", func(m *parley.Message) bool { return m.ID == reply.ID && m.Status == parley.StatusSent })
		sent := fake.Sent()
		if len(sent) != 1 || sent[0].Text != "Hello Tom" || sent[0].ChatID != 555001 || sent[0].ReplyTo == 0 {
			t.Fatalf("Telegram got %+v", sent)
		}

		// A file: within Telegram's limits, and refused over them.
		up2 := lc.a.upload("plan.pdf", "application/pdf", []byte("%PDF-1.4 plan")).want(http.StatusCreated)
		var f parley.File
		up2.decode(&f)
		lc.a.sendBody(d.Conversation.ID, map[string]any{"text": "the plan", "file_ids": []int64{f.ID}})
		eventually(t, "the document is sent", func() bool {
			s := fake.Sent()
			return len(s) == 2 && s[1].Method == "sendDocument" && s[1].FileName == "plan.pdf" && s[1].Text == "the plan"
		})
		big := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 11<<18) // 11 MB "image"
		resp := lc.a.uploadTo(d.Conversation.ID, "huge.png", "image/png", big)
		if detail := resp.wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE); !strings.Contains(detail.Message, "10 MB") {
			t.Fatalf("the limit is not named: %q", detail.Message)
		}

		// Telegram throttles: nothing is lost, and the replies leave in
		// order once it lets the bot send again.
		fake.Throttle(1500*time.Millisecond, 1)
		first := lc.a.send(d.Conversation.ID, "one")
		second := lc.a.send(d.Conversation.ID, "two")
		eventually(t, "both throttled replies are sent", func() bool { return len(fake.Sent()) == 4 })
		if s := fake.Sent(); s[2].Text != "one" || s[3].Text != "two" {
			t.Fatalf("order after throttling: %q, %q", s[2].Text, s[3].Text)
		}
		for _, m := range []parley.Message{first, second} {
			eventually(t, "the throttled reply is sent", func() bool {
				var got parley.Message
				lc.a.do("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil).want(http.StatusOK).decode(&got)
				return got.Status == parley.StatusSent
			})
		}

		// The customer blocked the bot: the reply fails with the reason.
		fake.Refuse(1, 403, "Forbidden: bot was blocked by the user")
		blocked := lc.a.send(d.Conversation.ID, "are you there?")
		m := waitData(t, sock, "message.updated", func(m *parley.Message) bool { return m.ID == blocked.ID && m.Status == parley.StatusFailed })
		if !strings.Contains(m.StatusError, "blocked") {
			t.Fatalf("the failure's reason: %q", m.StatusError)
		}
	})
}

// uploadTo uploads a file for a conversation: its channel's limits apply
// before the file is read.
func (c *client) uploadTo(convID int64, name, contentType string, data []byte) *response {
	c.t.Helper()
	hc := *c
	hc.header = c.header.Clone()
	hc.header.Set("Content-Type", contentType)
	return hc.do("POST", fmt.Sprintf("/api/v1/files?conversation_id=%d&name=%s", convID, url.QueryEscape(name)), data)
}

// A bot behind NAT polls Telegram: updates are confirmed only once stored.
// Paused, it neither polls nor sends; resumed, it catches up.
func TestTelegramPolling(t *testing.T) {
	fake := telegramfake.New(botToken)
	t.Cleanup(fake.Close)
	s := newServer(t)
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	ch := connectTelegram(t, lc, fake, "polling")
	if url, _ := fake.Webhook(); url != "" {
		t.Fatalf("a polling bot has a webhook: %q", url)
	}
	fake.Queue(telegramfake.Update{ChatID: 777, FirstName: "Pia", Text: "polled in"})
	d := dialogOf(t, lc.a, "777")
	eventually(t, "the update is confirmed", func() bool { return fake.Pending() == 0 })

	lc.admin.do("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), map[string]any{"paused": true}).want(http.StatusOK)
	time.Sleep(300 * time.Millisecond) // the worker stops
	calls := fake.Calls("getUpdates")
	fake.Queue(telegramfake.Update{ChatID: 777, FirstName: "Pia", Text: "while paused"})
	lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	r := lc.a.send(d.Conversation.ID, "queued while paused")
	time.Sleep(time.Second)
	if fake.Calls("getUpdates") > calls+1 || len(fake.Sent()) != 0 || fake.Pending() != 1 {
		t.Fatalf("paused: %d polls since, %d sent, %d pending", fake.Calls("getUpdates")-calls, len(fake.Sent()), fake.Pending())
	}
	lc.admin.do("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), map[string]any{"paused": false}).want(http.StatusOK)
	eventually(t, "the queued reply leaves on resume", func() bool { return len(fake.Sent()) == 1 && fake.Sent()[0].Text == r.Text })
	eventually(t, "the update kept meanwhile arrives", func() bool {
		return sameStrings(texts(lc.a.history(d.Conversation.ID, "")), []string{"polled in", "queued while paused", "while paused"})
	})
}

// Replies queued when the server stops leave after it starts again.
func TestChannelQueueSurvivesRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		fake := telegramfake.New(botToken)
		t.Cleanup(fake.Close)
		dir := t.TempDir()
		s := newServer(t, append(opts, withDataDir(dir), withPublicURL())...)
		lc := newLiveChat(t, s)
		lc.a.connect().waitFor("hello")
		connectTelegram(t, lc, fake, "webhook")
		fake.Deliver(telegramfake.Update{ChatID: 901, FirstName: "Rita", Text: "hello?"}, "")
		d := dialogOf(t, lc.a, "901")
		lc.a.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
		fake.Throttle(time.Hour, 2)
		for _, text := range []string{"first", "second", "third"} {
			lc.a.send(d.Conversation.ID, text)
		}
		eventually(t, "the throttled reply is retried later", func() bool { return fake.Calls("sendMessage") >= 1 })
		s.stop()

		fake.Throttle(0, 0)
		s2 := newServer(t, append(opts, withDataDir(dir))...)
		_ = s2
		eventually(t, "the queue drains after the restart", func() bool { return len(fake.Sent()) == 3 })
		if got := []string{fake.Sent()[0].Text, fake.Sent()[1].Text, fake.Sent()[2].Text}; !sameStrings(got, []string{"first", "second", "third"}) {
			t.Fatalf("after the restart: %q", got)
		}
	})
}

// With automatic case creation, each new dialog of the channel opens a
// case with where the customer came from.
func TestChannelAutoCase(t *testing.T) {
	fake := telegramfake.New(botToken)
	t.Cleanup(fake.Close)
	s := newServer(t, withPublicURL())
	lc := newLiveChat(t, s)
	lc.a.connect().waitFor("hello")
	ch := connectTelegram(t, lc, fake, "webhook")
	lc.admin.do("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), map[string]any{"auto_case": true}).want(http.StatusOK)
	fake.Deliver(telegramfake.Update{ChatID: 4242, FirstName: "Olga", Text: "My order #77 is late"}, "")
	fake.Deliver(telegramfake.Update{ChatID: 4242, FirstName: "Olga", Text: "Any news?"}, "")
	d := dialogOf(t, lc.a, "4242")
	eventually(t, "both messages are stored", func() bool { return len(texts(lc.a.history(d.Conversation.ID, ""))) == 2 })
	var cases struct {
		Cases []parley.Case `json:"cases"`
	}
	lc.admin.do("GET", fmt.Sprintf("/api/v1/cases?project_id=%d", lc.project.ID), nil).want(http.StatusOK).decode(&cases)
	if len(cases.Cases) != 1 {
		t.Fatalf("%d cases for one new dialog", len(cases.Cases))
	}
	k := cases.Cases[0]
	if k.Source != parley.CaseFromChannel || k.ConversationID != d.Conversation.ID || !strings.Contains(k.Title, "Shop bot") ||
		!strings.Contains(k.Description, "Address: 4242") {
		t.Fatalf("the case: %+v", k)
	}
}
