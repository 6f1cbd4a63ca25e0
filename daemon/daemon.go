package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const (
	// DefaultPoll is the longest run sleeps before it reads the
	// configuration again.
	DefaultPoll = time.Minute
	// maxRetryWait caps how long run leaves a failed message before it
	// tries it again.
	maxRetryWait = time.Hour
)

// Options is what a run is made of: its settings, and the pieces of the
// command it is started from (reading the configuration, opening the
// state, one locked apply pass, the events' view).
type Options struct {
	// Poll is the longest sleep between two wakes.
	Poll time.Duration
	// Once makes one pass, then returns.
	Once bool
	// Replicas lets a PostgreSQL state be shared with other runs as
	// replicas (off with -once, -sandbox and -state).
	Replicas bool
	// Listen is the address of the health and metrics endpoints and of
	// the webhook receiver (WebhookPath); empty for none.
	Listen string
	// Webhook configures the webhook receiver.
	Webhook WebhookOptions

	// Accounts is where credentials and PG* variables are read.
	Accounts accounts.Env
	// Sandbox, when set, is where messages go instead of A1Base; no
	// credentials are then needed.
	Sandbox *accounts.Sandbox

	// Load reads the configuration at a wake. An invalid one is an
	// *InvalidConfig; any other error is returned as it is.
	Load func() (*Loaded, error)
	// OpenState opens the state of cfg, without locking it, for a run
	// that is not a replica.
	OpenState func(ctx context.Context, cfg *spec.Config) (state.Backend, error)
	// DescribeState names a state for the log.
	DescribeState func(state.Backend) string
	// Apply makes one locked pass: lock (unless held), plan, look up,
	// send, record, and unlock (unless Pass.KeepLock).
	Apply func(ctx context.Context, p Pass) (PassResult, error)

	// Events is told what happens; the daemon prints nothing itself.
	Events Events
	// Now is the clock; nil is clock.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; nil is a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Abort is closed on the second interrupt; the first one cancels the
	// context Run is given.
	Abort <-chan struct{}
}

// Loaded is a configuration read at one wake.
type Loaded struct {
	Config *spec.Config
	// Warnings is its diagnostics (warnings only), rendered.
	Warnings []byte
	// Plan plans Config against backend, which it reads without the lock.
	Plan func(ctx context.Context, backend state.Backend) (*planner.Plan, error)
	// Inputs is what a pass plans from (Config among it), for Apply.
	Inputs *operation.Inputs
}

// InvalidConfig is a configuration with errors: its diagnostics,
// rendered.
type InvalidConfig struct {
	Warnings, Errors []byte
}

func (e *InvalidConfig) Error() string { return "the configuration is invalid" }

// Pass is what Apply is given for one locked pass.
type Pass struct {
	Loaded  *Loaded
	Backend state.Backend
	// Client is the default provider's; Accounts are the aliased
	// providers' clients and limits.
	Client   executor.Sender
	Accounts map[string]executor.Account
	// Hooks are told what the executor reports (the metrics).
	Hooks executor.Hooks
	// KeepLock leaves the backend locked and open after the pass: an
	// active replica holds the lock across passes.
	KeepLock bool
	// Lock, when set, ends when the state lock is lost: see
	// executor.Options.Lock.
	Lock context.Context
	// Limiters count the starts of every pass, so that a pass's sends
	// wait for the windows of the last one's.
	Limiters *executor.Limiters
	// Inbox, with -listen, is the webhook's inbox beside Backend's state
	// with this run's receiver's span as lasting until the moment it is
	// read; nil without -listen.
	Inbox state.Inbox
}

// PassResult is what a pass did.
type PassResult struct {
	// Plan is the plan the pass carried out; nil when it stopped before
	// planning.
	Plan *planner.Plan
	// Executed is set when the executor ran; Summary is then its summary.
	Executed bool
	Summary  executor.Summary
	// Aborted is set when a second interrupt cancelled the sends in
	// flight.
	Aborted bool
	// StateNotSaved is set when an interrupted pass could not save the
	// state or release the lock (and said so).
	StateNotSaved bool
}

var (
	// ErrAborted ends a run whose sends in flight a second interrupt
	// cancelled.
	ErrAborted = errors.New("the sends in flight were cancelled")
	// ErrReported ends a run for a reason its events already told: an
	// invalid configuration at the start, a pass whose sends failed with
	// Once, a state not saved after an interrupt.
	ErrReported = errors.New("errors reported")
)

// Start describes a run that is starting.
type Start struct {
	// Poll is the longest sleep between two reads of the configuration.
	Poll time.Duration
	// State names the state run keeps.
	State string
	// Once: one pass, then exit.
	Once bool
}

// Sleep is what run sleeps until.
type Sleep struct {
	// WakeAt is when it wakes: the next send_at, or a poll interval from
	// now when that is sooner.
	WakeAt time.Time
	// NextAt is the earliest send_at still waiting and Next the messages
	// due then; both zero when nothing is waiting.
	NextAt time.Time
	Next   []string
}

// Totals counts what a run did across its passes.
type Totals struct {
	Sent, Failed, Expired, Unknown int
}

// Events is what a run reports, in the order it happens. Its methods may
// be called from more than one goroutine.
type Events interface {
	// Listening says where the health and metrics endpoints are served.
	Listening(addr string)
	// Started opens the log.
	Started(s Start)
	// Sandbox says where the sandbox is and which state it keeps.
	Sandbox(url, statePath string)
	// Diagnostics shows the configuration's diagnostics: when it changed,
	// or when its errors did.
	Diagnostics(warnings, errors []byte)
	// ConfigLoaded says that the configuration was read, for the first
	// time or (reloaded) changed since the last wake, and how many
	// messages wait.
	ConfigLoaded(waiting int, reloaded bool)
	// ConfigInvalid says that the configuration has errors, shown before
	// unless they are unchanged since the last wake, so that nothing is
	// sent until retryAt.
	ConfigInvalid(unchanged bool, retryAt time.Time)
	// LockBusy says that another process holds the state lock, so the
	// pass is left to retryAt.
	LockBusy(err error, retryAt time.Time)
	// PassFailed reports an error that ended a pass early; the run goes
	// on at retryAt.
	PassFailed(err error, retryAt time.Time)
	// Sleeping says what run sleeps until, when that changed.
	Sleeping(s Sleep)
	// Interrupting says that the first interrupt came; Aborting that the
	// second did.
	Interrupting()
	Aborting()
	// Stopped closes the log.
	Stopped(t Totals)

	// Active says that this replica holds the state lock from the start;
	// TookOver that it took it from another.
	Active()
	TookOver()
	// StandingBy says that another replica holds the lock (holder: who,
	// when known).
	StandingBy(lock string, holder *state.LockInfo)
	// StateUnreachable says that the state cannot be reached; the
	// replica tries again in retryIn.
	StateUnreachable(err error, retryIn time.Duration)
	// LockLost says that the lock was lost: sending stopped.
	LockLost(err error)
	// ReleaseFailed says that the state could not be released at the end.
	ReleaseFailed(err error)

	// WebhookRefused says that a webhook request was refused, and why.
	WebhookRefused(res WebhookResult)
	// InboxFailed says that the webhook's inbox could not be opened or
	// written.
	InboxFailed(err error)
}

// Run runs until ctx ends (an interrupt) or, with Once, for one pass. It
// returns nil on a stop by interrupt, ErrAborted after a second one,
// ErrReported when the reason was reported, and any other error for a
// configuration or state unusable at the start.
func Run(ctx context.Context, o Options) error {
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	s := newScheduler(&o)
	return s.run(ctx)
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
