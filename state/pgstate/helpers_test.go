package pgstate

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
)

// open opens a Backend on conn and closes it when the test ends.
func open(t testing.TB, conn string, opts ...Option) *Backend {
	t.Helper()
	b, err := Open(context.Background(), conn, "", opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func openLocked(t testing.TB, conn string, opts ...Option) *Backend {
	t.Helper()
	b := open(t, conn, opts...)
	if err := b.Lock(context.Background(), 0); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return b
}

// admin is a plain connection to the test database for looking behind the
// backend's back.
func admin(t testing.TB, conn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func newDB(t testing.TB) string { return pgtest.Start(t) }

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func attempt(addr string, n int, at time.Time) state.Event {
	return state.Event{
		Kind: state.EventAttempt, Message: state.Message{Address: addr, Group: "group.eng", ThreadID: "thread-1", Service: "whatsapp", From: "+14155550000", ContentHash: "hash-" + addr, SendAt: t0}, Attempt: n, At: at, Status: state.StatusSending,
	}
}

func outcome(addr string, n int, at time.Time, status state.Status) state.Event {
	e := state.Event{
		Kind: state.EventOutcome, Message: state.Message{Address: addr, Group: "group.eng", ThreadID: "thread-1", Service: "whatsapp", From: "+14155550000", ContentHash: "hash-" + addr, SendAt: t0}, Attempt: n, At: at, Status: status,
	}
	switch status {
	case state.StatusSent:
		e.Outcome = "delivered"
		e.Answer = &state.Answer{ChatGroupID: "cg-1", From: "+14155550000", Body: "hi", Status: "queued", DateCreated: "2026-12-01T09:00:01Z"}
	case state.StatusFailed:
		e.Outcome = "permanent"
		e.Error = "422: thread_id: not found"
	}
	return e
}

func record(t testing.TB, b *Backend, events ...state.Event) {
	t.Helper()
	for _, e := range events {
		if err := b.Record(context.Background(), e); err != nil {
			t.Fatalf("Record(%s %s): %v", e.Kind, e.Address, err)
		}
	}
}

func snapshot(t testing.TB, b *Backend) *state.Snapshot {
	t.Helper()
	s, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return s
}

// timesEqual compares instants, since PostgreSQL gives times back in UTC.
var timesEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// applied is what state's own Apply makes of events, the reference the
// backend must agree with.
func applied(events ...state.Event) map[string]*state.Record {
	s := &state.Snapshot{Records: map[string]*state.Record{}}
	for _, e := range events {
		s.Apply(e)
	}
	return s.Records
}

// appliedBy is applied with the attempts stamped, as b stamps them, with
// the generation of b's lock.
func appliedBy(t testing.TB, b *Backend, events ...state.Event) map[string]*state.Record {
	t.Helper()
	gen, _, ok := b.LockTerm()
	if !ok {
		t.Fatal("the backend holds no lock")
	}
	stamped := make([]state.Event, len(events))
	for i, e := range events {
		if e.Kind == state.EventAttempt {
			e.LockGeneration = gen
		}
		stamped[i] = e
	}
	return applied(stamped...)
}
