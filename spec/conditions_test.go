package spec

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

const checksGroups = `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}

group "eng" {
  thread_id = "t-eng"
}

group "ops" {
  thread_id = "t-ops"
  timezone  = "America/New_York"
}

variable "token" {
  type      = string
  sensitive = true
  default   = "s3cret-token"
}
`

// loadChecks loads a configuration made of checksGroups and body at a
// plan's clock.
func loadChecks(t *testing.T, body string) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "groups.hcl", checksGroups)
	write(t, dir, "main.hcl", body)
	return Load(dir, LoadOptions{At: time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)})
}

// results is every check and precondition result, as "ADDR#INDEX
// severity pass|fail: message".
func results(cfg *Config) []string {
	var out []string
	add := func(r *CheckResult) {
		s := r.Addr + "#" + string(rune('0'+r.Index)) + " " + string(r.Severity) + " "
		if r.Passed {
			s += "pass"
		} else {
			s += "fail: " + r.Message
		}
		out = append(out, s)
	}
	for _, in := range cfg.Instances {
		for _, r := range in.Preconditions {
			add(r)
		}
	}
	for _, r := range cfg.Checks {
		add(r)
	}
	return out
}

func TestPreconditionsSeeEachInstanceInItsZone(t *testing.T) {
	cfg, diags := loadChecks(t, `
message "launch" {
  for_each = { eng = group.eng, ops = group.ops }
  group    = each.value
  send_at  = "2027-03-02 03:00"
  text     = "Launch day"

  precondition {
    condition     = tonumber(formatdate("h", self.send_at)) >= 8
    error_message = "${self.address} goes out at ${formatdate("hh:mm", self.send_at)} in ${self.timezone}, inside quiet hours (before 08:00)."
  }
  precondition {
    severity      = "warning"
    condition     = endswith(self.text, "-- the team")
    error_message = "Sign the message."
  }
}
`)
	require.False(t, diags.HasErrors(), "%s", diags)
	assert.Equal(t, []string{
		`message.launch["eng"]#0 error fail: message.launch["eng"] goes out at 03:00 in Europe/Berlin, inside quiet hours (before 08:00).`,
		`message.launch["eng"]#1 warning fail: Sign the message.`,
		// The ops group is in New York: 03:00 there is a wall time of its
		// own, still inside quiet hours.
		`message.launch["ops"]#0 error fail: message.launch["ops"] goes out at 03:00 in America/New_York, inside quiet hours (before 08:00).`,
		`message.launch["ops"]#1 warning fail: Sign the message.`,
	}, results(cfg))
	r := cfg.Instances[0].Preconditions[0]
	assert.Equal(t, "message.launch", r.Name())
	assert.Equal(t, "main.hcl", r.Range.Filename[strings.LastIndex(r.Range.Filename, "/")+1:])
	assert.Equal(t, 9, r.Range.Start.Line)
}

// Quiet hours are read on the 24-hour clock ("h"; formatdate's "H" is the
// 12-hour one): 22:30 local fails, 12:30 passes.
func TestQuietHoursOnTheTwentyFourHourClock(t *testing.T) {
	cfg, diags := loadChecks(t, `
message "m" {
  for_each = { late = "22:30", noon = "12:30" }
  group    = group.eng
  send_at  = "2027-03-02 ${each.value}"
  text     = "x"
  precondition {
    condition     = tonumber(formatdate("h", self.send_at)) < 21
    error_message = "${self.key} at ${formatdate("hh:mm", self.send_at)} is after 21:00."
  }
}
`)
	require.False(t, diags.HasErrors(), "%s", diags)
	assert.Equal(t, []string{
		`message.m["noon"]#0 error pass`,
		`message.m["late"]#0 error fail: late at 22:30 is after 21:00.`,
	}, results(cfg), "in send order")
}

func TestCheckBlocksSeeEveryMessage(t *testing.T) {
	cfg, diags := loadChecks(t, `
message "a" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "one"
}

message "b" {
  for_each = toset(["x", "y"])
  group    = group.eng
  send_at  = "2027-03-02 1${length(each.key)}:00"
  text     = "two ${each.key}"
}

message "c" {
  group   = group.ops
  send_at = "2027-03-02 09:00"
  media {
    url  = "https://example.com/a.png"
    type = "image"
  }
}

check "daily_cap" {
  severity = "error"
  assert {
    condition = alltrue([
      for day, ms in { for m in messages : "${m.group} ${formatdate("YYYY-MM-DD", m.send_at)}" => m... } :
      length(ms) <= 2
    ])
    error_message = "A group gets at most 2 messages a local day."
  }
}

check "captions" {
  assert {
    condition     = alltrue([for m in messages : m.media == null || m.media.caption != ""])
    error_message = "Every image has a caption."
  }
  assert {
    condition     = message.a.text == "one" && length(message.b) == 2 && message.b["x"].group == "eng"
    error_message = "unreachable"
  }
}
`)
	require.False(t, diags.HasErrors(), "%s", diags)
	assert.Equal(t, []string{
		"check.captions#0 warning fail: Every image has a caption.",
		"check.captions#1 warning pass",
		"check.daily_cap#0 error fail: A group gets at most 2 messages a local day.",
	}, results(cfg))
	assert.Equal(t, "2 checks failed (1 error, 1 warning)", CheckSummary(cfg.Checks))
}

