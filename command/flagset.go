package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
)

// newFlagSet returns the flag set of the command name. It uses the standard
// flag package, so -out=x, --out=x and -out x all work. Parse it with
// parseFlags, which prints errors and help herald's way.
func newFlagSet(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	setUsage(fs, "[options]", "")
	return fs
}

// setUsage sets what -h shows besides the options: the arguments after
// "herald NAME" and a description. An empty description falls back to the
// command's synopsis.
func setUsage(fs *flag.FlagSet, args, help string) {
	fs.Usage = func() {
		text := help
		if text == "" {
			if c, ok := Lookup(fs.Name()); ok {
				text = c.Synopsis + "."
			}
		}
		io.WriteString(fs.Output(), views.CommandUsage(fs, args, text))
	}
}

// usageText is the usage setUsage gave fs.
func usageText(fs *flag.FlagSet) string {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	return b.String()
}

// errHelp reports that -h was asked for and shown: exit 0.
var errHelp = &ExitError{Code: ExitOK}

// parseFlags parses args. -h or -help prints the usage on stdout and
// returns an error that exits 0; a bad flag prints "Error: ..." and the
// usage on stderr and returns ErrReported (exit 1).
func parseFlags(fs *flag.FlagSet, env *Env, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		newView(env, false).Help(usageText(fs))
		return errHelp
	default:
		return usageError(fs, env, "%s", err)
	}
}

// usageError prints the message and the command's usage on stderr, and
// returns ErrReported.
func usageError(fs *flag.FlagSet, env *Env, format string, args ...any) error {
	newView(env, false).UsageError(fmt.Errorf(format, args...), usageText(fs))
	return ErrReported
}

// stringList is a repeatable flag (-target, -replace): each use appends.
type stringList []string

func (l *stringList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// varFlag is -var or -var-file. Both append to one list so that values
// given later win whatever flag they came from, as in Terraform.
type varFlag struct {
	args *[]spec.VarArg
	file bool
}

func (f varFlag) String() string { return "" }

func (f varFlag) Set(v string) error {
	if f.file {
		if v == "" {
			return errors.New("expected a file name")
		}
	} else if name, _, ok := strings.Cut(v, "="); !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("expected NAME=VALUE, got %q", v)
	}
	*f.args = append(*f.args, spec.VarArg{File: f.file, Value: v})
	return nil
}

// addFileFlag registers -allow-file-outside-root, on every command that
// loads the configuration.
func addFileFlag(fs *flag.FlagSet, dst *bool) {
	fs.BoolVar(dst, "allow-file-outside-root", false, "Let file, fileexists and templatefile, and symlinked configuration files, read outside the working directory (a module's own directory). Off, a pull request's configuration cannot read the machine's files.")
}

// addVarFlags registers -var and -var-file, collecting both into dst in
// command-line order.
func addVarFlags(fs *flag.FlagSet, dst *[]spec.VarArg) {
	fs.Var(varFlag{args: dst}, "var", "Set a variable, as `'NAME=VALUE'`. Repeatable.")
	fs.Var(varFlag{args: dst, file: true}, "var-file", "Load variable values from the `FILE` (a .vars.hcl file). Repeatable.")
}
