package clock

import "time"

// shift moves the default clock. It is zero in every build users run;
// only test builds (the heraldtestclock build tag) can set it, so that
// the whole suite can be run as if it were another day.
var shift time.Duration

// Now is the default clock: the wall clock, with a monotonic reading.
func Now() time.Time { return time.Now().Add(shift) }

// Shift is how far the default clock is moved (zero outside test builds).
func Shift() time.Duration { return shift }

// ShiftEnv names the variable that moves the default clock in test
// builds, as a Go duration (8760h is a year ahead). Builds without the
// heraldtestclock tag, such as every release, never read it.
const ShiftEnv = "HERALD_TEST_CLOCK_SHIFT"

// TestBuildTag is the build tag of test builds whose default clock can be
// shifted. Tests that build the herald binary pass it, so that the binary
// keeps the same time as the test that runs it.
const TestBuildTag = "heraldtestclock"

// Since is the time elapsed since t, a time read from Now. (time.Since
// would compare t's shifted monotonic reading with an unshifted one.)
func Since(t time.Time) time.Duration { return Now().Sub(t) }

// Until is the duration until t, a time on the Now clock.
func Until(t time.Time) time.Duration { return t.Sub(Now()) }
