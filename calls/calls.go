// Package calls is Parley's voice and video calls: 1:1 calls that ring in
// direct chats, conferences in multi-chats, and the selective forwarding
// unit (SFU) that carries their media. Signalling runs over the real-time
// WebSocket (realtime hands call.* frames to Frame); the protocol is in
// docs/calls.md.
//
// A call lives in the memory of the node that hosts it: its state and its
// PeerConnections. Members learn of it through ephemeral events; what is
// kept is the system line written when it ends.
package calls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/messaging"
)

// Event types of calls (docs/calls.md); all are ephemeral.
const (
	EventRing     = "call.ring"
	EventUpdated  = "call.updated"
	EventSDP      = "call.sdp"
	EventSpeaking = "call.speaking"
)

// Call kinds, states and end reasons.
const (
	KindDirect = "direct"
	KindGroup  = "group"

	StateRinging = "ringing"
	StateActive  = "active"
	StateEnded   = "ended"

	EndMissed    = "missed"
	EndDeclined  = "declined"
	EndCancelled = "cancelled"
	EndEnded     = "ended"
)

// System line actions written when a call ends.
const (
	ActionMissed    = "call_missed"
	ActionDeclined  = "call_declined"
	ActionCancelled = "call_cancelled"
	ActionEnded     = "call_ended"
)

// Call is a call as clients see it.
type Call struct {
	ID             string        `json:"id"`
	ConversationID int64         `json:"conversation_id"`
	Kind           string        `json:"kind"`
	State          string        `json:"state"`
	Video          bool          `json:"video"`
	CreatedBy      int64         `json:"created_by"`
	CreatedAt      time.Time     `json:"created_at"`
	AnsweredAt     time.Time     `json:"answered_at,omitzero"`
	EndedAt        time.Time     `json:"ended_at,omitzero"`
	EndReason      string        `json:"end_reason,omitempty"`
	Participants   []Participant `json:"participants"`
	// Node names the server node that hosts the call (its media).
	Node string `json:"node"`
}

// Participant is a user in a call, on one device (PeerID).
type Participant struct {
	UserID    int64     `json:"user_id"`
	PeerID    string    `json:"peer_id"`
	JoinedAt  time.Time `json:"joined_at"`
	Audio     bool      `json:"audio"`
	Video     bool      `json:"video"`
	Screen    bool      `json:"screen"`
	Connected bool      `json:"connected"`
}

// Config tunes the calls service. The zero value works on one machine.
type Config struct {
	// RingTimeout is how long a 1:1 call rings before it is missed
	// (default 45 s).
	RingTimeout time.Duration
	// LostTimeout is how long a participant's media transport may be
	// failed or disconnected before they leave the call (default 20 s).
	LostTimeout time.Duration
	// ConnectTimeout is how long a new participant's transport may take
	// to connect before they leave (default 30 s).
	ConnectTimeout time.Duration
	// SpeakingInterval is the least time between two call.speaking events
	// of a call (default 300 ms).
	SpeakingInterval time.Duration
	// BeaconInterval is how often a node tells the others which calls it
	// hosts (default 10 s); a node silent for three intervals is
	// forgotten.
	BeaconInterval time.Duration

	// STUNURLs and TURNURLs are handed to clients; TURNSecret signs their
	// time-limited TURN credentials (TURN REST API, as coturn's
	// use-auth-secret), valid for TURNTTL (default 12 h).
	STUNURLs   []string
	TURNURLs   []string
	TURNSecret string
	TURNTTL    time.Duration

	// UDPPort, if not 0, carries all of the SFU's media on one UDP port
	// (ICE UDP mux); otherwise each PeerConnection takes an ephemeral port.
	UDPPort int
	// PublicIP is the address the SFU's candidates announce, for a node
	// behind 1:1 NAT.
	PublicIP string
	// Loopback limits the SFU to 127.0.0.1 (tests).
	Loopback bool
	// OnRing, if set, hears each 1:1 call that starts ringing, after its
	// ring event was published: Web Push reaches a callee with no tab open.
	OnRing func(call *Call, callee int64)

	Now    func() time.Time
	Logger *slog.Logger
}

