package pgstate

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

func lockedError(t *testing.T, err error) *state.LockedError {
	t.Helper()
	var le *state.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock = %v, want a *state.LockedError", err)
	}
	return le
}

func TestLockHeldNamesHolder(t *testing.T) {
	conn := newDB(t)
	a := open(t, conn, WithOperation("herald apply"))
	if err := a.Lock(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	// Locking again is a no-op.
	if err := a.Lock(context.Background(), 0); err != nil {
		t.Fatalf("second Lock on the holder: %v", err)
	}
	b := open(t, conn)
	le := lockedError(t, b.Lock(context.Background(), 0))
	host, _ := os.Hostname()
	if le.Holder == nil || le.Holder.PID != os.Getpid() || le.Holder.Host != host || le.Holder.Operation != "herald apply" || le.Holder.Since.IsZero() {
		t.Errorf("holder %+v, want this process on %s doing herald apply", le.Holder, host)
	}
	msg := le.Error()
	for _, want := range []string{"advisory lock", a.Describe(), "herald apply", host} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
	// Another schema is another state with its own lock.
	other, err := Open(context.Background(), conn, "herald_other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Lock(context.Background(), 0); err != nil {
		t.Errorf("locking another schema: %v", err)
	}
}

func TestLockWaitsForRelease(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	retried := make(chan struct{}, 1)
	b.onLockRetry = func() {
		select {
		case retried <- struct{}{}:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { done <- b.Lock(context.Background(), time.Minute) }()
	<-retried // b found the lock taken and is waiting
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	record(t, b, attempt("message.a", 1, t0))
}

func TestLockGivesUpAfterTimeout(t *testing.T) {
	conn := newDB(t)
	openLocked(t, conn)
	b := open(t, conn, WithLockPoll(5*time.Millisecond))
	le := lockedError(t, b.Lock(context.Background(), 30*time.Millisecond))
	if le.Waited < 30*time.Millisecond || le.Cause != nil {
		t.Errorf("gave up after %s (cause %v), want after the 30ms timeout", le.Waited, le.Cause)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.onLockRetry = cancel
	le = lockedError(t, b.Lock(ctx, time.Hour))
	if !errors.Is(le, context.Canceled) {
		t.Errorf("Lock cut short by its context: cause %v", le.Cause)
	}
}

func TestLockReleasedWhenConnectionTerminated(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	ctx := context.Background()
	db := admin(t, conn)
	var ok bool
	if err := db.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(a.lock.backendPID)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating the lock's connection: %v %v", ok, err)
	}
	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	// Termination is asynchronous; the wait covers the moment it takes.
	if err := b.Lock(ctx, time.Minute); err != nil {
		t.Fatalf("lock not released with its connection: %v", err)
	}
	// The old holder is fenced off: even its pooled connections cannot write.
	if err := a.Record(ctx, attempt("message.a", 1, t0)); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("old holder's Record: %v, want state.ErrLockLost", err)
	}
	if n := len(snapshot(t, b).Records); n != 0 {
		t.Errorf("the old holder wrote %d records", n)
	}
}

func TestLockReleasedWhenHolderKilled(t *testing.T) {
	conn := newDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+conn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	le := lockedError(t, b.Lock(context.Background(), 0))
	if le.Holder == nil || le.Holder.PID != cmd.Process.Pid || le.Holder.Operation != "lock holder helper" {
		t.Fatalf("holder %+v, want the helper, pid %d", le.Holder, cmd.Process.Pid)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := b.Lock(context.Background(), time.Minute); err != nil {
		t.Fatalf("lock of a killed holder not released: %v", err)
	}
}

func TestLockTurnsInterruptedSendsUnknown(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	record(t, a, attempt("message.a", 1, t0), outcome("message.a", 1, t0, state.StatusFailed), attempt("message.a", 2, t0.Add(time.Minute)),
		attempt("message.b", 1, t0), outcome("message.b", 1, t0, state.StatusSent))
	if err := a.Persist(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The run dies with message.a in flight.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := openLocked(t, conn)
	got := snapshot(t, b)
	r := got.Records["message.a"]
	if r.Status != state.StatusUnknown || !strings.Contains(r.LastError, "attempt 2") {
		t.Errorf("message.a after a crashed run: %s, %q; want unknown naming attempt 2", r.Status, r.LastError)
	}
	if got.Records["message.b"].Status != state.StatusSent {
		t.Errorf("message.b changed: %+v", got.Records["message.b"])
	}
	if got.Serial != 2 {
		t.Errorf("serial %d, want 2: marking counts as a change", got.Serial)
	}
	// It is the run's change: this run's first Record does not add another.
	record(t, b, attempt("message.c", 1, t0))
	if s := snapshot(t, b).Serial; s != 2 {
		t.Errorf("serial %d after the run's first record, want 2", s)
	}
}

func TestCloseReleasesLock(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := a.Snapshot(context.Background()); err == nil {
		t.Error("Snapshot on a closed backend succeeded")
	}
	openLocked(t, conn)
}

func TestCheckLockNoticesATerminatedConnection(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	ctx := context.Background()
	if err := a.CheckLock(ctx, 2*time.Second); err != nil {
		t.Fatalf("CheckLock on a live lock: %v", err)
	}
	db := admin(t, conn)
	var ok bool
	if err := db.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(a.lock.backendPID)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating the lock's connection: %v %v", ok, err)
	}
	// Termination is asynchronous: the check fails within a few tries.
	var err error
	for range 50 {
		if err = a.CheckLock(ctx, 2*time.Second); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, state.ErrLockLost) {
		t.Fatalf("CheckLock after the connection was terminated: %v, want state.ErrLockLost", err)
	}
	// Once lost, nothing is written, not even through the pool, without
	// another round trip.
	if err := a.Record(ctx, attempt("message.a", 1, t0)); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Record after the lock was lost: %v, want state.ErrLockLost", err)
	}
	if err := a.CheckLock(ctx, time.Second); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("a second CheckLock: %v, want state.ErrLockLost", err)
	}
	// Another process takes it; the old holder forgets it and can wait
	// for it again.
	b := open(t, conn)
	if err := b.Lock(ctx, 10*time.Second); err != nil {
		t.Fatalf("the lost lock was not released: %v", err)
	}
	if err := a.Unlock(); !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Unlock of a lost lock: %v, want state.ErrLockLost", err)
	}
	if err := a.CheckLock(ctx, time.Second); !errors.Is(err, state.ErrNotLocked) {
		t.Errorf("CheckLock after Unlock: %v, want ErrNotLocked", err)
	}
	if err := a.Lock(ctx, 0); lockedError(t, err) == nil {
		t.Fatal("the old holder took the lock back while another holds it")
	}
	if err := b.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := a.Lock(ctx, 10*time.Second); err != nil {
		t.Fatalf("the old holder cannot take the lock again: %v", err)
	}
	record(t, a, attempt("message.a", 1, t0))
}

