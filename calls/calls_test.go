package calls_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/calls"
	"github.com/parley-chat/parley/messaging"
)

// Two pion peers through the SFU on 127.0.0.1: the callee rings, accepts,
// and media flows both ways; hanging up writes "call ended" with its
// length and who took part.
func TestDirectCallMedia(t *testing.T) {
	e := newEnv(t, calls.Config{})
	ctx := context.Background()
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)

	j, err := e.calls.Start(ctx, alice, conv, true)
	if err != nil {
		t.Fatal(err)
	}
	if j.Call.State != calls.StateRinging || j.Call.Kind != calls.KindDirect || len(j.Call.Participants) != 1 {
		t.Fatalf("started: %+v", j.Call)
	}
	a := e.join(alice, j, nil)
	ring := e.waitEvent(bob.ID, calls.EventRing, nil)
	var rung calls.Call
	json.Unmarshal(ring.Data, &rung)
	if rung.ID != j.Call.ID || ring.ConversationID != conv {
		t.Fatalf("ring: %+v", rung)
	}
	b := e.as(bob)(e.calls.Accept(ctx, bob, rung.ID))
	e.waitEvent(alice.ID, calls.EventUpdated, callState(calls.StateActive))

	// Media both ways.
	b.waitTracks(trackIDs(alice, "audio", "video")...)
	a.waitTracks(trackIDs(bob, "audio", "video")...)

	list, err := e.calls.Active(ctx, bob)
	if err != nil || len(list) != 1 || len(list[0].Participants) != 2 || !list[0].Participants[0].Connected {
		t.Fatalf("active calls: %+v, %v", list, err)
	}

	if err := e.calls.Leave(ctx, bob, rung.ID); err != nil {
		t.Fatal(err)
	}
	e.waitEvent(alice.ID, calls.EventUpdated, callState(calls.StateEnded))
	l := e.waitLine(alice, conv, calls.ActionEnded)
	if l.Call == nil || l.Call.ID != rung.ID || !slices.Equal(l.UserIDs, []int64{alice.ID, bob.ID}) {
		t.Fatalf("line: %+v", l)
	}
	if list, _ := e.calls.Active(ctx, alice); len(list) != 0 {
		t.Fatalf("the call is still listed: %+v", list)
	}
}

// A conference of three: each receives the other two; the one who leaves
// has their tracks taken out of the others' sessions; who speaks is told.
func TestGroupCallThree(t *testing.T) {
	e := newEnv(t, calls.Config{SpeakingInterval: 50 * time.Millisecond})
	ctx := context.Background()
	alice, bob, carol := e.user("Alice"), e.user("Bob"), e.user("Carol")
	conv := e.group(alice, bob, carol)

	j, err := e.calls.Start(ctx, alice, conv, true)
	if err != nil {
		t.Fatal(err)
	}
	if j.Call.State != calls.StateActive || j.Call.Kind != calls.KindGroup {
		t.Fatalf("started: %+v", j.Call)
	}
	a := e.join(alice, j, nil)
	// Starting again in a conversation with a conference joins it.
	b := e.as(bob)(e.calls.Start(ctx, bob, conv, false))
	c := e.as(carol)(e.calls.Join(ctx, carol, j.Call.ID))

	a.waitTracks(append(trackIDs(bob, "audio", "video"), trackIDs(carol, "audio", "video")...)...)
	b.waitTracks(append(trackIDs(alice, "audio", "video"), trackIDs(carol, "audio", "video")...)...)
	c.waitTracks(append(trackIDs(alice, "audio", "video"), trackIDs(bob, "audio", "video")...)...)

	// Alice speaks: the others hear it from the audio level.
	a.level.Store(20)
	e.waitEvent(carol.ID, calls.EventSpeaking, func(d json.RawMessage) bool {
		var s struct {
			Speaking []int64 `json:"speaking"`
			Active   int64   `json:"active"`
		}
		return json.Unmarshal(d, &s) == nil && slices.Equal(s.Speaking, []int64{alice.ID}) && s.Active == alice.ID
	})
	a.level.Store(127)

	// Carol leaves: her tracks go from Alice's and Bob's sessions.
	if err := e.calls.Leave(ctx, carol, j.Call.ID); err != nil {
		t.Fatal(err)
	}
	c.close()
	for _, p := range []*peer{a, b} {
		waitGone(t, p, carol)
	}
	// The others still hear each other.
	before := b.count(trackIDs(alice, "audio")[0])
	time.Sleep(200 * time.Millisecond)
	if b.count(trackIDs(alice, "audio")[0]) <= before {
		t.Fatal("Bob no longer receives Alice after Carol left")
	}

	if err := e.calls.Leave(ctx, alice, j.Call.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.calls.Leave(ctx, bob, j.Call.ID); err != nil {
		t.Fatal(err)
	}
	l := e.waitLine(alice, conv, calls.ActionEnded)
	if !slices.Equal(l.UserIDs, []int64{alice.ID, bob.ID, carol.ID}) {
		t.Fatalf("line: %+v", l)
	}
}

// waitGone waits until p's session sends nothing of u's any more.
func waitGone(t *testing.T, p *peer, u *parley.User) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rd := p.pc.RemoteDescription()
		if rd != nil && !activeMsid(rd.SDP, u) {
			return
		}
	}
	t.Fatalf("user %d still receives user %d's tracks", p.user.ID, u.ID)
}

