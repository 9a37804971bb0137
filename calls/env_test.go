package calls_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/calls"
	"github.com/parley-chat/parley/inmem"
	"github.com/parley-chat/parley/messaging"
	"github.com/parley-chat/parley/presence"
	"github.com/parley-chat/parley/sqlstore"
)

// env is the calls service on a real store and bus, with a record of the
// events each user's devices would get.
type env struct {
	t     testing.TB
	store *sqlstore.Store
	bus   *inmem.Bus
	msgs  *messaging.Service
	calls *calls.Service
	seq   atomic.Int64
	// videoSize is the payload size of the clients' video packets.
	videoSize int
	// rtc is the clients' PeerConnection configuration (ICE servers).
	rtc webrtc.Configuration
	// screen gives the next clients a third track, a screen share.
	screen bool

	mu     sync.Mutex
	events map[int64][]parley.Event
	wake   chan struct{}
	subs   map[int64][]chan parley.Event // per user: the test clients listening
}

func newEnv(t testing.TB, cfg calls.Config) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	e := &env{t: t, bus: inmem.NewBus(), events: map[int64][]parley.Event{}, wake: make(chan struct{}), subs: map[int64][]chan parley.Event{}}
	var err error
	e.store, err = sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "parley.db"), sqlstore.Options{Publish: e.bus.Publish, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	pres := presence.New(e.store, e.bus, log)
	e.msgs = messaging.New(e.store, e.bus, nil, pres, messaging.Config{Logger: log})
	cancel, err := e.bus.Subscribe(e.record)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Loopback, cfg.Logger = true, log
	if e.calls, err = calls.New(e.store, e.bus, e.msgs, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.calls.Close()
		cancel()
		e.msgs.Close()
		pres.Close()
		e.store.Close()
		e.bus.Close()
	})
	return e
}

func (e *env) record(events []parley.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range events {
		for _, u := range ev.Audience {
			e.events[u] = append(e.events[u], ev)
			for _, ch := range e.subs[u] {
				select {
				case ch <- ev:
				default:
				}
			}
		}
	}
	close(e.wake)
	e.wake = make(chan struct{})
}

// waitEvent waits for an event of typ to user that match accepts.
func (e *env) waitEvent(user int64, typ string, match func(json.RawMessage) bool) parley.Event {
	e.t.Helper()
	deadline := time.After(10 * time.Second)
	for i := 0; ; {
		e.mu.Lock()
		evs, wake := e.events[user], e.wake
		e.mu.Unlock()
		for ; i < len(evs); i++ {
			if evs[i].Type == typ && (match == nil || match(evs[i].Data)) {
				return evs[i]
			}
		}
		select {
		case <-wake:
		case <-deadline:
			e.t.Fatalf("user %d got no %s event", user, typ)
		}
	}
}

// callState matches call.updated events with the given state.
func callState(state string) func(json.RawMessage) bool {
	return func(d json.RawMessage) bool {
		var c calls.Call
		return json.Unmarshal(d, &c) == nil && c.State == state
	}
}

