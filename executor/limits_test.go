package executor

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/heraldhq/herald/spec"
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
