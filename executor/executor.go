package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/testhook"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Sender is the part of the A1Base client the executor needs. SendGroup
// and RecentMessages report when their request was written through the
// function a1base.WithWritten puts in ctx, if they can: the rate limits
// count a start from then (or, without it, from when the call returned).
type Sender interface {
	SendGroup(ctx context.Context, req a1base.SendRequest) a1base.Result
	RecentMessages(ctx context.Context, threadID string) ([]a1base.ThreadMessage, error)
	CheckMedia(ctx context.Context, url, mediaType string) error
}

// abortRecordWait bounds how long recording an outcome may take after
// Abort: the user asked to stop at once, and a missing outcome is safe
// (replay reads the attempt as unknown).
const abortRecordWait = 2 * time.Second

// Summary is what a run did. Every change Run handles is counted exactly
// once in Sent, Failed, Expired, Unknown, Waiting or NotStarted.
type Summary struct {
	Sent    int
	Failed  int
	Expired int
	// Unknown counts messages that may or may not have been delivered: an
	// ambiguous answer, an aborted request, or an outcome that could not
	// be recorded.
	Unknown int
	// NotStarted counts changes left untouched because the run was
	// interrupted or stopped by a storage fault.
	NotStarted int
	// Attempts counts the requests made.
	Attempts int
	// Failures explains every failed message, ordered by address.
	Failures []Failure
	// Unknowns explains every unknown message, ordered by address.
	Unknowns []Failure
	// Waiting counts messages not sent because a message of the same
	// thread became unknown earlier in the run: a thread waits for its
	// unknowns (see planner's hold.go), and the next plan holds them
	// until the unknown settles. Waits explains each, ordered by address.
	Waiting int
	Waits   []Failure
}

// Failure is why one message failed or became unknown.
type Failure struct {
	Addr   addrs.Message
	Reason string
}

// Run sends the plan's send and retry changes and records its expire
// changes; it ignores every other action. See the package documentation
// for the protocol. The error is non-nil when the run was interrupted
// (wrapping context.Canceled, with ErrAborted after Abort) or when state
// could not be recorded; failed sends are reported in the Summary, not as
// an error.
func Run(ctx context.Context, plan *planner.Plan, client Sender, rec state.Recorder, opts Options, hooks Hooks) (Summary, error) {
	r, queues, expires, err := newRunner(ctx, plan, client, rec, opts, hooks)
	if err != nil {
		return Summary{}, err
	}
	defer r.startContexts(ctx)()

	total := len(expires)
	for _, q := range queues {
		total += len(q.changes)
	}
	r.hooks.Starting(total)

	for _, c := range expires {
		r.expirePlanned(c)
	}

	work := make(chan *queue)
	var wg sync.WaitGroup
	for range min(r.opts.Parallelism, len(queues)) {
		wg.Go(func() {
			for q := range work {
				r.drain(q)
			}
		})
	}
	for _, q := range queues {
		work <- q
	}
	close(work)
	wg.Wait()

	sum := r.summary()
	r.hooks.Finished(sum)
	r.mu.Lock()
	fault := r.fault
	r.mu.Unlock()
	switch {
	case fault != nil:
		return sum, fault
	case r.aborted():
		return sum, errAborted
	case ctx.Err() != nil:
		return sum, fmt.Errorf("apply interrupted: %w", ctx.Err())
	}
	return sum, nil
}

