// Package inboxtest is the behaviour every state.Inbox must have, written
// once as tests that each backend runs against itself (Run).
//
// The package must not be imported by anything but tests.
package inboxtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/state"
)

// Store makes a new, empty inbox store for t (a file, a database) and
// returns a function that opens an Inbox on it: each call another value,
// as another process would have. Whatever it opens is closed when t ends.
type Store func(t *testing.T) (open func() state.Inbox)

// Run runs the shared inbox tests as subtests of t, each on a store of its
// own.
func Run(t *testing.T, newStore Store) {
	t.Run("ReceiveIsIdempotent", func(t *testing.T) { testReceiveIsIdempotent(t, newStore(t)) })
	t.Run("ReadFiltersAndOrders", func(t *testing.T) { testReadFiltersAndOrders(t, newStore(t)) })
	t.Run("SpansMergePerReceiver", func(t *testing.T) { testSpansMergePerReceiver(t, newStore(t)) })
	t.Run("Listened", func(t *testing.T) { testListened(t, newStore(t)) })
	t.Run("RetentionDropsOldRecords", func(t *testing.T) { testRetention(t, newStore(t)) })
	t.Run("ConcurrentReceiversStoreOnce", func(t *testing.T) { testConcurrentReceivers(t, newStore(t)) })
	t.Run("IncompleteRecordsRefused", func(t *testing.T) { testIncompleteRefused(t, newStore(t)) })
	t.Run("EmptyInbox", func(t *testing.T) { testEmpty(t, newStore(t)) })
}

// T0 is the time the shared tests start from. Every time they use is a
// whole number of milliseconds after it, which every backend keeps exactly.
var T0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Msg is a message of a member, created at created and received a second
// later.
func Msg(account, id, thread string, created time.Time) state.InboxMessage {
	return state.InboxMessage{Account: account, ID: id, Thread: thread, Created: created, Received: created.Add(time.Second)}
}

// TimesEqual compares instants, whatever their location.
var TimesEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// Receive stores m through ib and returns whether it was new, failing t on
// an error.
func Receive(t testing.TB, ib state.Inbox, m state.InboxMessage) bool {
	t.Helper()
	stored, err := ib.Receive(context.Background(), m)
	if err != nil {
		t.Fatalf("Receive(%s/%s): %v", m.Account, m.ID, err)
	}
	return stored
}

// Listen records span through ib, failing t on an error.
func Listen(t testing.TB, ib state.Inbox, span state.ListenSpan) {
	t.Helper()
	if err := ib.Listening(context.Background(), span); err != nil {
		t.Fatalf("Listening(%s): %v", span.Receiver, err)
	}
}

// Read reads one thread through ib, failing t on an error.
func Read(t testing.TB, ib state.Inbox, account, thread string, since time.Time) state.InboxRead {
	t.Helper()
	r, err := ib.ReadInbox(context.Background(), account, thread, since)
	if err != nil {
		t.Fatalf("ReadInbox(%s, %s, %s): %v", account, thread, since.Format(time.RFC3339), err)
	}
	return r
}

func ids(ms []state.InboxMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func receivers(spans []state.ListenSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Receiver
	}
	return out
}

func testReceiveIsIdempotent(t *testing.T, open func() state.Inbox) {
	ib := open()
	m := state.InboxMessage{
		Account: "acct-1", ID: "msg-1", Thread: "thread-1",
		Created: T0, Received: T0.Add(1500 * time.Millisecond),
		FromAgent: true, Sender: "+14155550000",
		TextDigest: state.ContentDigest("hello"), MediaDigest: state.ContentDigest("https://cdn.example/a.png"),
	}
	if !Receive(t, ib, m) {
		t.Fatal("the first Receive of a message did not store it")
	}
	again := m
	again.Received = m.Received.Add(time.Minute)
	again.TextDigest = state.ContentDigest("something else")
	if Receive(t, ib, again) {
		t.Error("a second Receive of the same account and id stored it again")
	}
	if Receive(t, open(), m) {
		t.Error("a Receive through another Inbox value stored a message held already")
	}
	other := m
	other.Account = "acct-2"
	if !Receive(t, ib, other) {
		t.Error("the same message id in another account was not stored")
	}

	got := Read(t, open(), "acct-1", "thread-1", time.Time{})
	if diff := cmp.Diff([]state.InboxMessage{m}, got.Messages, TimesEqual); diff != "" {
		t.Errorf("messages of acct-1 (-want +got):\n%s", diff)
	}
	if !got.Has("msg-1") || got.Has("msg-2") {
		t.Errorf("Has: msg-1 %v (want true), msg-2 %v (want false)", got.Has("msg-1"), got.Has("msg-2"))
	}
	if n := len(Read(t, ib, "acct-2", "thread-1", time.Time{}).Messages); n != 1 {
		t.Errorf("acct-2 holds %d messages, want 1", n)
	}
}

