package operation

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/internal/shellquote"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Import is one message to record as already sent, without sending it
// (herald import).
type Import struct {
	Addr addrs.Message
	// ID, when set, is the A1Base id of the thread message to match.
	ID string
	// Force records the message as sent without evidence when its thread
	// shows no matching message.
	Force bool
}

// CheckImportable checks that addr names one message instance of cfg.
func CheckImportable(cfg *spec.Config, addr addrs.Message) error {
	for _, inst := range cfg.Instances {
		if inst.Addr.Equal(addr) {
			return nil
		}
	}
	hint := ""
	for _, inst := range cfg.Instances {
		if inst.Addr.Block().Equal(addr.Block()) {
			hint = fmt.Sprintf("; %s has instances such as %s", addr.Block(), inst.Addr)
			break
		}
	}
	if _, ok := cfg.Repeats[spec.RepeatKey(addr)]; ok && hint == "" {
		hint = "; an occurrence of a repeat message is only known near its time: give -at=TIME"
	}
	return fmt.Errorf("%s matches no message in the configuration%s", addr, hint)
}

// importOne is the pass of an Op.Import under the lock: refused when state
// already has a record for the message (under its address or through a
// moved block). What became of it is out.Imported; the Reporter is not
// told, so that the caller reports it once the state is saved.
func (p *pass) importOne(ctx context.Context, out *Outcome) error {
	im := p.Import
	snap, err := p.Backend.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", p.Backend.Describe(), err)
	}
	p.stateRead = true
	in := p.Inputs
	plan := planner.New(in.Config, snap, in.At, planner.Options{Targets: []addrs.Message{im.Addr}})
	var change *planner.Change
	for _, c := range plan.Changes {
		if c.Addr.Equal(im.Addr) && c.Instance != nil {
			change = c
		}
	}
	if change == nil {
		return fmt.Errorf("%s matches no message in the configuration", im.Addr)
	}
	if change.Record != nil {
		where := ""
		if change.MovedFrom != nil {
			where = " (under " + change.MovedFrom.String() + ", moved)"
		}
		return fmt.Errorf("%s is already in state%s as %s; herald state show %s shows its record, and an import is only for what state does not know", im.Addr, where, change.Record.Status, shellquote.Quote(im.Addr.String()))
	}
	one := *change
	one.Action, one.ImportID = planner.Import, im.ID
	out.Plan = &planner.Plan{At: plan.At, Changes: []*planner.Change{&one}}
	if err := p.Approver.Approve(ctx, out.Plan); err != nil {
		return err
	}
	results, err := executor.Import(ctx, out.Plan, p.Client, p.Backend, snap, executor.ImportOptions{Force: im.Force, Now: p.Clock, Accounts: p.Accounts})
	if err != nil {
		return err
	}
	out.Imported = &results[0]
	out.ImportFailed = !results[0].Recorded
	return nil
}