// newRunner checks the plan and the options, sorts the changes into one
// queue per group and the expire changes, and records the plan's moves.
func newRunner(ctx context.Context, plan *planner.Plan, client Sender, rec state.Recorder, opts Options, hooks Hooks) (*runner, []*queue, []*planner.Change, error) {
	if plan == nil {
		return nil, nil, nil, errors.New("executor: no plan to apply")
	}
	if rec == nil {
		return nil, nil, nil, errors.New("executor: no state recorder")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("executor: %w", err)
	}
	queues, expires, err := sortChanges(plan)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("executor: %w", err)
	}
	accounts := newAccounts(client, opts)
	for _, q := range queues {
		if accounts.client(q.account) == nil {
			return nil, nil, nil, fmt.Errorf("executor: no A1Base client to send with%s", accountDesc(q.account))
		}
	}
	lim, err := buildLimits(opts, queues, paceClock(opts.Now))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("executor: %w", err)
	}
	accounts.lim = lim
	// Attempts must join a moved record, not start a second one.
	if err := RecordMoves(ctx, plan, rec); err != nil {
		return nil, nil, nil, fmt.Errorf("executor: %w", err)
	}

	r := &runner{
		client:  accounts,
		rec:     rec,
		opts:    opts,
		hooks:   newSerialHooks(hooks),
		lim:     lim,
		backoff: &backoff{cfg: opts.Backoff},
		abort:   opts.Abort,
		fields:  map[*planner.Change]state.Event{},
	}
	for _, c := range expires {
		r.fields[c] = recordFields(c)
	}
	for _, q := range queues {
		for _, c := range q.changes {
			r.fields[c] = recordFields(c)
		}
	}
	return r, queues, expires, nil
}

// startContexts sets up the runner's contexts and returns the function
// that releases them.
//
// Three lifetimes: new work stops on the first interrupt, a storage fault
// or Abort; requests in flight end only on Abort; records outlive both,
// so that whatever happened is written down.
func (r *runner) startContexts(ctx context.Context) (release func()) {
	r.recCtx = context.WithoutCancel(ctx)
	var reqCancel, stopCancel context.CancelFunc
	r.reqCtx, reqCancel = context.WithCancel(r.recCtx)
	r.stopCtx, stopCancel = context.WithCancel(ctx)
	r.stopAll = stopCancel
	r.lockCtx = r.opts.Lock
	if r.lockCtx == nil {
		r.lockCtx = context.Background()
	}
	var sendCancel context.CancelCauseFunc
	r.sendCtx, sendCancel = context.WithCancelCause(r.lockCtx)
	done := make(chan struct{})
	if r.opts.Abort != nil {
		go func() {
			select {
			case <-r.opts.Abort:
				sendCancel(errAbortedBeforeSend)
				reqCancel()
				stopCancel()
			case <-done:
			}
		}()
	}
	return func() {
		close(done)
		sendCancel(context.Canceled)
		stopCancel()
		reqCancel()
	}
}

// queue is one group's sends, in send_at order, then by address.
type queue struct {
	group   string
	account string // the alias of the group's provider; "" for the default
	limit   *spec.RateLimit
	changes []*planner.Change
}

// sortChanges splits the plan into one queue per group, ordered by their
// first message, and the expire changes.
func sortChanges(plan *planner.Plan) ([]*queue, []*planner.Change, error) {
	byGroup := map[string]*queue{}
	var queues []*queue
	var expires []*planner.Change
	for _, c := range plan.Changes {
		if c == nil {
			continue
		}
		switch {
		case c.Action.Sends():
			inst := c.Instance
			if inst == nil {
				return nil, nil, fmt.Errorf("%s: planned to %s but has no configuration", c.Addr, c.Action)
			}
			name := groupName(inst)
			q := byGroup[name]
			if q == nil {
				q = &queue{group: name, account: c.Instance.Group.ProviderAlias()}
				if inst.Group != nil {
					q.limit = inst.Group.RateLimit
				}
				byGroup[name] = q
				queues = append(queues, q)
			}
			q.changes = append(q.changes, c)
		case c.Action == planner.Expire:
			if c.Instance == nil && c.Record == nil {
				return nil, nil, fmt.Errorf("%s: planned to expire but has neither configuration nor state", c.Addr)
			}
			expires = append(expires, c)
		}
	}
	for _, q := range queues {
		slices.SortStableFunc(q.changes, func(a, b *planner.Change) int {
			return cmp.Or(a.Instance.SendAt.Compare(b.Instance.SendAt), cmp.Compare(a.Addr.String(), b.Addr.String()))
		})
	}
	slices.SortStableFunc(queues, func(a, b *queue) int {
		x, y := a.changes[0], b.changes[0]
		return cmp.Or(x.Instance.SendAt.Compare(y.Instance.SendAt), cmp.Compare(x.Addr.String(), y.Addr.String()))
	})
	return queues, expires, nil
}

