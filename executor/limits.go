package executor

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldhq/herald/spec"
)

// maxStartSlack bounds how much wider than its period the start gate
// makes each window. A start is stamped just before the request is handed
// to the client, and the API sees it a little later, by an amount that
// varies from one request to the next (scheduling, a new connection);
// without slack two such delays could crowd N+1 arrivals into one window
// as the server measures it. On a loaded machine those delays reach tens
// of milliseconds. The slack is at most a tenth of the period, and costs
// no more than 2% of the allowed rate for periods of a second or more.
const maxStartSlack = 20 * time.Millisecond

// limit is one "N/period" rate limit. It is enforced twice:
//
//   - the pace, waited on before the attempt is recorded, spaces starts
//     one interval apart, so that a long run never sends in bursts. The
//     interval is the window over N rather than the period over N: paced
//     at that, N starts never crowd into one window and the window check
//     below seldom makes a start wait.
//   - starts remembers the moments of the last N requests. Recording an
//     attempt takes a variable time (a shared fsync), so a pace taken
//     before it does not by itself bound when the request leaves; the
//     window over actual starts is what makes "no more than N starts in
//     any window of the period" hold exactly.
//
// The pace is a token bucket (golang.org/x/time/rate) filled one token per
// interval with room for two: a start that went late (a timer that fired
// late on a busy machine, a send that was not ready) lets the next one go
// sooner by as much. A burst-1 bucket would lose that time for good, and
// with it a few percent of the rate on a loaded machine. At most one
// interval of lateness is made up, so that after an idle time at most two
// starts come together; whether they may is for the window check to say.
type limit struct {
	desc     string
	n        int
	window   time.Duration // the period plus slack: what the start gate keeps
	interval time.Duration // window / n: the pace
	pace     *rate.Limiter // one token per interval, room for two; nil before the first start
	starts   []time.Time   // ring of the last n starts, oldest at next
	next     int
}

func newLimit(desc string, rl spec.RateLimit) (*limit, error) {
	if rl.N <= 0 || rl.Per <= 0 {
		return nil, fmt.Errorf("%s: invalid rate limit %q: need at least one send per positive period", desc, rl.Text)
	}
	if rl.Every() <= 0 {
		return nil, fmt.Errorf("%s: invalid rate limit %q: %d sends do not fit in %s", desc, rl.Text, rl.N, rl.Per)
	}
	window := rl.Per + min(maxStartSlack, rl.Per/10)
	interval := window / time.Duration(rl.N)
	return &limit{
		desc:     desc,
		n:        rl.N,
		window:   window,
		interval: interval,
	}, nil
}

// paceBurst is how many starts the pace lets go together: one on time,
// and one more to make up a late one.
const paceBurst = 2

// newPace makes the pace at its first start: it holds a single token
// then, so that the first start goes at once and the next one interval
// later, not two together.
func newPace(interval time.Duration, now time.Time) *rate.Limiter {
	p := rate.NewLimiter(rate.Every(interval), paceBurst)
	p.AllowN(now, paceBurst-1)
	return p
}

// paceWait is how long until the pace lets the next start go, and one
// more start fits in the window as it stands: a pace taken while the
// window is full would only wait again at the start gate, unreported.
func (l *limit) paceWait(now time.Time) time.Duration {
	var d time.Duration
	if l.pace == nil {
		return max(l.startWait(now), 0)
	}
	if tokens := l.pace.TokensAt(now); tokens < 1 {
		// The bucket counts in floating point; a wait a nanosecond
		// short of the token would only be waited again.
		d = time.Duration(math.Ceil((1 - tokens) * float64(l.interval))).Round(time.Microsecond)
	}
	return max(d, l.startWait(now), 0)
}

// takePace takes a start's token from the pace at now.
func (l *limit) takePace(now time.Time) {
	if l.pace == nil {
		l.pace = newPace(l.interval, now)
	}
	if !l.pace.AllowN(now, 1) {
		// paceWait said the token was there; rounding may make it a hair
		// short. Take it anyway, so that the debt is paid by the next.
		l.pace.ReserveN(now, 1)
	}
}

// startWait is how long until one more start fits in every window.
func (l *limit) startWait(now time.Time) time.Duration {
	if len(l.starts) < l.n {
		return 0
	}
	elapsed := now.Sub(l.starts[l.next])
	if elapsed >= l.window {
		return 0
	}
	return l.window - elapsed
}

func (l *limit) noteStart(now time.Time) {
	if len(l.starts) < l.n {
		l.starts = append(l.starts, now)
		return
	}
	l.starts[l.next] = now
	l.next = (l.next + 1) % l.n
}

// limits holds the account limit and one limit per group. A single mutex
// makes taking both the account and the group pace one step, so that
// neither is held while waiting for the other (a pace taken early would let
// starts bunch up behind it).
type limits struct {
	mu sync.Mutex
	// accounts are the account limits by provider alias ("" the default).
	accounts map[string]*limit
	groups   map[string]*limit
	// groupAccount is the provider alias of each group.
	groupAccount map[string]string
	// now is the run's clock. Waits are real sleeps, so it must move on
	// with real time, as the default clock and a shifted one do.
	now func() time.Time
}

func (ls *limits) forGroup(name string) *limit {
	if ls == nil {
		return nil
	}
	return ls.groups[name]
}

// accountOf is the account limit a group's sends count against.
func (ls *limits) accountOf(group string) *limit {
	if ls == nil {
		return nil
	}
	return ls.accounts[ls.groupAccount[group]]
}

// pending names the limit that makes a caller wait longest, and how long.
func pending(now time.Time, wait func(*limit, time.Time) time.Duration, ls ...*limit) (time.Duration, *limit) {
	var longest time.Duration
	var by *limit
	for _, l := range ls {
		if l == nil {
			continue
		}
		if d := wait(l, now); d > longest {
			longest, by = d, l
		}
	}
	return longest, by
}

// takeTokens waits until both the account and the group pace let a start
// go and takes both at once. report is called once, with the first
// wait, when there is one to wait for.
func (ls *limits) takeTokens(ctx context.Context, group string, report func(time.Duration, string)) error {
	g, account := ls.forGroup(group), ls.accountOf(group)
	if account == nil && g == nil {
		return ctx.Err()
	}
	reported := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ls.mu.Lock()
		now := ls.now()
		d, by := pending(now, (*limit).paceWait, account, g)
		if d == 0 {
			for _, l := range []*limit{account, g} {
				if l != nil {
					l.takePace(now)
				}
			}
			ls.mu.Unlock()
			return nil
		}
		ls.mu.Unlock()
		if !reported {
			report(d, by.desc)
			reported = true
		}
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
}

// admitStart waits until one more start fits in every window of both
// limits and notes it, or returns ctx's cause once ctx ends. The wait is
// short (it only absorbs differences in how long recording took), and it
// is not cut short by the first interrupt: the attempt is already
// recorded, so the request should go. Only what ends ctx stops it: Abort,
// a lost lock, or the bound on the time between recording an attempt and
// writing its request.
func (ls *limits) admitStart(ctx context.Context, group string) error {
	g, account := ls.forGroup(group), ls.accountOf(group)
	for {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if account == nil && g == nil {
			return nil
		}
		ls.mu.Lock()
		now := ls.now()
		d, _ := pending(now, (*limit).startWait, account, g)
		if d == 0 {
			for _, l := range []*limit{account, g} {
				if l != nil {
					l.noteStart(now)
				}
			}
			ls.mu.Unlock()
			return nil
		}
		ls.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
