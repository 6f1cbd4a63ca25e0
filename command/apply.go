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

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/internal/plankey"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
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

// sandboxStatePath is the state file of -sandbox: -state if given, else
// SandboxStatePath in the working directory, never the real state.
func sandboxStatePath(env *Env, stateFlag string) string {
	if stateFlag == "" {
		return filepath.Join(env.Dir, SandboxStatePath)
	}
	return statePath(env, stateFlag)
}

type applyOptions struct {
	planFlags
	Replace     stringList
	AutoApprove bool
	Parallelism int
	MaxAttempts int
	JSON        bool
	Sandbox     bool
	PlanFile    string
	// NotifyTimeout bounds the delivery of notifications after the sends.
	NotifyTimeout time.Duration
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
since it was made. The variables the plan was made with are given again
(-var, -var-file or HERALD_VAR_name), and the plan is refused unless their
values are the same.

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
	fs.DurationVar(&opts.NotifyTimeout, "notify-timeout", DefaultNotifyTimeout, "How long to spend delivering notifications after the sends, as a duration `DUR`; what is not delivered by then waits in the outbox for the next apply or run. 0 records them without delivering.")
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
	case opts.NotifyTimeout < 0:
		return opts, usageError(fs, env, "-notify-timeout must not be negative, got %s", opts.NotifyTimeout)
	}
	opts.PlanFile = fs.Arg(0)
	if opts.PlanFile != "" {
		var bad []string
		for _, name := range []string{"target", "exclude", "replace", "at"} {
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
	view := views.NewApply(format, v, now)

	var saved *planner.SavedPlan
	if opts.PlanFile != "" {
		if saved, err = planner.ReadFile(env.Path(opts.PlanFile)); err != nil {
			return err
		}
		// Repeat messages expand to the occurrences around the clock the
		// configuration is loaded at: load it at the plan's clock, or
		// Resolve would look for the occurrences of another moment.
		opts.planFlags.expandAt = saved.At
	}
	in, err := loadPlanInputs(env, diagView, &opts.planFlags, opts.Replace)
	if err != nil {
		return err
	}
	clock := now
	if opts.At != "" {
		// -at sets the clock the run starts at; it moves on from there,
		// so that expiry during a long run is still noticed.
		start := now()
		clock = func() time.Time { return in.At.Add(now().Sub(start)) }
	}
	conn, err := connectApply(env, &opts, view, in, saved, clock)
	if err != nil {
		return err
	}
	defer func() { conn.close() }()
	// The pass's limiters, which its deliverer's group notifications
	// count against too.
	limiters := executor.NewLimiters()
	approver := operation.AutoApprove
	if !opts.AutoApprove && saved == nil {
		approver = &promptApprover{env: env, view: view}
	}
	out, err := operation.Apply(ctx, operation.Op{
		Inputs: in, Saved: saved, PlanKey: func() ([]byte, error) { return plankey.Load(env.Getenv, false) },
		Client: conn.client, Accounts: conn.accounts, Backend: conn.backend,
		Name: "herald apply", LockTimeout: opts.LockTimeout,
		Approver: approver, Reporter: view, WatchInterrupts: true,
		Parallelism: opts.Parallelism, MaxAttempts: opts.MaxAttempts, Limiters: limiters,
		Clock: clock, Sleep: env.Sleep, Abort: env.Abort,
	})
	if serr := conn.saveThreads(); serr != nil {
		if err == nil {
			return serr
		}
		newView(env, opts.NoColor).Error(serr)
	}
	if err != nil {
		return passError(env, opts.NoColor, out, err)
	}
	if len(in.Config.Notify) > 0 {
		// The sends are done and saved: delivering now delays none.
		rep := notifyReport(out)
		if n, nerr := conn.notifier(ctx, env, in.Config, opts.StatePath, view, clock); nerr != nil {
			rep.DeliverErr = nerr
		} else {
			client, accts := conn.groupClients(env, in.Config)
			n.groups = newGroupSender(in.Config, client, accts, limiters, clock)
			n.drain(ctx, opts.NotifyTimeout, &rep)
		}
		view.Notifications(rep)
	}
	if out.Failed() {
		return ErrReported
	}
	return nil
}

// passError is the command's error for a pass that ended with err: an
// interrupt exits 130. A failure to save the state that the pass's own
// error stands before is printed here.
func passError(env *Env, noColor bool, out operation.Outcome, err error) error {
	if out.SaveErr != nil {
		newView(env, noColor).Error(out.SaveErr)
	}
	if errors.Is(err, operation.ErrInterrupted) {
		return &ExitError{Code: ExitInterrupted}
	}
	return err
}

// applyConnection is what an apply sends with and records in: the A1Base
// clients, real or the sandbox's, and the state.
type applyConnection struct {
	client   executor.Sender
	accounts map[string]executor.Account
	backend  state.Backend
	// close stops the sandbox.
	close func()
	// saveThreads keeps the sandbox's thread history for the next run.
	saveThreads func() error
	// sandboxState is the sandbox's state file; "" for a real apply.
	sandboxState string
}

// groupClients are the A1Base clients group notifications are sent with:
// the pass's, and for a group whose account had nothing due (so no client
// was made) one made now when its credentials are set; without them the
// notification waits in the outbox.
func (c *applyConnection) groupClients(env *Env, cfg *spec.Config) (executor.Sender, map[string]executor.Account) {
	client, accts := c.client, c.accounts
	if c.sandboxState != "" {
		return client, accts
	}
	need := map[string]bool{}
	for _, n := range cfg.Notify {
		if n.Kind != spec.NotifyGroup || n.Group == nil {
			continue
		}
		alias := n.Group.ProviderAlias()
		if _, ok := accts[alias]; (alias == "" && client == nil) || (alias != "" && !ok) {
			need[alias] = true
		}
	}
	if len(need) == 0 {
		return client, accts
	}
	set, err := accounts.Connect(accountsEnv(env), cfg, need)
	if err != nil {
		return client, accts
	}
	if client == nil && set.Default != nil {
		client = set.Default
	}
	merged := map[string]executor.Account{}
	for a, acc := range accts {
		merged[a] = acc
	}
	for a, acc := range set.Aliased {
		if _, ok := merged[a]; !ok {
			merged[a] = acc
		}
	}
	return client, merged
}

// notifier opens the outbox of the state c recorded in, once the pass has
// closed its backend, to deliver what it holds; the sandbox's captures
// notifications instead.
func (c *applyConnection) notifier(ctx context.Context, env *Env, cfg *spec.Config, stateFlag string, view views.Apply, clock func() time.Time) (*notifier, error) {
	n := &notifier{env: env, blocks: cfg.Notify, view: view, clock: clock}
	switch {
	case c.sandboxState != "":
		n.outbox = state.OpenLocal(c.sandboxState)
		n.captureFile = c.sandboxState + sandboxNotificationsSuffix
	case c.backend.LocalPath() != "":
		n.outbox = state.OpenLocal(c.backend.LocalPath())
	default:
		b, err := openBackend(ctx, env, cfg.Backend, stateFlag)
		if err != nil {
			return nil, fmt.Errorf("opening the state's outbox: %w", err)
		}
		// Closed when the command ends; the deliverer needs no lock.
		prev := c.close
		c.close = func() { b.Close(); prev() }
		if n.outbox = state.OutboxOf(b); n.outbox == nil {
			return nil, fmt.Errorf("the state %s keeps no outbox", b.Describe())
		}
	}
	return n, nil
}

// connectApply chooses the A1Base clients and the state: the real ones,
// with credentials checked before anything is locked or sent, or the
// sandbox, which dates its messages by clock.
func connectApply(env *Env, opts *applyOptions, view views.Apply, in *operation.Inputs, saved *planner.SavedPlan, clock func() time.Time) (*applyConnection, error) {
	cfg := in.Config
	if opts.Sandbox {
		sb := accounts.NewSandbox(view.SandboxReceived, clock)
		path := sandboxStatePath(env, opts.StatePath)
		threads := accounts.ThreadsPath(path)
		if err := sb.LoadHistory(threads); err != nil {
			sb.Close()
			return nil, err
		}
		set := sb.Connect(accountsEnv(env), cfg)
		c := &applyConnection{client: set.Default, accounts: set.Aliased, close: sb.Close,
			saveThreads: func() error { return sb.SaveHistory(threads) }, sandboxState: path}
		c.backend = state.OpenLocal(path)
		view.Sandbox(sb.URL(), displayPath(env, path))
		return c, nil
	}
	set, err := accounts.Connect(accountsEnv(env), cfg, accounts.Due(cfg, in.At, saved))
	if err != nil {
		return nil, err
	}
	c := &applyConnection{accounts: set.Aliased, close: func() {}, saveThreads: func() error { return nil }}
	if set.Default != nil {
		c.client = set.Default
	}
	if c.backend, err = openBackend(context.Background(), env, cfg.Backend, opts.StatePath); err != nil {
		return nil, err
	}
	return c, nil
}

// promptApprover asks for "yes" on a terminal and refuses at once without
// one: an apply in a pipeline must never hang on a question nobody sees.
type promptApprover struct {
	env  *Env
	view views.Apply
}

func (a *promptApprover) Approve(ctx context.Context, _ *planner.Plan) error {
	if !a.env.StdinIsTerminal {
		return errors.New(`apply asks for approval before sending, and standard input is not a terminal; run "herald apply -auto-approve" to send without asking, or apply a plan saved with "herald plan -out=FILE"`)
	}
	a.view.Prompt()
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.env.Stdin).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		return &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted: nothing was sent"), Report: true}
	case got := <-answer:
		if got != "yes" {
			a.view.Cancelled()
			return ErrReported
		}
	}
	return nil
}