func testReadFiltersAndOrders(t *testing.T, open func() state.Inbox) {
	ib := open()
	// Received out of the order they were created in.
	for _, m := range []state.InboxMessage{
		Msg("a", "a-3", "t-1", T0.Add(3*time.Minute)),
		Msg("a", "a-1", "t-1", T0.Add(1*time.Minute)),
		Msg("a", "a-2", "t-1", T0.Add(2*time.Minute)),
		Msg("a", "a-other-thread", "t-2", T0.Add(2*time.Minute)),
		Msg("b", "b-1", "t-1", T0.Add(2*time.Minute)),
	} {
		Receive(t, ib, m)
	}
	for _, c := range []struct {
		account, thread string
		since           time.Time
		want            []string
	}{
		{"a", "t-1", time.Time{}, []string{"a-1", "a-2", "a-3"}},
		{"a", "t-1", T0.Add(2 * time.Minute), []string{"a-2", "a-3"}}, // created at since counts
		{"a", "t-1", T0.Add(2*time.Minute + time.Millisecond), []string{"a-3"}},
		{"a", "t-1", T0.Add(time.Hour), []string{}},
		{"a", "t-2", time.Time{}, []string{"a-other-thread"}},
		{"b", "t-1", time.Time{}, []string{"b-1"}},
		{"b", "t-2", time.Time{}, []string{}},
		{"c", "t-1", time.Time{}, []string{}},
	} {
		got := ids(Read(t, open(), c.account, c.thread, c.since).Messages)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ReadInbox(%s, %s, %s) (-want +got):\n%s", c.account, c.thread, c.since.Format(time.RFC3339Nano), diff)
		}
	}
}

func testSpansMergePerReceiver(t *testing.T, open func() state.Inbox) {
	ib := open()
	Listen(t, ib, state.ListenSpan{Receiver: "r-a", Since: T0, Until: T0.Add(10 * time.Minute)})
	Listen(t, ib, state.ListenSpan{Receiver: "r-b", Since: T0.Add(30 * time.Minute), Until: T0.Add(40 * time.Minute)})
	Listen(t, ib, state.ListenSpan{Receiver: "r-a", Since: T0, Until: T0.Add(20 * time.Minute)})
	// A heartbeat that arrives late does not shorten the span.
	Listen(t, open(), state.ListenSpan{Receiver: "r-a", Since: T0, Until: T0.Add(15 * time.Minute)})

	want := []state.ListenSpan{
		{Receiver: "r-a", Since: T0, Until: T0.Add(20 * time.Minute)},
		{Receiver: "r-b", Since: T0.Add(30 * time.Minute), Until: T0.Add(40 * time.Minute)},
	}
	if diff := cmp.Diff(want, Read(t, open(), "any", "any", time.Time{}).Spans, TimesEqual); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	// Spans are filtered by their end: one that ends at since counts.
	for _, c := range []struct {
		since time.Time
		want  []string
	}{
		{T0.Add(20 * time.Minute), []string{"r-a", "r-b"}},
		{T0.Add(25 * time.Minute), []string{"r-b"}},
		{T0.Add(41 * time.Minute), []string{}},
	} {
		got := receivers(Read(t, ib, "any", "any", c.since).Spans)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("spans since %s (-want +got):\n%s", c.since.Format(time.RFC3339), diff)
		}
	}
}

