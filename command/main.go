package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
)

// Main runs herald with args (without the program name) and returns the
// process exit code. It reads the global options, which come before the
// command (-chdir=DIR, -help, -version), runs the command, and maps its
// error to the exit code: the one place where that happens.
func Main(ctx context.Context, env *Env, args []string) int {
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	chdir := fs.String("chdir", "", "")
	var help, version bool
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
	fs.BoolVar(&version, "v", false, "")
	fs.BoolVar(&version, "version", false, "")
	if err := fs.Parse(args); err != nil {
		newView(env, false).UsageError(err, heraldUsage())
		return ExitError1
	}
	e := *env
	if *chdir != "" {
		dir, err := resolveChdir(env.Dir, *chdir)
		if err != nil {
			newView(env, false).Error(err)
			return ExitError1
		}
		e.Dir, e.Chdir = dir, *chdir
	}
	rest := fs.Args()
	switch {
	case version:
		rest = append([]string{"version"}, rest...)
	case help:
		rest = append([]string{"help"}, rest...)
	case len(rest) == 0:
		newView(env, false).Usage(heraldUsage())
		return ExitError1
	}
	c, ok := Lookup(rest[0])
	if !ok {
		msg := fmt.Sprintf("unknown command %q", rest[0])
		if s := suggest(rest[0]); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		newView(env, false).UsageError(errors.New(msg), heraldUsage())
		return ExitError1
	}
	err := c.Run(ctx, &e, rest[1:])
	return exitStatus(ctx, newView(&e, false), err)
}

// exitStatus prints an error not yet reported and returns its exit code.
func exitStatus(ctx context.Context, v *views.View, err error) int {
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		v.Error(errors.New("interrupted"))
		return ExitInterrupted
	}
	var ee *ExitError
	switch {
	case errors.Is(err, ErrReported):
	case errors.As(err, &ee):
		if ee.Report && ee.Err != nil {
			v.Error(ee.Err)
		}
	default:
		v.Error(err)
	}
	return ExitCode(err)
}

// resolveChdir turns -chdir's value into the working directory: relative
// to the current one, and required to be an existing directory.
func resolveChdir(cwd, dir string) (string, error) {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cwd, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("-chdir: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("-chdir: %s is not a directory", dir)
	}
	return filepath.Clean(dir), nil
}

// suggest names the command closest to a mistyped one, if any is close,
// by the same measure as the configuration's "did you mean" suggestions.
func suggest(name string) string {
	names := make([]string, 0)
	for _, c := range All() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return spec.Suggest(name, names)
}

// newView is the base view of a command with the colour choice it was
// given; file names are shown relative to the working directory.
func newView(env *Env, noColor bool) *views.View {
	v := views.NewView(views.Streams{
		Stdout:           env.Stdout,
		Stderr:           env.Stderr,
		StdoutIsTerminal: env.StdoutIsTerminal,
		StderrIsTerminal: env.StderrIsTerminal,
		Getenv:           env.Getenv,
	}, noColor)
	v.BaseDir = env.Dir
	return v
}
