package service

import (
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// Tee passes every hook to each of hs in turn.
func Tee(hs ...executor.Hooks) executor.Hooks { return tee(hs) }

type tee []executor.Hooks

func (t tee) Starting(total int) {
	for _, h := range t {
		h.Starting(total)
	}
}

func (t tee) BeforeSend(c *planner.Change, attempt int) {
	for _, h := range t {
		h.BeforeSend(c, attempt)
	}
}

func (t tee) AfterSend(c *planner.Change, attempt int, res a1base.Result, st state.Status) {
	for _, h := range t {
		h.AfterSend(c, attempt, res, st)
	}
}

func (t tee) RateLimited(c *planner.Change, wait time.Duration, limit string) {
	for _, h := range t {
		h.RateLimited(c, wait, limit)
	}
}

func (t tee) Retrying(c *planner.Change, attempt int, after time.Duration, res a1base.Result) {
	for _, h := range t {
		h.Retrying(c, attempt, after, res)
	}
}

func (t tee) Expired(c *planner.Change) {
	for _, h := range t {
		h.Expired(c)
	}
}

func (t tee) MediaRejected(c *planner.Change, err error) {
	for _, h := range t {
		h.MediaRejected(c, err)
	}
}

func (t tee) Reconciled(c *planner.Change, found bool) {
	for _, h := range t {
		h.Reconciled(c, found)
	}
}

func (t tee) LookedUp(c *planner.Change, lu state.LookUp, status state.Status) {
	for _, h := range t {
		h.LookedUp(c, lu, status)
	}
}

func (t tee) ReconcileFailed(c *planner.Change, err error) {
	for _, h := range t {
		h.ReconcileFailed(c, err)
	}
}

func (t tee) Finished(s executor.Summary) {
	for _, h := range t {
		h.Finished(s)
	}
}
