package operation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
)

// Op is one pass: what it plans from, sends with and records in, and who
// it reports to.
type Op struct {
	// Inputs is what the plan is made from besides the state.
	Inputs *Inputs
	// Saved is a plan file to carry out, checked against the state read
	// under the lock; nil plans afresh.
	Saved *planner.SavedPlan
	// PlanKey returns the key a saved plan's sensitive values are hashed
	// with; it is asked only when Saved needs one.
	PlanKey func() ([]byte, error)
	// Import, when set, makes the pass import that one message instead of
	// carrying out the configuration's plan (herald import).
	Import *Import

	// Client is the default provider's A1Base client, and Accounts the
	// aliased providers' clients and limits.
	Client   executor.Sender
	Accounts map[string]executor.Account
	// Backend is the state, open and not locked.
	Backend state.Backend
	// Name names the lock holder ("herald apply") for whoever finds the
	// state locked.
	Name        string
	LockTimeout time.Duration
	// KeepLock leaves the backend locked and open after the pass: run's
	// active replica holds the lock of a PostgreSQL state across passes.
	KeepLock bool
	// Lock, when set, ends when the state lock is lost (run's active
	// replica): see executor.Options.Lock.
	Lock context.Context

	// Approver is asked before anything is sent or imported.
	Approver Approver
	// Reporter is told what the pass does.
	Reporter Reporter
	// Hooks, when set, receive the executor's events instead of Reporter
	// (run tees them into its metrics).
	Hooks executor.Hooks
	// WatchInterrupts reports interrupts through Reporter while the lock
	// is held; run, which watches for them across passes, leaves it off.
	WatchInterrupts bool

	Parallelism int
	MaxAttempts int
	// Limiters count the starts the rate limits hold to: run keeps one
	// across its passes; nil makes the pass its own. Either way they are
	// seeded from the state read under the lock.
	Limiters *executor.Limiters
	// Inbox is the webhook's inbox look-ups read; nil: the one beside the
	// state in Backend, if it keeps one.
	Inbox state.Inbox
	// Outbox is where the pass records the notifications its events make
	// for the configuration's notify blocks; nil: the one beside the
	// state in Backend, if it keeps one.
	Outbox state.Outbox
	// NotifyLimit is how many pending notifications the outbox keeps per
	// destination; 0: state.OutboxLimit.
	NotifyLimit int
	// Clock is the executor's clock: records and expiry during the pass.
	Clock func() time.Time
	// Sleep and Abort are the executor's (executor.Options).
	Sleep func(ctx context.Context, d time.Duration) error
	Abort <-chan struct{}
}

// Approver decides whether a pass may send what its plan shows. An error
// stops the pass before anything is sent, and is Apply's error.
type Approver interface {
	Approve(ctx context.Context, plan *planner.Plan) error
}

// AutoApprove approves every pass without asking: apply -auto-approve, a
// saved plan (approved when it was made), run and import.
var AutoApprove Approver = autoApprove{}

type autoApprove struct{}

func (autoApprove) Approve(context.Context, *planner.Plan) error { return nil }

// Notices are told of interrupts: the first one, which stops new sends,
// and the second, which cancels those in flight.
type Notices interface {
	Interrupting()
	Aborting()
}

// Reporter is told what a pass does. Its methods may be called from the
// executor's goroutines.
type Reporter interface {
	executor.Hooks
	Notices
	// Plan shows the plan the pass is about to carry out.
	Plan(plan *planner.Plan) error
	// NothingToDo says that nothing is due: no send and no expiry.
	NothingToDo()
	// Imported reports what became of one import of the plan.
	Imported(r executor.ImportResult)
	// Result closes the pass: what the executor did and how it ended.
	Result(r Result)
}

// Result is how the executor's part of a pass ended.
type Result struct {
	Summary executor.Summary
	// Interrupted: the first interrupt stopped new sends.
	Interrupted bool
	// Aborted: the second interrupt cancelled the requests in flight.
	Aborted bool
	// Skipped counts the missed occurrences of repeat messages the plan
	// passed over (planner.Plan.Skipped): never sent, nothing recorded.
	// SkippedAtLeast says the count stopped at planner.MaxSkipped for
	// some message.
	Skipped        int
	SkippedAtLeast bool
}

