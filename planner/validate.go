package planner

import (
	"strings"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// UnmatchedError reports -target and -replace addresses that select
// nothing. New ignores such addresses; the CLI asks Validate first so that a
// typo is an error rather than a quietly empty plan.
type UnmatchedError struct {
	// Targets select no configured instance and no state record.
	Targets []addrs.Message
	// Replace select no configured instance (only a configured message can
	// be sent again).
	Replace []addrs.Message
	// OutsideTargets are -replace addresses that select instances, none of
	// which any -target selects: the plan would leave them out.
	OutsideTargets []addrs.Message
}

func (e *UnmatchedError) Error() string {
	var lines []string
	for _, a := range e.Targets {
		lines = append(lines, "-target="+a.String()+" matches no message in the configuration or the state")
	}
	for _, a := range e.Replace {
		lines = append(lines, "-replace="+a.String()+" matches no message in the configuration")
	}
	for _, a := range e.OutsideTargets {
		lines = append(lines, "-replace="+a.String()+" matches no message selected by -target")
	}
	return strings.Join(lines, "\n")
}

// Validate checks that every -target and -replace address of opts selects
// something. It returns nil or an *UnmatchedError.
func Validate(cfg *spec.Config, snap *state.Snapshot, opts Options) error {
	if len(opts.Targets) == 0 && len(opts.Replace) == 0 {
		return nil
	}
	var instances []*spec.Instance
	if cfg != nil {
		instances = cfg.Instances
	}
	var e UnmatchedError
	for _, t := range opts.Targets {
		if !anyInstance(instances, func(a addrs.Message) bool { return a.Contains(t) }) && !anyRecord(snap, t) {
			e.Targets = append(e.Targets, t)
		}
	}
	for _, r := range opts.Replace {
		switch {
		case !anyInstance(instances, func(a addrs.Message) bool { return a.Contains(r) }):
			e.Replace = append(e.Replace, r)
		case len(opts.Targets) > 0 && !anyInstance(instances, func(a addrs.Message) bool {
			return a.Contains(r) && selected(a, opts.Targets)
		}):
			e.OutsideTargets = append(e.OutsideTargets, r)
		}
	}
	if len(e.Targets)+len(e.Replace)+len(e.OutsideTargets) == 0 {
		return nil
	}
	return &e
}

func anyInstance(instances []*spec.Instance, ok func(addrs.Message) bool) bool {
	for _, inst := range instances {
		if inst != nil && ok(inst.Addr) {
			return true
		}
	}
	return false
}

func anyRecord(snap *state.Snapshot, t addrs.Message) bool {
	if snap == nil {
		return false
	}
	for key, rec := range snap.Records {
		if rec == nil {
			continue
		}
		if a, ok := parseAddr(key); ok && a.Contains(t) {
			return true
		}
	}
	return false
}
