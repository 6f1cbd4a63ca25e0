//go:build heraldtestclock && unix && !linux

package testhook

import (
	"os"
	"syscall"
)

// stopThisThread stops the process: without a thread-directed kill, the
// process-directed signal is the nearest.
func stopThisThread() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
}