// Service runs the calls of this node.
type Service struct {
	store parley.Store
	bus   parley.Bus
	msgs  *messaging.Service
	cfg   Config
	log   *slog.Logger
	api   *webrtc.API
	udp   net.PacketConn // the UDP mux's socket, if any
	rtc   *rtcMux

	mu     sync.Mutex
	calls  map[string]*call
	byConv map[int64]*call
	closed bool
	wg     sync.WaitGroup

	// The other nodes' calls (cluster.go).
	node        string
	dirMu       sync.Mutex
	remote      map[string]*remoteCall
	waiting     map[string]chan replyMsg
	stopCluster func()
}

// call is the state of one call; its fields are guarded by Service.mu.
type call struct {
	id         string
	node       string
	convID     int64
	kind       string
	video      bool
	createdBy  int64
	callee     int64 // direct calls: the other user
	createdAt  time.Time
	answeredAt time.Time
	endedAt    time.Time
	state      string
	endReason  string
	members    []int64         // who hears of it: the conversation's members
	peers      map[int64]*peer // participants by user
	took       []int64         // everyone who took part, in order
	ringTimer  *time.Timer
	speak      *speaking
}

// New returns the calls service. It opens the SFU's UDP port if one is
// configured; Close releases it.
func New(store parley.Store, bus parley.Bus, msgs *messaging.Service, cfg Config) (*Service, error) {
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 45 * time.Second
	}
	if cfg.LostTimeout <= 0 {
		cfg.LostTimeout = 20 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	if cfg.SpeakingInterval <= 0 {
		cfg.SpeakingInterval = 300 * time.Millisecond
	}
	if cfg.BeaconInterval <= 0 {
		cfg.BeaconInterval = 10 * time.Second
	}
	if cfg.TURNTTL <= 0 {
		cfg.TURNTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{store: store, bus: bus, msgs: msgs, cfg: cfg, log: cfg.Logger,
		calls: make(map[string]*call), byConv: make(map[int64]*call),
		node: newID(), remote: make(map[string]*remoteCall), waiting: make(map[string]chan replyMsg)}
	if err := s.setupRTC(); err != nil {
		return nil, err
	}
	if err := s.startCluster(); err != nil {
		if s.rtc != nil {
			s.rtc.close()
		}
		return nil, err
	}
	return s, nil
}

// Close ends every call of this node and releases the SFU.
func (s *Service) Close() error {
	s.stopCluster()
	s.mu.Lock()
	s.closed = true
	var ended []*endedCall
	for _, c := range s.calls {
		ended = append(ended, s.endLocked(c, EndEnded))
	}
	s.mu.Unlock()
	for _, e := range ended {
		s.finish(context.Background(), e)
	}
	s.wg.Wait()
	if s.udp != nil {
		s.rtc.close()
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// view is the call as clients see it; s.mu is held.
func (c *call) view() *Call {
	v := &Call{ID: c.id, Node: c.node, ConversationID: c.convID, Kind: c.kind, State: c.state, Video: c.video, CreatedBy: c.createdBy,
		CreatedAt: c.createdAt, AnsweredAt: c.answeredAt, EndedAt: c.endedAt, EndReason: c.endReason, Participants: []Participant{}}
	for _, p := range c.peers {
		v.Participants = append(v.Participants, Participant{UserID: p.user, PeerID: p.id, JoinedAt: p.joinedAt,
			Audio: p.audio, Video: p.video, Screen: p.screen, Connected: p.connected})
	}
	slices.SortFunc(v.Participants, func(a, b Participant) int { return a.JoinedAt.Compare(b.JoinedAt) })
	return v
}

// event builds an ephemeral event of the call for audience.
func (c *call) event(typ string, audience []int64, data any) parley.Event {
	e := parley.NewEvent(typ, c.convID, 0, data)
	e.Audience = audience
	return e
}

// updated is call.updated to every member; s.mu is held.
func (c *call) updated() parley.Event { return c.event(EventUpdated, c.members, c.view()) }

// publish sends events; it is called without s.mu (a bus may deliver on
// the caller's goroutine).
func (s *Service) publish(events ...parley.Event) {
	if len(events) == 0 {
		return
	}
	if err := s.bus.Publish(context.Background(), events); err != nil {
		s.log.Warn("calls: publishing events", "err", err)
	}
}

// participantIDs are the users in the call; s.mu is held.
func (c *call) participantIDs() []int64 {
	ids := make([]int64, 0, len(c.peers))
	for id := range c.peers {
		ids = append(ids, id)
	}
	return ids
}

// Active returns the calls under way (ringing or active) in the
// conversations the actor is a member of.
func (s *Service) Active(ctx context.Context, actor *parley.User) ([]*Call, error) {
	s.mu.Lock()
	var out []*Call
	for _, c := range s.calls {
		if slices.Contains(c.members, actor.ID) {
			out = append(out, c.view())
		}
	}
	s.mu.Unlock()
	for _, c := range s.remoteFor(actor) {
		if !slices.ContainsFunc(out, func(l *Call) bool { return l.ID == c.ID }) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *Call) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if out == nil {
		out = []*Call{}
	}
	return out, nil
}

// Get returns a call under way the actor may see.
func (s *Service) Get(ctx context.Context, actor *parley.User, id string) (*Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if c == nil || !slices.Contains(c.members, actor.ID) {
		if r := s.remoteByID(actor, id); r != nil {
			return r.call, nil
		}
		return nil, parley.Errorf(parley.ENOTFOUND, "call not found (it ended, or never was)")
	}
	return c.view(), nil
}

// callable checks that actor may call in the conversation and returns it
// with its members' ids and, for a 1:1 conversation, the other user.
func (s *Service) callable(ctx context.Context, actor *parley.User, convID int64) (*parley.Conversation, []int64, int64, error) {
	if actor.Bot || !actor.Active {
		return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "this account cannot make calls")
	}
	if convID <= 0 {
		return nil, nil, 0, parley.Invalid("conversation_id", "name the conversation to call in")
	}
	conv, err := s.store.ConversationByID(ctx, convID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil, 0, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	if err != nil {
		return nil, nil, 0, err
	}
	ms, err := s.store.Members(ctx, convID)
	if err != nil {
		return nil, nil, 0, err
	}
	ids := make([]int64, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	if !slices.Contains(ids, actor.ID) {
		return nil, nil, 0, parley.Errorf(parley.ENOTFOUND, "conversation not found")
	}
	switch conv.Kind {
	case parley.KindSupport:
		return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "calls are for staff chats; a support dialog has no calls")
	case parley.KindGroup:
		return conv, ids, 0, nil
	case parley.KindAssistance:
		return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "an Assistance chat has no calls; call the administrator from a direct chat")
	case parley.KindDirect:
		if conv.State != parley.StateAllowed {
			return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "the other user has not accepted messages from you yet; a call needs an allowed direct chat")
		}
		var other int64
		for _, id := range ids {
			if id != actor.ID {
				other = id
			}
		}
		u, err := s.store.UserByID(ctx, other)
		if err != nil {
			return nil, nil, 0, err
		}
		if !u.Active || u.Bot {
			return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "%s cannot take calls", u.Name)
		}
		return conv, ids, other, nil
	}
	return nil, nil, 0, parley.Errorf(parley.EFORBIDDEN, "this conversation has no calls")
}