// activeMsid reports whether an SDP sends a track of u's on a live m-line.
func activeMsid(s string, u *parley.User) bool {
	for _, m := range strings.Split(s, "m=")[1:] {
		if strings.Contains(m, "a=msid:"+trackIDs(u, "")[0][:len(trackIDs(u, "")[0])-1]) && (strings.Contains(m, "a=sendonly") || strings.Contains(m, "a=sendrecv")) {
			return true
		}
	}
	return false
}

func TestRinging(t *testing.T) {
	e := newEnv(t, calls.Config{RingTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)

	t.Run("declined", func(t *testing.T) {
		j, err := e.calls.Start(ctx, alice, conv, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.calls.Decline(ctx, bob, j.Call.ID); err != nil {
			t.Fatal(err)
		}
		l := e.waitLine(alice, conv, calls.ActionDeclined)
		if l.ActorID != bob.ID || l.Call.ID != j.Call.ID {
			t.Fatalf("line: %+v", l)
		}
		if err := e.calls.Decline(ctx, bob, j.Call.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("declining again: %v", err)
		}
	})
	t.Run("missed", func(t *testing.T) {
		j, err := e.calls.Start(ctx, alice, conv, true)
		if err != nil {
			t.Fatal(err)
		}
		e.waitEvent(bob.ID, calls.EventUpdated, func(d json.RawMessage) bool {
			var c calls.Call
			return json.Unmarshal(d, &c) == nil && c.ID == j.Call.ID && c.State == calls.StateEnded && c.EndReason == calls.EndMissed
		})
		l := e.waitLine(bob, conv, calls.ActionMissed)
		if l.ActorID != alice.ID || !l.Call.Video {
			t.Fatalf("line: %+v", l)
		}
		if _, err := e.calls.Accept(ctx, bob, j.Call.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Fatalf("accepting a missed call: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		j, err := e.calls.Start(ctx, alice, conv, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.calls.Start(ctx, bob, conv, false); parley.ErrorCode(err) != parley.ECONFLICT {
			t.Fatalf("a second call in the conversation: %v", err)
		}
		if _, err := e.calls.Join(ctx, bob, j.Call.ID); parley.ErrorCode(err) != parley.ECONFLICT {
			t.Fatalf("joining a call that rings: %v", err)
		}
		if err := e.calls.Leave(ctx, alice, j.Call.ID); err != nil {
			t.Fatal(err)
		}
		e.waitLine(bob, conv, calls.ActionCancelled)
	})
}

// Every rule refuses the user it is about.
func TestRefused(t *testing.T) {
	e := newEnv(t, calls.Config{})
	ctx := context.Background()
	alice, bob, carol, dave := e.user("Alice"), e.user("Bob"), e.user("Carol"), e.user("Dave")
	conv := e.direct(alice, bob)
	group := e.group(alice, bob)

	// A request Dave has not allowed: no call (he does not accept
	// messages from Alice).
	req, err := e.msgs.OpenDirect(ctx, alice, dave.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Start(ctx, alice, req.ID, false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("calling a pending request: %v", err)
	}
	// Declined: still no call.
	if _, err := e.msgs.Cancel(ctx, dave, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Start(ctx, alice, req.ID, false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("calling a declined request: %v", err)
	}
	// Not a member.
	if _, err := e.calls.Start(ctx, carol, conv, false); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("calling in someone else's chat: %v", err)
	}
	if _, err := e.calls.Start(ctx, carol, group, false); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("a conference in someone else's multi-chat: %v", err)
	}
	// A bot cannot call.
	bot := &parley.User{ID: alice.ID, Name: "Bot", Active: true, Bot: true}
	if _, err := e.calls.Start(ctx, bot, conv, false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("a bot calling: %v", err)
	}
	// A deactivated callee.
	erin := e.user("Erin")
	dconv := e.direct(alice, erin)
	erin.Active = false
	if _, err := e.store.Write(ctx, func(tx parley.Tx) error { return tx.UpdateUser(ctx, erin) }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Start(ctx, alice, dconv, false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("calling a deactivated user: %v", err)
	}
	// An Assistance chat has no calls.
	dave.Role = parley.RoleAdmin
	if _, err := e.store.Write(ctx, func(tx parley.Tx) error { return tx.UpdateUser(ctx, dave) }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.msgs.SetChatSettings(ctx, dave, messagingAssistance(dave.ID)); err != nil {
		t.Fatal(err)
	}
	as, err := e.msgs.OpenAssistance(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Start(ctx, alice, as.ID, false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("calling in Assistance: %v", err)
	}

	// Only the callee accepts or declines; outsiders see no call.
	j, err := e.calls.Start(ctx, alice, conv, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.calls.Accept(ctx, alice, j.Call.ID); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("the caller accepting: %v", err)
	}
	if err := e.calls.Decline(ctx, alice, j.Call.ID); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("the caller declining: %v", err)
	}
	if _, err := e.calls.Accept(ctx, carol, j.Call.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("an outsider accepting: %v", err)
	}
	if _, err := e.calls.Get(ctx, carol, j.Call.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("an outsider reading the call: %v", err)
	}
	if list, _ := e.calls.Active(ctx, carol); len(list) != 0 {
		t.Fatalf("an outsider lists %+v", list)
	}
	// Signalling for a peer that is not yours.
	if err := e.calls.Media(ctx, bob, j.Call.ID, j.PeerID, true, true, false); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("Bob signalling for Alice's peer: %v", err)
	}
	// Bad input changes nothing.
	if _, err := e.calls.Frame(ctx, bob, "call.sdp", []byte(`{"call_id":"`+j.Call.ID+`"}`)); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("an sdp frame without sdp: %v", err)
	}
	if _, err := e.calls.Frame(ctx, alice, "call.accept", []byte(`{}`)); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("accept without a call: %v", err)
	}
	if err := e.calls.Leave(ctx, alice, j.Call.ID); err != nil {
		t.Fatal(err)
	}
}

func messagingAssistance(admin int64) messagingChatSettings {
	return messagingChatSettings{AssistanceEnabled: true, AssistanceAdminID: admin}
}

// A participant whose connection is lost leaves the call after
// LostTimeout; a 1:1 call then ends.
func TestLostParticipantLeaves(t *testing.T) {
	e := newEnv(t, calls.Config{LostTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)
	j, err := e.calls.Start(ctx, alice, conv, false)
	a := e.join(alice, j, err)
	b := e.as(bob)(e.calls.Accept(ctx, bob, j.Call.ID))
	a.waitTracks(trackIDs(bob, "audio")...)
	b.close() // the network goes, without a hang-up
	e.waitEvent(alice.ID, calls.EventUpdated, callState(calls.StateEnded))
	e.waitLine(alice, conv, calls.ActionEnded)
}

// The built-in TURN server and ICE servers: credentials a TURN server with
// the same secret accepts.
func TestICEServers(t *testing.T) {
	e := newEnv(t, calls.Config{STUNURLs: []string{"stun:127.0.0.1:3478"}, TURNURLs: []string{"turn:127.0.0.1:3478"},
		TURNSecret: "s3cret", TURNTTL: time.Hour})
	alice := e.user("Alice")
	cfg, err := e.calls.ICEServers(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ICEServers) != 2 || cfg.TTL != 3600 {
		t.Fatalf("ice servers: %+v", cfg)
	}
	turn := cfg.ICEServers[1]
	user, pass := calls.TURNCredentials("s3cret", turn.Username[strings.Index(turn.Username, ":")+1:], time.Unix(mustInt(t, turn.Username[:strings.Index(turn.Username, ":")]), 0))
	if user != turn.Username || pass != turn.Credential || !strings.HasSuffix(user, ":"+itoa(alice.ID)) {
		t.Fatalf("credentials: %+v", turn)
	}
	if _, err := e.calls.ICEServers(context.Background(), &parley.User{ID: 99, Bot: true, Active: true}); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("a bot asking for TURN credentials: %v", err)
	}
}

type messagingChatSettings = messaging.ChatSettings

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustInt(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Two nodes on one bus and database: a call hosted by node A is answered,
// signalled and hung up by a user whose socket is on node B; B relays
// each frame to A over the bus, and lists A's call.
func TestCallAcrossNodes(t *testing.T) {
	e := newEnv(t, calls.Config{})
	ctx := context.Background()
	nodeB, err := calls.New(e.store, e.bus, e.msgs, calls.Config{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nodeB.Close() })
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)

	j, err := e.calls.Start(ctx, alice, conv, true)
	a := e.join(alice, j, err)
	var list []*calls.Call
	for deadline := time.Now().Add(5 * time.Second); len(list) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		list, _ = nodeB.Active(ctx, bob)
	}
	if len(list) != 1 || list[0].ID != j.Call.ID || list[0].Node != j.Call.Node {
		t.Fatalf("node B lists %+v", list)
	}
	if _, err := nodeB.Frame(ctx, bob, "call.start", []byte(`{"conversation_id":`+itoa(conv)+`}`)); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Fatalf("a second call from node B: %v", err)
	}
	res, err := nodeB.Frame(ctx, bob, "call.accept", []byte(`{"call_id":"`+j.Call.ID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(res)
	var acc calls.Joined
	if err := json.Unmarshal(raw, &acc); err != nil || acc.Offer == nil {
		t.Fatalf("accept relayed: %s %v", raw, err)
	}
	b := e.client(bob, j.Call.ID, acc.PeerID, acc.Offer, func(d webrtc.SessionDescription) error {
		f, _ := json.Marshal(map[string]any{"call_id": j.Call.ID, "peer_id": acc.PeerID, "sdp": d})
		_, err := nodeB.Frame(ctx, bob, "call.sdp", f)
		return err
	})
	b.waitTracks(trackIDs(alice, "audio", "video")...)
	a.waitTracks(trackIDs(bob, "audio", "video")...)
	// Refusals come back from the hosting node.
	if _, err := nodeB.Frame(ctx, bob, "call.media", []byte(`{"call_id":"`+j.Call.ID+`","peer_id":"nope"}`)); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("a relayed frame for another peer: %v", err)
	}
	if _, err := nodeB.Frame(ctx, bob, "call.leave", []byte(`{"call_id":"`+j.Call.ID+`"}`)); err != nil {
		t.Fatal(err)
	}
	e.waitLine(alice, conv, calls.ActionEnded)
	for deadline := time.Now().Add(5 * time.Second); len(list) != 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		list, _ = nodeB.Active(ctx, bob)
	}
	if len(list) != 0 {
		t.Fatalf("node B still lists %+v", list)
	}
}

