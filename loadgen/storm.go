package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// storm is the reconnect storm that follows a restart or a network blip:
// every user's socket drops at once, messages are sent while they are away,
// and every socket comes back at once, resuming from its cursor. Each is
// caught up when it has received hello and every message it missed; the
// storm is over when the last one is.
func (r *runner) storm(ctx context.Context, rep *Report) error {
	o := r.opt
	r.storming.Store(true)
	r.closeUserSockets()
	r.userReaders.Wait()

	// While they are away, each conversation gets Missed messages.
	r.progress("the %d users are away; sending %d messages to each of their %d conversations", len(r.users), o.Missed, len(r.convs))
	missed := make(map[int64]int, len(r.convs)) // conversation → messages sent while away
	var mu sync.Mutex
	if err := forEach(ctx, len(r.convs)*o.Missed, o.Parallel, func(ctx context.Context, j int) error {
		c := j % len(r.convs)
		u := r.users[(c*o.GroupSize)%len(r.users)] // the conversation's first member
		if err := r.api.call(ctx, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", r.convs[c]), u.token,
			map[string]any{"client_id": fmt.Sprintf("away.%d", j), "text": "sent while you were away"}, nil); err != nil {
			return err
		}
		mu.Lock()
		missed[r.convs[c]]++
		mu.Unlock()
		return nil
	}); err != nil {
		return fmt.Errorf("sending while the users are away: %w", err)
	}

	r.progress("%d users reconnect at once", len(r.users))
	m0, merr := r.api.metrics(ctx)
	var caught, got, missing atomic.Int64
	times := make([]int64, len(r.users))
	start := time.Now()
	err := forEach(ctx, len(r.users), 64*o.Parallel, func(ctx context.Context, i int) error {
		u := r.users[i]
		want := 0
		for _, c := range u.convs {
			want += missed[c]
		}
		t0 := time.Now()
		n, err := r.rejoin(ctx, u, want)
		times[i] = time.Since(t0).Nanoseconds()
		got.Add(int64(n))
		missing.Add(int64(max(want-n, 0)))
		if err != nil {
			r.st.fail("storm_failed", 1)
			return nil
		}
		caught.Add(1)
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	slices.Sort(times)
	rep.StormConnections = caught.Load()
	rep.StormS = round(elapsed.Seconds(), 2)
	rep.StormP50Ms, rep.StormP99Ms, rep.StormMaxMs = ms(quantile(times, 0.5)), ms(quantile(times, 0.99)), ms(quantile(times, 1))
	rep.StormMissed, rep.StormMissing = got.Load(), missing.Load()
	if merr == nil {
		if m1, err := r.api.metrics(ctx); err == nil && caught.Load() > 0 {
			rep.StormServerCPUMsPerConn = round((m1.CPU-m0.CPU)*1000/float64(caught.Load()), 3)
		}
	}
	return nil
}

// rejoin reconnects u from its cursor and reads until hello and want
// missed messages have arrived; it returns how many did.
func (r *runner) rejoin(ctx context.Context, u *simUser, want int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ws, err := r.dial(ctx, u.token, u.cursor.Load())
	if err != nil {
		return 0, err
	}
	r.swap(u, ws) // closed with the others at the end
	hello, n := false, 0
	var f frame
	for !hello || n < want {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return n, err
		}
		if typ != websocket.MessageText {
			continue
		}
		it := arrayIter{b: data}
		for {
			el, ok, err := it.next()
			if err != nil || !ok {
				break
			}
			if parseFrame(el, &f) != nil {
				continue
			}
			switch string(f.typ) {
			case `"hello"`:
				hello = true
				if f.resync {
					return n, fmt.Errorf("told to resync")
				}
			case `"message.created"`:
				if _, cid, err := messageFields(f.data); err == nil && bytes.HasPrefix(cid, []byte("away.")) {
					n++
				}
			}
		}
	}
	return n, nil
}
