//go:build heraldtestclock

package clock

import (
	"fmt"
	"os"
	"time"
)

// ShiftEnv names the variable that moves the default clock in test
// builds, as a Go duration (8760h is a year ahead). Builds without the
// heraldtestclock tag, such as every release, never read it.
const ShiftEnv = "HERALD_TEST_CLOCK_SHIFT"

// shiftable tells the clock's own test that the shift is read here.
const shiftable = true

func init() {
	v := os.Getenv(ShiftEnv)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", ShiftEnv, v, err))
	}
	shift = d
}