// Outcome is what a pass did.
type Outcome struct {
	// Plan is the plan the pass carried out, after reconciliation; nil
	// when the pass stopped before planning (the lock was held, say).
	Plan *planner.Plan
	// Executed is set when the executor ran; Result is then its summary.
	Executed bool
	Result   Result
	// ImportFailed is set when an import could not be done.
	ImportFailed bool
	// Imported is what became of an Op.Import, once it was tried.
	Imported *executor.ImportResult
	// SaveErr is a failure to save the state or release the lock that is
	// not Apply's error because the pass's own error (an interrupt)
	// stands; the caller reports it.
	SaveErr error
	// Notified is what recording the pass's notifications did.
	Notified Notified
}

// Notified is what a pass recorded in the outbox, once its state was
// saved. A failure to record is no failure of the pass: its sends are
// saved, and the next pass records the events again.
type Notified struct {
	// Recorded counts the notifications added; Dropped those the outbox
	// dropped unsent to stay within its limit.
	Recorded, Dropped int
	Err               error
}

// Failed reports whether a send failed or became unknown, or an import
// could not be done: the pass ran, and did not do everything it should.
func (o Outcome) Failed() bool {
	s := o.Result.Summary
	return s.Failed+s.Unknown > 0 || o.ImportFailed
}

// ErrInterrupted ends a pass that an interrupt stopped early, after the
// Reporter was given its Result (Interrupted or Aborted).
var ErrInterrupted = errors.New("interrupted")

// Apply carries one pass out. The error says what stopped it: the lock (a
// *state.LockedError), an interrupt (ErrInterrupted), the Approver's
// refusal, a stale saved plan, a storage fault. Sends that failed are no
// error: they are in the Outcome.
func Apply(ctx context.Context, op Op) (Outcome, error) {
	if op.Approver == nil || op.Reporter == nil || op.Inputs == nil || op.Backend == nil {
		return Outcome{}, errors.New("operation: an Op needs Inputs, Backend, Approver and Reporter")
	}
	p := &pass{Op: op}
	return p.run(ctx)
}

// pass is an Apply in progress.
type pass struct {
	Op
	// stateRead is set once the state was read under the lock; before
	// that nothing can have been recorded, and nothing is saved.
	stateRead bool
}

func (p *pass) run(ctx context.Context) (out Outcome, err error) {
	if p.Name != "" {
		p.Backend.SetOperation(p.Name)
	}
	if err := p.Backend.Lock(ctx, p.LockTimeout); err != nil {
		p.Backend.Close()
		return out, err
	}
	// From here on, whatever happens, what was recorded is folded into
	// the stored state and the lock released.
	defer func() { err = p.release(ctx, err, &out) }()

	if p.WatchInterrupts {
		// The first interrupt is acknowledged at once, not when the sends
		// in flight have finished.
		stop := make(chan struct{})
		defer close(stop)
		go ReportInterrupts(ctx, p.Abort, p.Reporter, stop)
	}
	if p.Import != nil {
		return out, p.importOne(ctx, &out)
	}
	return out, p.carryOut(ctx, &out)
}

// carryOut is the pass under the lock: plan, approve, moves, imports,
// look-ups, plan again, sends.
func (p *pass) carryOut(ctx context.Context, out *Outcome) error {
	plan, snap, err := p.plan(ctx)
	if err != nil {
		return err
	}
	p.stateRead = true
	// The limits count the starts of earlier runs (and of other
	// processes) that a window still holds.
	if p.Limiters == nil {
		p.Limiters = executor.NewLimiters()
	}
	if err := p.Limiters.Seed(snap, p.Inputs.Config, p.Clock()); err != nil {
		return err
	}
	out.Plan = plan
	if err := p.Reporter.Plan(plan); err != nil {
		return err
	}
	// A failed error-level condition stops the pass before anything is
	// sent, recorded or moved: the plan is what a reviewer refused.
	if errs := plan.CheckErrors(); len(errs) > 0 {
		return &planner.ChecksFailedError{Failed: errs}
	}
	actionable := actionableOf(plan)
	unknowns := 0
	for _, c := range plan.Changes {
		if c.Action == planner.Unknown && c.Instance != nil {
			unknowns++
		}
	}
	moves := executor.PendingMoves(plan)
	imports := plan.Summary()[planner.Import]
	if actionable == 0 && unknowns == 0 && moves == 0 && imports == 0 {
		p.Reporter.NothingToDo()
		return nil
	}
	// An import changes state as a send does, so it is approved as one.
	if actionable+imports > 0 {
		if err := p.Approver.Approve(ctx, plan); err != nil {
			return err
		}
	}
	// Carrying records to their moved-to addresses sends nothing either;
	// it comes first so that every later record lands under the new
	// address.
	if moves > 0 {
		if err := executor.RecordMoves(ctx, plan, p.Backend); err != nil {
			return err
		}
	}
	if imports > 0 {
		if err := p.importMessages(ctx, plan, out); err != nil {
			return p.interrupted(ctx, err, out)
		}
	}
	// Looking unknown messages up sends nothing, so it needs no approval.
	if unknowns > 0 {
		if plan, err = p.lookUp(ctx, plan, out); err != nil {
			return err
		}
		actionable = actionableOf(plan)
	}
	if actionable == 0 {
		p.Reporter.NothingToDo()
		return nil
	}
	sum, err := executor.Run(ctx, plan, p.Client, p.Backend, p.executorOptions(), p.hooks())
	out.Executed = true
	out.Result = Result{Summary: sum, Skipped: plan.SkippedCount(), SkippedAtLeast: plan.SkippedAtLeast()}
	if err != nil {
		return p.interrupted(ctx, err, out)
	}
	p.Reporter.Result(out.Result)
	return nil
}

