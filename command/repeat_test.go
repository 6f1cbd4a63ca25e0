package command

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func exampleDir(t *testing.T, name string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "examples", name))
	require.NoError(t, err)
	return abs
}

func TestStandupExampleValidates(t *testing.T) {
	r := runMain(t, exampleDir(t, "standup"), "", "validate")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = runMain(t, exampleDir(t, "standup"), "", "plan", "-at=2027-03-29T07:05:00Z", "-state="+filepath.Join(t.TempDir(), "s.json"), "-json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"rule": "every Monday at 09:00 (Europe/Berlin)"`)
}

// standupFixture is the apply fixture with the standup example as its
// configuration.
func standupFixture(t *testing.T) *applyFixture {
	t.Helper()
	f := newApplyFixture(t)
	src, err := os.ReadFile(filepath.Join(exampleDir(t, "standup"), "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), src, 0o644))
	return f
}

// TestRepeatOutage: apply sends the due standup once; after an outage of
// three weeks it sends only that Monday's, never the missed ones.
func TestRepeatOutage(t *testing.T) {
	f := standupFixture(t)
	r := f.run(t, nil, "apply", "-auto-approve", "-at=2027-03-29T07:05:00Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, f.api.Sends(), 1)
	assert.Contains(t, f.api.Sends()[0].Request.Content, "Monday 29 March")

	r = f.run(t, nil, "plan", "-detailed-exitcode", "-at=2027-03-29T07:06:00Z")
	assert.Equal(t, 0, r.code, "nothing more to send: %s", r.stdout)

	r = f.run(t, nil, "apply", "-auto-approve", "-at=2027-04-19T07:05:00Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, f.api.Sends(), 2, "one send for three missed Mondays")
	assert.Contains(t, f.api.Sends()[1].Request.Content, "Monday 19 April")
	snap := f.snapshot(t, "herald.state.json")
	assert.Contains(t, snap.Records, `message.standup["2027-03-29T09:00:00+02:00"]`, "older records stay")
	assert.NotContains(t, snap.Records, `message.standup["2027-04-12T09:00:00+02:00"]`, "missed ones are not recorded")

	r = f.run(t, nil, "plan", "-at=2027-04-19T07:06:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "orphan")
	assert.Contains(t, r.stdout, "1 waiting")
}

// TestRepeatSavedPlan: a saved plan is applied against the occurrences
// of its own clock, even when the clock has moved past the next one.
func TestRepeatSavedPlan(t *testing.T) {
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(`
provider "a1base" {
  account_id = "acc"
  from       = "+14155552671"
}
group "eng" {
  thread_id = "t-eng"
  timezone  = "Asia/Kolkata"
}
message "tick" {
  group         = group.eng
  repeat { cron = "* * * * *" }
  expires_after = "10m"
  text          = "tick ${each.key}"
}
`), 0o644))
	r := f.run(t, nil, "plan", "-out=saved.plan", "-at=2027-03-29T07:05:30Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	later := func(e *Env) { e.Now = func() time.Time { return time.Date(2027, 3, 29, 7, 7, 10, 0, time.UTC) } }
	r = f.run(t, later, "apply", "saved.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, f.api.Sends(), 1)
	assert.Equal(t, "tick 2027-03-29T12:35:00+05:30", f.api.Sends()[0].Request.Content)
}
