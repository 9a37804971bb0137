package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
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