// groupName keys a group's queue and limit. Instances from spec always
// have a group; the thread stands in for one so that a hand-built plan
// still keeps per-thread order.
func groupName(inst *spec.Instance) string {
	if inst.Group != nil {
		return inst.Group.Name
	}
	return "thread " + inst.ThreadID
}

// paceClock is the clock the rate limits read: the run's clock as it
// read when the run began, moved on by the time that has really passed.
// For the default clock, and apply's -at, which moves on from the moment
// it names, this is the run's clock itself; a clock that stands still, as
// some callers' tests use, cannot hold up a rate-limit wait, which is a
// real sleep, forever.
func paceClock(now func() time.Time) func() time.Time {
	began, real := now(), clock.Now()
	return func() time.Time { return began.Add(clock.Since(real)) }
}

type runner struct {
	client  *accounts
	rec     state.Recorder
	opts    Options
	hooks   *serialHooks
	lim     *limits
	backoff *backoff
	abort   <-chan struct{}

	stopCtx context.Context
	stopAll context.CancelFunc
	reqCtx  context.Context
	recCtx  context.Context
	// lockCtx is Options.Lock: it ends when the state lock is lost.
	// sendCtx ends with it or on Abort, with the reason as its cause: no
	// journaled request is written once it has ended.
	lockCtx context.Context
	sendCtx context.Context

	// fields holds each change's record fields, computed once: the
	// content hash is the costliest part of an event.
	fields map[*planner.Change]state.Event

	mu    sync.Mutex
	sum   Summary
	fault error
	// started holds when each change's latest attempt started, to find
	// a send whose answer was lost in its thread.
	started map[*planner.Change]time.Time
	// held lists, by thread (planner.ThreadOf), the messages that became
	// unknown in this run: see heldBehind.
	held map[string][]addrs.Message
}

// aborted reads the channel itself rather than a flag the watcher sets,
// so that no request cut short by Abort is mistaken for one to retry.
func (r *runner) aborted() bool {
	select {
	case <-r.abort:
		return true
	default:
		return false
	}
}

// stopping reports that no new work may start. It looks at Abort too:
// the watcher that cancels stopCtx on Abort may not have run yet.
func (r *runner) stopping() bool {
	return r.stopCtx.Err() != nil || r.aborted()
}

func (r *runner) drain(q *queue) {
	w := &worker{}
	for _, c := range q.changes {
		r.send(c, q.group, w)
	}
	_ = r.flushPending(w) // a failure is reported and stops the run
}

// setFault stops the run after a storage fault; the first fault is the
// one returned.
func (r *runner) setFault(err error) {
	r.mu.Lock()
	if r.fault == nil {
		r.fault = err
	}
	r.mu.Unlock()
	r.stopAll()
}

