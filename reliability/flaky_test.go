package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// TestFlakyAPI runs apply against a fake that answers 30% of sends with a
// 500 (not delivered), 10% with 429 and Retry-After, and loses the answer
// of 5% after delivering them; applies are repeated until nothing is left
// to send or retry. Every message must end delivered once or unknown,
// never twice, and the fake's arrival times must keep to the account and
// group rate limits in every run.
//
// It runs alone, not beside the other scenarios: the windows are measured
// where the fake stamps arrivals, and a busy machine delays some arrivals
// more than others.
func TestFlakyAPI(t *testing.T) {
	n := size(300, 100)
	const accountN, groupN = 10, 3
	cfg := Messages{N: n, Groups: 8, Start: base, Every: time.Second, ExpiresAfter: "720h",
		AccountLimit: "10/s", GroupLimit: "3/s"}
	w := newWorkspace(t, FakeOptions{Seed: 4, Faults: sandbox.Faults{
		ErrorRate: 0.3, RateLimitRate: 0.1, RetryAfter: "1",
		LoseRate: 0.05, Lose: sandbox.Drop, Latency: time.Millisecond,
	}})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "4 flaky API (5xx, 429, lost answers)"}
	args := []string{"apply", "-auto-approve", "-no-color", "-parallelism=8", at(cfg.SendAt(n))}
	for run := 0; run < 6; run++ {
		from := len(w.Fake.Arrivals())
		f.Runs++
		res := w.Herald.Run(runTimeout, args...)
		noPanic(f, res)
		if res.Code != 0 && res.Code != 1 {
			f.Fail("apply: %s", res)
		}
		CheckWindows(f, w.Fake.Arrivals()[from:], accountN, time.Second, groupN, time.Second)
		if run == 0 && !strings.Contains(res.Stdout+res.Stderr, "retry") && !strings.Contains(res.Stdout+res.Stderr, "Retry") {
			t.Logf("first apply mentions no retry:\n%s", clip(res.Stdout))
		}
		if res.Code == 0 {
			break
		}
	}
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if settled := counts[state.StatusSent] + counts[state.StatusUnknown]; settled != n {
		f.Fail("%d of %d messages ended sent or unknown (%v)", settled, n, counts)
	}
	var retried int
	for _, r := range snap.Records {
		if len(r.Attempts) > 1 {
			retried++
		}
	}
	if retried == 0 {
		f.Fail("no message needed a second attempt: the faults did not reach herald")
	}
	t.Logf("states %v; %d messages took more than one attempt; %d send requests in all", counts, retried, len(w.Fake.Arrivals()))
	report(t, f)
}

// TestSlowAnswers holds two answers past the client's request timeout:
// one the fake never delivers, one it delivers and never answers. Neither
// is retried: herald finds the delivered one in its thread right away and
// records it as sent; the other stays unknown, also after the next apply.
func TestSlowAnswers(t *testing.T) {
	t.Parallel()
	const n = 8
	cfg := Messages{N: n, Groups: n, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 5})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	w.Fake.Script(
		sandbox.Reply{Delay: 45 * time.Second},
		sandbox.Reply{Lost: true, Lose: sandbox.Hang},
	)
	f := &Figures{Scenario: "4 flaky API (answers past the timeout)"}
	args := []string{"apply", "-auto-approve", "-no-color", "-parallelism=8", at(cfg.SendAt(n))}
	res := mustRun(w, f, 1, args...)
	checkState(t, w, f)
	if f.UnknownsLeft != 1 {
		f.Fail("after the timeouts %d messages are unknown, want 1:\n%s", f.UnknownsLeft, res)
	}
	mustRun(w, f, 0, args...)
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if counts[state.StatusSent] != n-1 || counts[state.StatusUnknown] != 1 {
		f.Fail("after reconciliation: %v, want %d sent and 1 unknown", counts, n-1)
	}
	if f.Deliveries != n-1 {
		f.Fail("%d deliveries, want %d", f.Deliveries, n-1)
	}
	report(t, f)
}