func TestConditionsWithholdSensitiveErrorMessages(t *testing.T) {
	cfg, diags := loadChecks(t, `
message "secret" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "Join with ${var.token}"

  precondition {
    condition     = length(self.text) < 10
    error_message = "Too long: ${self.text}"
  }
}
`)
	require.False(t, diags.HasErrors(), "%s", diags)
	got := results(cfg)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "refers to sensitive values and is not shown")
	assert.NotContains(t, got[0], "s3cret")
}

func TestConditionReferenceErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, summary, detail string
	}{
		{"self outside", `
message "m" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = self.text
}`, `Reference to "self" outside a precondition`, "only in a message's precondition block"},
		{"self attribute", `
message "m" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "x"
  precondition {
    condition     = self.sent_at != ""
    error_message = "x"
  }
}`, `Unsupported attribute of "self"`, `Did you mean "send_at"?`},
		{"message outside check", `
message "m" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = message.m.text
}`, "Unknown variable", "only in a check block"},
		{"undeclared message", `
message "standup" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "x"
}
check "c" {
  assert {
    condition     = message.stanup.text != ""
    error_message = "x"
  }
}`, "Reference to undeclared message", `Did you mean "standup"?`},
		{"severity", `
check "c" {
  severity = "fatal"
  assert {
    condition     = true
    error_message = "x"
  }
}`, "Invalid severity", `"error"`},
		{"no assert", `
check "c" {
}`, "Missing assert block", "at least one assert"},
		{"not a bool", `
check "c" {
  assert {
    condition     = "yes please"
    error_message = "x"
  }
}`, "Incorrect attribute value type", "bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := loadChecks(t, tc.body)
			require.True(t, diags.HasErrors())
			var found bool
			for _, d := range diags {
				if d.Summary == tc.summary {
					found = true
					assert.Contains(t, d.Detail, tc.detail)
					assert.NotNil(t, d.Subject)
				}
			}
			assert.True(t, found, "no %q in %s", tc.summary, diags)
		})
	}
}

func TestValidateEvaluatesNoCondition(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "groups.hcl", checksGroups)
	write(t, dir, "main.hcl", `
message "m" {
  group   = group.eng
  send_at = "2027-03-02 03:00"
  text    = "x"
  precondition {
    condition     = false
    error_message = "never true"
  }
}
check "c" {
  assert {
    condition     = false
    error_message = "never true"
  }
}`)
	cfg, diags := Load(dir, LoadOptions{})
	require.False(t, diags.HasErrors(), "%s", diags)
	assert.Empty(t, results(cfg))
}

func TestModuleChecksAreAddressedInTheirModule(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "groups.hcl", checksGroups)
	write(t, dir, "main.hcl", `
module "city" {
  source = "./city"
}
check "all" {
  assert {
    condition     = length(messages) == 2
    error_message = "The root sees the module's messages too."
  }
}
message "root" {
  group   = group.eng
  send_at = "2027-03-02 09:00"
  text    = "root"
}`)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "city"), 0o755))
	write(t, dir, "city/main.hcl", `
group "g" {
  thread_id = "t-city"
}
message "hello" {
  group   = group.g
  send_at = "2027-03-02 09:00"
  text    = "hello"
}
check "own" {
  severity = "error"
  assert {
    condition     = length(messages) == 2
    error_message = "A module sees only its own: ${length(messages)}."
  }
}`)
	cfg, diags := Load(dir, LoadOptions{At: time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)})
	require.False(t, diags.HasErrors(), "%s", diags)
	assert.Equal(t, []string{
		"check.all#0 warning pass",
		"module.city.check.own#0 error fail: A module sees only its own: 1.",
	}, results(cfg))
}

func TestRunBlockInTheConfigurationSaysWhereTestsGo(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "groups.hcl", checksGroups)
	write(t, dir, "launch.test.hcl", "run \"r\" {\n  at = \"2027-03-02T07:00:00Z\"\n}\n")
	_, diags := Load(dir, LoadOptions{})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags[0].Detail, "run blocks belong in test files (NAME.test.hcl) under tests/")
}