func (r *runner) count(f func(s *Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

func (r *runner) notStarted() { r.count(func(s *Summary) { s.NotStarted++ }) }
func (r *runner) sent()       { r.count(func(s *Summary) { s.Sent++ }) }
func (r *runner) expired()    { r.count(func(s *Summary) { s.Expired++ }) }
func (r *runner) failed(c *planner.Change, reason string) {
	r.count(func(s *Summary) { s.Failed++; s.Failures = append(s.Failures, Failure{c.Addr, reason}) })
}
func (r *runner) unknown(c *planner.Change, reason string) {
	r.count(func(s *Summary) { s.Unknown++; s.Unknowns = append(s.Unknowns, Failure{c.Addr, reason}) })
	if inst := c.Instance; inst != nil && inst.Recognisable() {
		// A look-up can settle it: its thread waits (see heldBehind).
		r.mu.Lock()
		if r.held == nil {
			r.held = map[string][]addrs.Message{}
		}
		k := planner.ThreadOf(inst)
		r.held[k] = append(r.held[k], c.Addr)
		r.mu.Unlock()
	}
}

// heldBehind is the messages of inst's thread that became unknown in this
// run and that a look-up can still settle: while there are any, the
// thread sends nothing more, so that each stays the newest herald message
// in its thread for the look-up that settles it.
func (r *runner) heldBehind(inst *spec.Instance) []addrs.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.held[planner.ThreadOf(inst)])
}

// waiting counts c as held behind the unknowns by.
func (r *runner) waiting(c *planner.Change, by []addrs.Message) {
	names := make([]string, len(by))
	for i, a := range by {
		names[i] = a.String()
	}
	slices.Sort(names)
	why := "not sent: " + strings.Join(names, ", ") + " became unknown earlier in its thread; a thread waits for its unknowns, so the next plan holds it until they settle"
	r.count(func(s *Summary) { s.Waiting++; s.Waits = append(s.Waits, Failure{c.Addr, why}) })
}

func (r *runner) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sum
	byAddr := func(a, b Failure) int { return cmp.Compare(a.Addr.String(), b.Addr.String()) }
	slices.SortStableFunc(s.Failures, byAddr)
	slices.SortStableFunc(s.Unknowns, byAddr)
	slices.SortStableFunc(s.Waits, byAddr)
	return s
}

// recordCtx is the context for recording: it survives the first
// interrupt, and after Abort it gives the recorder only a moment.
func (r *runner) recordCtx() (context.Context, context.CancelFunc) {
	if r.aborted() {
		return context.WithTimeout(r.recCtx, abortRecordWait)
	}
	return r.recCtx, func() {}
}

func (r *runner) record(e state.Event) error {
	ctx, cancel := r.recordCtx()
	defer cancel()
	return r.rec.Record(ctx, e)
}

// event starts a journal entry with the instance's record fields.
func (r *runner) event(c *planner.Change, kind state.EventKind, attempt int, st state.Status) state.Event {
	e, ok := r.fields[c]
	if !ok {
		e = recordFields(c)
	}
	e.Kind = kind
	e.Attempt = attempt
	e.At = r.opts.Now()
	e.Status = st
	return e
}

// recordFields fills an event's address and record fields from the
// instance, or for an instance no longer configured from its record.
func recordFields(c *planner.Change) state.Event {
	e := state.Event{Message: state.Message{Address: c.Addr.String()}}
	if inst := c.Instance; inst != nil {
		if inst.Group != nil {
			e.Group = inst.Group.Name
		}
		e.ThreadID = inst.ThreadID
		e.Service = inst.Service
		e.From = inst.From
		e.ContentHash = inst.ContentHash()
		e.SendAt = inst.SendAt
	} else if rec := c.Record; rec != nil {
		e.Message = rec.Message
		e.Address = c.Addr.String()
	}
	return e
}

// expirePlanned records an expire change. It sends nothing, but it is
// still new work, so an interrupt or a fault leaves it for the next run.
func (r *runner) expirePlanned(c *planner.Change) {
	if r.stopping() {
		r.notStarted()
		return
	}
	r.expire(c)
}

func (r *runner) expire(c *planner.Change) {
	if err := r.record(r.event(c, state.EventOutcome, 0, state.StatusExpired)); err != nil {
		r.setFault(fmt.Errorf("recording %s as expired: %w", c.Addr, err))
		r.notStarted()
		return
	}
	r.expired()
	r.hooks.Expired(c)
}

