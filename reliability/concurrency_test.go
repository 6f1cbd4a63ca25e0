package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
)

// TestConcurrency starts two, then eight applies together on one state.
// Without a lock timeout exactly one of them sends and the others fail
// (exit 1) naming the lock; with -lock-timeout=30s they queue, and all
// finish with nothing sent twice.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		applies int
		wait    string
	}{{2, "0s"}, {8, "0s"}, {2, "30s"}, {8, "30s"}} {
		t.Run(fmt.Sprintf("%d applies, lock-timeout %s", tc.applies, tc.wait), func(t *testing.T) {
			n := size(200, 80)
			cfg := Messages{N: n, Groups: 4, Start: base, Every: time.Second, ExpiresAfter: "720h"}
			// The latency keeps the first apply sending (and holding the
			// lock) well past the others' start-up.
			w := newWorkspace(t, FakeOptions{Seed: 3, Faults: sandbox.Faults{Latency: 50 * time.Millisecond}})
			if err := w.WriteConfig(cfg.HCL()); err != nil {
				t.Fatal(err)
			}
			f := &Figures{Scenario: fmt.Sprintf("3 concurrency (%d, lock-timeout %s)", tc.applies, tc.wait)}
			args := []string{"apply", "-auto-approve", "-no-color", "-lock-timeout=" + tc.wait, at(cfg.SendAt(n))}
			procs := make([]*Proc, tc.applies)
			for i := range procs {
				p, err := w.Herald.Start(args...)
				if err != nil {
					t.Fatal(err)
				}
				procs[i] = p
				f.Runs++
			}
			ok, locked := 0, 0
			for _, p := range procs {
				res := p.Wait(runTimeout)
				noPanic(f, res)
				switch {
				case res.Code == 0:
					ok++
				case res.Code == 1 && strings.Contains(res.Stderr, "state is locked") && strings.Contains(res.Stderr, "herald.state.json.lock"):
					locked++
				default:
					f.Fail("an apply neither succeeded nor failed naming the lock:\n%s", res)
				}
			}
			if tc.wait == "0s" && (ok != 1 || locked != tc.applies-1) {
				f.Fail("without a lock timeout: %d applies succeeded and %d failed on the lock; want 1 and %d", ok, locked, tc.applies-1)
			}
			if tc.wait != "0s" && ok != tc.applies {
				f.Fail("with -lock-timeout=%s only %d of %d applies succeeded", tc.wait, ok, tc.applies)
			}
			checkState(t, w, f)
			if f.Deliveries != n {
				f.Fail("%d of %d messages were delivered", f.Deliveries, n)
			}
			report(t, f)
		})
	}
}
