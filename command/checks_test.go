package command

import (
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
)

// The launch week of examples/checks, on the morning of the launch: the
// standup (09:00 Berlin) is due at 08:05 UTC.
var checksClock = time.Date(2027, 3, 2, 8, 5, 0, 0, time.UTC)

const checksAt = "-at=2027-03-02T08:05:00Z"

// newChecksFixture is an apply fixture over a copy of examples/checks,
// with its own fake A1Base.
func newChecksFixture(t *testing.T) *applyFixture {
	t.Helper()
	api := a1sandbox.NewHandler(a1sandbox.WithClock(func() time.Time { return checksClock }))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return &applyFixture{dir: copyTree(t, "..", "..", "examples", "checks"), api: api, url: srv.URL, env: map[string]string{
		"A1BASE_BASE_URL":   srv.URL + "/v1",
		"A1BASE_API_KEY":    "key-9c1e",
		"A1BASE_API_SECRET": "secret-4d7a",
	}}
}

// A launch moved into quiet hours fails an error-level check: every plan
// format shows it, plan exits 1 and saves no plan file, and apply sends
// nothing at all, not even the standup the check is not about.
func TestFailedErrorCheckStopsPlanAndApply(t *testing.T) {
	f := newChecksFixture(t)
	early := "-var=launch_time=06:30"
	for _, form := range []struct{ flag, golden string }{
		{"-no-color", "plan/checks_failed.out.txt"},
		{"-json", "plan/checks_failed.out.json"},
		{"-markdown", "plan/checks_failed.out.md"},
	} {
		r := runMain(t, f.dir, "", "plan", checksAt, early, form.flag)
		assert.Equal(t, 1, r.code, form.flag)
		assert.Contains(t, r.stderr, "1 check failed with severity error; apply would send nothing", form.flag)
		checkGolden(t, form.golden, []byte(r.stdout))
	}

	saved := runMain(t, f.dir, "", "plan", checksAt, early, "-out=launch.plan")
	assert.Equal(t, 1, saved.code)
	assert.Contains(t, saved.stderr, "the plan was not saved to launch.plan")
	assert.NoFileExists(t, filepath.Join(f.dir, "launch.plan"))

	detailed := runMain(t, f.dir, "", "plan", checksAt, early, "-detailed-exitcode")
	assert.Equal(t, 1, detailed.code, "a failed check wins over exit code 2")

	r := f.run(t, nil, "apply", "-auto-approve", checksAt, early)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "1 check failed with severity error; nothing was sent")
	assert.Contains(t, r.stdout, `x check.quiet_hours (error)`)
	assert.Empty(t, f.api.Sends(), "nothing may be sent")
	_, err := os.Stat(filepath.Join(f.dir, "herald.state.json"))
	if err == nil {
		assert.Empty(t, f.snapshot(t, "herald.state.json").Records, "nothing may be recorded")
	}

	// The same configuration at its reviewed time passes and sends.
	ok := f.run(t, nil, "apply", "-auto-approve", checksAt)
	require.Equal(t, 0, ok.code, ok.stderr)
	assert.Contains(t, ok.stdout, "Checks: 7 passed.")
	assert.Len(t, f.api.Sends(), 1)
}

// A failed warning stops nothing: plan exits 0 and saves the plan, whose
// file carries the warning, so that show and apply PLANFILE report it too.
func TestFailedWarningIsShownAndStopsNothing(t *testing.T) {
	f := newChecksFixture(t)
	hosts := `-var=link_hosts=["example.com"]`
	r := runMain(t, f.dir, "", "plan", checksAt, hosts, "-no-color", "-out=week.plan")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "! check.links (warning)\n      Links point only to example.com.\n      on policy.hcl line")
	assert.Contains(t, r.stdout, "Checks: 6 passed, 1 failed (1 warning).")
	assert.Contains(t, r.stdout, "Saved the plan to week.plan.")

	md := runMain(t, f.dir, "", "plan", checksAt, hosts, "-markdown")
	require.Equal(t, 0, md.code, md.stderr)
	assert.Contains(t, md.stdout, "#### Failed checks\n\n- **warning** <code>check.links</code>: Links point only to example.com. (<code>policy.hcl:")
	assert.NotContains(t, md.stdout, "CAUTION")

	show := runMain(t, f.dir, "", "show", "-no-color", "week.plan")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "! check.links (warning)")
	showJSON := runMain(t, f.dir, "", "show", "-json", "week.plan")
	require.Equal(t, 0, showJSON.code, showJSON.stderr)
	assert.Contains(t, showJSON.stdout, `"address": "check.links",
      "kind": "check",
      "index": 0,
      "severity": "warning",
      "status": "fail",
      "error_message": "Links point only to example.com.",`)

	a := f.run(t, nil, "apply", hosts, "week.plan")
	require.Equal(t, 0, a.code, a.stderr)
	assert.Contains(t, a.stdout, "! check.links (warning)")
	assert.Len(t, f.api.Sends(), 1)
}

