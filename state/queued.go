package state

import (
	"context"
	"sync"
)

// RecordQueued queues e for the journal like Record and returns at once;
// wait returns once e is durable (nil) or why it is not, with the same
// answer Record would have given. Events reach the journal in the order
// they were queued, so when one goroutine queues an event and then Records
// another, the fsync that makes the second durable makes the first durable
// too: a sender can queue the outcome of one request and have it written
// by the same group commit as the attempt of its next request, paying one
// fsync wait per request instead of two. wait may be called any number of
// times; a queued event is written even if wait is never called, and
// Persist, Unlock and Close write every queued event before they return.
// It requires the lock.
func (l *Local) RecordQueued(ctx context.Context, e Event) (wait func() error) {
	fail := func(err error) func() error { return func() error { return err } }
	if err := ValidateEvent(e); err != nil {
		return fail(err)
	}
	if e.Kind == EventAttempt {
		e.Status = StatusSending
	}
	line, err := encodeEvent(e)
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	// The gate is held only while queueing: closing the journal drains
	// the queue before it returns, so a queued event is never lost to a
	// Persist that starts before its fsync, and the caller may Record
	// again (and so take the gate again) before it waits.
	l.gate.RLock()
	defer l.gate.RUnlock()
	q, err := l.openJournal()
	if err != nil {
		return fail(err)
	}
	c := &commit{line: line, ev: e, done: make(chan error, 1)}
	select {
	case q <- c:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	return sync.OnceValue(func() error { return <-c.done })
}
