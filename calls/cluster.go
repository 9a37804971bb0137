package calls

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Several nodes: a call's state and media live on the node that hosts it
// (where it was started). Every node keeps a directory of the calls the
// others host, from their call.updated events and a beacon each node
// sends for its calls; a frame for a call hosted elsewhere is relayed over
// the bus to its node, which acts on it and relays the answer back. The
// client sees no difference: its PeerConnection goes to the hosting node,
// whose address is in the SDP.
//
// The relay events are internal: they name a user (so they are not
// broadcast) but no audience, so no gateway sends them to a client.
const (
	eventRelay  = "call.relay"
	eventReply  = "call.reply"
	eventBeacon = "call.beacon"
)

// remoteCall is a call another node hosts.
type remoteCall struct {
	call    *Call
	members []int64
	seen    time.Time
}

type relayMsg struct {
	To    string          `json:"to"`
	From  string          `json:"from"`
	Reply string          `json:"reply"`
	User  int64           `json:"user"`
	Type  string          `json:"type"`
	Frame json.RawMessage `json:"frame"`
}

type replyMsg struct {
	To      string         `json:"to"`
	Reply   string         `json:"reply"`
	Result  map[string]any `json:"result,omitempty"`
	Code    string         `json:"code,omitempty"`
	Message string         `json:"message,omitempty"`
}

type beaconMsg struct {
	Call    *Call   `json:"call"`
	Members []int64 `json:"members"`
}

// startCluster subscribes to the bus and starts the beacon.
func (s *Service) startCluster() error {
	cancel, err := s.bus.Subscribe(s.onBus)
	if err != nil {
		return err
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.BeaconInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				s.beacon()
			}
		}
	}()
	s.stopCluster = func() {
		cancel()
		close(quit)
		<-done
	}
	return nil
}

// beacon tells the other nodes which calls this one hosts, and forgets
// the calls of nodes that have fallen silent.
func (s *Service) beacon() {
	s.mu.Lock()
	var events []parley.Event
	for _, c := range s.calls {
		e := parley.NewEvent(eventBeacon, c.convID, 0, beaconMsg{Call: c.view(), Members: c.members})
		events = append(events, e)
	}
	s.mu.Unlock()
	s.publish(events...)
	s.dirMu.Lock()
	for id, r := range s.remote {
		if time.Since(r.seen) > 3*s.cfg.BeaconInterval {
			delete(s.remote, id)
		}
	}
	s.dirMu.Unlock()
}

// onBus runs on the bus's goroutine: it records other nodes' calls and
// takes relays and replies, never blocking.
func (s *Service) onBus(events []parley.Event) {
	for i := range events {
		e := &events[i]
		switch e.Type {
		case EventUpdated:
			var c Call
			if json.Unmarshal(e.Data, &c) == nil && c.Node != s.node {
				s.see(&c, e.Audience)
			}
		case eventBeacon:
			var b beaconMsg
			if json.Unmarshal(e.Data, &b) == nil && b.Call != nil && b.Call.Node != s.node {
				s.see(b.Call, b.Members)
			}
		case eventRelay:
			var m relayMsg
			if json.Unmarshal(e.Data, &m) == nil && m.To == s.node {
				s.wg.Add(1)
				go s.serveRelay(m)
			}
		case eventReply:
			var m replyMsg
			if json.Unmarshal(e.Data, &m) == nil && m.To == s.node {
				s.dirMu.Lock()
				ch := s.waiting[m.Reply]
				s.dirMu.Unlock()
				if ch != nil {
					select {
					case ch <- m:
					default:
					}
				}
			}
		}
	}
}

func (s *Service) see(c *Call, members []int64) {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if c.State == StateEnded {
		delete(s.remote, c.ID)
		return
	}
	s.remote[c.ID] = &remoteCall{call: c, members: slices.Clone(members), seen: time.Now()}
}

// remoteByID returns another node's call the actor may see.
func (s *Service) remoteByID(actor *parley.User, id string) *remoteCall {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	r := s.remote[id]
	if r == nil || !slices.Contains(r.members, actor.ID) {
		return nil
	}
	return r
}

// remoteByConv returns another node's call in a conversation.
func (s *Service) remoteByConv(actor *parley.User, convID int64) *remoteCall {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	for _, r := range s.remote {
		if r.call.ConversationID == convID && slices.Contains(r.members, actor.ID) {
			return r
		}
	}
	return nil
}

// remoteFor returns the calls other nodes host that the actor may see.
func (s *Service) remoteFor(actor *parley.User) []*Call {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	var out []*Call
	for _, r := range s.remote {
		if slices.Contains(r.members, actor.ID) {
			out = append(out, r.call)
		}
	}
	return out
}

// relay hands a frame to the node hosting its call and waits for the
// answer.
func (s *Service) relay(ctx context.Context, actor *parley.User, node, typ string, raw []byte) (map[string]any, error) {
	m := relayMsg{To: node, From: s.node, Reply: newID(), User: actor.ID, Type: typ, Frame: raw}
	ch := make(chan replyMsg, 1)
	s.dirMu.Lock()
	s.waiting[m.Reply] = ch
	s.dirMu.Unlock()
	defer func() {
		s.dirMu.Lock()
		delete(s.waiting, m.Reply)
		s.dirMu.Unlock()
	}()
	e := parley.NewEvent(eventRelay, 0, actor.ID, m)
	if err := s.bus.Publish(ctx, []parley.Event{e}); err != nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the node hosting the call cannot be reached; try again")
	}
	select {
	case r := <-ch:
		if r.Code != "" {
			return nil, parley.Errorf(r.Code, "%s", r.Message)
		}
		return r.Result, nil
	case <-time.After(10 * time.Second):
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the node hosting the call did not answer; try again")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serveRelay acts on a frame relayed from another node, as its user.
func (s *Service) serveRelay(m relayMsg) {
	defer s.wg.Done()
	ctx := context.Background()
	r := replyMsg{To: m.From, Reply: m.Reply}
	u, err := s.store.UserByID(ctx, m.User)
	if err == nil {
		r.Result, err = s.frame(ctx, u, m.Type, m.Frame, false)
	}
	if err != nil {
		r.Code, r.Message = parley.ErrorCode(err), parley.ErrorMessage(err)
	}
	s.publish(parley.NewEvent(eventReply, 0, m.User, r))
}
