package executor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const (
	// DefaultParallelism is how many groups send at once when Options
	// leaves it unset. Each group is strictly sequential anyway, and the
	// account limit bounds the total, so more parallelism mostly hides
	// network latency; four keeps a run's connections and the state's
	// group commits modest.
	DefaultParallelism = 4
	// DefaultMaxAttempts bounds the requests made for one message in one
	// run when Options leaves it unset.
	DefaultMaxAttempts = 5
	// DefaultBackoffBase is the wait before the first retry.
	DefaultBackoffBase = time.Second
	// DefaultBackoffMax caps the exponential backoff (a longer Retry-After
	// from the API is still honoured).
	DefaultBackoffMax = time.Minute
	// DefaultJitter is the fraction of each backoff drawn at random, so
	// that groups failing together do not retry in lockstep.
	DefaultJitter = 0.5
	// DefaultReportWait is the shortest rate-limit wait worth reporting.
	DefaultReportWait = time.Second
	// SendBound is the longest time herald lets pass between journaling
	// an attempt and writing its request, by the monotonic clock (and by
	// the wall clock, whichever has moved on more). A request not written
	// by then is never written: its attempt is recorded as not sent, so
	// that it is retried later. A process frozen after journaling (a
	// paused VM, a cgroup freezer, SIGSTOP) or held back by a long wait
	// therefore never writes a request that a replica which took the lock
	// meanwhile may have proven absent; spec.MinUnknownSettle is above
	// this bound plus ClockSkew and a request's own time.
	SendBound = 10 * time.Second
	// TakeoverWait is how long a process must have held the state lock,
	// by its own monotonic clock, before a look-up may prove absent an
	// attempt that an earlier holder journaled and left without an
	// outcome: that holder, frozen or cut off, may still write its
	// request up to SendBound after journaling it, which was before this
	// process took the lock, and the request may take up to the client's
	// timeout (a1base.DefaultTimeout) to connect and be written.
	TakeoverWait = SendBound + 30*time.Second
)

// Options tune a run. The zero value is usable: defaults apply to every
// field left zero.
type Options struct {
	// Parallelism is how many groups send at the same time.
	Parallelism int
	// MaxAttempts is how many requests one message may take in one run
	// before a transient failure is final.
	MaxAttempts int
	// AccountLimit is the default provider's rate_limit, shared by every
	// group it sends to; nil for none. Group limits come from each
	// instance's Group.
	AccountLimit *spec.RateLimit
	// AccountID is the default provider's account id. Provider blocks on
	// one account id count against one account: its starts, and every
	// rate limit any of them declares.
	AccountID string
	// Accounts are the aliased providers' accounts, by alias: each with
	// its own client and its own account rate limit. A group whose
	// provider has an alias sends through that account; the default
	// provider's is Run's client and AccountLimit.
	Accounts map[string]Account
	// Limiters count the starts the rate limits hold to, across runs:
	// give the same ones to every run and reconciliation of a process,
	// seeded from state (Limiters.Seed). Nil: the run counts only its own
	// starts.
	Limiters *Limiters
	// Inbox holds the messages A1Base's webhook reported (herald run
	// -listen stores them), which look-ups read beside the thread's
	// recent messages; nil: look-ups read the threads alone.
	Inbox state.Inbox
	// Backoff paces retries after transient failures.
	Backoff Backoff
	// CheckMedia checks each media URL before its first attempt; a
	// message whose media fails the check is failed without sending.
	CheckMedia bool
	// ReportWait is the shortest rate-limit wait reported through
	// Hooks.RateLimited.
	ReportWait time.Duration
	// Now is the one clock of a run: records, expiry, rate limits and
	// look-ups read it; clock.Now when nil. Rate-limit waits are real
	// sleeps, so the limits read it once, when the run begins, and move
	// on from there with the time that really passes.
	Now func() time.Time
	// Sleep waits before a retry, or returns ctx's error if ctx ends
	// first; a timer when nil.
	Sleep func(ctx context.Context, d time.Duration) error
	// Abort, once closed, cancels requests in flight at once. Cancelling
	// Run's context only stops new sends and lets requests in flight
	// finish; Abort is the second, harder interrupt.
	Abort <-chan struct{}
	// Lock, when set, lasts as long as the run holds the state's lock
	// (herald run's replica term) and ends, with the reason as its cause,
	// when the lock is lost. From then on no request is written: a wait
	// between journaling an attempt and writing its request ends at once,
	// and the attempt is recorded as not sent (a record the lost lock may
	// refuse, leaving it unknown). A request already written finishes.
	// Unlike Run's context, the first interrupt does not end it.
	Lock context.Context
}

// Account is one A1Base account of an aliased provider.
type Account struct {
	Client Sender
	// ID is the account id (see Options.AccountID).
	ID string
	// Limit is the provider's rate_limit; nil for none.
	Limit *spec.RateLimit
	// CheckMedia checks media URLs before sending for this account's
	// groups, as Options.CheckMedia does for the default one.
	CheckMedia bool
}

// Backoff is exponential backoff with jitter: the wait before retry k is
// Base·2^(k-1), capped at Max, of which a random fraction up to Jitter is
// taken off. A Retry-After from the API makes the wait at least that long.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
	// Jitter is a fraction in [0, 1]; zero means DefaultJitter and a
	// negative value means none.
	Jitter float64
	// Rand draws the jitter; seed it for reproducible waits. A randomly
	// seeded source when nil.
	Rand *rand.Rand
}

// ErrAborted reports that Abort cut requests short. It is returned
// together with context.Canceled.
var ErrAborted = errors.New("apply aborted: requests in flight were cancelled")

var errAborted = fmt.Errorf("%w: %w", ErrAborted, context.Canceled)

func (o Options) withDefaults() (Options, error) {
	if o.Parallelism < 0 {
		return o, fmt.Errorf("parallelism must be at least 1, got %d", o.Parallelism)
	}
	if o.Parallelism == 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.MaxAttempts < 0 {
		return o, fmt.Errorf("max attempts must be at least 1, got %d", o.MaxAttempts)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	b := &o.Backoff
	if b.Base < 0 || b.Max < 0 {
		return o, fmt.Errorf("backoff durations must not be negative")
	}
	if b.Base == 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max == 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultJitter
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		return o, fmt.Errorf("backoff jitter must be a fraction between 0 and 1, got %g", b.Jitter)
	}
	if b.Rand == nil {
		b.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.ReportWait <= 0 {
		o.ReportWait = DefaultReportWait
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	return o, nil
}

// backoff computes retry waits; it is shared by every group, and
// rand.Rand is not safe for concurrent use.
type backoff struct {
	mu  sync.Mutex
	cfg Backoff
}

// wait is the pause before the retry that follows the try-th request of
// this run, never shorter than what the API asked for.
func (b *backoff) wait(try int, retryAfter time.Duration) time.Duration {
	d := b.cfg.Base
	for i := 1; i < try && d < b.cfg.Max; i++ {
		d *= 2
	}
	d = min(d, b.cfg.Max)
	if b.cfg.Jitter > 0 {
		b.mu.Lock()
		f := b.cfg.Rand.Float64()
		b.mu.Unlock()
		d -= time.Duration(f * b.cfg.Jitter * float64(d))
	}
	return max(d, retryAfter)
}
