package command

import (
	"context"
	"errors"
	"strings"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/plankey"
	"github.com/heraldhq/herald/internal/shellquote"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/planner/mediacheck"
	"github.com/heraldhq/herald/spec"
)

func init() {
	register(&Command{
		Name:     "plan",
		Synopsis: "Show what apply would send, wait for or skip",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parsePlanFlags(env, args)
			if err != nil {
				return err
			}
			return runPlan(ctx, env, opts)
		},
	})
}

type planOptions struct {
	planFlags
	Out              string
	JSON             bool
	Markdown         bool
	DetailedExitCode bool
	GenerateImports  bool
	CheckMedia       bool
}

func parsePlanFlags(env *Env, args []string) (planOptions, error) {
	var opts planOptions
	fs := newFlagSet("plan", env)
	setUsage(fs, "[options]", `
Show what "herald apply" would do at the clock: which messages are due and
would be sent, which wait, which expired, drifted, are unknown or are no
longer configured. Plan needs no credentials and does not contact A1Base.

Plan reads a snapshot of the state and does not take the state lock, so it
never waits for a running apply; -lock-timeout is accepted, as in
Terraform, and has no effect here.

Exit codes: 0 success, 1 error. With -detailed-exitcode: 0 when nothing
would be sent, 2 when at least one message would be sent (or retried),
1 on error.`)
	opts.planFlags.addTo(fs)
	fs.StringVar(&opts.Out, "out", "", "Save the plan to `FILE`; \"herald apply FILE\" then sends exactly what it shows.")
	fs.BoolVar(&opts.JSON, "json", false, "Print the plan as one JSON object (format_version 1).")
	fs.BoolVar(&opts.Markdown, "markdown", false, "Print the plan as markdown for a pull-request comment.")
	fs.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "Exit 2 when at least one message would be sent, 0 when none.")
	fs.BoolVar(&opts.CheckMedia, "check-media", false, "Ask each media URL's host (a HEAD request, no credentials) for the file's size and content type, and refuse files the group's service would not take. Off by default.")
	fs.BoolVar(&opts.GenerateImports, "generate-imports", false, "Instead of the plan, print an import block for every due or overdue message that state does not know and its thread's recent messages already hold. Needs credentials: it reads the threads.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, usageError(fs, env, "plan takes no arguments, got %q; use -chdir=DIR for another directory", fs.Arg(0))
	}
	if opts.GenerateImports && (opts.JSON || opts.Markdown || opts.Out != "" || opts.DetailedExitCode) {
		return opts, usageError(fs, env, "-generate-imports prints import blocks, not a plan; it cannot be used with -json, -markdown, -out or -detailed-exitcode")
	}
	if opts.JSON && opts.Markdown {
		return opts, usageError(fs, env, "-json and -markdown cannot be used together")
	}
	return opts, nil
}

func (o *planOptions) format() views.PlanFormat {
	switch {
	case o.JSON:
		return views.PlanJSONFormat
	case o.Markdown:
		return views.PlanMarkdownFormat
	}
	return views.PlanHumanFormat
}

