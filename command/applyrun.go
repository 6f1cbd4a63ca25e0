package command

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/heraldhq/herald/command/service"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// applyPass is one pass of the send protocol, what apply does once and run
// at every wake: take the state lock, plan against the state read under
// it, look unknown messages up, send and expire what is due, then save the
// state and release the lock, whatever happened.
type applyPass struct {
	env    *Env
	view   views.Apply
	inputs *planInputs
	client executor.Sender
	// accounts are the aliased providers' clients and limits.
	accounts map[string]executor.Account
	backend  state.Backend
	// saved is apply's plan file, checked against the state under the
	// lock; nil plans afresh.
	saved *planner.SavedPlan
	// approve, when set, is asked before anything is sent.
	approve func(ctx context.Context) error
	// watch reports interrupts while the lock is held; run, which watches
	// for them across passes and sleeps, leaves it off.
	watch bool
	// operation names the lock holder for whoever finds the state locked.
	operation   string
	lockTimeout time.Duration
	parallelism int
	maxAttempts int
	// clock is the executor's clock: records and expiry during the pass.
	clock   func() time.Time
	noColor bool
	// hooks, when set, are told what the executor reports besides view
	// (run's metrics).
	hooks executor.Hooks
	// keepLock leaves the backend locked and open after the pass: run's
	// active replica holds the lock of a PostgreSQL state across passes.
	keepLock bool
	// limiters count the starts the rate limits hold to: run keeps one
	// across its passes; nil makes the pass its own. Either way they are
	// seeded from the state read under the lock.
	limiters *executor.Limiters
	// lock, when set, ends when the state lock is lost (run's active
	// replica): see executor.Options.Lock.
	lock context.Context

	// forceImports records imports that no thread message matched, as
	// sent without evidence (herald import -force).
	forceImports bool
	// importFailed is set when an import could not be done.
	importFailed bool

	// saveErr is a failure to save the state or release the lock that
	// was printed because the pass's own error (an interrupt) stands.
	saveErr error
	// stateRead is set once the state was read under the lock; before
	// that nothing can have been recorded, and nothing is saved.
	stateRead bool
}

// passOutcome is what a pass did.
type passOutcome struct {
	// Plan is the plan the pass carried out, after reconciliation; nil
	// when the pass stopped before planning (the lock was held, say).
	Plan *planner.Plan
	// Executed is set when the executor ran; Result is then its summary.
	Executed bool
	Result   views.ApplyResult
}

