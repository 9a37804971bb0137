package realtime_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/accounts"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/realtime"
)

func TestSendAckAndDelivery(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	a, b := s.dial(ann, 0), s.dial(bob, 0)
	a.next("hello")
	b.next("hello")

	a.send(map[string]any{"type": "send", "req": 1, "conversation_id": conv, "client_id": "c-1", "text": "hello 👋"})
	ack := a.next("ack")
	if ack.Req != 1 || ack.Message == nil || ack.Message.ID == 0 || ack.Message.Text != "hello 👋" {
		t.Fatalf("ack = %+v", ack)
	}
	// The ack follows the commit: the message is in the store already.
	if _, err := s.store.MessageByID(context.Background(), ack.Message.ID); err != nil {
		t.Fatalf("acknowledged message not stored: %v", err)
	}
	got := b.next("message.created")
	if m := decodeMessage(t, got); m.ID != ack.Message.ID || got.Seq != m.Seq || got.ID == 0 {
		t.Fatalf("delivered %+v, want message %d", got, ack.Message.ID)
	}

	// Bob's device wrote the frame: Ann sees the message delivered. (Before
	// the retry below: next skips other frames, and waiting for the retry's
	// ack would drop a receipt that came first.)
	r := a.next("conversation.receipts")
	if !strings.Contains(string(r.Data), fmt.Sprintf(`"delivered_seq":%d`, ack.Message.Seq)) {
		t.Fatalf("receipts = %s", r.Data)
	}

	// A retry with the same client id returns the first message and
	// delivers nothing new.
	a.send(map[string]any{"type": "send", "req": 2, "conversation_id": conv, "client_id": "c-1", "text": "hello 👋"})
	if again := a.next("ack"); again.Message.ID != ack.Message.ID {
		t.Fatalf("retry created message %d, want %d", again.Message.ID, ack.Message.ID)
	}
	b.none("message.created", 300*time.Millisecond)
	b.send(map[string]any{"type": "read", "req": 3, "conversation_id": conv, "seq": ack.Message.Seq})
	b.next("ok")
	for {
		r := a.next("conversation.receipts")
		if strings.Contains(string(r.Data), fmt.Sprintf(`"read_seq":%d`, ack.Message.Seq)) {
			break
		}
	}
}

func TestSendRefusals(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann, bob, eve := s.user("Ann"), s.user("Bob"), s.user("Eve")
	conv := s.direct(ann, bob)
	req, err := s.msgs.OpenDirect(context.Background(), ann.User, eve.ID)
	if err != nil {
		t.Fatal(err)
	}
	e := s.dial(eve, 0)
	e.next("hello")
	a := s.dial(ann, 0)
	a.next("hello")
	cases := []struct {
		frame map[string]any
		code  string
	}{
		{map[string]any{"type": "send", "req": 1, "conversation_id": conv, "text": "not a member"}, parley.ENOTFOUND},
		{map[string]any{"type": "send", "req": 2, "conversation_id": req.ID, "text": "not allowed yet"}, parley.ECONFLICT},
		{map[string]any{"type": "send", "req": 3, "conversation_id": 999999, "text": "x"}, parley.ENOTFOUND},
		{map[string]any{"type": "send", "req": 4, "conversation_id": conv, "text": strings.Repeat("a", 2001)}, parley.EINVALID},
		{map[string]any{"type": "send", "req": 5, "conversation_id": conv, "text": "   "}, parley.EINVALID},
		{map[string]any{"type": "nonsense", "req": 6}, parley.EINVALID},
		{map[string]any{"type": "typing", "req": 7, "conversation_id": conv}, parley.ENOTFOUND},
	}
	for _, c := range cases {
		client := e
		if c.frame["req"] == 2 {
			client = a
		}
		client.send(c.frame)
		f := client.next("error")
		if f.Req != int64(c.frame["req"].(int)) || f.Error.Code != c.code {
			t.Errorf("%v: got %+v, want %s", c.frame, f.Error, c.code)
		}
	}
	e.send(map[string]any{"type": "send", "req": 8, "conversation_id": conv, "text": "x"})
	e.next("error")
	// Nothing was stored by any refused send.
	msgs, _ := s.store.Messages(context.Background(), conv, parley.MessagePage{})
	for _, m := range msgs {
		if m.Kind != parley.MsgEvent {
			t.Fatalf("a refused send stored %+v", m)
		}
	}
	// Malformed JSON gets an error frame, and the connection stays usable.
	e.ws.Write(context.Background(), websocket.MessageText, []byte("{not json"))
	if f := e.next("error"); f.Error.Code != parley.EINVALID {
		t.Fatalf("malformed frame: %+v", f.Error)
	}
	e.send(map[string]any{"type": "ping", "req": 9})
	e.next("pong")
}

