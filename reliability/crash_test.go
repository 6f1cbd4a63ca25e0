package reliability

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

// base is the first send_at of generated configurations. The fake's clock
// follows the -at of each herald run (see FakeOptions.Clock), so that a
// thread's date_created agrees with the attempts herald recorded, as
// reconciliation needs.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestCrash kills herald apply with SIGKILL at seeded random moments:
// mostly while it sends (after a random number of deliveries), some while
// it starts up, loads state or plans. Every kill is followed by another
// apply, and a last one runs to the end. Nothing may be delivered twice
// and every delivery must be in state as sent or unknown.
func TestCrash(t *testing.T) {
	t.Parallel()
	n, kills := size(2000, 400), size(50, 12)
	cfg := Messages{N: n, Groups: 8, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 1, JitterMin: time.Millisecond, JitterMax: 3 * time.Millisecond})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "1 crash (kill -9)"}
	apply := func(clock time.Time) []string {
		return []string{"apply", "-auto-approve", "-no-color", "-parallelism=8", at(clock)}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Run k sees the first (k+1)/kills of the messages due, so that every
	// run has sending left to be killed in.
	perKill := n / kills
	killed := 0
	for k := 0; k < kills; k++ {
		p, err := w.Herald.Start(apply(cfg.SendAt((k + 1) * perKill))...)
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		if killSomewhere(f, w, p, rng, 800*time.Millisecond, 0, perKill) {
			killed++
		}
	}
	// One more apply to the end: it reconciles what the kills left
	// unknown and sends the rest.
	f.Runs++
	res := w.Herald.Run(runTimeout, apply(cfg.SendAt(n).Add(time.Hour))...)
	if res.Code != 0 && res.Code != 1 {
		f.Fail("final apply: %s", res)
	}
	noPanic(f, res)
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if settled := counts[state.StatusSent] + counts[state.StatusUnknown] + counts[state.StatusNotDelivered]; settled != n {
		f.Fail("after the last apply %d of %d messages are sent or unknown (%v)", settled, n, counts)
	}
	if killed < kills/2 {
		f.Fail("only %d of %d runs were killed: the scenario did not exercise crashes", killed, kills)
	}
	// With the default unknown_settle (5m) and applies 40s of clock
	// apart, the first look-up after a kill is too early, and the next
	// apply's sends bury the attempt: what is left unknown must say so.
	explainUnknowns(t, f, snap)
	t.Logf("%d runs killed with SIGKILL; states at the end: %v", killed, counts)
	report(t, f)
}

// killSomewhere kills p with SIGKILL at a seeded random moment: one time in
// five anywhere in its first early of life (start-up and planning
// included), otherwise once the fake has delivered between least and most
// more messages, plus up to 3 ms. It says whether the kill landed; an
// apply that ended by itself first must have exited 0 or 1.
func killSomewhere(f *Figures, w *Workspace, p *Proc, rng *rand.Rand, early time.Duration, least, most int) bool {
	if rng.IntN(5) == 0 {
		sleepOrDone(p, time.Duration(rng.Int64N(int64(early))))
	} else {
		target := w.Fake.Delivered() + least + rng.IntN(most-least+1)
		for w.Fake.Delivered() < target && !isDone(p) {
			time.Sleep(200 * time.Microsecond)
		}
		sleepOrDone(p, time.Duration(rng.Int64N(int64(3*time.Millisecond))))
	}
	if !isDone(p) {
		_ = p.Signal(syscall.SIGKILL)
	}
	res := p.Wait(runTimeout)
	if res.Code != 0 && res.Code != 1 && res.Signal != "killed" {
		f.Fail("apply ended with exit %d before it was killed:\n%s", res.Code, res)
	}
	noPanic(f, res)
	return res.Signal == "killed"
}

func isDone(p *Proc) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

func sleepOrDone(p *Proc, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.Done():
	}
}
