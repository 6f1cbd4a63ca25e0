package executor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// The start gate makes every window a safety margin wider than its
// period. A start is stamped when its request has been written to the
// connection (a1base.WithWritten), so that the time taken to open or reuse
// a connection no longer counts; what is left between the stamp and the
// moment the API counts the request is the network path and the API's own
// scheduling, which vary from one request to the next. Two such delays
// that differ by more than the margin could crowd N+1 arrivals into one
// window as the server measures it; within it they cannot.
//
// The margin is a fiftieth of the period, at least minStartMargin and at
// most a tenth of the period: 20 ms for a period of a second, 1.2 s for a
// minute. It costs 2% of the allowed rate (for a second or more). It was
// chosen from the spread of the delay between the write and the arrival
// measured by the reliability suite's jitter scenario on loopback under
// CPU load (see docs/commands/apply.md, "Rate limits and parallelism").
const (
	minStartMargin  = 20 * time.Millisecond
	startMarginPart = 50
)

// startMargin is the safety margin added to a period.
func startMargin(per time.Duration) time.Duration {
	return min(max(minStartMargin, per/startMarginPart), per/10)
}

// unwrittenFor bounds how long after its attempt was recorded a request
// may still be written: the wait at the start gate (at most a window) and
// the request's timeout. An attempt state holds without an end is counted
// as written at the latest moment it could have been.
const unwrittenFor = a1base.DefaultTimeout

// Limiters hold what the account and group rate limits count: when each
// recent start was written, and the starts admitted but not yet written.
// They outlive a run: apply seeds them from the attempts state records
// (Seed), and herald run keeps one across its passes, so that no window
// ever holds more than N starts, whether they came from one run or from
// several runs, processes or replicas. Accounts are told apart by account
// id: two provider blocks on one account count against the same starts.
// Thread look-ups count against their account's limits as sends do.
// Limiters are safe for concurrent use; the zero value is not usable, use
// NewLimiters.
type Limiters struct {
	mu sync.Mutex
	// histories are the starts by what they count for: "account ID" or
	// "group NAME".
	histories map[string]*history
	// limits keep their pace from one run to the next.
	limits map[limitKey]*limit
	// noted holds the attempts already in the histories, by
	// "address#number", with their stamp: Seed adds only others'.
	noted map[string]time.Time
	// seeded is set after the first Seed, which also takes state's
	// recorded look-ups (later ones are this process's own).
	seeded bool
	// changed is closed and replaced whenever a start is written.
	changed chan struct{}
}

// NewLimiters returns limiters that have counted nothing yet.
func NewLimiters() *Limiters {
	return &Limiters{
		histories: map[string]*history{},
		limits:    map[limitKey]*limit{},
		noted:     map[string]time.Time{},
		changed:   make(chan struct{}),
	}
}

type limitKey struct {
	history string
	n       int
	per     time.Duration
}

// history is the starts one account or group has made.
type history struct {
	// starts are the moments recent starts were written, oldest first.
	starts []time.Time
	// pending counts the starts admitted and not yet written.
	pending int
	// keep is the widest window of a limit on the history: older starts
	// are let go.
	keep time.Duration
}

func (h *history) add(at time.Time) {
	i := sort.Search(len(h.starts), func(i int) bool { return h.starts[i].After(at) })
	h.starts = slices.Insert(h.starts, i, at)
}

// prune lets go of the starts no window counts any more.
func (h *history) prune(now time.Time) {
	i := sort.Search(len(h.starts), func(i int) bool { return h.starts[i].After(now.Add(-h.keep)) })
	h.starts = h.starts[i:]
}

// since is the starts after from.
func (h *history) since(from time.Time) []time.Time {
	i := sort.Search(len(h.starts), func(i int) bool { return h.starts[i].After(from) })
	return h.starts[i:]
}

// accountHistory and groupHistory name the histories.
func accountHistory(alias, id string) string {
	if id == "" {
		// Without an id only the alias tells accounts apart.
		return "account alias " + alias
	}
	return "account " + id
}

