package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/state"
)

// heraldBin is the binary under test, built by TestMain.
var heraldBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "herald-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	heraldBin, err = testkit.Build(dir, testkit.BuildOptions{Tags: []string{clock.TestBuildTag}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "building herald:", err)
		return 1
	}
	// Stops the PostgreSQL server the pg tests start, if any.
	return pgtest.Main(m)
}

// fixture is a working directory with groups × perGroup due messages, and
// the fake they are sent to.
type fixture struct {
	dir  string
	api  *sandbox.API
	gate *sandbox.Gate
	url  string
	// want lists every message's text, which names its address.
	want []string
}

func newFixture(t *testing.T, groups, perGroup int, pass int32) *fixture {
	t.Helper()
	api := sandbox.NewHandler()
	if pass < 0 {
		pass = 1 << 30
	}
	g := sandbox.NewGate(api, pass)
	srv := httptest.NewServer(g)
	t.Cleanup(func() { g.Open(); api.Close(); srv.Close() })

	f := &fixture{dir: t.TempDir(), api: api, gate: g, url: srv.URL}
	// Due a minute ago on the clock the binary reads (clock.Now); the
	// fake stamps answers with the same clock, which reconciliation
	// compares attempts with.
	due := clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	var b strings.Builder
	b.WriteString("provider \"a1base\" {\n  account_id = \"acc_e2e\"\n  from = \"+14155552671\"\n}\n")
	for gi := range groups {
		fmt.Fprintf(&b, "group \"g%d\" {\n  thread_id = \"t-%d\"\n}\n", gi, gi)
		for mi := range perGroup {
			name := fmt.Sprintf("m%d_%d", gi, mi)
			fmt.Fprintf(&b, "message %q {\n  group = group.g%d\n  send_at = %q\n  expires_after = \"1h\"\n  text = \"message.%s\"\n}\n", name, gi, due, name)
			f.want = append(f.want, "message."+name)
		}
	}
	sort.Strings(f.want)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(b.String()), 0o644))
	return f
}

// command is herald apply as a process, its output captured.
func (f *fixture) command(args ...string) (*exec.Cmd, *testkit.SyncBuffer) {
	cmd := exec.Command(heraldBin, append([]string{"apply", "-auto-approve", "-no-color"}, args...)...)
	cmd.Dir = f.dir
	cmd.Env = append(os.Environ(),
		"A1BASE_BASE_URL="+f.url+"/v1",
		"A1BASE_API_KEY=key-e2e",
		"A1BASE_API_SECRET=secret-e2e",
		"NO_COLOR=1",
	)
	var out testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func (f *fixture) apply(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd, out := f.command(args...)
	return exitCode(t, cmd.Run()), out.String()
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	code, err := testkit.ExitCode(err)
	require.NoError(t, err)
	return code
}

// delivered lists the texts the fake delivered, sorted, duplicates kept.
func (f *fixture) delivered() []string { return sortedContents(f.api) }

func sortedContents(api *sandbox.API) []string {
	out := api.Contents()
	sort.Strings(out)
	return out
}

func (f *fixture) snapshot(t *testing.T) *state.Snapshot {
	t.Helper()
	snap, err := state.OpenLocal(filepath.Join(f.dir, state.DefaultPath)).Snapshot(context.Background())
	require.NoError(t, err)
	return snap
}

// assertNoDuplicates checks that no message was delivered twice.
func assertNoDuplicates(t *testing.T, delivered []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range delivered {
		assert.False(t, seen[d], "%s was delivered twice", d)
		seen[d] = true
	}
}

func TestInterruptFinishesInFlightSends(t *testing.T) {
	f := newFixture(t, 3, 5, 3)
	cmd, out := f.command()
	require.NoError(t, cmd.Start())
	<-f.gate.Held() // three sends went through, one is held at the fake
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	// The held sends may only go on once the interrupt was seen; opening
	// the gate right away still leaves it to herald not to start more.
	f.gate.Open()
	code := exitCode(t, cmd.Wait())
	require.Equal(t, 130, code, out.String())
	assert.Contains(t, out.String(), "Interrupted: ")
	assert.Contains(t, out.String(), "Run apply again to continue.")

	delivered := f.delivered()
	assertNoDuplicates(t, delivered)
	snap := f.snapshot(t)
	assert.NotEmpty(t, delivered)
	assert.Less(t, len(delivered), len(f.want), "the interrupt stopped the run")
	for _, d := range delivered {
		rec := snap.Records[d]
		if assert.NotNil(t, rec, "%s was delivered and is not in state", d) {
			assert.Equal(t, state.StatusSent, rec.Status, d)
		}
	}
	for addr, rec := range snap.Records {
		assert.NotEqual(t, state.StatusUnknown, rec.Status, addr)
	}
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".journal"), "the journal was folded")

	// The lock was released: the next apply sends the rest, once each.
	code, text := f.apply(t)
	require.Equal(t, 0, code, text)
	assert.Equal(t, f.want, f.delivered())
}

