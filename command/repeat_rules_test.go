package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
)

// fortnightlyConfig is a fortnightly standup in Berlin, ten times, without
// 26 April, and with the occurrence of 12 April moved to Tuesday 10:30.
// 27 December is past the count's end: a warning.
const fortnightlyConfig = `provider "a1base" {
  account_id = "acc"
  from       = "+14155552671"
  timezone   = "Europe/Berlin"
}

group "eng" {
  thread_id = "group-thread-eng"
}

message "standup" {
  group = group.eng
  repeat {
    cron     = "0 9 * * MON"
    from     = "2027-03-01 00:00"
    interval = "2 weeks"
    count    = 10
    except   = ["2027-04-26", "2027-12-27"]

    occurrence "2027-04-12 09:00" {
      send_at = "2027-04-13 10:30"
      text    = "Standup moved to Tuesday 10:30 this week"
    }
  }
  expires_after = "15m"
  text          = "Standup in 15 minutes"
}
`

// TestRepeatBoundsCommands: validate, fmt, plan and plan -json with
// interval, count, except and an occurrence block.
func TestRepeatBoundsCommands(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fortnightlyConfig), 0o644))
	state := "-state=" + filepath.Join(t.TempDir(), "s.json")

	r := runMain(t, dir, "", "fmt", "-check")
	assert.Equal(t, 0, r.code, "already formatted: %s%s", r.stdout, r.stderr)

	js := runMain(t, dir, "", "validate", "-json")
	require.Equal(t, 0, js.code, js.stderr)
	var doc views.ValidateDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	assert.True(t, doc.Valid)
	require.Equal(t, 1, doc.WarningCount)
	d := doc.Diagnostics[0]
	assert.Equal(t, "Exception matches no occurrence", d.Summary)
	assert.Contains(t, d.Detail, `except lists "2027-12-27"`)
	assert.Contains(t, d.Detail, "after the last of its 10 occurrences, 2027-07-05T09:00:00+02:00")
	require.NotNil(t, d.Range)
	assert.Equal(t, 18, d.Range.Start.Line)
	assert.Equal(t, 31, d.Range.Start.Column, "the range is the entry's")
	assert.Equal(t, 43, d.Range.End.Column)

	// Monday 12 April, 09:05 in Berlin: that occurrence moved to Tuesday.
	plan := runMain(t, dir, "", "plan", "-at=2027-04-12T07:05:00Z", state)
	require.Equal(t, 0, plan.code, plan.stderr)
	out := plan.stdout
	assert.Contains(t, out, `  - message.standup["2027-03-29T09:00:00+02:00"] has expired`)
	assert.Contains(t, out, `  > message.standup["2027-04-12T09:00:00+02:00"] waits`)
	assert.Contains(t, out, "send_at    2027-04-13T08:30:00Z (in 1d1h)")
	assert.Contains(t, out, "repeat     every 2nd Monday at 09:00 from 1 March 2027, 10 times, except 2 dates (Europe/Berlin)")
	assert.Contains(t, out, "occurs     this one 2027-03-29 09:00 CEST; next 2027-04-13 10:30 CEST (in 1d1h); 6 more until 2027-07-05 09:00 CEST (count 10)")
	assert.Contains(t, out, "occurs     this one 2027-04-12 09:00 CEST (changed by its occurrence block); next 2027-05-10 09:00 CEST (in 27d23h); 5 more until 2027-07-05 09:00 CEST (count 10)")
	assert.Contains(t, out, "Standup moved to Tuesday 10:30 this week")
	assert.Contains(t, plan.stdout+plan.stderr, "Exception matches no occurrence")

	pj := runMain(t, dir, "", "plan", "-at=2027-04-12T07:05:00Z", state, "-json")
	require.Equal(t, 0, pj.code, pj.stderr)
	var pd views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(pj.stdout), &pd))
	require.Len(t, pd.Changes, 2)
	moved := pd.Changes[1]
	assert.Equal(t, `message.standup["2027-04-12T09:00:00+02:00"]`, moved.Address)
	rp := moved.Repeat
	require.NotNil(t, rp)
	assert.Equal(t, "2027-04-12T09:00:00+02:00", rp.Occurrence, "the occurrence is the key, not the moved time")
	assert.Equal(t, "2 weeks", rp.Interval)
	assert.Equal(t, 10, rp.Count)
	assert.Equal(t, []string{"2027-04-26", "2027-12-27"}, rp.Except)
	assert.True(t, rp.Overridden)
	require.NotNil(t, rp.Last)
	assert.Equal(t, "2027-07-05T09:00:00+02:00", rp.Last.Format(time.RFC3339))
	assert.Equal(t, 5, rp.Remaining)
	assert.Contains(t, pj.stdout, `"overridden": true`)
	assert.Contains(t, pj.stdout, `"interval": "2 weeks"`)

	// Tuesday 10:31: the moved occurrence is due; the last one's plan
	// says so.
	plan = runMain(t, dir, "", "plan", "-at=2027-04-13T08:31:00Z", state)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, `  + message.standup["2027-04-12T09:00:00+02:00"] will be sent`)
	plan = runMain(t, dir, "", "plan", "-at=2027-07-05T07:01:00Z", state)
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout, "occurs     this one 2027-07-05 09:00 CEST; no next one; the last one (count 10)")
}

// TestRepeatOverrideOutOfOrder: validate refuses an occurrence moved past
// the next one, on its send_at.
func TestRepeatOverrideOutOfOrder(t *testing.T) {
	dir := t.TempDir()
	require.Contains(t, fortnightlyConfig, `send_at = "2027-04-13 10:30"`)
	bad := strings.Replace(fortnightlyConfig, `send_at = "2027-04-13 10:30"`, `send_at = "2027-05-11 10:30"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(bad), 0o644))
	r := runMain(t, dir, "", "validate")
	assert.Equal(t, 1, r.code)
	out := unwrap(r.stderr)
	assert.Contains(t, out, "Error: Occurrence moved out of order")
	assert.Contains(t, out, "on main.hcl line 21")
	assert.Contains(t, out, "is not before the occurrence after it, 2027-05-10T09:00:00+02:00")
}
