package command

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base/webhook"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/daemon"
	"github.com/heraldhq/herald/daemon/service"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "run",
		Synopsis: "Keep running: send each message when it is due, until stopped",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseRunFlags(env, args)
			if err != nil {
				return err
			}
			return runRun(ctx, env, opts)
		},
	})
}

const (
	// DefaultPoll is the longest run sleeps before it reads the
	// configuration again.
	DefaultPoll = daemon.DefaultPoll
	// DefaultRunLockTimeout is how long each of run's passes waits for a
	// state lock someone else holds before it leaves the pass to the next
	// wake.
	DefaultRunLockTimeout = time.Minute
)

type runOptions struct {
	planFlags
	Poll        time.Duration
	Parallelism int
	MaxAttempts int
	JSON        bool
	Sandbox     bool
	Once        bool
	// Listen is the address of the health and metrics endpoints and of
	// the webhook receiver; empty for none.
	Listen string
	// Webhook configures the webhook receiver.
	Webhook daemon.WebhookOptions
}

func parseRunFlags(env *Env, args []string) (runOptions, error) {
	var opts runOptions
	fs := newFlagSet("run", env)
	setUsage(fs, "[options]", `
Keep running, for setups without CI: send each message when it falls due
and record it, as "herald apply -auto-approve" would at that moment, then
sleep until the next send_at or for -poll, whichever is sooner. The
configuration is read again at every wake, so a change merged into the
working directory takes effect at the next one; while it is invalid, the
errors are shown and nothing is sent until it is fixed.

On the local state file, run holds the state lock only while it sends: a
manual apply (or plan) can take it in between, and when another process
holds it at a wake, run says so and tries again at the next one. On the
PostgreSQL backend, any number of runs may share the state as replicas:
the one holding the lock is active, keeps the lock and sends; the others
stand by and take over within seconds when it dies or loses the database.
Run never asks for approval: starting it is the approval. It logs one line
per event, or one JSON object per line with -json; -listen serves /healthz,
/readyz and /metrics, and receives A1Base's webhook on POST /webhook: the
messages it reports are kept beside the state, so that a send whose answer
was lost is settled from them however busy its thread is.

Credentials come from A1BASE_API_KEY and A1BASE_API_SECRET only; with
-sandbox none are needed, messages go to an A1Base sandbox inside herald,
and the state is `+SandboxStatePath+` (or -state).

The first interrupt (Ctrl-C or SIGTERM) lets the sends in flight finish and
records them, saves the state, releases the lock and exits 0. A second one
cancels the sends in flight, which are then recorded as unknown (exit 130).

Exit codes: 0 on a stop by interrupt; 1 when the configuration or the state
is unusable at the start (or, with -once, on anything apply exits 1 for);
130 after a second interrupt.`)
	fs.DurationVar(&opts.Poll, "poll", DefaultPoll, "Read the configuration at least this often, as a `DURATION`, even when no message is due sooner.")
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: herald.state.json in the working directory.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	fs.Var(&opts.Targets, "target", "Only send the message `ADDR` (message.NAME or message.NAME[\"KEY\"]). Repeatable.")
	addExcludeFlag(fs, &opts.Exclude)
	fs.DurationVar(&opts.LockTimeout, "lock-timeout", DefaultRunLockTimeout, "How long each pass waits for a state lock held elsewhere, as a `DURATION`, before it tries again at the next wake.")
	fs.IntVar(&opts.Parallelism, "parallelism", executor.DefaultParallelism, "How many groups send at the same time, as a number `N`.")
	fs.IntVar(&opts.MaxAttempts, "max-attempts", executor.DefaultMaxAttempts, "How many requests one message may take in one pass, as a number `N`, before a 429 or 5xx is final for that pass.")
	fs.BoolVar(&opts.JSON, "json", false, "Log one JSON object per line, each with type, timestamp, level and msg.")
	fs.BoolVar(&opts.Sandbox, "sandbox", false, "Send to an in-process A1Base sandbox, with its own state file, instead of A1Base.")
	fs.BoolVar(&opts.Once, "once", false, "Make one pass, then exit (for cron and tests).")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.Listen, "listen", "", "Serve /healthz, /readyz, /metrics and the webhook receiver (POST /webhook) on `ADDR` (host:port).")
	fs.StringVar(&opts.Webhook.SignatureHeader, "webhook-signature-header", webhook.DefaultSignatureHeader, "The `HEADER` that carries a webhook event's HMAC-SHA256 signature (hex).")
	fs.StringVar(&opts.Webhook.TimestampHeader, "webhook-timestamp-header", webhook.DefaultTimestampHeader, "The `HEADER` that carries the Unix time a webhook event was signed at.")
	fs.DurationVar(&opts.Webhook.Window, "webhook-window", webhook.DefaultWindow, "Refuse a webhook event signed more than this `DURATION` before or after the clock (a replay).")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	switch {
	case fs.NArg() > 0:
		return opts, usageError(fs, env, "run takes no arguments, got %q", fs.Arg(0))
	case opts.Poll <= 0:
		return opts, usageError(fs, env, "-poll must be a positive duration, got %s", opts.Poll)
	case opts.LockTimeout < 0:
		return opts, usageError(fs, env, "-lock-timeout must not be negative, got %s", opts.LockTimeout)
	case opts.Parallelism < 1:
		return opts, usageError(fs, env, "-parallelism must be at least 1, got %d", opts.Parallelism)
	case opts.Webhook.Window <= 0:
		return opts, usageError(fs, env, "-webhook-window must be a positive duration, got %s", opts.Webhook.Window)
	case opts.MaxAttempts < 1:
		return opts, usageError(fs, env, "-max-attempts must be at least 1, got %d", opts.MaxAttempts)
	}
	return opts, nil
}

