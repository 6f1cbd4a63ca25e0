package reliability

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

// TestInterrupt sends SIGINT or SIGTERM to apply in the middle of sending.
// The first interrupt lets the sends in flight finish, so every delivery
// must be recorded as sent and none left unknown; apply exits 130 and
// releases the lock, so that an apply with -lock-timeout=0 right after
// succeeds and sends the rest, nothing twice.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]os.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM} {
		t.Run(name, func(t *testing.T) {
			n := size(400, 120)
			cfg := Messages{N: n, Groups: 4, Start: base, Every: time.Second, ExpiresAfter: "720h"}
			w := newWorkspace(t, FakeOptions{Seed: 2, JitterMin: 2 * time.Millisecond, JitterMax: 4 * time.Millisecond})
			if err := w.WriteConfig(cfg.HCL()); err != nil {
				t.Fatal(err)
			}
			f := &Figures{Scenario: "2 interrupt (" + name + ")"}
			args := []string{"apply", "-auto-approve", "-no-color", "-lock-timeout=0s", at(cfg.SendAt(n))}
			p, err := w.Herald.Start(args...)
			if err != nil {
				t.Fatal(err)
			}
			f.Runs++
			for w.Fake.Delivered() < n/4 && !isDone(p) {
				time.Sleep(time.Millisecond)
			}
			if isDone(p) {
				t.Fatalf("apply finished before it could be interrupted: %s", p.Wait(0))
			}
			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			res := p.Wait(runTimeout)
			noPanic(f, res)
			if res.Code != 130 {
				f.Fail("interrupted apply: expected exit 130:\n%s", res)
			}
			snap := checkState(t, w, f)
			for addr, r := range snap.Records {
				if r.Status != state.StatusSent {
					f.Fail("after the interrupt %s is %s, not sent", addr, r.Status)
				}
			}
			interrupted := f.Deliveries
			if interrupted >= n {
				f.Fail("the interrupt stopped nothing: all %d messages were delivered", n)
			}
			if _, err := os.Stat(w.StatePath() + ".journal"); err == nil {
				f.Fail("the interrupted apply left its journal instead of folding it into the state")
			}

			// The lock is free: an apply that does not wait gets it.
			mustRun(w, f, 0, args...)
			snap = checkState(t, w, f)
			if got := statusCounts(snap)[state.StatusSent]; got != n {
				f.Fail("after the second apply %d of %d messages are sent", got, n)
			}
			t.Logf("%d delivered before the interrupt took effect, %d after", interrupted, f.Deliveries-interrupted)
			report(t, f)
		})
	}
}