// run carries the pass out. An error is returned for what stopped it: the
// lock (a *state.LockedError), an interrupt (an *ExitError with
// ExitInterrupted, after the view was given the result), a stale plan, a
// storage fault. Sends that failed are no error: they are in the result.
func (p *applyPass) run(ctx context.Context) (out passOutcome, err error) {
	p.backend.SetOperation(p.operation)
	if err := p.backend.Lock(ctx, p.lockTimeout); err != nil {
		p.backend.Close()
		return out, err
	}
	// From here on, whatever happens, the journal is folded into the
	// state file and the lock released.
	defer func() { err = p.release(ctx, err) }()

	if p.watch {
		// The first interrupt is acknowledged at once, not when the sends
		// in flight have finished.
		stop := make(chan struct{})
		defer close(stop)
		go watchInterrupts(ctx, p.env.Abort, p.view, stop)
	}

	plan, snap, err := p.plan(ctx)
	if err != nil {
		return out, err
	}
	p.stateRead = true
	// The limits count the starts of earlier runs (and of other
	// processes) that a window still holds.
	if p.limiters == nil {
		p.limiters = executor.NewLimiters()
	}
	if err := p.limiters.Seed(snap, p.inputs.Config, p.clock()); err != nil {
		return out, err
	}
	out.Plan = plan
	if err := p.view.Plan(views.NewPlanDocument(plan)); err != nil {
		return out, err
	}
	counts := plan.Summary()
	actionable := counts[planner.Send] + counts[planner.Retry] + counts[planner.Expire]
	unknowns := 0
	for _, c := range plan.Changes {
		if c.Action == planner.Unknown && c.Instance != nil {
			unknowns++
		}
	}
	moves := executor.PendingMoves(plan)
	imports := counts[planner.Import]
	if actionable == 0 && unknowns == 0 && moves == 0 && imports == 0 {
		p.view.NothingToDo()
		return out, nil
	}
	// An import changes state as a send does, so it is approved as one.
	if actionable+imports > 0 && p.approve != nil {
		if err := p.approve(ctx); err != nil {
			return out, err
		}
	}
	// Carrying records to their moved-to addresses sends nothing either;
	// it comes first so that every later record lands under the new
	// address.
	if moves > 0 {
		if err := executor.RecordMoves(ctx, plan, p.backend); err != nil {
			return out, err
		}
	}

	if imports > 0 {
		if err := p.importMessages(ctx, plan); err != nil {
			return out, p.interrupted(ctx, err, &out)
		}
	}

	// Looking unknown messages up sends nothing, so it needs no approval.
	if unknowns > 0 {
		resolved, err := executor.Reconcile(ctx, plan, p.client, p.backend, executor.Options{
			Now: p.clock, Accounts: p.accounts,
			AccountLimit: p.inputs.Config.Provider.RateLimit, AccountID: p.inputs.Config.Provider.AccountID, Limiters: p.limiters,
		}, p.executorHooks())
		if err != nil {
			return out, p.interrupted(ctx, err, &out)
		}
		// What the look-ups settled changes the plan: found ones are
		// sent, and proven absences are retries under on_unknown =
		// "resend". A saved plan applies what it showed, so they wait for
		// the next plan.
		if len(resolved) > 0 && p.saved == nil {
			if _, plan, err = p.inputs.plan(ctx, p.backend); err != nil {
				return out, err
			}
			out.Plan = plan
			before := actionable
			counts = plan.Summary()
			actionable = counts[planner.Send] + counts[planner.Retry] + counts[planner.Expire]
			if actionable > before && before == 0 && p.approve != nil {
				// Nothing was approved yet: show what will be sent now.
				if err := p.view.Plan(views.NewPlanDocument(plan)); err != nil {
					return out, err
				}
				if err := p.approve(ctx); err != nil {
					return out, err
				}
			}
		}
	}
	if actionable == 0 {
		p.view.NothingToDo()
		return out, nil
	}

	cfg := p.inputs.Config
	sum, err := executor.Run(ctx, plan, p.client, p.backend, executor.Options{
		Parallelism:  p.parallelism,
		MaxAttempts:  p.maxAttempts,
		AccountLimit: cfg.Provider.RateLimit,
		AccountID:    cfg.Provider.AccountID,
		Limiters:     p.limiters,
		CheckMedia:   cfg.Provider.CheckMedia,
		Accounts:     p.accounts,
		Now:          p.clock,
		Sleep:        p.env.Sleep,
		Abort:        p.env.Abort,
		Lock:         p.lock,
	}, p.executorHooks())
	out.Executed = true
	out.Result = views.ApplyResult{Summary: sum}
	if err != nil {
		return out, p.interrupted(ctx, err, &out)
	}
	p.view.Result(out.Result)
	return out, nil
}

// executorHooks is what the executor reports to: the view, and hooks.
func (p *applyPass) executorHooks() executor.Hooks {
	if p.hooks == nil {
		return p.view
	}
	return service.Tee(p.view, p.hooks)
}

// importMessages records the plan's imports, each found in its thread (or
// forced), against the state read under the lock.
func (p *applyPass) importMessages(ctx context.Context, plan *planner.Plan) error {
	snap, err := p.backend.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", p.backend.Describe(), err)
	}
	results, err := executor.Import(ctx, plan, p.client, p.backend, snap, executor.ImportOptions{
		Force: p.forceImports, Now: p.clock, Accounts: p.accounts,
		AccountLimit: p.inputs.Config.Provider.RateLimit, AccountID: p.inputs.Config.Provider.AccountID, Limiters: p.limiters,
	})
	for _, r := range results {
		p.view.Imported(r)
		if !r.Recorded {
			p.importFailed = true
		}
	}
	return err
}

