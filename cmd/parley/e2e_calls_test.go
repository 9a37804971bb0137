package main

import (
	"context"
	"encoding/json"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// withCalls keeps the SFU's media on 127.0.0.1, on one UDP port.
func withCalls(t testing.TB) serverOption {
	return func(c *Config) {
		c.CallsLoopback = true
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.RTCUDPPort = conn.LocalAddr().(*net.UDPAddr).Port
		conn.Close()
	}
}

// callSocket is a user's WebSocket in a call: it sends call frames,
// answers the server's offers for its pion client, and hands every other
// frame to the test.
type callSocket struct {
	t      testing.TB
	ws     *websocket.Conn
	req    atomic.Int64
	frames chan map[string]any
	answer func(sdp map[string]any) // the pion client's, set once it exists
	mu     sync.Mutex
	acks   map[int64]chan map[string]any
	done   chan struct{}
	busy   sync.WaitGroup // answers under way
}

func (c *client) callSocket() *callSocket {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + c.s.url[len("http"):] + "/api/v1/ws"
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {"Bearer " + c.token}}})
	if err != nil {
		c.t.Fatal(err)
	}
	s := &callSocket{t: c.t, ws: ws, frames: make(chan map[string]any, 1024), acks: map[int64]chan map[string]any{}, done: make(chan struct{})}
	go s.read()
	c.t.Cleanup(s.close)
	return s
}

func (s *callSocket) close() {
	s.ws.Close(websocket.StatusNormalClosure, "")
	<-s.done
	s.busy.Wait()
}

func (s *callSocket) read() {
	defer close(s.done)
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			return
		}
		var batch []map[string]any
		json.Unmarshal(data, &batch)
		at := time.Now()
		for _, f := range batch {
			f["_at"] = at
			if req, ok := f["req"].(float64); ok {
				s.mu.Lock()
				ch := s.acks[int64(req)]
				s.mu.Unlock()
				if ch != nil {
					ch <- f
					continue
				}
			}
			if f["type"] == "call.sdp" {
				s.mu.Lock()
				answer := s.answer
				s.mu.Unlock()
				if answer != nil {
					d := f["data"].(map[string]any)
					s.busy.Add(1)
					go func() {
						defer s.busy.Done()
						answer(d)
					}()
					continue
				}
			}
			select {
			case s.frames <- f:
			default:
			}
		}
	}
}

// do sends a call frame and returns its answer (ack or ok), failing the
// test on an error.
func (s *callSocket) do(frame map[string]any) map[string]any {
	s.t.Helper()
	f := s.try(frame)
	if f["type"] == "error" {
		s.t.Fatalf("%s: %v", frame["type"], f["error"])
	}
	return f
}

func (s *callSocket) try(frame map[string]any) map[string]any {
	s.t.Helper()
	req := s.req.Add(1)
	frame["req"] = req
	ch := make(chan map[string]any, 1)
	s.mu.Lock()
	s.acks[req] = ch
	s.mu.Unlock()
	b, _ := json.Marshal(frame)
	if err := s.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatal(err)
	}
	select {
	case f := <-ch:
		return f
	case <-time.After(15 * time.Second):
		s.t.Fatalf("no answer to %s", frame["type"])
		return nil
	}
}

// waitFor waits for an event of typ that match accepts (nil: any).
func (s *callSocket) waitFor(typ string, match func(data map[string]any) bool) map[string]any {
	s.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case f := <-s.frames:
			if f["type"] == typ && (match == nil || match(f["data"].(map[string]any))) {
				return f
			}
		case <-timeout:
			s.t.Fatalf("no %s event", typ)
		}
	}
}

// rtcClient is a participant's pion PeerConnection: it sends audio and
// video-like packets and counts what arrives per track.
type rtcClient struct {
	t     testing.TB
	pc    *webrtc.PeerConnection
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	got   map[string]int
	first map[string]time.Time
}

func newRTCClient(t testing.TB) *rtcClient {
	me := &webrtc.MediaEngine{}
	me.RegisterDefaultCodecs()
	me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
	ir := &interceptor.Registry{}
	webrtc.RegisterDefaultInterceptors(me, ir)
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &rtcClient{t: t, pc: pc, stop: make(chan struct{}), got: map[string]int{}, first: map[string]time.Time{}}
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "me")
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", "me")
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			c.mu.Lock()
			if c.got[tr.ID()] == 0 {
				c.first[tr.ID()] = time.Now()
			}
			c.got[tr.ID()]++
			c.mu.Unlock()
		}
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(1); ; seq++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0xf8, 0xff, 0xfe}})
			video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true},
				Payload: []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 1, 2, 3, 4}})
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *rtcClient) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.wg.Wait()
	c.pc.Close()
}

