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

// Allow reports whether one more event for key is allowed now.
func (l *Limiter) Allow(key string) bool {
	if l == nil || l.r == 0 || l.r == rate.Inf {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
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
	return b.AllowN(now, 1)
}
