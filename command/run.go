package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/service"
	"github.com/heraldhq/herald/command/views"
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
	DefaultPoll = time.Minute
	// maxRetryWait caps how long run leaves a failed message before it
	// tries it again.
	maxRetryWait = time.Hour
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
	// Listen is the address of the health and metrics endpoints; empty
	// for none.
	Listen string
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
/readyz and /metrics.

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
	fs.DurationVar(&opts.LockTimeout, "lock-timeout", DefaultRunLockTimeout, "How long each pass waits for a state lock held elsewhere, as a `DURATION`, before it tries again at the next wake.")
	fs.IntVar(&opts.Parallelism, "parallelism", executor.DefaultParallelism, "How many groups send at the same time, as a number `N`.")
	fs.IntVar(&opts.MaxAttempts, "max-attempts", executor.DefaultMaxAttempts, "How many requests one message may take in one pass, as a number `N`, before a 429 or 5xx is final for that pass.")
	fs.BoolVar(&opts.JSON, "json", false, "Log one JSON object per line, each with type and timestamp.")
	fs.BoolVar(&opts.Sandbox, "sandbox", false, "Send to an in-process A1Base sandbox, with its own state file, instead of A1Base.")
	fs.BoolVar(&opts.Once, "once", false, "Make one pass, then exit (for cron and tests).")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.Listen, "listen", "", "Serve /healthz, /readyz and /metrics on `ADDR` (host:port), for a service manager and Prometheus.")
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
	case opts.MaxAttempts < 1:
		return opts, usageError(fs, env, "-max-attempts must be at least 1, got %d", opts.MaxAttempts)
	}
	return opts, nil
}

// scheduler is a herald run in progress: what it keeps from one wake to
// the next.
type scheduler struct {
	env  *Env
	opts *runOptions
	view views.Run
	// diag prints configuration diagnostics: errors on stderr, warnings
	// on diagWarn (stdout, or stderr beside a JSON log).
	diag     *views.View
	diagWarn io.Writer
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	key, secret string
	sandbox     *accounts.Sandbox
	// client is reused while the provider's endpoint and account stay.
	client    executor.Sender
	clientFor string

	started bool
	// backendKey identifies the backend block the run started with: a
	// configuration that later names another state is refused rather
	// than followed.
	backendKey string
	// configHash is the last valid configuration's, to log reloads that
	// change something; invalid is set while the configuration is not.
	configHash string
	invalid    bool
	// lastErrors is the last invalid configuration's diagnostics, shown
	// again only when they change.
	lastErrors string
	lastSleep  string
	// lookedUp holds when this run last looked each unknown message up in
	// its thread: a later pass locks the state for it alone only once a
	// look-up can settle it (its unknown_settle has passed since the
	// attempt) and none made since could.
	lookedUp map[string]time.Time
	// retries holds, per message that failed in this run, when the next
	// try is due: a message A1Base keeps refusing is tried ever less often
	// instead of at every poll until it expires.
	retries map[string]retryWait
	totals  views.RunTotals
	notices *interruptNotices
	// failedPass is set when the last pass had sends fail or become
	// unknown, for -once's exit code.
	failedPass bool

	// log records the service-level events (active, standby, takeover,
	// lock lost, listening) as structured records.
	log     *slog.Logger
	health  *service.Health
	metrics *service.Metrics
	// rep holds a PostgreSQL state shared with other replicas.
	rep *replica
	// limiters count the starts of every pass, so that a pass's sends
	// wait for the windows of the last one's; each pass also seeds them
	// from state with the starts of other processes (a manual apply, the
	// replica active before this one).
	limiters *executor.Limiters
}

// retryWait is when a failed message is tried again, and how long the
// wait before that was.
type retryWait struct {
	at   time.Time
	wait time.Duration
}

// configError is an invalid configuration whose diagnostics were printed.
type configError struct{ unchanged bool }

func (e *configError) Error() string { return "the configuration is invalid" }

// errRunAborted ends a run whose sends in flight a second interrupt
// cancelled.
var errRunAborted = &ExitError{Code: ExitInterrupted}

// errStateNotSaved ends an interrupted run whose state could not be saved
// or released; the reason was printed.
var errStateNotSaved = errors.New("the state was not saved")

