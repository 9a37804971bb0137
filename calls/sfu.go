package calls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
)

// The SFU: each participant has one PeerConnection to this node. The
// server offers, always: three receive slots for what the participant
// publishes (audio, camera, screen), and one send m-line for every track
// of the others that it forwards. The client only answers, so offers never
// cross.

// Slots of a peer's published media, in the order of its offer's m-lines.
const (
	slotAudio = iota
	slotVideo
	slotScreen
	slots
)

var slotNames = [slots]string{"audio", "video", "screen"}

// rtcMux holds the SFU's shared UDP socket.
type rtcMux struct {
	mux ice.UDPMux
}

func (m *rtcMux) close() { m.mux.Close() }

// setupRTC builds the WebRTC API the SFU's PeerConnections share: codecs,
// the audio-level header extension, interceptors (NACK, RTCP reports) and
// the network settings.
func (s *Service) setupRTC() error {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if s.cfg.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		// A lost peer is noticed in seconds rather than half a minute.
		se.SetICETimeouts(time.Second, 2*time.Second, 250*time.Millisecond)
	}
	if s.cfg.PublicIP != "" {
		if net.ParseIP(s.cfg.PublicIP) == nil {
			return fmt.Errorf("rtc-public-ip: %q is not an IP address", s.cfg.PublicIP)
		}
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: []string{s.cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return err
		}
	}
	if s.cfg.UDPPort != 0 {
		host := ""
		if s.cfg.Loopback {
			host = "127.0.0.1"
		}
		conn, err := net.ListenPacket("udp4", net.JoinHostPort(host, strconv.Itoa(s.cfg.UDPPort)))
		if err != nil {
			return fmt.Errorf("rtc-udp-port: %w", err)
		}
		s.udp = conn
		s.rtc = &rtcMux{mux: webrtc.NewICEUDPMux(nil, conn)}
		se.SetICEUDPMux(s.rtc.mux)
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return nil
}

// UDPAddr is the SFU's shared UDP address, or nil without --rtc-udp-port.
func (s *Service) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// peer is one participant's PeerConnection.
type peer struct {
	s        *Service
	id       string
	call     *call
	user     int64
	pc       *webrtc.PeerConnection
	slots    [slots]*webrtc.RTPTransceiver
	joinedAt time.Time

	// Guarded by Service.mu.
	audio, video, screen bool
	connected            bool
	gone                 bool
	lost                 *time.Timer
	published            [slots]*forward

	// neg serialises negotiation: one offer at a time.
	neg     sync.Mutex
	senders map[*forward]*webrtc.RTPSender
	dirty   bool // a change waits for the answer to the offer out
	closed  bool
}

// forward is one published track and its copy that subscribers receive.
type forward struct {
	from    *peer
	slot    int
	remote  *webrtc.TrackRemote
	local   *webrtc.TrackLocalStaticRTP
	lastPLI atomic.Int64 // unix nanoseconds of the last keyframe request
	packets atomic.Uint64
}

// pli asks the publisher for a keyframe, at most every 500 ms.
func (f *forward) pli() {
	if f.slot == slotAudio {
		return
	}
	now := time.Now().UnixNano()
	last := f.lastPLI.Load()
	if now-last < int64(500*time.Millisecond) || !f.lastPLI.CompareAndSwap(last, now) {
		return
	}
	f.from.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(f.remote.SSRC())}})
}

// flag is whether the publisher says it sends on slot; s.mu is held.
func (p *peer) flag(slot int) bool {
	switch slot {
	case slotAudio:
		return p.audio
	case slotVideo:
		return p.video
	}
	return p.screen
}

func (p *peer) stopLost() {
	if p.lost != nil {
		p.lost.Stop()
		p.lost = nil
	}
}

// close closes the PeerConnection; its forwards' pumps end with it.
func (p *peer) close() {
	p.neg.Lock()
	if p.closed {
		p.neg.Unlock()
		return
	}
	p.closed = true
	p.neg.Unlock()
	if err := p.pc.Close(); err != nil {
		p.s.log.Debug("calls: closing a peer", "err", err)
	}
}

