package testrun

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// A run with command = "apply" carries its plan out against an A1Base
// sandbox inside herald, on a clock of its own that starts at the run's
// at and moves only when the executor waits (a retry's backoff), without
// rate limits, and records the outcome in the file's state: the runs after
// it plan against what it sent. Nothing leaves the machine.

// virtualClock is a clock that a wait moves forward instead of sleeping.
type virtualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	c.mu.Unlock()
	return nil
}

// applyResult is what the executor did in an apply run.
type applyResult struct {
	summary executor.Summary
}

var applyType = cty.Object(map[string]cty.Type{
	"sent": cty.Number, "failed": cty.Number, "expired": cty.Number, "unknown": cty.Number,
})

// applyObject is apply: what an apply run's executor did; null in a plan
// run.
func applyObject(res *applyResult) cty.Value {
	if res == nil {
		return cty.NullVal(applyType)
	}
	s := res.summary
	return cty.ObjectVal(map[string]cty.Value{
		"sent":    cty.NumberIntVal(int64(s.Sent)),
		"failed":  cty.NumberIntVal(int64(s.Failed)),
		"expired": cty.NumberIntVal(int64(s.Expired)),
		"unknown": cty.NumberIntVal(int64(s.Unknown)),
	})
}

// applyRun carries out the configuration's plan at the clock at on the
// state at statePath, through the sandbox. A pass that a failed
// error-level check stopped is no error here: the plan is returned, and
// the run's expect_failures judge it.
func applyRun(cfg *spec.Config, at time.Time, statePath string) (*planner.Plan, *applyResult, hcl.Diagnostics) {
	withoutRateLimits(cfg)
	vc := &virtualClock{t: at}
	sb := accounts.NewSandbox(func(a1base.SendRequest, bool) {}, vc.Now)
	defer sb.Close()
	set := sb.Connect(accounts.Env{Getenv: func(string) string { return "" }, Version: "test"}, cfg)
	out, err := operation.Apply(context.Background(), operation.Op{
		Inputs:   &operation.Inputs{At: at, Config: cfg},
		Client:   set.Default,
		Accounts: set.Aliased,
		Backend:  state.OpenLocal(statePath),
		Name:     "herald test",
		Approver: operation.AutoApprove,
		Reporter: quietReporter{},
		Clock:    vc.Now,
		Sleep:    vc.Sleep,
	})
	var checks *planner.ChecksFailedError
	if err != nil && !errors.As(err, &checks) {
		return out.Plan, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Apply failed",
			Detail:   fmt.Sprintf("The run's apply against the sandbox failed: %s.", err),
		}}
	}
	return out.Plan, &applyResult{summary: out.Result.Summary}, nil
}

// withoutRateLimits lifts the configuration's rate limits for an apply
// run: the executor paces sends by the time that really passes, and a
// test must not wait an hour for a "1/1h" limit. What is sent and recorded
// is the same; only when each send leaves differs.
func withoutRateLimits(cfg *spec.Config) {
	for _, p := range cfg.Providers() {
		p.RateLimit = nil
	}
	for _, g := range cfg.Groups {
		g.RateLimit = nil
	}
}

// quietReporter is told what an apply run does and says nothing: the
// run's asserts say what matters.
type quietReporter struct{ executor.NopHooks }

func (quietReporter) Interrupting()                  {}
func (quietReporter) Aborting()                      {}
func (quietReporter) Plan(*planner.Plan) error       { return nil }
func (quietReporter) NothingToDo()                   {}
func (quietReporter) Imported(executor.ImportResult) {}
func (quietReporter) Result(operation.Result)        {}
