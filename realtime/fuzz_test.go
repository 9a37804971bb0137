package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/realtime"
)

// FuzzClientFrame sends any text frame a client could send on a real
// connection to a real gateway (SQLite, a conversation the user is in),
// then a ping. Whatever the frame, the connection stays open and usable
// (the pong comes), every message the server sends is an array of
// well-formed frames, an error frame is a refusal (never an internal
// error), and an acknowledged send carries the stored message.
func FuzzClientFrame(f *testing.F) {
	s := newStack(f, f.TempDir(), realtime.Config{})
	ann, bob := s.user("Ann"), s.user("Bob")
	conv := s.direct(ann, bob)
	for _, fr := range []string{
		`{"type":"send","req":1,"conversation_id":%d,"client_id":"c-1","text":"hello <b>bob</b>"}`,
		`{"type":"send","req":2,"conversation_id":%d,"text":"with files","file_ids":[1,2,-3],"quote_id":99,"whisper":true}`,
		`{"type":"typing","conversation_id":%d}`,
		`{"type":"read","req":3,"conversation_id":%d,"seq":9223372036854775807}`,
		`{"type":"presence","req":4,"status":"away","x":%d}`,
		`{"type":"ping","req":-1}`, `{not json`, `[]`, `null`, `"ping"`, `{"type":"send","req":1e400}`,
		`{"type":"send","conversation_id":%d,"text":"\u0000\ud800"}`,
	} {
		if strings.Contains(fr, "%d") {
			fr = fmt.Sprintf(fr, conv)
		}
		f.Add([]byte(fr))
	}
	ctx := context.Background()
	url := strings.Replace(s.srv.URL, "http", "ws", 1) + "/api/v1/ws?client=fuzz&version=1"
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ann.token}}})
	if err != nil {
		f.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	defer ws.CloseNow()
	var ping int64
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 60<<10 {
			return // over the gateway's frame limit, which closes the connection
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		ping--
		if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
			t.Fatalf("writing %q: %v", data, err)
		}
		if err := ws.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"ping","req":%d}`, ping)); err != nil {
			t.Fatalf("after %q: %v", data, err)
		}
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("after %q the connection ended: %v", data, err)
			}
			var frames []struct {
				Type    string          `json:"type"`
				Req     int64           `json:"req"`
				Message *parley.Message `json:"message"`
				Error   *struct {
					Code, Message string
				} `json:"error"`
			}
			if err := json.Unmarshal(msg, &frames); err != nil || len(frames) == 0 {
				t.Fatalf("after %q the server sent %q (%v)", data, msg, err)
			}
			for _, fr := range frames {
				switch {
				case fr.Type == "":
					t.Fatalf("after %q a frame without a type: %s", data, msg)
				case fr.Type == "error" && (fr.Error == nil || fr.Error.Code == "" || fr.Error.Code == parley.EINTERNAL):
					t.Fatalf("after %q: %s", data, msg)
				case fr.Type == "ack" && (fr.Message == nil || fr.Message.ID == 0):
					t.Fatalf("after %q an ack without its message: %s", data, msg)
				case fr.Type == "pong" && fr.Req == ping:
					return
				}
			}
		}
	})
}