// addPeer creates user's PeerConnection in the call, replacing one the
// user has there from another device, and makes the first offer.
func (s *Service) addPeer(c *call, user int64) (*Joined, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &peer{s: s, id: newID(), call: c, user: user, pc: pc, joinedAt: s.now(), audio: true, video: c.video,
		senders: make(map[*forward]*webrtc.RTPSender)}
	kinds := [slots]webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeVideo}
	for i, k := range kinds {
		if p.slots[i], err = pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { s.onTrack(p, t, r) })
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) { s.onState(p, st) })

	s.mu.Lock()
	if c.state == StateEnded {
		s.mu.Unlock()
		pc.Close()
		return nil, parley.Errorf(parley.ENOTFOUND, "call not found (it ended, or never was)")
	}
	old := c.peers[user]
	if old != nil {
		old.gone = true
		old.stopLost()
	}
	c.peers[user] = p
	if !slices.Contains(c.took, user) {
		c.took = append(c.took, user)
	}
	p.lost = time.AfterFunc(s.cfg.ConnectTimeout, func() { s.lostPeer(p) })
	s.mu.Unlock()
	if old != nil {
		old.close()
		s.reconcileAll(c, p)
	}

	p.neg.Lock()
	s.addForwards(p)
	offer, err := s.offer(p, false)
	p.neg.Unlock()
	if err != nil {
		s.mu.Lock()
		s.leaveLocked(context.Background(), p)
		return nil, err
	}
	return &Joined{PeerID: p.id, Offer: offer}, nil
}

// wanted are the forwards p should receive: the others' tracks that have
// arrived and that their publishers say they send; s.mu is held.
func (c *call) wanted(p *peer) []*forward {
	var out []*forward
	for _, o := range c.peers {
		if o == p {
			continue
		}
		for slot, f := range o.published {
			if f != nil && o.flag(slot) {
				out = append(out, f)
			}
		}
	}
	return out
}

// addForwards brings p's send m-lines in line with what it should receive
// and reports whether anything changed; p.neg is held.
func (s *Service) addForwards(p *peer) (changed bool) {
	s.mu.Lock()
	want := p.call.wanted(p)
	if p.gone {
		want = nil
	}
	s.mu.Unlock()
	for f, snd := range p.senders {
		if !slices.Contains(want, f) {
			if err := p.pc.RemoveTrack(snd); err != nil {
				s.log.Debug("calls: removing a track", "err", err)
			}
			delete(p.senders, f)
			changed = true
		}
	}
	for _, f := range want {
		if _, ok := p.senders[f]; ok {
			continue
		}
		t, err := p.pc.AddTransceiverFromTrack(f.local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			s.log.Debug("calls: adding a track", "err", err)
			continue
		}
		snd := t.Sender()
		p.senders[f] = snd
		changed = true
		s.wg.Add(1)
		go s.readRTCP(snd, f)
	}
	return changed
}

// offer makes an offer and waits for its candidates; p.neg is held.
func (s *Service) offer(p *peer, restart bool) (*webrtc.SessionDescription, error) {
	if p.closed {
		return nil, parley.Errorf(parley.ENOTFOUND, "call not found (it ended, or never was)")
	}
	o, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(o); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
	}
	p.dirty = false
	return p.pc.LocalDescription(), nil
}

// reconcile updates what p receives and, if that changed, offers it again
// now or, while an offer is out, once it is answered.
func (s *Service) reconcile(p *peer) {
	p.neg.Lock()
	defer p.neg.Unlock()
	if p.closed {
		return
	}
	if s.addForwards(p) {
		p.dirty = true
	}
	if !p.dirty || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	o, err := s.offer(p, false)
	if err != nil {
		s.log.Debug("calls: offering", "err", err)
		return
	}
	s.sendOffer(p, o)
}

