package calls

import (
	"context"
	"encoding/json"

	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
)

// frame is a client's call.* frame on the WebSocket (docs/calls.md).
type frame struct {
	ConversationID int64                      `json:"conversation_id"`
	Video          bool                       `json:"video"`
	CallID         string                     `json:"call_id"`
	PeerID         string                     `json:"peer_id"`
	SDP            *webrtc.SessionDescription `json:"sdp"`
	Candidate      *webrtc.ICECandidateInit   `json:"candidate"`
	Audio          bool                       `json:"audio"`
	Screen         bool                       `json:"screen"`
	ICERestart     bool                       `json:"ice_restart"`
}

// Frame acts on a call.* frame from a user's socket. A non-nil result is
// sent as the fields of an ack; nil means a plain ok.
func (s *Service) Frame(ctx context.Context, actor *parley.User, typ string, raw []byte) (map[string]any, error) {
	return s.frame(ctx, actor, typ, raw, true)
}

// frame acts on a frame here or, with relay, on the node hosting its call.
func (s *Service) frame(ctx context.Context, actor *parley.User, typ string, raw []byte, relay bool) (map[string]any, error) {
	var f frame
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, parley.Invalid("frame", "the call frame does not match its fields: %v", err)
	}
	if relay {
		node, fwd, err := s.hostOf(actor, typ, &f, raw)
		if err != nil {
			return nil, err
		}
		if node != "" {
			return s.relay(ctx, actor, node, fwd.typ, fwd.raw)
		}
	}
	switch typ {
	case "call.start":
		j, err := s.Start(ctx, actor, f.ConversationID, f.Video)
		return joined(j, err)
	case "call.accept":
		j, err := s.Accept(ctx, actor, f.CallID)
		return joined(j, err)
	case "call.join":
		j, err := s.Join(ctx, actor, f.CallID)
		return joined(j, err)
	case "call.decline":
		return nil, s.Decline(ctx, actor, f.CallID)
	case "call.leave":
		return nil, s.Leave(ctx, actor, f.CallID)
	case "call.sdp":
		if f.SDP == nil {
			return nil, parley.Invalid("sdp", "send the answer as sdp: {type, sdp}")
		}
		return nil, s.Answer(ctx, actor, f.CallID, f.PeerID, *f.SDP)
	case "call.candidate":
		if f.Candidate == nil {
			return nil, parley.Invalid("candidate", "send the candidate as candidate: {candidate, sdpMid, sdpMLineIndex}")
		}
		return nil, s.Candidate(ctx, actor, f.CallID, f.PeerID, *f.Candidate)
	case "call.media":
		return nil, s.Media(ctx, actor, f.CallID, f.PeerID, f.Audio, f.Video, f.Screen)
	case "call.sync":
		out, err := s.Sync(ctx, actor, f.CallID, f.PeerID, f.ICERestart)
		if err != nil {
			return nil, err
		}
		m := map[string]any{"call": out.Call}
		if out.Offer != nil {
			m["offer"] = out.Offer
		}
		return m, nil
	}
	return nil, parley.Invalid("type", "unknown frame type %q", typ)
}

func joined(j *Joined, err error) (map[string]any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{"call": j.Call, "peer_id": j.PeerID, "offer": j.Offer}, nil
}

type forwarded struct {
	typ string
	raw []byte
}

// hostOf returns the other node hosting the frame's call, if it is not
// here, and the frame to send it: a start in a conversation whose
// conference another node hosts is a join there.
func (s *Service) hostOf(actor *parley.User, typ string, f *frame, raw []byte) (string, forwarded, error) {
	if typ == "call.start" {
		s.mu.Lock()
		local := s.byConv[f.ConversationID] != nil
		s.mu.Unlock()
		r := s.remoteByConv(actor, f.ConversationID)
		if local || r == nil {
			return "", forwarded{}, nil
		}
		if r.call.Kind != KindGroup {
			return "", forwarded{}, parley.Errorf(parley.ECONFLICT, "a call is already under way in this conversation")
		}
		b, _ := json.Marshal(map[string]any{"call_id": r.call.ID})
		return r.call.Node, forwarded{"call.join", b}, nil
	}
	if f.CallID == "" {
		return "", forwarded{}, nil
	}
	s.mu.Lock()
	local := s.calls[f.CallID] != nil
	s.mu.Unlock()
	if local {
		return "", forwarded{}, nil
	}
	r := s.remoteByID(actor, f.CallID)
	if r == nil {
		return "", forwarded{}, nil
	}
	return r.call.Node, forwarded{typ, raw}, nil
}
