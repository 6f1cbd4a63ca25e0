package command

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
)

func TestValidateGolden(t *testing.T) {
	tests := []struct {
		dir      string
		json     bool
		wantCode int
	}{
		{"valid", false, 0},
		{"valid", true, 0},
		{"invalid", false, 1},
		{"invalid", true, 1},
		{"syntax", false, 1},
		{"syntax", true, 1},
		{"unterminated", false, 1},
		{"unterminated", true, 1},
	}
	for _, tt := range tests {
		name := tt.dir + ".out.txt"
		args := []string{"validate"}
		if tt.json {
			name = tt.dir + ".out.json"
			args = append(args, "-json")
		}
		t.Run(name, func(t *testing.T) {
			r := runMain(t, testdataDir(t, "validate", tt.dir), "", args...)
			assert.Equal(t, tt.wantCode, r.code, r.stderr)
			if !tt.json {
				// Errors go to stderr, the verdict to stdout; one golden
				// file holds both, each under its name.
				checkGolden(t, "validate/"+name, []byte("== stdout\n"+r.stdout+"== stderr\n"+r.stderr))
			} else {
				checkGolden(t, "validate/"+name, []byte(r.stdout))
				var doc views.ValidateDocument
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
				assert.Equal(t, tt.wantCode == 0, doc.Valid)
				assert.Equal(t, "1", doc.FormatVersion)
				assert.Len(t, doc.Diagnostics, doc.ErrorCount+doc.WarningCount)
				assert.Empty(t, r.stderr)
			}
		})
	}
}

// errorMarkers finds the "# ERROR: <summary>" comments of a fixture
// directory: the diagnostics the loader must report, by file and line.
func errorMarkers(t *testing.T, dir string) map[string]string {
	t.Helper()
	marker := regexp.MustCompile(`#\s*ERROR:\s*(.+)$`)
	want := map[string]string{}
	names, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	require.NoError(t, err)
	for _, name := range names {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			if m := marker.FindStringSubmatch(sc.Text()); m != nil {
				want[filepath.Base(name)+":"+strconv.Itoa(line)] = strings.TrimSpace(m[1])
			}
		}
		f.Close()
	}
	require.NotEmpty(t, want, "fixture %s marks no error", dir)
	return want
}

func TestValidateDiagnosticsLandOnMarkedLines(t *testing.T) {
	for _, fixture := range []string{"invalid", "syntax", "unterminated"} {
		t.Run(fixture, func(t *testing.T) {
			dir := testdataDir(t, "validate", fixture)
			want := errorMarkers(t, dir)
			r := runMain(t, dir, "", "validate", "-json")
			require.Equal(t, 1, r.code)
			var doc views.ValidateDocument
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
			got := map[string]string{}
			for _, d := range doc.Diagnostics {
				if d.Severity != "error" {
					continue
				}
				require.NotNil(t, d.Range, "diagnostic %q has no range", d.Summary)
				require.NotNil(t, d.Snippet, "diagnostic %q has no snippet", d.Summary)
				assert.False(t, filepath.IsAbs(d.Range.Filename), "file names are relative to the working directory: %s", d.Range.Filename)
				src, err := os.ReadFile(filepath.Join(dir, d.Range.Filename))
				require.NoError(t, err)
				line := strings.Split(string(src), "\n")[d.Range.Start.Line-1]
				assert.Contains(t, d.Snippet.Code, line, "the snippet shows the line the diagnostic points at")
				got[d.Range.Filename+":"+strconv.Itoa(d.Range.Start.Line)] = d.Summary
			}
			assert.Equal(t, want, got)

			// The human form names the same file and line and shows the source.
			r = runMain(t, dir, "", "validate")
			require.Equal(t, 1, r.code)
			for at, summary := range want {
				file, line, _ := strings.Cut(at, ":")
				assert.Contains(t, r.stderr, "Error: "+summary)
				assert.Contains(t, r.stderr, "on "+file+" line "+line)
				assert.Regexp(t, `(?m)^\s+`+line+`: `, r.stderr)
			}
			assert.NotContains(t, r.stdout, "valid.")
		})
	}
}