// actionableOf counts what the executor would do with plan.
func actionableOf(plan *planner.Plan) int {
	counts := plan.Summary()
	return counts[planner.Send] + counts[planner.Retry] + counts[planner.Expire]
}

// lookUp looks plan's unknown messages up in their threads, and returns
// the plan to carry out after that.
func (p *pass) lookUp(ctx context.Context, plan *planner.Plan, out *Outcome) (*planner.Plan, error) {
	resolved, err := executor.Reconcile(ctx, plan, p.Client, p.Backend, p.executorOptions(), p.hooks())
	if err != nil {
		return plan, p.interrupted(ctx, err, out)
	}
	// What the look-ups settled changes the plan: found ones are sent,
	// and proven absences are retries under on_unknown = "resend". A
	// saved plan applies what it showed, so they wait for the next plan.
	if len(resolved) == 0 || p.Saved != nil {
		return plan, nil
	}
	before := actionableOf(plan)
	if _, plan, err = p.Inputs.PlanState(ctx, p.Backend); err != nil {
		return nil, err
	}
	out.Plan = plan
	if before == 0 && actionableOf(plan) > 0 && p.asks() {
		// Nothing was approved yet: show what will be sent now.
		if err := p.Reporter.Plan(plan); err != nil {
			return nil, err
		}
		if err := p.Approver.Approve(ctx, plan); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// asks reports whether the Approver is more than AutoApprove.
func (p *pass) asks() bool {
	_, auto := p.Approver.(autoApprove)
	return !auto
}

func (p *pass) executorOptions() executor.Options {
	cfg := p.Inputs.Config
	return executor.Options{
		Parallelism:  p.Parallelism,
		MaxAttempts:  p.MaxAttempts,
		AccountLimit: cfg.Provider.RateLimit,
		AccountID:    cfg.Provider.AccountID,
		Limiters:     p.Limiters,
		CheckMedia:   cfg.Provider.CheckMedia,
		Accounts:     p.Accounts,
		Now:          p.Clock,
		Sleep:        p.Sleep,
		Abort:        p.Abort,
		Lock:         p.Lock,
		Inbox:        cmp.Or[state.Inbox](p.Inbox, inboxOf(p.Backend)),
	}
}

// inboxOf is the inbox beside the state in b, nil when b keeps none.
func inboxOf(b state.Backend) state.Inbox {
	ib, _ := b.(state.Inbox)
	return ib
}

// hooks is what the executor reports to.
func (p *pass) hooks() executor.Hooks {
	if p.Hooks != nil {
		return p.Hooks
	}
	return p.Reporter
}

// importMessages records the plan's imports, each found in its thread,
// against the state read under the lock.
func (p *pass) importMessages(ctx context.Context, plan *planner.Plan, out *Outcome) error {
	snap, err := p.Backend.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", p.Backend.Describe(), err)
	}
	cfg := p.Inputs.Config
	results, err := executor.Import(ctx, plan, p.Client, p.Backend, snap, executor.ImportOptions{
		Now: p.Clock, Accounts: p.Accounts,
		AccountLimit: cfg.Provider.RateLimit, AccountID: cfg.Provider.AccountID, Limiters: p.Limiters,
	})
	for _, r := range results {
		p.Reporter.Imported(r)
		if !r.Recorded {
			out.ImportFailed = true
		}
	}
	return err
}

// plan makes the plan to carry out, from the state read under the lock:
// afresh, or the saved plan once it is checked against that state. It
// returns that state too.
func (p *pass) plan(ctx context.Context) (*planner.Plan, *state.Snapshot, error) {
	if p.Saved == nil {
		snap, plan, err := p.Inputs.PlanState(ctx, p.Backend)
		return plan, snap, err
	}
	snap, err := p.Backend.Snapshot(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading state %s: %w", p.Backend.Describe(), err)
	}
	var key []byte
	if p.Saved.NeedsKey() && p.PlanKey != nil {
		if key, err = p.PlanKey(); err != nil {
			return nil, nil, fmt.Errorf("%w; nothing was sent", err)
		}
	}
	if err := p.Saved.Check(p.Inputs.Config, snap, key); err != nil {
		return nil, nil, fmt.Errorf("%w; nothing was sent", err)
	}
	plan, err := p.Saved.Resolve(p.Inputs.Config, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w; nothing was sent", err)
	}
	return plan, snap, nil
}

// interrupted reports how a pass that stopped early ended: an interrupt
// (ErrInterrupted, with what was left), or another error.
func (p *pass) interrupted(ctx context.Context, err error, out *Outcome) error {
	res := &out.Result
	switch {
	case errors.Is(err, executor.ErrAborted):
		res.Aborted = true
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		res.Interrupted = true
	default:
		if res.Summary.Attempts > 0 || res.Summary.Sent+res.Summary.Expired > 0 {
			p.Reporter.Result(*res)
		}
		return err
	}
	p.Reporter.Result(*res)
	return ErrInterrupted
}

// release folds what was recorded into the stored state and releases the
// lock, and turns a failure to do so into the pass's error, or into
// out.SaveErr when the pass's own error stands.
func (p *pass) release(ctx context.Context, err error, out *Outcome) error {
	// The state must be saved even when ctx was cancelled by an interrupt.
	var perr error
	if p.stateRead {
		perr = p.Backend.Persist(context.WithoutCancel(ctx))
		if perr == nil {
			// Only what is saved is told: a notification never speaks of a
			// send the state could still lose, and is never recorded
			// before a send.
			out.Notified = p.recordNotifications(context.WithoutCancel(ctx), out)
		}
	}
	if p.KeepLock {
		// Every event is stored as it happens; a lost lock is the
		// caller's to handle.
		if errors.Is(perr, state.ErrLockLost) {
			perr = nil
		}
		if perr == nil {
			return err
		}
		return errors.Join(err, perr)
	}
	uerr := p.Backend.Unlock()
	cerr := p.Backend.Close()
	if perr != nil {
		perr = fmt.Errorf("saving state %s: %w; every recorded send is kept in its journal, and the next herald run reads it", p.Backend.Describe(), perr)
	}
	if uerr != nil {
		uerr = fmt.Errorf("releasing the state lock of %s: %w", p.Backend.Describe(), uerr)
	}
	if errors.Is(perr, state.ErrNotLocked) {
		perr = nil
	}
	serr := errors.Join(perr, uerr, cerr)
	if serr == nil {
		return err
	}
	if err == nil {
		return serr
	}
	out.SaveErr = serr
	return err
}

// recordNotifications records the events of the pass for the notify
// blocks that want them, from the state just saved.
func (p *pass) recordNotifications(ctx context.Context, out *Outcome) Notified {
	blocks := p.Inputs.Config.Notify
	if len(blocks) == 0 {
		return Notified{}
	}
	ob := p.Outbox
	if ob == nil {
		ob = state.OutboxOf(p.Backend)
	}
	if ob == nil {
		return Notified{}
	}
	snap, err := p.Backend.Snapshot(ctx)
	if err != nil {
		return Notified{Err: fmt.Errorf("reading state %s for notifications: %w", p.Backend.Describe(), err)}
	}
	now := p.Clock()
	s := out.Result.Summary
	events := notify.PassEvents(notify.Pass{
		Plan: out.Plan, State: snap, Executed: out.Executed, Now: now,
		Summary: notify.SummaryCounts(s.Sent, s.Failed, s.Unknown, s.Expired, s.NotStarted),
	})
	ns := notify.Notifications(blocks, events, now)
	if len(ns) == 0 {
		return Notified{}
	}
	limit := cmp.Or(p.NotifyLimit, state.OutboxLimit)
	added, dropped, err := ob.Enqueue(ctx, ns, limit)
	if err != nil {
		err = fmt.Errorf("recording notifications: %w; the next pass records them again", err)
	}
	return Notified{Recorded: added, Dropped: dropped, Err: err}
}

// ReportInterrupts tells n that an interrupt was seen (ctx ended) and
// then that the second one came (abort closed), until stop is closed.
func ReportInterrupts(ctx context.Context, abort <-chan struct{}, n Notices, stop <-chan struct{}) {
	select {
	case <-ctx.Done():
		n.Interrupting()
	case <-stop:
		return
	}
	select {
	case <-abort:
		n.Aborting()
	case <-stop:
	}
}
