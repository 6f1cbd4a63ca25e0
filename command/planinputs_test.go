package command

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// plan reads the local state file while the configuration loads; what it
// read counts only when the configuration keeps its state there.

const brokenState = "{\n  \"version\": 1,\n  \"lineage\": \"l\",\n  \"records\": [oops]\n}\n"

func TestPlanWithBackendBlockIgnoresLocalStateFile(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+unreachableBackend)
	local := filepath.Join(dir, state.DefaultPath)
	require.NoError(t, os.WriteFile(local, []byte(brokenState), 0o600))
	r := runEnv(t, dir, nil, "", "plan")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "postgres://herald@127.0.0.1:1/herald (schema herald)")
	assert.NotContains(t, r.stderr, state.DefaultPath, "the local file is not where this state lives")
	got, err := os.ReadFile(local)
	require.NoError(t, err)
	assert.Equal(t, brokenState, string(got))
}

func TestPlanReportsBrokenLocalStateAfterConfiguration(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig)
	require.NoError(t, os.WriteFile(filepath.Join(dir, state.DefaultPath), []byte(brokenState), 0o600))
	r := runEnv(t, dir, nil, "", "plan")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "reading state "+filepath.Join(dir, state.DefaultPath))
	assert.Contains(t, r.stderr, "line 4, column 15")

	// A broken configuration is reported alone, as when the state was
	// read after it.
	writeConfig(t, dir, backendTestConfig+"message \"x\" {\n")
	r = runEnv(t, dir, nil, "", "plan")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "main.hcl")
	assert.NotContains(t, r.stderr, "reading state")
}
