package signature

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzVerify checks that a signature verifies for the body it was made
// for and never for a modified body, another secret, or a header the
// fuzzer made up; and that every refusal wraps ErrInvalid.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("whsec_1"), []byte(`{"type":"message.created","data":{"text":"hi"}}`), "t=1700000000,v1=00", uint16(3))
	f.Add([]byte("s"), []byte(""), "v1=,t=", uint16(0))
	f.Add([]byte("k"), []byte("a"), "t=1700000000 , v1=x, v1=y", uint16(0))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string, at uint16) {
		now := time.Unix(1_700_000_000, 0)
		good := Sign(secret, now, body)
		if err := Verify(secret, good, body, now, 0); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		check := func(what string, err error) {
			if err == nil {
				t.Fatalf("%s verified", what)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s: error %v does not wrap ErrInvalid", what, err)
			}
		}
		if len(body) > 0 {
			changed := bytes.Clone(body)
			changed[int(at)%len(changed)] ^= 1 << (at % 8)
			check("a modified body", Verify(secret, good, changed, now, 0))
		}
		check("a longer body", Verify(secret, good, append(bytes.Clone(body), '\n'), now, 0))
		check("another secret", Verify(append(bytes.Clone(secret), 'x'), good, body, now, 0))
		check("an old signature", Verify(secret, Sign(secret, now.Add(-DefaultTolerance-time.Second), body), body, now, 0))
		if err := Verify(secret, header, body, now, 0); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("header %q: error %v does not wrap ErrInvalid", header, err)
		} else if err == nil && header != good && !bytes.Contains([]byte(header), []byte(good[len("t=1700000000,"):])) {
			t.Fatalf("made-up header %q verified", header)
		}
	})
}
