package command

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "apply",
		Synopsis: "Send the messages that are due and record the results",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseApplyFlags(env, args)
			if err != nil {
				return err
			}
			return runApply(ctx, env, opts)
		},
	})
}

// SandboxStatePath is the state file of apply -sandbox when -state is not
// given, beside where the real state would be.
const SandboxStatePath = "herald.sandbox.state.json"

type applyOptions struct {
	planFlags
	Replace     stringList
	AutoApprove bool
	Parallelism int
	MaxAttempts int
	JSON        bool
	Sandbox     bool
	PlanFile    string
}

func parseApplyFlags(env *Env, args []string) (applyOptions, error) {
	var opts applyOptions
	fs := newFlagSet("apply", env)
	setUsage(fs, "[options] [PLANFILE]", `
Send the messages that are due, record expired ones, and record every
outcome in the state. Apply takes the state lock, plans against the state
it holds, shows the plan and asks for "yes" before sending (on a terminal;
without one it refuses unless -auto-approve is given). With PLANFILE, made
by "herald plan -out=FILE", it sends exactly that plan without asking, and
refuses it (sending nothing) when the configuration or the state changed
since it was made.

Credentials come from A1BASE_API_KEY and A1BASE_API_SECRET only, and the
account from the provider's account_id or A1BASE_ACCOUNT_ID. With -sandbox
none of them is needed: apply sends to an A1Base sandbox inside herald and
keeps its own state, `+SandboxStatePath+` in the working directory (or
-state if given), so the real state never records a sandbox send.

Groups send at once up to -parallelism; each group sends one message at a
time, in send_at order, within the provider's and the group's rate_limit.
A 429 or 5xx answer is retried with exponential backoff (never sooner than
Retry-After) up to -max-attempts requests per message.

The first interrupt (Ctrl-C or SIGTERM) starts no new sends, waits for the
ones in flight and records them; a second one cancels those in flight,
which are then recorded as unknown. Either way the state is saved and the
lock released.

Exit codes: 0 when everything attempted was delivered (or expired as
planned), 1 when a send failed or became unknown or on any error, 130 when
interrupted.`)
	opts.planFlags.addTo(fs)
	fs.Var(&opts.Replace, "replace", "Send the message `ADDR` again even though it was sent (or may have been). Repeatable.")
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "Send without asking for approval.")
	fs.IntVar(&opts.Parallelism, "parallelism", executor.DefaultParallelism, "How many groups send at the same time, as a number `N`.")
	fs.IntVar(&opts.MaxAttempts, "max-attempts", executor.DefaultMaxAttempts, "How many requests one message may take in one run, as a number `N`, before a 429 or 5xx is final.")
	fs.BoolVar(&opts.JSON, "json", false, "Stream one JSON object per line: the plan, each send and its outcome, retries, expiries and the summary. Needs -auto-approve or a plan file.")
	fs.BoolVar(&opts.Sandbox, "sandbox", false, "Send to an in-process A1Base sandbox, with its own state file, instead of A1Base.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 1:
		return opts, usageError(fs, env, "apply takes at most one plan file, got %d arguments", fs.NArg())
	case opts.Parallelism < 1:
		return opts, usageError(fs, env, "-parallelism must be at least 1, got %d", opts.Parallelism)
	case opts.MaxAttempts < 1:
		return opts, usageError(fs, env, "-max-attempts must be at least 1, got %d", opts.MaxAttempts)
	}
	opts.PlanFile = fs.Arg(0)
	if opts.PlanFile != "" {
		var bad []string
		for _, name := range []string{"target", "replace", "var", "var-file", "at"} {
			if set[name] {
				bad = append(bad, "-"+name)
			}
		}
		if len(bad) > 0 {
			return opts, usageError(fs, env, "%s cannot be used with a plan file, which already fixes what is sent; give them to \"herald plan -out\" instead", strings.Join(bad, ", "))
		}
	} else if opts.JSON && !opts.AutoApprove {
		return opts, usageError(fs, env, "-json needs -auto-approve or a plan file: the JSON stream has no room for a question")
	}
	return opts, nil
}

