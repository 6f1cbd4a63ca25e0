package operation

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Inputs is what a plan is made from besides the state: the loaded
// configuration, the clock and the -target and -replace selections.
type Inputs struct {
	At      time.Time
	Options planner.Options
	Config  *spec.Config
}

// PlanState reads a snapshot of backend and plans against it. A pass calls
// it with the lock held, so that the snapshot is the state it will change.
func (in *Inputs) PlanState(ctx context.Context, backend state.Backend) (*state.Snapshot, *planner.Plan, error) {
	snap, err := backend.Snapshot(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading state %s: %w", backend.Describe(), err)
	}
	plan, err := in.Plan(snap)
	if err != nil {
		return nil, nil, err
	}
	return snap, plan, nil
}

// Plan plans against a snapshot already read.
func (in *Inputs) Plan(snap *state.Snapshot) (*planner.Plan, error) {
	// New ignores addresses that select nothing; a typo must not become a
	// quietly empty plan.
	if err := planner.Validate(in.Config, snap, in.Options); err != nil {
		return nil, err
	}
	return planner.New(in.Config, snap, in.At, in.Options), nil
}
