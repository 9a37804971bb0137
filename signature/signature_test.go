package signature_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/signature"
)

const secret = "s3cret-signing-key"

func TestSignVerify(t *testing.T) {
	at := time.Unix(1700000000, 0)
	body := []byte(`{"type":"ping"}`)
	// Computed independently: HMAC-SHA256("whsec_test", "1700000000.{\"type\":\"ping\"}").
	want := "t=1700000000,v1=bc08c591847b765241711bcbe7067e3869a219e424d3fdd9d00b3b6f915baf97"
	if got := signature.Sign([]byte("whsec_test"), at, body); got != want {
		t.Fatalf("Sign = %s", got)
	}
	good := signature.Sign([]byte(secret), at, body)
	other := signature.Sign([]byte("another"), at, body)
	cases := []struct {
		name   string
		header string
		body   string
		now    time.Time
		ok     bool
	}{
		{"good", good, string(body), at, true},
		{"within the tolerance", good, string(body), at.Add(299 * time.Second), true},
		{"clock behind", good, string(body), at.Add(-299 * time.Second), true},
		{"too old", good, string(body), at.Add(301 * time.Second), false},
		{"from the future", good, string(body), at.Add(-301 * time.Second), false},
		{"another body", good, `{"type":"ping" }`, at, false},
		{"another secret", other, string(body), at, false},
		{"one of two signatures", other + "," + strings.Split(good, ",")[1], string(body), at, true},
		{"no time", strings.Split(good, ",")[1], string(body), at, false},
		{"no signature", "t=1700000000", string(body), at, false},
		{"another time", strings.Replace(good, "t=1700000000", "t=1700000001", 1), string(body), at, false},
		{"empty", "", string(body), at, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := signature.Verify([]byte(secret), c.header, []byte(c.body), c.now, 0)
			if c.ok != (err == nil) {
				t.Fatalf("Verify = %v", err)
			}
			if err != nil && !errors.Is(err, signature.ErrInvalid) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
}
