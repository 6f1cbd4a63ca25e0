package clock

import (
	"os"
	"testing"
	"time"
)

// TestNowFollowsShift: the default clock is the wall clock moved by the
// test-only shift, and it keeps a monotonic reading (time.Time.Add does),
// so durations measured on it are real ones.
func TestNowFollowsShift(t *testing.T) {
	before := time.Now()
	got := Now()
	after := time.Now()
	if got.Before(before.Add(shift)) || got.After(after.Add(shift)) {
		t.Fatalf("Now() = %v, want between %v and %v", got, before.Add(shift), after.Add(shift))
	}
	if d := Now().Sub(got); d < 0 {
		t.Fatalf("the clock went back by %v", -d)
	}
	if v := os.Getenv("HERALD_TEST_CLOCK_SHIFT"); v != "" {
		want, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		if !shiftable {
			t.Fatal("HERALD_TEST_CLOCK_SHIFT is set, but this test build lacks -tags heraldtestclock, so nothing is shifted")
		}
		if Shift() != want {
			t.Fatalf("Shift() = %v with HERALD_TEST_CLOCK_SHIFT=%s", Shift(), v)
		}
	}
}
