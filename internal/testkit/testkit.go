package testkit

import (
	"bytes"
	"errors"
	"os/exec"
	"sync"
)

// SyncBuffer collects output that goroutines (or a child process's copy
// loop) write while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ExitCode is the exit code of a finished command: 0 for a nil error, the
// code of an *exec.ExitError, and an error for anything else (the command
// did not run, or was killed by a signal, which gives -1 and no error).
func ExitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, err
	}
	return ee.ExitCode(), nil
}
