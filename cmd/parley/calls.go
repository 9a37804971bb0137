package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/calls"
	"github.com/parley-chat/parley/notify"
	"github.com/parley-chat/parley/realtime"
)

// startCalls starts the calls service and, if configured, the built-in
// TURN server (docs/calls.md, "Operating calls").
func (m *Main) startCalls() error {
	cfg := m.Config
	if !cfg.Calls {
		return nil
	}
	if cfg.TURNAddr != "" {
		t, err := calls.StartTURN(calls.TURNConfig{Addr: cfg.TURNAddr, PublicIP: cfg.TURNPublicIP, Secret: cfg.TURNSecret,
			Realm: cfg.TURNRealm, Logger: m.Logger})
		if err != nil {
			return err
		}
		m.turn = t
		m.Logger.Info("TURN server listening", "addr", t.Addr().String(), "relay_ip", cfg.TURNPublicIP)
	}
	if cfg.TURNURLs != "" && cfg.TURNSecret == "" {
		return fmt.Errorf("turn-urls needs turn-secret: clients get time-limited credentials signed with it")
	}
	svc, err := calls.New(m.store, m.bus, m.Messaging, calls.Config{STUNURLs: list(cfg.STUNURLs), TURNURLs: list(cfg.TURNURLs),
		TURNSecret: cfg.TURNSecret, TURNTTL: cfg.TURNTTL, UDPPort: cfg.RTCUDPPort, PublicIP: cfg.RTCPublicIP,
		Loopback: cfg.CallsLoopback, OnRing: m.pushRing, Logger: m.Logger})
	if err != nil {
		return err
	}
	m.Calls = svc
	return nil
}

// pushRing tells a callee with no tab open that they are called, by Web
// Push (it passes their do-not-disturb hours only if they let calls
// through).
func (m *Main) pushRing(c *calls.Call, callee int64) {
	if m.Notify == nil {
		return
	}
	ctx := context.Background()
	name := "" // the notifier says "someone"
	if u, err := m.store.UserByID(ctx, c.CreatedBy); err == nil {
		name = u.Name
	}
	note := notify.CallNote(callee, name, c.Video, fmt.Sprintf("/c/%d", c.ConversationID), "call-"+c.ID)
	if err := m.Notify.Notify(ctx, note); err != nil {
		m.Logger.Warn("calls: a ring's push", "call", c.ID, "err", err)
	}
}

// callFrames is what the gateway hands call.* frames to (nil: none).
func (m *Main) callFrames() realtime.CallFrames {
	if m.Calls == nil {
		return nil
	}
	return m.Calls
}

// closeCalls ends this node's calls (writing their lines) and stops TURN.
func (m *Main) closeCalls() {
	if m.Calls != nil {
		m.Calls.Close()
	}
	if m.turn != nil {
		m.turn.Close()
	}
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
