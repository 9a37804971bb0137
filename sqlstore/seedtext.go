package sqlstore

import (
	"math"
	"math/rand/v2"
	"strings"
)

// The seeder's text model: chat-like sentences of 3-30 words drawn from a
// Zipf distribution over a vocabulary of common English chat words followed
// by tens of thousands of made-up words, so a few short words are in most
// messages and most words are rare.

// commonWords are the head of the vocabulary, most frequent first.
var commonWords = strings.Fields(`the to i you a and it is that for on in we
	of this be have can with will do not are so just at me my if ok what but
	all get thanks about was there be up yes no now from out they know one
	think like good time can't today when how need see let new meeting
	tomorrow check sure should right did back please would could here
	team work make go going look some more people call still also then
	review deploy ticket release issue build customer lunch week update
	morning report done fix test branch merge server message client plan
	project design doc draft budget sales quarter numbers deadline friday
	monday office home later soon great nice cool thing really well again`)

// absentWords are project names used only in conversations the measured
// user is not in, each in a given share of those conversations' messages:
// words that are frequent in the database and absent from what the user
// may search.
var absentWords = []struct {
	word  string
	share float64
}{{"zanzibar", 0.10}, {"quokkafest", 0.02}, {"xerophyte", 0.005}}

// vocabulary returns n distinct words: commonWords, then made-up words of
// two to four syllables, none of which is an absent word.
func vocabulary(n int, r *rand.Rand) []string {
	onsets := strings.Fields("b c d f g h j k l m n p r s t v w z br ch cl cr dr fl gr pl pr sh sl st th tr")
	vowels := strings.Fields("a e i o u a e i o ou ea ai")
	codas := []string{"", "", "", "n", "r", "s", "l", "t", "m", "nd", "st", "ck"}
	seen := make(map[string]bool, n)
	for _, a := range absentWords {
		seen[a.word] = true
	}
	words := make([]string, 0, n)
	for _, w := range commonWords {
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	var b strings.Builder
	for len(words) < n {
		b.Reset()
		for range 2 + r.IntN(3) {
			b.WriteString(onsets[r.IntN(len(onsets))])
			b.WriteString(vowels[r.IntN(len(vowels))])
		}
		b.WriteString(codas[r.IntN(len(codas))])
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// textGen writes messages.
type textGen struct {
	words []string
	zipf  *rand.Zipf
	r     *rand.Rand
	b     strings.Builder
}

func newTextGen(words []string, r *rand.Rand) *textGen {
	// s = 1.07, v = 2: the most frequent word is about 5% of all words
	// and the last tens of thousands appear a few hundred times in ten
	// million messages.
	return &textGen{words: words, zipf: rand.NewZipf(r, 1.07, 2, uint64(len(words)-1)), r: r}
}

// message returns a sentence of 3-30 words, with the absent words mixed
// in where absent is true.
func (g *textGen) message(absent bool) string {
	g.b.Reset()
	// Short messages are the most common: about half have 3-8 words.
	n := 3 + int(math.Min(27, g.r.ExpFloat64()*7))
	var extra []string
	if absent {
		for _, a := range absentWords {
			if g.r.Float64() < a.share {
				extra = append(extra, a.word)
			}
		}
	}
	for i := range n {
		w := g.words[g.zipf.Uint64()]
		if len(extra) > 0 && g.r.IntN(n-i) < len(extra) {
			w, extra = extra[0], extra[1:]
		}
		if i == 0 {
			g.b.WriteString(strings.ToUpper(w[:1]))
			g.b.WriteString(w[1:])
			continue
		}
		if g.r.IntN(12) == 0 {
			g.b.WriteByte(',')
		}
		g.b.WriteByte(' ')
		g.b.WriteString(w)
	}
	g.b.WriteString([]string{".", ".", ".", "?", "!", ""}[g.r.IntN(6)])
	return g.b.String()
}
