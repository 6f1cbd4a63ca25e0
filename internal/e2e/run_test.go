package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/state"
)

// TestRunSendsWhenDueAndStopsOnSIGTERM runs herald run as a service
// would: two messages fall due a second apart while it runs, each is sent
// once, and SIGTERM stops it cleanly with the lock released.
func TestRunSendsWhenDueAndStopsOnSIGTERM(t *testing.T) {
	api := sandbox.NewHandler()
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })

	dir := t.TempDir()
	now := clock.Now().UTC().Truncate(time.Second)
	var b strings.Builder
	b.WriteString("provider \"a1base\" {\n  account_id = \"acc_e2e\"\n  from = \"+14155552671\"\n}\n")
	b.WriteString("group \"eng\" {\n  thread_id = \"t-eng\"\n}\n")
	for i, name := range []string{"first", "second"} {
		due := now.Add(time.Duration(i+1) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&b, "message %q {\n  group = group.eng\n  send_at = %q\n  text = \"message.%s\"\n}\n", name, due, name)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644))

	cmd := exec.Command(heraldBin, "run", "-poll=200ms", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"A1BASE_BASE_URL="+srv.URL+"/v1",
		"A1BASE_API_KEY=key-e2e",
		"A1BASE_API_SECRET=secret-e2e",
	)
	var out testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	waitForOutput(t, &out, exited, "message.second sent (attempt 1)")
	// A few more polls find nothing to send again.
	waitForOutput(t, &out, exited, "nothing waiting")
	time.Sleep(time.Second)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	code := exitCode(t, <-exited)
	require.Equal(t, 0, code, out.String())

	text := out.String()
	assert.Contains(t, text, "message.first sent (attempt 1)")
	assert.Contains(t, text, "interrupt received")
	assert.Contains(t, text, "stopped: 2 sent, 0 failed, 0 expired, 0 unknown since the start")
	var delivered []string
	for _, s := range api.Sends() {
		delivered = append(delivered, s.Request.Content)
	}
	assert.Equal(t, []string{"message.first", "message.second"}, delivered, "each once, in send_at order")
	for _, s := range api.Sends() {
		want := now.Add(time.Second)
		if s.Request.Content == "message.second" {
			want = now.Add(2 * time.Second)
		}
		assert.False(t, s.Arrived.Before(want), "%s arrived at %s, before its send_at %s", s.Request.Content, s.Arrived, want)
	}

	path := filepath.Join(dir, state.DefaultPath)
	snap, err := state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	require.Len(t, snap.Records, 2)
	for addr, rec := range snap.Records {
		assert.Equal(t, state.StatusSent, rec.Status, addr)
	}
	assert.NoFileExists(t, path+".journal", "the journal was folded")
	other := state.OpenLocal(path)
	assert.NoError(t, other.Lock(context.Background(), 0), "the lock was released")
	assert.NoError(t, other.Close())
}