// TestResumeAcrossDrops drops the receiver's connection again and again in
// the middle of a stream; reconnecting from its cursor it must end with
// every message exactly once.
func TestResumeAcrossDrops(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	const rounds, perRound = 6, 150
	a := s.dial(ann, 0)
	hello := a.next("hello")
	b := s.dial(bob, hello.Cursor)
	b.next("hello")

	seen := map[int64]int{}   // seq → times received
	events := map[int64]int{} // event id → times received
	record := func(f frame) bool {
		if f.Type != parley.EventMessageCreated {
			return false
		}
		seen[f.Seq]++
		events[f.ID]++
		return true
	}
	sent := 0
	for round := 0; round < rounds; round++ {
		// A burst is sent while Bob reads; he drops his connection
		// after a third of it, so the rest is in flight or not yet
		// sent when he goes.
		go func(from int) {
			for i := from; i < from+perRound; i++ {
				a.send(map[string]any{"type": "send", "req": i, "conversation_id": conv, "client_id": fmt.Sprintf("m%d", i), "text": fmt.Sprintf("message %d", i)})
			}
		}(sent)
		sent += perRound
		for got := 0; got < perRound/3; {
			if record(b.next(parley.EventMessageCreated)) {
				got++
			}
		}
		cursor := b.lastCursor()
		b.close()
		// Frames read before the drop are processed; the cursor covers them.
		for len(b.frames) > 0 {
			f := <-b.frames
			record(f)
			cursor = max(cursor, f.ID)
		}
		b = s.dial(bob, cursor)
		if h := b.next("hello"); h.Resync {
			t.Fatal("resume asked for a resync")
		}
	}
	deadline := time.After(30 * time.Second)
	for len(seen) < sent {
		select {
		case f := <-b.frames:
			record(f)
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(seen), sent)
		}
	}
	for id, n := range events {
		if n != 1 {
			t.Errorf("event %d received %d times", id, n)
		}
	}
	// Message seqs: 1 is the "allowed" line; every sent message arrives.
	for seq := int64(2); seq <= int64(sent)+1; seq++ {
		if seen[seq] != 1 {
			t.Errorf("seq %d received %d times", seq, seen[seq])
		}
	}
}

// TestResumeBeyondStream: a cursor the stream has not reached (events all
// pruned, or a database restored from a backup) gets a resync from the
// stream's newest position, and the events after it.
func TestResumeBeyondStream(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	first := s.dial(bob, 0).next("hello")
	b := s.dial(bob, first.Cursor+1_000_000)
	h := b.next("hello")
	if !h.Resync || h.Cursor != first.Cursor {
		t.Fatalf("hello resync=%v cursor=%d, want a resync from %d", h.Resync, h.Cursor, first.Cursor)
	}
	if _, err := s.msgs.Send(context.Background(), ann.User, messaging.SendInput{ConversationID: conv, Text: "after"}); err != nil {
		t.Fatal(err)
	}
	if f := b.next(parley.EventMessageCreated); f.ID <= first.Cursor {
		t.Fatalf("event %d, want one after %d", f.ID, first.Cursor)
	}
}

