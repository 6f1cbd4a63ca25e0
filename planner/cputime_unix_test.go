//go:build unix

package planner

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used so far. Benchmarks
// report it per operation beside wall time, which a busy machine inflates.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