// applyRun is an apply in progress: what it sends with and to.
type applyRun struct {
	env      *Env
	opts     *applyOptions
	view     views.Apply
	inputs   *planInputs
	saved    *planner.SavedPlan
	client   executor.Sender
	accounts map[string]executor.Account
	backend  state.Backend
}

func runApply(ctx context.Context, env *Env, opts applyOptions) (err error) {
	v := newView(env, opts.NoColor || opts.JSON)
	diagView := v
	format := views.ApplyLinesFormat
	switch {
	case opts.JSON:
		format = views.ApplyJSONFormat
		// Diagnostics stay out of the JSON stream.
		dv := *v
		dv.Stdout, dv.StdoutColor = v.Stderr, v.StderrColor
		diagView = &dv
	case env.StderrIsTerminal:
		format = views.ApplyProgressFormat
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	r := &applyRun{env: env, opts: &opts, view: views.NewApply(format, v, now)}

	if opts.PlanFile != "" {
		if r.saved, err = planner.ReadFile(env.Path(opts.PlanFile)); err != nil {
			return err
		}
		// Repeat messages expand to the occurrences around the clock the
		// configuration is loaded at: load it at the plan's clock, or
		// Resolve would look for the occurrences of another moment.
		opts.planFlags.expandAt = r.saved.At
	}
	if r.inputs, err = loadPlanInputs(env, diagView, &opts.planFlags, opts.Replace); err != nil {
		return err
	}
	closeClient, err := r.connect()
	if err != nil {
		return err
	}
	defer closeClient()

	clock := now
	if opts.At != "" {
		// -at sets the clock the run starts at; it moves on from there,
		// so that expiry during a long run is still noticed.
		start := now()
		clock = func() time.Time { return r.inputs.At.Add(now().Sub(start)) }
	}
	pass := &applyPass{
		env: env, view: r.view, inputs: r.inputs, client: r.client, accounts: r.accounts, backend: r.backend,
		saved: r.saved, watch: true, operation: "herald apply",
		lockTimeout: opts.LockTimeout, parallelism: opts.Parallelism, maxAttempts: opts.MaxAttempts,
		clock: clock, noColor: opts.NoColor,
	}
	if !opts.AutoApprove && r.saved == nil {
		pass.approve = r.approve
	}
	out, err := pass.run(ctx)
	if err != nil {
		return err
	}
	if s := out.Result.Summary; s.Failed+s.Unknown > 0 || pass.importFailed {
		return ErrReported
	}
	return nil
}

// connect chooses the A1Base client and the state: the real ones, with
// credentials checked before anything is locked or sent, or the sandbox.
// The returned function stops the sandbox.
func (r *applyRun) connect() (func(), error) {
	cfg := r.inputs.Config
	if r.opts.Sandbox {
		sb := accounts.NewSandbox(r.view.SandboxReceived)
		set := sb.Connect(accountsEnv(r.env), cfg)
		r.client, r.accounts = set.Default, set.Aliased
		path := sandboxStatePath(r.env, r.opts.StatePath)
		r.backend = state.OpenLocal(path)
		r.view.Sandbox(sb.URL(), displayPath(r.env, path))
		return sb.Close, nil
	}

	set, err := accounts.Connect(accountsEnv(r.env), cfg, accounts.Due(cfg, r.inputs.At, r.saved))
	if err != nil {
		return nil, err
	}
	if set.Default != nil {
		r.client = set.Default
	}
	r.accounts = set.Aliased
	r.backend, err = openBackend(r.env, cfg, r.opts.StatePath)
	return func() {}, err
}

// approve asks for "yes" on a terminal and refuses at once without one:
// an apply in a pipeline must never hang on a question nobody sees.
func (r *applyRun) approve(ctx context.Context) error {
	if !r.env.StdinIsTerminal {
		return errors.New(`apply asks for approval before sending, and standard input is not a terminal; run "herald apply -auto-approve" to send without asking, or apply a plan saved with "herald plan -out=FILE"`)
	}
	r.view.Prompt()
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r.env.Stdin).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		return &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted: nothing was sent"), Report: true}
	case a := <-answer:
		if a != "yes" {
			r.view.Cancelled()
			return ErrReported
		}
	}
	return nil
}
