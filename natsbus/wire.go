package natsbus

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/parley-chat/parley"
)

// The wire format of one batch is a version byte followed by the number of
// events and, for each event, its fields in declaration order:
//
//	ID              varint
//	Type            uvarint length, bytes
//	ConversationID  varint
//	Seq             varint
//	Data            uvarint length, bytes (carried verbatim)
//	At              varint Unix milliseconds, 0 for the zero time
//	UserID          varint
//	Audience        uvarint count, varint each
//
// A binary format rather than JSON because Event's JSON form leaves out
// UserID and Audience, and because encoding/json would re-encode Data
// (compacting it and escaping HTML) instead of carrying its bytes.
const wireVersion = 2

// minEventSize is the smallest encoding of one event: one byte per field.
// Decoding checks counts against it so a corrupt count cannot make it
// allocate more than the message could hold.
const minEventSize = 8

var errTruncated = errors.New("truncated batch")

// knownTypes lets decoding reuse the constant strings instead of allocating
// a copy of the type of every event. Looking up m[string(b)] does not
// allocate.
var knownTypes = func() map[string]string {
	m := make(map[string]string)
	for _, t := range []string{
		parley.EventMessageCreated, parley.EventMessageUpdated,
		parley.EventConversationUpdated, parley.EventConversationRemoved,
		parley.EventReceipts, parley.EventReadState, parley.EventDraft,
		parley.EventTyping, parley.EventPresence, parley.EventReminderDue,
		parley.EventReminderUpdated, parley.EventSettings, parley.EventUserUpdated,
		parley.EventSessionEnded,
	} {
		m[t] = t
	}
	return m
}()

// appendBatch appends the encoding of events to buf.
func appendBatch(buf []byte, events []parley.Event) []byte {
	buf = append(buf, wireVersion)
	buf = binary.AppendUvarint(buf, uint64(len(events)))
	for i := range events {
		e := &events[i]
		buf = binary.AppendVarint(buf, e.ID)
		buf = binary.AppendUvarint(buf, uint64(len(e.Type)))
		buf = append(buf, e.Type...)
		buf = binary.AppendVarint(buf, e.ConversationID)
		buf = binary.AppendVarint(buf, e.Seq)
		buf = binary.AppendUvarint(buf, uint64(len(e.Data)))
		buf = append(buf, e.Data...)
		buf = binary.AppendVarint(buf, parley.Millis(e.At))
		buf = binary.AppendVarint(buf, e.UserID)
		buf = binary.AppendUvarint(buf, uint64(len(e.Audience)))
		for _, id := range e.Audience {
			buf = binary.AppendVarint(buf, id)
		}
	}
	return buf
}

// decodeBatch decodes a batch encoded by appendBatch. The events' Data
// slices point into p, which must not be modified afterwards.
func decodeBatch(p []byte) ([]parley.Event, error) {
	if len(p) == 0 {
		return nil, errTruncated
	}
	if p[0] != wireVersion {
		return nil, fmt.Errorf("unknown wire version %d", p[0])
	}
	d := decoder{p: p[1:]}
	n := d.count(minEventSize)
	events := make([]parley.Event, n)
	for i := range events {
		e := &events[i]
		e.ID = d.varint()
		e.Type = d.str()
		e.ConversationID = d.varint()
		e.Seq = d.varint()
		e.Data = d.bytes()
		e.At = parley.TimeFromMillis(d.varint())
		e.UserID = d.varint()
		if m := d.count(1); m > 0 {
			e.Audience = make([]int64, m)
			for j := range e.Audience {
				e.Audience[j] = d.varint()
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.p) != 0 {
		return nil, fmt.Errorf("%d bytes after the last event", len(d.p))
	}
	return events, nil
}

// decoder reads fields from p and remembers the first error, so decodeBatch
// can read a whole event and check once. After an error every read returns
// a zero value.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a count of items that take at least size bytes each and
// rejects one the rest of the message could not hold.
func (d *decoder) count(size int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if v > uint64(len(d.p)/size) {
		d.err = errTruncated
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return nil
	}
	// The full slice expression keeps a subscriber that appends to Data
	// from overwriting the next event.
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}

func (d *decoder) str() string {
	b := d.bytes()
	if t, ok := knownTypes[string(b)]; ok {
		return t
	}
	return string(b)
}
