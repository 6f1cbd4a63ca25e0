package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

func snapWith(records ...*state.Record) *state.Snapshot {
	s := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	for _, r := range records {
		s.Records[r.Address] = r
	}
	return s
}

func rec(i int, st state.Status, attempts int) *state.Record {
	r := &state.Record{Message: state.Message{Address: Address(i)}, Status: st}
	for n := 1; n <= attempts; n++ {
		r.Attempts = append(r.Attempts, state.Attempt{Number: n})
	}
	return r
}

func delivery(i int) Delivery { return Delivery{ThreadID: ThreadID(0), Content: Prefix + Key(i)} }

// TestCheckerCatchesBrokenGuarantees feeds the checker result sets that
// break a guarantee on purpose: each must be reported as a failure.
func TestCheckerCatchesBrokenGuarantees(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delivered []Delivery
		snap      *state.Snapshot
		dups, unr int
		unknowns  int
		unknownsD int
	}{
		{"clean", []Delivery{delivery(0), delivery(1)}, snapWith(rec(0, state.StatusSent, 1), rec(1, state.StatusUnknown, 1)), 0, 0, 1, 1},
		{"unknown, not delivered", []Delivery{delivery(0)}, snapWith(rec(0, state.StatusSent, 1), rec(1, state.StatusUnknown, 1)), 0, 0, 1, 0},
		{"delivered twice", []Delivery{delivery(0), delivery(1), delivery(0)}, snapWith(rec(0, state.StatusSent, 2), rec(1, state.StatusSent, 1)), 1, 0, 0, 0},
		{"delivered three times", []Delivery{delivery(0), delivery(0), delivery(0)}, snapWith(rec(0, state.StatusSent, 1)), 2, 0, 0, 0},
		{"no record", []Delivery{delivery(0), delivery(1)}, snapWith(rec(0, state.StatusSent, 1)), 0, 1, 0, 0},
		{"recorded failed", []Delivery{delivery(0)}, snapWith(rec(0, state.StatusFailed, 1)), 0, 1, 0, 0},
		{"recorded expired", []Delivery{delivery(0)}, snapWith(rec(0, state.StatusExpired, 0)), 0, 1, 0, 0},
		{"sent without attempt", []Delivery{delivery(0)}, snapWith(rec(0, state.StatusSent, 0)), 0, 1, 0, 0},
		{"unknown text", []Delivery{{ThreadID: "t", Content: "spam"}}, snapWith(), 0, 1, 0, 0},
		{"no state", []Delivery{delivery(0)}, nil, 0, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Figures{}
			Check(f, tc.delivered, tc.snap, AddrOf)
			if f.Duplicates != tc.dups || f.Unrecorded != tc.unr || f.UnknownsLeft != tc.unknowns || f.UnknownsDelivered != tc.unknownsD {
				t.Errorf("duplicates %d, unrecorded %d, unknowns %d (%d delivered); want %d, %d, %d (%d)",
					f.Duplicates, f.Unrecorded, f.UnknownsLeft, f.UnknownsDelivered, tc.dups, tc.unr, tc.unknowns, tc.unknownsD)
			}
			if broken := tc.dups+tc.unr > 0; broken == f.OK() {
				t.Errorf("OK() = %v for a result set that is broken=%v: %v", f.OK(), broken, f.Failures)
			}
		})
	}
}

func TestMaxWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(d ...int) []time.Time {
		var out []time.Time
		for _, x := range d {
			out = append(out, t0.Add(time.Duration(x)*time.Millisecond))
		}
		return out
	}
	for _, tc := range []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{ms(0), 1},
		{ms(0, 1000, 2000), 1},    // exactly one period apart: separate windows
		{ms(0, 999, 1998), 2},     // just inside
		{ms(500, 0, 100, 900), 4}, // unsorted input
		{ms(0, 100, 1050, 1100, 1200, 1900), 4},
	} {
		if got := MaxWindow(tc.times, time.Second); got != tc.want {
			t.Errorf("MaxWindow(%v) = %d, want %d", tc.times, got, tc.want)
		}
	}
}

// TestSuiteCatchesDuplicateDelivery runs a real apply against a fake that
// delivers every third send twice, as a herald that sent twice would make
// it: the checker must report the duplicates and fail the figures.
func TestSuiteCatchesDuplicateDelivery(t *testing.T) {
	t.Parallel()
	const n = 12
	cfg := Messages{N: n, Groups: 2, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 13, DuplicateEvery: 3})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "self-test"}
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(n)))
	checkState(t, w, f)
	if f.Duplicates != n/3 {
		t.Errorf("the checker counted %d duplicates of %d deliveries; the fake made %d", f.Duplicates, f.Deliveries, n/3)
	}
	if f.OK() || !strings.Contains(strings.Join(f.Failures, "\n"), "delivered more than once") {
		t.Errorf("the checker did not fail a run with duplicate deliveries: %v", f.Failures)
	}
}

// TestSuiteCatchesRateLimitBreach measures a burst the fake received
// against a limit it exceeds.
func TestSuiteCatchesRateLimitBreach(t *testing.T) {
	t.Parallel()
	const n = 10
	cfg := Messages{N: n, Groups: 1, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 14})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "self-test"}
	// No rate_limit configured: herald sends as fast as it can, which a
	// limit of 2 per minute, measured, must show as exceeded.
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(n)))
	CheckWindows(f, w.Fake.Arrivals(), 2, time.Minute, 2, time.Minute)
	if f.OK() || f.AccountWindow != n || f.GroupWindow != n {
		t.Errorf("windows account %d, group %d (want %d); failures %v", f.AccountWindow, f.GroupWindow, n, f.Failures)
	}
}
