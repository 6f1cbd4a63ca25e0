package spec

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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

// TestModuleTimezoneAtCaller: a misspelled time zone passed into a module
// is reported once per cause at the caller's argument, with a suggestion,
// and the wall times that would have used it report nothing more.
func TestModuleTimezoneAtCaller(t *testing.T) {
	got := loadDiagLines(t, filepath.Join("testdata", "invalid", "module_timezone"))
	require.Equal(t, []diagLine{
		{"main.hcl", 8, "Unknown time zone", `"Europe/Berln" is not a time zone herald knows: did you mean "Europe/Berlin"? Time zones are IANA names such as "Europe/Berlin", "America/New_York" or "UTC". It is the value module.city gives var.timezone, used at city/main.hcl:7.`},
		{"main.hcl", 14, "Unknown time zone", `"america/new_york" is not a time zone herald knows: did you mean "America/New_York"? Time zones are IANA names such as "Europe/Berlin", "America/New_York" or "UTC". It is the value module.towns[*] gives var.timezone, used at city/main.hcl:7. (in every instance of module.towns: "a" and "b")`},
	}, got)
}

// TestInvalidProviderZoneNoFollowOns: a provider timezone that is set but
// invalid is the one error; wall times under it say nothing more.
func TestInvalidProviderZoneNoFollowOns(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.hcl", `
provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berln"
}
group "g" {
  thread_id = "t"
}
message "once" {
  group   = group.g
  send_at = "2026-12-01 09:00"
  text    = "x"
}
message "weekly" {
  group = group.g
  repeat {
    cron = "0 9 * * MON"
    from = "2026-12-01 00:00"
  }
  text = "x"
}
`)
	got := loadDiagLines(t, dir)
	require.Equal(t, []diagLine{
		{"main.hcl", 4, "Unknown time zone", `"Europe/Berln" is not a time zone herald knows: did you mean "Europe/Berlin"? Time zones are IANA names such as "Europe/Berlin", "America/New_York" or "UTC".`},
	}, got)
}

func TestSuggestZone(t *testing.T) {
	for given, want := range map[string]string{
		"Europe/Berln":      "Europe/Berlin",
		"europe/berlin":     "Europe/Berlin",
		"Amerca/New_York":   "America/New_York",
		"Berlin":            "Europe/Berlin",
		"new york":          "America/New_York",
		"UTC+2":             "",
		"Mars/Olympus_Mons": "",
	} {
		require.Equal(t, want, suggestZone(given), given)
	}
}

// TestZoneNamesLoad checks the suggestion list against the compiled-in
// time zone database.
func TestZoneNamesLoad(t *testing.T) {
	names := zoneNames()
	require.Greater(t, len(names), 400)
	for _, n := range names {
		_, err := time.LoadLocation(n)
		require.NoError(t, err, n)
	}
}