// TestSlowConsumer: a client that stops reading is disconnected with
// CloseSlowConsumer while the others keep receiving; it resumes with
// nothing lost.
func TestSlowConsumer(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{QueueLimit: 32})
	ann, bob, cid := s.user("Ann"), s.user("Bob"), s.user("Cid")
	ctx := context.Background()
	g, err := s.msgs.CreateGroup(ctx, ann.User, "three", []int64{bob.ID, cid.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fast := s.dial(cid, 0)
	hello := fast.next("hello")

	// The slow client never reads: dial it without the reading goroutine.
	url := strings.Replace(s.srv.URL, "http", "ws", 1) + "/api/v1/ws"
	slow, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {"Bearer " + bob.token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()

	text := strings.Repeat("€", 2000) // 6 KB: fills socket buffers quickly
	const total, senders = 1500, 10
	for w := 0; w < senders; w++ {
		go func() {
			for i := 0; i < total/senders; i++ {
				if _, err := s.msgs.Send(ctx, ann.User, messaging.SendInput{ConversationID: g.ID, Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	got := 0
	for got < total {
		f := fast.next("message.created")
		if f.ConversationID == g.ID && decodeMessage(t, f).SenderID == ann.ID {
			got++
		}
	}
	// The slow connection was closed: with the slow-consumer code when the
	// close frame fits through, abnormally when the client has stopped
	// reading altogether (its socket buffer is full). Either way it
	// reconnects and resumes.
	slow.SetReadLimit(64 << 20)
	var status websocket.StatusCode = -1
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if _, _, err := slow.Read(rctx); err != nil {
			status = websocket.CloseStatus(err)
			break
		}
	}
	if status != realtime.CloseSlowConsumer && status != -1 {
		t.Fatalf("slow client closed with %d, want %d or an abnormal closure", status, realtime.CloseSlowConsumer)
	}
	// Resuming from the start of the stream, it receives everything.
	b := s.dial(bob, hello.Cursor)
	select {
	case f := <-b.frames:
		t.Logf("first frame %s resync=%v cursor=%d", f.Type, f.Resync, f.Cursor)
	case <-b.done:
		t.Fatalf("resumed socket closed with %d", b.status)
	case <-time.After(30 * time.Second): // a loaded 2-core machine under -race
		t.Fatalf("no frame")
	}
	n := 0
	for n < total {
		f := b.next("message.created")
		if decodeMessage(t, f).SenderID == ann.ID {
			n++
		}
	}
}

func TestOfflineDeliveryAndTyping(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	ctx := context.Background()
	a := s.dial(ann, 0)
	a.next("hello")
	m, err := s.msgs.Send(ctx, ann.User, messaging.SendInput{ConversationID: conv, Text: "while you were away"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // more than a delivery flush
	hist, _ := s.msgs.History(ctx, ann.User, conv, parley.MessagePage{})
	if st := hist[len(hist)-1].Status; st != parley.StatusSent {
		t.Fatalf("status with the recipient offline = %s, want sent", st)
	}
	b := s.dial(bob, 0)
	b.next("hello")
	// Ann learns Bob is online, and that her message reached him.
	for {
		p := a.next("presence")
		if strings.Contains(string(p.Data), `"online"`) {
			break
		}
	}
	for {
		r := a.next("conversation.receipts")
		if strings.Contains(string(r.Data), fmt.Sprintf(`"delivered_seq":%d`, m.Seq)) {
			break
		}
	}
	hist, _ = s.msgs.History(ctx, ann.User, conv, parley.MessagePage{})
	if st := hist[len(hist)-1].Status; st != parley.StatusDelivered {
		t.Fatalf("status after the recipient connected = %s, want delivered", st)
	}
	b.send(map[string]any{"type": "typing", "conversation_id": conv})
	if f := a.next("typing"); !strings.Contains(string(f.Data), fmt.Sprintf(`"user_id":%d`, bob.ID)) {
		t.Fatalf("typing = %s", f.Data)
	}
	b.none("typing", 200*time.Millisecond) // not echoed to the typist
	b.close()
	for {
		p := a.next("presence")
		if strings.Contains(string(p.Data), `"offline"`) {
			break
		}
	}
}

// TestRemindersFireOnlineAndOnConnect covers a reminder due while the user
// is connected, one due while offline (it fires when they connect), and one
// that survives a restart of the server.
func TestRemindersFireOnlineAndOnConnect(t *testing.T) {
	dir := t.TempDir()
	s := newStack(t, dir, realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	ctx := context.Background()
	m, err := s.msgs.Send(ctx, ann.User, messaging.SendInput{ConversationID: conv, Text: "remember me"})
	if err != nil {
		t.Fatal(err)
	}
	a := s.dial(ann, 0)
	a.next("hello")
	if _, err := s.rem.Set(ctx, ann.User, m.ID, time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	due := a.next("reminder.due")
	if !strings.Contains(string(due.Data), "remember me") {
		t.Fatalf("reminder.due = %s", due.Data)
	}

	// Offline at the due time: fires on connect.
	a.close()
	time.Sleep(100 * time.Millisecond)
	if _, err := s.rem.Set(ctx, ann.User, m.ID, time.Now().Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	a = s.dial(ann, 0)
	a.next("hello")
	a.next("reminder.due")

	// Set, restart the server, connect after the due time: it fires.
	if _, err := s.rem.Set(ctx, ann.User, m.ID, time.Now().Add(400*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	a.close()
	s.close()
	time.Sleep(500 * time.Millisecond)
	s2 := newStack(t, dir, realtime.Config{})
	ann2 := s2.login(ann.User)
	a = s2.dial(ann2, 0)
	a.next("hello")
	a.next("reminder.due")
}

func TestDeactivationAndLogoutCloseSockets(t *testing.T) {
	s := newStack(t, t.TempDir(), realtime.Config{})
	admin, err := s.accounts.CreateUser(context.Background(), nil, accounts.NewUser{Email: "root@example.com", Name: "Root", Password: "password1", Role: parley.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	bob := s.user("Bob")
	b := s.dial(bob, 0)
	b.next("hello")
	inactive := false
	if _, err := s.accounts.UpdateUser(context.Background(), admin, bob.ID, accounts.UserPatch{Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	<-b.done
	if b.status != realtime.CloseUnauthorized {
		t.Fatalf("deactivated user's socket closed with %d", b.status)
	}
	if _, err := s.tryDial(bob, 0); err == nil {
		t.Fatal("a deactivated user's token still opens a socket")
	}

	ann := s.user("Ann")
	a := s.dial(ann, 0)
	a.next("hello")
	_, sess, err := s.accounts.Authenticate(context.Background(), ann.token)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.accounts.Logout(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	<-a.done
	if a.status != realtime.CloseUnauthorized {
		t.Fatalf("signed-out socket closed with %d", a.status)
	}
}

// TestShutdownLosesNothing sends a stream, shuts the server down while
// sends are in flight, and checks that every acknowledged message is in the
// database after a restart.
func TestShutdownLosesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newStack(t, dir, realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	a := s.dial(ann, 0)
	a.next("hello")
	go func() {
		for i := 1; i <= 1000; i++ {
			if err := a.ws.Write(context.Background(), websocket.MessageText,
				[]byte(fmt.Sprintf(`{"type":"send","req":%d,"conversation_id":%d,"client_id":"s%d","text":"n%d"}`, i, conv, i, i))); err != nil {
				return
			}
		}
	}()
	acked := map[int64]bool{}
	for len(acked) < 200 {
		f := a.next("ack")
		acked[f.Message.ID] = true
	}
	s.close()
	<-a.done
	for len(a.frames) > 0 {
		if f := <-a.frames; f.Type == "ack" {
			acked[f.Message.ID] = true
		}
	}
	s2 := newStack(t, dir, realtime.Config{})
	for id := range acked {
		if _, err := s2.store.MessageByID(context.Background(), id); err != nil {
			t.Fatalf("acknowledged message %d lost: %v", id, err)
		}
	}
}
