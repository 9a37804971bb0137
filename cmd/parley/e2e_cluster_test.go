package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channel/telegram/telegramfake"
)

// natsURL is the NATS of PARLEY_TEST_NATS; without it the test skips,
// except under CI, where it fails.
func natsURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_NATS")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PARLEY_TEST_NATS is not set; CI must run the NATS tests")
		}
		t.Skip("PARLEY_TEST_NATS is not set (e.g. nats://127.0.0.1:4222)")
	}
	return u
}

// TestTwoNodes runs two servers on one PostgreSQL and one NATS, as a
// scaled-out deployment does: what happens on one node reaches sockets on
// the other.
func TestTwoNodes(t *testing.T) {
	nats := natsURL(t)
	db := postgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	subject := "parley.test." + hex.EncodeToString(b[:])
	cluster := func(c *Config) { c.NATS, c.NATSSubject = nats, subject }
	n1 := newServer(t, withDatabase(db), cluster)
	n2 := newServer(t, withDatabase(db), cluster)

	ann := n1.newUser(t, "member", "Ann")
	bob := n2.login(t, n1.newUser(t, "member", "Bob").user.Email, testPassword)
	conv := ann.direct(bob)
	bobSocket := bob.connect()
	bobSocket.waitFor("hello")

	bob.do("POST", convPath(conv.ID, "/allow"), nil).want(http.StatusOK)
	annSocket := ann.connect()
	annSocket.waitFor("hello")

	m := ann.send(conv.ID, "across the cluster")
	for {
		f := bobSocket.waitFor("message.created")
		if data, _ := f["data"].(map[string]any); data["text"] == "across the cluster" {
			break
		}
	}
	// Bob's node recorded the delivery; Ann, on the other node, sees it.
	for {
		f := annSocket.waitFor("conversation.receipts")
		data, _ := f["data"].(map[string]any)
		if seq, _ := data["delivered_seq"].(float64); int64(seq) >= m.Seq {
			break
		}
	}
	bob.do("POST", convPath(conv.ID, "/typing"), nil).want(http.StatusNoContent)
	annSocket.waitFor("typing")
	if !strings.Contains(n2.url, "127.0.0.1") {
		t.Fatalf("unexpected node URL %s", n2.url)
	}
}

// TestChannelAcrossNodes: one node at a time polls a bot and sends its
// queue, whichever node the reply was written on; when that node stops,
// the other takes the channel over and nothing is lost.
func TestChannelAcrossNodes(t *testing.T) {
	nats := natsURL(t)
	db := postgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	subject := "parley.test." + hex.EncodeToString(b[:])
	cluster := func(c *Config) { c.NATS, c.NATSSubject = nats, subject }
	fake := telegramfake.New(botToken)
	t.Cleanup(fake.Close)
	n1 := newServer(t, withDatabase(db), cluster)
	lc := newLiveChat(t, n1)
	connectTelegram(t, lc, fake, "polling")
	eventually(t, "the first node polls", func() bool { return fake.Calls("getUpdates") > 0 })
	n2 := newServer(t, withDatabase(db), cluster)
	agent := n2.login(t, lc.a.user.Email, testPassword)
	agent.connect().waitFor("hello")

	fake.Queue(telegramfake.Update{ChatID: 31337, FirstName: "Nina", Text: "hello cluster"})
	d := dialogOf(t, agent, "31337")
	agent.do("POST", fmt.Sprintf("/api/v1/dialogs/%d/connect", d.Conversation.ID), nil).want(http.StatusOK)
	agent.send(d.Conversation.ID, "answered on the other node")
	eventually(t, "the reply leaves through the node holding the bot", func() bool { return len(fake.Sent()) == 1 })

	n1.stop()
	fake.Queue(telegramfake.Update{ChatID: 31337, FirstName: "Nina", Text: "still there?"})
	agent.send(d.Conversation.ID, "yes")
	eventually(t, "the second node takes the bot over", func() bool {
		got := texts(agent.history(d.Conversation.ID, ""))
		return len(fake.Sent()) == 2 && len(got) == 4 && slices.Contains(got, "still there?")
	})
	if n := fake.MaxConcurrentPolls(); n != 1 {
		t.Fatalf("%d nodes polled the bot at once", n)
	}
}
