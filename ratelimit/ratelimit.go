// Package ratelimit keeps one token bucket per key (a user, an e-mail, a
// client address), forgetting keys whose bucket has refilled.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits events per key. Limits are per node: behind a load
// balancer each node enforces its own share.
type Limiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// New returns a limiter allowing r events per second per key with bursts of
// burst. A zero r allows everything.
func New(r rate.Limit, burst int) *Limiter {
	return &Limiter{r: r, burst: burst, buckets: make(map[string]*rate.Limiter)}
}

// Allow reports whether one more event for key is allowed now, and counts
// it if so.
func (l *Limiter) Allow(key string) bool {
	if l == nil || l.r == 0 || l.r == rate.Inf {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	return l.bucket(key, now).AllowN(now, 1)
}

// Blocked reports whether key has used its budget, without counting
// anything: for limits that count only failures, checked before the
// attempt and charged (Allow) after a failure.
func (l *Limiter) Blocked(key string) bool {
	if l == nil || l.r == 0 || l.r == rate.Inf {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	return ok && b.TokensAt(time.Now()) < 1
}

// Wait is how long until key has budget again (0 if it has).
func (l *Limiter) Wait(key string) time.Duration {
	if l == nil || l.r == 0 || l.r == rate.Inf {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	missing := 1 - b.TokensAt(time.Now())
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(l.r) * float64(time.Second))
}

// bucket returns key's bucket, forgetting full buckets now and then.
// l.mu is held.
func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	if now.Sub(l.swept) > 10*time.Minute {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(l.r, l.burst)
		l.buckets[key] = b
	}
	return b
}
