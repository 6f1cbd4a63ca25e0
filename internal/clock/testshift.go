//go:build heraldtestclock

package clock

import (
	"fmt"
	"os"
	"time"
)

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
