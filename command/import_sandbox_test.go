package command

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// sandboxImportConfig has a message due at the test clock (08:00Z) and a
// keyed one, for the walkthrough of docs/commands/import.md.
const sandboxImportConfig = `
provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "launch" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "Launch day!"
}

message "m" {
  for_each = toset(["a"])
  group    = group.eng
  send_at  = "2026-12-01T09:00:00Z"
  text     = "Keyed ${each.key}"
}
`

func sandboxSnapshot(t *testing.T, dir string) *state.Snapshot {
	t.Helper()
	snap, err := state.OpenLocal(filepath.Join(dir, SandboxStatePath)).Snapshot(context.Background())
	require.NoError(t, err)
	return snap
}

// TestImportSandboxWalkthrough: apply -sandbox sends a message and keeps
// the sandbox's thread history; once state rm -sandbox forgets it, import
// -sandbox finds it in that history and records it again, with no
// credentials and without touching the real state.
func TestImportSandboxWalkthrough(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig)
	none := map[string]string{}

	r := runEnv(t, dir, none, "", "apply", "-sandbox", "-auto-approve", "-no-color")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	sent := sandboxSnapshot(t, dir).Records["message.launch"]
	require.Equal(t, state.StatusSent, sent.Status)
	threads, err := os.ReadFile(filepath.Join(dir, "herald.sandbox.threads.json"))
	require.NoError(t, err, "apply -sandbox keeps the sandbox's threads")
	require.Contains(t, string(threads), `"body": "Launch day!"`)

	r = runEnv(t, dir, none, "", "state", "rm", "-sandbox", "message.launch")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.NotContains(t, sandboxSnapshot(t, dir).Records, "message.launch")

	r = runEnv(t, dir, none, "", "import", "-sandbox", "-no-color", "message.launch")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Sandbox: reading the threads of an in-process A1Base sandbox")
	require.Contains(t, r.stdout, "message.launch: found in its thread (message "+sent.Answer.MessageID+" of 2026-12-01T08:00:00Z): imported, recorded as sent")
	rec := sandboxSnapshot(t, dir).Records["message.launch"]
	require.Equal(t, state.ImportedFound, rec.Imported)
	require.Equal(t, sent.Answer.MessageID, rec.Answer.MessageID)
	require.NoFileExists(t, filepath.Join(dir, state.DefaultPath), "the real state is not touched")

	// A second apply sends nothing again, and the ids the sandbox hands
	// out continue after the kept ones.
	r = runEnv(t, dir, none, "", "apply", "-sandbox", "-auto-approve", "-no-color", "-at=2026-12-01T09:00:00Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.NotContains(t, r.stdout, `"Launch day!"`)
	next := sandboxSnapshot(t, dir).Records[`message.m["a"]`]
	require.Equal(t, state.StatusSent, next.Status)
	require.NotEqual(t, sent.Answer.MessageID, next.Answer.MessageID)
}

// TestImportSandboxNotFoundSuggestsSandboxForce: a message the sandbox's
// threads do not hold is not imported, and the suggested command, with
// -sandbox and the address quoted, works when pasted into a shell.
func TestImportSandboxNotFoundSuggestsSandboxForce(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig)
	none := map[string]string{}

	r := runEnv(t, dir, none, "", "import", "-sandbox", "-no-color", "-at=2026-12-01T09:00:00Z", `message.m["a"]`)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	const hint = `herald import -sandbox -force 'message.m["a"]'`
	require.Contains(t, r.stdout, `not imported, nothing recorded (`+hint+` records it without evidence)`)
	require.NotContains(t, sandboxSnapshot(t, dir).Records, `message.m["a"]`)

	words := splitShell(t, hint)
	// The message is due at 09:00, after the test's clock: -at loads it.
	args := append([]string{words[1], "-at=2026-12-01T09:00:00Z"}, words[2:]...)
	r = runEnv(t, dir, none, "", args...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, state.ImportedForced, sandboxSnapshot(t, dir).Records[`message.m["a"]`].Imported)
	require.NoFileExists(t, filepath.Join(dir, state.DefaultPath))
}

