package executor

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// The limit is driven here on a made-up clock: its methods take the time,
// so how it paces is checked without sleeping.

func newTestLimit(t *testing.T, n int, per time.Duration) *limit {
	t.Helper()
	l, err := newLimit("test", *limitOf(n, per))
	require.NoError(t, err)
	return l
}

func TestPaceMakesUpLatenessOfOneInterval(t *testing.T) {
	l := newTestLimit(t, 10, 100*time.Millisecond) // window 110ms, interval 11ms
	require.Equal(t, 11*time.Millisecond, l.interval)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	assert.Zero(t, l.paceWait(ms(0)), "the first start goes at once")
	l.takePace(ms(0))
	assert.Equal(t, 11*time.Millisecond, l.paceWait(ms(0)), "then one interval later")
	assert.Equal(t, 6*time.Millisecond, l.paceWait(ms(5)))

	// Taken 4ms late: the next slot stays on the plan (22ms), not 11ms
	// after the late start.
	l.takePace(ms(15))
	assert.Equal(t, 7*time.Millisecond, l.paceWait(ms(15)))

	// 28ms late, more than an interval: one interval is made up, so the
	// next may go at once, and the one after a full interval later.
	l.takePace(ms(50))
	assert.Zero(t, l.paceWait(ms(50)))
	l.takePace(ms(50))
	assert.Equal(t, 11*time.Millisecond, l.paceWait(ms(50)))

	// After an idle minute, no more than two come together.
	l.takePace(ms(60_000))
	assert.Zero(t, l.paceWait(ms(60_000)))
	l.takePace(ms(60_000))
	assert.Equal(t, 11*time.Millisecond, l.paceWait(ms(60_000)))
}

// The pace waits for room in the window too: with one send per period,
// making up lateness must not let a second start through early.
func TestPaceWaitsForTheWindow(t *testing.T) {
	l := newTestLimit(t, 1, 50*time.Millisecond) // window 55ms
	l.takePace(t0)
	l.noteStart(t0.Add(30 * time.Millisecond)) // recording took 30ms
	// The pace alone would let the next go at 55ms; the window says 85ms.
	assert.Equal(t, 85*time.Millisecond, l.paceWait(t0))
	assert.Equal(t, 5*time.Millisecond, l.paceWait(t0.Add(80*time.Millisecond)))
}

// simulatePaced drives one sender through the limit the way the executor
// does (wait for the pace, record, wait for the start gate, start) on a
// made-up clock whose timers fire late by up to maxLate, and returns the
// moments of the starts.
func simulatePaced(l *limit, sends int, maxLate time.Duration, seed uint64) []time.Time {
	return simulatePacedWith(l, sends, maxLate, seed, l.takePace)
}

func simulatePacedWith(l *limit, sends int, maxLate time.Duration, seed uint64, take func(time.Time)) []time.Time {
	rng := rand.New(rand.NewPCG(seed, 1))
	late := func() time.Duration { return time.Duration(rng.Int64N(int64(maxLate) + 1)) }
	now := t0
	var starts []time.Time
	for range sends {
		for d := l.paceWait(now); d > 0; d = l.paceWait(now) {
			now = now.Add(d + late())
		}
		take(now)
		now = now.Add(time.Duration(rng.Int64N(int64(2 * time.Millisecond)))) // recording the attempt
		for d := l.startWait(now); d > 0; d = l.startWait(now) {
			now = now.Add(d + late())
		}
		l.noteStart(now)
		starts = append(starts, now)
	}
	return starts
}

func achieved(starts []time.Time, per time.Duration) float64 {
	span := starts[len(starts)-1].Sub(starts[0])
	return float64(len(starts)-1) / (float64(span) / float64(per))
}

func TestPaceKeepsTheRateWhenTimersFireLate(t *testing.T) {
	for _, tc := range []struct {
		n       int
		per     time.Duration
		maxLate time.Duration
		atLeast float64 // of N per window
	}{
		{50, time.Second, 0, 0.995},
		{50, time.Second, 5 * time.Millisecond, 0.99},
		{50, time.Second, 15 * time.Millisecond, 0.98},
		{20, time.Second, 40 * time.Millisecond, 0.96},
		{3, 150 * time.Millisecond, 20 * time.Millisecond, 0.9},
	} {
		for seed := range uint64(5) {
			l := newTestLimit(t, tc.n, tc.per)
			starts := simulatePaced(l, 10*tc.n, tc.maxLate, seed)
			assertWindow(t, "simulated", starts, tc.n, tc.per)
			// The pace gives N per window, the period plus its slack.
			want := float64(tc.n) * float64(tc.per) / float64(l.window)
			got := achieved(starts, tc.per)
			assert.LessOrEqual(t, got, float64(tc.n), "%d/%s", tc.n, tc.per)
			assert.GreaterOrEqual(t, got, tc.atLeast*want, "%d/%s, timers up to %s late, seed %d: %.2f starts per period, want about %.2f",
				tc.n, tc.per, tc.maxLate, seed, got, want)

			// A burst-1 token bucket plans from the moment of the last
			// start and loses the lateness for good.
			if tc.maxLate > 0 {
				f := newTestLimit(t, tc.n, tc.per)
				f.pace = rate.NewLimiter(rate.Every(f.interval), 1)
				forgetting := simulatePacedWith(f, 10*tc.n, tc.maxLate, seed, f.takePace)
				assert.Less(t, achieved(forgetting, tc.per), got-0.01*want)
			}
		}
	}
}

