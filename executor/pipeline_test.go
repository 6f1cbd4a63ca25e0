package executor

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/state"
)

// queueRec is a memRecorder that can queue, like state.Local: a queued
// event becomes durable (visible in the memRecorder) with the next
// Record or when it is waited for, in the order queued. A queued event
// that fails tells only its own wait, so that the executor's own check of
// queued outcomes is what the tests see.
type queueRec struct {
	*memRecorder
	mu     sync.Mutex
	queued []*queuedEvent
	count  int
}

type queuedEvent struct {
	e   state.Event
	err error
}

func (q *queueRec) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.queued {
		it.err = q.memRecorder.Record(context.Background(), it.e)
	}
	q.queued = nil
}

func (q *queueRec) Record(ctx context.Context, e state.Event) error {
	q.flush()
	return q.memRecorder.Record(ctx, e)
}

func (q *queueRec) RecordQueued(_ context.Context, e state.Event) func() error {
	q.mu.Lock()
	it := &queuedEvent{e: e}
	q.queued = append(q.queued, it)
	q.count++
	q.mu.Unlock()
	return func() error {
		q.flush()
		return it.err
	}
}

func TestQueuedOutcomesKeepTheGuarantees(t *testing.T) {
	b := newPlan()
	b.send("a", "a1", t0)
	b.send("a", "a2", t0.Add(time.Second))
	b.send("a", "a3", t0.Add(2*time.Second))
	b.send("b", "b1", t0)
	b.send("b", "b2", t0.Add(time.Second))
	rec := &queueRec{memRecorder: &memRecorder{}}
	f := newFake(rec.memRecorder, b.plan)
	var mu sync.Mutex
	var notDurable []string
	previous := map[string]string{"message.a2": "message.a1", "message.a3": "message.a2", "message.b2": "message.b1"}
	f.respond = func(_ context.Context, addr string, _ int, req a1base.SendRequest) a1base.Result {
		// The group's previous outcome is durable before this request
		// leaves.
		if prev, ok := previous[addr]; ok && rec.last(prev) != state.StatusSent {
			mu.Lock()
			notDurable = append(notDurable, prev)
			mu.Unlock()
		}
		return delivered(req)
	}
	h := &hookLog{}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Parallelism: 2, Now: fixedClock()}, h)
	require.NoError(t, err)
	f.check(t)
	assert.Empty(t, notDurable)
	assert.Equal(t, 5, sum.Sent)
	assert.Equal(t, 5, rec.count, "every delivered outcome was queued")
	after := slices.Clone(h.after)
	slices.Sort(after)
	assert.Equal(t, []string{"message.a1#1:sent", "message.a2#1:sent", "message.a3#1:sent", "message.b1#1:sent", "message.b2#1:sent"}, after)
	// Per message: the attempt, then the outcome; nothing is left queued.
	for _, a := range []string{"message.a1", "message.a2", "message.a3", "message.b1", "message.b2"} {
		evs := rec.of(a)
		require.Len(t, evs, 2, a)
		assert.Equal(t, state.EventAttempt, evs[0].Kind, a)
		assert.Equal(t, state.StatusSent, evs[1].Status, a)
		assert.NotNil(t, evs[1].Answer, a)
	}
}

func TestQueuedOutcomeFailureStopsNewSends(t *testing.T) {
	b := newPlan()
	b.send("a", "a1", t0)
	b.send("a", "a2", t0.Add(time.Second))
	b.send("a", "a3", t0.Add(2*time.Second))
	rec := &queueRec{memRecorder: &memRecorder{fail: func(e state.Event) error {
		if e.Address == "message.a1" && e.Kind == state.EventOutcome {
			return errDisk
		}
		return nil
	}}}
	f := newFake(rec.memRecorder, b.plan)
	h := &hookLog{}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.ErrorIs(t, err, errDisk)
	f.check(t)
	assert.Equal(t, 1, f.calls("message.a1"))
	assert.Zero(t, f.calls("message.a2"), "no request leaves after an outcome could not be recorded")
	assert.Zero(t, f.calls("message.a3"))
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, 1, sum.Failed, "a2's attempt was recorded; its request never left")
	assert.Equal(t, 1, sum.NotStarted)
	assert.Equal(t, []string{"message.a1#1:unknown", "message.a2#1:failed"}, h.after)
	assert.Equal(t, state.StatusSending, rec.last("message.a1"), "replay reads the lone attempt as unknown")
	assert.Equal(t, state.StatusFailed, rec.last("message.a2"), "retried by the next run")
}

// Without queueing, the recorder sees each outcome before the next attempt,
// as before.
func TestPlainRecorderRecordsOutcomesInLine(t *testing.T) {
	b := newPlan()
	b.send("a", "a1", t0)
	b.send("a", "a2", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	sum, err := run(t, b, f, rec, Options{}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sent)
	var seq []string
	for _, e := range rec.all() {
		seq = append(seq, e.Address+":"+string(e.Kind))
	}
	assert.Equal(t, []string{"message.a1:attempt", "message.a1:outcome", "message.a2:attempt", "message.a2:outcome"}, seq)
}
