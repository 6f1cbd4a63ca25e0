//go:build heraldtestclock && unix

package testhook

import (
	"os"
	"runtime"
	"sync"
)

var stopOnce sync.Once

// AttemptJournaled is called once an attempt of addr is durable, before
// its request may be written. In a test build, when StopAfterAttemptEnv
// names addr, the first call stops the process (SIGSTOP) until it is
// continued (SIGCONT).
//
// The signal is sent to the calling thread, not to the process: a
// process-directed SIGSTOP may be taken by another thread while this one
// runs on and writes the request before the whole process stops, which
// is not the freeze the hook stands for. A thread handles its own
// pending signal on return from the call, so it stops before returning.
func AttemptJournaled(addr string) {
	if want := os.Getenv(StopAfterAttemptEnv); want == "" || want != addr {
		return
	}
	stopOnce.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		stopThisThread()
	})
}
