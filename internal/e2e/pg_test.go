package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// TestPostgres runs herald binaries from two checkouts of one repository
// (two directories, one configuration, one backend block) against a real
// PostgreSQL. Its subtests share one server, which dies with the test
// binary (pgtest.Main, run from TestMain, also removes its files).
func TestPostgres(t *testing.T) {
	t.Run("ConcurrentApplies", testPGConcurrentApplies)
	t.Run("LockTimeoutQueues", testPGLockTimeoutQueues)
	t.Run("KillHoldingLock", testPGKillHoldingLock)
	t.Run("ConnectionDropped", testPGConnectionDropped)
	t.Run("RunReplicas", testPGRunReplicas)
}

// Two herald runs on one PostgreSQL state: the first holds the lock and
// sends, the second stands by; an apply meanwhile finds the state locked by
// herald run; once the first is killed, the second takes over.
func testPGRunReplicas(t *testing.T) {
	f := newPGFixture(t, 2, 3, 1<<30)
	start := func(dir string) (*exec.Cmd, *pgOutput) {
		cmd, out := f.cmd(dir, "run", "-no-color", "-poll=1s")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("waited 20s for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a, aOut := start(f.a)
	waitFor("the first run to send everything", func() bool { return len(f.delivered()) == len(f.want) })
	assert.Contains(t, aOut.String(), "type=active")

	b, bOut := start(f.b)
	waitFor("the second run to stand by", func() bool { return strings.Contains(bOut.String(), "type=standby") })
	assert.Contains(t, bOut.String(), "holder_pid="+fmt.Sprint(a.Process.Pid))

	code, text := f.run(t, f.b, "apply", "-auto-approve", "-no-color")
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "state is locked")
	assert.Contains(t, text, "(herald run, since")

	require.NoError(t, a.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	waitFor("the second run to take over", func() bool { return strings.Contains(bOut.String(), "type=takeover") })
	assert.Less(t, time.Since(killed), 10*time.Second, "takeover time")

	require.NoError(t, b.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, exitCode(t, b.Wait()), bOut.String())
	assert.Equal(t, f.want, f.delivered(), "each message once")
	pgAccounted(t, f.snapshot(t), f.delivered())
}

// pgFixture is one database, the fake it sends to, and two checkouts.
type pgFixture struct {
	conn string
	api  *sandbox.API
	gate *sandbox.Gate
	url  string
	a, b string
	want []string // every message's text, which is its address
}

func newPGFixture(t *testing.T, groups, perGroup int, pass int32) *pgFixture {
	t.Helper()
	api := sandbox.NewHandler()
	g := sandbox.NewGate(api, pass)
	srv := httptest.NewServer(g)
	t.Cleanup(func() { g.Open(); api.Close(); srv.Close() })
	f := &pgFixture{conn: pgtest.Start(t), api: api, gate: g, url: srv.URL}

	due := clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	var b strings.Builder
	b.WriteString("provider \"a1base\" {\n  account_id = \"acc_e2e\"\n  from = \"+14155552671\"\n}\n")
	fmt.Fprintf(&b, "backend \"postgres\" {\n  conn_str = %q\n}\n", f.conn)
	for gi := range groups {
		fmt.Fprintf(&b, "group \"g%d\" {\n  thread_id = \"t-%d\"\n}\n", gi, gi)
		for mi := range perGroup {
			name := fmt.Sprintf("m%d_%d", gi, mi)
			fmt.Fprintf(&b, "message %q {\n  group = group.g%d\n  send_at = %q\n  expires_after = \"1h\"\n  text = \"message.%s\"\n}\n", name, gi, due, name)
			f.want = append(f.want, "message."+name)
		}
	}
	sort.Strings(f.want)
	f.a, f.b = t.TempDir(), t.TempDir()
	for _, d := range []string{f.a, f.b} {
		require.NoError(t, os.WriteFile(filepath.Join(d, "main.hcl"), []byte(b.String()), 0o644))
	}
	return f
}

// pgOutput collects a process's output while the test reads it.
type pgOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *pgOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *pgOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func (f *pgFixture) cmd(dir string, args ...string) (*exec.Cmd, *pgOutput) {
	cmd := exec.Command(heraldBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"A1BASE_BASE_URL="+f.url+"/v1",
		"A1BASE_API_KEY=key-e2e",
		"A1BASE_API_SECRET=secret-e2e",
		"NO_COLOR=1",
	)
	out := &pgOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

func (f *pgFixture) apply(dir string, args ...string) (*exec.Cmd, *pgOutput) {
	return f.cmd(dir, append([]string{"apply", "-auto-approve", "-no-color"}, args...)...)
}

func (f *pgFixture) run(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd, out := f.cmd(dir, args...)
	return exitCode(t, cmd.Run()), out.String()
}

// delivered lists the texts the fake delivered, sorted, duplicates kept.
func (f *pgFixture) delivered() []string { return sortedContents(f.api) }

func (f *pgFixture) snapshot(t *testing.T) *state.Snapshot {
	t.Helper()
	ctx := context.Background()
	b, err := pgstate.Open(ctx, f.conn, "")
	require.NoError(t, err)
	defer b.Close()
	snap, err := b.Snapshot(ctx)
	require.NoError(t, err)
	return snap
}

func (f *pgFixture) db(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, f.conn)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// lockWaiters counts herald processes connected to take the state lock:
// the holder and those polling for it.
func (f *pgFixture) lockWaiters(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var n int
	require.NoError(t, c.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'herald (state lock)'").Scan(&n))
	return n
}

func pgNoDuplicates(t *testing.T, delivered []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range delivered {
		assert.False(t, seen[d], "%s was delivered twice", d)
		seen[d] = true
	}
}

// pgAccounted checks that every delivery is in state, as sent or unknown.
func pgAccounted(t *testing.T, snap *state.Snapshot, delivered []string) {
	t.Helper()
	for _, d := range delivered {
		rec := snap.Records[d]
		if assert.NotNil(t, rec, "%s was delivered and is not in state", d) {
			assert.Contains(t, []state.Status{state.StatusSent, state.StatusUnknown}, rec.Status, d)
		}
	}
}

// Two applies from two checkouts at once: exactly one sends, the other
// names the lock and its holder; afterwards either checkout's plan sees
// everything sent.
func testPGConcurrentApplies(t *testing.T) {
	f := newPGFixture(t, 2, 3, 1)
	first, firstOut := f.apply(f.a)
	require.NoError(t, first.Start())
	<-f.gate.Held() // the first apply holds the lock and is sending

	code, text := f.run(t, f.b, "apply", "-auto-approve", "-no-color")
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "state is locked: advisory lock")
	assert.Contains(t, text, "(schema herald)")
	assert.Contains(t, text, "herald apply")
	assert.NotContains(t, text, "message.m")

	f.gate.Open()
	require.Equal(t, 0, exitCode(t, first.Wait()), firstOut.String())
	assert.Equal(t, f.want, f.delivered(), "each message once, all from the first apply")

	code, text = f.run(t, f.b, "plan", "-detailed-exitcode", "-no-color")
	assert.Equal(t, 0, code, "the second checkout sees everything sent: %s", text)
	code, text = f.run(t, f.b, "apply", "-auto-approve", "-no-color")
	require.Equal(t, 0, code, text)
	assert.Equal(t, f.want, f.delivered())
	for _, d := range []string{f.a, f.b} {
		assert.NoFileExists(t, filepath.Join(d, state.DefaultPath))
	}
}

// With -lock-timeout the second apply waits for the first, then finds
// nothing left to send.
func testPGLockTimeoutQueues(t *testing.T) {
	f := newPGFixture(t, 2, 3, 1)
	c := f.db(t)
	first, firstOut := f.apply(f.a)
	require.NoError(t, first.Start())
	<-f.gate.Held()

	second, secondOut := f.apply(f.b, "-lock-timeout=5m")
	require.NoError(t, second.Start())
	// Both are connected for the lock: one holds it, one polls for it.
	for f.lockWaiters(t, c) < 2 {
		select {
		case <-time.After(10 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal("the second apply never asked for the lock")
		}
	}
	f.gate.Open()
	require.Equal(t, 0, exitCode(t, first.Wait()), firstOut.String())
	require.Equal(t, 0, exitCode(t, second.Wait()), secondOut.String())
	assert.Equal(t, f.want, f.delivered(), "each message once")
	snap := f.snapshot(t)
	for _, w := range f.want {
		if assert.Contains(t, snap.Records, w) {
			assert.Equal(t, state.StatusSent, snap.Records[w].Status, w)
		}
	}
}

// kill -9 of an apply holding the lock: PostgreSQL releases the lock with
// the dead process's connection, the next apply (from the other checkout)
// runs, and nothing is sent twice.
func testPGKillHoldingLock(t *testing.T) {
	f := newPGFixture(t, 3, 4, 4)
	cmd, out := f.apply(f.a)
	require.NoError(t, cmd.Start())
	<-f.gate.Held()
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	// What was held arrives after herald died: delivered, never answered.
	f.gate.Open()
	f.gate.Wait()
	assert.NotContains(t, out.String(), "Apply complete")
	first := f.delivered()
	pgAccounted(t, f.snapshot(t), first)

	// The server notices the closed connection on its own schedule; the
	// timeout only bounds that.
	code, text := f.run(t, f.b, "apply", "-auto-approve", "-no-color", "-lock-timeout=1m")
	require.Equal(t, 0, code, text)
	delivered := f.delivered()
	pgNoDuplicates(t, delivered)
	snap := f.snapshot(t)
	pgAccounted(t, snap, delivered)
	for _, w := range f.want {
		rec := snap.Records[w]
		if rec == nil {
			assertWaiting(t, snap, w, delivered, text)
			continue
		}
		if rec.Status == state.StatusUnknown {
			// Unknown stays unknown rather than risk a second delivery.
			assert.LessOrEqual(t, strings.Count(strings.Join(delivered, "\n")+"\n", w+"\n"), 1, w)
		} else {
			assert.Equal(t, state.StatusSent, rec.Status, w)
			assert.Contains(t, delivered, w)
		}
	}
}

// The database drops the apply's connections while a send is in flight:
// the apply fails with an error saying it lost the state, exit 1, and the
// next apply accounts for every delivery without repeating any.
func testPGConnectionDropped(t *testing.T) {
	f := newPGFixture(t, 2, 4, 1)
	c := f.db(t)
	cmd, out := f.apply(f.a)
	require.NoError(t, cmd.Start())
	<-f.gate.Held() // one send delivered, another in flight

	var killed int
	require.NoError(t, c.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) t`).Scan(&killed))
	require.NotZero(t, killed, "the apply had connections to drop")
	f.gate.Open()
	code := exitCode(t, cmd.Wait())
	text := out.String()
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "Error: ")
	assert.Contains(t, text, "PostgreSQL state postgres://postgres@")
	assert.Contains(t, text, "terminating connection due to administrator command")
	assert.NotContains(t, text, "panic")
	f.gate.Wait()

	code, text = f.run(t, f.b, "apply", "-auto-approve", "-no-color", "-lock-timeout=1m")
	require.Equal(t, 0, code, text)
	delivered := f.delivered()
	pgNoDuplicates(t, delivered)
	snap := f.snapshot(t)
	pgAccounted(t, snap, delivered)
	for _, w := range f.want {
		rec := snap.Records[w]
		if assert.NotNil(t, rec, w) && rec.Status != state.StatusUnknown {
			assert.Equal(t, state.StatusSent, rec.Status, w)
		}
	}
}