func groupHistory(name string) string { return "group " + name }

// limitFor is the limit of rl over the named history; ls.mu is held.
func (ls *Limiters) limitFor(hist, desc string, rl spec.RateLimit) (*limit, error) {
	key := limitKey{hist, rl.N, rl.Per}
	if l := ls.limits[key]; l != nil {
		l.desc = desc
		return l, nil
	}
	l, err := newLimit(desc, rl)
	if err != nil {
		return nil, err
	}
	h := ls.histories[hist]
	if h == nil {
		h = &history{}
		ls.histories[hist] = h
	}
	h.keep = max(h.keep, l.window)
	l.h = h
	ls.limits[key] = l
	return l, nil
}

// limit is one "N/period" rate limit over a history of starts. It is
// enforced twice:
//
//   - the pace, waited on before the attempt is recorded, spaces starts
//     one interval apart, so that a long run never sends in bursts. The
//     interval is the window over N rather than the period over N: paced
//     at that, N starts never crowd into one window and the window check
//     below seldom makes a start wait.
//   - the start gate admits a start only when one more fits in the window
//     with the starts written and those admitted before it. Recording an
//     attempt takes a variable time (a shared fsync), and so does opening
//     a connection, so a pace taken before them does not by itself bound
//     when the request leaves; the window over the moments requests were
//     written is what makes "no more than N starts in any window of the
//     period" hold exactly.
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
	window   time.Duration // the period plus its margin: what the start gate keeps
	interval time.Duration // window / n: the pace
	pace     *rate.Limiter // one token per interval, room for two; nil before the first start
	h        *history
}

