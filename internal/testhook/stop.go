//go:build heraldtestclock && unix

package testhook

import (
	"os"
	"sync"
	"syscall"
)

var stopOnce sync.Once

// AttemptJournaled is called once an attempt of addr is durable, before
// its request may be written. In a test build, when StopAfterAttemptEnv
// names addr, the first call stops the process (SIGSTOP) until it is
// continued (SIGCONT).
func AttemptJournaled(addr string) {
	if want := os.Getenv(StopAfterAttemptEnv); want == "" || want != addr {
		return
	}
	stopOnce.Do(func() { _ = syscall.Kill(os.Getpid(), syscall.SIGSTOP) })
}