// answerOffer applies an offer ({type, sdp}) and returns the answer.
func (c *rtcClient) answerOffer(offer map[string]any) map[string]any {
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer["sdp"].(string)}
	// A failure shows as missing media; an offer that arrives as the test
	// closes the connection is not one.
	if err := c.pc.SetRemoteDescription(desc); err != nil {
		c.t.Logf("applying an offer: %v", err)
		return nil
	}
	a, err := c.pc.CreateAnswer(nil)
	if err != nil {
		c.t.Logf("answering: %v", err)
		return nil
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	c.pc.SetLocalDescription(a)
	<-gathered
	ld := c.pc.LocalDescription()
	return map[string]any{"type": ld.Type.String(), "sdp": ld.SDP}
}

// join answers the first offer of an ack over s and keeps answering the
// offers that come as call.sdp events.
func (c *rtcClient) join(s *callSocket, ack map[string]any) (callID, peerID string) {
	call := ack["call"].(map[string]any)
	callID, peerID = call["id"].(string), ack["peer_id"].(string)
	var negotiating sync.Mutex
	s.mu.Lock()
	s.answer = func(d map[string]any) {
		if d["peer_id"] != peerID {
			return
		}
		negotiating.Lock()
		defer negotiating.Unlock()
		if a := c.answerOffer(d["sdp"].(map[string]any)); a != nil {
			// Its ok is not awaited: the socket may be closing.
			b, _ := json.Marshal(map[string]any{"type": "call.sdp", "call_id": callID, "peer_id": peerID, "sdp": a})
			s.ws.Write(context.Background(), websocket.MessageText, b)
		}
	}
	s.mu.Unlock()
	negotiating.Lock()
	defer negotiating.Unlock()
	s.do(map[string]any{"type": "call.sdp", "call_id": callID, "peer_id": peerID, "sdp": c.answerOffer(ack["offer"].(map[string]any))})
	return callID, peerID
}

func (c *rtcClient) count(track string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[track]
}

func (c *rtcClient) waitTracks(tracks ...string) {
	c.t.Helper()
	eventually(c.t, "packets on "+tracks[0], func() bool {
		for _, tr := range tracks {
			if c.count(tr) < 5 {
				return false
			}
		}
		return true
	})
}