func (s *Service) sendOffer(p *peer, o *webrtc.SessionDescription) {
	s.mu.Lock()
	e := p.call.event(EventSDP, []int64{p.user}, map[string]any{"call_id": p.call.id, "peer_id": p.id, "sdp": o})
	s.mu.Unlock()
	s.publish(e)
}

// reconcileAll reconciles every participant but except.
func (s *Service) reconcileAll(c *call, except *peer) {
	s.mu.Lock()
	others := c.others(except)
	s.mu.Unlock()
	for _, o := range others {
		s.reconcile(o)
	}
}

// onTrack starts forwarding a track p publishes.
func (s *Service) onTrack(p *peer, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	slot := -1
	for i, tr := range p.slots {
		if tr.Receiver() == r {
			slot = i
		}
	}
	if slot < 0 {
		return
	}
	local, err := webrtc.NewTrackLocalStaticRTP(t.Codec().RTPCodecCapability,
		strconv.FormatInt(p.user, 10)+"-"+slotNames[slot], strconv.FormatInt(p.user, 10))
	if err != nil {
		s.log.Warn("calls: forwarding a track", "err", err)
		return
	}
	f := &forward{from: p, slot: slot, remote: t, local: local}
	s.mu.Lock()
	if p.gone {
		s.mu.Unlock()
		return
	}
	p.published[slot] = f
	c := p.call
	s.wg.Add(1) // under s.mu: Close cannot be waiting yet, the peer is not gone
	s.mu.Unlock()
	defer s.wg.Done()
	s.reconcileAll(c, p)
	s.pump(f, r)
}

// pump copies a published track's packets to its subscribers until the
// publisher's PeerConnection closes, reading audio levels on the way.
func (s *Service) pump(f *forward, r *webrtc.RTPReceiver) {
	var levelID uint8
	if f.slot == slotAudio {
		for _, h := range r.GetParameters().HeaderExtensions {
			if h.URI == sdp.AudioLevelURI {
				levelID = uint8(h.ID)
			}
		}
	}
	buf := make([]byte, 1500)
	for {
		if levelID != 0 {
			pkt, _, err := f.remote.ReadRTP()
			if err != nil {
				return
			}
			if ext := pkt.GetExtension(levelID); len(ext) > 0 {
				f.from.call.speak.observe(f.from.user, ext[0]&0x7f)
			}
			f.packets.Add(1)
			if err := f.local.WriteRTP(pkt); errors.Is(err, io.ErrClosedPipe) {
				return
			}
			continue
		}
		n, _, err := f.remote.Read(buf)
		if err != nil {
			return
		}
		f.packets.Add(1)
		if _, err := f.local.Write(buf[:n]); errors.Is(err, io.ErrClosedPipe) {
			return
		}
	}
}

// readRTCP passes a subscriber's keyframe requests to the publisher.
func (s *Service) readRTCP(snd *webrtc.RTPSender, f *forward) {
	defer s.wg.Done()
	for {
		pkts, _, err := snd.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				f.pli()
			}
		}
	}
}

// onState follows p's transport: connected, or lost for LostTimeout.
func (s *Service) onState(p *peer, st webrtc.PeerConnectionState) {
	s.mu.Lock()
	if p.gone {
		s.mu.Unlock()
		return
	}
	was := p.connected
	switch st {
	case webrtc.PeerConnectionStateConnected:
		p.connected = true
		p.stopLost()
	case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed:
		p.connected = false
		if p.lost == nil {
			p.lost = time.AfterFunc(s.cfg.LostTimeout, func() { s.lostPeer(p) })
		}
	case webrtc.PeerConnectionStateClosed:
		s.leaveLocked(context.Background(), p)
		return
	}
	var events []parley.Event
	if was != p.connected {
		events = append(events, p.call.updated())
	}
	s.mu.Unlock()
	s.publish(events...)
	if st == webrtc.PeerConnectionStateConnected && !was {
		// Ask the others for keyframes so the newcomer's video starts.
		s.mu.Lock()
		fs := p.call.wanted(p)
		s.mu.Unlock()
		for _, f := range fs {
			f.pli()
		}
	}
}