func runPlan(ctx context.Context, env *Env, opts planOptions) error {
	machine := opts.JSON || opts.Markdown || opts.GenerateImports
	v := newView(env, opts.NoColor || machine)
	// Diagnostics go beside the plan, never into a JSON or markdown
	// document someone pipes elsewhere.
	diagView := v
	if machine {
		dv := *v
		dv.Stdout, dv.StdoutColor = v.Stderr, v.StderrColor
		diagView = &dv
	}

	run, err := buildPlan(ctx, env, diagView, &opts.planFlags, nil)
	if err != nil {
		return err
	}
	defer run.Close()
	if opts.GenerateImports {
		return generateImports(ctx, env, v, run)
	}

	if opts.CheckMedia {
		client := a1base.New(a1base.Config{UserAgent: a1base.UserAgent(env.Version), HTTPClient: env.MediaClient})
		diags := mediacheck.Check(ctx, run.Plan, client.ProbeMedia)
		diagView.Diagnostics(diags, run.Config.Files)
		if diags.HasErrors() {
			return ErrReported
		}
	}

	next := applyHint(env, &opts.planFlags, run.Config)
	checkErrors := len(run.Plan.CheckErrors())
	if opts.Out != "" && checkErrors == 0 {
		var key []byte
		if run.Plan.NeedsKey() {
			if key, err = plankey.Load(env.Getenv, true); err != nil {
				return err
			}
		}
		if err := planner.WriteFile(env.Path(opts.Out), run.Plan, key); err != nil {
			return err
		}
		next.SavedTo = opts.Out
	}
	doc := views.NewPlanDocument(run.Plan)
	if run.Config != nil {
		doc.Notifications = notify.Preview(run.Config.Notify, run.Plan)
	}
	var repeats map[string]*spec.Repeat
	if run.Config != nil {
		repeats = run.Config.Repeats
	}
	if err := newPlanView(opts.format(), v, run.Plan, repeats).Plan(doc, next); err != nil {
		return err
	}
	if checkErrors > 0 {
		// The plan is shown, so that a pull request's comment says what
		// failed; the exit status says it failed.
		msg := (&planner.ChecksFailedError{Failed: run.Plan.CheckErrors()}).Summary() + "; apply would send nothing"
		if opts.Out != "" {
			msg += ", and the plan was not saved to " + opts.Out
		}
		return errors.New(msg)
	}
	if opts.DetailedExitCode && doc.Summary.Sends() > 0 {
		return &ExitError{Code: ExitChanges}
	}
	return nil
}

// applyHint is what the plan's closing hint repeats of the flags plan was
// given, so that the apply it suggests does what the plan showed: the same
// working directory, state, clock, variables and targets. A sensitive
// variable's value is not printed; the hint names the variable instead.
func applyHint(env *Env, f *planFlags, cfg *spec.Config) views.PlanNext {
	next := views.PlanNext{Apply: true, Chdir: env.Chdir}
	var common []string
	if f.StatePath != "" {
		common = append(common, shellquote.Flag("state", f.StatePath))
	}
	if f.AllowFileOutsideRoot {
		common = append(common, "-allow-file-outside-root")
	}
	// A saved plan fixes the clock and the targets, not the variables:
	// apply PLANFILE needs them again, and refuses other values.
	for _, v := range f.Vars {
		if v.File {
			common = append(common, shellquote.Flag("var-file", v.Value))
			continue
		}
		name, _, _ := strings.Cut(v.Value, "=")
		name = strings.TrimSpace(name)
		if cfg != nil && cfg.IsSensitiveVar(name) {
			common = append(common, shellquote.Flag("var", name+"="+views.Sensitive))
			next.HiddenVars = append(next.HiddenVars, name)
			continue
		}
		common = append(common, shellquote.Flag("var", v.Value))
	}
	next.SavedFlags = common
	next.ApplyFlags = append(next.ApplyFlags, common...)
	if f.At != "" {
		next.ApplyFlags = append(next.ApplyFlags, shellquote.Flag("at", f.At))
	}
	for _, t := range f.Targets {
		next.ApplyFlags = append(next.ApplyFlags, shellquote.Flag("target", t))
	}
	for _, x := range f.Exclude {
		next.ApplyFlags = append(next.ApplyFlags, shellquote.Flag("exclude", x))
	}
	return next
}

// newPlanView is views.NewPlan with the schedule the markdown form shows,
// laid out with what the plan's instances say of each group (rate limit,
// time zone) so that a saved plan renders as the plan it was made from.
// repeats are the configuration's repeat rules, which draw every
// occurrence within the span; nil for a saved plan, which holds none, so
// that its schedule draws the occurrences the plan considers and says so.
func newPlanView(format views.PlanFormat, v *views.View, p *planner.Plan, repeats map[string]*spec.Repeat) views.Plan {
	pv := views.NewPlan(format, v)
	if md, ok := pv.(*views.PlanMarkdown); ok {
		md.Schedule, _ = planner.NewSchedule(p, planner.ScheduleOptions{Groups: planner.ScheduleGroups(p), Repeats: repeats})
	}
	return pv
}
