package executor

import (
	"sync"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// Hooks is how the executor reports progress; views implement it. The
// executor calls hooks one at a time, never concurrently, so an
// implementation needs no locking of its own, but it runs while sends wait
// and must return quickly.
//
// No hook ever sees the API's echo of a sensitive message: AfterSend gets a
// result whose answer body has been cleared.
type Hooks interface {
	// Starting is called once, before anything happens, with the number of
	// changes the run will handle (sends, retries and expiries).
	Starting(total int)
	// BeforeSend is called just before a request leaves; its attempt is
	// already recorded.
	BeforeSend(c *planner.Change, attempt int)
	// AfterSend is called once the attempt's outcome is recorded (or
	// recording it failed), with the status recorded.
	AfterSend(c *planner.Change, attempt int, res a1base.Result, status state.Status)
	// RateLimited is called when a send has to wait at least
	// Options.ReportWait for a rate limit, with the limit that holds it.
	RateLimited(c *planner.Change, wait time.Duration, limit string)
	// Retrying is called when a transient failure will be retried: attempt
	// is the number of the next attempt, after the wait before it.
	Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result)
	// Expired is called when an instance is recorded as expired, planned
	// so or because the run went past its expires_after.
	Expired(c *planner.Change)
	// MediaRejected is called when the media check failed and the
	// message was recorded as failed without sending.
	MediaRejected(c *planner.Change, err error)
	// Reconciled reports whether an unknown message was found in its
	// thread (and recorded as sent).
	Reconciled(c *planner.Change, found bool)
	// LookedUp reports a look-up that did not find an unknown message in
	// its thread: status is state.StatusNotDelivered when it proved the
	// absence (lu is the evidence), state.StatusUnknown when it settled
	// nothing (lu.Unsettled says why).
	LookedUp(c *planner.Change, lu state.LookUp, status state.Status)
	// ReconcileFailed reports that an unknown message could not be looked
	// up; it stays unknown.
	ReconcileFailed(c *planner.Change, err error)
	// Finished is called once at the end of Run.
	Finished(s Summary)
}

// NopHooks does nothing; embed it to implement only some hooks.
type NopHooks struct{}

var _ Hooks = NopHooks{}

func (NopHooks) Starting(int)                                                {}
func (NopHooks) BeforeSend(*planner.Change, int)                             {}
func (NopHooks) AfterSend(*planner.Change, int, a1base.Result, state.Status) {}
func (NopHooks) RateLimited(*planner.Change, time.Duration, string)          {}
func (NopHooks) Retrying(*planner.Change, int, time.Duration, a1base.Result) {}
func (NopHooks) Expired(*planner.Change)                                     {}
func (NopHooks) MediaRejected(*planner.Change, error)                        {}
func (NopHooks) Reconciled(*planner.Change, bool)                            {}
func (NopHooks) LookedUp(*planner.Change, state.LookUp, state.Status)        {}
func (NopHooks) ReconcileFailed(*planner.Change, error)                      {}
func (NopHooks) Finished(Summary)                                            {}

// serialHooks calls the wrapped hooks one at a time.
type serialHooks struct {
	mu sync.Mutex
	h  Hooks
}

func newSerialHooks(h Hooks) *serialHooks {
	if h == nil {
		h = NopHooks{}
	}
	return &serialHooks{h: h}
}

func (s *serialHooks) do(f func(Hooks)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.h)
}

func (s *serialHooks) Starting(total int) { s.do(func(h Hooks) { h.Starting(total) }) }
func (s *serialHooks) BeforeSend(c *planner.Change, attempt int) {
	s.do(func(h Hooks) { h.BeforeSend(c, attempt) })
}
func (s *serialHooks) AfterSend(c *planner.Change, attempt int, res a1base.Result, st state.Status) {
	s.do(func(h Hooks) { h.AfterSend(c, attempt, res, st) })
}
func (s *serialHooks) RateLimited(c *planner.Change, wait time.Duration, limit string) {
	s.do(func(h Hooks) { h.RateLimited(c, wait, limit) })
}
func (s *serialHooks) Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result) {
	s.do(func(h Hooks) { h.Retrying(c, attempt, after, res) })
}
func (s *serialHooks) Expired(c *planner.Change) { s.do(func(h Hooks) { h.Expired(c) }) }
func (s *serialHooks) MediaRejected(c *planner.Change, err error) {
	s.do(func(h Hooks) { h.MediaRejected(c, err) })
}
func (s *serialHooks) Reconciled(c *planner.Change, found bool) {
	s.do(func(h Hooks) { h.Reconciled(c, found) })
}
func (s *serialHooks) LookedUp(c *planner.Change, lu state.LookUp, status state.Status) {
	s.do(func(h Hooks) { h.LookedUp(c, lu, status) })
}
func (s *serialHooks) ReconcileFailed(c *planner.Change, err error) {
	s.do(func(h Hooks) { h.ReconcileFailed(c, err) })
}
func (s *serialHooks) Finished(sum Summary) { s.do(func(h Hooks) { h.Finished(sum) }) }
