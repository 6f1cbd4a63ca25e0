package executor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func run(t *testing.T, b *planBuilder, f *fakeSender, rec *memRecorder, opts Options, h Hooks) (Summary, error) {
	t.Helper()
	if opts.Now == nil {
		// A clock that stands still, also for the rate-limit tests: the
		// limits move on from it in real time, so their waits end.
		opts.Now = fixedClock()
	}
	sum, err := Run(context.Background(), b.plan, f, rec, opts, h)
	f.check(t)
	return sum, err
}

func TestSendsOnlySendAndRetryAndRecordsFields(t *testing.T) {
	b := newPlan()
	send := b.send("eng", "launch", t0)
	retry := b.text(planner.Retry, "eng", "again", t0.Add(time.Second))
	retry.Record = &state.Record{Status: state.StatusFailed, Attempts: []state.Attempt{{Number: 1}, {Number: 2}}}
	media := b.send("sales", "report", t0)
	media.Instance.Text = ""
	media.Instance.Media = &spec.Media{URL: "https://example.com/q3.pdf", Type: "document", Caption: "Q3 report"}
	for _, a := range []planner.Action{planner.Wait, planner.Noop, planner.Drift, planner.Unknown} {
		b.text(a, "eng", "skip_"+a.String(), t0)
	}
	b.plan.Changes = append(b.plan.Changes, &planner.Change{Addr: addrs.NoKey("gone"), Action: planner.Orphan})

	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{}, h)
	require.NoError(t, err)

	assert.Equal(t, Summary{Sent: 3, Attempts: 3}, sum)
	assert.Equal(t, 3, h.starting)
	require.NotNil(t, h.finished)
	assert.Equal(t, sum, *h.finished)
	assert.False(t, h.overlap, "hooks ran concurrently")

	got := map[string]a1base.SendRequest{}
	for _, a := range f.sent() {
		got[a.addr] = a.req
	}
	want := map[string]a1base.SendRequest{
		"message.launch": {Content: "text of message.launch", From: "+14155550000", ThreadID: "thread-eng", Service: "whatsapp"},
		"message.again":  {Content: "text of message.again", From: "+14155550000", ThreadID: "thread-eng", Service: "whatsapp"},
		"message.report": {Content: "Q3 report", From: "+14155550000", ThreadID: "thread-sales", Service: "whatsapp", AttachmentURI: "https://example.com/q3.pdf", MediaType: "document"},
	}
	assert.Empty(t, cmp.Diff(want, got))

	evs := rec.of("message.launch")
	require.Len(t, evs, 2)
	inst := send.Instance
	wantAttempt := state.Event{
		Kind: state.EventAttempt, Message: state.Message{Address: "message.launch", Group: "eng", ThreadID: "thread-eng", Service: "whatsapp", From: "+14155550000", ContentHash: inst.ContentHash(), SendAt: t0}, Attempt: 1, At: t0.Add(time.Minute), Status: state.StatusSending,
	}
	assert.Empty(t, cmp.Diff(wantAttempt, evs[0]))
	wantOutcome := wantAttempt
	wantOutcome.Kind = state.EventOutcome
	wantOutcome.Status = state.StatusSent
	wantOutcome.Outcome = "delivered"
	wantOutcome.Answer = &state.Answer{ChatGroupID: "chat-thread-eng", From: "+14155550000", Body: "text of message.launch", Status: "queued", DateCreated: "2026-12-01T09:01:00Z"}
	assert.Empty(t, cmp.Diff(wantOutcome, evs[1]))

	// A retry continues the attempt numbers state already holds.
	evs = rec.of("message.again")
	require.Len(t, evs, 2)
	assert.Equal(t, 3, evs[0].Attempt)
	assert.Equal(t, 3, evs[1].Attempt)

	for _, a := range []string{"message.skip_wait", "message.skip_noop", "message.skip_drift", "message.skip_unknown", "message.gone"} {
		assert.Empty(t, rec.of(a), a)
		assert.Zero(t, f.calls(a), a)
	}
}