func TestLockConnectionHasKeepalives(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	ctx := context.Background()
	var idle, interval, count, userTimeout string
	err := a.lock.conn.QueryRow(ctx, "SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count'), current_setting('tcp_user_timeout')").
		Scan(&idle, &interval, &count, &userTimeout)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{idle, interval, count, userTimeout}
	want := []string{"2", "1", "3", "5000"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lock connection settings (idle, interval, count, user timeout) = %v, want %v", got, want)
			break
		}
	}
	if LockReleaseBound != 5*time.Second {
		t.Errorf("LockReleaseBound = %s, want 5s", LockReleaseBound)
	}
}

// TestAttemptsCarryTheirLockGeneration: every attempt is stamped with the
// generation of the lock it was fenced under, and LockTerm tells the
// holder's generation, so that a later holder knows an attempt came from
// an earlier one.
func TestAttemptsCarryTheirLockGeneration(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	genA, held, ok := a.LockTerm()
	if !ok || genA < 1 || held < 0 {
		t.Fatalf("LockTerm = %d, %s, %v; want the generation held", genA, held, ok)
	}
	record(t, a, attempt("message.a", 1, t0))
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := a.LockTerm(); ok {
		t.Error("LockTerm says the lock is held after Unlock")
	}
	b := openLocked(t, conn)
	genB, _, _ := b.LockTerm()
	if genB != genA+1 {
		t.Fatalf("the next holder's generation is %d, want %d", genB, genA+1)
	}
	record(t, b, attempt("message.b", 1, t0))
	snap := snapshot(t, b)
	for addr, want := range map[string]int64{"message.a": genA, "message.b": genB} {
		r := snap.Records[addr]
		if r == nil || len(r.Attempts) != 1 || r.Attempts[0].LockGeneration != want {
			t.Errorf("%s: %+v, want its attempt under lock generation %d", addr, r, want)
		}
	}
}
