package inmem_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/bustest"
	"github.com/parley-chat/parley/inmem"
)

func TestBus(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (a, b parley.Bus) {
		bus := inmem.NewBus()
		t.Cleanup(func() { bus.Close() })
		// One process is one node: both handles are the same bus.
		return bus, bus
	})
}

// BenchmarkPublish measures the cost Publish adds to every commit: one
// subscriber that only counts, batches of one event (a single send) and of
// 64 (a group commit).
func BenchmarkPublish(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			bus := inmem.NewBus()
			defer bus.Close()
			var n int
			cancel, err := bus.Subscribe(func(events []parley.Event) { n += len(events) })
			if err != nil {
				b.Fatal(err)
			}
			defer cancel()
			events := make([]parley.Event, size)
			for i := range events {
				events[i] = parley.Event{ID: int64(i + 1), Type: parley.EventMessageCreated, ConversationID: 1}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.Publish(ctx, events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
