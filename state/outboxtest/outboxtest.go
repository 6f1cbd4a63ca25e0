// Package outboxtest is the behaviour every state.Outbox must have,
// written once as tests that each backend runs against itself (Run).
//
// The package must not be imported by anything but tests.
package outboxtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/state"
)

// Store makes a new, empty outbox store for t (a file, a database) and
// returns a function that opens an Outbox on it: each call another value,
// as another process would have. Whatever it opens is closed when t ends.
type Store func(t *testing.T) (open func() state.Outbox)

// Run runs the shared outbox tests as subtests of t, each on a store of
// its own.
func Run(t *testing.T, newStore Store) {
	t.Run("EnqueueIsIdempotent", func(t *testing.T) { testEnqueueIdempotent(t, newStore(t)) })
	t.Run("PendingOldestFirstAndDue", func(t *testing.T) { testPendingOrder(t, newStore(t)) })
	t.Run("DeliveredLeavesPending", func(t *testing.T) { testDelivered(t, newStore(t)) })
	t.Run("PostponeCountsAttempts", func(t *testing.T) { testPostpone(t, newStore(t)) })
	t.Run("BoundedDropsOldest", func(t *testing.T) { testBounded(t, newStore(t)) })
	t.Run("SurvivesReopen", func(t *testing.T) { testReopen(t, newStore(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("IncompleteRefused", func(t *testing.T) { testIncomplete(t, newStore(t)) })
}

// T0 is the time the shared tests start from.
var T0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// N is a notification of kind failed to dest, recorded i seconds after
// T0 and due then.
func N(dest, id string, i int) state.Notification {
	at := T0.Add(time.Duration(i) * time.Second)
	return state.Notification{Destination: dest, ID: id, Kind: "failed", Recorded: at, NextAttempt: at,
		Payload: fmt.Sprintf(`{"id":%q}`, id)}
}

// Enqueue stores ns through o with limit, failing t on an error.
func Enqueue(t testing.TB, o state.Outbox, limit int, ns ...state.Notification) (added, dropped int) {
	t.Helper()
	added, dropped, err := o.Enqueue(context.Background(), ns, limit)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return added, dropped
}

// Pending reads what is pending at now, failing t on an error.
func Pending(t testing.TB, o state.Outbox, now time.Time) []state.Notification {
	t.Helper()
	ns, err := o.Pending(context.Background(), now, 0)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return ns
}

// Keys lists destination/id of ns.
func Keys(ns []state.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Destination+"/"+n.ID)
	}
	return out
}

func far() time.Time { return T0.Add(24 * time.Hour) }

func testEnqueueIdempotent(t *testing.T, open func() state.Outbox) {
	o := open()
	if a, d := Enqueue(t, o, 10, N("ops", "e1", 0), N("ops", "e1", 1), N("hook", "e1", 0)); a != 2 || d != 0 {
		t.Fatalf("added %d, dropped %d; want 2 and 0 (the same id twice to one destination is one notification)", a, d)
	}
	if a, _ := Enqueue(t, open(), 10, N("ops", "e1", 5)); a != 0 {
		t.Fatalf("the same event again added %d", a)
	}
	if err := o.Delivered(context.Background(), "ops", "e1", T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if a, _ := Enqueue(t, o, 10, N("ops", "e1", 6)); a != 0 {
		t.Fatalf("an event delivered already was added again (%d)", a)
	}
	if diff := cmp.Diff([]string{"hook/e1"}, Keys(Pending(t, open(), far()))); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}
}

func testPendingOrder(t *testing.T, open func() state.Outbox) {
	o := open()
	later := N("ops", "later", 1)
	later.NextAttempt = T0.Add(time.Hour)
	Enqueue(t, o, 10, N("ops", "c", 3), later, N("hook", "b", 2), N("ops", "a", 0))
	got := Pending(t, open(), T0.Add(time.Minute))
	if diff := cmp.Diff([]string{"ops/a", "hook/b", "ops/c"}, Keys(got)); diff != "" {
		t.Fatalf("pending at T0+1m (-want +got):\n%s", diff)
	}
	if got[0].Payload != `{"id":"a"}` || got[0].Kind != "failed" || !got[0].Recorded.Equal(T0) {
		t.Fatalf("a notification came back changed: %+v", got[0])
	}
	if diff := cmp.Diff([]string{"ops/a", "ops/later", "hook/b", "ops/c"}, Keys(Pending(t, o, far()))); diff != "" {
		t.Fatalf("pending later (-want +got):\n%s", diff)
	}
	few, err := o.Pending(context.Background(), far(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ops/a", "ops/later"}, Keys(few)); diff != "" {
		t.Fatalf("pending, at most 2 (-want +got):\n%s", diff)
	}
}

func testDelivered(t *testing.T, open func() state.Outbox) {
	o := open()
	Enqueue(t, o, 10, N("ops", "a", 0), N("ops", "b", 1))
	if err := open().Delivered(context.Background(), "ops", "a", T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ops/b"}, Keys(Pending(t, o, far()))); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}
	err := o.Delivered(context.Background(), "ops", "a", T0.Add(2*time.Minute))
	if !state.IsNoNotification(err) {
		t.Fatalf("marking a delivered notification again: %v, want a no-such-pending-notification error", err)
	}
}

func testPostpone(t *testing.T, open func() state.Outbox) {
	o := open()
	Enqueue(t, o, 10, N("ops", "a", 0))
	next := T0.Add(30 * time.Second)
	for i := 0; i < 2; i++ {
		if err := o.Postpone(context.Background(), "ops", "a", next, "answered 500"); err != nil {
			t.Fatal(err)
		}
	}
	if got := Pending(t, o, T0.Add(10*time.Second)); len(got) != 0 {
		t.Fatalf("a postponed notification is pending before its next attempt: %v", Keys(got))
	}
	got := Pending(t, open(), next)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "answered 500" || !got[0].NextAttempt.Equal(next) {
		t.Fatalf("after two postponements: %+v", got)
	}
	if err := o.Postpone(context.Background(), "ops", "nope", next, "x"); !state.IsNoNotification(err) {
		t.Fatalf("postponing an unknown notification: %v", err)
	}
}

func testBounded(t *testing.T, open func() state.Outbox) {
	o := open()
	var ns []state.Notification
	for i := 0; i < 5; i++ {
		ns = append(ns, N("ops", fmt.Sprintf("e%d", i), i))
	}
	Enqueue(t, o, 3, ns[:3]...)
	Enqueue(t, o, 3, N("other", "x", 0))
	a, d := Enqueue(t, o, 3, ns[3:]...)
	if a != 2 || d != 2 {
		t.Fatalf("added %d, dropped %d; want 2 and 2", a, d)
	}
	if diff := cmp.Diff([]string{"other/x", "ops/e2", "ops/e3", "ops/e4"}, Keys(Pending(t, open(), far()))); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}
	// A dropped event recorded again stays dropped: it is not news.
	if a, _ := Enqueue(t, o, 3, ns[0]); a != 0 {
		t.Fatalf("a dropped event came back (%d added)", a)
	}
	counts, err := open().DroppedCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"ops": 2}, counts); diff != "" {
		t.Fatalf("dropped counts (-want +got):\n%s", diff)
	}
}

func testReopen(t *testing.T, open func() state.Outbox) {
	Enqueue(t, open(), 10, N("ops", "a", 0))
	// Another process, as after a kill -9 between recording and
	// delivering, finds the same notification, id and payload.
	got := Pending(t, open(), far())
	want := N("ops", "a", 0)
	if len(got) != 1 || got[0].ID != want.ID || got[0].Payload != want.Payload {
		t.Fatalf("after reopening: %+v", got)
	}
}

func testConcurrent(t *testing.T, open func() state.Outbox) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		o := open()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				// Every writer records the same events: each lands once.
				if _, _, err := o.Enqueue(context.Background(), []state.Notification{N("ops", fmt.Sprintf("e%d", i), i)}, 100); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := Pending(t, open(), far()); len(got) != 5 {
		t.Fatalf("%d pending, want 5: %v", len(got), Keys(got))
	}
}

func testIncomplete(t *testing.T, open func() state.Outbox) {
	o := open()
	for _, n := range []state.Notification{
		{ID: "a", Kind: "failed", Recorded: T0},
		{Destination: "ops", Kind: "failed", Recorded: T0},
		{Destination: "ops", ID: "a", Recorded: T0},
		{Destination: "ops", ID: "a", Kind: "failed"},
	} {
		if _, _, err := o.Enqueue(context.Background(), []state.Notification{n}, 10); err == nil {
			t.Fatalf("Enqueue(%+v) took an incomplete notification", n)
		}
	}
	if got := Pending(t, o, far()); len(got) != 0 {
		t.Fatalf("pending after refusals: %v", Keys(got))
	}
}