func runRun(ctx context.Context, env *Env, opts runOptions) error {
	v := newView(env, opts.NoColor || opts.JSON)
	format := views.RunLinesFormat
	diag, diagWarn := v, v.Stdout
	if opts.JSON {
		format = views.RunJSONFormat
		// Diagnostics stay out of the JSON log.
		dv := *v
		dv.Stdout, dv.StdoutColor = v.Stderr, v.StderrColor
		diag, diagWarn = &dv, v.Stderr
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	sleep := env.Sleep
	if sleep == nil {
		sleep = sleepContext
	}
	s := &scheduler{
		env: env, opts: &opts, view: views.NewRun(format, v, now),
		diag: diag, diagWarn: diagWarn, now: now, sleep: sleep,
		lookedUp: map[string]time.Time{}, retries: map[string]retryWait{},
		limiters: executor.NewLimiters(),
		log:      newServiceLog(v.Stdout, opts.JSON, now),
		health:   service.NewHealth(), metrics: service.NewMetrics(),
	}
	defer s.closeReplica()
	if opts.Listen != "" {
		srv, err := service.Listen(opts.Listen, service.Handler(s.health, s.metrics))
		if err != nil {
			return err
		}
		defer srv.Close()
		s.log.Info("serving /healthz, /readyz and /metrics", "type", "listening", "addr", srv.Addr())
	}
	if opts.Sandbox {
		s.sandbox = accounts.NewSandbox(s.view.SandboxReceived)
		defer s.sandbox.Close()
	} else {
		var err error
		if s.key, s.secret, err = a1base.CredentialsFromEnv(env.Getenv); err != nil {
			return err
		}
	}

	s.notices = &interruptNotices{view: s.view}
	stop := make(chan struct{})
	defer close(stop)
	go operation.ReportInterrupts(ctx, env.Abort, s.notices, stop)

	for first := true; ; first = false {
		plan, err := s.wake(ctx)
		wakeAt, nextAt, next := nextWake(plan, s.now(), opts.Poll)
		if plan != nil {
			s.metrics.SetNextSendAt(nextAt)
		}
		var lost *lockLostError
		switch {
		case errors.As(err, &lost):
			// Stand by again at once.
			wakeAt = s.now()
		case err != nil && s.rep != nil:
			// A replica that could not use the state tries again soon:
			// its standbys are waiting too.
			wakeAt = minTime(wakeAt, s.now().Add(standbyRetry))
		}
		if stopped, err := s.settle(ctx, err, first, wakeAt); stopped {
			return err
		}
		if opts.Once {
			s.view.Stopped(s.totals)
			if s.failedPass {
				return ErrReported
			}
			return nil
		}
		if plan != nil {
			s.sleeping(views.RunSleep{WakeAt: wakeAt, NextAt: nextAt, Next: next})
		} else {
			// The wake failed before planning: what it sleeps for is
			// unknown, and worth saying again once it is known.
			s.lastSleep = ""
		}
		if d := wakeAt.Sub(s.now()); d > 0 {
			// An active replica wakes as soon as it loses the lock.
			sctx := ctx
			if s.rep != nil && s.rep.active {
				sctx = s.rep.ctx
			}
			if err := s.sleep(sctx, d); err != nil && ctx.Err() == nil && sctx.Err() == nil {
				return err
			}
		}
		if ctx.Err() != nil {
			s.stopped()
			return nil
		}
	}
}

// settle decides what a wake's error means: the end of the run (stopped,
// with the command's error) or something to log and retry at retryAt.
func (s *scheduler) settle(ctx context.Context, err error, first bool, retryAt time.Time) (stopped bool, _ error) {
	var cerr *configError
	var lerr *state.LockedError
	var lost *lockLostError
	switch {
	case errors.Is(err, errRunAborted):
		s.notices.Interrupting()
		s.notices.Aborting()
		s.view.Stopped(s.totals)
		return true, err
	case ctx.Err() != nil:
		// An interrupt: whatever it cut short was recorded and saved,
		// unless saving failed.
		s.stopped()
		if errors.Is(err, errStateNotSaved) {
			return true, ErrReported
		}
		return true, nil
	case err == nil:
		return false, nil
	case errors.As(err, &lost):
		// demote logged it.
		return false, nil
	case errors.As(err, &cerr):
		if first || s.opts.Once {
			return true, ErrReported
		}
		s.view.ConfigInvalid(cerr.unchanged, retryAt)
	case errors.As(err, &lerr):
		if s.opts.Once {
			return true, err
		}
		s.view.LockBusy(err, retryAt)
	default:
		// A replica that once reached its state rides out the database's
		// outages: its standbys do too.
		if (first && s.rep == nil) || s.opts.Once {
			return true, err
		}
		s.view.PassFailed(err, retryAt)
	}
	return false, nil
}

// stopped closes the log of a run that an interrupt stopped.
func (s *scheduler) stopped() {
	s.notices.Interrupting()
	s.view.Stopped(s.totals)
}

// interruptNotices says each interrupt once, whoever notices it first:
// the watcher as it comes, or the loop as it stops, so that the log always
// says why the run stopped.
type interruptNotices struct {
	view                   views.Run
	interrupting, aborting sync.Once
}

func (n *interruptNotices) Interrupting() { n.interrupting.Do(n.view.Interrupting) }
func (n *interruptNotices) Aborting()     { n.aborting.Do(n.view.Aborting) }

// sleeping logs what run sleeps until, when that changed since the last
// sleep: a poll that finds nothing new stays quiet.
func (s *scheduler) sleeping(sl views.RunSleep) {
	key := "nothing"
	if !sl.NextAt.IsZero() {
		key = sl.NextAt.UTC().Format(time.RFC3339Nano) + fmt.Sprint(sl.Next)
	}
	if key == s.lastSleep {
		return
	}
	s.lastSleep = key
	s.view.Sleeping(sl)
}

// wake makes one pass: read the configuration and, without the lock, the
// state; when anything is due, apply it under the lock. It returns the
// latest plan it made, from which the next wake is computed (nil when it
// made none).
func (s *scheduler) wake(ctx context.Context) (*planner.Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.rep != nil && s.rep.active && s.rep.ctx.Err() != nil {
		// The lock was lost while run slept.
		cause := context.Cause(s.rep.ctx)
		s.demote(cause)
		return nil, &lockLostError{cause: cause}
	}
	in, err := s.load()
	s.health.Config(err)
	if err != nil {
		return nil, err
	}
	if s.sandbox == nil {
		if err := accounts.CheckAccountID(&in.Config.Provider); err != nil {
			s.health.Config(err)
			return nil, err
		}
	}
	backend, err := s.openState(ctx, in.Config)
	if err != nil {
		s.health.State(err)
		s.metrics.StateError()
		return nil, err
	}
	passCtx, closeState := ctx, backend.Close
	if s.rep != nil {
		closeState = func() error { return nil }
		if !s.rep.active {
			if err := s.activate(ctx); err != nil {
				return nil, err
			}
			// Plan with the configuration and the clock of now, not of
			// when the wait began.
			return s.wake(ctx)
		}
		passCtx = s.rep.ctx
	} else if s.health.Role() != service.RoleActive {
		s.setRole(service.RoleActive)
	}
	// A look without the lock decides whether this wake needs it at all:
	// most wakes find nothing due and leave the lock to others.
	_, plan, err := in.PlanState(ctx, backend)
	if err != nil {
		closeState()
		s.health.State(err)
		s.metrics.StateError()
		return nil, err
	}
	s.health.State(nil)
	s.noteConfig(in.Config, plan)
	if !s.due(plan, s.now()) {
		return plan, closeState()
	}

	client, accounts, err := s.clientOf(in.Config, plan)
	if err != nil {
		closeState()
		return plan, err
	}
	op := operation.Op{
		Inputs: in, Client: client, Accounts: accounts, Backend: backend,
		Name: "herald run", LockTimeout: s.opts.LockTimeout, KeepLock: s.rep != nil,
		Approver: operation.AutoApprove, Reporter: s.view, Hooks: service.Tee(s.view, s.metrics.Hooks()),
		Parallelism: s.opts.Parallelism, MaxAttempts: s.opts.MaxAttempts, Limiters: s.limiters,
		Clock: s.now, Sleep: s.env.Sleep, Abort: s.env.Abort,
	}
	if s.rep != nil {
		op.Lock = s.rep.lock
	}
	began := clock.Now()
	out, err := operation.Apply(passCtx, op)
	s.metrics.ObservePass(clock.Since(began))
	if cause := s.lockLost(err); cause != nil && ctx.Err() == nil {
		s.demote(cause)
		return plan, &lockLostError{cause: cause}
	}
	if out.Plan != nil {
		plan = out.Plan
		if err == nil {
			looked := s.now()
			for _, c := range plan.Changes {
				if c.Action == planner.Unknown {
					s.lookedUp[c.Addr.String()] = looked
				}
			}
			// A send that became unknown in this pass was looked up
			// right after its answer was lost.
			for _, u := range out.Result.Summary.Unknowns {
				s.lookedUp[u.Addr.String()] = looked
			}
		}
	}
	s.failedPass = false
	if out.Executed {
		sum := out.Result.Summary
		s.totals.Sent += sum.Sent
		s.totals.Failed += sum.Failed
		s.totals.Expired += sum.Expired
		s.totals.Unknown += sum.Unknown
		s.failedPass = sum.Failed+sum.Unknown > 0
		s.noteFailures(sum.Failures)
	}
	if err != nil {
		interrupted := errors.Is(err, operation.ErrInterrupted)
		err = passError(s.env, s.opts.NoColor, out, err)
		switch {
		case out.Result.Aborted:
			return plan, errRunAborted
		case interrupted && out.SaveErr != nil:
			return plan, errStateNotSaved
		}
	}
	return plan, err
}

// load reads the configuration. Its diagnostics are printed when they
// differ from the last wake's, so that a configuration left broken does
// not repeat them at every poll.
func (s *scheduler) load() (*operation.Inputs, error) {
	var warn, errs bytes.Buffer
	cv := *s.diag
	cv.Stdout, cv.Stderr = &warn, &errs
	in, err := loadPlanInputs(s.env, &cv, &s.opts.planFlags, nil)
	if err != nil {
		if !errors.Is(err, ErrReported) {
			return nil, err
		}
		unchanged := s.invalid && errs.String() == s.lastErrors
		if !unchanged {
			s.diagWarn.Write(warn.Bytes())
			s.diag.Stderr.Write(errs.Bytes())
		}
		s.invalid, s.lastErrors = true, errs.String()
		return nil, &configError{unchanged: unchanged}
	}
	if s.invalid || in.Config.Hash != s.configHash {
		// Warnings accompany a configuration that changed, once.
		s.diagWarn.Write(warn.Bytes())
	}
	return in, nil
}

// noteConfig logs a configuration seen for the first time, or changed.
func (s *scheduler) noteConfig(cfg *spec.Config, plan *planner.Plan) {
	if !s.invalid && cfg.Hash == s.configHash {
		return
	}
	reloaded := s.configHash != "" || s.invalid
	s.configHash, s.invalid, s.lastErrors = cfg.Hash, false, ""
	s.view.ConfigLoaded(plan.Summary()[planner.Wait], reloaded)
}

// openState opens the state the run keeps, without locking it; the
// first time, it also opens the log.
func (s *scheduler) openState(ctx context.Context, cfg *spec.Config) (state.Backend, error) {
	key := "sandbox"
	if s.sandbox == nil {
		key = backendKey(cfg.Backend)
	}
	if s.started && key != s.backendKey {
		return nil, errors.New("the configuration's backend block changed since herald run started; restart herald run to use the new state (nothing is sent until then)")
	}
	var backend state.Backend
	if s.sandbox != nil {
		backend = state.OpenLocal(sandboxStatePath(s.env, s.opts.StatePath))
	} else if s.useReplica(cfg) {
		var err error
		if backend, err = s.openReplica(ctx, cfg); err != nil {
			return nil, err
		}
	} else {
		var err error
		if backend, err = openBackendContext(ctx, s.env, cfg, s.opts.StatePath); err != nil {
			return nil, err
		}
	}
	if !s.started {
		name := describeState(s.env, backend)
		s.started, s.backendKey = true, key
		s.view.Started(views.RunStart{Poll: s.opts.Poll, State: name, Once: s.opts.Once})
		if s.sandbox != nil {
			s.view.Sandbox(s.sandbox.URL(), name)
		}
	}
	return backend, nil
}

// backendKey identifies where a backend block keeps state; it holds the
// connection string, so it is compared, never shown.
func backendKey(b *spec.Backend) string {
	if b == nil {
		return "local"
	}
	return b.Type + "\x00" + b.ConnStr + "\x00" + b.SchemaName
}

// noteFailures schedules the next try of each message that failed: a
// poll interval after the first failure, twice as long after each further
// one, up to maxRetryWait.
func (s *scheduler) noteFailures(failures []executor.Failure) {
	now := s.now()
	for _, f := range failures {
		addr := f.Addr.String()
		wait := s.opts.Poll
		if prev, ok := s.retries[addr]; ok {
			wait = min(max(prev.wait*2, wait), max(maxRetryWait, wait))
		}
		s.retries[addr] = retryWait{at: now.Add(wait), wait: wait}
	}
}

// due reports whether plan has work that needs the lock at now: a send,
// an expiry, a retry whose wait is over, or an unknown message this run
// has not looked up yet.
func (s *scheduler) due(plan *planner.Plan, now time.Time) bool {
	for _, c := range plan.Changes {
		switch c.Action {
		case planner.Send, planner.Expire:
			return true
		case planner.Retry:
			if r, ok := s.retries[c.Addr.String()]; !ok || !now.Before(r.at) {
				return true
			}
		case planner.Unknown:
			if c.Instance != nil && s.lookUpDue(c, now) {
				return true
			}
		}
	}
	return false
}

// lookUpDue reports whether a look-up of an unknown message at now could
// tell more than this run's last one: it has none, or the last one was
// made before the message's settle time, which now has passed. A message
// already proven not delivered (held) has nothing left to look up.
func (s *scheduler) lookUpDue(c *planner.Change, now time.Time) bool {
	if c.Record != nil && c.Record.Status == state.StatusNotDelivered {
		return false
	}
	last, ok := s.lookedUp[c.Addr.String()]
	if !ok {
		return true
	}
	if c.Record == nil || c.Record.LastAttempt() == nil {
		return false
	}
	settles := planner.SettlesAt(c.Instance, c.Record.LastAttempt())
	return last.Before(settles) && !now.Before(settles)
}

// clientOf is the A1Base clients for cfg's providers: the default one's,
// reused while its endpoint and account stay, and those of the aliased
// providers the plan has work for, with their credentials read now.
func (s *scheduler) clientOf(cfg *spec.Config, plan *planner.Plan) (executor.Sender, map[string]executor.Account, error) {
	if s.sandbox != nil {
		set := s.sandbox.Connect(accountsEnv(s.env), cfg)
		return set.Default, set.Aliased, nil
	}
	key := cfg.Provider.BaseURL + "\x00" + cfg.Provider.AccountID + "\x00" + cfg.Provider.Endpoint
	if s.client == nil || key != s.clientFor {
		c, err := accounts.Client(accountsEnv(s.env), &cfg.Provider, s.key, s.secret)
		if err != nil {
			return nil, nil, err
		}
		s.client, s.clientFor = c, key
	}
	var reach []*planner.Change
	for _, c := range plan.Changes {
		switch c.Action {
		case planner.Send, planner.Retry, planner.Unknown, planner.Import:
			reach = append(reach, c)
		}
	}
	need := accounts.Needed(reach)
	delete(need, "") // the client above
	set, err := accounts.Connect(accountsEnv(s.env), cfg, need)
	if err != nil {
		return nil, nil, err
	}
	return s.client, set.Aliased, nil
}

// nextWake is when run wakes after a pass that ended at now: at the
// earliest send_at still waiting in plan, or a poll interval from now,
// whichever is sooner. nextAt and next name that send_at and the messages
// due then (zero when nothing waits).
func nextWake(plan *planner.Plan, now time.Time, poll time.Duration) (wakeAt, nextAt time.Time, next []string) {
	wakeAt = now.Add(poll)
	if plan == nil {
		return wakeAt, time.Time{}, nil
	}
	for _, c := range plan.Changes {
		if c.Action != planner.Wait || c.Instance == nil {
			continue
		}
		t := c.Instance.SendAt
		switch {
		case nextAt.IsZero() || t.Before(nextAt):
			nextAt, next = t, []string{c.Addr.String()}
		case t.Equal(nextAt):
			next = append(next, c.Addr.String())
		}
	}
	sort.Strings(next)
	if !nextAt.IsZero() && nextAt.Before(wakeAt) {
		wakeAt = nextAt
	}
	return wakeAt, nextAt, next
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// newServiceLog is the structured log of run's service-level events, on w
// beside run's own log: text, or with -json JSON objects that carry type
// and timestamp like run's other events.
func newServiceLog(w io.Writer, json bool, now func() time.Time) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			a.Value = slog.TimeValue(now().UTC())
			if json {
				a.Key = "timestamp"
			}
		}
		return a
	}}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// sleepContext waits d, or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