func (r *runner) pastExpiry(inst *spec.Instance) bool {
	return r.opts.Now().After(inst.ExpiresAt())
}

func request(inst *spec.Instance) a1base.SendRequest {
	req := a1base.SendRequest{
		Content:  inst.Content(),
		From:     inst.From,
		ThreadID: inst.ThreadID,
		Service:  inst.Service,
		// The client then hides any echo of the content in its errors.
		Sensitive: inst.Sensitive,
	}
	if inst.Media != nil {
		req.AttachmentURI = inst.Media.URL
		req.MediaType = inst.Media.Type
	}
	return req
}

// accounts picks the client that sends an instance: its group's
// provider's.
type accounts struct {
	def      Sender
	defMedia bool
	byAlias  map[string]Account
	// lim holds look-ups to the account limits.
	lim *limits
}

// recentMessages looks a thread of the alias's account up, under the
// account's rate limits.
func (a *accounts) recentMessages(ctx context.Context, alias, thread string) ([]a1base.ThreadMessage, error) {
	return a.lim.lookUp(ctx, a.client(alias), alias, thread)
}

func newAccounts(client Sender, opts Options) *accounts {
	return &accounts{def: client, defMedia: opts.CheckMedia, byAlias: opts.Accounts}
}

func (a *accounts) client(alias string) Sender {
	if alias == "" {
		return a.def
	}
	return a.byAlias[alias].Client
}

func (a *accounts) of(inst *spec.Instance) Sender {
	return a.client(inst.Group.ProviderAlias())
}

func (a *accounts) checkMedia(inst *spec.Instance) bool {
	if alias := inst.Group.ProviderAlias(); alias != "" {
		return a.byAlias[alias].CheckMedia
	}
	return a.defMedia
}

func accountDesc(alias string) string {
	if alias == "" {
		return ""
	}
	return " for provider a1base." + alias
}

// reason renders why a request did not deliver, for state and summaries.
// It is built only from the client's error (which never holds
// credentials) and the status code.
func reason(res a1base.Result) string {
	switch {
	case res.Err != nil:
		return res.Err.Error()
	case res.StatusCode != 0:
		return fmt.Sprintf("%s (HTTP %d)", res.Outcome, res.StatusCode)
	}
	return res.Outcome.String()
}

// answer is what state keeps of the API's answer; the body echoes the
// text, so a sensitive message keeps none.
func answer(inst *spec.Instance, a *a1base.GroupAnswer) *state.Answer {
	if a == nil {
		return nil
	}
	s := &state.Answer{
		MessageID:   a.MessageID,
		ChatGroupID: a.ChatGroupID,
		From:        a.From,
		Body:        a.Body,
		Status:      a.Status,
		DateCreated: a.DateCreated,
	}
	if inst.Sensitive {
		s.Body = ""
	}
	return s
}

// forHooks hides a sensitive message's echoed body from the hooks.
func forHooks(inst *spec.Instance, res a1base.Result) a1base.Result {
	if inst.Sensitive && res.Answer != nil {
		a := *res.Answer
		a.Body = ""
		res.Answer = &a
	}
	return res
}

// send takes one message through its attempts. w carries the outcome of
// the worker's previous send while it is queued (see queueingRecorder).
func (r *runner) send(c *planner.Change, group string, w *worker) {
	inst := c.Instance
	if !r.readyToSend(c, w) {
		return
	}

	// lastReason is why the previous try failed; a message left after a
	// transient failure stays failed with it.
	lastReason := ""
	leave := func() {
		if lastReason == "" {
			r.notStarted()
		} else {
			r.failed(c, lastReason)
		}
	}
	n := c.Record.LastAttemptNumber()
	for try := 1; ; try++ {
		n++
		res, sent := r.attempt(c, group, n, w, leave)
		if !sent {
			return
		}
		lastReason = reason(res)
		if try >= r.opts.MaxAttempts {
			r.failed(c, fmt.Sprintf("%s (gave up after %d attempts)", lastReason, try))
			return
		}
		if r.stopping() {
			leave()
			return
		}
		wait := r.backoff.wait(try, res.RetryAfter)
		if r.opts.Now().Add(wait).After(inst.ExpiresAt()) {
			r.failed(c, fmt.Sprintf("%s (the next attempt would come after the message expires)", lastReason))
			return
		}
		r.hooks.Retrying(c, n+1, wait, forHooks(inst, res))
		if err := r.opts.Sleep(r.stopCtx, wait); err != nil {
			leave()
			return
		}
	}
}