// A 1:1 call over the real WebSocket: ring, accept, media both ways; the
// caller's WebSocket drops and reconnects while media keeps flowing; the
// call is found again and hung up; its line is in the history.
func TestCallOverWebSocket(t *testing.T) {
	s := newServer(t, withCalls(t))
	alice, bob := s.newUser(t, "member", "Alice"), s.newUser(t, "member", "Bob")
	conv := alice.directAllowed(bob)
	sa, sb := alice.callSocket(), bob.callSocket()
	time.Sleep(100 * time.Millisecond) // the sockets are registered

	var ice struct {
		ICEServers []map[string]any `json:"ice_servers"`
	}
	alice.get("/api/v1/calls/ice-servers", &ice)

	start := time.Now()
	ack := sa.do(map[string]any{"type": "call.start", "conversation_id": conv.ID, "video": true})
	if ack["type"] != "ack" {
		t.Fatalf("call.start: %v", ack)
	}
	ca := newRTCClient(t)
	callID, _ := ca.join(sa, ack)
	ring := sb.waitFor("call.ring", nil)
	rung := ring["_at"].(time.Time)
	if ring["data"].(map[string]any)["id"] != callID {
		t.Fatalf("ring: %v", ring)
	}
	cb := newRTCClient(t)
	accepted := time.Now()
	acc := sb.do(map[string]any{"type": "call.accept", "call_id": callID})
	acked := acc["_at"].(time.Time)
	cb.join(sb, acc)
	aliceAudio, bobAudio := itoa(alice.id())+"-audio", itoa(bob.id())+"-audio"
	cb.waitTracks(aliceAudio, itoa(alice.id())+"-video")
	ca.waitTracks(bobAudio, itoa(bob.id())+"-video")
	cb.mu.Lock()
	firstAtCallee := cb.first[aliceAudio]
	cb.mu.Unlock()
	t.Logf("set-up on loopback: call.start sent → call.ring at the callee %v; call.accept sent → its ack (with the offer) %v; → first media packet at the callee %v",
		rung.Sub(start).Round(time.Microsecond), acked.Sub(accepted).Round(time.Microsecond), firstAtCallee.Sub(accepted).Round(time.Microsecond))

	// Another member's socket gets no ring; a third user cannot join.
	carol := s.newUser(t, "member", "Carol")
	sc := carol.callSocket()
	if f := sc.try(map[string]any{"type": "call.join", "call_id": callID}); f["type"] != "error" || f["error"].(map[string]any)["code"] != "not_found" {
		t.Fatalf("an outsider joining: %v", f)
	}

	// Alice's signalling drops; the media does not.
	sa.close()
	before := cb.count(aliceAudio)
	time.Sleep(300 * time.Millisecond)
	if cb.count(aliceAudio) <= before {
		t.Fatal("media stopped with the WebSocket")
	}
	sa2 := alice.callSocket()
	var list struct {
		Calls []struct {
			ID           string `json:"id"`
			State        string `json:"state"`
			Participants []struct {
				UserID int64  `json:"user_id"`
				PeerID string `json:"peer_id"`
			} `json:"participants"`
		} `json:"calls"`
	}
	alice.get("/api/v1/calls", &list)
	if len(list.Calls) != 1 || list.Calls[0].ID != callID || list.Calls[0].State != "active" || len(list.Calls[0].Participants) != 2 {
		t.Fatalf("calls after the reconnect: %+v", list)
	}
	var peerID string
	for _, p := range list.Calls[0].Participants {
		if p.UserID == alice.id() {
			peerID = p.PeerID
		}
	}
	synced := sa2.do(map[string]any{"type": "call.sync", "call_id": callID, "peer_id": peerID})
	if synced["type"] != "ack" || synced["call"].(map[string]any)["state"] != "active" {
		t.Fatalf("call.sync: %v", synced)
	}
	sa2.do(map[string]any{"type": "call.media", "call_id": callID, "peer_id": peerID, "audio": false, "video": true})
	sb.waitFor("call.updated", func(d map[string]any) bool {
		for _, p := range d["participants"].([]any) {
			if p := p.(map[string]any); p["user_id"] == float64(alice.id()) && p["audio"] == false {
				return true
			}
		}
		return false
	})

	sa2.do(map[string]any{"type": "call.leave", "call_id": callID})
	sb.waitFor("call.updated", func(d map[string]any) bool { return d["state"] == "ended" && d["end_reason"] == "ended" })
	eventually(t, "the call's line", func() bool {
		for _, m := range bob.history(conv.ID, "") {
			if m.Event != nil && m.Event.Action == "call_ended" && m.Event.Call != nil && m.Event.Call.ID == callID {
				return true
			}
		}
		return false
	})
}

// Calls refused over the WebSocket: an unanswered direct request, and a
// declined call's line.
func TestCallRefusedOverWebSocket(t *testing.T) {
	s := newServer(t, withCalls(t))
	alice, bob, dave := s.newUser(t, "member", "Alice"), s.newUser(t, "member", "Bob"), s.newUser(t, "member", "Dave")
	req := alice.direct(dave) // Dave has not allowed it
	sa := alice.callSocket()
	f := sa.try(map[string]any{"type": "call.start", "conversation_id": req.ID})
	if f["type"] != "error" || f["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatalf("calling someone who has not accepted messages: %v", f)
	}
	conv := alice.directAllowed(bob)
	sb := bob.callSocket()
	time.Sleep(100 * time.Millisecond)
	ack := sa.do(map[string]any{"type": "call.start", "conversation_id": conv.ID})
	callID := ack["call"].(map[string]any)["id"].(string)
	sb.waitFor("call.ring", nil)
	if f := sa.try(map[string]any{"type": "call.accept", "call_id": callID}); f["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatalf("the caller accepting: %v", f)
	}
	sb.do(map[string]any{"type": "call.decline", "call_id": callID})
	sa.waitFor("call.updated", func(d map[string]any) bool { return d["end_reason"] == "declined" })
	eventually(t, "the declined line", func() bool {
		for _, m := range alice.history(conv.ID, "") {
			if m.Event != nil && m.Event.Action == "call_declined" {
				return true
			}
		}
		return false
	})
}
