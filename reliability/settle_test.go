package reliability

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// crashSettle is one kill -9 scenario with settled look-ups.
type crashSettle struct {
	scenario string
	// policy and settle are the provider's on_unknown and unknown_settle.
	policy, settle string
	// lag delays deliveries in the fake's get-recent (its clock).
	lag   time.Duration
	kills int
	seed  uint64
	// duplicatesExpected: the lag is longer than the settle time, so a
	// look-up can miss a delivery; the duplicates are the figure.
	duplicatesExpected bool
}

// step is how far the clock (-at) moves from one apply to the next: a CI
// schedule's interval. Every apply after a kill reads the thread later
// than the settle times these scenarios use (except where one is set
// longer on purpose), so the first look-up after a crash is settled. The
// settle times are at least spec.MinUnknownSettle.
const step = 4 * time.Minute

// run kills herald apply with SIGKILL at seeded random moments, as TestCrash
// does, with applies a step of the clock apart, then runs one settling
// apply an hour later. Each kill is followed by a wait for the requests
// the killed process had written to be served: the clock moved by a step,
// and so would real time between two scheduled applies.
func (sc crashSettle) run(t *testing.T) {
	t.Parallel()
	const perKill = 12 // messages newly due per apply: 1 or 2 per group
	n := sc.kills * perKill
	cfg := Messages{N: n, Groups: 8, Start: base, Every: step / perKill, ExpiresAfter: "720h",
		OnUnknown: sc.policy, UnknownSettle: sc.settle}
	w := newWorkspace(t, FakeOptions{Seed: sc.seed, JitterMin: time.Millisecond, JitterMax: 3 * time.Millisecond, RecentLag: sc.lag})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: sc.scenario, DuplicatesExpected: sc.duplicatesExpected}
	apply := func(clock time.Time) []string {
		return []string{"apply", "-auto-approve", "-no-color", "-parallelism=8", at(clock)}
	}
	rng := rand.New(rand.NewPCG(sc.seed, 7))
	killed := 0
	for k := 0; k < sc.kills; k++ {
		p, err := w.Herald.Start(apply(cfg.SendAt((k + 1) * perKill))...)
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		if killSomewhere(f, w, p, rng, 600*time.Millisecond, 1, perKill) {
			killed++
		}
		w.Fake.WaitServed()
	}
	f.Runs++
	res := w.Herald.Run(runTimeout, apply(cfg.SendAt(n).Add(time.Hour))...)
	if res.Code != 0 && res.Code != 1 {
		f.Fail("settling apply: %s", res)
	}
	noPanic(f, res)
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if done := counts[state.StatusSent] + counts[state.StatusUnknown] + counts[state.StatusNotDelivered] + counts[state.StatusExpired]; done != n {
		f.Fail("after the settling apply %d of %d messages are sent, unknown, not delivered or expired (%v)", done, n, counts)
	}
	if killed < sc.kills/2 {
		f.Fail("only %d of %d runs were killed: the scenario did not exercise crashes", killed, sc.kills)
	}
	if sc.policy == "resend" && counts[state.StatusNotDelivered] > 0 {
		f.Fail("%d messages proven not delivered were not resent under on_unknown = resend", counts[state.StatusNotDelivered])
	}
	explainUnknowns(t, f, snap)
	t.Logf("%d runs killed with SIGKILL; states at the end: %v; %d resent after a proven absence (longest %s after the first attempt)",
		killed, counts, f.Resent, f.MaxResendDelay)
	report(t, f)
}

// explainUnknowns fails f for every unknown record whose last look-up
// gives no reason, and logs the reasons of the others.
func explainUnknowns(t *testing.T, f *Figures, snap *state.Snapshot) {
	t.Helper()
	if snap == nil {
		return
	}
	why := map[string]int{}
	for addr, r := range snap.Records {
		if r.Status != state.StatusUnknown && r.Status != state.StatusSending {
			continue
		}
		a := r.LastAttempt()
		if a == nil || a.LookUp == nil || a.LookUp.Unsettled == "" {
			f.Fail("%s is left unknown without a look-up that says why", addr)
			continue
		}
		reason, _, _ := strings.Cut(a.LookUp.Unsettled, ":")
		why[reason]++
	}
	reasons := make([]string, 0, len(why))
	for r := range why {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("unknown left, %d times: %s", why[r], r)
	}
}

// TestCrashSettles: kill -9 at 50 random moments under each policy, with
// a settle time shorter than the time between applies: under resend every
// unknown is settled and nothing is left for a person; under hold every
// proven absence waits with its evidence. Neither duplicates anything.
func TestCrashSettles(t *testing.T) {
	kills := size(50, 15)
	t.Run("resend", crashSettle{scenario: "11 crash, settled look-ups (resend)", policy: "resend", settle: "3m", kills: kills, seed: 10}.run)
	t.Run("hold", crashSettle{scenario: "11 crash, settled look-ups (hold)", policy: "hold", settle: "3m", kills: kills, seed: 11}.run)
}

