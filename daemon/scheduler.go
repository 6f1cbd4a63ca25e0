package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/daemon/service"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// scheduler is a herald run in progress: what it keeps from one wake to
// the next.
type scheduler struct {
	opts   *Options
	events Events

	key, secret string
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
	lastErrors []byte
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
	totals  Totals
	notices *interruptNotices
	// failedPass is set when the last pass had sends fail or become
	// unknown, for Once's error.
	failedPass bool

	health  *service.Health
	metrics *service.Metrics
	// recv is the webhook receiver, served with -listen; nil without.
	recv *receiver
	// rep holds a PostgreSQL state shared with other replicas, opened
	// with openShared.
	rep        *replica
	openShared func(context.Context, *spec.Config) (state.Backend, error)
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

// configError is an invalid configuration whose diagnostics were shown
// (or were unchanged).
type configError struct{ unchanged bool }

func (e *configError) Error() string { return "the configuration is invalid" }

// errStateNotSaved ends an interrupted run whose state could not be saved
// or released; the reason was reported.
var errStateNotSaved = fmt.Errorf("the state was not saved: %w", ErrReported)

func newScheduler(o *Options) *scheduler {
	return &scheduler{
		opts: o, events: o.Events,
		lookedUp: map[string]time.Time{}, retries: map[string]retryWait{},
		limiters: executor.NewLimiters(),
		health:   service.NewHealth(), metrics: service.NewMetrics(),
		notices:    &interruptNotices{events: o.Events},
		openShared: openShared(o),
	}
}

func (s *scheduler) now() time.Time { return s.opts.Now() }

func (s *scheduler) run(ctx context.Context) error {
	defer s.closeReplica()
	if s.opts.Listen != "" {
		s.recv = newReceiver(s.opts, s.metrics.WebhookRequest)
		defer s.recv.close()
		srv, err := service.Listen(s.opts.Listen, service.Handler(s.health, s.metrics, s.recv))
		if err != nil {
			return err
		}
		defer srv.Close()
		s.events.Listening(srv.Addr())
		if s.opts.Sandbox != nil {
			// The sandbox reports its messages to this run, as A1Base
			// would to the webhook's public address.
			s.opts.Sandbox.PostWebhooks("http://" + srv.Addr() + service.WebhookPath)
		}
	}
	if s.opts.Sandbox == nil {
		var err error
		if s.key, s.secret, err = a1base.CredentialsFromEnv(s.opts.Accounts.Getenv); err != nil {
			return err
		}
	}

	stop := make(chan struct{})
	defer close(stop)
	go operation.ReportInterrupts(ctx, s.opts.Abort, s.notices, stop)

	for first := true; ; first = false {
		plan, err := s.wake(ctx)
		wakeAt, nextAt, next := nextWake(plan, s.now(), s.opts.Poll)
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
		if ends, err := s.endsRun(ctx, err, first, wakeAt); ends {
			return err
		}
		if s.opts.Once {
			s.events.Stopped(s.totals)
			if s.failedPass {
				return ErrReported
			}
			return nil
		}
		if plan != nil {
			s.sleeping(Sleep{WakeAt: wakeAt, NextAt: nextAt, Next: next})
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
			if err := s.opts.Sleep(sctx, d); err != nil && ctx.Err() == nil && sctx.Err() == nil {
				return err
			}
		}
		if ctx.Err() != nil {
			s.stopped()
			return nil
		}
	}
}

// endsRun decides what a wake's error means: the end of the run (ends,
// with Run's error) or something to report and retry at retryAt.
func (s *scheduler) endsRun(ctx context.Context, err error, first bool, retryAt time.Time) (ends bool, _ error) {
	var cerr *configError
	var lerr *state.LockedError
	var lost *lockLostError
	switch {
	case errors.Is(err, ErrAborted):
		s.notices.Interrupting()
		s.notices.Aborting()
		s.events.Stopped(s.totals)
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
		// demote reported it.
		return false, nil
	case errors.As(err, &cerr):
		if first || s.opts.Once {
			return true, ErrReported
		}
		s.events.ConfigInvalid(cerr.unchanged, retryAt)
	case errors.As(err, &lerr):
		if s.opts.Once {
			return true, err
		}
		s.events.LockBusy(err, retryAt)
	default:
		// A replica that once reached its state rides out the database's
		// outages: its standbys do too.
		if (first && s.rep == nil) || s.opts.Once {
			return true, err
		}
		s.events.PassFailed(err, retryAt)
	}
	return false, nil
}

// stopped closes the log of a run that an interrupt stopped.
func (s *scheduler) stopped() {
	s.notices.Interrupting()
	s.events.Stopped(s.totals)
}

// interruptNotices says each interrupt once, whoever notices it first:
// the watcher as it comes, or the loop as it stops, so that the log always
// says why the run stopped.
type interruptNotices struct {
	events                 Events
	interrupting, aborting sync.Once
}

func (n *interruptNotices) Interrupting() { n.interrupting.Do(n.events.Interrupting) }
func (n *interruptNotices) Aborting()     { n.aborting.Do(n.events.Aborting) }

// sleeping reports what run sleeps until, when that changed since the
// last sleep: a poll that finds nothing new stays quiet.
func (s *scheduler) sleeping(sl Sleep) {
	key := "nothing"
	if !sl.NextAt.IsZero() {
		key = sl.NextAt.UTC().Format(time.RFC3339Nano) + fmt.Sprint(sl.Next)
	}
	if key == s.lastSleep {
		return
	}
	s.lastSleep = key
	s.events.Sleeping(sl)
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
	if s.recv != nil {
		s.recv.configure(ctx, in.Config)
	}
	if s.opts.Sandbox == nil {
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
	plan, err := in.Plan(ctx, backend)
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

	client, aliased, err := s.clientOf(in.Config, plan)
	if err != nil {
		closeState()
		return plan, err
	}
	pass := Pass{
		Loaded: in, Backend: backend, Client: client, Accounts: aliased,
		Hooks: s.metrics.Hooks(), KeepLock: s.rep != nil, Limiters: s.limiters,
	}
	if s.rep != nil {
		pass.Lock = s.rep.lock
	}
	if ib, ok := backend.(state.Inbox); ok && s.recv != nil {
		pass.Inbox = s.recv.live(ib)
	}
	began := clock.Now()
	out, err := s.opts.Apply(passCtx, pass)
	s.metrics.ObservePass(clock.Since(began))
	if cause := s.lockLost(err); cause != nil && ctx.Err() == nil {
		s.demote(cause)
		return plan, &lockLostError{cause: cause}
	}
	if out.Plan != nil {
		plan = out.Plan
		if err == nil {
			s.noteLookUps(plan, out.Summary.Unknowns)
		}
	}
	s.countPass(out)
	switch {
	case out.Aborted:
		return plan, ErrAborted
	case out.StateNotSaved:
		return plan, errStateNotSaved
	}
	return plan, err
}

// countPass adds what a pass did to the run's totals, and schedules the
// retries of what failed.
func (s *scheduler) countPass(out PassResult) {
	s.failedPass = false
	if !out.Executed {
		return
	}
	sum := out.Summary
	s.totals.Sent += sum.Sent
	s.totals.Failed += sum.Failed
	s.totals.Expired += sum.Expired
	s.totals.Unknown += sum.Unknown
	s.failedPass = sum.Failed+sum.Unknown > 0
	s.noteFailures(sum.Failures)
}

// noteLookUps records that a pass which carried plan out looked up its
// unknown messages now, and the sends that became unknown in it (each
// was looked up right after its answer was lost).
func (s *scheduler) noteLookUps(plan *planner.Plan, unknowns []executor.Failure) {
	looked := s.now()
	for _, c := range plan.Changes {
		if c.Action == planner.Unknown {
			s.lookedUp[c.Addr.String()] = looked
		}
	}
	for _, u := range unknowns {
		s.lookedUp[u.Addr.String()] = looked
	}
}

// load reads the configuration. Its diagnostics are shown when they
// differ from the last wake's, so that a configuration left broken does
// not repeat them at every poll.
func (s *scheduler) load() (*Loaded, error) {
	in, err := s.opts.Load()
	var inv *InvalidConfig
	if errors.As(err, &inv) {
		unchanged := s.invalid && bytes.Equal(inv.Errors, s.lastErrors)
		if !unchanged {
			s.events.Diagnostics(inv.Warnings, inv.Errors)
		}
		s.invalid, s.lastErrors = true, inv.Errors
		return nil, &configError{unchanged: unchanged}
	}
	if err != nil {
		return nil, err
	}
	if (s.invalid || in.Config.Hash != s.configHash) && len(in.Warnings) > 0 {
		// Warnings accompany a configuration that changed, once.
		s.events.Diagnostics(in.Warnings, nil)
	}
	return in, nil
}

// noteConfig reports a configuration seen for the first time, or changed.
func (s *scheduler) noteConfig(cfg *spec.Config, plan *planner.Plan) {
	if !s.invalid && cfg.Hash == s.configHash {
		return
	}
	reloaded := s.configHash != "" || s.invalid
	s.configHash, s.invalid, s.lastErrors = cfg.Hash, false, nil
	s.events.ConfigLoaded(plan.Summary()[planner.Wait], reloaded)
}

// openState opens the state the run keeps, without locking it; the
// first time, it also opens the log.
func (s *scheduler) openState(ctx context.Context, cfg *spec.Config) (state.Backend, error) {
	key := "sandbox"
	if s.opts.Sandbox == nil {
		key = backendKey(cfg.Backend)
	}
	if s.started && key != s.backendKey {
		return nil, errors.New("the configuration's backend block changed since herald run started; restart herald run to use the new state (nothing is sent until then)")
	}
	var backend state.Backend
	var err error
	if s.useReplica(cfg) {
		backend, err = s.openReplica(ctx, cfg)
	} else {
		backend, err = s.opts.OpenState(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	if !s.started {
		name := s.opts.DescribeState(backend)
		s.started, s.backendKey = true, key
		s.events.Started(Start{Poll: s.opts.Poll, State: name, Once: s.opts.Once})
		if s.opts.Sandbox != nil {
			s.events.Sandbox(s.opts.Sandbox.URL(), name)
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
	if s.opts.Sandbox != nil {
		set := s.opts.Sandbox.Connect(s.opts.Accounts, cfg)
		return set.Default, set.Aliased, nil
	}
	key := cfg.Provider.BaseURL + "\x00" + cfg.Provider.AccountID + "\x00" + cfg.Provider.Endpoint
	if s.client == nil || key != s.clientFor {
		c, err := accounts.Client(s.opts.Accounts, &cfg.Provider, s.key, s.secret)
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
	set, err := accounts.Connect(s.opts.Accounts, cfg, need)
	if err != nil {
		return nil, nil, err
	}
	return s.client, set.Aliased, nil
}

// nextWake is when run wakes after a pass that ended at now: at the
// earliest moment a message waiting in plan may send (its send_at, or for
// a due message whose thread waits for an unknown, the moment that
// settles), or a poll interval from now, whichever is sooner. nextAt and
// next name that moment and the messages due then (zero when nothing
// waits).
func nextWake(plan *planner.Plan, now time.Time, poll time.Duration) (wakeAt, nextAt time.Time, next []string) {
	wakeAt = now.Add(poll)
	if plan == nil {
		return wakeAt, time.Time{}, nil
	}
	for _, c := range plan.Changes {
		if c.Action != planner.Wait || c.Instance == nil {
			continue
		}
		// A due message whose thread waits for an unknown may send once
		// that settles: its send_at is past.
		t := c.NotBefore()
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
