package command

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "show",
		Synopsis: "Show a saved plan, or the state",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseShowFlags(env, args)
			if err != nil {
				return err
			}
			return runShow(ctx, env, opts)
		},
	})
}

type showOptions struct {
	PlanFile  string
	StatePath string
	JSON      bool
	Markdown  bool
	NoColor   bool

	// Schedule draws the sends on a time axis; At, Days, Vars, Targets
	// and Exclude only apply to it.
	Schedule bool
	At       string
	Days     int
	Vars     []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	Targets              stringList
	Exclude              stringList
}

func parseShowFlags(env *Env, args []string) (showOptions, error) {
	var opts showOptions
	fs := newFlagSet("show", env)
	setUsage(fs, "[options] [PLANFILE]", `
With a plan file (made by "herald plan -out=FILE"), show that plan the way
"herald plan" showed it; "show -json PLANFILE" prints the same document as
"plan -json". Without one, show the state: its lineage and serial, and one
line per recorded message. Show reads the local state file and takes no lock.

With -schedule, draw the sends of the next days per group on a time axis,
one row per group and a column per hour (up to 2 days) or per day: a count
where sends land, "=" where state records a send, and "!" where a send lands
at night (22:00-07:00) or comes within a minute of another to the group, or
faster than the group's rate_limit allows. Like "herald plan", it reads the
configuration and the state at the -at clock; with a PLANFILE it draws that
plan at the plan's clock.`)
	fs.BoolVar(&opts.JSON, "json", false, "Print one JSON object: the plan document, or the state.")
	fs.BoolVar(&opts.Markdown, "markdown", false, "Print a saved plan as markdown for a pull-request comment.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	fs.BoolVar(&opts.Schedule, "schedule", false, "Draw the sends to come per group on a time axis.")
	fs.IntVar(&opts.Days, "days", 0, "With -schedule: draw `N` days from the start of today (UTC). Default: the shortest of 1, 2, 7, 14 or 28 days that shows every send to come.")
	fs.StringVar(&opts.At, "at", "", "With -schedule: plan as if the clock read `RFC3339`. Default: now.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	fs.Var(&opts.Targets, "target", "With -schedule: only draw the message `ADDR`. Repeatable.")
	fs.Var(&opts.Exclude, "exclude", "With -schedule: leave out the message `ADDR`. Repeatable.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if !opts.Schedule {
		var only []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "days", "at", "var", "var-file", "target", "exclude":
				only = append(only, "-"+f.Name)
			}
		})
		if len(only) > 0 {
			verb := "applies"
			if len(only) > 1 {
				verb = "apply"
			}
			return opts, usageError(fs, env, "%s %s only with -schedule", strings.Join(only, ", "), verb)
		}
	}
	switch {
	case fs.NArg() > 1:
		return opts, usageError(fs, env, "show takes at most one plan file, got %d arguments", fs.NArg())
	case opts.JSON && opts.Markdown:
		return opts, usageError(fs, env, "-json and -markdown cannot be used together")
	}
	opts.PlanFile = fs.Arg(0)
	if opts.Schedule {
		switch {
		case opts.JSON || opts.Markdown:
			return opts, usageError(fs, env, "-schedule draws text; \"herald plan -markdown\" includes the same schedule")
		case opts.Days < 0 || opts.Days > planner.MaxScheduleDays:
			return opts, usageError(fs, env, "-days=%d: expected a number of days from 1 to %d", opts.Days, planner.MaxScheduleDays)
		case opts.PlanFile != "" && (opts.At != "" || len(opts.Vars) > 0 || len(opts.Targets) > 0 || len(opts.Exclude) > 0):
			return opts, usageError(fs, env, "a plan file holds its own clock, variables and targets; -at, -var, -var-file, -target and -exclude do not apply to it")
		}
	}
	if opts.Markdown && opts.PlanFile == "" {
		return opts, usageError(fs, env, "-markdown renders a plan file; name one")
	}
	if opts.PlanFile != "" && opts.StatePath != "" {
		return opts, usageError(fs, env, "-state does not apply to a plan file, which holds what it needs")
	}
	return opts, nil
}

func runShow(ctx context.Context, env *Env, opts showOptions) error {
	format := views.PlanHumanFormat
	switch {
	case opts.JSON:
		format = views.PlanJSONFormat
	case opts.Markdown:
		format = views.PlanMarkdownFormat
	}
	if opts.Schedule {
		return runShowSchedule(ctx, env, opts)
	}
	view := views.NewShow(format, newView(env, opts.NoColor || opts.JSON || opts.Markdown))

	if opts.PlanFile != "" {
		saved, err := planner.ReadFile(env.Path(opts.PlanFile))
		if err != nil {
			return err
		}
		p := saved.Plan()
		return newPlanView(format, newView(env, opts.NoColor || opts.JSON || opts.Markdown), p, nil).Plan(views.NewPlanDocument(p), views.PlanNext{})
	}

	backend, where, err := openStateForRead(ctx, env, newView(env, opts.NoColor), opts.StatePath, opts.Vars, opts.AllowFileOutsideRoot)
	if err != nil {
		return err
	}
	defer backend.Close()
	snap, err := backend.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", where, err)
	}
	if snap.Serial == 0 && len(snap.Records) == 0 {
		// No state yet: the lineage a missing file reads with is made up
		// on the spot and would differ on every run.
		snap = nil
	}
	return view.State(views.NewStateDocument(where, snap))
}

// runShowSchedule draws the schedule of a saved plan, or of the plan the
// configuration and state make at the clock, as "herald plan" would.
func runShowSchedule(ctx context.Context, env *Env, opts showOptions) error {
	v := newView(env, opts.NoColor)
	var p *planner.Plan
	schedOpts := planner.ScheduleOptions{Days: opts.Days}
	if opts.PlanFile != "" {
		saved, err := planner.ReadFile(env.Path(opts.PlanFile))
		if err != nil {
			return err
		}
		p = saved.Plan()
		schedOpts.Groups = planner.ScheduleGroups(p)
	} else {
		flags := planFlags{At: opts.At, StatePath: opts.StatePath, Vars: opts.Vars, AllowFileOutsideRoot: opts.AllowFileOutsideRoot, Targets: opts.Targets, Exclude: opts.Exclude, NoColor: opts.NoColor}
		run, err := buildPlan(ctx, env, v, &flags, nil)
		if err != nil {
			return err
		}
		defer run.Close()
		p = run.Plan
		schedOpts.Groups = planner.ConfigScheduleGroups(run.Config)
		schedOpts.Repeats = run.Config.Repeats
	}
	sched, err := planner.NewSchedule(p, schedOpts)
	if err != nil {
		return err
	}
	return v.Schedule(sched)
}

// displayPath shows a path under the working directory relative to it, as
// the user would write it.
func displayPath(env *Env, p string) string {
	if rel, err := filepath.Rel(env.Dir, p); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return p
}
