package command

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/state"
)

// The two-accounts example validates, plans with each community's account
// and applies against the sandbox with both.
func TestTwoAccountsExample(t *testing.T) {
	dir := exampleDir(t, "two-accounts")
	r := runMain(t, dir, "", "validate")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	statePath := filepath.Join(t.TempDir(), "s.json")
	const at = "-at=2027-01-04T20:00:00Z"
	r = runMain(t, dir, "", "plan", at, "-state="+statePath, "-json")
	require.Equal(t, 0, r.code, r.stderr)
	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	require.Len(t, doc.Changes, 8)
	for _, c := range doc.Changes {
		assert.Equal(t, "send", c.Action, c.Address)
		switch c.Group {
		case "berlin", "paris":
			assert.Equal(t, "a1base.eu acc_europe", c.Provider+" "+c.AccountID, c.Address)
		default:
			assert.Equal(t, "a1base acc_americas", c.Provider+" "+c.AccountID, c.Address)
		}
	}

	r = runMain(t, dir, "", "apply", "-sandbox", "-auto-approve", at, "-state="+statePath)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Willkommen zum Wochenprogramm!")
	assert.Contains(t, r.stdout, "Apply complete: 8 sent")
	snap, err := state.OpenLocal(statePath).Snapshot(t.Context())
	require.NoError(t, err)
	assert.Len(t, snap.Records, 8)
}