func TestValidateColour(t *testing.T) {
	dir := testdataDir(t, "validate", "invalid")
	tests := []struct {
		name       string
		args       []string
		noColorEnv string
		wantColor  bool
	}{
		{"terminal", nil, "", true},
		{"-no-color", []string{"-no-color"}, "", false},
		{"--no-color", []string{"--no-color"}, "", false},
		{"NO_COLOR", nil, "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := &Env{
				Dir: dir, Stdout: &out, Stderr: &errOut,
				StdoutIsTerminal: true, StderrIsTerminal: true,
				Getenv: func(k string) string {
					if k == "NO_COLOR" {
						return tt.noColorEnv
					}
					return ""
				},
			}
			code := Main(context.Background(), env, append([]string{"validate"}, tt.args...))
			assert.Equal(t, 1, code)
			assert.Equal(t, tt.wantColor, strings.Contains(errOut.String(), "\x1b[31mError"), errOut.String())
			assert.Contains(t, errOut.String(), "Missing required argument")
		})
	}
}

func TestValidateSuccessIsGreenOnATerminal(t *testing.T) {
	var out bytes.Buffer
	env := &Env{
		Dir: testdataDir(t, "validate", "valid"), Stdout: &out, Stderr: &out,
		StdoutIsTerminal: true, Getenv: func(string) string { return "" },
	}
	require.Equal(t, 0, Main(context.Background(), env, []string{"validate"}))
	assert.Equal(t, "\x1b[32mThe configuration is valid.\x1b[0m\n", out.String())
}

// TestValidateVariables checks that -var, -var-file and HERALD_VAR_* reach
// the loader.
func TestValidateVariables(t *testing.T) {
	dir := testdataDir(t, "validate", "vars")
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr string
	}{
		{"missing", nil, nil, 1, "No value for required variable"},
		{"-var", []string{"-var", "thread=t-eng"}, nil, 0, ""},
		{"--var=", []string{"--var=thread=t-eng"}, nil, 0, ""},
		{"-var-file", []string{"-var-file=prod.vars.hcl"}, nil, 0, ""},
		{"environment", nil, map[string]string{"HERALD_VAR_thread": "t-env"}, 0, ""},
		{"missing var file", []string{"-var-file=nope.vars.hcl"}, nil, 1, "nope.vars.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := &Env{
				Dir: dir, Stdout: &out, Stderr: &errOut,
				Getenv: func(k string) string { return tt.env[k] },
			}
			code := Main(context.Background(), env, append([]string{"validate"}, tt.args...))
			assert.Equal(t, tt.wantCode, code, errOut.String())
			assert.Contains(t, errOut.String(), tt.wantStderr)
			if tt.wantCode == 0 {
				assert.Equal(t, "The configuration is valid.\n", out.String())
				assert.Empty(t, errOut.String())
			}
		})
	}
}

// TestValidateDayDurations: durations count days; a duration herald cannot
// read is an error on its line that says how to write one.
func TestValidateDayDurations(t *testing.T) {
	dir := t.TempDir()
	const cfg = `provider "a1base" {
  from          = "+14155552671"
  expires_after = "14d"
}
group "g" {
  thread_id      = "t"
  unknown_settle = "1d12h"
}
message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "x"
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644))
	r := runMain(t, dir, "", "validate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "The configuration is valid.\n", r.stdout)

	// The plan's expiry is 14 days of 24 hours after send_at.
	p := runMain(t, dir, "", "plan", "-json", "-at=2026-12-31T00:00:00Z", "-state="+filepath.Join(t.TempDir(), "s.json"))
	require.Equal(t, 0, p.code, p.stderr)
	assert.Contains(t, p.stdout, `"expires_at": "2027-01-15T00:00:00Z"`)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(cfg, `"14d"`, `"14 days"`, 1)), 0o644))
	js := runMain(t, dir, "", "validate", "-json")
	assert.Equal(t, 1, js.code)
	var doc views.ValidateDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	require.Equal(t, 1, doc.ErrorCount)
	d := doc.Diagnostics[0]
	assert.Equal(t, "Invalid expires_after", d.Summary)
	assert.Contains(t, d.Detail, `"14 days" is not a duration`)
	assert.Contains(t, d.Detail, `"14d" (a day is 24 hours)`)
	require.NotNil(t, d.Range)
	assert.Equal(t, 3, d.Range.Start.Line)
	assert.Equal(t, 19, d.Range.Start.Column)
}
