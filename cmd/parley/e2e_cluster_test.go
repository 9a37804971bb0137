package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
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

// newCluster returns the option that makes a server a node of a new
// cluster: one fresh PostgreSQL schema and one NATS subject for all of
// its nodes.
func newCluster(t *testing.T) serverOption {
	nats := natsURL(t)
	db := postgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	subject := "parley.test." + hex.EncodeToString(b[:])
	return func(c *Config) { c.Database, c.NATS, c.NATSSubject = db, nats, subject }
}

// TestTwoNodes runs two servers on one PostgreSQL and one NATS, as a
// scaled-out deployment does: what happens on one node reaches sockets on
// the other.
func TestTwoNodes(t *testing.T) {
	cluster := newCluster(t)
	n1 := newServer(t, cluster)
	n2 := newServer(t, cluster)

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
	cluster := newCluster(t)
	fake := telegramfake.New(botToken)
	t.Cleanup(fake.Close)
	n1 := newServer(t, cluster)
	lc := newLiveChat(t, n1)
	connectTelegram(t, lc, fake, "polling")
	eventually(t, "the first node polls", func() bool { return fake.Calls("getUpdates") > 0 })
	n2 := newServer(t, cluster)
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
		return len(fake.Sent()) >= 2 && len(got) == 4 && slices.Contains(got, "still there?")
	})
	// A reply the service took before the node stopped is not sent again.
	if sent := fake.Sent(); len(sent) != 2 || sent[0].Text != "answered on the other node" || sent[1].Text != "yes" {
		t.Fatalf("the bot sent %+v, want each reply once", sent)
	}
	if n := fake.MaxConcurrentPolls(); n != 1 {
		t.Fatalf("%d nodes polled the bot at once", n)
	}
}

