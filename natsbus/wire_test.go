package natsbus

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestWireRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		events []parley.Event
	}{
		{"one empty event", []parley.Event{{}}},
		{"all fields", []parley.Event{{
			ID:             1 << 62,
			Type:           parley.EventReceipts,
			ConversationID: 3,
			Data:           json.RawMessage(`{"a": "<&>"}`),
			At:             time.UnixMilli(1_700_000_000_123).UTC(),
			UserID:         4,
			Audience:       []int64{1, 2, 3},
		}}},
		{"negative and unknown type", []parley.Event{{ID: -1, Type: "x.y", ConversationID: -5, UserID: -7, Audience: []int64{-1}}}},
		{"several", []parley.Event{
			{ID: 1, Type: parley.EventTyping},
			{ID: 2, Type: parley.EventMessageCreated, Data: json.RawMessage(`1`)},
			{ID: 3, Type: parley.EventPresence, Audience: []int64{9}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := appendBatch(nil, tt.events)
			got, err := decodeBatch(p)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !slices.EqualFunc(got, tt.events, eventEqual) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.events)
			}
		})
	}
}

// TestWireTruncated checks that every proper prefix of a valid batch, and a
// batch with bytes after it, are rejected rather than half decoded.
func TestWireTruncated(t *testing.T) {
	p := appendBatch(nil, []parley.Event{
		{ID: 300, Type: parley.EventMessageCreated, ConversationID: 2, Data: json.RawMessage(`{"x":1}`), At: parley.Now(), UserID: 1, Audience: []int64{1, 2}},
	})
	for n := range len(p) {
		if _, err := decodeBatch(p[:n]); err == nil {
			t.Errorf("decoding the first %d of %d bytes succeeded", n, len(p))
		}
	}
	if _, err := decodeBatch(append(slices.Clone(p), 0)); err == nil {
		t.Error("decoding with a trailing byte succeeded")
	}
	if _, err := decodeBatch([]byte{wireVersion + 1, 0}); err == nil {
		t.Error("decoding an unknown version succeeded")
	}
}

// FuzzDecodeBatch checks that no message, however malformed, makes decoding
// panic or allocate beyond what the message could hold.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, []parley.Event{{ID: 1, Type: parley.EventDraft, Audience: []int64{1}}}))
	f.Add([]byte{wireVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		events, err := decodeBatch(p)
		if err != nil {
			return
		}
		again, err := decodeBatch(appendBatch(nil, events))
		if err != nil || !slices.EqualFunc(again, events, eventEqual) {
			t.Fatalf("re-encoding %+v does not round trip: %v", events, err)
		}
	})
}

func BenchmarkWire(b *testing.B) {
	events := make([]parley.Event, 64)
	for i := range events {
		events[i] = parley.Event{
			ID: int64(1_000_000 + i), Type: parley.EventMessageCreated, ConversationID: 12345,
			Data: json.RawMessage(`{"seq":42,"text":"hello, world"}`), At: parley.Now(), Audience: []int64{1, 2, 3},
		}
	}
	var buf []byte
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendBatch(buf[:0], events)
		}
	})
	p := appendBatch(nil, events)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeBatch(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func eventEqual(a, b parley.Event) bool {
	return a.ID == b.ID && a.Type == b.Type && a.ConversationID == b.ConversationID &&
		bytes.Equal(a.Data, b.Data) && a.At.Equal(b.At) && a.UserID == b.UserID &&
		slices.Equal(a.Audience, b.Audience)
}