func TestAttemptIsDurableBeforeRequest(t *testing.T) {
	b := newPlan()
	for g := range 4 {
		for i := range 10 {
			b.send(fmt.Sprintf("g%d", g), fmt.Sprintf("m%d_%d", g, i), t0.Add(time.Duration(i)*time.Second))
		}
	}
	// A slow recorder widens the gap a request could slip through.
	rec := &memRecorder{delay: 200 * time.Microsecond}
	f := newFake(rec, b.plan)
	sum, err := run(t, b, f, rec, Options{Parallelism: 4}, nil)
	require.NoError(t, err)
	assert.Equal(t, 40, sum.Sent)
	assert.Len(t, f.sent(), 40) // and f.check found no request ahead of its attempt
}

func TestAccountRateLimitIsNeverExceeded(t *testing.T) {
	b := newPlan()
	for g := range 6 {
		for i := range 10 {
			b.send(fmt.Sprintf("g%d", g), fmt.Sprintf("m%d_%d", g, i), t0)
		}
	}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{Parallelism: 6, AccountLimit: limitOf(20, 200*time.Millisecond)}, h)
	require.NoError(t, err)
	require.Equal(t, 60, sum.Sent)
	assert.False(t, h.overlap, "hooks ran concurrently")
	assert.Len(t, h.before, 60)
	var times []time.Time
	for _, a := range f.sent() {
		times = append(times, a.at)
	}
	assertWindow(t, "account", times, 20, 200*time.Millisecond)
}

func TestGroupRateLimitsAndRetriesCountAsStarts(t *testing.T) {
	b := newPlan()
	for _, g := range []string{"a", "b", "c"} {
		b.group(g, limitOf(3, 150*time.Millisecond))
		for i := range 6 {
			b.send(g, fmt.Sprintf("%s%d", g, i), t0)
		}
	}
	b.group("free", nil)
	for i := range 6 {
		b.send("free", fmt.Sprintf("free%d", i), t0)
	}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	// Every second message of each group fails once: its retry is a
	// start the limits must count.
	f.respond = func(_ context.Context, addr string, n int, req a1base.SendRequest) a1base.Result {
		if n == 1 && strings.HasSuffix(addr, "1") || n == 1 && strings.HasSuffix(addr, "3") {
			return transient(503, 0)
		}
		return delivered(req)
	}
	sleeps := &noSleep{}
	opts := Options{
		Parallelism:  4,
		AccountLimit: limitOf(8, 200*time.Millisecond),
		Backoff:      Backoff{Base: time.Millisecond, Jitter: -1},
		Sleep:        sleeps.sleep,
	}
	sum, err := run(t, b, f, rec, opts, nil)
	require.NoError(t, err)
	require.Equal(t, 24, sum.Sent)
	require.Equal(t, 32, sum.Attempts)

	byGroup := map[string][]time.Time{}
	var all []time.Time
	for _, a := range f.sent() {
		byGroup[a.req.ThreadID] = append(byGroup[a.req.ThreadID], a.at)
		all = append(all, a.at)
	}
	for _, g := range []string{"a", "b", "c"} {
		require.Len(t, byGroup["thread-"+g], 8)
		assertWindow(t, "group "+g, byGroup["thread-"+g], 3, 150*time.Millisecond)
	}
	assertWindow(t, "account", all, 8, 200*time.Millisecond)
}

// A token is taken before the attempt is recorded; recording can take a
// while (a shared fsync), and the request leaves only after it. A slow
// record followed by a fast one must still not crowd two starts into one
// window.
func TestSlowRecordingDoesNotCrowdStarts(t *testing.T) {
	b := newPlan()
	b.group("eng", limitOf(1, 100*time.Millisecond))
	b.send("eng", "slow", t0)
	b.send("eng", "fast", t0.Add(time.Second))
	rec := &memRecorder{fail: func(e state.Event) error {
		if e.Address == "message.slow" && e.Kind == state.EventAttempt {
			time.Sleep(80 * time.Millisecond)
		}
		return nil
	}}
	f := newFake(rec, b.plan)
	sum, err := run(t, b, f, rec, Options{}, nil)
	require.NoError(t, err)
	require.Equal(t, 2, sum.Sent)
	var times []time.Time
	for _, a := range f.sent() {
		times = append(times, a.at)
	}
	assertWindow(t, "group eng", times, 1, 100*time.Millisecond)
}

