package messaging

import (
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
)

func TestValidEmoji(t *testing.T) {
	for _, e := range []string{"👍", "🎉", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☕", "🫠", "👩🏾‍💻"} {
		if !validEmoji(e) {
			t.Errorf("%q refused", e)
		}
	}
	for _, e := range []string{"", "a", "ok", " 👍", "👍 ", "👍👍", "🇫🇷🇩🇪", "\u200d👍", "👍\u200d", "1", "<script>", "👍a",
		"\x00", string([]byte{0xff}), "👨‍👩‍👧‍👦👨‍👩‍👧‍👦"} {
		if validEmoji(e) {
			t.Errorf("%q accepted", e)
		}
	}
}

func TestResolveMentions(t *testing.T) {
	ann, annLee, bob := &parley.User{ID: 1, Name: "Ann"}, &parley.User{ID: 2, Name: "Ann Lee"}, &parley.User{ID: 3, Name: "Bob"}
	members := []*parley.User{ann, annLee, bob}
	for _, c := range []struct {
		text  string
		sent  []int64
		group bool
		want  parley.Mentions
	}{
		{"hi @Bob", nil, true, parley.Mentions{UserIDs: []int64{3}}},
		{"hi @bob, and @Ann Lee!", nil, true, parley.Mentions{UserIDs: []int64{2, 3}}}, // the longest name that matches
		{"hi @Ann", nil, true, parley.Mentions{UserIDs: []int64{1}}},
		{"hi @Bobby and bob@Bob", nil, true, parley.Mentions{}},                    // not a whole name; not after a word
		{"hi @Bob", []int64{99, 1}, true, parley.Mentions{UserIDs: []int64{1, 3}}}, // 99 is no member
		{"@all come", nil, true, parley.Mentions{All: true}},
		{"@all come", nil, false, parley.Mentions{}}, // a direct chat has no @all
		{"@allison", nil, true, parley.Mentions{}},
	} {
		got := resolveMentions(c.text, c.sent, members, c.group)
		if !reflect.DeepEqual(got.UserIDs, c.want.UserIDs) && (len(got.UserIDs) > 0 || len(c.want.UserIDs) > 0) || got.All != c.want.All {
			t.Errorf("%q %v: %+v, want %+v", c.text, c.sent, got, c.want)
		}
	}
}