// TestCrashSettlesWithLag: the fake lists a delivery among a thread's
// recent messages only some time after it: shorter than unknown_settle,
// nothing is duplicated; longer, a look-up can miss a delivery and resend
// it. The third case has the same long lag with a settle time longer than
// it: the settle time is what protects.
func TestCrashSettlesWithLag(t *testing.T) {
	kills := size(20, 8)
	t.Run("lag_shorter", crashSettle{scenario: "12 crash, lag 2m40s < settle 3m20s (resend)", policy: "resend", settle: "3m20s", lag: 160 * time.Second, kills: kills, seed: 12}.run)
	t.Run("lag_longer", crashSettle{scenario: "12 crash, lag 4m40s > settle 3m20s (resend)", policy: "resend", settle: "3m20s", lag: 280 * time.Second, kills: kills, seed: 13, duplicatesExpected: true}.run)
	t.Run("settle_longer", crashSettle{scenario: "12 crash, lag 4m40s < settle 6m (resend)", policy: "resend", settle: "6m", lag: 280 * time.Second, kills: kills, seed: 14}.run)
}

// TestBusyThreadStaysUnknown: two sends to two threads whose answers are
// lost (one delivered, one not), then more member messages in each thread
// than one look-up returns. No look-up can settle them any more: both
// stay unknown, say why, and are not sent again, even under resend. (In
// one thread, the second would not have been sent: a thread waits for its
// unknowns.)
func TestBusyThreadStaysUnknown(t *testing.T) {
	t.Parallel()
	cfg := Messages{N: 2, Groups: 2, Start: base, Every: time.Second, OnUnknown: "resend", UnknownSettle: "3m"}
	// The lag keeps the delivered one out of the look-up right after its
	// lost answer.
	w := newWorkspace(t, FakeOptions{Seed: 15, RecentLag: 30 * time.Second})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "13 busy thread (resend)"}
	w.Fake.Script(sandbox.Reply{Lost: true}, sandbox.Reply{Lost: true, Undelivered: true})
	mustRun(w, f, 1, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(1)))
	for g := 0; g < cfg.Groups; g++ {
		w.Fake.AddChatter(ThreadID(g), "+19995550123", 6, cfg.SendAt(1).Add(10*time.Second), time.Second)
	}
	for _, later := range []time.Duration{10 * time.Minute, time.Hour} {
		res := mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(1).Add(later)))
		if !strings.Contains(res.Stdout, "busier than one page") {
			f.Fail("apply does not say why the look-up settles nothing:\n%s", res)
		}
	}
	plan := mustRun(w, f, 0, "plan", "-no-color", at(cfg.SendAt(1).Add(2*time.Hour)))
	if c := strings.Count(plan.Stdout, "the thread is busier than one page since the attempt"); c != 2 {
		f.Fail("plan explains %d of 2 unknowns:\n%s", c, plan.Stdout)
	}
	snap := checkState(t, w, f)
	if f.UnknownsLeft != 2 {
		f.Fail("%d unknowns left, want both", f.UnknownsLeft)
	}
	explainUnknowns(t, f, snap)
	report(t, f)
}

// TestExpiredBeforeSettled: a send whose answer is lost, under resend,
// with an expires_after shorter than unknown_settle: the look-up after the
// settle time proves it absent, but it is past its window, so it is
// recorded as expired and never sent. A delivered one in the same state
// is found and recorded as sent.
func TestExpiredBeforeSettled(t *testing.T) {
	t.Parallel()
	cfg := Messages{N: 2, Groups: 2, Start: base, Every: time.Second, ExpiresAfter: "2m", OnUnknown: "resend", UnknownSettle: "5m"}
	w := newWorkspace(t, FakeOptions{Seed: 16})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "14 expired before settled (resend)"}
	w.Fake.Script(sandbox.Reply{Lost: true, Undelivered: true}, sandbox.Reply{Lost: true})
	mustRun(w, f, 1, "apply", "-auto-approve", "-no-color", "-parallelism=1", at(cfg.SendAt(1)))
	early := mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(1).Add(time.Minute)))
	if !strings.Contains(early.Stdout, "too early to prove an absence") {
		f.Fail("the apply before the settle time does not say it is too early:\n%s", early)
	}
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(1).Add(10*time.Minute)))
	snap := checkState(t, w, f)
	counts := statusCounts(snap)
	if counts[state.StatusExpired] != 1 || counts[state.StatusSent] != 1 {
		f.Fail("states %v, want one expired (proven absent, too late to resend) and one sent (found)", counts)
	}
	for _, r := range snap.Records {
		if r.Status == state.StatusExpired {
			if a := r.LastAttempt(); a == nil || a.Outcome != state.OutcomeAbsent || a.LookUp == nil {
				f.Fail("the expired record keeps no proof of its absence: %+v", r)
			}
		}
	}
	if f.Deliveries != 1 {
		f.Fail("%d deliveries, want 1", f.Deliveries)
	}
	report(t, f)
}
