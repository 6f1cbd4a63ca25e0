package planner

import (
	"strings"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// UnmatchedError reports -target, -exclude and -replace addresses that
// select nothing. New ignores such addresses; the CLI asks Validate first so
// that a typo is an error rather than a quietly empty (or quietly whole)
// plan.
type UnmatchedError struct {
	// Targets select no configured instance and no state record.
	Targets []addrs.Message
	// Exclude select no configured instance and no state record.
	Exclude []addrs.Message
	// ExcludeOutsideTargets are -exclude addresses that select instances
	// or records, none of which any -target selects: they leave out
	// nothing.
	ExcludeOutsideTargets []addrs.Message
	// Replace select no configured instance (only a configured message can
	// be sent again).
	Replace []addrs.Message
	// OutsideTargets are -replace addresses that select instances, none of
	// which any -target selects: the plan would leave them out.
	OutsideTargets []addrs.Message
	// ReplaceExcluded are -replace addresses whose instances (those -target
	// selects, when given) -exclude all leaves out.
	ReplaceExcluded []addrs.Message
}

func (e *UnmatchedError) Error() string {
	var lines []string
	for _, a := range e.Targets {
		lines = append(lines, "-target="+a.String()+" matches no message in the configuration or the state")
	}
	for _, a := range e.Exclude {
		lines = append(lines, "-exclude="+a.String()+" matches no message in the configuration or the state")
	}
	for _, a := range e.ExcludeOutsideTargets {
		lines = append(lines, "-exclude="+a.String()+" matches no message selected by -target")
	}
	for _, a := range e.Replace {
		lines = append(lines, "-replace="+a.String()+" matches no message in the configuration")
	}
	for _, a := range e.OutsideTargets {
		lines = append(lines, "-replace="+a.String()+" matches no message selected by -target")
	}
	for _, a := range e.ReplaceExcluded {
		lines = append(lines, "-replace="+a.String()+" matches only messages that -exclude leaves out")
	}
	return strings.Join(lines, "\n")
}

// Validate checks that every -target, -exclude and -replace address of opts
// selects something the plan would otherwise hold. It returns nil or an
// *UnmatchedError.
func Validate(cfg *spec.Config, snap *state.Snapshot, opts Options) error {
	if len(opts.Targets) == 0 && len(opts.Exclude) == 0 && len(opts.Replace) == 0 {
		return nil
	}
	var instances []*spec.Instance
	if cfg != nil {
		instances = cfg.Instances
	}
	targeted := func(a addrs.Message) bool { return len(opts.Targets) == 0 || selected(a, opts.Targets) }
	var e UnmatchedError
	for _, t := range opts.Targets {
		in := func(a addrs.Message) bool { return a.Contains(t) }
		if !anyInstance(instances, in) && !anyRecord(snap, in) {
			e.Targets = append(e.Targets, t)
		}
	}
	for _, x := range opts.Exclude {
		in := func(a addrs.Message) bool { return a.Contains(x) }
		inTargets := func(a addrs.Message) bool { return a.Contains(x) && targeted(a) }
		switch {
		case !anyInstance(instances, in) && !anyRecord(snap, in):
			e.Exclude = append(e.Exclude, x)
		case !anyInstance(instances, inTargets) && !anyRecord(snap, inTargets):
			e.ExcludeOutsideTargets = append(e.ExcludeOutsideTargets, x)
		}
	}
	for _, r := range opts.Replace {
		switch {
		case !anyInstance(instances, func(a addrs.Message) bool { return a.Contains(r) }):
			e.Replace = append(e.Replace, r)
		case !anyInstance(instances, func(a addrs.Message) bool { return a.Contains(r) && targeted(a) }):
			e.OutsideTargets = append(e.OutsideTargets, r)
		case len(opts.Exclude) > 0 && !anyInstance(instances, func(a addrs.Message) bool {
			return a.Contains(r) && targeted(a) && !selected(a, opts.Exclude)
		}):
			e.ReplaceExcluded = append(e.ReplaceExcluded, r)
		}
	}
	if len(e.Targets)+len(e.Exclude)+len(e.ExcludeOutsideTargets)+len(e.Replace)+len(e.OutsideTargets)+len(e.ReplaceExcluded) == 0 {
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

func anyRecord(snap *state.Snapshot, ok func(addrs.Message) bool) bool {
	if snap == nil {
		return false
	}
	for key, rec := range snap.Records {
		if rec == nil {
			continue
		}
		if a, ok2 := parseAddr(key); ok2 && ok(a) {
			return true
		}
	}
	return false
}
