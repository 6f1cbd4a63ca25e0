package executor

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// moveOf returns the move event a change needs: its record was found through
// a moved block and is still stored under the old address.
func moveOf(c *planner.Change) (state.Event, bool) {
	if c == nil || c.MovedFrom == nil || c.Record == nil || c.Instance == nil {
		return state.Event{}, false
	}
	to := c.Addr.String()
	if c.Record.Address == "" || c.Record.Address == to {
		return state.Event{}, false
	}
	return state.Event{Kind: state.EventMove, Message: state.Message{Address: to}, MovedFrom: c.Record.Address}, true
}

// PendingMoves counts the records the plan finds through moved blocks that
// state still holds under their old addresses.
func PendingMoves(plan *planner.Plan) int {
	n := 0
	if plan == nil {
		return 0
	}
	for _, c := range plan.Changes {
		if _, ok := moveOf(c); ok {
			n++
		}
	}
	return n
}

// RecordMoves stores each moved record under its new address, as Terraform
// applies moved blocks to state: once recorded, deleting the moved block no
// longer makes herald send the message again. It must run before anything
// else is recorded for those instances, so that attempts and outcomes join
// the moved record rather than start a new one. Recording a move twice
// changes nothing.
func RecordMoves(ctx context.Context, plan *planner.Plan, rec state.Recorder) error {
	if plan == nil {
		return nil
	}
	for _, c := range plan.Changes {
		e, ok := moveOf(c)
		if !ok {
			continue
		}
		e.At = c.Record.UpdatedAt
		if err := rec.Record(ctx, e); err != nil {
			return fmt.Errorf("recording that %s moved to %s: %w", e.MovedFrom, e.Address, err)
		}
	}
	return nil
}