func TestRateLimitWaitIsReported(t *testing.T) {
	b := newPlan()
	b.group("slow", limitOf(1, 50*time.Millisecond))
	b.send("slow", "first", t0)
	b.send("slow", "second", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{ReportWait: time.Nanosecond}, h)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sent)
	assert.Equal(t, []string{`message.second: rate limit of group "slow" (1/50ms)`}, h.limited)
}

func TestGroupOrderHoldsWithParallelism(t *testing.T) {
	b := newPlan()
	want := map[string][]string{}
	for g := range 5 {
		group := fmt.Sprintf("g%d", g)
		for i := range 12 {
			// Two messages share each send_at: the address breaks the tie.
			name := fmt.Sprintf("%s_%02d", group, i)
			b.send(group, name, t0.Add(time.Duration(i/2)*time.Second))
			want["thread-"+group] = append(want["thread-"+group], "message."+name)
		}
	}
	// The executor must not rely on the plan's order.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(b.plan.Changes), func(i, j int) {
		b.plan.Changes[i], b.plan.Changes[j] = b.plan.Changes[j], b.plan.Changes[i]
	})
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, _ string, _ int, req a1base.SendRequest) a1base.Result {
		time.Sleep(50 * time.Microsecond) // let groups interleave
		return delivered(req)
	}
	_, err := run(t, b, f, rec, Options{Parallelism: 3}, nil)
	require.NoError(t, err)
	got := map[string][]string{}
	for _, a := range f.sent() {
		got[a.req.ThreadID] = append(got[a.req.ThreadID], a.addr)
	}
	assert.Empty(t, cmp.Diff(want, got))
}

// TestFailuresDoNotHoldBackTheGroup: a failed message leaves its group
// sending; an unknown one is last here, as it holds its thread (see
// TestAnUnknownHoldsItsThread).
func TestFailuresDoNotHoldBackTheGroup(t *testing.T) {
	b := newPlan()
	b.send("eng", "perm", t0)
	b.send("eng", "flaky", t0.Add(2*time.Second))
	b.send("eng", "fine", t0.Add(3*time.Second))
	b.send("eng", "amb", t0.Add(4*time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, addr string, n int, req a1base.SendRequest) a1base.Result {
		switch addr {
		case "message.perm":
			return permanent("thread not found")
		case "message.amb":
			return ambiguous()
		case "message.flaky":
			return transient(500, 0)
		}
		return delivered(req)
	}
	sleeps := &noSleep{}
	sum, err := run(t, b, f, rec, Options{Parallelism: 1, MaxAttempts: 2, Sleep: sleeps.sleep}, nil)
	require.NoError(t, err)

	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 2, sum.Failed)
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, 5, sum.Attempts)
	assert.Equal(t, []Failure{
		{addrs.NoKey("flaky"), "A1Base answered 500 (gave up after 2 attempts)"},
		{addrs.NoKey("perm"), "A1Base refused the message: thread not found"},
	}, sum.Failures)
	assert.Equal(t, []Failure{{addrs.NoKey("amb"), "no answer after the request was written"}}, sum.Unknowns)

	// Ambiguous is never retried; permanent is not either.
	assert.Equal(t, 1, f.calls("message.amb"))
	assert.Equal(t, 1, f.calls("message.perm"))
	assert.Equal(t, 2, f.calls("message.flaky"))

	assert.Equal(t, state.StatusFailed, rec.last("message.perm"))
	assert.Equal(t, "permanent", rec.of("message.perm")[1].Outcome)
	assert.Equal(t, "A1Base refused the message: thread not found", rec.of("message.perm")[1].Error)
	assert.Equal(t, state.StatusUnknown, rec.last("message.amb"))
	assert.Equal(t, "ambiguous", rec.of("message.amb")[1].Outcome)
	assert.Equal(t, state.StatusFailed, rec.last("message.flaky"))
	assert.Equal(t, state.StatusSent, rec.last("message.fine"))
}

