package executor

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// t0 is the send_at of the first message in most tests; the test clock
// stands a minute later, so everything planned is due.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// fixedClock stands still a minute after t0: for runs without rate
// limits whose records are compared to the second.
func fixedClock() func() time.Time { return func() time.Time { return t0.Add(time.Minute) } }

// runningClock starts a minute after t0 and moves on with real time, as
// apply's clock does after -at: rate-limit waits are real sleeps, so
// runs with limits need a clock that advances.
func runningClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return t0.Add(time.Minute + time.Since(start)) }
}

// memRecorder keeps events in memory. fail, when set, decides per event
// whether recording it fails.
type memRecorder struct {
	mu     sync.Mutex
	events []state.Event
	delay  time.Duration
	fail   func(state.Event) error
}

func (m *memRecorder) Record(ctx context.Context, e state.Event) error {
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		if err := m.fail(e); err != nil {
			return err
		}
	}
	m.events = append(m.events, e)
	return nil
}

func (m *memRecorder) of(addr string) []state.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []state.Event
	for _, e := range m.events {
		if e.Address == addr {
			out = append(out, e)
		}
	}
	return out
}

func (m *memRecorder) all() []state.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// last is the status the journal ends with for addr, "" when none.
func (m *memRecorder) last(addr string) state.Status {
	evs := m.of(addr)
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].Status
}

// arrival is one request as the fake saw it.
type arrival struct {
	addr string
	req  a1base.SendRequest
	at   time.Time
}

// fakeSender is an in-memory A1Base. It knows which address each content
// belongs to, so it can check that a request's attempt was recorded before
// the request arrived.
type fakeSender struct {
	rec    *memRecorder
	byText map[string]string // content -> address

	// respond decides the answer to the n-th request (from 1) for addr;
	// nil delivers everything.
	respond func(ctx context.Context, addr string, n int, req a1base.SendRequest) a1base.Result
	media   func(url, typ string) error
	recent  func(threadID string) ([]a1base.ThreadMessage, error)

	mu          sync.Mutex
	arrivals    []arrival
	perAddr     map[string]int
	inFlight    map[string]int // by thread
	overlaps    []string
	violations  []string
	mediaChecks []string
	lookups     map[string]int
}

func newFake(rec *memRecorder, plan *planner.Plan) *fakeSender {
	f := &fakeSender{rec: rec, byText: map[string]string{}, perAddr: map[string]int{}, inFlight: map[string]int{}, lookups: map[string]int{}}
	for _, c := range plan.Changes {
		if c.Instance != nil {
			f.byText[c.Instance.Content()] = c.Addr.String()
		}
	}
	return f
}

func (f *fakeSender) SendGroup(ctx context.Context, req a1base.SendRequest) a1base.Result {
	at := time.Now()
	addr, ok := f.byText[req.Content]
	if !ok {
		addr = "?" + req.Content
	}
	// The attempt must already be the last thing recorded for addr.
	evs := f.rec.of(addr)
	durable := len(evs) > 0 && evs[len(evs)-1].Kind == state.EventAttempt && evs[len(evs)-1].Status == state.StatusSending
	f.mu.Lock()
	if !durable {
		f.violations = append(f.violations, addr)
	}
	f.arrivals = append(f.arrivals, arrival{addr: addr, req: req, at: at})
	f.perAddr[addr]++
	n := f.perAddr[addr]
	f.inFlight[req.ThreadID]++
	if f.inFlight[req.ThreadID] > 1 {
		f.overlaps = append(f.overlaps, addr)
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[req.ThreadID]--
		f.mu.Unlock()
	}()
	if f.respond != nil {
		return f.respond(ctx, addr, n, req)
	}
	return delivered(req)
}

func (f *fakeSender) RecentMessages(ctx context.Context, threadID string) ([]a1base.ThreadMessage, error) {
	f.mu.Lock()
	f.lookups[threadID]++
	f.mu.Unlock()
	if f.recent == nil {
		return nil, nil
	}
	return f.recent(threadID)
}

func (f *fakeSender) CheckMedia(ctx context.Context, url, typ string) error {
	f.mu.Lock()
	f.mediaChecks = append(f.mediaChecks, url)
	f.mu.Unlock()
	if f.media != nil {
		return f.media(url, typ)
	}
	return nil
}

func (f *fakeSender) sent() []arrival {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.arrivals)
}

func (f *fakeSender) calls(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perAddr[addr]
}

func (f *fakeSender) check(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Errorf("requests arrived before their attempt was recorded: %v", f.violations)
	}
	if len(f.overlaps) > 0 {
		t.Errorf("requests of one group were in flight together: %v", f.overlaps)
	}
}

func delivered(req a1base.SendRequest) a1base.Result {
	return a1base.Result{
		Outcome:    a1base.Delivered,
		StatusCode: 200,
		Answer: &a1base.GroupAnswer{
			ChatGroupID: "chat-" + req.ThreadID,
			From:        req.From,
			Body:        req.Content,
			Status:      "queued",
			DateCreated: "2026-12-01T09:01:00Z",
		},
	}
}

func transient(code int, retryAfter time.Duration) a1base.Result {
	return a1base.Result{Outcome: a1base.Transient, StatusCode: code, RetryAfter: retryAfter, Err: fmt.Errorf("A1Base answered %d", code)}
}

