package command

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
)

func bufferEnv() (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Env{
		Dir:    "/nonexistent",
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(string) string { return "" },
	}, &out, &errOut
}

func TestParseValidateFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       validateOptions
		wantCode   int // exit code of the error; -1 for none
		wantStdout string
		wantStderr string
	}{
		{name: "none", args: nil, want: validateOptions{}, wantCode: -1},
		{name: "single dash", args: []string{"-json", "-no-color"}, want: validateOptions{JSON: true, NoColor: true}, wantCode: -1},
		{name: "double dash", args: []string{"--json", "--no-color"}, want: validateOptions{JSON: true, NoColor: true}, wantCode: -1},
		{name: "explicit bool value", args: []string{"-json=true", "--no-color=false"}, want: validateOptions{JSON: true}, wantCode: -1},
		{
			name: "vars keep command-line order across -var and -var-file",
			args: []string{"-var=a=1", "--var-file=prod.vars.hcl", "-var", "b=x=y", "--var=c="},
			want: validateOptions{Vars: []spec.VarArg{
				{Value: "a=1"}, {File: true, Value: "prod.vars.hcl"}, {Value: "b=x=y"}, {Value: "c="},
			}},
			wantCode: -1,
		},
		{name: "var without =", args: []string{"-var=launch_day"}, wantCode: 1, wantStderr: `Error: invalid value "launch_day" for flag -var: expected NAME=VALUE`},
		{name: "var without a name", args: []string{"-var==x"}, wantCode: 1, wantStderr: "expected NAME=VALUE"},
		{name: "empty var-file", args: []string{"-var-file="}, wantCode: 1, wantStderr: "expected a file name"},
		{name: "unknown flag", args: []string{"--out=plan"}, wantCode: 1, wantStderr: "Error: flag provided but not defined: -out\n\nUsage: herald validate [options]"},
		{name: "argument", args: []string{"somedir"}, wantCode: 1, wantStderr: "Error: validate takes no arguments"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantStdout: "Usage: herald validate [options]"},
		{name: "help double dash", args: []string{"--help"}, wantCode: 0, wantStdout: "  -var-file=FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out, errOut := bufferEnv()
			got, err := parseValidateFlags(env, tt.args)
			if tt.wantCode < 0 {
				require.NoError(t, err, errOut.String())
				assert.Equal(t, tt.want, got)
				assert.Empty(t, out.String()+errOut.String())
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, ExitCode(err))
			assert.Contains(t, out.String(), tt.wantStdout)
			assert.Contains(t, errOut.String(), tt.wantStderr)
			if tt.wantCode == 1 {
				assert.True(t, errors.Is(err, ErrReported), "a flag error is reported where it happens")
				assert.Contains(t, errOut.String(), "Options:", "a flag error shows the usage")
				assert.Empty(t, out.String())
			} else {
				assert.Empty(t, errOut.String())
			}
		})
	}
}

func TestParseFmtFlags(t *testing.T) {
	defaults := fmtOptions{Paths: []string{"."}, List: true, Write: true}
	tests := []struct {
		name       string
		args       []string
		want       fmtOptions
		wantStderr string
	}{
		{name: "defaults", args: nil, want: defaults},
		{name: "check writes nothing", args: []string{"-check"}, want: fmtOptions{Paths: []string{"."}, List: true, Check: true}},
		{name: "check wins over write", args: []string{"--check", "--write=true"}, want: fmtOptions{Paths: []string{"."}, List: true, Check: true}},
		{name: "all double dash", args: []string{"--diff", "--recursive", "--list=false", "--write=false", "--no-color", "a", "b.hcl"},
			want: fmtOptions{Paths: []string{"a", "b.hcl"}, Diff: true, Recursive: true, NoColor: true}},
		{name: "stdin", args: []string{"-"}, want: fmtOptions{Paths: []string{"-"}, List: true, Write: true}},
		{name: "flags stop at the first path", args: []string{"dir", "-check"}, want: fmtOptions{Paths: []string{"dir", "-check"}, List: true, Write: true}},
		{name: "stdin with a path", args: []string{"-", "dir"}, wantStderr: `Error: "-" (standard input) cannot be combined with other paths`},
		{name: "bad bool", args: []string{"-list=maybe"}, wantStderr: `Error: invalid boolean value "maybe" for -list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, errOut := bufferEnv()
			got, err := parseFmtFlags(env, tt.args)
			if tt.wantStderr != "" {
				require.ErrorIs(t, err, ErrReported)
				assert.Contains(t, errOut.String(), tt.wantStderr)
				assert.Contains(t, errOut.String(), "Usage: herald fmt [options] [PATH...]")
				return
			}
			require.NoError(t, err, errOut.String())
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStringList(t *testing.T) {
	env, _, _ := bufferEnv()
	fs := newFlagSet("plan", env)
	var targets stringList
	fs.Var(&targets, "target", "Limit to `ADDR`.")
	require.NoError(t, parseFlags(fs, env, []string{"-target=message.a", "--target", "message.b[\"k\"]", "-target=message.c"}))
	assert.Equal(t, stringList{"message.a", `message.b["k"]`, "message.c"}, targets)
	assert.Equal(t, `message.a,message.b["k"],message.c`, targets.String())
	var empty *stringList
	assert.Equal(t, "", empty.String())
}

func TestUsageFormat(t *testing.T) {
	env, out, _ := bufferEnv()
	fs := newFlagSet("demo", env)
	setUsage(fs, "[options] FILE", "Demonstrate the usage layout.")
	fs.Bool("short", false, "A short flag.")
	fs.String("out", "", "Write the plan to `FILE`, which is a long description that has to wrap onto a second line because it is long.")
	fs.Int("parallelism", 10, "Send to at most `N` groups at once.")
	err := parseFlags(fs, env, []string{"-help"})
	require.Equal(t, 0, ExitCode(err))
	want := `Usage: herald demo [options] FILE

  Demonstrate the usage layout.

Options:

  -out=FILE       Write the plan to FILE, which is a long description that
                  has to wrap onto a second line because it is long.
  -parallelism=N  Send to at most N groups at once. Default: 10.
  -short          A short flag.
`
	assert.Equal(t, want, out.String())
	assert.False(t, strings.Contains(out.String(), "\t"))
}
