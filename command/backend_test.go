package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// runEnv runs herald in dir like runMain, with the environment vars.
func runEnv(t *testing.T, dir string, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{
		Dir:     dir,
		Stdin:   strings.NewReader(stdin),
		Stdout:  &out,
		Stderr:  &errOut,
		Getenv:  func(k string) string { return vars[k] },
		Environ: func() []string { return nil },
		Now:     func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) },
		Version: "1.2.3",
	}
	code := Main(context.Background(), env, args)
	return result{code, out.String(), errOut.String()}
}

func writeConfig(t *testing.T, dir, src string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
}

const backendTestConfig = `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "First for eng"
}
`

// Nothing listens on port 1: the connection is refused at once.
const unreachableBackend = `
backend "postgres" {
  conn_str = "postgres://herald:s3cr3t-pw@127.0.0.1:1/herald?sslmode=disable&connect_timeout=5"
}
`

func TestStateFlagConflictsWithBackend(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+unreachableBackend)
	for _, args := range [][]string{
		{"plan", "-state=local.json"},
		{"apply", "-auto-approve", "-state=local.json"},
		{"show", "-state=local.json"},
		{"state", "list", "-state=local.json"},
		{"state", "rm", "-state=local.json", "message.a"},
		{"state", "pull", "-state=local.json"},
		{"state", "push", "-state=local.json", "x.json"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			vars := map[string]string{"A1BASE_API_KEY": "k", "A1BASE_API_SECRET": "s"}
			if args[0] == "state" && args[1] == "push" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"version":1,"lineage":"l","serial":1,"records":[]}`), 0o600))
			}
			r := runEnv(t, dir, vars, "", args...)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.Contains(t, r.stderr, "-state=local.json names a local state file")
			assert.Contains(t, r.stderr, `backend "postgres" (declared at `)
			assert.NotContains(t, r.stderr+r.stdout, "s3cr3t-pw")
			assert.NoFileExists(t, filepath.Join(dir, "local.json"))
		})
	}
}

// A database that cannot be reached is an error naming it without the
// password, for every command that touches state; nothing falls back to a
// local file.
func TestUnreachableBackend(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+unreachableBackend)
	for _, args := range [][]string{
		{"plan"},
		{"show"},
		{"state", "list"},
		{"state", "show", "message.a"},
		{"state", "rm", "message.a"},
		{"state", "pull"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runEnv(t, dir, nil, "", args...)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.Contains(t, r.stderr, "postgres://herald@127.0.0.1:1/herald (schema herald)")
			assert.NotContains(t, r.stderr+r.stdout, "s3cr3t-pw")
			assert.NoFileExists(t, filepath.Join(dir, state.DefaultPath))
		})
	}
}

func TestBackendBlockErrorsStopStateCommands(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+`
backend "postgres" {
  schema_name = "no-dashes"
}
`)
	r := runEnv(t, dir, nil, "", "state", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Invalid schema_name")
	assert.Contains(t, r.stderr, "on main.hcl line 18")

	writeConfig(t, dir, backendTestConfig+`
backend "s3" {
}
`)
	r = runEnv(t, dir, nil, "", "show")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Unsupported backend type")

	// Two blocks: neither is guessed at.
	writeConfig(t, dir, backendTestConfig+unreachableBackend)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.hcl"), []byte("backend \"postgres\" {\n}\n"), 0o644))
	r = runEnv(t, dir, nil, "", "state", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Duplicate backend configuration")
	assert.NotContains(t, r.stderr, "127.0.0.1:1", "no connection was tried")
	assert.NoFileExists(t, filepath.Join(dir, state.DefaultPath))
}

// The state commands read only the backend block: a configuration broken
// elsewhere does not keep anyone from inspecting or moving the state.
func TestStateCommandsIgnoreOtherConfigErrors(t *testing.T) {
	dir := e2eDir(t)
	writeConfig(t, dir, `message "broken" {`)
	r := runEnv(t, dir, nil, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "message.agenda\n")

	r = runEnv(t, dir, nil, "", "show")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "5 messages recorded.")
}

// The backend block may use variables, from -var or the environment.
func TestBackendBlockUsesVariables(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+`
variable "pg" {
  type      = string
  sensitive = true
}

backend "postgres" {
  conn_str = var.pg
}
`)
	r := runEnv(t, dir, nil, "", "state", "list", "-var", "pg=postgres://v:from-var@127.0.0.1:1/fromvar?connect_timeout=5")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "postgres://v@127.0.0.1:1/fromvar")
	assert.NotContains(t, r.stderr, "from-var")

	r = runEnv(t, dir, map[string]string{"HERALD_VAR_pg": "postgres://e@127.0.0.1:1/fromenv?connect_timeout=5"}, "", "state", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "postgres://e@127.0.0.1:1/fromenv")
}

func TestStatePullLocal(t *testing.T) {
	dir := e2eDir(t)
	file, err := os.ReadFile(filepath.Join(dir, state.DefaultPath))
	require.NoError(t, err)
	r := runEnv(t, dir, nil, "", "state", "pull")
	require.Equal(t, 0, r.code, r.stderr)
	snap, err := state.Decode(strings.NewReader(string(file)))
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, state.Encode(&want, snap))
	assert.Equal(t, want.String(), r.stdout, "pull writes the state file format")
	assert.Empty(t, r.stderr)

	r = runEnv(t, dir, nil, "", "state", "pull", "extra")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "state pull takes no arguments")
}

func TestStatePushLocal(t *testing.T) {
	dir := e2eDir(t)
	path := filepath.Join(dir, state.DefaultPath)
	pulled := runEnv(t, dir, nil, "", "state", "pull")
	require.Equal(t, 0, pulled.code, pulled.stderr)
	orig, err := state.Decode(strings.NewReader(pulled.stdout))
	require.NoError(t, err)
	require.Equal(t, uint64(4), orig.Serial)

	write := func(name string, s *state.Snapshot) {
		var b bytes.Buffer
		require.NoError(t, state.Encode(&b, s))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o600))
	}
	older := orig.Clone()
	older.Serial = 3
	delete(older.Records, "message.hello")
	write("older.json", older)
	other := orig.Clone()
	other.Lineage = "another-lineage"
	other.Serial = 10
	write("other.json", other)

	r := runEnv(t, dir, nil, "", "state", "push", "older.json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "refusing to push to "+state.DefaultPath+": the pushed state has serial 3, older than the stored serial 4")
	r = runEnv(t, dir, nil, "", "state", "push", "other.json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "lineage another-lineage and the stored one lineage e2e-lineage")
	after, err := state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, orig, after, "a refused push changes nothing")

	// The same serial is accepted, and stored as the next one.
	r = runEnv(t, dir, nil, "", "state", "push", state.DefaultPath)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	after, err = state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(5), after.Serial)
	assert.Equal(t, orig.Records, after.Records)

	r = runEnv(t, dir, nil, "", "state", "push", "-force", "older.json")
	require.Equal(t, 0, r.code, r.stderr)
	after, err = state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(6), after.Serial, "forced: still newer than what it replaced")
	assert.NotContains(t, after.Records, "message.hello")
	assert.FileExists(t, path+".backup")

	r = runEnv(t, dir, nil, "", "state", "push", "--force", "other.json")
	require.Equal(t, 0, r.code, r.stderr)
	after, err = state.OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "another-lineage", after.Lineage)
	assert.Equal(t, uint64(10), after.Serial)

	// Standard input, into a directory that has no state yet: no -force
	// needed, and the state file is byte for byte what was pulled.
	fresh := t.TempDir()
	r = runEnv(t, fresh, nil, pulled.stdout, "state", "push", "-")
	require.Equal(t, 0, r.code, r.stderr)
	got, err := os.ReadFile(filepath.Join(fresh, state.DefaultPath))
	require.NoError(t, err)
	assert.Equal(t, pulled.stdout, string(got))
}

func TestStatePushBadInput(t *testing.T) {
	dir := e2eDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{\n  \"version\": 1,\n  \"lineage\": \"x\",\n  \"serial\": \"one\"\n}\n"), 0o600))
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"bad.json"}, "", `bad.json: line 4, column 13 (byte 48): field "serial" is a JSON string`},
		{[]string{"missing.json"}, "", "missing.json: no such file or directory"},
		{[]string{"-"}, `{"version": 9}`, "standard input: state has state format version 9, written by a newer herald"},
		{nil, "", "state push takes exactly one state file"},
		{[]string{"a.json", "b.json"}, "", "state push takes exactly one state file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runEnv(t, dir, nil, tt.stdin, append([]string{"state", "push"}, tt.args...)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
	snap, err := state.OpenLocal(filepath.Join(dir, state.DefaultPath)).Snapshot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(4), snap.Serial, "nothing was written")
}

func TestStatePushWaitsForLock(t *testing.T) {
	dir := e2eDir(t)
	holder := state.OpenLocal(filepath.Join(dir, state.DefaultPath))
	holder.SetOperation("herald apply")
	require.NoError(t, holder.Lock(context.Background(), 0))
	defer holder.Close()
	r := runEnv(t, dir, nil, "", "state", "push", state.DefaultPath)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "state is locked")
	assert.Contains(t, r.stderr, "herald apply")
}
