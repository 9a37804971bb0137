//go:build unix

package calls_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/pion/webrtc/v4"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/calls"
)

// BenchmarkForward measures the SFU's CPU per forwarded stream: a
// conference of n participants, each publishing an audio track (50
// packets/s) and a video-like track (50 packets/s of 1,100 bytes,
// ~0.45 Mbit/s), so n×(n−1)×2 streams are forwarded. The clients run in
// the same process; a CPU profile with goroutine labels ("side": sfu or
// client) tells the SFU's share apart. Run with
//
//	go test ./calls -run '^$' -bench Forward -benchtime 1x
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			for range b.N {
				measureForward(b, n, 5*time.Second)
			}
		})
	}
}

func measureForward(b *testing.B, n int, window time.Duration) {
	e := newEnv(b, calls.Config{})
	e.videoSize = 1100
	ctx := context.Background()
	sfu := pprof.WithLabels(ctx, pprof.Labels("side", "sfu"))
	client := pprof.WithLabels(ctx, pprof.Labels("side", "client"))
	users := make([]*parley.User, n)
	for i := range users {
		users[i] = e.user(fmt.Sprint("User ", i))
	}
	conv := e.group(users[0], users[1:]...)
	peers := make([]*peer, n)
	var callID string
	for i, u := range users {
		var j *calls.Joined
		var err error
		pprof.SetGoroutineLabels(sfu)
		if i == 0 {
			j, err = e.calls.Start(ctx, u, conv, true)
			if err == nil {
				callID = j.Call.ID
			}
		} else {
			j, err = e.calls.Join(ctx, u, callID)
		}
		if err != nil {
			b.Fatal(err)
		}
		pprof.SetGoroutineLabels(client)
		answer := func(d webrtc.SessionDescription) error {
			// The server's side of a negotiation is the SFU's work, and so
			// are the goroutines it starts.
			var err error
			pprof.Do(ctx, pprof.Labels("side", "sfu"), func(context.Context) {
				err = e.calls.Answer(ctx, u, callID, j.PeerID, d)
			})
			return err
		}
		peers[i] = e.client(u, callID, j.PeerID, j.Offer, answer)
	}
	pprof.SetGoroutineLabels(ctx)
	joined := time.Now()
	for i, p := range peers {
		var ids []string
		for k, u := range users {
			if k != i {
				ids = append(ids, trackIDs(u, "audio", "video")...)
			}
		}
		p.waitTracks(ids...)
	}
	got := func() (total int) {
		for _, p := range peers {
			p.mu.Lock()
			for _, c := range p.got {
				total += c
			}
			p.mu.Unlock()
		}
		return total
	}
	flowing := time.Since(joined)
	sent := func() (total int64) {
		for _, p := range peers {
			total += p.sent.Load()
		}
		return total
	}
	sent0 := sent()
	before := got()
	r0 := rusage()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		b.Skipf("CPU profile: %v", err)
	}
	time.Sleep(window)
	pprof.StopCPUProfile()
	process := rusage() - r0
	packets := got() - before
	expected := (sent() - sent0) * int64(n-1)
	prof, err := profile.Parse(&buf)
	if err != nil {
		b.Fatal(err)
	}
	cpu := map[string]time.Duration{}
	for _, s := range prof.Sample {
		side := "other"
		if v := s.Label["side"]; len(v) > 0 {
			side = v[0]
		}
		cpu[side] += time.Duration(s.Value[1])
	}
	streams := n * (n - 1) * 2
	perStream := cpu["sfu"] / time.Duration(streams) * time.Second / window
	b.ReportMetric(float64(streams), "streams")
	b.ReportMetric(float64(packets)/window.Seconds(), "packets/s")
	b.ReportMetric(float64(cpu["sfu"])/float64(window)*100, "sfu-%core")
	b.ReportMetric(float64(perStream.Microseconds())/1000, "sfu-ms/stream-s")
	if packets > 0 {
		b.ReportMetric(float64(cpu["sfu"].Nanoseconds())/float64(packets)/1000, "sfu-µs/packet")
	}
	b.ReportMetric(float64(process)/float64(window)*100, "process-%core")
	b.ReportMetric(float64(packets)/float64(expected)*100, "delivered-%")
	b.Logf("%d participants, %d forwarded streams, %d packets forwarded in %v of %d sent×(n−1) (every track flowing %v after the last join); "+
		"CPU profile: sfu %v, clients %v, unlabelled (GC, runtime, bus) %v; process CPU (getrusage) %v",
		n, streams, packets, window, expected, flowing.Round(time.Millisecond), cpu["sfu"], cpu["client"], cpu["other"], process)
	for _, p := range peers {
		p.close()
	}
}

// rusage is the process's CPU time so far, user and system.
func rusage() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
