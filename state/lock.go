package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/gofrs/flock"
)

// LockInfo says who holds the state lock. The holder writes it into the lock
// file after taking the lock; a process that finds the lock taken reads it
// back for its message.
type LockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Operation string    `json:"operation"`
	Since     time.Time `json:"since"`
}

func (i *LockInfo) String() string {
	s := fmt.Sprintf("pid %d on host %s", i.PID, i.Host)
	switch {
	case i.Operation != "" && !i.Since.IsZero():
		s += fmt.Sprintf(" (%s, since %s)", i.Operation, i.Since.Format(time.RFC3339))
	case i.Operation != "":
		s += fmt.Sprintf(" (%s)", i.Operation)
	case !i.Since.IsZero():
		s += fmt.Sprintf(" (since %s)", i.Since.Format(time.RFC3339))
	}
	return s
}

// LockedError is returned by Lock when another process (or another Local in
// this one) holds the lock.
type LockedError struct {
	// Path is the lock file, made absolute.
	Path string
	// Holder is what the holder wrote into the lock file; nil when it could
	// not be read (the holder had not written it yet, or it is not herald).
	Holder *LockInfo
	// Waited is how long Lock polled before giving up (0 with no timeout).
	Waited time.Duration
	// Cause is the context's error when the wait was cut short by it.
	Cause error
}

func (e *LockedError) Error() string {
	var b strings.Builder
	b.WriteString("state is locked: ")
	b.WriteString(e.Path)
	if e.Holder != nil {
		b.WriteString(" is held by ")
		b.WriteString(e.Holder.String())
	} else {
		b.WriteString(" is held by another process")
	}
	switch {
	case e.Cause != nil:
		fmt.Fprintf(&b, "; stopped waiting after %s: %v", e.Waited.Round(time.Millisecond), e.Cause)
	case e.Waited > 0:
		fmt.Fprintf(&b, "; gave up after waiting %s", e.Waited.Round(time.Millisecond))
	}
	return b.String()
}

func (e *LockedError) Unwrap() error { return e.Cause }

// ErrLockLost is what every *LockLostError is (errors.Is): the lock was
// lost while held.
var ErrLockLost = errors.New("lost the state lock")

// LockLostError is a write refused, or a lock check failed, because the
// lock was lost while held: a backend whose lock lives as long as a
// connection (PostgreSQL) loses it with that connection, or when another
// process has taken it since. Nothing of the refused write is stored.
type LockLostError struct {
	// Where names the state whose lock was lost.
	Where string
	// Cause says how it was lost.
	Cause error
}

func (e *LockLostError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("%v: %v", ErrLockLost, e.Cause)
	}
	return fmt.Sprintf("%v on %s: %v", ErrLockLost, e.Where, e.Cause)
}

func (e *LockLostError) Unwrap() error { return e.Cause }

// Is makes every LockLostError match ErrLockLost.
func (e *LockLostError) Is(target error) bool { return target == ErrLockLost }

// lockPoll is how often Lock tries again while it waits.
const lockPoll = 100 * time.Millisecond

// SetOperation names what the lock is taken for, e.g. "herald apply"; it is
// written into the lock file and shown to whoever finds the state locked.
// Call it before Lock. Without it the program's name is used (never its
// arguments, which may hold variable values).
func (l *Local) SetOperation(op string) {
	l.mu.Lock()
	l.operation = op
	l.mu.Unlock()
}

// Lock takes the exclusive state lock: a flock on PATH.lock, which the
// operating system releases when the process ends in any way, kill -9
// included, so a lock is never left stale. With timeout 0 it tries once;
// otherwise it polls until timeout has passed or ctx ends. When the lock is
// held elsewhere it returns a *LockedError naming the lock file and its
// holder. Locking a Local that already holds the lock does nothing.
//
// Taking the lock drops whatever this Local read before: the live state is
// read afresh, under the lock, when first needed.
func (l *Local) Lock(ctx context.Context, timeout time.Duration) error {
	l.gate.Lock()
	defer l.gate.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	if l.fl != nil {
		l.mu.Unlock()
		return nil
	}
	op := l.operation
	l.mu.Unlock()

	path := l.lockPath()
	fl := flock.New(path, flock.SetPermissions(fileMode))
	start := clock.Now()
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return fmt.Errorf("locking state with %s: %w", path, err)
		}
		if ok {
			break
		}
		if timeout <= 0 {
			return l.lockedError(0, nil)
		}
		waited := clock.Since(start)
		if waited >= timeout {
			return l.lockedError(waited, nil)
		}
		t := time.NewTimer(min(lockPoll, timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return l.lockedError(clock.Since(start), ctx.Err())
		case <-t.C:
		}
	}
	writeLockInfo(path, op)

	l.mu.Lock()
	l.fl = fl
	l.snap = nil
	l.dirty = false
	l.broken = nil
	l.mu.Unlock()
	return nil
}

func (l *Local) lockedError(waited time.Duration, cause error) *LockedError {
	path := l.lockPath()
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return &LockedError{Path: abs, Holder: readLockInfo(path), Waited: waited, Cause: cause}
}

// writeLockInfo records the holder in the lock file. It is best effort: the
// flock is the lock, the content only makes a refusal's message better, and
// a lock file someone made read-only must not stop herald from running.
func writeLockInfo(path, op string) {
	if op == "" {
		op = filepath.Base(os.Args[0])
	}
	host, _ := os.Hostname()
	info := LockInfo{PID: os.Getpid(), Host: host, Operation: op, Since: clock.Now().UTC().Truncate(time.Second)}
	data, err := json.Marshal(info)
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, fileMode)
	if err != nil {
		return
	}
	_, _ = f.Write(append(data, '\n'))
	_ = f.Close()
}

func readLockInfo(path string) *LockInfo {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var info LockInfo
	if json.Unmarshal(data, &info) != nil || info.PID == 0 {
		return nil
	}
	return &info
}

// Unlock releases the lock. Events recorded and not yet persisted stay in
// the journal, durable, for the next holder to replay; Close persists them
// first. Unlocking a Local that holds no lock does nothing.
func (l *Local) Unlock() error {
	l.gate.Lock()
	defer l.gate.Unlock()
	return l.unlock()
}

// unlock is Unlock with gate held exclusively.
func (l *Local) unlock() error {
	jerr := l.closeJournal()
	l.mu.Lock()
	defer l.mu.Unlock()
	fl := l.fl
	if fl == nil {
		return jerr
	}
	// Empty the holder's note before letting go, so that nobody reads a
	// finished run as the holder; a crash skips this, but then the next
	// holder overwrites the note.
	if f, err := os.OpenFile(fl.Path(), os.O_WRONLY|os.O_TRUNC, fileMode); err == nil {
		_ = f.Close()
	}
	err := fl.Unlock()
	l.fl = nil
	l.snap = nil
	l.dirty = false
	l.jOnDisk = false
	l.journalLen = 0
	l.broken = nil
	if err != nil {
		return errors.Join(jerr, fmt.Errorf("unlocking %s: %w", fl.Path(), err))
	}
	return jerr
}
