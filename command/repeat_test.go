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

const cronDaysConfig = `group "eng" {
  thread_id = "t-eng"
  from      = "+14155552671"
}

message "first_monday" {
  group = group.eng
  repeat { cron = "0 9 1-7 * MON" }
  text = "Monthly review"
}
`

// TestCronDaysWarning: validate and plan warn, with the cron attribute's
// range, when the day of month and the day of week are both restricted;
// the configuration stays valid.
func TestCronDaysWarning(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cronDaysConfig), 0o644))

	r := runMain(t, dir, "", "validate")
	require.Equal(t, 0, r.code, r.stderr)
	out := unwrap(r.stdout + r.stderr)
	assert.Contains(t, out, "The configuration is valid, but there was 1 warning.")
	assert.Contains(t, out, "Warning: Day of month and day of week both restricted")
	assert.Contains(t, out, "on main.hcl line 8")
	assert.Contains(t, out, `fires on every day that matches either of them`)
	assert.Contains(t, out, `For the days of the month alone, write "0 9 1-7 * *"; for the days of the week alone, write "0 9 * * MON".`)

	js := runMain(t, dir, "", "validate", "-json")
	require.Equal(t, 0, js.code, js.stderr)
	var doc views.ValidateDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	assert.True(t, doc.Valid)
	require.Equal(t, 1, doc.WarningCount)
	d := doc.Diagnostics[0]
	assert.Equal(t, "warning", d.Severity)
	require.NotNil(t, d.Range)
	assert.Equal(t, "main.hcl", d.Range.Filename)
	assert.Equal(t, 8, d.Range.Start.Line)
	assert.Equal(t, 19, d.Range.Start.Column, "the range is the cron expression's")
	assert.Equal(t, 34, d.Range.End.Column)

	plan := runMain(t, dir, "", "plan", "-at=2027-03-02T12:00:00Z", "-state="+filepath.Join(t.TempDir(), "s.json"))
	require.Equal(t, 0, plan.code, plan.stderr)
	assert.Contains(t, plan.stdout+plan.stderr, "Day of month and day of week both restricted")
	// Either-or: 1-7 March, then Mondays, so the next after 2 March is the 3rd.
	assert.Contains(t, plan.stdout, `message.first_monday["2027-03-03T09:00:00Z"]`)
	assert.Contains(t, plan.stdout, "on days 1, 2, 3, 4, 5, 6 and 7 of every month and every Monday at 09:00 (UTC)")
}

// unwrap joins the lines diagnostics are wrapped into.
func unwrap(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestCronNameErrors(t *testing.T) {
	for _, tt := range []struct{ cron, want string }{
		{"0 9 * * TUES", `unknown day of week "TUES": use SUN, MON, TUE, WED, THU, FRI, SAT or 0-7`},
		{"0 9 * * Tu", `unknown day of week "Tu": use SUN, MON, TUE, WED, THU, FRI, SAT or 0-7`},
		{"0 9 1 Sept *", `unknown month "Sept": use JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC or 1-12`},
	} {
		t.Run(tt.cron, func(t *testing.T) {
			dir := t.TempDir()
			src := strings.Replace(cronDaysConfig, "0 9 1-7 * MON", tt.cron, 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
			r := runMain(t, dir, "", "validate")
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "Error: Invalid cron expression")
			assert.Contains(t, r.stderr, "on main.hcl line 8")
			assert.Contains(t, unwrap(r.stderr), tt.want)
			assert.NotContains(t, r.stderr, "failed to parse int")
		})
	}

	// 7 is Sunday.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cronDaysConfig, "0 9 1-7 * MON", "0 9 * * 5-7", 1)), 0o644))
	r := runMain(t, dir, "", "plan", "-at=2027-03-05T12:00:00Z", "-state="+filepath.Join(t.TempDir(), "s.json"), "-json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `message.first_monday[\"2027-03-06T09:00:00Z\"]`)
	assert.Empty(t, r.stderr, "no warning: the day of month is *")
}

// TestRepeatOutageSkipped: after three weeks without herald, plan reports
// the two Mondays it passes over as skipped in every form, a saved plan
// keeps them, apply's summary counts them without recording them, and the
// plan after the apply has nothing skipped.
func TestRepeatOutageSkipped(t *testing.T) {
	f := standupFixture(t)
	r := f.run(t, nil, "apply", "-auto-approve", "-at=2027-03-29T07:05:00Z")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "skipped", "the rule starts on 29 March: nothing before it")

	const later = "-at=2027-04-19T07:05:00Z"
	r = f.run(t, nil, "plan", later)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "  ~ message.standup: 2 occurrences skipped while herald did not run (2027-04-05 09:00 CEST, 2027-04-12 09:00 CEST)\n")
	assert.Contains(t, r.stdout, "Plan: 1 to send, 1 waiting, 1 expired, 2 skipped.\n")

	r = f.run(t, nil, "plan", later, "-json")
	require.Equal(t, 0, r.code, r.stderr)
	var doc struct {
		Summary map[string]int `json:"summary"`
		Changes []struct {
			Address string `json:"address"`
		} `json:"changes"`
		Skipped []views.PlanSkipped `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	assert.NotContains(t, doc.Summary, "skipped", "the summary holds the actions only")
	require.Len(t, doc.Skipped, 1)
	assert.Equal(t, views.PlanSkipped{
		Address: "message.standup", Count: 2,
		First:    time.Date(2027, 4, 5, 7, 0, 0, 0, time.UTC),
		Last:     time.Date(2027, 4, 12, 7, 0, 0, 0, time.UTC),
		Timezone: "Europe/Berlin",
	}, doc.Skipped[0])
	for _, c := range doc.Changes {
		assert.NotContains(t, c.Address, "2027-04-05", "a skipped occurrence is no change")
	}

	r = f.run(t, nil, "plan", later, "-markdown")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "**Plan: 1 to send, 1 waiting, 1 expired, 2 skipped.**")
	assert.Contains(t, r.stdout, "- <code>message.standup</code>: 2 occurrences skipped")

	r = f.run(t, nil, "plan", later, "-out=gap.plan")
	require.Equal(t, 0, r.code, r.stderr)
	shown := f.run(t, nil, "show", "gap.plan")
	require.Equal(t, 0, shown.code, shown.stderr)
	assert.Contains(t, shown.stdout, "message.standup: 2 occurrences skipped", "a saved plan keeps them")

	r = f.run(t, nil, "apply", "gap.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Apply complete: 1 sent, 0 failed, 1 expired, 0 unknown, 2 skipped.\n")
	require.Len(t, f.api.Sends(), 2, "one send for three Mondays")
	snap := f.snapshot(t, "herald.state.json")
	for _, missed := range []string{"2027-04-05", "2027-04-12"} {
		assert.NotContains(t, snap.Records, `message.standup["`+missed+`T09:00:00+02:00"]`, "nothing is recorded for a skipped occurrence")
	}

	r = f.run(t, nil, "plan", "-at=2027-04-19T07:06:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "skipped", "the latest is recorded: the gap is behind it")
}