func TestTransientRetriesWithBackoffAndRetryAfter(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, _ string, n int, req a1base.SendRequest) a1base.Result {
		switch n {
		case 1:
			return transient(503, 0)
		case 2:
			return transient(429, 7*time.Second)
		case 3:
			return transient(429, time.Second)
		}
		return delivered(req)
	}
	sleeps := &noSleep{}
	h := &hookLog{}
	opts := Options{Backoff: Backoff{Base: time.Second, Max: 3 * time.Second, Jitter: -1}, Sleep: sleeps.sleep}
	sum, err := run(t, b, f, rec, opts, h)
	require.NoError(t, err)
	assert.Equal(t, Summary{Sent: 1, Attempts: 4}, sum)
	// 1s, then the API's 7s over the backoff's 2s, then the capped 3s over
	// the API's 1s.
	assert.Equal(t, []time.Duration{time.Second, 7 * time.Second, 3 * time.Second}, sleeps.waits)
	assert.Equal(t, sleeps.waits, h.retrying)

	var got []string
	for _, e := range rec.of("message.launch") {
		got = append(got, fmt.Sprintf("%s %d %s %s %s", e.Kind, e.Attempt, e.Status, e.Outcome, e.Error))
	}
	assert.Equal(t, []string{
		"attempt 1 sending  ",
		"outcome 1 failed transient A1Base answered 503",
		"attempt 2 sending  ",
		"outcome 2 failed transient A1Base answered 429",
		"attempt 3 sending  ",
		"outcome 3 failed transient A1Base answered 429",
		"attempt 4 sending  ",
		"outcome 4 sent delivered ",
	}, got)
}

func TestMaxAttemptsThenFailed(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(context.Context, string, int, a1base.SendRequest) a1base.Result { return transient(503, 0) }
	sleeps := &noSleep{}
	sum, err := run(t, b, f, rec, Options{MaxAttempts: 3, Sleep: sleeps.sleep}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, f.calls("message.launch"))
	assert.Len(t, sleeps.waits, 2)
	assert.Equal(t, 1, sum.Failed)
	evs := rec.of("message.launch")
	require.Len(t, evs, 6)
	for i, e := range evs {
		if e.Kind == state.EventOutcome {
			assert.Equal(t, "transient", e.Outcome, i)
			assert.Equal(t, state.StatusFailed, e.Status, i)
			assert.Equal(t, "A1Base answered 503", e.Error, i)
		}
	}
}

func TestRetryThatWouldComeAfterExpiryIsNotMade(t *testing.T) {
	b := newPlan()
	c := b.send("eng", "launch", t0)
	c.Instance.ExpiresAfter = 2 * time.Minute // the clock is at t0+1m
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(context.Context, string, int, a1base.SendRequest) a1base.Result {
		return transient(429, 5*time.Minute)
	}
	sleeps := &noSleep{}
	sum, err := run(t, b, f, rec, Options{Sleep: sleeps.sleep}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, f.calls("message.launch"))
	assert.Empty(t, sleeps.waits)
	require.Len(t, sum.Failures, 1)
	assert.Contains(t, sum.Failures[0].Reason, "after the message expires")
}

func TestPermanentFailureOthersStillSent(t *testing.T) {
	b := newPlan()
	b.send("eng", "bad", t0)
	b.send("eng", "good", t0.Add(time.Second))
	b.send("ops", "also_good", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, addr string, _ int, req a1base.SendRequest) a1base.Result {
		if addr == "message.bad" {
			return permanent("from is not a member of the group")
		}
		return delivered(req)
	}
	sum, err := run(t, b, f, rec, Options{}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sent)
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, state.StatusSent, rec.last("message.good"))
	assert.Equal(t, state.StatusSent, rec.last("message.also_good"))
}

var errDisk = errors.New("disk full")

func TestAttemptRecordFailureSendsNothingAndStops(t *testing.T) {
	b := newPlan()
	b.send("a", "a1", t0)
	b.send("a", "a2", t0.Add(time.Second))
	b.send("a", "a3", t0.Add(2*time.Second))
	b.send("b", "b1", t0.Add(time.Hour)) // its group comes second
	rec := &memRecorder{fail: func(e state.Event) error {
		if e.Address == "message.a2" && e.Kind == state.EventAttempt {
			return errDisk
		}
		return nil
	}}
	f := newFake(rec, b.plan)
	sum, err := run(t, b, f, rec, Options{Parallelism: 1}, nil)
	require.ErrorIs(t, err, errDisk)
	assert.Contains(t, err.Error(), "message.a2")
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 3, sum.NotStarted)
	assert.Equal(t, 1, f.calls("message.a1"))
	for _, a := range []string{"message.a2", "message.a3", "message.b1"} {
		assert.Zero(t, f.calls(a), a)
		assert.Empty(t, rec.of(a), a)
	}
}

