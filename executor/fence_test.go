package executor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// beforeSend runs a function at Hooks.BeforeSend: after the attempt is
// journaled, before its request may be written.
type beforeSend struct {
	NopHooks
	f func(c *planner.Change, n int)
}

func (h beforeSend) BeforeSend(c *planner.Change, n int) { h.f(c, n) }

// fakeMono stands in for the monotonic clock that bounds the time between
// journaling an attempt and writing its request.
type fakeMono struct {
	mu  sync.Mutex
	now time.Time
}

func (m *fakeMono) read() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.now }
func (m *fakeMono) advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

// useFakeMono replaces mono for one test (which must not run in parallel).
func useFakeMono(t *testing.T) *fakeMono {
	m := &fakeMono{now: t0}
	old := mono
	mono = m.read
	t.Cleanup(func() { mono = old })
	return m
}

// assertNotSent checks that addr's attempt 1 was journaled and then
// recorded as not sent (failed, so that a later pass retries it).
func assertNotSent(t *testing.T, rec *memRecorder, addr string, why string) {
	t.Helper()
	evs := rec.of(addr)
	require.Len(t, evs, 2)
	assert.Equal(t, state.EventAttempt, evs[0].Kind)
	assert.Equal(t, state.EventOutcome, evs[1].Kind)
	assert.Equal(t, 1, evs[1].Attempt)
	assert.Equal(t, state.StatusFailed, evs[1].Status)
	assert.Equal(t, a1base.Transient.String(), evs[1].Outcome)
	assert.Contains(t, evs[1].Error, "not sent")
	assert.Contains(t, evs[1].Error, why)
}

// TestLockLostAfterJournalingSendsNothing: the lock is lost after the
// attempt was journaled and before its request was written (the replica
// was frozen, say, and another took over): the request is not written,
// however long the lock's loss goes unnoticed by the run's own context,
// and the attempt is recorded as not sent.
func TestLockLostAfterJournalingSendsNothing(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	lock, lose := context.WithCancelCause(context.Background())
	defer lose(nil)
	lost := errors.New("its connection did not answer")
	h := beforeSend{f: func(*planner.Change, int) { lose(lost) }}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock(), Lock: lock}, h)
	require.NoError(t, err)
	assert.Empty(t, f.sent(), "a request was written after the lock was lost")
	assert.Zero(t, sum.Attempts)
	assert.Equal(t, 1, sum.Failed)
	assertNotSent(t, rec, "message.launch", "the state lock was lost")
}

// TestLockLostWhileWaitingOnTheStartGate: the wait at the rate limits'
// start gate, after the attempt is journaled, ends as soon as the lock is
// lost, with the lock's cause.
func TestLockLostWhileWaitingOnTheStartGate(t *testing.T) {
	l, err := newLimit("group limit", *limitOf(1, time.Hour))
	require.NoError(t, err)
	ls := &limits{Limiters: NewLimiters(), accounts: map[string][]*limit{}, groups: map[string]*limit{"eng": l}, groupAccount: map[string]string{}, now: runningClock()}
	l.noteStart(ls.now()) // the window is full for an hour
	lock, lose := context.WithCancelCause(context.Background())
	lost := errors.New("lock lost")
	done := make(chan error, 1)
	go func() {
		_, err := ls.admitStart(lock, "eng", "message.launch#1")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	lose(lost)
	select {
	case err := <-done:
		require.ErrorIs(t, err, lost)
	case <-time.After(30 * time.Second):
		t.Fatal("the start gate kept waiting after the lock was lost")
	}
	assert.Len(t, l.h.starts, 1, "a start was noted for a request never written")
	assert.Zero(t, l.h.pending, "a start is still admitted for a request never written")
}

// TestRequestNeverWrittenPastSendBound: a request whose attempt was
// journaled more than SendBound ago (the process was frozen in between)
// is not written, and the attempt is recorded as not sent; the group's
// next message goes on as usual.
func TestRequestNeverWrittenPastSendBound(t *testing.T) {
	m := useFakeMono(t)
	b := newPlan()
	b.send("eng", "frozen", t0)
	b.send("eng", "next", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := beforeSend{f: func(c *planner.Change, _ int) {
		if c.Addr.String() == "message.frozen" {
			m.advance(SendBound + time.Millisecond)
		}
	}}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.NoError(t, err)
	assert.Zero(t, f.calls("message.frozen"), "a request was written more than SendBound after its attempt was journaled")
	assertNotSent(t, rec, "message.frozen", "more than 10s passed")
	assert.Equal(t, 1, f.calls("message.next"))
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, sum.Attempts)
}

// TestRequestWithinSendBoundIsWritten: just within the bound, the
// request goes.
func TestRequestWithinSendBoundIsWritten(t *testing.T) {
	m := useFakeMono(t)
	b := newPlan()
	b.send("eng", "slow", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := beforeSend{f: func(*planner.Change, int) { m.advance(SendBound - time.Millisecond) }}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 1, f.calls("message.slow"))
}

// TestExpiryRecheckedAfterTheWait: the message expires while its
// journaled request waits to be written: it is not written, and the
// message is recorded as expired, its attempt as not sent.
func TestExpiryRecheckedAfterTheWait(t *testing.T) {
	b := newPlan()
	c := b.send("eng", "late", t0)
	c.Instance.ExpiresAfter = 30 * time.Minute
	var mu sync.Mutex
	now := t0.Add(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := beforeSend{f: func(*planner.Change, int) {
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
	}}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: clock}, h)
	require.NoError(t, err)
	assert.Empty(t, f.sent(), "a request was written after its message expired")
	assert.Equal(t, 1, sum.Expired)
	assert.Zero(t, sum.Attempts)
	evs := rec.of("message.late")
	require.Len(t, evs, 2)
	assert.Equal(t, state.StatusExpired, evs[1].Status)
	assert.Equal(t, 1, evs[1].Attempt)
	assert.Contains(t, evs[1].Error, "not sent")
}

