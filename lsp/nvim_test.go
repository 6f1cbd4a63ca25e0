package lsp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/testkit"
)

// TestNeovimSmoke runs Neovim's own language client, headless, against the
// herald binary: diagnostics reach the buffer, and fixing the buffer
// without saving clears them. Neovim comes from Debian's package (.ci/run
// installs it); without it the test is skipped, except in CI, where it
// must run.
func TestNeovimSmoke(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nvim is not installed; .ci/run installs Debian's neovim package")
		}
		t.Skip("nvim is not installed (apt-get install neovim)")
	}
	bin, err := testkit.Build(t.TempDir(), testkit.BuildOptions{Root: "..", Tags: []string{clock.TestBuildTag}})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "groups.hcl"), []byte("provider \"a1base\" {\n  from = \"+14155552671\"\n}\n\ngroup \"eng\" {\n  thread_id = \"t-eng\"\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "messages.hcl"), []byte("message \"launch\" {\n  group   = group.nope\n  send_at = \"2027-03-10T09:00:00Z\"\n  text    = \"Launch\"\n}\n"), 0o644))
	script, err := filepath.Abs(filepath.Join("testdata", "nvim", "smoke.lua"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "seen.txt")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-n", "-c", "luafile "+script, "messages.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HERALD_BIN="+bin, "HERALD_NVIM_OUT="+out, "HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir())
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "nvim: %s", output)
	seen, err := os.ReadFile(out)
	require.NoError(t, err, "nvim wrote nothing: %s", output)
	lines := strings.Split(strings.TrimSpace(string(seen)), "\n")
	require.Len(t, lines, 2, "%s", seen)
	assert.True(t, strings.HasPrefix(lines[0], "diagnostic 1:12-1:22 "), lines[0])
	assert.Contains(t, lines[0], "nope")
	assert.Equal(t, "cleared", lines[1])
}
