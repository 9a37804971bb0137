package sqlstore

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestMatchASCII checks the allocation-free matcher against the general
// one on random ASCII texts and queries.
func TestMatchASCII(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "abAB1 ,.'-_x"
	rnd := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20_000 {
		text := rnd(r.IntN(20))
		words := foldedWords(rnd(1 + r.IntN(6)))
		if len(words) == 0 {
			continue
		}
		terms := foldedWords(text)
		want := true
		for _, w := range words {
			if !slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(t, w) }) {
				want = false
			}
		}
		got, ok := matchASCII(words, text)
		if !ok || got != want {
			t.Fatalf("matchASCII(%q, %q) = %v, %v; want %v", words, text, got, ok, want)
		}
	}
	if _, ok := matchASCII([]string{"e"}, "épée"); ok {
		t.Error("matchASCII took a non-ASCII text")
	}
	if !sqliteSearch([]string{"epee", "ar"}).match("L'ÉPÉE d'Ärger") {
		t.Error("folded words did not match")
	}
}
