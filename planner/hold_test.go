package planner

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// inFlight is an attempt that started at start and has no outcome: the
// process died while sending, or the answer was lost.
func inFlight(start time.Time) recOpt {
	return func(r *state.Record) {
		r.Attempts = append(r.Attempts, state.Attempt{Number: len(r.Attempts) + 1, StartedAt: start})
	}
}

func settleAfter(d time.Duration) instOpt {
	return func(i *spec.Instance) { i.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: d} }
}

func TestThreadWaitsForItsUnknowns(t *testing.T) {
	settle := 5 * time.Minute
	attempt := ago_(2 * time.Minute) // settles 3 minutes from the clock
	unknown := newInst(t, "message.lost", ago_(2*time.Minute), settleAfter(settle))
	next := newInst(t, "message.next", ago_(time.Minute), settleAfter(settle))
	failed := newInst(t, "message.failed", ago_(30*time.Minute), settleAfter(settle))
	later := newInst(t, "message.later", in(time.Hour), settleAfter(settle))
	other := newInst(t, "message.other", ago_(time.Minute), group("sales"), settleAfter(settle))
	cfg := configOf([]*spec.Instance{unknown, next, failed, later, other})
	snap := snapOf(rec(unknown, state.StatusSending, inFlight(attempt)), rec(failed, state.StatusFailed, failedAttempts(1, "503")))

	p := New(cfg, snap, clock, Options{})
	byAddr := map[string]*Change{}
	for _, c := range p.Changes {
		byAddr[c.Addr.String()] = c
	}
	settles := attempt.Add(settle)
	for _, addr := range []string{"message.next", "message.failed"} {
		c := byAddr[addr]
		require.Equal(t, Wait, c.Action, addr)
		require.NotNil(t, c.Waits, addr)
		require.Equal(t, settles, c.Waits.Until, addr)
		require.Len(t, c.Waits.For, 1, addr)
		require.Equal(t, "message.lost", c.Waits.For[0].String(), addr)
		require.Contains(t, c.Reason, "waits for message.lost to settle, until "+stamp(settles), addr)
		require.Equal(t, settles, c.NotBefore(), addr)
	}
	require.Equal(t, Unknown, byAddr["message.lost"].Action)
	// Another thread goes on; a message not due yet keeps its send_at.
	require.Equal(t, Send, byAddr["message.other"].Action)
	require.Equal(t, Wait, byAddr["message.later"].Action)
	require.Nil(t, byAddr["message.later"].Waits)
	require.Equal(t, later.SendAt, byAddr["message.later"].NotBefore())

	// -target leaves the unknown out of the plan, not out of the thread.
	p = New(cfg, snap, clock, Options{Targets: []addrs.Message{mustAddr(t, "message.next")}})
	require.Len(t, p.Changes, 1)
	require.Equal(t, Wait, p.Changes[0].Action)
	// So does -exclude.
	p = New(cfg, snap, clock, Options{Exclude: []addrs.Message{mustAddr(t, "message.lost")}})
	require.Equal(t, 1, p.Excluded)
	for _, c := range p.Changes {
		require.NotEqual(t, "message.lost", c.Addr.String())
		if c.Addr.String() == "message.next" {
			require.Equal(t, Wait, c.Action)
			require.NotNil(t, c.Waits)
		}
	}

	// Once its settle time has passed, the look-up has had its chance:
	// the thread is released whatever it found.
	p = New(cfg, snap, settles, Options{})
	for _, c := range p.Changes {
		if c.Addr.String() == "message.next" {
			require.Equal(t, Send, c.Action)
			require.Nil(t, c.Waits)
		}
	}

	// A message sent on purpose is not held, and neither is the unknown
	// itself when -replace resends it.
	p = New(cfg, snap, clock, Options{Replace: []addrs.Message{mustAddr(t, "message.lost")}})
	for _, c := range p.Changes {
		switch c.Addr.String() {
		case "message.lost":
			require.Equal(t, Send, c.Action)
		case "message.next":
			require.Equal(t, Send, c.Action, "nothing unknown is left in the thread")
		}
	}
}

func TestUnknownsThatCannotBeLookedUpHoldNothing(t *testing.T) {
	settle := 5 * time.Minute
	// A record without an attempt has no window to look in.
	noAttempt := newInst(t, "message.bare", ago_(2*time.Minute), settleAfter(settle))
	next := newInst(t, "message.next", ago_(time.Minute), settleAfter(settle))
	snap := snapOf(rec(noAttempt, state.StatusUnknown))
	p := New(configOf([]*spec.Instance{noAttempt, next}), snap, clock, Options{})
	for _, c := range p.Changes {
		if c.Addr.String() == "message.next" {
			require.Equal(t, Send, c.Action)
		}
	}
	// A media message without a caption is looked for by its URL, so it
	// holds its thread like any other.
	noCaption := newInst(t, "message.image", ago_(2*time.Minute), media("https://example.com/a.png", ""), settleAfter(settle))
	snap = snapOf(rec(noCaption, state.StatusUnknown, inFlight(ago_(2*time.Minute))))
	p = New(configOf([]*spec.Instance{noCaption, next}), snap, clock, Options{})
	for _, c := range p.Changes {
		if c.Addr.String() == "message.next" {
			require.Equal(t, Wait, c.Action)
		}
	}
}

func TestHeldChangeSurvivesASavedPlan(t *testing.T) {
	settle := 5 * time.Minute
	unknown := newInst(t, "message.lost", ago_(2*time.Minute), settleAfter(settle))
	next := newInst(t, "message.next", ago_(time.Minute), settleAfter(settle))
	p := New(configOf([]*spec.Instance{unknown, next}), snapOf(rec(unknown, state.StatusUnknown, inFlight(ago_(2*time.Minute)))), clock, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	var c *Change
	for _, pc := range sp.Plan().Changes {
		if pc.Addr.String() == "message.next" {
			c = pc
		}
	}
	require.NotNil(t, c)
	require.Equal(t, Wait, c.Action)
	require.NotNil(t, c.Waits)
	require.Equal(t, "message.lost", c.Waits.For[0].String())
	require.True(t, c.Waits.Until.Equal(ago_(2*time.Minute).Add(settle)))
}
