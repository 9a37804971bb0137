package jsontext

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"text":"plain"}`, true},
		{`{"text":"\u00e9 \u20AC"}`, true},
		{`{"text":"\ud83d\ude00"}`, true}, // 😀 as a pair
		{`{"text":"\uD83D\uDE00 and \ud800\udc00"}`, true},
		{`{"text":"\\ud800"}`, true}, // an escaped backslash, then text
		{`{"text":"\\\\ud800"}`, true},
		{`{"text":"\ud800"}`, false},
		{`{"text":"\uDBFF"}`, false},
		{`{"text":"\udc00"}`, false},
		{`{"text":"a\ud800b"}`, false},
		{`{"text":"\ud800\u0041"}`, false},
		{`{"text":"\ud800\ud800"}`, false},
		{`{"text":"\ude00\ud83d"}`, false},
		{`{"text":"\\\ud800"}`, false},
		{`{"\ud800":1}`, false},
		{`{"text":"\ud800`, false},
		{"{\"text\":\"\xff\"}", false},
	} {
		err := Check([]byte(tc.in), "body")
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s) = %v; want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && (parley.ErrorCode(err) != parley.EINVALID || err.(*parley.Error).Field != "body") {
			t.Errorf("Check(%s) = %v; want an EINVALID naming the body", tc.in, err)
		}
		// What Check accepts, encoding/json decodes without a U+FFFD it
		// made up.
		var v map[string]any
		if err == nil && json.Unmarshal([]byte(tc.in), &v) == nil {
			for k, x := range v {
				if s, _ := x.(string); containsFFFD(k) || containsFFFD(s) {
					t.Errorf("%s decodes to U+FFFD", tc.in)
				}
			}
		}
	}
}

func containsFFFD(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return true
		}
	}
	return false
}
