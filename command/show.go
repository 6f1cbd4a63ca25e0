package command

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/planner"
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
}

func parseShowFlags(env *Env, args []string) (showOptions, error) {
	var opts showOptions
	fs := newFlagSet("show", env)
	setUsage(fs, "[options] [PLANFILE]", `
With a plan file (made by "herald plan -out=FILE"), show that plan the way
"herald plan" showed it; "show -json PLANFILE" prints the same document as
"plan -json". Without one, show the state: its lineage and serial, and one
line per recorded message. Show reads the local state file and takes no lock.`)
	fs.BoolVar(&opts.JSON, "json", false, "Print one JSON object: the plan document, or the state.")
	fs.BoolVar(&opts.Markdown, "markdown", false, "Print a saved plan as markdown for a pull-request comment.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	switch {
	case fs.NArg() > 1:
		return opts, usageError(fs, env, "show takes at most one plan file, got %d arguments", fs.NArg())
	case opts.JSON && opts.Markdown:
		return opts, usageError(fs, env, "-json and -markdown cannot be used together")
	}
	opts.PlanFile = fs.Arg(0)
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
	view := views.NewShow(format, newView(env, opts.NoColor || opts.JSON || opts.Markdown))

	if opts.PlanFile != "" {
		path := opts.PlanFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(env.Dir, path)
		}
		saved, err := planner.ReadFile(path)
		if err != nil {
			return err
		}
		return view.Plan(views.NewPlanDocument(saved.Plan()), views.PlanNext{})
	}

	path := statePath(env, opts.StatePath)
	where := displayPath(env, path)
	backend := state.OpenLocal(path)
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

// displayPath shows a path under the working directory relative to it, as
// the user would write it.
func displayPath(env *Env, p string) string {
	if rel, err := filepath.Rel(env.Dir, p); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return p
}
