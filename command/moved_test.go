package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// A rename with a moved block moves the record in state at the next apply,
// so deleting the moved block afterwards never sends the message again.
func TestApplyCarriesMovedRecords(t *testing.T) {
	f := newApplyFixture(t)
	r := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, contents(f.api), 3)

	path := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	renamed := strings.Replace(string(src), `message "a" {`, `message "first" {`, 1)
	require.NoError(t, os.WriteFile(path, []byte(renamed+"\nmoved {\n  from = message.a\n  to   = message.first\n}\n"), 0o644))

	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	snap := f.snapshot(t, state.DefaultPath)
	require.NotContains(t, snap.Records, "message.a")
	require.Contains(t, snap.Records, "message.first")
	assert.Equal(t, state.StatusSent, snap.Records["message.first"].Status)
	assert.Len(t, snap.Records["message.first"].Attempts, 1)

	// Without the moved block the record is still found.
	require.NoError(t, os.WriteFile(path, []byte(renamed), 0o644))
	r = f.run(t, nil, "plan", "-detailed-exitcode", at)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, contents(f.api), 3, "nothing was sent twice")
}
