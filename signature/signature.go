// Package signature signs the calls Parley makes to other systems (the API
// channel's replies, outgoing webhooks) and lets receivers verify them:
// X-Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<raw body>")>. It depends on nothing but the standard library, so a
// Go receiver can import it alone.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header carries the signature of every call Parley makes to another
// system.
const Header = "X-Parley-Signature"

// ErrInvalid is a signature that does not verify; Verify's errors wrap it.
var ErrInvalid = errors.New("invalid signature")

// DefaultTolerance is how far a signature's time may be from the
// receiver's clock, either way, when Verify is given none: long enough for
// a slow network and clocks a little apart, short enough that a captured
// call cannot be replayed for long.
const DefaultTolerance = 5 * time.Minute

// Sign returns the X-Parley-Signature of a call with body at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". The time
// is signed with the body so that an old call cannot be replayed.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a call's X-Parley-Signature header against its raw body
// (as received: never re-encoded) and the receiver's clock: the header's
// time must be within tolerance of now (0: DefaultTolerance), and one of
// its v1 signatures (several during a change of secret) must be the
// body's. Its errors wrap ErrInvalid.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: %s is not t=<time>,v1=<signature>", ErrInvalid, Header)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: the signature's time is %s away from now", ErrInvalid, d.Round(time.Second))
	}
	want := []byte(mac(secret, ts, body))
	ok := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: the signature does not match the body", ErrInvalid)
	}
	return nil
}
