package notify

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Expected is what an apply of a plan would notify one notify block of.
type Expected struct {
	// Notify is the block's name.
	Notify string `json:"notify"`
	// Events counts the events the plan already shows (expired, drift,
	// skipped, apply_summary), by kind; only kinds the block wants.
	Events map[string]int `json:"events,omitempty"`
	// IfSendsFail lists the events that only the sends can tell (failed,
	// unknown) and that the block wants, when the plan sends anything.
	IfSendsFail []string `json:"if_sends_fail,omitempty"`
}

// Sentence says it in words:
//
//	apply would notify ops-slack of 1 expired, 1 apply_summary (and of any send that fails)
func (e Expected) Sentence() string {
	var parts, maybe []string
	for _, k := range spec.NotifyEvents {
		if n := e.Events[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	for _, k := range e.IfSendsFail {
		maybe = append(maybe, map[string]string{Failed: "fails", Unknown: "becomes unknown"}[k])
	}
	switch {
	case len(parts) > 0 && len(maybe) > 0:
		return fmt.Sprintf("apply would notify %s of %s (and of any send that %s)", e.Notify, strings.Join(parts, ", "), strings.Join(maybe, " or "))
	case len(parts) > 0:
		return fmt.Sprintf("apply would notify %s of %s", e.Notify, strings.Join(parts, ", "))
	default:
		return fmt.Sprintf("apply would notify %s of any send that %s", e.Notify, strings.Join(maybe, " or "))
	}
}

// Preview says, per notify block, what an apply of plan would notify it
// of: the expiries, drift, skipped occurrences and summary the plan
// already shows. Failures and unknowns cannot be known before the sends;
// a block that wants them is told so. Blocks with nothing to expect are
// left out.
func Preview(blocks []*spec.Notify, plan *planner.Plan) []Expected {
	counts := map[string]int{}
	actionable := 0
	for _, c := range plan.Changes {
		switch c.Action {
		case planner.Expire:
			counts[Expired]++
			actionable++
		case planner.Drift:
			counts[Drift]++
		case planner.Send, planner.Retry:
			actionable++
		}
	}
	counts[Skipped] = len(plan.Skipped)
	if actionable > 0 {
		counts[ApplySummary] = 1
	}
	var out []Expected
	for _, b := range blocks {
		e := Expected{Notify: b.Name}
		for _, k := range spec.NotifyEvents {
			if b.Wants(k) && counts[k] > 0 {
				if e.Events == nil {
					e.Events = map[string]int{}
				}
				e.Events[k] = counts[k]
			}
		}
		if actionable > 0 {
			for _, k := range []string{Failed, Unknown} {
				if b.Wants(k) {
					e.IfSendsFail = append(e.IfSendsFail, k)
				}
			}
		}
		if len(e.Events) > 0 || len(e.IfSendsFail) > 0 {
			out = append(out, e)
		}
	}
	return out
}