// termRecorder is a recorder on a state whose lock has generations.
type termRecorder struct {
	memRecorder
	mu         sync.Mutex
	generation int64
	held       time.Duration
}

func (r *termRecorder) LockTerm() (int64, time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.generation, r.held, true
}

// TestReconcileEarlierGenerationIsNotProvenByLookUpAlone: an attempt cut
// short under an earlier lock generation, long settled by its own
// stamps, is proven absent only once this process has held the lock for
// TakeoverWait by its own clock: the holder that journaled it may be
// frozen, and its stamps come from its clock. Reconcile waits out the
// rest of that time; when it cannot, the look-up settles nothing.
func TestReconcileEarlierGenerationIsNotProvenByLookUpAlone(t *testing.T) {
	started := t0.Add(-time.Hour) // settled long ago by its own stamp
	build := func(gen int64) (*planBuilder, *planner.Change) {
		b := newPlan()
		c := unknown(b, "eng", "frozen", started)
		c.Record.Attempts[1].LockGeneration = gen
		c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: spec.MinUnknownSettle}
		return b, c
	}
	empty := func(string) ([]a1base.ThreadMessage, error) { return nil, nil }
	now := func() time.Time { return t0 }

	t.Run("waits_for_the_takeover", func(t *testing.T) {
		b, c := build(1)
		rec := &termRecorder{generation: 2, held: time.Second}
		f := newFake(&rec.memRecorder, b.plan)
		f.recent = empty
		var slept []time.Duration
		sleep := func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			if f.lookups["thread-eng"] > 0 {
				t.Error("looked the thread up before the takeover wait was over")
			}
			rec.mu.Lock()
			rec.held += d
			rec.mu.Unlock()
			return nil
		}
		resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: now, Sleep: sleep}, nil)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{TakeoverWait - time.Second}, slept)
		assert.Contains(t, resolved, c.Addr)
		assert.Equal(t, state.StatusNotDelivered, rec.last(c.Addr.String()))
	})
	t.Run("look_up_alone", func(t *testing.T) {
		b, c := build(1)
		rec := &termRecorder{generation: 2, held: time.Second}
		f := newFake(&rec.memRecorder, b.plan)
		f.recent = empty
		// The wait ends early (the clock the lock's age is read by has
		// not moved): this process has not held the lock long enough, and
		// the look-up alone proves nothing.
		sleep := func(context.Context, time.Duration) error { return nil }
		resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: now, Sleep: sleep}, nil)
		require.NoError(t, err)
		assert.Empty(t, resolved)
		evs := rec.of(c.Addr.String())
		require.Len(t, evs, 1)
		assert.Equal(t, state.EventLookUp, evs[0].Kind)
		require.NotNil(t, evs[0].LookUp)
		assert.Contains(t, evs[0].LookUp.Unsettled, "earlier holder of the state lock")
	})
	t.Run("same_generation", func(t *testing.T) {
		b, c := build(2)
		rec := &termRecorder{generation: 2, held: time.Second}
		f := newFake(&rec.memRecorder, b.plan)
		f.recent = empty
		sleep := func(context.Context, time.Duration) error { t.Error("waited for its own attempt"); return nil }
		resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: now, Sleep: sleep}, nil)
		require.NoError(t, err)
		assert.Contains(t, resolved, c.Addr)
	})
	t.Run("finished_attempt", func(t *testing.T) {
		// An attempt whose end was recorded wrote its request long ago:
		// nothing of it can still be on its way.
		b, c := build(1)
		ended := started.Add(time.Second)
		c.Record.Attempts[1].FinishedAt = &ended
		c.Record.Attempts[1].Outcome = a1base.Ambiguous.String()
		rec := &termRecorder{generation: 2, held: time.Second}
		f := newFake(&rec.memRecorder, b.plan)
		f.recent = empty
		sleep := func(context.Context, time.Duration) error { t.Error("waited for a finished attempt"); return nil }
		resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: now, Sleep: sleep}, nil)
		require.NoError(t, err)
		assert.Contains(t, resolved, c.Addr)
	})
}