func (e *env) user(name string) *parley.User {
	e.t.Helper()
	n := e.seq.Add(1)
	u := &parley.User{Email: fmt.Sprintf("u%d@calls.test", n), Name: name, Role: parley.RoleMember, Active: true}
	if _, err := e.store.Write(context.Background(), func(tx parley.Tx) error { return tx.CreateUser(context.Background(), u, "") }); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// direct opens an allowed direct conversation between a and b.
func (e *env) direct(a, b *parley.User) int64 {
	e.t.Helper()
	ctx := context.Background()
	v, err := e.msgs.OpenDirect(ctx, a, b.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.msgs.Allow(ctx, b, v.ID); err != nil {
		e.t.Fatal(err)
	}
	return v.ID
}

func (e *env) group(owner *parley.User, others ...*parley.User) int64 {
	e.t.Helper()
	var ids []int64
	for _, u := range others {
		ids = append(ids, u.ID)
	}
	v, err := e.msgs.CreateGroup(context.Background(), owner, "Team", ids, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.ID
}

// lines are the call system lines of a conversation, oldest first.
func (e *env) lines(u *parley.User, convID int64) []*parley.SystemEvent {
	e.t.Helper()
	ms, err := e.msgs.History(context.Background(), u, convID, parley.MessagePage{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*parley.SystemEvent
	for _, m := range ms {
		if m.Kind == parley.MsgEvent && m.Event != nil && strings.HasPrefix(m.Event.Action, "call_") {
			out = append(out, m.Event)
		}
	}
	return out
}

// waitLine waits for a call line with action.
func (e *env) waitLine(u *parley.User, convID int64, action string) *parley.SystemEvent {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range e.lines(u, convID) {
			if l.Action == action {
				return l
			}
		}
	}
	e.t.Fatalf("no %s line in conversation %d", action, convID)
	return nil
}

// peer is a participant's client: a pion PeerConnection that answers the
// server's offers, sends audio and video packets and counts what arrives.
type peer struct {
	t      testing.TB
	e      *env
	user   *parley.User
	callID string
	peerID string
	pc     *webrtc.PeerConnection
	audio  *webrtc.TrackLocalStaticRTP
	video  *webrtc.TrackLocalStaticRTP
	level  atomic.Uint32 // the audio level it sends (0 loudest … 127 silence)
	// videoSize is the size of its video packets' payload (default 10).
	videoSize int
	sent      atomic.Int64 // packets written, audio and video
	screen    *webrtc.TrackLocalStaticRTP
	plis      atomic.Int64           // keyframe requests that reached its video senders
	ssrc      map[string]webrtc.SSRC // received track id → its SSRC
	offers    chan parley.Event
	stop      chan struct{}
	done      sync.WaitGroup

	mu       sync.Mutex
	got      map[string]int // track id → packets
	first    map[string]time.Time
	received chan string // track ids, once each
}

func clientAPI(t testing.TB) *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// join makes the client of a user who started, accepted or joined a call.
func (e *env) join(u *parley.User, j *calls.Joined, err error) *peer {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return e.client(u, j.Call.ID, j.PeerID, j.Offer, nil)
}

// as is join for a call's answer: e.as(u)(e.calls.Accept(...)).
func (e *env) as(u *parley.User) func(*calls.Joined, error) *peer {
	return func(j *calls.Joined, err error) *peer { return e.join(u, j, err) }
}

// client answers offer and starts sending. answer, if set, sends the
// answer instead of calling the service (the WebSocket tests).
func (e *env) client(u *parley.User, callID, peerID string, offer *webrtc.SessionDescription, answer func(webrtc.SessionDescription) error) *peer {
	t := e.t
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(e.rtc)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, e: e, user: u, callID: callID, peerID: peerID, pc: pc, offers: make(chan parley.Event, 16), stop: make(chan struct{}),
		got: map[string]int{}, first: map[string]time.Time{}, received: make(chan string, 16), videoSize: e.videoSize}
	p.level.Store(127)
	if p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "me"); err != nil {
		t.Fatal(err)
	}
	if p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", "me"); err != nil {
		t.Fatal(err)
	}
	tracks := []webrtc.TrackLocal{p.audio, p.video}
	if e.screen {
		if p.screen, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", "me"); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, p.screen)
	}
	p.ssrc = map[string]webrtc.SSRC{}
	for _, tr := range tracks {
		snd, err := pc.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				pkts, _, err := snd.ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
						p.plis.Add(1)
					}
				}
			}
		}()
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		id := tr.ID()
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			p.mu.Lock()
			if p.got[id] == 0 {
				p.ssrc[id] = tr.SSRC()
				p.first[id] = time.Now()
				p.received <- id
			}
			p.got[id]++
			p.mu.Unlock()
		}
	})
	if answer == nil {
		answer = func(d webrtc.SessionDescription) error {
			return e.calls.Answer(context.Background(), u, callID, peerID, d)
		}
	}
	// Listen before answering: answering may bring the next offer.
	e.mu.Lock()
	e.subs[u.ID] = append(e.subs[u.ID], p.offers)
	e.mu.Unlock()
	if err := p.answer(*offer, answer); err != nil {
		t.Fatal(err)
	}
	p.done.Add(2)
	go p.renegotiate(answer)
	go p.send()
	t.Cleanup(p.close)
	return p
}

func (p *peer) answer(offer webrtc.SessionDescription, send func(webrtc.SessionDescription) error) error {
	if err := p.pc.SetRemoteDescription(offer); err != nil {
		return err
	}
	a, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(a); err != nil {
		return err
	}
	<-gathered
	return send(*p.pc.LocalDescription())
}

// renegotiate answers the server's later offers.
func (p *peer) renegotiate(send func(webrtc.SessionDescription) error) {
	defer p.done.Done()
	for {
		select {
		case <-p.stop:
			return
		case ev := <-p.offers:
			if ev.Type != calls.EventSDP {
				continue
			}
			var d struct {
				PeerID string                    `json:"peer_id"`
				SDP    webrtc.SessionDescription `json:"sdp"`
			}
			if json.Unmarshal(ev.Data, &d) != nil || d.PeerID != p.peerID {
				continue
			}
			if err := p.answer(d.SDP, send); err != nil {
				p.t.Logf("answering a new offer: %v", err)
			}
		}
	}
}

// send writes an audio packet every 20 ms and a video packet every 20 ms
// until the client closes.
func (p *peer) send() {
	defer p.done.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var levelID uint8
	video := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 1, 2, 3, 4}
	if p.videoSize > len(video) {
		video = append(video, make([]byte, p.videoSize-len(video))...)
	}
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		seq++
		if levelID == 0 {
			for _, s := range p.pc.GetSenders() {
				for _, h := range s.GetParameters().HeaderExtensions {
					if h.URI == sdp.AudioLevelURI {
						levelID = uint8(h.ID)
					}
				}
			}
		}
		a := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0xf8, 0xff, 0xfe}}
		if levelID != 0 {
			a.Header.SetExtension(levelID, []byte{uint8(p.level.Load())})
		}
		p.audio.WriteRTP(a)
		p.sent.Add(2)
		p.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true},
			Payload: video})
		if p.screen != nil {
			p.screen.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true},
				Payload: video})
		}
	}
}

// waitTracks waits until packets arrived on every track id in ids.
func (p *peer) waitTracks(ids ...string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		all := true
		for _, id := range ids {
			if p.got[id] < 5 {
				all = false
			}
		}
		p.mu.Unlock()
		if all {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Fatalf("user %d: want packets on %v, got %v", p.user.ID, ids, p.got)
}

func (p *peer) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[id]
}

func (p *peer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.done.Wait()
	p.pc.Close()
}

func trackIDs(u *parley.User, kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, fmt.Sprintf("%d-%s", u.ID, k))
	}
	return out
}