func TestOutcomeRecordFailureStopsNewSends(t *testing.T) {
	b := newPlan()
	b.send("a", "a1", t0)
	b.send("a", "a2", t0.Add(time.Second))
	rec := &memRecorder{fail: func(e state.Event) error {
		if e.Address == "message.a1" && e.Kind == state.EventOutcome {
			return errDisk
		}
		return nil
	}}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{}, h)
	require.ErrorIs(t, err, errDisk)
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, 1, sum.NotStarted)
	assert.Zero(t, f.calls("message.a2"))
	assert.Equal(t, []string{"message.a1#1:unknown"}, h.after)
	// The attempt alone stays in state: replay reads it as unknown.
	assert.Equal(t, state.StatusSending, rec.last("message.a1"))
}

// gate holds requests until released and tells when they arrive.
type gate struct {
	arrived chan string
	release chan struct{}
}

func newGate() *gate { return &gate{arrived: make(chan string, 100), release: make(chan struct{})} }

func TestCancelLetsInFlightFinishAndStartsNothingNew(t *testing.T) {
	b := newPlan()
	for _, g := range []string{"a", "b"} {
		for i := range 3 {
			b.send(g, fmt.Sprintf("%s%d", g, i), t0.Add(time.Duration(i)*time.Second))
		}
	}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	gt := newGate()
	f.respond = func(ctx context.Context, addr string, _ int, req a1base.SendRequest) a1base.Result {
		gt.arrived <- addr
		<-gt.release
		if ctx.Err() != nil {
			return ambiguous()
		}
		return delivered(req)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result)
	go func() {
		sum, err := Run(ctx, b.plan, f, rec, Options{Parallelism: 2, Now: fixedClock()}, nil)
		done <- result{sum, err}
	}()
	inFlight := []string{<-gt.arrived, <-gt.arrived}
	cancel()
	close(gt.release)
	res := <-done
	f.check(t)

	require.ErrorIs(t, res.err, context.Canceled)
	assert.NotErrorIs(t, res.err, ErrAborted)
	assert.ElementsMatch(t, []string{"message.a0", "message.b0"}, inFlight)
	assert.Equal(t, 2, res.sum.Sent)
	assert.Equal(t, 4, res.sum.NotStarted)
	assert.Len(t, f.sent(), 2)
	for _, a := range inFlight {
		assert.Equal(t, state.StatusSent, rec.last(a), a)
	}
}

func TestCancelDuringBackoffStartsNoRetry(t *testing.T) {
	b := newPlan()
	b.send("eng", "flaky", t0)
	b.send("eng", "next", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(context.Context, string, int, a1base.SendRequest) a1base.Result { return transient(503, 0) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Now: fixedClock(), Sleep: func(ctx context.Context, d time.Duration) error {
		cancel() // the interrupt comes during the wait
		<-ctx.Done()
		return ctx.Err()
	}}
	sum, err := Run(ctx, b.plan, f, rec, opts, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.calls("message.flaky"))
	assert.Zero(t, f.calls("message.next"))
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, sum.NotStarted)
	assert.Equal(t, state.StatusFailed, rec.last("message.flaky"))
}