// Joined is the answer to starting, accepting or joining a call: the
// call, the caller's peer and the server's first offer.
type Joined struct {
	Call   *Call                      `json:"call"`
	PeerID string                     `json:"peer_id"`
	Offer  *webrtc.SessionDescription `json:"offer"`
}

// Start starts a call in a conversation. In a direct chat it rings the
// other user; in a multi-chat it starts a conference, or joins the one
// under way.
func (s *Service) Start(ctx context.Context, actor *parley.User, convID int64, video bool) (*Joined, error) {
	conv, members, callee, err := s.callable(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the server is stopping; call again in a moment")
	}
	if c := s.byConv[conv.ID]; c != nil {
		s.mu.Unlock()
		if c.kind == KindGroup {
			return s.Join(ctx, actor, c.id)
		}
		return nil, parley.Errorf(parley.ECONFLICT, "a call is already under way in this conversation")
	}
	now := s.now()
	c := &call{id: newID(), node: s.node, convID: conv.ID, kind: KindGroup, video: video, createdBy: actor.ID, createdAt: now,
		state: StateActive, members: members, peers: make(map[int64]*peer)}
	if conv.Kind == parley.KindDirect {
		c.kind, c.callee, c.state = KindDirect, callee, StateRinging
	}
	s.calls[c.id], s.byConv[c.convID] = c, c
	c.speak = s.startSpeaking(c)
	if c.kind == KindDirect {
		id := c.id
		c.ringTimer = time.AfterFunc(s.cfg.RingTimeout, func() { s.ringTimeout(id) })
	}
	s.mu.Unlock()

	j, err := s.addPeer(c, actor.ID)
	if err != nil {
		s.mu.Lock()
		e := s.endLocked(c, EndCancelled)
		e.quiet = true
		s.mu.Unlock()
		s.finish(ctx, e)
		return nil, err
	}
	s.mu.Lock()
	events := []parley.Event{c.updated()}
	if c.kind == KindDirect && c.state == StateRinging {
		events = append(events, c.event(EventRing, []int64{c.callee}, c.view()))
	}
	j.Call = c.view()
	ringing, callee := c.kind == KindDirect && c.state == StateRinging, c.callee
	s.mu.Unlock()
	s.publish(events...)
	if ringing && s.cfg.OnRing != nil {
		s.cfg.OnRing(j.Call, callee)
	}
	return j, nil
}