// lostPeer takes out a participant whose transport stayed down.
func (s *Service) lostPeer(p *peer) {
	s.mu.Lock()
	if p.gone || p.connected {
		s.mu.Unlock()
		return
	}
	s.log.Info("calls: a participant's connection was lost", "call", p.call.id, "user", p.user)
	s.leaveLocked(context.Background(), p)
}

// ownPeer returns the actor's peer peerID in call id.
func (s *Service) ownPeer(actor *parley.User, id, peerID string) (*peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(actor, id)
	if err != nil {
		return nil, err
	}
	p := c.peers[actor.ID]
	if p == nil || p.id != peerID {
		return nil, parley.Errorf(parley.ENOTFOUND, "you are not in this call with that peer_id (it left, or another device took over)")
	}
	return p, nil
}

// Answer applies the client's answer to the server's offer, then offers
// again if something changed meanwhile.
func (s *Service) Answer(ctx context.Context, actor *parley.User, id, peerID string, desc webrtc.SessionDescription) error {
	p, err := s.ownPeer(actor, id, peerID)
	if err != nil {
		return err
	}
	if desc.Type != webrtc.SDPTypeAnswer {
		return parley.Invalid("sdp", "the server offers and the client answers: send an answer")
	}
	if desc.SDP == "" {
		return parley.Invalid("sdp", "the answer has no SDP")
	}
	p.neg.Lock()
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		p.neg.Unlock()
		return parley.Errorf(parley.ECONFLICT, "no offer waits for an answer")
	}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		p.neg.Unlock()
		return parley.Invalid("sdp", "the answer does not apply: %v", err)
	}
	dirty := p.dirty
	p.neg.Unlock()
	if dirty {
		s.reconcile(p)
	}
	return nil
}

// Candidate adds a client's trickled ICE candidate.
func (s *Service) Candidate(ctx context.Context, actor *parley.User, id, peerID string, cand webrtc.ICECandidateInit) error {
	p, err := s.ownPeer(actor, id, peerID)
	if err != nil {
		return err
	}
	if cand.Candidate == "" {
		return nil // the end of the client's candidates
	}
	if err := p.pc.AddICECandidate(cand); err != nil {
		return parley.Invalid("candidate", "the candidate does not apply: %v", err)
	}
	return nil
}

// Media records what the participant sends; the others stop or start
// receiving its tracks accordingly and see it in participants.
func (s *Service) Media(ctx context.Context, actor *parley.User, id, peerID string, audio, video, screen bool) error {
	p, err := s.ownPeer(actor, id, peerID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	changed := p.audio != audio || p.video != video || p.screen != screen
	p.audio, p.video, p.screen = audio, video, screen
	ev := p.call.updated()
	c := p.call
	s.mu.Unlock()
	if changed {
		s.publish(ev)
		s.reconcileAll(c, p)
	}
	return nil
}

// Synced is the answer to call.sync.
type Synced struct {
	Call  *Call                      `json:"call"`
	Offer *webrtc.SessionDescription `json:"offer,omitempty"`
}

// Sync is for a client back after a reconnect: the offer it may have
// missed, or with restart a new one that restarts ICE.
func (s *Service) Sync(ctx context.Context, actor *parley.User, id, peerID string, restart bool) (*Synced, error) {
	p, err := s.ownPeer(actor, id, peerID)
	if err != nil {
		return nil, err
	}
	out := &Synced{}
	p.neg.Lock()
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		out.Offer = p.pc.LocalDescription()
	} else if restart || p.dirty {
		s.addForwards(p)
		if out.Offer, err = s.offer(p, restart); err != nil {
			p.neg.Unlock()
			return nil, err
		}
	}
	p.neg.Unlock()
	s.mu.Lock()
	out.Call = p.call.view()
	s.mu.Unlock()
	return out, nil
}