// TestApplySandboxImportHintNamesSandbox: an import block apply -sandbox
// cannot match suggests the sandbox's import command, not the real one.
func TestApplySandboxImportHintNamesSandbox(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig+`
import {
  to = message.launch
}
`)
	r := runEnv(t, dir, map[string]string{}, "", "apply", "-sandbox", "-auto-approve", "-no-color")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "(herald import -sandbox -force message.launch records it without evidence)")
}

// TestImportForceMakesNoRequest: -force records without reading the
// thread, so it needs no credentials and makes no request at all, even
// with credentials and a base URL set.
func TestImportForceMakesNoRequest(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, `{"detail":"unexpected"}`, http.StatusInternalServerError)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name string
		vars map[string]string
	}{
		{"no_credentials", map[string]string{"A1BASE_BASE_URL": srv.URL + "/v1"}},
		{"credentials", map[string]string{"A1BASE_BASE_URL": srv.URL + "/v1", "A1BASE_API_KEY": "key", "A1BASE_API_SECRET": "secret", "A1BASE_ACCOUNT_ID": "acc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, sandboxImportConfig)
			r := runEnv(t, dir, tc.vars, "", "import", "-force", "-no-color", "message.launch")
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			require.Contains(t, r.stdout, "message.launch: imported without evidence (-force: its thread was not read), recorded as sent")
			snap, err := state.OpenLocal(filepath.Join(dir, state.DefaultPath)).Snapshot(context.Background())
			require.NoError(t, err)
			require.Equal(t, state.ImportedForced, snap.Records["message.launch"].Imported)
			require.Zero(t, requests.Load(), "-force dials nothing")
		})
	}

	// Without -force the same import does read the thread.
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig)
	r := runEnv(t, dir, map[string]string{"A1BASE_BASE_URL": srv.URL + "/v1", "A1BASE_API_KEY": "key", "A1BASE_API_SECRET": "secret", "A1BASE_ACCOUNT_ID": "acc"}, "", "import", "message.launch")
	require.Equal(t, 1, r.code)
	require.NotZero(t, requests.Load(), "the counter sees a look-up")
}

// TestImportForceWithIDIsAUsageError: -id picks a thread message, which
// -force does not read.
func TestImportForceWithIDIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig)
	r := runEnv(t, dir, map[string]string{}, "", "import", "-force", "-id=msg_1", "message.launch")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "-force records without reading the thread, and -id picks a message in it")
}

// TestSandboxThreadsKeepNoSensitiveText: a message built from a sensitive
// variable is not written to the sandbox's thread history.
func TestSandboxThreadsKeepNoSensitiveText(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig+`
variable "code" {
  default   = "door-code-4711"
  sensitive = true
}

message "secret" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  text    = "The code is ${var.code}"
}
`)
	r := runEnv(t, dir, map[string]string{}, "", "apply", "-sandbox", "-auto-approve", "-no-color")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	threads, err := os.ReadFile(filepath.Join(dir, "herald.sandbox.threads.json"))
	require.NoError(t, err)
	require.Contains(t, string(threads), "Launch day!")
	require.NotContains(t, string(threads), "door-code-4711")
	info, err := os.Stat(filepath.Join(dir, "herald.sandbox.threads.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// TestImportSandboxFromHandWrittenThreads: a message written into the
// sandbox's threads file, as docs/commands/sandbox.md shows, is found by
// import -sandbox; a malformed file is an error that names it.
func TestImportSandboxFromHandWrittenThreads(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, sandboxImportConfig)
	path := filepath.Join(dir, "herald.sandbox.threads.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"threads": {"t-eng": [
  {"message_id": "msg_by_hand", "from": "+14155552671", "body": "Launch day!", "date_created": "2026-12-01T07:00:30Z"}
]}}`), 0o600))
	r := runEnv(t, dir, map[string]string{}, "", "import", "-sandbox", "-no-color", "message.launch")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "message.launch: found in its thread (message msg_by_hand of 2026-12-01T07:00:30Z): imported, recorded as sent")

	require.NoError(t, os.WriteFile(path, []byte(`{"threads": {"t-eng": [{"body": "no date"}]}}`), 0o600))
	r = runEnv(t, dir, map[string]string{}, "", "import", "-sandbox", "-no-color", `message.m["a"]`)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `herald.sandbox.threads.json is not valid: thread "t-eng", message 1: date_created is missing`)
}
