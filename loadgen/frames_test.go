package loadgen

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseFrames(t *testing.T) {
	msg := `[{"type":"message.created","id":42,"conversation_id":7,"seq":3,` +
		`"data":{"id":9,"conversation_id":7,"seq":3,"sender_id":5,"kind":"text","text":"a \"quoted\" {[ text \\",` +
		`"quote":{"id":1,"sender_id":99,"text":"\"client_id\":\"1.1\""},"client_id":"12.34","created_at":"2026-01-01T00:00:00.000Z"},"at":"2026-01-01T00:00:00.000Z"},` +
		` {"message":{"id":9,"client_id":"12.34"},"req":35,"type":"ack"} ,` +
		`{"error":{"code":"rate_limited","message":"slow down"},"req":2,"type":"error"},` +
		`{"cursor":10,"resync":true,"type":"hello","user":{"id":5}},` +
		`{"type":"typing","data":{"user_id":[1,2,{"x":null}]},"at":"x"}]`
	if !json.Valid([]byte(msg)) {
		t.Fatal("the test message is not valid JSON")
	}
	var frames []frame
	it := arrayIter{b: []byte(msg)}
	for {
		el, ok, err := it.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		var f frame
		if err := parseFrame(el, &f); err != nil {
			t.Fatalf("%s: %v", el, err)
		}
		frames = append(frames, f)
	}
	if len(frames) != 5 {
		t.Fatalf("got %d frames, want 5", len(frames))
	}
	f := frames[0]
	if string(f.typ) != `"message.created"` || f.id != 42 || f.conv != 7 || f.seq != 3 {
		t.Errorf("message frame: %+v", f)
	}
	sender, cid, err := messageFields(f.data)
	if err != nil || sender != 5 || string(cid) != "12.34" {
		t.Errorf("message fields: %d %q %v", sender, cid, err)
	}
	if u, k, ok := parseClientID(cid); !ok || u != 12 || k != 34 {
		t.Errorf("client id: %d %d %v", u, k, ok)
	}
	if f := frames[1]; string(f.typ) != `"ack"` || f.req != 35 || len(f.message) == 0 {
		t.Errorf("ack frame: %+v", f)
	}
	if f := frames[2]; string(f.typ) != `"error"` || f.req != 2 || errorCode(f.err) != "rate_limited" {
		t.Errorf("error frame: %+v", f)
	}
	if f := frames[3]; string(f.typ) != `"hello"` || !f.resync {
		t.Errorf("hello frame: %+v", f)
	}
	if f := frames[4]; string(f.typ) != `"typing"` {
		t.Errorf("typing frame: %+v", f)
	}
}

func TestParseFramesRejectsMalformed(t *testing.T) {
	for _, msg := range []string{``, `{}`, `[`, `[{"type":"ack"`, `[{"type" "ack"}]`, `[{"type":"ack",}]`, `[{"a":"\"}]`, `[{"a":1}x]`} {
		it := arrayIter{b: []byte(msg)}
		var err error
		for {
			var el []byte
			var ok bool
			el, ok, err = it.next()
			if err != nil || !ok {
				break
			}
			var f frame
			if err = parseFrame(el, &f); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%q: no error", msg)
		}
	}
	it := arrayIter{b: []byte(` [ ] `)}
	if _, ok, err := it.next(); ok || err != nil {
		t.Errorf("empty array: %v %v", ok, err)
	}
}

func TestAppendSend(t *testing.T) {
	r := &runner{opt: Options{MessageSize: 100}}
	u := &simUser{idx: 3, convs: []int64{10, 20}, plan: make([]planned, 6)}
	u.plan[5].conv = 20
	b := r.appendSend(nil, u, 5)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if got["type"] != "send" || got["req"] != 6.0 || got["conversation_id"] != 20.0 || got["client_id"] != "3.5" {
		t.Errorf("send frame: %s", b)
	}
	if text, _ := got["text"].(string); len(text) != 100 || !strings.HasPrefix(text, "parley bench message 3.5 ") {
		t.Errorf("text %q: want 100 bytes naming the message", text)
	}
}
