package calls

import (
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Who is speaking comes from the audio level each client writes into its
// audio packets (RFC 6464, urn:ietf:params:rtp-hdrext:ssrc-audio-level):
// 0 is the loudest, 127 silence, in −dBov.
const (
	// speechLevel is the quietest level counted as speech (−50 dBov).
	speechLevel = 50
	// speechHold is how long a participant counts as speaking after their
	// last packet at speech level.
	speechHold = 500 * time.Millisecond
)

// speaking tracks the voices of one call and sends call.speaking when who
// speaks changes, at most every Config.SpeakingInterval.
type speaking struct {
	s    *Service
	c    *call
	mu   sync.Mutex
	last map[int64]time.Time // user → last packet at speech level
	loud map[int64]int       // user → loudness summed over this interval
	stop func()
	done chan struct{}

	speakers []int64
	active   int64
}

// startSpeaking starts the tracker of a new call.
func (s *Service) startSpeaking(c *call) *speaking {
	sp := &speaking{s: s, c: c, last: make(map[int64]time.Time), loud: make(map[int64]int), done: make(chan struct{})}
	quit := make(chan struct{})
	var once sync.Once
	sp.stop = func() {
		once.Do(func() { close(quit) })
		<-sp.done
	}
	go sp.run(quit)
	return sp
}

// observe records one audio packet's level.
func (sp *speaking) observe(user int64, level uint8) {
	if level > speechLevel {
		return
	}
	sp.mu.Lock()
	sp.last[user] = time.Now()
	sp.loud[user] += 127 - int(level)
	sp.mu.Unlock()
}

func (sp *speaking) run(quit chan struct{}) {
	defer close(sp.done)
	t := time.NewTicker(sp.s.cfg.SpeakingInterval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		if e, ok := sp.tick(time.Now()); ok {
			sp.s.publish(e)
		}
	}
}

// tick works out who speaks now and returns the event if it changed.
func (sp *speaking) tick(now time.Time) (parley.Event, bool) {
	sp.mu.Lock()
	var speakers []int64
	loudest, most := int64(0), 0
	for u, at := range sp.last {
		if now.Sub(at) <= speechHold {
			speakers = append(speakers, u)
		} else {
			delete(sp.last, u)
		}
	}
	for u, n := range sp.loud {
		if n > most {
			loudest, most = u, n
		}
	}
	clear(sp.loud)
	slices.Sort(speakers)
	active := sp.active
	if loudest != 0 {
		active = loudest // the active speaker stays until someone else speaks
	}
	changed := !slices.Equal(speakers, sp.speakers) || active != sp.active
	sp.speakers, sp.active = speakers, active
	sp.mu.Unlock()
	if !changed {
		return parley.Event{}, false
	}
	if speakers == nil {
		speakers = []int64{}
	}
	sp.s.mu.Lock()
	defer sp.s.mu.Unlock()
	return sp.c.event(EventSpeaking, sp.c.participantIDs(), map[string]any{"call_id": sp.c.id, "speaking": speakers, "active": active}), true
}
