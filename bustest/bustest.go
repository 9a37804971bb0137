// Package bustest is the conformance suite every parley.Bus implementation
// must pass. Implementations call Run from their own tests with a function
// that returns two handles on one transport, standing for two nodes: the
// suite publishes on both and checks what subscribers on both receive.
//
// The suite waits for deliveries with a deadline and never sleeps to decide
// an outcome; only a delivery missing after Timeout fails a test on time.
package bustest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Timeout is how long the suite waits for a batch it expects. It is generous
// because the race detector and a loaded CI machine are slow; a correct bus
// delivers in milliseconds.
const Timeout = 10 * time.Second

// fenceType marks the batches the suite publishes to learn that everything
// published earlier on a handle has arrived.
const fenceType = "bustest.fence"

// Run runs the suite. newBus is called once per subtest and returns two
// handles sharing a transport; an in-process bus returns the same bus twice.
// newBus must arrange for both to be closed when the test ends
// (t.Cleanup); subtests close them too, so Close must tolerate being called
// more than once.
func Run(t *testing.T, newBus func(t *testing.T) (a, b parley.Bus)) {
	t.Run("EveryoneOnce", func(t *testing.T) { testEveryoneOnce(t, newBus) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newBus) })
	t.Run("Order", func(t *testing.T) { testOrder(t, newBus) })
	t.Run("EmptyBatch", func(t *testing.T) { testEmptyBatch(t, newBus) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, newBus) })
	t.Run("CancelInsideCallback", func(t *testing.T) { testCancelInsideCallback(t, newBus) })
	t.Run("ConcurrentPublishers", func(t *testing.T) { testConcurrentPublishers(t, newBus) })
	t.Run("PublishAfterClose", func(t *testing.T) { testPublishAfterClose(t, newBus) })
	t.Run("CloseWhilePublishing", func(t *testing.T) { testCloseWhilePublishing(t, newBus) })
}

// testEveryoneOnce checks that every subscriber on both handles receives
// every batch published on either handle exactly once.
func testEveryoneOnce(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	recs := []*recorder{
		subscribe(t, a, "a1"), subscribe(t, a, "a2"),
		subscribe(t, b, "b1"), subscribe(t, b, "b2"),
	}
	// Two publishers, one per handle, taking turns.
	streams := []stream{{conv: 1, sizes: repeat(3, 50)}, {conv: 2, sizes: repeat(3, 50)}}
	for i := range 50 {
		publishBatch(t, a, streams[0], i)
		publishBatch(t, b, streams[1], i)
	}
	for _, r := range recs {
		r.waitStreams(t, streams)
	}
	// A duplicate could still be on its way; the fences come after any
	// batch from the same handle.
	fence(t, recs, a, b)
	for _, r := range recs {
		r.checkStreams(t, streams)
	}
}

// testRoundTrip checks that every field of an event survives the transport,
// including those left out of its JSON form.
func testRoundTrip(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	ra, rb := subscribe(t, a, "a"), subscribe(t, b, "b")
	want := []parley.Event{
		{
			ID:             1<<53 + 7,
			Type:           parley.EventMessageCreated,
			ConversationID: 42,
			Seq:            1 << 33,
			// Spaces, HTML and non-ASCII text would all be changed by
			// re-encoding the JSON; the bus must carry the bytes.
			Data:     json.RawMessage(`{"text": "<b>héllo</b> & \u00e9", "n": [1, 2]}`),
			At:       time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.UTC),
			UserID:   9,
			Audience: []int64{3, 1, 2, 1 << 40},
		},
		// Ephemeral and broadcast: every field but Type is zero.
		{Type: parley.EventPresence},
		{
			Type:     "custom.type",
			UserID:   5,
			At:       time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("IST", 5*3600+1800)),
			Data:     json.RawMessage(`null`),
			Audience: []int64{5},
		},
	}
	publish(t, a, want)
	for _, r := range []*recorder{ra, rb} {
		r.waitEvents(t, len(want))
		got := r.batches()
		if len(got) != 1 {
			t.Fatalf("%s: got %d batches, want 1", r.name, len(got))
		}
		if len(got[0]) != len(want) {
			t.Fatalf("%s: got %d events, want %d", r.name, len(got[0]), len(want))
		}
		for i := range want {
			for _, d := range diffEvent(&want[i], &got[0][i]) {
				t.Errorf("%s: event %d: %s", r.name, i, d)
			}
		}
	}
}

