package loadgen

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// noisySoak returns the readings of a 90 s soak of a healthy server as a
// noisy machine shows them: RSS saw-toothing with the collector by tens of
// megabytes, goroutines and files jumping for a reading now and then
// (requests in flight, a storm's sockets reconnecting), connections in use
// between 0 and 2. leak(i) is added to reading i.
func noisySoak(leak func(i int, s *SoakSample)) (during []SoakSample, before, after SoakSample) {
	rng := rand.New(rand.NewPCG(1, 2))
	before = SoakSample{RSS: 60 << 20, Goroutines: 240, FDs: 250, DBOpen: 10, DBMax: 10, Conns: 200}
	for i := range 30 {
		s := SoakSample{T: float64(3 * (i + 1)), DBOpen: 10, DBMax: 10, Conns: 200,
			RSS:        float64(70<<20) + float64(i%4)*(8<<20) + rng.Float64()*(16<<20),
			Goroutines: 240 + float64(rng.IntN(8)),
			FDs:        250 + float64(rng.IntN(3)),
			DBInUse:    float64(rng.IntN(3)),
		}
		if i%7 == 3 { // a burst: a storm's sockets reconnecting as it was read
			s.Goroutines += 60
			s.FDs += 40
		}
		if leak != nil {
			leak(i, &s)
		}
		during = append(during, s)
	}
	after = SoakSample{RSS: 85 << 20, Goroutines: 238, FDs: 250, DBOpen: 10, DBMax: 10, Conns: 200}
	return during, before, after
}

func failedChecks(v SoakVerdict) []string {
	var names []string
	for _, c := range v.Checks {
		if !c.OK {
			names = append(names, c.Name)
		}
	}
	return names
}

// TestJudgeSoak shows that the judgement passes a flat series however
// noisy and fails each kind of leak.
func TestJudgeSoak(t *testing.T) {
	during, before, after := noisySoak(nil)
	if v := JudgeSoak(during, before, after, DefaultSoakLimits); !v.Flat {
		t.Errorf("a flat noisy series was judged not flat: %v\n%+v", failedChecks(v), v.Checks)
	}

	cases := []struct {
		name  string
		leak  func(i int, s *SoakSample)
		after func(a *SoakSample)
		want  []string // the checks that must fail
	}{
		{"a goroutine per storm", func(i int, s *SoakSample) { s.Goroutines += float64(i / 3 * 10) },
			func(a *SoakSample) { a.Goroutines += 100 }, []string{"goroutines", "goroutines after load"}},
		{"a socket never closed per reading", func(i int, s *SoakSample) { s.FDs += float64(i) },
			func(a *SoakSample) { a.FDs += 30 }, []string{"open files", "open files after load"}},
		{"a database connection never given back", nil,
			func(a *SoakSample) { a.DBInUse = 1 }, []string{"db connections in use after load"}},
		{"more connections than the pools allow", func(i int, s *SoakSample) {
			if i == 20 {
				s.DBOpen = 11
			}
		}, nil, []string{"db connections open"}},
		{"memory growing 1.5 MiB a second", func(i int, s *SoakSample) { s.RSS += float64(i) * 3 * 1.5 * (1 << 20) },
			nil, []string{"rss growth"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			during, before, after := noisySoak(c.leak)
			if c.after != nil {
				c.after(&after)
			}
			v := JudgeSoak(during, before, after, DefaultSoakLimits)
			if v.Flat {
				t.Fatalf("judged flat: %+v", v.Checks)
			}
			if got := failedChecks(v); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("failed checks %v, want %v", got, c.want)
			}
		})
	}

	if v := JudgeSoak(during[:9], before, after, DefaultSoakLimits); v.Flat {
		t.Errorf("nine readings were judged: %+v", v.Checks)
	}
}
