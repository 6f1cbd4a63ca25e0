package command

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// planFlags are the flags plan and apply share (CONTRACT §3).
type planFlags struct {
	// At is -at as given; empty means the environment's clock.
	At        string
	StatePath string
	Vars      []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	Targets              stringList
	// Exclude is -exclude: addresses left out of the plan.
	Exclude     stringList
	LockTimeout time.Duration
	NoColor     bool

	// expandAt, when set, is the clock the configuration is loaded at
	// instead of the plan's: apply with a plan file sets it to the saved
	// plan's At, because repeat messages expand to the occurrences around
	// the load clock and Resolve must find the ones the plan lists.
	expandAt time.Time
}

// addTo registers the shared flags on fs.
func (f *planFlags) addTo(fs *flag.FlagSet) {
	fs.StringVar(&f.At, "at", "", "Plan as if the clock read `RFC3339` (e.g. 2026-12-01T09:00:00Z). Default: now.")
	fs.StringVar(&f.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	addVarFlags(fs, &f.Vars)
	addFileFlag(fs, &f.AllowFileOutsideRoot)
	fs.Var(&f.Targets, "target", "Only consider the message `ADDR` (message.NAME or message.NAME[\"KEY\"]). Repeatable.")
	addExcludeFlag(fs, &f.Exclude)
	fs.DurationVar(&f.LockTimeout, "lock-timeout", 0, "How long to wait for the state lock, as a `DURATION` (e.g. 30s).")
	fs.BoolVar(&f.NoColor, "no-color", false, "Print no colour codes.")
}

// clock reads -at, or the environment's clock when it is not given.
func (f *planFlags) clock(env *Env) (time.Time, error) {
	if f.At == "" {
		if env.Now == nil {
			return clock.Now(), nil
		}
		return env.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, f.At)
	if err != nil {
		return time.Time{}, fmt.Errorf("-at=%s: expected an RFC 3339 time with an offset, such as 2026-12-01T09:00:00Z", f.At)
	}
	return t, nil
}

// statePath is the local state file: -state, relative to the working
// directory, or the default file there.
func statePath(env *Env, flagValue string) string {
	if flagValue == "" {
		return env.Path(state.DefaultPath)
	}
	return env.Path(flagValue)
}

// addExcludeFlag registers -exclude, the inverse of -target.
func addExcludeFlag(fs *flag.FlagSet, list *stringList) {
	fs.Var(list, "exclude", "Leave out the message `ADDR` (message.NAME or message.NAME[\"KEY\"]), even when -target selects it. Repeatable.")
}

// parseAddrs reads -target, -exclude or -replace values; a bad address is an error
// naming the flag.
func parseAddrs(flagName string, values []string) ([]addrs.Message, error) {
	out := make([]addrs.Message, 0, len(values))
	for _, v := range values {
		a, err := addrs.ParseSelection(v)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", flagName, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// builtPlan is a plan made for plan, show and plan -generate-imports to
// render, with what it was made from.
type builtPlan struct {
	Config  *spec.Config
	Backend state.Backend
	Snap    *state.Snapshot
	Plan    *planner.Plan
}

// Close releases the state backend.
func (r *builtPlan) Close() error {
	if r == nil || r.Backend == nil {
		return nil
	}
	return r.Backend.Close()
}

// openStateForRead opens the state for a command that reads only the state
// (show), and names it for messages.
func openStateForRead(ctx context.Context, env *Env, v *views.View, stateFlag string, vars []spec.VarArg, allowOutside bool) (state.Backend, string, error) {
	b, err := openStateOnly(ctx, env, v, stateFlag, vars, allowOutside)
	if err != nil {
		return nil, "", err
	}
	return b, describeState(env, b), nil
}

// loadPlanInputs reads the clock and the address flags and loads the
// configuration. Configuration diagnostics are printed on v (warnings too);
// an error return after they were printed is ErrReported. replace is
// apply's -replace, nil for plan.
func loadPlanInputs(env *Env, v *views.View, f *planFlags, replace []string) (*operation.Inputs, error) {
	at, err := f.clock(env)
	if err != nil {
		return nil, err
	}
	targets, err := parseAddrs("target", f.Targets)
	if err != nil {
		return nil, err
	}
	excludes, err := parseAddrs("exclude", f.Exclude)
	if err != nil {
		return nil, err
	}
	replaces, err := parseAddrs("replace", replace)
	if err != nil {
		return nil, err
	}
	// Repeat messages expand to the occurrences a plan at this clock
	// considers (spec.LoadOptions.At).
	loadAt := at
	if !f.expandAt.IsZero() {
		loadAt = f.expandAt
	}
	cfg, diags := spec.Load(env.Dir, spec.LoadOptions{Vars: f.Vars, Getenv: env.Getenv, At: loadAt, AllowFileOutsideRoot: f.AllowFileOutsideRoot})
	v.Diagnostics(diags, cfg.Files)
	if diags.HasErrors() {
		return nil, ErrReported
	}
	return &operation.Inputs{At: at, Options: planner.Options{Targets: targets, Exclude: excludes, Replace: replaces}, Config: cfg}, nil
}

// localAhead is a snapshot of the local state file, read while the
// configuration loads. The two do not depend on each other unless the
// configuration has a backend block, and a large state takes about as long
// to read as its configuration takes to evaluate; where state lives
// elsewhere, the read is simply not used.
type localAhead struct {
	backend *state.Local
	done    chan struct{} // closed when snap and err are set
	snap    *state.Snapshot
	err     error
}

// readLocalAhead starts reading the local state file -state names (or the
// default one), without the lock, as a plan reads it.
func readLocalAhead(ctx context.Context, env *Env, stateFlag string) *localAhead {
	a := &localAhead{backend: state.OpenLocal(statePath(env, stateFlag)), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.snap, a.err = a.backend.Snapshot(ctx)
	}()
	return a
}

// buildPlan loads the configuration, reads a snapshot of the state (without
// the lock: a plan only reads) and plans at the -at clock. Configuration
// diagnostics are printed on v (warnings too); an error return after they
// were printed is ErrReported. On success the caller closes the run.
func buildPlan(ctx context.Context, env *Env, v *views.View, f *planFlags, replace []string) (*builtPlan, error) {
	ahead := readLocalAhead(ctx, env, f.StatePath)
	in, err := loadPlanInputs(env, v, f, replace)
	if err != nil {
		return nil, err
	}
	if in.Config != nil && in.Config.Backend != nil {
		backend, err := openBackend(ctx, env, in.Config.Backend, f.StatePath)
		if err != nil {
			return nil, err
		}
		snap, plan, err := in.PlanState(ctx, backend)
		if err != nil {
			backend.Close()
			return nil, err
		}
		return &builtPlan{Config: in.Config, Backend: backend, Snap: snap, Plan: plan}, nil
	}
	// The local file: what openBackend opens for a configuration without
	// a backend block.
	<-ahead.done
	backend := ahead.backend
	if ahead.err != nil {
		backend.Close()
		return nil, fmt.Errorf("reading state %s: %w", backend.Describe(), ahead.err)
	}
	plan, err := in.Plan(ahead.snap)
	if err != nil {
		backend.Close()
		return nil, err
	}
	return &builtPlan{Config: in.Config, Backend: backend, Snap: ahead.snap, Plan: plan}, nil
}