func TestNewLimitPacesByTheWindow(t *testing.T) {
	l, err := newLimit("test", spec.RateLimit{N: 50, Per: time.Second, Text: "50/s"})
	require.NoError(t, err)
	assert.Equal(t, time.Second+20*time.Millisecond, l.window)
	assert.Equal(t, 20400*time.Microsecond, l.interval)
}

// Seed counts other runs' starts from state: a finished attempt from its
// end, one without an end (in flight elsewhere, or cut short) as late as
// its request could have left, one stamped ahead of the clock as made
// now; attempts it counted once, or that this process made, only once.
func TestSeedCountsStartsFromState(t *testing.T) {
	now := t0.Add(time.Hour)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	rl := limitOf(2, time.Minute)
	def := spec.Provider{AccountID: "acc_1", RateLimit: rl}
	eu := &spec.Provider{Alias: "eu", AccountID: "acc_1"}
	cfg := &spec.Config{
		Provider: def,
		Aliases:  map[string]*spec.Provider{"eu": eu},
		Groups:   map[string]*spec.Group{"berlin": {Name: "berlin", Provider: eu, RateLimit: limitOf(1, time.Minute)}},
	}
	snap := &state.Snapshot{Records: map[string]*state.Record{
		"message.a": {Message: state.Message{Address: "message.a", Group: "berlin"}, Attempts: []state.Attempt{
			{Number: 1, StartedAt: now.Add(-50 * time.Second), FinishedAt: at(-40 * time.Second)},
			{Number: 2, StartedAt: now.Add(-10 * time.Second)}, // no end: counts as now
		}},
		"message.old": {Message: state.Message{Address: "message.old", Group: "gone"}, Attempts: []state.Attempt{
			{Number: 1, StartedAt: now.Add(-2 * time.Hour), FinishedAt: at(-2 * time.Hour)},
		}},
		"message.ahead": {Message: state.Message{Address: "message.ahead", Group: "gone"}, Attempts: []state.Attempt{
			{Number: 1, StartedAt: now.Add(time.Hour), FinishedAt: at(time.Hour)},
		}},
	}}
	ls := NewLimiters()
	require.NoError(t, ls.Seed(snap, cfg, now))
	require.NoError(t, ls.Seed(snap, cfg, now), "a second seed adds nothing")

	account := ls.histories[accountHistory("", "acc_1")]
	require.NotNil(t, account, "one history for both blocks on acc_1")
	assert.Same(t, account, ls.histories[accountHistory("eu", "acc_1")])
	assert.Equal(t, []time.Time{now.Add(-40 * time.Second), now, now}, account.starts,
		"a's attempts through a1base.eu, and the start ahead of the clock as now; the old one is out of every window")
	assert.Equal(t, []time.Time{now.Add(-40 * time.Second), now}, ls.histories[groupHistory("berlin")].starts)

	// A run over these limiters waits for them.
	lim, err := buildLimits(Options{AccountLimit: rl, AccountID: "acc_1", Limiters: ls,
		Accounts: map[string]Account{"eu": {ID: "acc_1"}}}, nil, func() time.Time { return now })
	require.NoError(t, err)
	require.Len(t, lim.ofLookUp("eu"), 1, "the default block's limit holds for a1base.eu, on the same account")
	assert.Equal(t, time.Minute+startMargin(time.Minute), lim.ofLookUp("eu")[0].startWait(now), "three starts in the window of two: the one made now must leave")
}

// A start admitted and not yet written holds its place in the window
// until it is: its window runs from the write, whenever that comes.
func TestStartInFlightHoldsTheWindowUntilWritten(t *testing.T) {
	now := runningClock()
	lim, err := buildLimits(Options{AccountLimit: limitOf(1, 100*time.Millisecond)}, nil, now)
	require.NoError(t, err)
	first, err := lim.admit(context.Background(), lim.ofLookUp(""), "")
	require.NoError(t, err)
	admitted := make(chan time.Time)
	go func() {
		second, err := lim.admit(context.Background(), lim.ofLookUp(""), "")
		assert.NoError(t, err)
		admitted <- now()
		second.written()
	}()
	time.Sleep(150 * time.Millisecond) // longer than the window
	select {
	case <-admitted:
		t.Fatal("admitted while the first start was not written yet")
	default:
	}
	written := now()
	first.written()
	assert.GreaterOrEqual(t, (<-admitted).Sub(written), 110*time.Millisecond, "a window after the write")
}