// A precondition is checked for each instance, with self the instance:
// here the text of one for_each instance only.
func TestPreconditionFailsForOneInstance(t *testing.T) {
	f := newChecksFixture(t)
	main := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	edited := []byte(string(src) + `
message "todo" {
  for_each = { eng = "Ship it", ops = "TODO: write this" }
  group    = group.eng
  send_at  = "2027-03-03 10:${each.key == "eng" ? "00" : "30"}"
  text     = "${each.value} -- the team"

  precondition {
    condition     = !strcontains(lower(self.text), "todo")
    error_message = "${self.address} still says TODO."
  }
}
`)
	require.NoError(t, os.WriteFile(main, edited, 0o644))
	r := runMain(t, f.dir, "", "plan", checksAt, "-json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, `"address": "message.todo[\"ops\"]",
      "kind": "precondition",
      "index": 0,
      "severity": "error",
      "status": "fail",
      "error_message": "message.todo[\"ops\"] still says TODO.",`)
	assert.Contains(t, r.stdout, `"address": "message.todo[\"eng\"]",
      "kind": "precondition",
      "index": 0,
      "severity": "error",
      "status": "pass",`)
}

// The policy recipe of docs/language/checks.md, run as written: jq over
// plan -json accepts the reviewed plan and refuses one with a failed
// error-level check.
func TestPolicyRecipeOverPlanJSON(t *testing.T) {
	jq, err := exec.LookPath("jq")
	require.NoError(t, err, "the policy recipe is tested with jq (Debian package jq)")
	page, err := os.ReadFile(filepath.Join("..", "docs", "language", "checks.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(page), "jq -e '")
	require.True(t, ok, "the page shows a jq -e program")
	program, _, ok := strings.Cut(rest, "' plan.json")
	require.True(t, ok)

	f := newChecksFixture(t)
	judge := func(args ...string) int {
		r := runMain(t, f.dir, "", append([]string{"plan", "-json", checksAt}, args...)...)
		cmd := exec.Command(jq, "-e", program)
		cmd.Stdin = strings.NewReader(r.stdout)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		require.NoError(t, err, "%s", out)
		return 0
	}
	assert.Equal(t, 0, judge(), "the reviewed plan passes the policy")
	assert.Equal(t, 1, judge("-var=launch_time=06:30"), "quiet hours fail the policy")
}

// herald run plans each pass as apply does: a failed error-level check
// stops the pass before anything is sent.
func TestRunSendsNothingWhileACheckFails(t *testing.T) {
	f := newRunFixture(t, "schedule")
	main := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(main, append(src, []byte(`
check "frozen" {
  severity = "error"
  assert {
    condition     = length(messages) == 0
    error_message = "Broadcasts are frozen this week."
  }
}
`)...), 0o644))
	f.clock.now = runStart.Add(150 * time.Minute)
	r := f.run(t, time.Time{}, "-once")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout+r.stderr, "Broadcasts are frozen this week.")
	assert.Contains(t, r.stdout+r.stderr, "1 check failed with severity error; nothing was sent")
	assert.Empty(t, f.api.Sends())
}

// herald run says which occurrences of a repeat message it passes over
// after an outage, once.
func TestRunLogsSkippedOccurrencesOnce(t *testing.T) {
	f := newRunFixture(t, "schedule")
	main := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(main, append(src, []byte(`
message "hourly" {
  group = group.eng
  repeat {
    cron = "0 * * * *"
    from = "2026-12-01T06:00:00Z"
  }
  text = "On the hour"
}
`)...), 0o644))
	f.clock.now = runStart.Add(150 * time.Minute) // 10:30
	r := f.run(t, runStart.Add(4*time.Hour), "-poll=15m")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, 1, strings.Count(r.stdout, "message.hourly: 4 occurrences skipped while herald did not run"), r.stdout)
}
