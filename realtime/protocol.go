// Package realtime is the WebSocket gateway at /api/v1/ws: it routes
// committed events to the devices of the users they are for, resumes
// reconnecting clients from their cursor, and takes sends, typing, read and
// presence frames from clients. The protocol is documented in
// docs/realtime.md.
package realtime

import (
	"encoding/json"
	"strconv"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
)

// Close codes (RFC 6455 private range). Whether the client should reconnect
// after each is documented in docs/realtime.md.
const (
	// CloseSlowConsumer: the client did not keep up and its queue was
	// dropped. Reconnect at once with the last cursor; nothing is lost.
	CloseSlowConsumer websocket.StatusCode = 4008
	// CloseUnauthorized: the session ended (signed out, deactivated).
	// Do not reconnect; sign in again.
	CloseUnauthorized websocket.StatusCode = 4001
	// CloseBadFrame: the client sent something that is not a frame.
	// Fix the client; reconnecting will not help.
	CloseBadFrame websocket.StatusCode = 4400
)

// clientFrame is anything a client sends.
type clientFrame struct {
	Type           string  `json:"type"`
	Req            int64   `json:"req"`
	ConversationID int64   `json:"conversation_id"`
	ClientID       string  `json:"client_id"`
	Text           string  `json:"text"`
	QuoteID        int64   `json:"quote_id"`
	FileIDs        []int64 `json:"file_ids"`
	Seq            int64   `json:"seq"`
	Status         string  `json:"status"`
	Whisper        bool    `json:"whisper"`
	// A send's thread and mentions (messaging.SendInput).
	ThreadID  int64   `json:"thread_id"`
	InChannel bool    `json:"in_channel"`
	Mentions  []int64 `json:"mentions"`
	// Cards: records the message refers to (send).
	Cards []parley.CardRef `json:"cards,omitempty"`
}

// appendEvent encodes an event as a frame without re-validating its Data,
// which was encoded by the service that emitted it.
func appendEvent(b []byte, e *parley.Event) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, e.Type...)
	b = append(b, '"')
	if e.ID != 0 {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, e.ID, 10)
	}
	if e.ConversationID != 0 {
		b = append(b, `,"conversation_id":`...)
		b = strconv.AppendInt(b, e.ConversationID, 10)
	}
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, e.Seq, 10)
	}
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	b = append(b, `,"at":"`...)
	b = e.At.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, `"}`...)
}

// controlFrame encodes a frame of the gateway itself (hello, ack, error,
// resync, pong).
func controlFrame(typ string, req int64, fields map[string]any) []byte {
	m := map[string]any{"type": typ}
	if req != 0 {
		m["req"] = req
	}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("realtime: encoding " + typ + ": " + err.Error())
	}
	return b
}

func errorFrame(req int64, err error) []byte {
	return controlFrame("error", req, map[string]any{"error": map[string]string{
		"code": parley.ErrorCode(err), "message": parley.ErrorMessage(err)}})
}