// TestStreamAcrossNodes commits from three nodes at once while readers
// drop their sockets and resume on a random node, again and again: each
// reader receives every event it is entitled to (what the store gives it
// since its first cursor), exactly once and in stream order, so each
// conversation's messages arrive in their order with no gap.
func TestStreamAcrossNodes(t *testing.T) {
	cluster := newCluster(t)
	nodes := []*testServer{newServer(t, cluster)}
	nodes = append(nodes, newServer(t, cluster), newServer(t, cluster))

	var writers, readers []*client
	for i := range 3 {
		w := nodes[0].newUser(t, "member", fmt.Sprintf("Writer %d", i))
		writers = append(writers, nodes[i].login(t, w.user.Email, testPassword))
		readers = append(readers, nodes[0].newUser(t, "member", fmt.Sprintf("Reader %d", i)))
	}
	everyone := append(append([]*client{}, writers[1:]...), readers...)
	convs := []int64{writers[0].group("one", everyone...).ID, writers[0].group("two", everyone...).ID}

	const perWriter = 60
	results := make([]*streamReader, len(readers))
	for i, r := range readers {
		// Each reader's stream starts before the first message: its base
		// is the cursor of its first hello. (A reader whose first rounds
		// were too short to connect once started after a message, and
		// rightly never heard it.)
		g := &streamReader{seqs: map[int64][]int64{}}
		results[i] = g
		for g.cursor == 0 {
			if err := g.readFor(nodes[i], r.token, 300*time.Millisecond); err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range readers {
		g := results[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ; round++ {
				last := false
				d := time.Duration(30+mrand.IntN(250)) * time.Millisecond
				select {
				case <-stop:
					last, d = true, 3*time.Second // hears the end
				default:
				}
				if err := g.readFor(nodes[mrand.IntN(len(nodes))], r.token, d); err != nil {
					t.Errorf("reader %d, round %d: %v", i, round, err)
					return
				}
				if last {
					return
				}
			}
		}()
	}
	var sends sync.WaitGroup
	for i, w := range writers {
		sends.Add(1)
		go func() {
			defer sends.Done()
			for n := range perWriter {
				if err := rawSend(w, convs[n%2], fmt.Sprintf("w%d-%d", i, n)); err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
			}
		}()
	}
	sends.Wait()
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	ctx := context.Background()
	for i, g := range results {
		if g.resync {
			t.Fatalf("reader %d was told to resync", i)
		}
		stored, err := nodes[0].m.store.EventsSince(ctx, readers[i].id(), g.base, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, e := range stored {
			want = append(want, e.ID)
		}
		if !slices.Equal(g.ids, want) {
			t.Fatalf("reader %d received %d events in %d connections, the store has %d for it:\n got %v\nwant %v",
				i, len(g.ids), g.rounds, len(want), g.ids, want)
		}
		total := 0
		for _, c := range convs {
			seqs := g.seqs[c]
			for j := 1; j < len(seqs); j++ {
				if seqs[j] != seqs[j-1]+1 {
					t.Fatalf("reader %d: conversation %d's messages arrived as seqs %v", i, c, seqs)
				}
			}
			total += len(seqs)
		}
		if total < 3*perWriter {
			t.Fatalf("reader %d heard %d of the %d messages", i, total, 3*perWriter)
		}
		t.Logf("reader %d: %d events in %d connections", i, len(g.ids), g.rounds)
	}
}

// streamReader is a client that keeps its cursor across connections and
// records every durable event it receives.
type streamReader struct {
	cursor, base int64
	ids          []int64
	seqs         map[int64][]int64 // message.created seqs by conversation
	resync       bool
	rounds       int
}

// readFor connects to node resuming from the cursor, reads for d and
// drops the connection.
func (g *streamReader) readFor(node *testServer, token string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	u := strings.Replace(node.url, "http://", "ws://", 1) + fmt.Sprintf("/api/v1/ws?cursor=%d", g.cursor)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		if ctx.Err() != nil {
			return nil // too short a round to connect: the next one
		}
		return err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(16 << 20)
	g.rounds++
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var frames []wireFrame
		if json.Unmarshal(data, &frames) != nil {
			// A lone frame rather than an array of them.
			frames = make([]wireFrame, 1)
			if err := json.Unmarshal(data, &frames[0]); err != nil {
				return fmt.Errorf("frame %s: %v", data, err)
			}
		}
		for _, f := range frames {
			switch {
			case f.Type == "hello":
				if g.cursor == 0 {
					g.cursor, g.base = f.Cursor, f.Cursor
				}
				g.resync = g.resync || f.Resync
			case f.ID == 0:
			case f.ID <= g.cursor:
				return fmt.Errorf("event %d (%s) after %d", f.ID, f.Type, g.cursor)
			default:
				g.cursor = f.ID
				g.ids = append(g.ids, f.ID)
				if f.Type == "message.created" {
					g.seqs[f.Conv] = append(g.seqs[f.Conv], f.Seq)
				}
			}
		}
	}
}

// wireFrame is what a reader looks at in a frame.
type wireFrame struct {
	Type   string `json:"type"`
	ID     int64  `json:"id"`
	Conv   int64  `json:"conversation_id"`
	Seq    int64  `json:"seq"`
	Cursor int64  `json:"cursor"`
	Resync bool   `json:"resync"`
}

// rawSend sends a message without the test's helpers, which may not fail
// a test from another goroutine.
func rawSend(c *client, convID int64, text string) error {
	body, _ := json.Marshal(map[string]any{"text": text, "client_id": text})
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/conversations/%d/messages", c.s.url, convID), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("send answered %d: %s", resp.StatusCode, b)
	}
	return nil
}

// TestDrain: a stopping node fails /readyz for the drain delay, so that
// the balancer takes it out, while it still serves its clients; then it
// stops.
func TestDrain(t *testing.T) {
	s := newServer(t, func(c *Config) { c.DrainDelay = 1500 * time.Millisecond })
	ann := s.newUser(t, "member", "Ann")
	s.anon(t).do("GET", "/readyz", nil).want(http.StatusOK)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.m.Close()
	}()
	eventually(t, "/readyz fails", func() bool {
		resp, err := s.http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	ann.do("GET", "/api/v1/me", nil).want(http.StatusOK)
	select {
	case <-stopped:
		t.Fatal("the node stopped before its drain delay")
	default:
	}
	<-stopped
}

// TestPresenceAcrossNodes: a user connected to one node is online for the
// others: their colleagues there hear it, the widget served there sees a
// specialist online, and both hear it end.
func TestPresenceAcrossNodes(t *testing.T) {
	cluster := newCluster(t)
	n1 := newServer(t, cluster)
	n2 := newServer(t, cluster)
	lc := newLiveChat(t, n1)
	lc.admin.group("team", lc.a)
	watch := lc.admin.connect()
	watch.waitFor("hello")
	lc.waitOnline(t, false)

	anna := n2.login(t, lc.a.user.Email, testPassword)
	sock := anna.connect()
	sock.waitFor("hello")
	type presence struct {
		UserID   int64           `json:"user_id"`
		Presence parley.Presence `json:"presence"`
	}
	presenceOf := func(user int64, want parley.Presence) func(*presence) bool {
		return func(p *presence) bool { return p.UserID == user && p.Presence == want }
	}
	waitData(t, watch, parley.EventPresence, presenceOf(anna.id(), parley.PresenceOnline))
	lc.waitOnline(t, true)

	sock.ws.Close(websocket.StatusNormalClosure, "")
	waitData(t, watch, parley.EventPresence, presenceOf(anna.id(), parley.PresenceOffline))
	lc.waitOnline(t, false)
}

// TestRemindersAcrossNodes: a reminder set through one node fires once,
// on time, for a user whose only device is on another node.
func TestRemindersAcrossNodes(t *testing.T) {
	cluster := newCluster(t)
	n1, n2 := newServer(t, cluster), newServer(t, cluster)
	ann := n1.newUser(t, "member", "Ann")
	bob := n1.newUser(t, "member", "Bob")
	conv := ann.group("team", bob)
	m := ann.send(conv.ID, "remind me")
	sock := n2.login(t, ann.user.Email, testPassword).connect()
	sock.waitFor("hello")
	eventually(t, "n1 sees Ann online", func() bool { return n1.m.presence.Online(ann.id()) })

	ann.do("PUT", reminderPath(m.ID, ""), map[string]any{"remind_at": time.Now().Add(time.Second)}).want(http.StatusOK)
	due := sock.waitFor(parley.EventReminderDue)
	if data, _ := due["data"].(map[string]any); data["message_id"] != float64(m.ID) {
		t.Fatalf("reminder.due %v, want message %d's", due, m.ID)
	}
	deadline := time.After(2 * time.Second)
	for {
		select {
		case f := <-sock.frames:
			if f["type"] == parley.EventReminderDue {
				t.Fatalf("the reminder fired twice: %v", f)
			}
		case <-deadline:
			return
		}
	}
}
