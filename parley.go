// Package parley holds Parley's domain: the types every part of the server
// speaks in, the error type, and the interfaces the services depend on (Store,
// Bus, Blobs). It imports neither database/sql nor net/http; the adapters that
// do live in their own packages (sqlstore, inmem, natsbus, blob, httpapi,
// realtime) and are wired together in cmd/parley.
package parley

import "time"

// Now returns the current time in UTC, truncated to milliseconds: the
// precision Parley stores and puts on the wire, so a value read back from the
// store equals the value written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// TimeFromMillis converts a stored Unix-millisecond timestamp to UTC time.
// Zero stays the zero time.
func TimeFromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Millis converts t to Unix milliseconds; the zero time becomes 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