func newLimit(desc string, rl spec.RateLimit) (*limit, error) {
	if rl.N <= 0 || rl.Per <= 0 {
		return nil, fmt.Errorf("invalid %s: need at least one send per positive period", desc)
	}
	if rl.Every() <= 0 {
		return nil, fmt.Errorf("invalid %s: %d sends do not fit in %s", desc, rl.N, rl.Per)
	}
	window := rl.Per + startMargin(rl.Per)
	interval := window / time.Duration(rl.N)
	return &limit{
		desc:     desc,
		n:        rl.N,
		window:   window,
		interval: interval,
		h:        &history{keep: window},
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
	d := l.startWait(now)
	if l.pace == nil {
		return d
	}
	if tokens := l.pace.TokensAt(now); tokens < 1 {
		// The bucket counts in floating point; a wait a nanosecond
		// short of the token would only be waited again.
		d = max(d, time.Duration(math.Ceil((1-tokens)*float64(l.interval))).Round(time.Microsecond))
	}
	return d
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

// startWait is how long until one more start fits in the window, with
// the starts not yet written counted as made now; while that depends on
// one of those, it is zero and inFlight says so.
func (l *limit) startWait(now time.Time) time.Duration {
	recent, j := l.leaving(now)
	if j < 0 || j >= len(recent) {
		return 0
	}
	return max(recent[j].Add(l.window).Sub(now), 0)
}

// inFlight reports that one more start fits in the window only once a
// start admitted and not yet written has been: its end cannot be known
// before.
func (l *limit) inFlight(now time.Time) bool {
	recent, j := l.leaving(now)
	return j >= len(recent)
}

// leaving is the starts in the window at now and the index among them of
// the one that must leave it before one more start fits (-1: none must;
// len(recent) or more: one not yet written).
func (l *limit) leaving(now time.Time) ([]time.Time, int) {
	recent := l.h.since(now.Add(-l.window))
	k := len(recent) + l.h.pending
	if k < l.n {
		return recent, -1
	}
	// The oldest k-n+1 must leave the window first.
	return recent, k - l.n
}

// noteStart counts a start written at now.
func (l *limit) noteStart(now time.Time) {
	l.h.add(now)
	l.h.prune(now)
}

// limits are the limits one run or reconciliation sends under: the
// account limits of each provider alias and the group limits, over the
// process's Limiters. A single mutex makes taking every pace one step, so
// that none is held while waiting for another (a pace taken early would
// let starts bunch up behind it).
type limits struct {
	*Limiters
	// accounts are the account limits by provider alias ("" the
	// default): every limit declared on the alias's account.
	accounts map[string][]*limit
	groups   map[string]*limit
	// groupAccount is the provider alias of each group.
	groupAccount map[string]string
	// now is the run's clock. Waits are real sleeps, so it must move on
	// with real time, as the default clock and a shifted one do.
	now func() time.Time
}

// buildLimits makes the limits of the accounts in opts and of the queues'
// groups, over opts.Limiters or, without them, limiters of their own.
func buildLimits(opts Options, queues []*queue, now func() time.Time) (*limits, error) {
	shared := opts.Limiters
	if shared == nil {
		shared = NewLimiters()
	}
	ls := &limits{Limiters: shared, accounts: map[string][]*limit{}, groups: map[string]*limit{}, groupAccount: map[string]string{}, now: now}
	type account struct {
		alias, id, hist string
		rl              *spec.RateLimit
	}
	all := []account{{"", opts.AccountID, accountHistory("", opts.AccountID), opts.AccountLimit}}
	aliases := make([]string, 0, len(opts.Accounts))
	for alias := range opts.Accounts {
		if alias != "" {
			aliases = append(aliases, alias)
		}
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		a := opts.Accounts[alias]
		all = append(all, account{alias, a.ID, accountHistory(alias, a.ID), a.Limit})
	}
	blocks := map[string]int{}
	for _, a := range all {
		blocks[a.hist]++
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	// Provider blocks on one account share its limits, all of them.
	byHist := map[string][]*limit{}
	for _, a := range all {
		if a.rl == nil {
			continue
		}
		desc := accountLimitDesc(a.alias, a.rl)
		if blocks[a.hist] > 1 {
			desc = fmt.Sprintf("account rate limit of %s (%s)", a.id, a.rl.Text)
		}
		l, err := shared.limitFor(a.hist, desc, *a.rl)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(byHist[a.hist], l) {
			byHist[a.hist] = append(byHist[a.hist], l)
		}
	}
	for _, a := range all {
		ls.accounts[a.alias] = byHist[a.hist]
	}
	for _, q := range queues {
		ls.groupAccount[q.group] = q.account
		if q.limit == nil {
			continue
		}
		l, err := shared.limitFor(groupHistory(q.group), groupLimitDesc(q.group, q.limit), *q.limit)
		if err != nil {
			return nil, err
		}
		ls.groups[q.group] = l
	}
	return ls, nil
}

func accountLimitDesc(alias string, rl *spec.RateLimit) string {
	if alias == "" {
		return "account rate limit (" + rl.Text + ")"
	}
	return fmt.Sprintf("account rate limit of a1base.%s (%s)", alias, rl.Text)
}

func groupLimitDesc(group string, rl *spec.RateLimit) string {
	return fmt.Sprintf("rate limit of group %q (%s)", group, rl.Text)
}

// ofSend is every limit a send to group counts against.
func (ls *limits) ofSend(group string) []*limit {
	if ls == nil {
		return nil
	}
	out := ls.accounts[ls.groupAccount[group]]
	if g := ls.groups[group]; g != nil {
		out = append(slices.Clip(out), g)
	}
	return out
}

// ofLookUp is every limit a look-up of a thread of the alias's account
// counts against.
func (ls *limits) ofLookUp(alias string) []*limit {
	if ls == nil {
		return nil
	}
	return ls.accounts[alias]
}

// pending names the limit that makes a caller wait longest, and how long;
// inFlight is set when one waits for a start to be written.
func pending(now time.Time, wait func(*limit, time.Time) time.Duration, ls []*limit) (longest time.Duration, by *limit, inFlight bool) {
	for _, l := range ls {
		if l.inFlight(now) {
			inFlight = true
		}
		if d := wait(l, now); d > longest {
			longest, by = d, l
		}
	}
	return longest, by, inFlight
}

// takeTokens waits until the pace of every limit of a send to group lets
// a start go and takes them all at once. report is called once, with the
// first wait, when there is one to wait for.
func (ls *limits) takeTokens(ctx context.Context, group string, report func(time.Duration, string)) error {
	return ls.take(ctx, ls.ofSend(group), report)
}

func (ls *limits) take(ctx context.Context, lims []*limit, report func(time.Duration, string)) error {
	if len(lims) == 0 {
		return ctx.Err()
	}
	reported := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ls.mu.Lock()
		now := ls.now()
		d, by, inFlight := pending(now, (*limit).paceWait, lims)
		if d == 0 && !inFlight {
			for _, l := range lims {
				l.takePace(now)
			}
			ls.mu.Unlock()
			return nil
		}
		changed := ls.changed
		ls.mu.Unlock()
		if !reported && report != nil && d > 0 {
			report(d, by.desc)
			reported = true
		}
		if err := waitFor(ctx, changed, d, inFlight); err != nil {
			return ctx.Err()
		}
	}
}

// waitFor waits for d, or, when inFlight, for a start to be written
// (changed) as well; ctx's cause when ctx ends first.
func waitFor(ctx context.Context, changed <-chan struct{}, d time.Duration, inFlight bool) error {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	if !inFlight {
		changed = nil
	}
	select {
	case <-timer:
	case <-changed:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// ticket is a start admitted by the start gate. Written stamps it at the
// moment its request was written; a request that ended without being
// reported written is stamped when it ended, which is no earlier.
type ticket struct {
	ls   *limits
	hs   []*history
	key  string
	once sync.Once
}

// written stamps the start now; only the first call counts.
func (t *ticket) written() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		ls := t.ls
		ls.mu.Lock()
		defer ls.mu.Unlock()
		now := ls.now()
		for _, h := range t.hs {
			h.pending--
			h.add(now)
			h.prune(now)
		}
		if t.key != "" {
			ls.noted[t.key] = now
		}
		close(ls.changed)
		ls.changed = make(chan struct{})
	})
}

// release gives back a start admitted for a request that was never
// written: it holds no window.
func (t *ticket) release() {
	if t == nil {
		return
	}
	t.once.Do(func() {
		ls := t.ls
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for _, h := range t.hs {
			h.pending--
		}
		close(ls.changed)
		ls.changed = make(chan struct{})
	})
}

// watch is ctx for the request the ticket admitted, reporting its write.
func (t *ticket) watch(ctx context.Context) context.Context {
	if t == nil {
		return ctx
	}
	return a1base.WithWritten(ctx, t.written)
}

// admitStart waits until one more start fits in every window of the
// limits of a send to group, and admits it; the ticket must be stamped
// (written) once the request was written or has ended. attempt names it
// as Seed would ("address#number"). It returns ctx's cause once ctx
// ends. The wait is short (it only absorbs differences in how long
// recording took), and it is not cut short by the first interrupt: the
// attempt is already recorded, so the request should go. Only what ends
// ctx stops it: Abort, a lost lock, or the bound on the time between
// recording an attempt and writing its request.
func (ls *limits) admitStart(ctx context.Context, group, attempt string) (*ticket, error) {
	return ls.admit(ctx, ls.ofSend(group), attempt)
}

func (ls *limits) admit(ctx context.Context, lims []*limit, key string) (*ticket, error) {
	for {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if len(lims) == 0 {
			return nil, nil
		}
		ls.mu.Lock()
		now := ls.now()
		d, _, inFlight := pending(now, (*limit).startWait, lims)
		if d == 0 && !inFlight {
			t := &ticket{ls: ls, key: key}
			for _, l := range lims {
				if !slices.Contains(t.hs, l.h) {
					t.hs = append(t.hs, l.h)
					l.h.pending++
				}
			}
			ls.mu.Unlock()
			return t, nil
		}
		changed := ls.changed
		ls.mu.Unlock()
		if err := waitFor(ctx, changed, d, inFlight); err != nil {
			return nil, err
		}
	}
}

// lookUp reads a thread's recent messages once the account's limits let
// the request go, and counts it against them.
func (ls *limits) lookUp(ctx context.Context, client Sender, alias, thread string) ([]a1base.ThreadMessage, error) {
	lims := ls.ofLookUp(alias)
	if err := ls.take(ctx, lims, nil); err != nil {
		return nil, err
	}
	t, err := ls.admit(ctx, lims, "")
	if err != nil {
		return nil, ctx.Err()
	}
	defer t.written()
	return client.RecentMessages(t.watch(ctx), thread)
}

// attemptKey names attempt n of the record at addr among the noted ones.
func attemptKey(addr string, n int) string { return fmt.Sprintf("%s#%d", addr, n) }

// Seed counts the starts state records that these limiters have not
// counted themselves: other runs', other processes' and other replicas'.
// cfg names each group's account and the limits, now is the clock of the
// runs to come. An attempt counts from its end, or, without one (in flight
// elsewhere, or cut short by a crash), from the latest moment its request
// could have been written; either is no earlier than the write, so a
// window measured from it holds at least what it held at the API. A start
// stamped ahead of now counts as made now. The first Seed also counts the
// look-ups state records; after it this process counts its own. A group no
// longer configured counts against the default provider's account.
func (ls *Limiters) Seed(snap *state.Snapshot, cfg *spec.Config, now time.Time) error {
	if snap == nil || cfg == nil {
		return nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	hist := map[string]string{} // provider alias → account history
	for _, p := range cfg.Providers() {
		hist[p.Alias] = accountHistory(p.Alias, p.AccountID)
		if p.RateLimit != nil {
			if _, err := ls.limitFor(hist[p.Alias], accountLimitDesc(p.Alias, p.RateLimit), *p.RateLimit); err != nil {
				return err
			}
		}
	}
	for name, g := range cfg.Groups {
		if g != nil && g.RateLimit != nil {
			if _, err := ls.limitFor(groupHistory(name), groupLimitDesc(name, g.RateLimit), *g.RateLimit); err != nil {
				return err
			}
		}
	}
	var widest time.Duration
	for _, h := range ls.histories {
		widest = max(widest, h.keep)
	}
	for key, at := range ls.noted {
		if at.Before(now.Add(-2*widest - unwrittenFor)) {
			delete(ls.noted, key)
		}
	}
	for _, rec := range snap.Records {
		if rec == nil {
			continue
		}
		alias := ""
		if g := cfg.Groups[rec.Group]; g != nil {
			alias = g.ProviderAlias()
		}
		hs := []*history{ls.histories[hist[alias]], ls.histories[groupHistory(rec.Group)]}
		for i := range rec.Attempts {
			a := &rec.Attempts[i]
			if !ls.seeded && a.LookUp != nil {
				seedStart(hs[0], a.LookUp.At, now)
			}
			key := attemptKey(rec.Address, a.Number)
			if _, ok := ls.noted[key]; ok {
				continue
			}
			counted := false
			for _, h := range hs {
				if h == nil {
					continue
				}
				at := now
				if a.FinishedAt != nil {
					at = *a.FinishedAt
				} else if latest := a.StartedAt.Add(h.keep + unwrittenFor); latest.Before(now) {
					at = latest
				}
				counted = seedStart(h, at, now) || counted
			}
			if counted {
				ls.noted[key] = now
			}
		}
	}
	ls.seeded = true
	for _, h := range ls.histories {
		h.prune(now)
	}
	return nil
}

// seedStart counts a start of another run at at, when a window still
// holds it.
func seedStart(h *history, at, now time.Time) bool {
	if h == nil || !at.After(now.Add(-h.keep)) {
		return false
	}
	if at.After(now) {
		at = now
	}
	h.add(at)
	return true
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