// The built-in TURN server relays a call: the callee's client may only
// use relay candidates, with the credentials GET /calls/ice-servers hands
// out.
func TestCallThroughTURN(t *testing.T) {
	turn, err := calls.StartTURN(calls.TURNConfig{Addr: "127.0.0.1:0", PublicIP: "127.0.0.1", RelayAddr: "127.0.0.1", Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { turn.Close() })
	e := newEnv(t, calls.Config{TURNURLs: []string{"turn:" + turn.Addr().String() + "?transport=udp"}, TURNSecret: "s3cret"})
	ctx := context.Background()
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)
	j, err := e.calls.Start(ctx, alice, conv, false)
	a := e.join(alice, j, err)

	ice, err := e.calls.ICEServers(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	e.rtc = webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	for _, s := range ice.ICEServers {
		e.rtc.ICEServers = append(e.rtc.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	b := e.as(bob)(e.calls.Accept(ctx, bob, j.Call.ID))
	b.waitTracks(trackIDs(alice, "audio")...)
	a.waitTracks(trackIDs(bob, "audio")...)
	if !strings.Contains(b.pc.LocalDescription().SDP, "typ relay") || strings.Contains(b.pc.LocalDescription().SDP, "typ host") {
		t.Fatalf("the callee's candidates are not relayed:\n%s", b.pc.LocalDescription().SDP)
	}

	// Wrong credentials are refused by the TURN server: no relay.
	bad := e.rtc
	bad.ICEServers = []webrtc.ICEServer{{URLs: ice.ICEServers[0].URLs, Username: ice.ICEServers[0].Username, Credential: "wrong"}}
	pc, err := clientAPI(t).NewPeerConnection(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(3 * time.Second): // a right one is relayed within milliseconds here
	}
	if strings.Contains(pc.LocalDescription().SDP, "typ relay") {
		t.Fatal("the TURN server relayed for wrong credentials")
	}
}

// A screen share is a third track, forwarded while the sharer says so;
// a receiver's keyframe request reaches the publisher.
func TestScreenShareAndKeyframes(t *testing.T) {
	e := newEnv(t, calls.Config{})
	ctx := context.Background()
	alice, bob := e.user("Alice"), e.user("Bob")
	conv := e.direct(alice, bob)
	e.screen = true
	j, err := e.calls.Start(ctx, alice, conv, true)
	a := e.join(alice, j, err)
	e.screen = false
	b := e.as(bob)(e.calls.Accept(ctx, bob, j.Call.ID))
	b.waitTracks(trackIDs(alice, "audio", "video")...)
	screen := trackIDs(alice, "screen")[0]
	time.Sleep(300 * time.Millisecond)
	if n := b.count(screen); n != 0 {
		t.Fatalf("the screen is forwarded before it is shared: %d packets", n)
	}
	if err := e.calls.Media(ctx, alice, j.Call.ID, j.PeerID, true, true, true); err != nil {
		t.Fatal(err)
	}
	b.waitTracks(screen)
	if !sends(b.pc.RemoteDescription().SDP, screen) {
		t.Fatal("the screen's m-line is not live in Bob's session")
	}

	// Bob asks for a keyframe of Alice's camera; Alice's client gets it.
	time.Sleep(600 * time.Millisecond) // past the SFU's limit of one request per 500 ms
	before := a.plis.Load()
	b.mu.Lock()
	ssrc := b.ssrc[trackIDs(alice, "video")[0]]
	b.mu.Unlock()
	if err := b.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); a.plis.Load() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the keyframe request did not reach the publisher")
		}
	}

	// Sharing stops: the screen leaves Bob's session.
	if err := e.calls.Media(ctx, alice, j.Call.ID, j.PeerID, true, true, false); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if rd := b.pc.RemoteDescription(); rd != nil && !sends(rd.SDP, screen) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the screen is still in Bob's session")
		}
	}
}

// sends reports whether an SDP sends the track on a live m-line.
func sends(s, track string) bool {
	for _, m := range strings.Split(s, "m=")[1:] {
		if strings.Contains(m, " "+track+"\r\n") && (strings.Contains(m, "a=sendonly") || strings.Contains(m, "a=sendrecv")) {
			return true
		}
	}
	return false
}
