package loadgen

import (
	"bytes"
	"errors"
)

// The bench reads every frame the server sends to a thousand sockets, up to
// hundreds of thousands a second, on the same cores as the server it
// measures. encoding/json would spend a core on that, so frames are read
// with the small scanner below: it walks the members of a JSON object
// without decoding values the bench does not need, in any key order.

var errSyntax = errors.New("loadgen: malformed JSON frame")

// frame is what the bench reads from one server frame.
type frame struct {
	typ     []byte // with its quotes, e.g. `"ack"`
	id      int64  // stream position of durable events
	req     int64
	seq     int64
	conv    int64
	data    []byte // the event's data (a message for message.created)
	message []byte // the message of an ack
	err     []byte // the error object of an error frame
	resync  bool   // hello: events were missed beyond the resume limit
}

// parseFrame reads the members of one frame object that the bench uses.
func parseFrame(b []byte, f *frame) error {
	*f = frame{}
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "type":
			f.typ = val
		case "id":
			f.id, _ = parseInt(val)
		case "req":
			f.req, _ = parseInt(val)
		case "seq":
			f.seq, _ = parseInt(val)
		case "conversation_id":
			f.conv, _ = parseInt(val)
		case "data":
			f.data = val
		case "message":
			f.message = val
		case "error":
			f.err = val
		case "resync":
			f.resync = string(val) == "true"
		}
	}
}

// messageFields returns a message's sender and client id (unquoted; empty
// when absent or escaped, which bench client ids never are).
func messageFields(b []byte) (sender int64, clientID []byte, err error) {
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil || !ok {
			return sender, clientID, err
		}
		switch string(key) {
		case "sender_id":
			sender, _ = parseInt(val)
		case "client_id":
			clientID = unquote(val)
		}
	}
}

// dialogFields returns the contact's name and the waiting flag of a dialog
// (the data of dialog.updated).
func dialogFields(b []byte) (contactName []byte, waiting bool) {
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil || !ok {
			return contactName, waiting
		}
		switch string(key) {
		case "waiting":
			waiting = string(val) == "true"
		case "contact":
			c := objIter{b: val}
			for {
				key, val, ok, err := c.next()
				if err != nil || !ok {
					break
				}
				if string(key) == "name" {
					contactName = unquote(val)
					break
				}
			}
		}
	}
}

// visitorMessageFields returns who a visitor message is from and its text
// (unquoted; empty when escaped, which bench texts never are).
func visitorMessageFields(b []byte) (from, text []byte) {
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil || !ok {
			return from, text
		}
		switch string(key) {
		case "from":
			from = unquote(val)
		case "text":
			text = unquote(val)
		}
	}
}

// errorCode returns the code of an error object, or "unknown".
func errorCode(b []byte) string {
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil || !ok {
			return "unknown"
		}
		if string(key) == "code" {
			if c := unquote(val); len(c) > 0 {
				return string(c)
			}
			return "unknown"
		}
	}
}

// arrayIter walks the elements of a JSON array.
type arrayIter struct {
	b       []byte
	i       int
	started bool
}

// next returns the next element; ok is false after the last.
func (a *arrayIter) next() (val []byte, ok bool, err error) {
	b := a.b
	i := skipSpace(b, a.i)
	if !a.started {
		if i >= len(b) || b[i] != '[' {
			return nil, false, errSyntax
		}
		a.started = true
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			a.i = len(b)
			return nil, false, nil
		}
	} else {
		if i >= len(b) {
			return nil, false, nil // ended by ']' last time
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			a.i = len(b)
			return nil, false, nil
		default:
			return nil, false, errSyntax
		}
	}
	end, err := skipValue(b, i)
	if err != nil {
		return nil, false, err
	}
	a.i = end
	return b[i:end], true, nil
}

// objIter walks the members of a JSON object.
type objIter struct {
	b       []byte
	i       int
	started bool
	done    bool
}

// next returns the next key (without quotes) and raw value; ok is false
// after the last member.
func (o *objIter) next() (key, val []byte, ok bool, err error) {
	if o.done {
		return nil, nil, false, nil
	}
	b := o.b
	i := skipSpace(b, o.i)
	if !o.started {
		if i >= len(b) || b[i] != '{' {
			return nil, nil, false, errSyntax
		}
		o.started = true
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			o.done = true
			return nil, nil, false, nil
		}
	} else {
		if i >= len(b) {
			return nil, nil, false, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			o.done = true
			return nil, nil, false, nil
		default:
			return nil, nil, false, errSyntax
		}
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false, errSyntax
	}
	kend, err := skipString(b, i)
	if err != nil {
		return nil, nil, false, err
	}
	key = b[i+1 : kend-1]
	i = skipSpace(b, kend)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false, errSyntax
	}
	i = skipSpace(b, i+1)
	vend, err := skipValue(b, i)
	if err != nil {
		return nil, nil, false, err
	}
	o.i = vend
	return key, b[i:vend], true, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errSyntax
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default: // number, true, false, null
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				break
			}
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// parseInt parses a JSON integer.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// unquote returns a JSON string's bytes without its quotes, or nil if it is
// not a string or contains escapes.
func unquote(b []byte) []byte {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 {
		return nil
	}
	return b[1 : len(b)-1]
}

// parseClientID reads a bench client id "<user>.<n>".
func parseClientID(b []byte) (user, n int, ok bool) {
	dot := bytes.IndexByte(b, '.')
	if dot < 0 {
		return 0, 0, false
	}
	u, ok1 := parseInt(b[:dot])
	k, ok2 := parseInt(b[dot+1:])
	if !ok1 || !ok2 || u < 0 || k < 0 || u > 1<<31 || k > 1<<31 {
		return 0, 0, false
	}
	return int(u), int(k), true
}