// plan makes the plan to carry out, from the state read under the lock:
// afresh, or the saved plan once it is checked against that state. It
// returns that state too.
func (p *applyPass) plan(ctx context.Context) (*planner.Plan, *state.Snapshot, error) {
	if p.saved == nil {
		snap, plan, err := p.inputs.plan(ctx, p.backend)
		return plan, snap, err
	}
	snap, err := p.backend.Snapshot(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading state %s: %w", p.backend.Describe(), err)
	}
	var key []byte
	if p.saved.NeedsKey() {
		if key, err = planKey(p.env, false); err != nil {
			return nil, nil, fmt.Errorf("%w; nothing was sent", err)
		}
	}
	if err := p.saved.Check(p.inputs.Config, snap, key); err != nil {
		return nil, nil, fmt.Errorf("%w; nothing was sent", err)
	}
	plan, err := p.saved.Resolve(p.inputs.Config, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; nothing was sent", err)
	}
	return plan, snap, nil
}

// interrupted reports how a pass that stopped early ended: an interrupt
// (exit 130, with what was left), or another error.
func (p *applyPass) interrupted(ctx context.Context, err error, out *passOutcome) error {
	res := &out.Result
	switch {
	case errors.Is(err, executor.ErrAborted):
		res.Aborted = true
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		res.Interrupted = true
	default:
		if res.Summary.Attempts > 0 || res.Summary.Sent+res.Summary.Expired > 0 {
			p.view.Result(*res)
		}
		return err
	}
	p.view.Result(*res)
	return &ExitError{Code: ExitInterrupted}
}

// release folds the journal into the state file and releases the lock,
// and turns a failure to do so into the pass's error.
func (p *applyPass) release(ctx context.Context, err error) error {
	// The state must be saved even when ctx was cancelled by an interrupt.
	var perr, uerr, cerr error
	if p.stateRead {
		perr = p.backend.Persist(context.WithoutCancel(ctx))
	}
	if p.keepLock {
		// Every event is stored as it happens; a lost lock is the
		// scheduler's to handle.
		if errors.Is(perr, state.ErrLockLost) {
			perr = nil
		}
		if perr == nil {
			return err
		}
		return errors.Join(err, perr)
	}
	uerr = p.backend.Unlock()
	cerr = p.backend.Close()
	if perr != nil {
		perr = fmt.Errorf("saving state %s: %w; every recorded send is kept in its journal, and the next herald run reads it", p.backend.Describe(), perr)
	}
	if uerr != nil {
		uerr = fmt.Errorf("releasing the state lock of %s: %w", p.backend.Describe(), uerr)
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
	// The pass's own outcome stands (an interrupt stays 130); the storage
	// error is still shown.
	newView(p.env, p.noColor).Error(serr)
	p.saveErr = serr
	return err
}

// watchInterrupts tells the user that an interrupt was seen (ctx ended)
// and what a second one does, and then that the second one came.
func watchInterrupts(ctx context.Context, abort <-chan struct{}, v interface {
	Interrupting()
	Aborting()
}, stop <-chan struct{}) {
	select {
	case <-ctx.Done():
		v.Interrupting()
	case <-stop:
		return
	}
	select {
	case <-abort:
		v.Aborting()
	case <-stop:
	}
}

// sandboxStatePath is the state file of -sandbox: -state if given, else
// SandboxStatePath in the working directory, never the real state.
func sandboxStatePath(env *Env, stateFlag string) string {
	if stateFlag == "" {
		return filepath.Join(env.Dir, SandboxStatePath)
	}
	return statePath(env, stateFlag)
}