func TestSecondInterruptAborts(t *testing.T) {
	f := newFixture(t, 2, 3, 0)
	cmd, out := f.command()
	require.NoError(t, cmd.Start())
	// Both groups' first sends are written and held. (A send cancelled
	// before it was written is recorded failed, and rightly sent again.)
	<-f.gate.Held()
	<-f.gate.Held()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	waitForOutput(t, out, exited, "Interrupt received")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	code := exitCode(t, <-exited)
	require.Equal(t, 130, code, out.String())
	assert.Contains(t, out.String(), "Aborted: 0 sent")
	assert.Empty(t, f.delivered())

	snap := f.snapshot(t)
	require.NotEmpty(t, snap.Records)
	for addr, rec := range snap.Records {
		assert.Equal(t, state.StatusUnknown, rec.Status, addr)
	}
	// herald has exited, so the held requests end with their connections
	// and are never delivered.
	f.gate.Wait()
	assert.Empty(t, f.delivered())
	// The lock was released; the unknown messages are not sent again.
	f.gate.Open()
	code, text := f.apply(t)
	require.Equal(t, 0, code, text)
	assertNoDuplicates(t, f.delivered())
	for _, d := range f.delivered() {
		assert.NotContains(t, snap.Records, d, "%s was unknown and was sent again", d)
	}
}

// waitForOutput waits until the process printed want (herald prints it as
// soon as it sees the interrupt), failing if it exits first.
func waitForOutput(t *testing.T, out *testkit.SyncBuffer, exited <-chan error, want string) {
	t.Helper()
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-exited:
			t.Fatalf("herald exited (%v) before printing %q:\n%s", err, want, out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestKillDuringApplyThenApplyAgain(t *testing.T) {
	f := newFixture(t, 3, 4, 4)
	cmd, out := f.command()
	require.NoError(t, cmd.Start())
	<-f.gate.Held()
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	// What was held arrives after herald died: delivered, never answered.
	f.gate.Open()
	f.gate.Wait()
	assert.NotContains(t, out.String(), "Apply complete")

	first := f.delivered()
	snap := f.snapshot(t)
	for _, d := range first {
		rec := snap.Records[d]
		if assert.NotNil(t, rec, "%s was delivered and is not in state", d) {
			assert.Contains(t, []state.Status{state.StatusSent, state.StatusUnknown}, rec.Status, d)
		}
	}

	code, text := f.apply(t)
	require.Equal(t, 0, code, text)
	delivered := f.delivered()
	assertNoDuplicates(t, delivered)
	snap = f.snapshot(t)
	for _, d := range delivered {
		rec := snap.Records[d]
		if assert.NotNil(t, rec, d) {
			assert.Contains(t, []state.Status{state.StatusSent, state.StatusUnknown}, rec.Status, d)
		}
	}
	// Every message is delivered now except those whose held send never
	// arrived: they are unknown, and stay so rather than risk a repeat;
	// and the later messages of their threads, which wait for them.
	for _, w := range f.want {
		rec := snap.Records[w]
		if rec == nil {
			assertWaiting(t, snap, w, delivered, text)
			continue
		}
		if rec.Status == state.StatusUnknown {
			assert.NotContains(t, delivered, w)
		} else {
			assert.Equal(t, state.StatusSent, rec.Status, w)
		}
	}
}

func TestConcurrentApplies(t *testing.T) {
	f := newFixture(t, 2, 3, 1)
	first, firstOut := f.command()
	require.NoError(t, first.Start())
	<-f.gate.Held() // the first apply holds the lock and is sending

	code, text := f.apply(t)
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "state is locked: "+filepath.Join(f.dir, state.DefaultPath+".lock"))
	assert.Contains(t, text, "herald apply")

	f.gate.Open()
	require.Equal(t, 0, exitCode(t, first.Wait()), firstOut.String())
	assert.Equal(t, f.want, f.delivered(), "each message once, all from the first apply")
}

// assertWaiting checks that message w (message.mG_I, sent to thread t-G),
// which has no record, was left unsent because its thread waits for an
// unknown message: a request journaled but never written stays unknown
// until a look-up can prove its absence, after its unknown_settle, and
// until then its thread sends nothing more.
func assertWaiting(t *testing.T, snap *state.Snapshot, w string, delivered []string, out string) {
	t.Helper()
	g, _, _ := strings.Cut(strings.TrimPrefix(w, "message.m"), "_")
	waitsFor := false
	for _, rec := range snap.Records {
		waitsFor = waitsFor || rec.ThreadID == "t-"+g && rec.Status == state.StatusUnknown
	}
	assert.True(t, waitsFor, "%s has no record, but no message of its thread is unknown", w)
	assert.NotContains(t, delivered, w)
	assert.Contains(t, out, "waiting", w)
}