// testOrder checks that each publisher's batches arrive in the order they
// were published, with their boundaries intact, while another publisher
// publishes at the same time.
func testOrder(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	recs := []*recorder{subscribe(t, a, "a"), subscribe(t, b, "b")}
	const total = 10_000
	streams := []stream{{conv: 1, sizes: sizesUpTo(total, 64)}, {conv: 2, sizes: sizesUpTo(total, 17)}}
	var wg sync.WaitGroup
	for i, bus := range []parley.Bus{a, b} {
		wg.Go(func() { publishStream(t, bus, streams[i]) })
	}
	wg.Wait()
	for _, r := range recs {
		r.waitStreams(t, streams)
	}
	fence(t, recs, a, b)
	for _, r := range recs {
		r.checkStreams(t, streams)
	}
}

// testEmptyBatch checks that publishing no events succeeds and delivers
// nothing.
func testEmptyBatch(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	recs := []*recorder{subscribe(t, a, "a"), subscribe(t, b, "b")}
	for _, events := range [][]parley.Event{nil, {}} {
		if err := a.Publish(t.Context(), events); err != nil {
			t.Fatalf("Publish(%#v) = %v, want nil", events, err)
		}
	}
	fence(t, recs, a, b)
	for _, r := range recs {
		r.checkStreams(t, nil)
	}
}

// testCancel checks that a cancelled subscriber receives nothing more, that
// cancelling twice is harmless, and that other subscribers are unaffected.
func testCancel(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	gone := newRecorder("cancelled")
	cancel, err := b.Subscribe(gone.record)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	// stay, on the same handle, tells when the later batches have reached
	// the handle gone was on.
	stay := subscribe(t, b, "stay")
	s := stream{conv: 1, sizes: []int{1, 1, 1}}
	publishBatch(t, a, s, 0)
	gone.waitEvents(t, 1)

	cancel()
	cancel()
	publishBatch(t, a, s, 1)
	publishBatch(t, b, s, 2)
	stay.waitStreams(t, []stream{s})
	fence(t, []*recorder{stay}, a, b)
	if n := gone.events(); n != 1 {
		t.Errorf("cancelled subscriber received %d events, want 1 (before cancel)", n)
	}
}

