package command

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/a1basetest"
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

// sandboxAccount is the account id a sandbox run uses when none is
// configured.
const sandboxAccount = "sandbox"

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
	env     *Env
	opts    *applyOptions
	view    views.Apply
	inputs  *planInputs
	saved   *planner.SavedPlan
	client  executor.Sender
	backend state.Backend
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
		now = time.Now
	}
	r := &applyRun{env: env, opts: &opts, view: views.NewApply(format, v, now)}

	if opts.PlanFile != "" {
		path := opts.PlanFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(env.Dir, path)
		}
		if r.saved, err = planner.ReadFile(path); err != nil {
			return err
		}
	}
	if r.inputs, err = loadPlanInputs(env, diagView, &opts.planFlags, opts.Replace); err != nil {
		return err
	}
	if err := r.connect(); err != nil {
		return err
	}
	if closer, ok := r.client.(interface{ Close() }); ok {
		defer closer.Close()
	}

	if l, ok := r.backend.(interface{ SetOperation(string) }); ok {
		l.SetOperation("herald apply")
	}
	if err := r.backend.Lock(ctx, opts.LockTimeout); err != nil {
		r.backend.Close()
		return err
	}
	// From here on, whatever happens, the journal is folded into the
	// state file and the lock released.
	defer func() { err = r.release(ctx, err) }()

	// The first interrupt is acknowledged at once, not when the sends in
	// flight have finished.
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	go r.watchInterrupts(ctx, stopWatch)

	return r.apply(ctx, now)
}

// connect chooses the A1Base client and the state: the real ones, with
// credentials checked before anything is locked or sent, or the sandbox.
func (r *applyRun) connect() error {
	cfg := r.inputs.Config
	if r.opts.Sandbox {
		sensitive := map[string]bool{}
		for _, inst := range cfg.Instances {
			if inst != nil && inst.Sensitive {
				sensitive[inst.Content()] = true
				if inst.Media != nil {
					sensitive[inst.Media.URL] = true
				}
			}
		}
		srv := a1basetest.NewServer(a1basetest.WithOnReceive(func(rc a1basetest.Received) {
			req := rc.Request
			r.view.SandboxReceived(req, sensitive[req.Content] || (req.AttachmentURI != "" && sensitive[req.AttachmentURI]))
		}))
		account := cfg.Provider.AccountID
		if account == "" {
			account = sandboxAccount
		}
		r.client = &sandboxClient{
			Client: a1base.New(a1base.Config{
				BaseURL: srv.URL + "/v1", AccountID: account,
				APIKey: "sandbox", APISecret: "sandbox",
				UserAgent: a1base.UserAgent(r.env.Version), HTTPClient: srv.Client(),
			}),
			srv: srv,
		}
		path := statePath(r.env, r.opts.StatePath)
		if r.opts.StatePath == "" {
			path = filepath.Join(r.env.Dir, SandboxStatePath)
		}
		r.backend = state.OpenLocal(path)
		r.view.Sandbox(srv.URL+"/v1", displayPath(r.env, path))
		return nil
	}

	key, secret, err := a1base.CredentialsFromEnv(r.env.Getenv)
	if err != nil {
		return err
	}
	if cfg.Provider.AccountID == "" {
		return errors.New(`no A1Base account id: set account_id in the provider "a1base" block or the environment variable A1BASE_ACCOUNT_ID (or try the configuration with -sandbox, which needs none)`)
	}
	r.client = a1base.New(a1base.Config{
		BaseURL: cfg.Provider.BaseURL, AccountID: cfg.Provider.AccountID,
		APIKey: key, APISecret: secret, UserAgent: a1base.UserAgent(r.env.Version),
	})
	r.backend, err = openBackend(r.env, cfg, r.opts.StatePath)
	return err
}

// sandboxClient is the client of apply -sandbox, which owns its server.
type sandboxClient struct {
	*a1base.Client
	srv *a1basetest.Server
}

func (c *sandboxClient) Close() { c.srv.Close() }

// watchInterrupts tells the user that an interrupt was seen and what a
// second one does.
func (r *applyRun) watchInterrupts(ctx context.Context, stop <-chan struct{}) {
	select {
	case <-ctx.Done():
		r.view.Interrupting()
	case <-stop:
		return
	}
	select {
	case <-r.env.Abort:
		r.view.Aborting()
	case <-stop:
	}
}