func testListened(t *testing.T, open func() state.Inbox) {
	ib := open()
	Listen(t, ib, state.ListenSpan{Receiver: "r-a", Since: T0, Until: T0.Add(10 * time.Minute)})
	Listen(t, ib, state.ListenSpan{Receiver: "r-b", Since: T0.Add(5 * time.Minute), Until: T0.Add(20 * time.Minute)})
	Listen(t, ib, state.ListenSpan{Receiver: "r-c", Since: T0.Add(30 * time.Minute), Until: T0.Add(40 * time.Minute)})
	at := func(min int) time.Time { return T0.Add(time.Duration(min) * time.Minute) }
	check := func(r state.InboxRead, from, to int, want bool) {
		t.Helper()
		if got := r.Listened(at(from), at(to)); got != want {
			t.Errorf("Listened(+%dm, +%dm) = %v, want %v (spans %+v)", from, to, got, want, r.Spans)
		}
	}
	r := Read(t, open(), "acct", "thread", T0)
	check(r, 1, 8, true)    // inside one span
	check(r, 1, 15, true)   // two receivers' spans overlap
	check(r, 0, 20, true)   // ends included
	check(r, 15, 35, false) // the gap from +20m to +30m
	check(r, -1, 5, false)  // before any span
	check(r, 32, 40, true)
	check(r, 32, 41, false) // past the last span

	// A receiver that covers the gap closes it.
	Listen(t, ib, state.ListenSpan{Receiver: "r-d", Since: at(19), Until: at(31)})
	r = Read(t, ib, "acct", "thread", T0)
	check(r, 15, 35, true)
	check(r, 0, 40, true)

	// A gap, where one receiver failed to store, breaks every span it
	// overlaps, and is read back as a gap.
	Listen(t, ib, state.ListenSpan{Receiver: "r-a#gap", Since: at(6), Until: at(7), Gap: true})
	r = Read(t, ib, "acct", "thread", T0)
	check(r, 1, 8, false)
	check(r, 5, 6, false) // its start included
	check(r, 7, 8, true)  // it ends where a span may begin
	check(r, 8, 40, true)
	check(r, 0, 5, true)
	gaps := 0
	for _, s := range r.Spans {
		if s.Gap {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("%d gaps read back, want 1: %+v", gaps, r.Spans)
	}
}

func testRetention(t *testing.T, open func() state.Inbox) {
	ib := open()
	old := Msg("acct", "old", "thread", T0)
	kept := Msg("acct", "kept", "thread", T0.Add(10*24*time.Hour))
	Receive(t, ib, old)
	Listen(t, ib, state.ListenSpan{Receiver: "r-old", Since: T0, Until: T0.Add(time.Hour)})
	Receive(t, ib, kept)
	Listen(t, ib, state.ListenSpan{Receiver: "r-kept", Since: T0.Add(10*24*time.Hour - time.Hour), Until: kept.Received})
	if got := ids(Read(t, ib, "acct", "thread", time.Time{}).Messages); len(got) != 2 {
		t.Fatalf("before anything expired: messages %v, want old and kept", got)
	}

	// Well past the retention of the old records.
	late := Msg("acct", "late", "thread", T0.Add(state.InboxRetention+2*time.Hour))
	if !Receive(t, ib, late) {
		t.Fatal("late message not stored")
	}
	got := Read(t, open(), "acct", "thread", time.Time{})
	if diff := cmp.Diff([]string{"kept", "late"}, ids(got.Messages)); diff != "" {
		t.Errorf("messages after retention (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"r-kept"}, receivers(got.Spans)); diff != "" {
		t.Errorf("spans after retention (-want +got):\n%s", diff)
	}
}

func testConcurrentReceivers(t *testing.T, open func() state.Inbox) {
	const n = 40
	values := []state.Inbox{open(), open()}
	var stored [n]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	// For each id, four goroutines (two on each value) are let go at once.
	starts := make([]chan struct{}, n)
	for i := range starts {
		starts[i] = make(chan struct{})
	}
	for g := range 4 {
		ib := values[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				<-starts[i]
				ok, err := ib.Receive(context.Background(), Msg("acct", fmt.Sprintf("m-%02d", i), "thread", T0.Add(time.Duration(i)*time.Second)))
				if err != nil {
					errs <- err
					return
				}
				if ok {
					stored[i].Add(1)
				}
			}
		}()
	}
	for i := range starts {
		close(starts[i])
		time.Sleep(time.Millisecond) // some ids race alone, others overlap the next
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Receive: %v", err)
	}
	for i := range stored {
		if got := stored[i].Load(); got != 1 {
			t.Errorf("m-%02d reported stored %d times, want once", i, got)
		}
	}
	got := ids(Read(t, open(), "acct", "thread", time.Time{}).Messages)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("m-%02d", i)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages after concurrent receives (-want +got):\n%s", diff)
	}
}

func testIncompleteRefused(t *testing.T, open func() state.Inbox) {
	ib := open()
	ctx := context.Background()
	for name, m := range map[string]state.InboxMessage{
		"no account":       {ID: "m", Thread: "t", Created: T0, Received: T0},
		"no id":            {Account: "a", Thread: "t", Created: T0, Received: T0},
		"no received time": {Account: "a", ID: "m", Thread: "t", Created: T0},
	} {
		if stored, err := ib.Receive(ctx, m); err == nil || stored {
			t.Errorf("Receive of a message with %s: stored %v, error %v; want refused", name, stored, err)
		}
	}
	for name, s := range map[string]state.ListenSpan{
		"no receiver":           {Since: T0, Until: T0.Add(time.Minute)},
		"no end":                {Receiver: "r", Since: T0},
		"an end before a start": {Receiver: "r", Since: T0, Until: T0.Add(-time.Second)},
	} {
		if err := ib.Listening(ctx, s); err == nil {
			t.Errorf("Listening with %s accepted", name)
		}
	}
	if r := Read(t, ib, "a", "t", time.Time{}); len(r.Messages)+len(r.Spans) != 0 {
		t.Errorf("refused records were stored: %+v", r)
	}
}

func testEmpty(t *testing.T, open func() state.Inbox) {
	r := Read(t, open(), "acct", "thread", time.Time{})
	if len(r.Messages) != 0 || len(r.Spans) != 0 {
		t.Errorf("a new inbox holds %+v", r)
	}
	if r.Listened(T0, T0.Add(time.Second)) {
		t.Error("an empty inbox says it was listening")
	}
}
