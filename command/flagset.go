package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/heraldhq/herald/spec"
)

// newFlagSet returns the flag set of the command name. It uses the standard
// flag package, so -out=x, --out=x and -out x all work. Errors and help go
// to env.Stderr; parse it with parseFlags, which prints them herald's way.
func newFlagSet(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	setUsage(fs, "[options]", "")
	return fs
}

// setUsage sets what -h shows besides the options: the arguments after
// "herald NAME" and a description. An empty description falls back to the
// command's synopsis.
func setUsage(fs *flag.FlagSet, args, help string) {
	fs.Usage = func() {
		w := fs.Output()
		text := help
		if text == "" {
			if c, ok := Lookup(fs.Name()); ok {
				text = c.Synopsis + "."
			}
		}
		fmt.Fprintf(w, "Usage: herald %s %s\n", fs.Name(), args)
		if text != "" {
			fmt.Fprintf(w, "\n%s\n", indent(strings.TrimSpace(text), "  "))
		}
		printOptions(w, fs)
	}
}

// errHelp reports that -h was asked for and shown: exit 0.
var errHelp = &ExitError{Code: ExitOK}

// parseFlags parses args. -h or -help prints the usage on stdout and
// returns an error that exits 0; a bad flag prints "Error: ..." and the
// usage on stderr and returns ErrReported (exit 1).
func parseFlags(fs *flag.FlagSet, env *Env, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		fs.SetOutput(env.Stderr)
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(env.Stdout)
		fs.Usage()
		fs.SetOutput(env.Stderr)
		return errHelp
	default:
		fs.SetOutput(env.Stderr)
		return usageError(fs, env, "%s", err)
	}
}

// usageError prints the message and the command's usage on stderr, and
// returns ErrReported.
func usageError(fs *flag.FlagSet, env *Env, format string, args ...any) error {
	newView(env, false).Error(fmt.Errorf(format, args...))
	fmt.Fprintln(env.Stderr)
	out := fs.Output()
	fs.SetOutput(env.Stderr)
	fs.Usage()
	fs.SetOutput(out)
	return ErrReported
}

// printOptions lists the flags as "-name=VALUE  usage", aligned, the way
// Terraform's help reads.
func printOptions(w io.Writer, fs *flag.FlagSet) {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		left := "-" + f.Name
		if value != "" {
			left += "=" + value
		}
		if !isZeroDefault(f) {
			usage += fmt.Sprintf(" Default: %s.", f.DefValue)
		}
		rows = append(rows, row{left, usage})
		if len(left) <= 24 {
			width = max(width, len(left))
		}
	})
	if len(rows) == 0 {
		return
	}
	fmt.Fprint(w, "\nOptions:\n\n")
	pad := strings.Repeat(" ", width+4)
	for _, r := range rows {
		lines := wrap(r.usage, max(76-width-4, 30))
		if len(r.left) > width {
			fmt.Fprintf(w, "  %s\n", r.left)
		} else {
			fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s\n", pad, l)
		}
	}
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return true
	}
	return false
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func indent(text, prefix string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
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
