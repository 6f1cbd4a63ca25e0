package command

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/testkit"
)

// result is what one run of herald left behind.
type result struct {
	code           int
	stdout, stderr string
}

// runMain runs herald in dir with args, standard input stdin, and no
// terminal anywhere.
func runMain(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{
		Dir:     dir,
		Stdin:   strings.NewReader(stdin),
		Stdout:  &out,
		Stderr:  &errOut,
		Getenv:  testPlanKeyOnly,
		Environ: func() []string { return nil },
		Now:     func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) },
		Version: "1.2.3",
	}
	code := Main(context.Background(), env, args)
	return result{code, out.String(), errOut.String()}
}

func testdataDir(t *testing.T, parts ...string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	require.NoError(t, err)
	return abs
}

func TestMainGlobalOptions(t *testing.T) {
	base := testdataDir(t, "validate")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"chdir single dash", []string{"-chdir=valid", "validate"}, 0, "The configuration is valid.", ""},
		{"chdir double dash", []string{"--chdir=valid", "validate"}, 0, "The configuration is valid.", ""},
		{"chdir separate value", []string{"-chdir", "valid", "validate"}, 0, "The configuration is valid.", ""},
		{"chdir absolute", []string{"-chdir=" + filepath.Join(base, "valid"), "validate"}, 0, "The configuration is valid.", ""},
		{"chdir to invalid config", []string{"-chdir=invalid", "validate"}, 1, "", "Missing required argument"},
		{"chdir missing", []string{"-chdir=nowhere", "validate"}, 1, "", "Error: -chdir:"},
		{"chdir to a file", []string{"-chdir=valid/main.hcl", "validate"}, 1, "", "is not a directory"},
		{"chdir after the command", []string{"validate", "-chdir=valid"}, 1, "", "flag provided but not defined: -chdir"},
		{"unknown global flag", []string{"-bogus", "validate"}, 1, "", "Error: flag provided but not defined: -bogus"},
		{"no command", nil, 1, "", "Usage: herald"},
		{"unknown command", []string{"valdate"}, 1, "", `Error: unknown command "valdate"; did you mean "validate"?`},
		{"unknown command far from any", []string{"xyzzyplugh"}, 1, "", `Error: unknown command "xyzzyplugh"` + "\n"},
		{"unknown short command not close", []string{"foo"}, 1, "", `Error: unknown command "foo"` + "\n"},
		{"unknown command with swapped letters", []string{"paln"}, 1, "", `Error: unknown command "paln"; did you mean "plan"?`},
		{"help", []string{"help"}, 0, "Usage: herald [global options] <command> [args]", ""},
		{"-h", []string{"-h"}, 0, "Usage: herald [global options] <command> [args]", ""},
		{"--help", []string{"--help"}, 0, "Usage: herald [global options] <command> [args]", ""},
		{"help for a command", []string{"help", "validate"}, 0, "Usage: herald validate [options]", ""},
		{"-help before a command", []string{"-help", "fmt"}, 0, "Usage: herald fmt [options] [PATH...]", ""},
		{"command -h", []string{"validate", "-h"}, 0, "Usage: herald validate [options]", ""},
		{"command --help", []string{"fmt", "--help"}, 0, "-recursive", ""},
		{"help for an unknown command", []string{"help", "nope"}, 1, "", `Error: no help for "nope"`},
		{"-v", []string{"-v"}, 0, "herald v1.2.3\n", ""},
		{"--version", []string{"--version"}, 0, "herald v1.2.3\n", ""},
		{"version", []string{"version"}, 0, "herald v1.2.3\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, base, "", tt.args...)
			assert.Equal(t, tt.wantCode, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tt.wantStdout)
			assert.Contains(t, r.stderr, tt.wantStderr)
			if tt.wantStdout == "" {
				assert.Empty(t, r.stdout)
			}
			if tt.wantStderr == "" {
				assert.Empty(t, r.stderr)
			}
		})
	}
}

func TestMainUnknownCommandPrintsUsage(t *testing.T) {
	r := runMain(t, t.TempDir(), "", "nope")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Usage: herald [global options] <command> [args]")
	assert.Contains(t, r.stderr, "Commands:")
}

func TestUsageListsEveryCommand(t *testing.T) {
	r := runMain(t, t.TempDir(), "", "help")
	require.Equal(t, 0, r.code)
	for _, c := range All() {
		assert.Regexp(t, `(?m)^  `+c.Name+` +`+regexpQuote(c.Synopsis)+`$`, r.stdout)
	}
	for _, name := range []string{"fmt", "help", "validate", "version"} {
		_, ok := Lookup(name)
		assert.True(t, ok, name)
	}
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestExitStatus(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantCode   int
		wantStderr string
	}{
		{"success", context.Background(), nil, 0, ""},
		{"plain error is printed", context.Background(), errors.New("boom"), 1, "Error: boom\n"},
		{"reported error is not printed again", context.Background(), ErrReported, 1, ""},
		{"wrapped reported error", context.Background(), errors.Join(errors.New("x"), ErrReported), 1, ""},
		{"exit error keeps its code silently", context.Background(), &ExitError{Code: ExitChanges}, 2, ""},
		{"exit error asking to be reported", context.Background(), &ExitError{Code: 1, Err: errors.New("lock held"), Report: true}, 1, "Error: lock held\n"},
		{"exit error already reported", context.Background(), &ExitError{Code: 3, Err: errors.New("unformatted")}, 3, ""},
		{"interrupted", canceled, context.Canceled, ExitInterrupted, "Error: interrupted\n"},
		{"canceled without a signal is an error", context.Background(), context.Canceled, 1, "Error: context canceled\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			v := views.NewView(views.Streams{Stdout: io.Discard, Stderr: &stderr}, false)
			assert.Equal(t, tt.wantCode, exitStatus(tt.ctx, v, tt.err))
			assert.Equal(t, tt.wantStderr, stderr.String())
		})
	}
}

// TestBinary builds herald and runs it as a user would, to check that the
// process wiring (arguments, exit codes, streams) matches what Main does.
func TestBinary(t *testing.T) {
	bin, err := testkit.Build(t.TempDir(), testkit.BuildOptions{Root: "..", Tags: []string{clock.TestBuildTag}, LDFlags: "-X main.version=9.8.7"})
	require.NoError(t, err)

	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"-chdir=" + testdataDir(t, "validate", "valid"), "validate"}, 0, "The configuration is valid.\n", ""},
		{[]string{"--chdir=" + testdataDir(t, "validate", "invalid"), "validate", "-no-color"}, 1, "", "Error: Missing required argument"},
		{[]string{"-chdir=" + testdataDir(t, "validate", "invalid"), "validate", "--json"}, 1, `"valid": false`, ""},
		{[]string{"version"}, 0, "herald v9.8.7\n", ""},
		{[]string{"nope"}, 1, "", `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Env = append(os.Environ(), "NO_COLOR=")
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCode, code, "stderr: %s", stderr.String())
			assert.Contains(t, stdout.String(), tt.wantStdout)
			assert.Contains(t, stderr.String(), tt.wantStderr)
			// Output to a pipe is never coloured.
			assert.NotContains(t, stdout.String()+stderr.String(), "\x1b[")
		})
	}
}