// testCancelInsideCallback checks that a subscriber can cancel itself from
// its own function without deadlocking the bus.
func testCancelInsideCallback(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	once := newRecorder("self-cancelling")
	// The function may run on another goroutine before Subscribe has
	// returned the cancel function to this one.
	var cancel atomic.Pointer[func()]
	c, err := b.Subscribe(func(events []parley.Event) {
		once.record(events)
		if f := cancel.Load(); f != nil {
			(*f)()
		}
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	cancel.Store(&c)
	stay := subscribe(t, b, "stay")
	s := stream{conv: 1, sizes: []int{1, 1}}
	publishStream(t, a, s)
	stay.waitStreams(t, []stream{s})
	fence(t, []*recorder{stay}, a, b)
	if n := once.events(); n != 1 {
		t.Errorf("self-cancelling subscriber received %d events, want 1", n)
	}
}

// testConcurrentPublishers publishes from many goroutines on both handles
// while other goroutines subscribe and cancel, for the race detector to
// watch, and checks that each publisher's stream arrives whole and in order.
func testConcurrentPublishers(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	recs := []*recorder{subscribe(t, a, "a"), subscribe(t, b, "b")}
	var streams []stream
	for i := range 8 {
		streams = append(streams, stream{conv: int64(i + 1), sizes: sizesUpTo(600, 5)})
	}
	var wg sync.WaitGroup
	for i, s := range streams {
		bus := a
		if i%2 == 1 {
			bus = b
		}
		wg.Go(func() { publishStream(t, bus, s) })
	}
	for _, bus := range []parley.Bus{a, b, a, b} {
		wg.Go(func() {
			for range 100 {
				cancel, err := bus.Subscribe(func([]parley.Event) {})
				if err != nil {
					t.Errorf("Subscribe: %v", err)
					return
				}
				cancel()
			}
		})
	}
	wg.Wait()
	for _, r := range recs {
		r.waitStreams(t, streams)
	}
	fence(t, recs, a, b)
	for _, r := range recs {
		r.checkStreams(t, streams)
	}
}

// testPublishAfterClose checks that a closed bus refuses to publish and to
// subscribe with EUNAVAILABLE, and that closing twice is harmless.
func testPublishAfterClose(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	for i, bus := range []parley.Bus{a, b, a, b} {
		// The second round closes each handle again.
		if err := bus.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	for _, bus := range []parley.Bus{a, b} {
		err := bus.Publish(t.Context(), []parley.Event{{Type: parley.EventTyping}})
		if code := parley.ErrorCode(err); code != parley.EUNAVAILABLE {
			t.Errorf("Publish after Close = %v, want code %s", err, parley.EUNAVAILABLE)
		}
		cancel, err := bus.Subscribe(func([]parley.Event) {})
		if code := parley.ErrorCode(err); code != parley.EUNAVAILABLE {
			t.Errorf("Subscribe after Close = %v, want code %s", err, parley.EUNAVAILABLE)
		}
		if cancel != nil {
			cancel()
		}
	}
}

// testCloseWhilePublishing closes both handles while publishers are busy:
// each Publish must either succeed or fail with EUNAVAILABLE, and nothing may
// race or hang.
func testCloseWhilePublishing(t *testing.T, newBus func(*testing.T) (parley.Bus, parley.Bus)) {
	a, b := newBus(t)
	subscribe(t, a, "a")
	probe := subscribe(t, b, "b")
	var wg sync.WaitGroup
	for _, bus := range []parley.Bus{a, b} {
		wg.Go(func() {
			batch := []parley.Event{{Type: parley.EventTyping, ConversationID: 1}}
			// The cap only keeps a fast bus from piling up batches for
			// its subscribers to drain; Close comes long before it.
			for range 20_000 {
				err := bus.Publish(context.Background(), batch)
				if err == nil {
					continue
				}
				if code := parley.ErrorCode(err); code != parley.EUNAVAILABLE {
					t.Errorf("Publish while closing = %v, want nil or code %s", err, parley.EUNAVAILABLE)
				}
				return
			}
		})
	}
	// Close once the publishers are under way; the outcome does not
	// depend on how far they got.
	probe.waitEvents(t, 1)
	for _, bus := range []parley.Bus{a, b} {
		wg.Go(func() {
			if err := bus.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
}

// stream is what one publisher publishes: consecutive IDs from 1 in batches
// of the given sizes, all in conversation conv, which names the publisher.
type stream struct {
	conv  int64
	sizes []int
}

// batch returns the i'th batch of s.
func (s stream) batch(i int) []parley.Event {
	first := int64(0)
	for _, n := range s.sizes[:i] {
		first += int64(n)
	}
	events := make([]parley.Event, s.sizes[i])
	for j := range events {
		events[j] = parley.Event{
			ID:             first + int64(j) + 1,
			Type:           parley.EventMessageCreated,
			ConversationID: s.conv,
			At:             parley.Now(),
		}
	}
	return events
}

func (s stream) total() int {
	n := 0
	for _, size := range s.sizes {
		n += size
	}
	return n
}

// publishStream publishes all of s in order. It may run on any goroutine.
func publishStream(t *testing.T, bus parley.Bus, s stream) {
	for i := range s.sizes {
		if err := bus.Publish(context.Background(), s.batch(i)); err != nil {
			t.Errorf("Publish (stream %d): %v", s.conv, err)
			return
		}
	}
}

func publishBatch(t *testing.T, bus parley.Bus, s stream, i int) {
	t.Helper()
	publish(t, bus, s.batch(i))
}

func publish(t *testing.T, bus parley.Bus, events []parley.Event) {
	t.Helper()
	if err := bus.Publish(t.Context(), events); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// fenceSeq makes every fence unique, across subtests too.
var fenceSeq atomic.Int64

// fence publishes a marker on each of buses and waits until every recorder
// has received all of them. Since batches from one publisher arrive in
// order, every recorder has then received everything published earlier on
// those handles by this goroutine, and any duplicate of it too.
func fence(t *testing.T, recs []*recorder, buses ...parley.Bus) {
	t.Helper()
	var ids []int64
	for _, bus := range buses {
		id := fenceSeq.Add(1)
		ids = append(ids, id)
		publish(t, bus, []parley.Event{{ID: id, Type: fenceType}})
	}
	for _, r := range recs {
		r.waitFor(t, fmt.Sprintf("fences %v", ids), func(batches [][]parley.Event) bool {
			seen := 0
			for _, batch := range batches {
				if len(batch) == 1 && batch[0].Type == fenceType && slices.Contains(ids, batch[0].ID) {
					seen++
				}
			}
			return seen >= len(ids)
		})
	}
}

// recorder keeps the batches one subscriber receives.
type recorder struct {
	name    string
	mu      sync.Mutex
	got     [][]parley.Event
	changed chan struct{} // a token whenever got grows
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, changed: make(chan struct{}, 1)}
}

// subscribe returns a recorder subscribed to bus until the test ends.
func subscribe(t *testing.T, bus parley.Bus, name string) *recorder {
	t.Helper()
	r := newRecorder(name)
	cancel, err := bus.Subscribe(r.record)
	if err != nil {
		t.Fatalf("Subscribe %s: %v", name, err)
	}
	t.Cleanup(cancel)
	return r
}

// record is the subscriber function. It keeps the batch without copying:
// subscribers may keep what they receive as long as they do not modify it.
func (r *recorder) record(events []parley.Event) {
	r.mu.Lock()
	r.got = append(r.got, events)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) batches() [][]parley.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// events returns the number of events received, fences excepted.
func (r *recorder) events() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return countEvents(r.got)
}

func countEvents(batches [][]parley.Event) int {
	n := 0
	for _, batch := range batches {
		if len(batch) == 1 && batch[0].Type == fenceType {
			continue
		}
		n += len(batch)
	}
	return n
}

// waitFor waits until done, called with the batches received so far, returns
// true, and fails the test after Timeout.
func (r *recorder) waitFor(t *testing.T, what string, done func([][]parley.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := done(r.got)
		n, events := len(r.got), countEvents(r.got)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			t.Fatalf("%s: waited %s for %s; received %d batches, %d events", r.name, Timeout, what, n, events)
		}
	}
}

// waitEvents waits until at least n events (fences excepted) have arrived.
func (r *recorder) waitEvents(t *testing.T, n int) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d events", n), func(b [][]parley.Event) bool { return countEvents(b) >= n })
}

// waitStreams waits until at least as many events as streams hold have
// arrived.
func (r *recorder) waitStreams(t *testing.T, streams []stream) {
	t.Helper()
	n := 0
	for _, s := range streams {
		n += s.total()
	}
	r.waitEvents(t, n)
}

// checkStreams checks that r received exactly streams, fences aside: each
// stream's batches once, whole and in order.
func (r *recorder) checkStreams(t *testing.T, streams []stream) {
	t.Helper()
	byConv := make(map[int64][][]parley.Event)
	for _, batch := range r.batches() {
		if len(batch) == 0 {
			t.Errorf("%s: received an empty batch", r.name)
			continue
		}
		if len(batch) == 1 && batch[0].Type == fenceType {
			continue
		}
		byConv[batch[0].ConversationID] = append(byConv[batch[0].ConversationID], batch)
	}
	for _, s := range streams {
		got := byConv[s.conv]
		delete(byConv, s.conv)
		if err := matchStream(s, got); err != nil {
			t.Errorf("%s: stream %d: %v", r.name, s.conv, err)
		}
	}
	for conv, batches := range byConv {
		t.Errorf("%s: received %d batches of unknown stream %d", r.name, len(batches), conv)
	}
}

func matchStream(s stream, got [][]parley.Event) error {
	if len(got) != len(s.sizes) {
		return fmt.Errorf("received %d batches, published %d", len(got), len(s.sizes))
	}
	next := int64(1)
	for i, batch := range got {
		if len(batch) != s.sizes[i] {
			return fmt.Errorf("batch %d has %d events, published %d", i, len(batch), s.sizes[i])
		}
		for _, e := range batch {
			if e.ConversationID != s.conv {
				return fmt.Errorf("batch %d mixes in an event of stream %d", i, e.ConversationID)
			}
			if e.ID != next {
				return fmt.Errorf("batch %d: event %d where %d was next", i, e.ID, next)
			}
			next++
		}
	}
	return nil
}

// diffEvent describes how got differs from want. Times are compared to the
// millisecond, the precision Parley keeps; nil and empty Data or Audience are
// the same.
func diffEvent(want, got *parley.Event) []string {
	var diffs []string
	add := func(field string, w, g any) {
		diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w))
	}
	if got.ID != want.ID {
		add("ID", want.ID, got.ID)
	}
	if got.Type != want.Type {
		add("Type", want.Type, got.Type)
	}
	if got.ConversationID != want.ConversationID {
		add("ConversationID", want.ConversationID, got.ConversationID)
	}
	if got.Seq != want.Seq {
		add("Seq", want.Seq, got.Seq)
	}
	if !bytes.Equal(got.Data, want.Data) {
		add("Data", string(want.Data), string(got.Data))
	}
	if got.At.IsZero() != want.At.IsZero() || got.At.UnixMilli() != want.At.UnixMilli() {
		add("At", want.At, got.At)
	}
	if got.UserID != want.UserID {
		add("UserID", want.UserID, got.UserID)
	}
	if !slices.Equal(got.Audience, want.Audience) {
		add("Audience", want.Audience, got.Audience)
	}
	return diffs
}

func repeat(size, n int) []int {
	return slices.Repeat([]int{size}, n)
}

// sizesUpTo returns batch sizes cycling through 1..largest that add up to
// total.
func sizesUpTo(total, largest int) []int {
	var sizes []int
	for i := 0; total > 0; i++ {
		n := min(i%largest+1, total)
		sizes = append(sizes, n)
		total -= n
	}
	return sizes
}
