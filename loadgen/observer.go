package loadgen

import (
	"net/http"
	"time"
)

// Observer hears what the chat mode's sockets see, for a test that checks
// a run against the server's database: which messages each user received,
// which of its sends were acknowledged, and when each socket (re)connected
// and to what. Its methods are called from the sockets' goroutines,
// concurrently; they must be quick.
type Observer interface {
	// Hello: user's socket received hello, before any event after it.
	// resp is the WebSocket handshake's answer (a balancer may name the
	// node in a header); lost is when the socket this one replaces was
	// found closed, zero for the user's first socket.
	Hello(user int64, resp *http.Response, lost, at time.Time)
	// Received: a message.created event reached user's socket.
	Received(user int64, eventID, conv, seq int64)
	// Acked: the server acknowledged user's send with this client id (the
	// first time; a resend answered again is not reported).
	Acked(user int64, clientID string)
}
