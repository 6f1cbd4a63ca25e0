package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/state"
)

func TestShowState(t *testing.T) {
	dir := e2eDir(t)
	human := runMain(t, dir, "", "show")
	require.Equal(t, 0, human.code, human.stderr)
	checkGolden(t, "show/state.out.txt", []byte(human.stdout))

	js := runMain(t, dir, "", "show", "-json")
	require.Equal(t, 0, js.code, js.stderr)
	checkGolden(t, "show/state.out.json", []byte(js.stdout))
	var doc views.StateDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	assert.Equal(t, "e2e-lineage", doc.Lineage)
	assert.Equal(t, uint64(4), doc.Serial)
	require.Len(t, doc.Records, 5)
	assert.Equal(t, "message.agenda", doc.Records[0].Address, "ordered by address")

	empty := runMain(t, t.TempDir(), "", "show")
	require.Equal(t, 0, empty.code, empty.stderr)
	assert.Contains(t, empty.stdout, "The state is empty")

	require.NoError(t, os.Rename(filepath.Join(dir, state.DefaultPath), filepath.Join(dir, "elsewhere.json")))
	other := runMain(t, dir, "", "show", "-state=elsewhere.json")
	require.Equal(t, 0, other.code, other.stderr)
	assert.Contains(t, other.stdout, "State: elsewhere.json")
	assert.Contains(t, other.stdout, "5 messages recorded.")

	both := runMain(t, dir, "", "show", "-state=x", "plan.bin")
	assert.Equal(t, 1, both.code)
	assert.Contains(t, both.stderr, "-state does not apply to a plan file")
}

func TestStateList(t *testing.T) {
	dir := e2eDir(t)
	tests := []struct {
		args []string
		want string
		code int
	}{
		{nil, "message.agenda\nmessage.flaky\nmessage.hello\nmessage.maybe\nmessage.retired\n", 0},
		{[]string{"message.maybe", "message.agenda"}, "message.agenda\nmessage.maybe\n", 0},
		{[]string{"message.nothing"}, "", 0},
		{[]string{"group.eng"}, "", 1},
	}
	for _, tt := range tests {
		r := runMain(t, dir, "", append([]string{"state", "list"}, tt.args...)...)
		assert.Equal(t, tt.code, r.code, "%v: %s", tt.args, r.stderr)
		assert.Equal(t, tt.want, r.stdout, "%v", tt.args)
	}
}

func TestStateShow(t *testing.T) {
	dir := e2eDir(t)
	for _, addr := range []string{"message.hello", "message.flaky"} {
		r := runMain(t, dir, "", "state", "show", addr)
		require.Equal(t, 0, r.code, r.stderr)
		checkGolden(t, "state/show_"+addr[len("message."):]+".out.txt", []byte(r.stdout))
	}
	r := runMain(t, dir, "", "state", "show", "message.gone")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no message message.gone in the state")
	r = runMain(t, dir, "", "state", "show")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "exactly one address")
}

func TestStateRm(t *testing.T) {
	dir := e2eDir(t)
	path := filepath.Join(dir, state.DefaultPath)
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// An address that selects nothing removes nothing.
	r := runMain(t, dir, "", "state", "rm", "message.retired", "message.gone")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no message message.gone in the state; nothing was removed")
	unchanged, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, unchanged)

	r = runMain(t, dir, "", "state", "rm", "message.retired", "message.maybe")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Removed message.maybe\nRemoved message.retired\nRemoved 2 messages from herald.state.json.\n", r.stdout)

	list := runMain(t, dir, "", "state", "list")
	assert.Equal(t, "message.agenda\nmessage.flaky\nmessage.hello\n", list.stdout)

	backup, err := os.ReadFile(path + ".backup")
	require.NoError(t, err, "the previous state is kept")
	assert.Equal(t, before, backup)

	snap, err := state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "e2e-lineage", snap.Lineage)
	assert.Greater(t, snap.Serial, uint64(4), "a new serial: saved plans made before are refused")

	r = runMain(t, dir, "", "state", "rm")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "at least one address")
}

func TestStateRmLocked(t *testing.T) {
	dir := e2eDir(t)
	holder := state.OpenLocal(filepath.Join(dir, state.DefaultPath))
	holder.SetOperation("herald apply")
	require.NoError(t, holder.Lock(context.Background(), 0))
	defer holder.Close()

	r := runMain(t, dir, "", "state", "rm", "message.retired")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "state is locked")
	assert.Contains(t, r.stderr, "herald apply")
	list := runMain(t, dir, "", "state", "list", "message.retired")
	assert.Equal(t, "message.retired\n", list.stdout, "nothing removed while locked")
}

func TestStateUsage(t *testing.T) {
	r := runMain(t, t.TempDir(), "", "state")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Usage: herald state")
	r = runMain(t, t.TempDir(), "", "state", "mv")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown state subcommand "mv"`)
	r = runMain(t, t.TempDir(), "", "state", "-h")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "rm ADDR...")
}

// TestStateSandbox: after apply -sandbox, the real state is empty and
// state list says where the sandbox's records are; -sandbox reads, edits
// and copies them.
func TestStateSandbox(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(exampleDir(t, "quickstart"), "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))

	// Nothing anywhere yet: no hint.
	r := runMain(t, dir, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Empty(t, r.stderr)

	// A running clock: apply's rate limits wait on it.
	out, code := runExampleCommand(t, dir, func(string) string { return "" }, "herald apply -sandbox -auto-approve -at=2026-12-01T09:30:00Z")
	require.Equal(t, 0, code, out)
	require.FileExists(t, filepath.Join(dir, SandboxStatePath))
	require.NoFileExists(t, filepath.Join(dir, state.DefaultPath))

	r = runMain(t, dir, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout, "the list itself stays empty for scripts")
	assert.Equal(t, "Note: the state is empty, but herald.sandbox.state.json holds 2 messages recorded by \"herald apply -sandbox\": run \"herald state list -sandbox\" to list them.\n", r.stderr)

	r = runMain(t, dir, "", "state", "list", "-sandbox")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.launch\nmessage.poster\n", r.stdout)
	assert.Empty(t, r.stderr)

	r = runMain(t, dir, "", "state", "show", "-sandbox", "message.launch")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "status        sent")

	r = runMain(t, dir, "", "state", "pull", "-sandbox")
	require.Equal(t, 0, r.code, r.stderr)
	snap, err := state.Decode(strings.NewReader(r.stdout))
	require.NoError(t, err)
	assert.Len(t, snap.Records, 2)

	r = runMain(t, dir, "", "state", "rm", "-sandbox", "message.poster")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Removed 1 message from herald.sandbox.state.json.")
	r = runMain(t, dir, "", "state", "list", "-sandbox")
	assert.Equal(t, "message.launch\n", r.stdout)
	require.NoFileExists(t, filepath.Join(dir, state.DefaultPath), "the real state is never touched")

	// -state names another sandbox state file.
	require.NoError(t, os.Rename(filepath.Join(dir, SandboxStatePath), filepath.Join(dir, "other.json")))
	r = runMain(t, dir, "", "state", "list", "-sandbox", "-state=other.json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.launch\n", r.stdout)
	r = runMain(t, dir, "", "state", "list")
	assert.Empty(t, r.stderr, "no sandbox state file, no hint")
}
