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
// as the server measures it. The slack is at most a tenth of the period,
// and costs no more than 1% of the allowed rate for periods of a second
// or more.
const maxStartSlack = 10 * time.Millisecond

// limit is one "N/period" rate limit. It is enforced twice:
//
//   - pace, a burst-1 token bucket with one token every period/N, is
//     waited on before the attempt is recorded. It spaces starts evenly,
//     so that a long run never sends in bursts.
//   - starts remembers the moments of the last N requests. Recording an
//     attempt takes a variable time (a shared fsync), so a token taken
//     before it does not by itself bound when the request leaves; the
//     window over actual starts is what makes "no more than N starts in
//     any window of the period" hold exactly.
type limit struct {
	desc   string
	n      int
	window time.Duration // the period plus slack: what the start gate keeps
	pace   *rate.Limiter
	starts []time.Time // ring of the last n starts, oldest at next
	next   int
}

func newLimit(desc string, rl spec.RateLimit) (*limit, error) {
	if rl.N <= 0 || rl.Per <= 0 {
		return nil, fmt.Errorf("%s: invalid rate limit %q: need at least one send per positive period", desc, rl.Text)
	}
	if rl.Every() <= 0 {
		return nil, fmt.Errorf("%s: invalid rate limit %q: %d sends do not fit in %s", desc, rl.Text, rl.N, rl.Per)
	}
	return &limit{
		desc:   desc,
		n:      rl.N,
		window: rl.Per + min(maxStartSlack, rl.Per/10),
		pace:   rate.NewLimiter(rate.Every(rl.Every()), 1),
	}, nil
}

// paceWait is how long until the token bucket holds a whole token.
func (l *limit) paceWait(now time.Time) time.Duration {
	tokens := l.pace.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	secs := (1 - tokens) / float64(l.pace.Limit())
	return time.Duration(math.Ceil(secs * float64(time.Second)))
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
// makes taking both an account and a group token one step, so that no
// token is held while waiting for the other (a token held early would let
// starts bunch up behind it).
type limits struct {
	mu      sync.Mutex
	account *limit
	groups  map[string]*limit
}

func (ls *limits) forGroup(name string) *limit {
	if ls == nil {
		return nil
	}
	return ls.groups[name]
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

// takeTokens waits until both the account and the group bucket hold a
// token and takes both at once. report is called once, with the first
// wait, when there is one to wait for.
func (ls *limits) takeTokens(ctx context.Context, group string, report func(time.Duration, string)) error {
	g := ls.forGroup(group)
	if ls.account == nil && g == nil {
		return ctx.Err()
	}
	reported := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ls.mu.Lock()
		now := time.Now()
		d, by := pending(now, (*limit).paceWait, ls.account, g)
		if d == 0 {
			for _, l := range []*limit{ls.account, g} {
				if l != nil {
					l.pace.AllowN(now, 1)
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
// limits and notes it, or returns errAborted once abort is closed. The wait is short (it only absorbs differences in
// how long recording took), and it is not cut short by the first
// interrupt: the attempt is already recorded, so the request should go.
// Only abort stops it.
func (ls *limits) admitStart(abort <-chan struct{}, group string) error {
	g := ls.forGroup(group)
	for {
		select {
		case <-abort:
			return errAborted
		default:
		}
		if ls.account == nil && g == nil {
			return nil
		}
		ls.mu.Lock()
		now := time.Now()
		d, _ := pending(now, (*limit).startWait, ls.account, g)
		if d == 0 {
			for _, l := range []*limit{ls.account, g} {
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
		case <-abort:
			t.Stop()
			return errAborted
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