// readyToSend handles what ends a message before its first attempt: the
// run stopping, the message expiring, its media failing the check. It
// returns false when the message is done with.
func (r *runner) readyToSend(c *planner.Change, w *worker) bool {
	inst := c.Instance
	checkMedia := r.client.checkMedia(inst) && inst.Media != nil
	heldBy := r.heldBehind(inst)
	if r.stopping() || r.pastExpiry(inst) || checkMedia || len(heldBy) > 0 {
		// Nothing is sent right away: report the previous send first.
		_ = r.flushPending(w)
	}
	if r.stopping() {
		r.notStarted()
		return false
	}
	if r.pastExpiry(inst) {
		r.expire(c)
		return false
	}
	if len(heldBy) > 0 {
		r.waiting(c, heldBy)
		return false
	}
	if !checkMedia {
		return true
	}
	err := r.client.of(inst).CheckMedia(r.stopCtx, inst.Media.URL, inst.Media.Type)
	if err == nil {
		return true
	}
	err = request(inst).Scrub(err) // the URL may be sensitive
	if r.stopping() {
		r.notStarted()
		return false
	}
	why := "media check failed: " + err.Error()
	e := r.event(c, state.EventOutcome, 0, state.StatusFailed)
	e.Error = why
	if err := r.record(e); err != nil {
		r.setFault(fmt.Errorf("recording %s as failed: %w", c.Addr, err))
	}
	r.failed(c, why)
	r.hooks.MediaRejected(c, err)
	return false
}

// attempt makes attempt n of a message: it waits for the rate limits,
// records the attempt, sends and records the outcome. sent is false when
// the message is done with, whether or not a request left; leave ends it
// without an outcome of this attempt.
func (r *runner) attempt(c *planner.Change, group string, n int, w *worker, leave func()) (res a1base.Result, sent bool) {
	inst := c.Instance
	err := r.lim.takeTokens(r.stopCtx, group, func(d time.Duration, by string) {
		// A rate limit holds this send back: report the previous
		// one now rather than after the wait. A failure stops the
		// run, which the check after the wait sees.
		_ = r.flushPending(w)
		if d >= r.opts.ReportWait {
			r.hooks.RateLimited(c, d, by)
		}
	})
	if err != nil {
		leave()
		return res, false
	}
	if r.stopping() {
		leave()
		return res, false
	}
	if r.pastExpiry(inst) {
		r.expire(c)
		return res, false
	}
	attempt := r.event(c, state.EventAttempt, n, state.StatusSending)
	r.setStarted(c, attempt.At)
	// Taken before the record: the attempt is durable no sooner.
	journaled := mono()
	err = r.record(attempt)
	// The previous send's queued outcome went to the journal before
	// this attempt, so the same fsync made it durable.
	flushErr := r.flushPending(w)
	if err != nil {
		r.setFault(fmt.Errorf("recording attempt %d of %s: %w", n, c.Addr, err))
		leave()
		return res, false
	}
	if flushErr != nil {
		// Recording stopped: the attempt is recorded but its request
		// never leaves; say so, so the message is retried rather than
		// left unknown.
		notSent := errors.New("not sent: the outcome of an earlier send could not be recorded")
		if r.finish(c, n, a1base.Result{Outcome: a1base.Transient, Err: notSent}, nil) {
			r.failed(c, notSent.Error())
		}
		return res, false
	}
	testhook.AttemptJournaled(c.Addr.String())
	r.hooks.BeforeSend(c, n)
	start, notSent := r.admit(inst, group, attemptKey(c.Addr.String(), n), journaled)
	if notSent != nil {
		// The attempt is recorded but its request never left: say
		// so, so the message is retried rather than left unknown.
		if errors.Is(notSent, errExpiredBeforeSend) {
			r.expireNotSent(c, n, notSent)
			return res, false
		}
		if r.finish(c, n, a1base.Result{Outcome: a1base.Transient, Err: notSent}, nil) {
			r.failed(c, notSent.Error())
		}
		return res, false
	}
	r.count(func(s *Summary) { s.Attempts++ })
	res = r.client.of(inst).SendGroup(start.watch(r.reqCtx), request(inst))
	start.written()
	return res, r.finish(c, n, res, w)
}

