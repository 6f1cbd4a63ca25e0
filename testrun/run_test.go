package testrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const config = `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}

variable "code" {
  type      = string
  sensitive = true
  default   = "hunter2"
}

group "eng" {
  thread_id = "t-eng"
}

message "secret" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "The code is ${var.code}"

  precondition {
    condition     = length(self.text) < 5
    error_message = "Too long."
  }
}
`

// runText writes config and a test file into a directory, parses and runs
// the file.
func runText(t *testing.T, test string) *FileResult {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(config), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tests"), 0o755))
	path := filepath.Join(dir, "tests", "x.test.hcl")
	require.NoError(t, os.WriteFile(path, []byte(test), 0o644))
	f, diags := Parse(path, "tests/x.test.hcl")
	require.False(t, diags.HasErrors(), "%s", diags)
	return RunFile(f, Options{Dir: dir, Getenv: func(string) string { return "" }})
}

func details(d hcl.Diagnostics) string {
	var b strings.Builder
	for _, x := range d {
		b.WriteString(x.Summary + ": " + x.Detail + "\n")
	}
	return b.String()
}

func TestAssertOnSensitiveTextWithholdsTheMessage(t *testing.T) {
	res := runText(t, `
run "r" {
  at              = "2027-03-02T07:00:00Z"
  expect_failures = [message.secret]
  assert {
    condition     = message.secret.text == "nope"
    error_message = "The text is ${message.secret.text}."
  }
}`)
	require.Len(t, res.Runs, 1)
	got := details(res.Runs[0].Diags)
	assert.False(t, res.Runs[0].Passed)
	assert.Contains(t, got, "refers to sensitive values and is not shown")
	assert.NotContains(t, got, "hunter2")
	assert.NotContains(t, got, "Too long", "the precondition's failure was expected")
}

func TestOccurrencesOfAMessageThatDoesNotRepeat(t *testing.T) {
	res := runText(t, `
run "r" {
  at = "2027-03-02T07:00:00Z"
  expect_failures = [message.secret]
  assert {
    condition     = length(occurrences("secret", "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z")) == 1
    error_message = "x"
  }
}`)
	require.Len(t, res.Runs, 1)
	assert.False(t, res.Runs[0].Passed)
	assert.Contains(t, details(res.Runs[0].Diags), `"secret" is not a repeat message`)
}

func TestUnexpectedPreconditionFailsTheRun(t *testing.T) {
	res := runText(t, `
run "r" {
  at = "2027-03-02T07:00:00Z"
}`)
	require.Len(t, res.Runs, 1)
	assert.False(t, res.Runs[0].Passed)
	got := details(res.Runs[0].Diags)
	assert.Contains(t, got, "The precondition of message.secret failed: Too long.")
	assert.Contains(t, got, "List message.secret in expect_failures")
	passed, failed, skipped := res.Counts()
	assert.Equal(t, [3]int{0, 1, 0}, [3]int{passed, failed, skipped})
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.test.hcl")
	require.NoError(t, os.WriteFile(path, []byte(`
run "a" {
  at              = "2027-03-02T07:00:00Z"
  expect_failures = [group.eng]
}
run "a" {
  at = "2027-03-02T07:00:00Z"
}
run "b" {
}
`), 0o644))
	_, diags := Parse(path, "x.test.hcl")
	got := details(diags)
	assert.Contains(t, got, "Invalid expect_failures entry")
	assert.Contains(t, got, `Duplicate run block: A run block named "a" was already declared at x.test.hcl:2.`)
	assert.Contains(t, got, `The argument "at" is required`)
}

// An apply run sends through the sandbox on its own clock, which a rate
// limit's wait moves on instead of sleeping, and the runs after it plan
// against what it recorded.
func TestApplyRunsShareTheFilesState(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
provider "a1base" {
  from       = "+14155552671"
  rate_limit = "1/1h"
}

group "eng" {
  thread_id = "t-eng"
}

message "m" {
  for_each = toset(["a", "b", "c"])
  group    = group.eng
  send_at  = "2027-03-02T09:00:00Z"
  expires_after = "1d"
  text     = "hello ${each.key}"
}
`), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tests"), 0o755))
	path := filepath.Join(dir, "tests", "x.test.hcl")
	require.NoError(t, os.WriteFile(path, []byte(`
run "before" {
  at = "2027-03-02T09:30:00Z"
  assert {
    condition     = plan.summary.send == 3
    error_message = "three to send"
  }
}
run "send" {
  at      = "2027-03-02T09:30:00Z"
  command = "apply"
  assert {
    condition     = apply.sent == 3 && apply.failed == 0
    error_message = "sent ${apply.sent}"
  }
}
run "after" {
  at = "2027-03-02T12:30:00Z"
  assert {
    condition     = plan.summary.noop == 3 && plan.summary.send == 0
    error_message = "all three recorded as sent"
  }
  assert {
    condition     = apply == null
    error_message = "a plan run has no apply"
  }
}
run "wrong" {
  at = "2027-03-02T12:30:00Z"
  assert {
    condition     = message.m["a"].action == "send"
    error_message = "It was ${message.m["a"].action}."
  }
}
`), 0o644))
	f, diags := Parse(path, "tests/x.test.hcl")
	require.False(t, diags.HasErrors(), "%s", diags)
	done := make(chan *FileResult)
	go func() { done <- RunFile(f, Options{Dir: dir, Getenv: func(string) string { return "" }}) }()
	var res *FileResult
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("an apply run waited for its rate limit in real time")
	}
	require.Len(t, res.Runs, 4)
	for _, r := range res.Runs[:3] {
		assert.True(t, r.Passed, "%s: %s", r.Name, details(r.Diags))
	}
	assert.False(t, res.Runs[3].Passed)
	assert.Contains(t, details(res.Runs[3].Diags), "It was noop.")
}