func runRun(ctx context.Context, env *Env, opts runOptions) error {
	v := newView(env, opts.NoColor || opts.JSON)
	format, diag := views.RunLinesFormat, v
	if opts.JSON {
		format = views.RunJSONFormat
		// Diagnostics stay out of the JSON log: the view prints them on
		// stderr, rendered for it.
		dv := *v
		dv.Stdout, dv.StdoutColor = v.Stderr, v.StderrColor
		diag = &dv
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	view := views.NewRun(format, v, now)
	notifier := newRunNotifier(env, &opts, view, now)
	defer notifier.close()
	o := daemon.Options{
		Poll: opts.Poll, Once: opts.Once, Listen: opts.Listen, Webhook: opts.Webhook,
		Replicas: !opts.Sandbox && !opts.Once && opts.StatePath == "",
		Accounts: accountsEnv(env),
		Load: func() (*daemon.Loaded, error) {
			return loadRunConfig(env, diag, &opts.planFlags)
		},
		OpenState: func(ctx context.Context, cfg *spec.Config) (state.Backend, error) {
			if opts.Sandbox {
				return state.OpenLocal(sandboxStatePath(env, opts.StatePath)), nil
			}
			return openBackend(ctx, env, cfg.Backend, opts.StatePath)
		},
		DescribeState: func(b state.Backend) string { return describeState(env, b) },
		Apply: func(ctx context.Context, p daemon.Pass) (daemon.PassResult, error) {
			return applyDue(ctx, env, &opts, view, now, p, notifier)
		},
		Events: runEvents{Run: view, n: notifier}, Now: now, Sleep: env.Sleep, Abort: env.Abort,
	}
	o.Webhook.Secrets = func(cfg *spec.Config) map[string]string { return accounts.WebhookSecrets(o.Accounts, cfg) }
	var saveThreads func() error
	if opts.Sandbox {
		o.Sandbox = accounts.NewSandbox(view.SandboxReceived, now)
		defer o.Sandbox.Close()
		o.Webhook.Secrets = o.Sandbox.WebhookSecrets
		threads := accounts.ThreadsPath(sandboxStatePath(env, opts.StatePath))
		if err := o.Sandbox.LoadHistory(threads); err != nil {
			return err
		}
		saveThreads = func() error { return o.Sandbox.SaveHistory(threads) }
	}
	if !opts.Once {
		// Delivery runs beside the passes, never in their way; it stops
		// with the run.
		nctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); notifier.loop(nctx) }()
		defer func() { stop(); wg.Wait() }()
	}
	err := daemon.Run(ctx, o)
	if opts.Once {
		// One pass, like apply: deliver what it recorded, within bounds.
		notifier.drain(ctx)
	}
	if saveThreads != nil {
		if serr := saveThreads(); serr != nil {
			if err == nil {
				return serr
			}
			newView(env, opts.NoColor).Error(serr)
		}
	}
	switch {
	case errors.Is(err, daemon.ErrAborted):
		return &ExitError{Code: ExitInterrupted}
	case errors.Is(err, daemon.ErrReported):
		return ErrReported
	}
	return err
}

// loadRunConfig reads the configuration for one of run's wakes, with its
// diagnostics rendered by diag into the result (or the
// *daemon.InvalidConfig), for the daemon to show when they change.
func loadRunConfig(env *Env, diag *views.View, flags *planFlags) (*daemon.Loaded, error) {
	var warn, errs bytes.Buffer
	cv := *diag
	cv.Stdout, cv.Stderr = &warn, &errs
	in, err := loadPlanInputs(env, &cv, flags, nil)
	if errors.Is(err, ErrReported) {
		return nil, &daemon.InvalidConfig{Warnings: warn.Bytes(), Errors: errs.Bytes()}
	}
	if err != nil {
		return nil, err
	}
	return &daemon.Loaded{
		Config: in.Config, Warnings: warn.Bytes(), Inputs: in,
		Plan: func(ctx context.Context, backend state.Backend) (*planner.Plan, error) {
			_, plan, err := in.PlanState(ctx, backend)
			return plan, err
		},
	}, nil
}

// applyDue makes the locked pass of one of run's wakes.
func applyDue(ctx context.Context, env *Env, opts *runOptions, view views.Run, now func() time.Time, p daemon.Pass, n *runNotifier) (daemon.PassResult, error) {
	op := operation.Op{
		Inputs: p.Loaded.Inputs, Client: p.Client, Accounts: p.Accounts, Backend: p.Backend,
		Name: "herald run", LockTimeout: opts.LockTimeout, KeepLock: p.KeepLock, Lock: p.Lock,
		Approver: operation.AutoApprove, Reporter: view, Hooks: service.Tee(view, p.Hooks),
		Parallelism: opts.Parallelism, MaxAttempts: opts.MaxAttempts, Limiters: p.Limiters, Inbox: p.Inbox,
		Clock: now, Sleep: env.Sleep, Abort: env.Abort,
	}
	out, err := operation.Apply(ctx, op)
	n.passed(ctx, p.Loaded.Config, out, newGroupSender(p.Loaded.Config, p.Client, p.Accounts, p.Limiters, now))
	res := daemon.PassResult{Plan: out.Plan, Executed: out.Executed, Summary: out.Result.Summary}
	if err != nil {
		interrupted := errors.Is(err, operation.ErrInterrupted)
		err = passError(env, opts.NoColor, out, err)
		res.Aborted = out.Result.Aborted
		res.StateNotSaved = interrupted && out.SaveErr != nil
	}
	return res, err
}