// mono reads the clock that bounds the time between journaling an attempt
// and writing its request: the default clock, whose monotonic reading
// keeps counting while the process is frozen.
var mono = clock.Now

// sinceJournaled is how long ago journaled, a reading of mono, was taken:
// by the monotonic clock, or by the wall clock when that has moved on
// more (a host whose monotonic clock stood still while it was suspended
// may still have its wall clock put right).
func sinceJournaled(journaled time.Time) time.Duration {
	now := mono()
	return max(now.Sub(journaled), now.Round(0).Sub(journaled.Round(0)))
}

var (
	errAbortedBeforeSend = errors.New("aborted before the request was sent")
	errSendBoundPassed   = fmt.Errorf("not sent: more than %s passed between recording the attempt and writing its request (the process was held up or frozen); it is retried later", SendBound)
	errExpiredBeforeSend = errors.New("not sent: the message expired while its request waited to be written")
)

// admit lets a journaled attempt's request be written, or says why it
// is not: it waits for the start gate of the rate limits, and then, just
// before the request is written, checks again everything that may have
// changed since the attempt was journaled. Abort, a lost lock or
// SendBound end the wait; the request is never written more than
// SendBound after journaled, nor after the message expired, nor once the
// lock is lost.
func (r *runner) admit(inst *spec.Instance, group, attempt string, journaled time.Time) (*ticket, error) {
	ctx, cancel := context.WithTimeoutCause(r.sendCtx, SendBound-sinceJournaled(journaled), errSendBoundPassed)
	start, err := r.lim.admitStart(ctx, group, attempt)
	cancel()
	if err != nil {
		return nil, r.notSentBecause(err)
	}
	var notSent error
	switch {
	case r.aborted():
		notSent = errAbortedBeforeSend
	case r.lockCtx.Err() != nil:
		notSent = r.notSentBecause(context.Cause(r.lockCtx))
	case sinceJournaled(journaled) > SendBound:
		notSent = errSendBoundPassed
	case r.pastExpiry(inst):
		notSent = errExpiredBeforeSend
	}
	if notSent != nil {
		start.release()
		return nil, notSent
	}
	return start, nil
}

// notSentBecause says why a journaled request was not written, from the
// cause that ended its wait.
func (r *runner) notSentBecause(cause error) error {
	switch {
	case errors.Is(cause, errAbortedBeforeSend), errors.Is(cause, errSendBoundPassed):
		return cause
	case r.lockCtx.Err() != nil:
		return fmt.Errorf("not sent: the state lock was lost before the request was written: %w", cause)
	}
	return fmt.Errorf("not sent: %w", cause)
}

// expireNotSent records attempt n, whose request was not written, and
// its message as expired.
func (r *runner) expireNotSent(c *planner.Change, n int, why error) {
	e := r.event(c, state.EventOutcome, n, state.StatusExpired)
	e.Outcome = a1base.Transient.String()
	e.Error = why.Error()
	if err := r.record(e); err != nil {
		r.setFault(fmt.Errorf("recording %s as expired: %w", c.Addr, err))
		// State holds the attempt alone, which replay reads as unknown.
		r.unknown(c, fmt.Sprintf("%s, but that could not be recorded: %v", why, err))
		return
	}
	r.expired()
	r.hooks.Expired(c)
}