// lookup returns a call under way that actor is a member of.
func (s *Service) lookup(actor *parley.User, id string) (*call, error) {
	if id == "" {
		return nil, parley.Invalid("call_id", "name the call")
	}
	c := s.calls[id]
	if c == nil || !slices.Contains(c.members, actor.ID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "call not found (it ended, or never was)")
	}
	return c, nil
}

// Accept answers a ringing 1:1 call, on the device that calls it.
func (s *Service) Accept(ctx context.Context, actor *parley.User, id string) (*Joined, error) {
	s.mu.Lock()
	c, err := s.lookup(actor, id)
	if err == nil && c.callee != actor.ID {
		err = parley.Errorf(parley.EFORBIDDEN, "only the user called can accept a call")
	}
	if err == nil && c.state != StateRinging {
		err = parley.Errorf(parley.ECONFLICT, "the call no longer rings")
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	c.state, c.answeredAt = StateActive, s.now()
	c.ringTimer.Stop()
	s.mu.Unlock()
	return s.enter(ctx, c, actor.ID)
}

// enter adds the user's peer to an active call and tells the members.
func (s *Service) enter(ctx context.Context, c *call, user int64) (*Joined, error) {
	j, err := s.addPeer(c, user)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	j.Call = c.view()
	ev := c.updated()
	s.mu.Unlock()
	s.publish(ev)
	return j, nil
}

// Decline refuses a ringing 1:1 call.
func (s *Service) Decline(ctx context.Context, actor *parley.User, id string) error {
	s.mu.Lock()
	c, err := s.lookup(actor, id)
	if err == nil && c.callee != actor.ID {
		err = parley.Errorf(parley.EFORBIDDEN, "only the user called can decline a call")
	}
	if err == nil && c.state != StateRinging {
		err = parley.Errorf(parley.ECONFLICT, "the call no longer rings")
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	e := s.endLocked(c, EndDeclined)
	s.mu.Unlock()
	s.finish(ctx, e)
	return nil
}

// Join enters a call under way: a conference any member may join; a 1:1
// call only its two users, once answered (from another device, or again
// after losing the connection).
func (s *Service) Join(ctx context.Context, actor *parley.User, id string) (*Joined, error) {
	if actor.Bot || !actor.Active {
		return nil, parley.Errorf(parley.EFORBIDDEN, "this account cannot make calls")
	}
	s.mu.Lock()
	c, err := s.lookup(actor, id)
	if err == nil && c.kind == KindDirect {
		switch {
		case actor.ID != c.createdBy && actor.ID != c.callee:
			err = parley.Errorf(parley.EFORBIDDEN, "this call is not yours to join")
		case c.state != StateActive:
			err = parley.Errorf(parley.ECONFLICT, "the call has not been answered; accept it instead")
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.enter(ctx, c, actor.ID)
}

// Leave hangs up. The caller of a ringing call cancels it; either user
// leaving a 1:1 call ends it; a conference ends when its last participant
// leaves.
func (s *Service) Leave(ctx context.Context, actor *parley.User, id string) error {
	s.mu.Lock()
	c, err := s.lookup(actor, id)
	if err == nil && c.peers[actor.ID] == nil && !(c.state == StateRinging && c.callee == actor.ID) {
		err = parley.Errorf(parley.ECONFLICT, "you are not in this call")
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if c.state == StateRinging && c.callee == actor.ID {
		// The callee hanging up a call that rings declines it.
		e := s.endLocked(c, EndDeclined)
		s.mu.Unlock()
		s.finish(ctx, e)
		return nil
	}
	s.leaveLocked(ctx, c.peers[actor.ID])
	return nil
}

// leaveLocked takes p out of its call, ending the call when that is the
// rule, and unlocks s.mu.
func (s *Service) leaveLocked(ctx context.Context, p *peer) {
	c := p.call
	if c.peers[p.user] != p {
		s.mu.Unlock()
		return
	}
	delete(c.peers, p.user)
	p.gone = true
	p.stopLost()
	end := ""
	switch {
	case c.state == StateRinging:
		end = EndCancelled
	case c.kind == KindDirect:
		end = EndEnded
	case len(c.peers) == 0:
		end = EndEnded
	}
	if end != "" {
		e := s.endLocked(c, end)
		s.mu.Unlock()
		p.close()
		s.finish(ctx, e)
		return
	}
	others := c.others(nil)
	ev := c.updated()
	s.mu.Unlock()
	p.close()
	s.publish(ev)
	for _, o := range others {
		s.reconcile(o)
	}
}

// others are the participants but p; s.mu is held.
func (c *call) others(p *peer) []*peer {
	var out []*peer
	for _, o := range c.peers {
		if o != p {
			out = append(out, o)
		}
	}
	return out
}

// ringTimeout ends a call nobody answered.
func (s *Service) ringTimeout(id string) {
	s.mu.Lock()
	c := s.calls[id]
	if c == nil || c.state != StateRinging {
		s.mu.Unlock()
		return
	}
	e := s.endLocked(c, EndMissed)
	s.mu.Unlock()
	s.finish(context.Background(), e)
}

// endedCall is what is left to do once a call has ended: close its
// peers, tell the members, write its line.
type endedCall struct {
	c     *call
	peers []*peer
	event parley.Event
	line  *parley.SystemEvent
	quiet bool // no line (a call that never started)
}

// endLocked ends a call; s.mu is held. The caller runs finish without it.
func (s *Service) endLocked(c *call, reason string) *endedCall {
	c.state, c.endReason, c.endedAt = StateEnded, reason, s.now()
	if c.ringTimer != nil {
		c.ringTimer.Stop()
	}
	delete(s.calls, c.id)
	if s.byConv[c.convID] == c {
		delete(s.byConv, c.convID)
	}
	e := &endedCall{c: c}
	for _, p := range c.peers {
		p.gone = true
		p.stopLost()
		e.peers = append(e.peers, p)
	}
	e.event = c.updated()
	c.peers = map[int64]*peer{}
	summary := &parley.CallSummary{ID: c.id, Video: c.video}
	switch reason {
	case EndMissed:
		e.line = &parley.SystemEvent{Action: ActionMissed, ActorID: c.createdBy, UserIDs: []int64{c.callee}, Call: summary}
	case EndDeclined:
		e.line = &parley.SystemEvent{Action: ActionDeclined, ActorID: c.callee, UserIDs: []int64{c.createdBy}, Call: summary}
	case EndCancelled:
		e.line = &parley.SystemEvent{Action: ActionCancelled, ActorID: c.createdBy, UserIDs: []int64{c.callee}, Call: summary}
	default:
		from := c.answeredAt
		if c.kind == KindGroup {
			from = c.createdAt
		}
		summary.Duration = int64(c.endedAt.Sub(from).Round(time.Second) / time.Second)
		e.line = &parley.SystemEvent{Action: ActionEnded, UserIDs: slices.Clone(c.took), Call: summary}
	}
	return e
}

// finish does the rest of ending a call, without s.mu.
func (s *Service) finish(ctx context.Context, e *endedCall) {
	e.c.speak.stop()
	for _, p := range e.peers {
		p.close()
	}
	s.publish(e.event)
	if e.quiet || e.line == nil || s.msgs == nil {
		return
	}
	if err := s.msgs.CallLine(context.WithoutCancel(ctx), e.c.convID, *e.line); err != nil {
		s.log.Warn("calls: writing the call's line", "call", e.c.id, "err", err)
	}
}
