package command

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hintConfig = `
provider "a1base" {
  account_id = "acc_hint"
  from       = "+14155552671"
}

variable "greeting" {
  type = string
}

variable "code" {
  type      = string
  sensitive = true
}

variable "team" {
  type    = string
  default = "nobody"
}

group "eng" {
  thread_id = "t-eng"
}

message "m" {
  for_each = toset(["a", "b"])
  group    = group.eng
  send_at  = "2026-11-30T09:00:00Z"
  text     = "${var.greeting}, ${var.team} (${each.key})"
}

message "secret" {
  group   = group.eng
  send_at = "2026-11-30T09:00:00Z"
  text    = "code ${var.code}"
}

message "later" {
  group   = group.eng
  send_at = "2026-12-05T09:00:00Z"
  text    = "later"
}
`

// splitShell has a real shell split a suggested command line into words.
func splitShell(t *testing.T, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	out, err := exec.Command(sh, "-c", `for w in `+line+`; do printf '%s\n' "$w"; done`).Output()
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// TestPlanHintRepeatsFlags checks that the apply plan suggests repeats
// the flags the plan was made with, shell-quoted, so that running it as
// printed sends what the plan showed.
func TestPlanHintRepeatsFlags(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "my project")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hintConfig), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "eng team.vars.hcl"), []byte(`team = "eng's team"`+"\n"), 0o644))

	r := runMain(t, parent, "", "-chdir=my project", "plan", "-at=2026-12-01T08:00:00Z", "-state=sandbox state.json",
		"-var", "greeting=Hello world", "-var-file=eng team.vars.hcl", "-var=code=4711",
		`-target=message.m["a"]`, "-target=message.secret", "-target=message.later")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Plan: 2 to send, 1 waiting.")
	want := `herald -chdir='my project' apply -state='sandbox state.json' -var='greeting=Hello world' -var-file='eng team.vars.hcl' -var='code=(sensitive)' -at=2026-12-01T08:00:00Z -target='message.m["a"]' -target=message.secret -target=message.later`
	assert.Contains(t, r.stdout, "\nTo send the 2 due messages, run:\n  "+want+"\nwith the value of the sensitive variable code in place of (sensitive).\n")
	assert.NotContains(t, r.stdout, "4711")

	// Run the hint as printed, with the secret put back, in the sandbox.
	line := strings.Replace(r.stdout[strings.Index(r.stdout, "herald -chdir="):], "(sensitive)", "4711", 1)
	line = line[:strings.Index(line, "\n")]
	words := splitShell(t, line)
	require.Equal(t, "herald", words[0])
	words = append(words[1:], "-sandbox", "-auto-approve")
	apply := runMain(t, parent, "", words...)
	require.Equal(t, 0, apply.code, apply.stdout+apply.stderr)
	assert.Contains(t, apply.stdout, `"Hello world, eng's team (a)"`)
	assert.Contains(t, apply.stdout, `from +14155552671: "(sensitive)"`)
	assert.NotContains(t, apply.stdout, "(b)", "message.m[\"b\"] was not targeted")
	assert.Contains(t, apply.stdout, "Apply complete: 2 sent")
	assert.FileExists(t, filepath.Join(dir, "sandbox state.json"))

	// A saved plan's hint repeats all but -at and -target, which the plan
	// file fixes; applied as printed, it sends the plan.
	out := runMain(t, parent, "", "-chdir=my project", "plan", "-state=other.json", "-var=greeting=hi", "-var=code=1", "-out=my plan", `-target=message.m["b"]`)
	require.Equal(t, 0, out.code, out.stderr)
	want = `herald -chdir='my project' apply -state=other.json -var=greeting=hi -var='code=(sensitive)' 'my plan'`
	assert.Contains(t, out.stdout, "To send exactly these messages, run:\n  "+want+"\nwith the value of the sensitive variable code in place of (sensitive).\n")
	words = splitShell(t, strings.Replace(want, "(sensitive)", "1", 1))
	// -sandbox goes before the plan file, where flags are read.
	words = append(words[:len(words)-1], "-sandbox", words[len(words)-1])
	saved := runMain(t, parent, "", words[1:]...)
	require.Equal(t, 0, saved.code, saved.stdout+saved.stderr)
	assert.Contains(t, saved.stdout, `"hi, nobody (b)"`)
	assert.Contains(t, saved.stdout, "Apply complete: 1 sent")

	// Another value than the plan's is refused.
	other := runMain(t, parent, "", "-chdir=my project", "apply", "-sandbox", "-state=other.json", "-var=greeting=bye", "-var=code=1", "my plan")
	assert.Equal(t, 1, other.code)
	assert.Contains(t, other.stderr, "the configuration or its variable values changed since the plan was made")

	// Without flags, the hint is the bare command.
	bare := runMain(t, dir, "", "plan", "-var=greeting=hi", "-var=code=1", "-target=message.later", "-at=2026-12-06T08:00:00Z")
	require.Equal(t, 0, bare.code, bare.stderr)
	assert.Contains(t, bare.stdout, "\nTo send the due message, run:\n  herald apply -var=greeting=hi -var='code=(sensitive)' -at=2026-12-06T08:00:00Z -target=message.later\n")
}
