package notify

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Preview says, per notify block, what an apply of plan would notify it
// of: the expiries, drift, skipped occurrences and summary the plan
// already shows. Failures and unknowns cannot be known before the sends;
// a block that wants them is told so. Blocks with nothing to expect are
// left out.
//
//	apply would notify ops-slack of 1 expired, 1 apply_summary (and of any send that fails)
func Preview(blocks []*spec.Notify, plan *planner.Plan) []string {
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
	var out []string
	for _, b := range blocks {
		var parts []string
		for _, k := range spec.NotifyEvents {
			if b.Wants(k) && counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		var maybe []string
		if actionable > 0 {
			for _, k := range []string{Failed, Unknown} {
				if b.Wants(k) {
					maybe = append(maybe, map[string]string{Failed: "fails", Unknown: "becomes unknown"}[k])
				}
			}
		}
		switch {
		case len(parts) > 0 && len(maybe) > 0:
			out = append(out, fmt.Sprintf("apply would notify %s of %s (and of any send that %s)", b.Name, strings.Join(parts, ", "), strings.Join(maybe, " or ")))
		case len(parts) > 0:
			out = append(out, fmt.Sprintf("apply would notify %s of %s", b.Name, strings.Join(parts, ", ")))
		case len(maybe) > 0:
			out = append(out, fmt.Sprintf("apply would notify %s of any send that %s", b.Name, strings.Join(maybe, " or ")))
		}
	}
	return out
}