func permanent(detail string) a1base.Result {
	return a1base.Result{Outcome: a1base.Permanent, StatusCode: 422, Err: fmt.Errorf("A1Base refused the message: %s", detail)}
}

func ambiguous() a1base.Result {
	return a1base.Result{Outcome: a1base.Ambiguous, Err: fmt.Errorf("no answer after the request was written")}
}

// planBuilder makes instances and changes for tests.
type planBuilder struct {
	groups map[string]*spec.Group
	plan   *planner.Plan
}

func newPlan() *planBuilder {
	return &planBuilder{groups: map[string]*spec.Group{}, plan: &planner.Plan{At: t0.Add(time.Minute)}}
}

func (b *planBuilder) group(name string, limit *spec.RateLimit) *spec.Group {
	g := b.groups[name]
	if g == nil {
		g = &spec.Group{Name: name, ThreadID: "thread-" + name, Service: "whatsapp", From: "+14155550000", RateLimit: limit}
		b.groups[name] = g
	}
	return g
}

// text adds a text message to group; its text names its address, which
// the fake uses to tell messages apart.
func (b *planBuilder) text(action planner.Action, group, name string, sendAt time.Time) *planner.Change {
	g := b.group(group, nil)
	addr := addrs.NoKey(name)
	inst := &spec.Instance{
		Addr:         addr,
		Group:        g,
		From:         g.From,
		Service:      g.Service,
		ThreadID:     g.ThreadID,
		SendAt:       sendAt,
		ExpiresAfter: 24 * time.Hour,
		Text:         "text of " + addr.String(),
	}
	c := &planner.Change{Addr: addr, Action: action, Instance: inst}
	b.plan.Changes = append(b.plan.Changes, c)
	return c
}

func (b *planBuilder) send(group, name string, sendAt time.Time) *planner.Change {
	return b.text(planner.Send, group, name, sendAt)
}

func limitOf(n int, per time.Duration) *spec.RateLimit {
	return &spec.RateLimit{N: n, Per: per, Text: fmt.Sprintf("%d/%s", n, per)}
}

// assertWindow checks the hard limit: no window of per holds more than n
// of the times.
func assertWindow(t *testing.T, what string, times []time.Time, n int, per time.Duration) {
	t.Helper()
	ts := slices.Clone(times)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	for i := 0; i+n < len(ts); i++ {
		if gap := ts[i+n].Sub(ts[i]); gap < per {
			t.Errorf("%s: %d starts within %s (starts %d..%d), limit %d per %s", what, n+1, gap, i, i+n, n, per)
			return
		}
	}
}

// hookLog records hook calls and fails the test if two run at once.
type hookLog struct {
	NopHooks
	mu       sync.Mutex
	busy     bool
	overlap  bool
	starting int
	before   []string
	after    []string
	bodies   []string
	limited  []string
	retrying []time.Duration
	expired  []string
	media    []string
	found    map[string]bool
	lookErrs map[string]error
	finished *Summary
}

func (h *hookLog) enter() func() {
	h.mu.Lock()
	if h.busy {
		h.overlap = true
	}
	h.busy = true
	h.mu.Unlock()
	time.Sleep(10 * time.Microsecond)
	return func() {
		h.mu.Lock()
		h.busy = false
		h.mu.Unlock()
	}
}

func (h *hookLog) Starting(total int) { defer h.enter()(); h.starting = total }
func (h *hookLog) BeforeSend(c *planner.Change, n int) {
	defer h.enter()()
	h.before = append(h.before, fmt.Sprintf("%s#%d", c.Addr, n))
}
func (h *hookLog) AfterSend(c *planner.Change, n int, res a1base.Result, st state.Status) {
	defer h.enter()()
	h.after = append(h.after, fmt.Sprintf("%s#%d:%s", c.Addr, n, st))
	if res.Answer != nil {
		h.bodies = append(h.bodies, res.Answer.Body)
	}
}
func (h *hookLog) RateLimited(c *planner.Change, d time.Duration, limit string) {
	defer h.enter()()
	h.limited = append(h.limited, c.Addr.String()+": "+limit)
}
func (h *hookLog) Retrying(c *planner.Change, n int, after time.Duration, res a1base.Result) {
	defer h.enter()()
	h.retrying = append(h.retrying, after)
}
func (h *hookLog) Expired(c *planner.Change) {
	defer h.enter()()
	h.expired = append(h.expired, c.Addr.String())
}
func (h *hookLog) MediaRejected(c *planner.Change, err error) {
	defer h.enter()()
	h.media = append(h.media, c.Addr.String())
}
func (h *hookLog) Reconciled(c *planner.Change, found bool) {
	defer h.enter()()
	if h.found == nil {
		h.found = map[string]bool{}
	}
	h.found[c.Addr.String()] = found
}
func (h *hookLog) ReconcileFailed(c *planner.Change, err error) {
	defer h.enter()()
	if h.lookErrs == nil {
		h.lookErrs = map[string]error{}
	}
	h.lookErrs[c.Addr.String()] = err
}
func (h *hookLog) Finished(s Summary) { defer h.enter()(); h.finished = &s }

// noSleep records backoff waits and returns at once.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	n.waits = append(n.waits, d)
	n.mu.Unlock()
	return ctx.Err()
}