func TestAbortCancelsInFlightRequests(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	b.send("eng", "later", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	gt := newGate()
	reqCtx := make(chan context.Context, 1)
	f.respond = func(ctx context.Context, addr string, _ int, _ a1base.SendRequest) a1base.Result {
		reqCtx <- ctx
		gt.arrived <- addr
		<-ctx.Done() // an API that never answers
		return a1base.Result{Outcome: a1base.Ambiguous, Err: fmt.Errorf("request cancelled: %w", ctx.Err())}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	abort := make(chan struct{})
	done := make(chan error)
	var sum Summary
	go func() {
		var err error
		sum, err = Run(ctx, b.plan, f, rec, Options{Now: fixedClock(), Abort: abort}, nil)
		done <- err
	}()
	<-gt.arrived
	inFlight := <-reqCtx
	cancel()
	require.NoError(t, inFlight.Err(), "the first interrupt must leave the request in flight")
	close(abort)
	err := <-done
	f.check(t)
	require.ErrorIs(t, err, ErrAborted)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, 1, sum.NotStarted)
	evs := rec.of("message.launch")
	require.Len(t, evs, 2)
	assert.Equal(t, state.StatusSending, evs[0].Status)
	assert.Equal(t, state.StatusUnknown, evs[1].Status)
	assert.Contains(t, evs[1].Error, "cancel")
	assert.Empty(t, rec.of("message.later"))
}

func TestAbortAfterAttemptRecordedSendsNothing(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	b.send("eng", "later", t0.Add(time.Second))
	abort := make(chan struct{})
	rec := &memRecorder{fail: func(e state.Event) error {
		if e.Kind == state.EventAttempt {
			close(abort) // the second interrupt comes while the attempt is written
		}
		return nil
	}}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock(), Abort: abort}, h)
	require.ErrorIs(t, err, ErrAborted)
	assert.Empty(t, f.sent())
	assert.Equal(t, 1, sum.Failed)
	assert.Equal(t, 1, sum.NotStarted)
	assert.Zero(t, sum.Attempts)
	evs := rec.of("message.launch")
	require.Len(t, evs, 2)
	// Not unknown: the request never left, so the next run may retry it.
	assert.Equal(t, state.StatusFailed, evs[1].Status)
	assert.Equal(t, "aborted before the request was sent", evs[1].Error)
	assert.Equal(t, []string{"message.launch#1:failed"}, h.after)
}

func TestExpirePlannedIsRecordedWithoutSending(t *testing.T) {
	b := newPlan()
	c := b.text(planner.Expire, "eng", "stale", t0.Add(-48*time.Hour))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	sum, err := run(t, b, f, rec, Options{}, h)
	require.NoError(t, err)
	assert.Equal(t, Summary{Expired: 1}, sum)
	assert.Empty(t, f.sent())
	assert.Equal(t, []string{"message.stale"}, h.expired)
	assert.Equal(t, []state.Event{{
		Kind: state.EventOutcome, Message: state.Message{Address: "message.stale", Group: "eng", ThreadID: "thread-eng", Service: "whatsapp", From: "+14155550000", ContentHash: c.Instance.ContentHash(), SendAt: t0.Add(-48 * time.Hour)}, Attempt: 0, At: t0.Add(time.Minute), Status: state.StatusExpired,
	}}, rec.all())
}

func TestInstancePastExpiryDuringRunIsExpired(t *testing.T) {
	b := newPlan()
	b.send("eng", "first", t0)
	late := b.send("eng", "second", t0.Add(time.Second))
	late.Instance.ExpiresAfter = 30 * time.Minute
	var mu sync.Mutex
	now := t0.Add(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, _ string, _ int, req a1base.SendRequest) a1base.Result {
		mu.Lock()
		now = now.Add(time.Hour) // a very slow first send
		mu.Unlock()
		return delivered(req)
	}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: clock}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 1, sum.Expired)
	assert.Zero(t, f.calls("message.second"))
	assert.Equal(t, state.StatusExpired, rec.last("message.second"))
}