// release folds the journal into the state file and releases the lock,
// and turns a failure to do so into the command's error.
func (r *applyRun) release(ctx context.Context, err error) error {
	// The state must be saved even when ctx was cancelled by an interrupt.
	perr := r.backend.Persist(context.WithoutCancel(ctx))
	uerr := r.backend.Unlock()
	cerr := r.backend.Close()
	if perr != nil {
		perr = fmt.Errorf("saving state %s: %w; every recorded send is kept in its journal, and the next herald run reads it", r.backend.Describe(), perr)
	}
	if uerr != nil {
		uerr = fmt.Errorf("releasing the state lock of %s: %w", r.backend.Describe(), uerr)
	}
	if errors.Is(perr, state.ErrNotLocked) {
		perr = nil
	}
	serr := errors.Join(perr, uerr, cerr)
	if serr == nil {
		return err
	}
	if err == nil || ExitCode(err) == ExitOK {
		return serr
	}
	// The command's own outcome stands (an interrupt stays 130); the
	// storage error is still shown.
	newView(r.env, r.opts.NoColor).Error(serr)
	return err
}

func (r *applyRun) apply(ctx context.Context, now func() time.Time) error {
	plan, err := r.plan(ctx)
	if err != nil {
		return err
	}
	if err := r.view.Plan(views.NewPlanDocument(plan)); err != nil {
		return err
	}
	counts := plan.Summary()
	actionable := counts[planner.Send] + counts[planner.Retry] + counts[planner.Expire]
	unknowns := 0
	for _, c := range plan.Changes {
		if c.Action == planner.Unknown && c.Instance != nil {
			unknowns++
		}
	}
	if actionable == 0 && unknowns == 0 {
		r.view.NothingToDo()
		return nil
	}
	if actionable > 0 && !r.opts.AutoApprove && r.saved == nil {
		if err := r.approve(ctx); err != nil {
			return err
		}
	}

	// Looking unknown messages up sends nothing, so it needs no approval.
	if unknowns > 0 {
		resolved, err := executor.Reconcile(ctx, plan, r.client, r.backend, r.view)
		if err != nil {
			return r.interrupted(ctx, err, views.ApplyResult{})
		}
		if len(resolved) > 0 && r.saved == nil {
			if _, plan, err = r.inputs.plan(ctx, r.backend); err != nil {
				return err
			}
		}
	}
	if actionable == 0 {
		r.view.NothingToDo()
		return nil
	}

	clock := now
	if r.opts.At != "" {
		// -at sets the clock the run starts at; it moves on from there,
		// so that expiry during a long run is still noticed.
		start := now()
		clock = func() time.Time { return r.inputs.At.Add(now().Sub(start)) }
	}
	cfg := r.inputs.Config
	sum, err := executor.Run(ctx, plan, r.client, r.backend, executor.Options{
		Parallelism:  r.opts.Parallelism,
		MaxAttempts:  r.opts.MaxAttempts,
		AccountLimit: cfg.Provider.RateLimit,
		CheckMedia:   cfg.Provider.CheckMedia,
		Now:          clock,
		Abort:        r.env.Abort,
	}, r.view)
	res := views.ApplyResult{Summary: sum}
	if err != nil {
		return r.interrupted(ctx, err, res)
	}
	r.view.Result(res)
	if sum.Failed+sum.Unknown > 0 {
		return ErrReported
	}
	return nil
}

// plan makes the plan to carry out, from the state read under the lock:
// afresh, or the saved plan once it is checked against that state.
func (r *applyRun) plan(ctx context.Context) (*planner.Plan, error) {
	if r.saved == nil {
		_, plan, err := r.inputs.plan(ctx, r.backend)
		return plan, err
	}
	snap, err := r.backend.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", r.backend.Describe(), err)
	}
	if snap.Serial == 0 && len(snap.Records) == 0 && r.saved.Serial == 0 {
		// Neither the plan nor this apply found a state file: a state
		// that does not exist yet has no lineage of its own (each read
		// makes one up), and nothing can have changed in between.
		snap.Lineage = r.saved.Lineage
	}
	if err := r.saved.Check(r.inputs.Config, snap); err != nil {
		return nil, fmt.Errorf("%w; nothing was sent", err)
	}
	plan, err := r.saved.Resolve(r.inputs.Config)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was sent", err)
	}
	return plan, nil
}

// interrupted reports how a run that stopped early ended: an interrupt
// (exit 130, with what was left), or another error.
func (r *applyRun) interrupted(ctx context.Context, err error, res views.ApplyResult) error {
	switch {
	case errors.Is(err, executor.ErrAborted):
		res.Aborted = true
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		res.Interrupted = true
	default:
		if res.Summary.Attempts > 0 || res.Summary.Sent+res.Summary.Expired > 0 {
			r.view.Result(res)
		}
		return err
	}
	r.view.Result(res)
	return &ExitError{Code: ExitInterrupted}
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
