package executor

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// queueingRecorder is a Recorder that can also queue an event and be
// waited on later, keeping the order of what one goroutine queues and
// records (state.Local is one). The executor uses it for the outcome of a
// delivered send: the outcome is queued, the group's next attempt is
// recorded, and the fsync that makes that attempt durable makes the
// outcome durable too. A send then waits for one fsync instead of two,
// while every guarantee stands: an attempt is durable before its request
// leaves, an outcome is durable before it is reported and before the
// worker's next request leaves, and an outcome that cannot be recorded
// still stops every later send.
type queueingRecorder interface {
	RecordQueued(ctx context.Context, e state.Event) (wait func() error)
}

var _ queueingRecorder = (*state.Local)(nil)

// worker is what one goroutine draining group queues carries from one
// send to the next.
type worker struct {
	pending *pendingOutcome
}

// pendingOutcome is a delivered send whose outcome is queued and not yet
// known to be durable, so neither reported nor counted.
type pendingOutcome struct {
	c    *planner.Change
	n    int
	res  a1base.Result
	wait func() error
}

// queueOutcome queues the outcome e of a delivered send when the recorder
// allows it, and reports whether it did; the caller then leaves reporting
// to flushPending.
func (r *runner) queueOutcome(w *worker, c *planner.Change, n int, res a1base.Result, e state.Event) bool {
	q, ok := r.rec.(queueingRecorder)
	if !ok || w == nil || res.Outcome != a1base.Delivered {
		return false
	}
	if err := r.flushPending(w); err != nil {
		return false
	}
	ctx, cancel := r.recordCtx()
	wait := q.RecordQueued(ctx, e)
	w.pending = &pendingOutcome{c: c, n: n, res: res, wait: func() error {
		defer cancel()
		return wait()
	}}
	return true
}

// flushPending waits for the worker's queued outcome, if any, then reports and
// counts it as finish does. An outcome that could not be recorded stops
// the run, and the error tells the caller not to send.
func (r *runner) flushPending(w *worker) error {
	if w == nil || w.pending == nil {
		return nil
	}
	p := w.pending
	w.pending = nil
	inst := p.c.Instance
	if err := p.wait(); err != nil {
		r.setFault(fmt.Errorf("recording the outcome of attempt %d of %s: %w", p.n, p.c.Addr, err))
		r.unknown(p.c, fmt.Sprintf("the outcome (%s) could not be recorded: %v", p.res.Outcome, err))
		r.hooks.AfterSend(p.c, p.n, forHooks(inst, p.res), state.StatusUnknown)
		return err
	}
	r.hooks.AfterSend(p.c, p.n, forHooks(inst, p.res), state.StatusSent)
	r.sent()
	return nil
}