// finish records the outcome of attempt n and reports whether the
// message should be tried again (a transient failure). Every final
// outcome is counted here, or, for a delivered send whose outcome it
// queued on w, by flushPending.
func (r *runner) finish(c *planner.Change, n int, res a1base.Result, w *worker) (retry bool) {
	inst := c.Instance
	e := r.event(c, state.EventOutcome, n, "")
	e.Outcome = res.Outcome.String()
	switch res.Outcome {
	case a1base.Delivered:
		e.Status = state.StatusSent
		e.Answer = answer(inst, res.Answer)
	case a1base.Transient:
		// Failed, not sending, between tries too: if the process dies
		// in the backoff, the next plan retries the message.
		e.Status = state.StatusFailed
		e.Error = reason(res)
	case a1base.Permanent:
		e.Status = state.StatusFailed
		e.Error = reason(res)
	default:
		e.Status = state.StatusUnknown
		e.Error = reason(res)
	}
	if r.queueOutcome(w, c, n, res, e) {
		return false
	}
	if err := r.record(e); err != nil {
		r.setFault(fmt.Errorf("recording the outcome of attempt %d of %s: %w", n, c.Addr, err))
		// State holds the attempt alone, which replay reads as unknown.
		r.unknown(c, fmt.Sprintf("the outcome (%s) could not be recorded: %v", res.Outcome, err))
		r.hooks.AfterSend(c, n, forHooks(inst, res), state.StatusUnknown)
		return false
	}
	r.hooks.AfterSend(c, n, forHooks(inst, res), e.Status)
	switch {
	case res.Outcome == a1base.Delivered:
		r.sent()
	case res.Outcome == a1base.Permanent:
		r.failed(c, e.Error)
	case res.Outcome == a1base.Transient && r.aborted():
		r.failed(c, e.Error)
	case res.Outcome == a1base.Transient:
		return true
	default:
		if r.findLost(c, n) {
			r.sent()
			return false
		}
		r.unknown(c, e.Error)
	}
	return false
}

func (r *runner) setStarted(c *planner.Change, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started == nil {
		r.started = map[*planner.Change]time.Time{}
	}
	r.started[c] = at
}

// findLost looks for a send whose answer was lost (or was an ambiguous
// gateway error) among its thread's recent messages right away, while it
// is still among the last five: its group sends nothing else meanwhile, so
// only the group's own members can have pushed it out. It matches the way
// Reconcile does, with the attempt's window ending now, and takes no
// message that state records as another message's delivery. Found, it is
// recorded as sent; otherwise it stays unknown for the next apply's
// reconciliation or -replace.
func (r *runner) findLost(c *planner.Change, n int) bool {
	if r.stopping() || !c.Instance.Recognisable() {
		return false
	}
	r.mu.Lock()
	started := r.started[c]
	r.mu.Unlock()
	msgs, err := r.client.recentMessages(r.reqCtx, c.Instance.Group.ProviderAlias(), c.Instance.ThreadID)
	if err != nil {
		return false
	}
	owners, err := lostOwners(r.reqCtx, r.rec, c, msgs)
	if err != nil {
		return false
	}
	cand := newCandidateFor(c, n, started, r.opts.Now())
	m := match([]*candidate{cand}, msgs, owners)[0]
	if m.msg == nil {
		return false
	}
	if err := r.record(cand.event(m.msg, false, r.opts.Now(), nil)); err != nil {
		r.setFault(fmt.Errorf("recording %s as sent: %w", c.Addr, err))
		return false
	}
	r.hooks.Reconciled(c, true)
	return true
}