func TestSensitiveAnswerBodyIsNotKept(t *testing.T) {
	b := newPlan()
	secret := b.send("eng", "secret", t0)
	secret.Instance.Sensitive = true
	b.send("eng", "plain", t0.Add(time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	h := &hookLog{}
	_, err := run(t, b, f, rec, Options{}, h)
	require.NoError(t, err)

	got := rec.of("message.secret")[1].Answer
	assert.Equal(t, &state.Answer{ChatGroupID: "chat-thread-eng", From: "+14155550000", Status: "queued", DateCreated: "2026-12-01T09:01:00Z"}, got)
	assert.Equal(t, "text of message.plain", rec.of("message.plain")[1].Answer.Body)
	assert.Equal(t, []string{"", "text of message.plain"}, h.bodies)
	for _, e := range rec.all() {
		assert.NotContains(t, fmt.Sprintf("%+v", e), "text of message.secret")
	}
}

func TestMediaCheck(t *testing.T) {
	build := func() (*planBuilder, *planner.Change) {
		b := newPlan()
		bad := b.send("eng", "bad_media", t0)
		bad.Instance.Text = ""
		bad.Instance.Media = &spec.Media{URL: "https://example.com/missing.png", Type: "image", Caption: "missing"}
		good := b.send("eng", "good_media", t0.Add(time.Second))
		good.Instance.Text = ""
		good.Instance.Media = &spec.Media{URL: "https://example.com/ok.png", Type: "image", Caption: "ok"}
		b.send("eng", "words", t0.Add(2*time.Second))
		return b, bad
	}
	reject := func(url, _ string) error {
		if strings.Contains(url, "missing") {
			return errors.New("HEAD https://example.com/missing.png: 404 Not Found")
		}
		return nil
	}

	t.Run("on", func(t *testing.T) {
		b, _ := build()
		rec := &memRecorder{}
		f := newFake(rec, b.plan)
		f.media = reject
		h := &hookLog{}
		sum, err := run(t, b, f, rec, Options{CheckMedia: true}, h)
		require.NoError(t, err)
		assert.Equal(t, 2, sum.Sent)
		assert.Equal(t, []Failure{{addrs.NoKey("bad_media"), "media check failed: HEAD https://example.com/missing.png: 404 Not Found"}}, sum.Failures)
		assert.Equal(t, []string{"https://example.com/missing.png", "https://example.com/ok.png"}, f.mediaChecks)
		assert.Zero(t, f.calls("message.bad_media"))
		assert.Equal(t, []string{"message.bad_media"}, h.media)
		evs := rec.of("message.bad_media")
		require.Len(t, evs, 1)
		assert.Equal(t, state.EventOutcome, evs[0].Kind)
		assert.Equal(t, state.StatusFailed, evs[0].Status)
		assert.Contains(t, evs[0].Error, "404")
	})
	t.Run("off", func(t *testing.T) {
		b, _ := build()
		rec := &memRecorder{}
		f := newFake(rec, b.plan)
		f.media = reject
		sum, err := run(t, b, f, rec, Options{}, nil)
		require.NoError(t, err)
		assert.Equal(t, 3, sum.Sent)
		assert.Empty(t, f.mediaChecks)
	})
}

func TestBadInputIsAnError(t *testing.T) {
	rec := &memRecorder{}
	okPlan := func() *planBuilder { b := newPlan(); b.send("eng", "m", t0); return b }
	cases := []struct {
		name string
		plan func() *planner.Plan
		opts Options
		want string
	}{
		{"no plan", func() *planner.Plan { return nil }, Options{}, "no plan"},
		{"negative parallelism", func() *planner.Plan { return okPlan().plan }, Options{Parallelism: -1}, "parallelism"},
		{"negative attempts", func() *planner.Plan { return okPlan().plan }, Options{MaxAttempts: -2}, "max attempts"},
		{"jitter above one", func() *planner.Plan { return okPlan().plan }, Options{Backoff: Backoff{Jitter: 2}}, "jitter"},
		{"zero account limit", func() *planner.Plan { return okPlan().plan }, Options{AccountLimit: &spec.RateLimit{N: 0, Per: time.Second, Text: "0/s"}}, `invalid account rate limit (0/s)`},
		{"limit too fine", func() *planner.Plan { return okPlan().plan }, Options{AccountLimit: &spec.RateLimit{N: 10, Per: 5, Text: "10/5ns"}}, "do not fit"},
		{"bad group limit", func() *planner.Plan {
			b := okPlan()
			b.group("eng", nil).RateLimit = &spec.RateLimit{N: 1, Per: -time.Second, Text: "1/-1s"}
			return b.plan
		}, Options{}, `group "eng"`},
		{"send without instance", func() *planner.Plan {
			return &planner.Plan{Changes: []*planner.Change{{Addr: addrs.NoKey("x"), Action: planner.Send}}}
		}, Options{}, "message.x: planned to send but has no configuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSender{}
			_, err := Run(context.Background(), tc.plan(), f, rec, tc.opts, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, f.arrivals)
		})
	}
	_, err := Run(context.Background(), okPlan().plan, nil, rec, Options{}, nil)
	assert.ErrorContains(t, err, "no A1Base client")
	_, err = Run(context.Background(), okPlan().plan, &fakeSender{}, nil, Options{}, nil)
	assert.ErrorContains(t, err, "no state recorder")
	assert.Empty(t, rec.all())
}

func TestBackoffJitterIsSeededAndBounded(t *testing.T) {
	mk := func() *backoff {
		o, err := Options{Backoff: Backoff{Base: 100 * time.Millisecond, Max: time.Second, Jitter: 0.5, Rand: rand.New(rand.NewPCG(7, 7))}}.withDefaults()
		require.NoError(t, err)
		return &backoff{cfg: o.Backoff}
	}
	a, b := mk(), mk()
	for try := 1; try <= 8; try++ {
		full := min(100*time.Millisecond<<(try-1), time.Second)
		w := a.wait(try, 0)
		assert.Equal(t, w, b.wait(try, 0), "same seed, same waits")
		assert.GreaterOrEqual(t, w, full/2, try)
		assert.LessOrEqual(t, w, full, try)
	}
	assert.Equal(t, 30*time.Second, a.wait(1, 30*time.Second))
}

// TestLostAnswerLookupMatchesSender: the look-up right after a lost answer
// takes a thread message as the send's delivery only when it comes from the
// number herald sent from, within the attempt's window. A member who posts
// the same text leaves the message unknown.
func TestLostAnswerLookupMatchesSender(t *testing.T) {
	now := fixedClock()()
	for _, tc := range []struct {
		name  string
		msg   a1base.ThreadMessage
		found bool
	}{
		{name: "own", msg: a1base.ThreadMessage{From: "+14155550000", DateCreated: now}, found: true},
		{name: "member_copy", msg: a1base.ThreadMessage{From: "+19995550123", DateCreated: now}},
		{name: "no_sender", msg: a1base.ThreadMessage{DateCreated: now}},
		{name: "long_before", msg: a1base.ThreadMessage{From: "+14155550000", DateCreated: now.Add(-time.Hour)}},
		{name: "long_after", msg: a1base.ThreadMessage{From: "+14155550000", DateCreated: now.Add(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			c := b.send("eng", "launch", t0)
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.respond = func(context.Context, string, int, a1base.SendRequest) a1base.Result { return ambiguous() }
			f.recent = func(string) ([]a1base.ThreadMessage, error) {
				m := tc.msg
				m.Body = c.Instance.Text
				return []a1base.ThreadMessage{m}, nil
			}
			sum, err := run(t, b, f, rec, Options{Now: fixedClock()}, nil)
			require.NoError(t, err)
			assert.Equal(t, 1, f.calls("message.launch"), "never sent again")
			if tc.found {
				assert.Equal(t, 1, sum.Sent)
				assert.Equal(t, state.StatusSent, rec.last("message.launch"))
			} else {
				assert.Equal(t, 1, sum.Unknown)
				assert.Equal(t, state.StatusUnknown, rec.last("message.launch"))
			}
		})
	}
}

// TestAnUnknownHoldsItsThread: once a send's outcome is unknown (and the
// immediate look-up did not find it), its thread sends nothing more in
// the run, so the unknown stays the newest herald message there for the
// look-up that settles it; other threads go on.
func TestAnUnknownHoldsItsThread(t *testing.T) {
	b := newPlan()
	b.send("eng", "first", t0)
	b.send("eng", "amb", t0.Add(time.Second))
	b.send("eng", "next", t0.Add(2*time.Second))
	b.send("eng", "last", t0.Add(3*time.Second))
	b.send("sales", "other", t0.Add(4*time.Second))
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, addr string, n int, req a1base.SendRequest) a1base.Result {
		if addr == "message.amb" {
			return ambiguous()
		}
		return delivered(req)
	}
	sum, err := run(t, b, f, rec, Options{Parallelism: 2}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sent)
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, 2, sum.Waiting)
	require.Len(t, sum.Waits, 2)
	assert.Equal(t, addrs.NoKey("last"), sum.Waits[0].Addr)
	assert.Equal(t, addrs.NoKey("next"), sum.Waits[1].Addr)
	assert.Contains(t, sum.Waits[0].Reason, "message.amb became unknown earlier in its thread")
	assert.Equal(t, 0, f.calls("message.next"))
	assert.Equal(t, 0, f.calls("message.last"))
	assert.Equal(t, 1, f.calls("message.other"))
	// Nothing is recorded for the held messages: the next plan holds
	// them until the unknown settles.
	assert.Empty(t, rec.of("message.next"))
	assert.Empty(t, rec.of("message.last"))
}
