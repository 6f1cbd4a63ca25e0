package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// diagLine is a diagnostic as a test compares it: where and what.
type diagLine struct {
	File    string
	Line    int
	Summary string
	Detail  string
}

func loadDiagLines(t *testing.T, dir string) []diagLine {
	t.Helper()
	_, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
	var out []diagLine
	for _, d := range diags {
		l := diagLine{Summary: d.Summary, Detail: d.Detail}
		if d.Subject != nil {
			rel, err := filepath.Rel(dir, d.Subject.Filename)
			require.NoError(t, err)
			l.File, l.Line = filepath.ToSlash(rel), d.Subject.Start.Line
		}
		out = append(out, l)
	}
	return out
}

// TestModuleForEachErrorsOnce: a mistake in a module called with for_each
// that does not depend on the instance is one diagnostic naming every
// instance; one found in a single instance names that one; and import and
// moved blocks that name a message that failed to evaluate add nothing.
func TestModuleForEachErrorsOnce(t *testing.T) {
	got := loadDiagLines(t, filepath.Join("testdata", "invalid", "module_for_each_errors"))
	require.Equal(t, []diagLine{
		{"city/main.hcl", 10, "Invalid expires_after", `"2x" is not a duration: expected a number with a unit (d, h, m or s), such as "6h", "90m", "1h30m" or "14d" (a day is 24 hours). (in module.city[*].message.hello, in every instance of module.city: "berlin", "paris" and "rome")`},
		{"city/main.hcl", 16, "Invalid send_at", `"later" is not an RFC 3339 time with an offset, such as "2026-12-01T09:00:00+01:00" or "2026-12-01T08:00:00Z". (in module.city["rome"].message.only_rome)`},
		{"main.hcl", 18, "Invalid expires_after", `"soon" is not a duration: expected a number with a unit (d, h, m or s), such as "6h", "90m", "1h30m" or "14d" (a day is 24 hours).`},
		{"main.hcl", 39, "Import to a message that does not exist", `The configuration has no module.city["berlin"].message.helo; an import block's to must name a message that exists. Did you mean "module.city[\"berlin\"].message.hello"?`},
	}, got)
}

// TestModuleForEachSomeInstances: a problem in some instances of a module
// call, not all, names those.
func TestModuleForEachSomeInstances(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
provider "a1base" {
  from = "+14155552671"
}
module "city" {
  for_each = toset(["a", "b", "c", "d", "e"])
  source   = "./city"
  name     = each.key
}
`)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "city"), 0o755))
	write(t, dir, "city/main.hcl", `
variable "name" {}
group "g" {
  thread_id = "t-${var.name}"
}
message "m" {
  group   = group.g
  send_at = var.name == "e" ? "2026-12-01T09:00:00Z" : "later"
  text    = "x"
}
`)
	got := loadDiagLines(t, dir)
	require.Equal(t, []diagLine{
		{"city/main.hcl", 8, "Invalid send_at", `"later" is not an RFC 3339 time with an offset, such as "2026-12-01T09:00:00+01:00" or "2026-12-01T08:00:00Z". (in module.city[*].message.m, in the instances "a", "b", "c" and 1 more of module.city)`},
	}, got)
}
