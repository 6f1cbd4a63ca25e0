package state

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	helperEnv     = "HERALD_STATE_TEST_HELPER"
	helperPathEnv = "HERALD_STATE_TEST_PATH"
)

// TestHelperProcess is not a test: the tests below run the test binary
// again as a separate process that holds the lock (and records) until it is
// killed, since only another process shows what the operating system does
// when its holder dies.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	path := os.Getenv(helperPathEnv)
	ctx := context.Background()
	l := OpenLocal(path)
	l.SetOperation("herald apply")
	if err := l.Lock(ctx, 0); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("locked")
	if mode == "record" {
		for i := 0; ; i++ {
			addr := fmt.Sprintf("message.m[%q]", strconv.Itoa(i))
			if err := l.Record(ctx, attemptEvent(addr, 1, t0)); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			if err := l.Record(ctx, sentEvent(addr, 1, t0)); err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			fmt.Println("acked", i)
		}
	}
	select {} // hold the lock until killed
}

// startHolder runs the helper process in mode and waits until it holds the
// lock. Its stdout goes on being read into lines.
func startHolder(t *testing.T, mode, path string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	first, ok := <-lines
	require.True(t, ok, "helper exited before locking")
	require.Equal(t, "locked", first)
	return cmd, lines
}

func TestSecondLockFailsNamingTheHolder(t *testing.T) {
	path := statePath(t)
	a := OpenLocal(path)
	a.SetOperation("herald apply")
	require.NoError(t, a.Lock(context.Background(), 0))
	defer a.Close()

	b := OpenLocal(path)
	err := b.Lock(context.Background(), 0)
	var le *LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	abs, _ := filepath.Abs(path + lockSuffix)
	require.Equal(t, abs, le.Path)
	require.NotNil(t, le.Holder)
	require.Equal(t, os.Getpid(), le.Holder.PID)
	require.Equal(t, "herald apply", le.Holder.Operation)
	host, _ := os.Hostname()
	require.Equal(t, host, le.Holder.Host)
	require.Zero(t, le.Waited)
	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "state is locked: "+abs+" is held by pid "+strconv.Itoa(os.Getpid())+" on host "+host+" (herald apply, since "), msg)

	// Readers need no lock.
	_, err = b.Snapshot(context.Background())
	require.NoError(t, err)
	// Writers without it are refused, not blocked.
	require.ErrorIs(t, b.Record(context.Background(), attemptEvent("message.a", 1, t0)), ErrNotLocked)

	require.NoError(t, a.Unlock())
	require.NoError(t, b.Lock(context.Background(), 0))
	require.NoError(t, b.Close())
}

func TestLockTimeout(t *testing.T) {
	path := statePath(t)
	a := locked(t, path)

	b := OpenLocal(path)
	err := b.Lock(context.Background(), 250*time.Millisecond)
	var le *LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	require.GreaterOrEqual(t, le.Waited, 250*time.Millisecond)
	require.Nil(t, le.Cause)
	require.ErrorContains(t, err, "gave up after waiting")

	// Cut short by the context, it says so and unwraps to the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Lock(ctx, time.Hour) }()
	cancel()
	err = <-done
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, errors.As(err, &le))

	// Released while someone waits, the waiter gets it.
	go func() { done <- b.Lock(context.Background(), time.Minute) }()
	require.NoError(t, a.Unlock())
	require.NoError(t, <-done)
	require.NoError(t, b.Close())
}

func TestLockReleasedWhenHolderIsKilled(t *testing.T) {
	path := statePath(t)
	cmd, _ := startHolder(t, "hold", path)

	l := OpenLocal(path)
	err := l.Lock(context.Background(), 0)
	var le *LockedError
	require.True(t, errors.As(err, &le), "%v", err)
	require.NotNil(t, le.Holder)
	require.Equal(t, cmd.Process.Pid, le.Holder.PID)
	require.Equal(t, "herald apply", le.Holder.Operation)
	require.ErrorContains(t, err, fmt.Sprintf("pid %d", cmd.Process.Pid))

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	require.NoError(t, l.Lock(context.Background(), 0), "the kernel releases a dead holder's lock")
	require.NoError(t, l.Close())
}

// A process killed with SIGKILL in the middle of recording loses nothing
// it was told is durable.
func TestRecordSurvivesKill(t *testing.T) {
	const acks = 25
	path := statePath(t)
	cmd, lines := startHolder(t, "record", path)
	seen := -1
	for line := range lines {
		require.True(t, strings.HasPrefix(line, "acked "), line)
		seen, _ = strconv.Atoi(strings.TrimPrefix(line, "acked "))
		if seen+1 >= acks {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	for line := range lines { // acknowledgements printed before the kill landed
		seen, _ = strconv.Atoi(strings.TrimPrefix(line, "acked "))
	}

	l := locked(t, path)
	s, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	for i := 0; i <= seen; i++ {
		r := s.Records[fmt.Sprintf("message.m[%q]", strconv.Itoa(i))]
		require.NotNil(t, r, "acknowledged send %d lost", i)
		require.Equal(t, StatusSent, r.Status)
	}
	for addr, r := range s.Records {
		require.Contains(t, []Status{StatusSent, StatusUnknown}, r.Status, addr)
	}
	require.NoError(t, l.Close())
	after := snapshotOf(t, path)
	require.Equal(t, len(s.Records), len(after.Records))
	require.False(t, exists(path+journalSuffix))
}

func TestLockInfoMessages(t *testing.T) {
	since := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		err  *LockedError
		want string
	}{
		{&LockedError{Path: "/s/herald.state.json.lock"}, "state is locked: /s/herald.state.json.lock is held by another process"},
		{&LockedError{Path: "/s/x.lock", Holder: &LockInfo{PID: 7, Host: "h"}}, "state is locked: /s/x.lock is held by pid 7 on host h"},
		{&LockedError{Path: "/s/x.lock", Holder: &LockInfo{PID: 7, Host: "h", Operation: "herald apply", Since: since}, Waited: 2 * time.Second},
			"state is locked: /s/x.lock is held by pid 7 on host h (herald apply, since 2026-03-01T08:00:00Z); gave up after waiting 2s"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.err.Error())
	}

	// A lock file whose content is not herald's is reported without a holder.
	path := statePath(t)
	require.NoError(t, os.WriteFile(path+lockSuffix, []byte("garbage"), fileMode))
	require.Nil(t, readLockInfo(path+lockSuffix))
	// Unlocking empties the note so a finished run is never named as holder.
	l := locked(t, path)
	require.NotNil(t, readLockInfo(path+lockSuffix))
	require.NoError(t, l.Unlock())
	require.Empty(t, readFile(t, path+lockSuffix))
}
