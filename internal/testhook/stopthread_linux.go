//go:build heraldtestclock

package testhook

import "syscall"

// stopThisThread sends SIGSTOP to the calling OS thread.
func stopThisThread() {
	_ = syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), syscall.SIGSTOP)
}
