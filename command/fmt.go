package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/atomicfile"
	"github.com/heraldhq/herald/spec/format"
)

func init() {
	register(&Command{
		Name:     "fmt",
		Synopsis: "Rewrite configuration files in the canonical format",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseFmtFlags(env, args)
			if err != nil {
				return err
			}
			return runFmt(ctx, env, opts)
		},
	})
}

type fmtOptions struct {
	// Paths are files and directories as the user gave them; "-" alone is
	// standard input.
	Paths     []string
	List      bool
	Write     bool
	Diff      bool
	Check     bool
	Recursive bool
	NoColor   bool
}

// stdinName stands for standard input in diagnostics and diffs.
const stdinName = "<stdin>"

func parseFmtFlags(env *Env, args []string) (fmtOptions, error) {
	var opts fmtOptions
	fs := newFlagSet("fmt", env)
	setUsage(fs, "[options] [PATH...]", `
Rewrite the *.hcl files (variable files included) of the working directory,
or of each PATH, in the canonical format and style. A PATH may be a
directory or a file; "-" formats standard input to standard output.

With -check nothing is written: the exit status is 3 when a file is not
formatted, 0 when all are, 1 on an error.`)
	fs.BoolVar(&opts.List, "list", true, "List the files whose formatting differs.")
	fs.BoolVar(&opts.Write, "write", true, "Write the result back to the files.")
	fs.BoolVar(&opts.Diff, "diff", false, "Print the changes as a unified diff.")
	fs.BoolVar(&opts.Check, "check", false, "Write nothing; exit 3 when a file is not formatted.")
	fs.BoolVar(&opts.Recursive, "recursive", false, "Also format the subdirectories (hidden ones are skipped).")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	opts.Paths = fs.Args()
	if len(opts.Paths) == 0 {
		opts.Paths = []string{"."}
	}
	if len(opts.Paths) > 1 && slices.Contains(opts.Paths, "-") {
		return opts, usageError(fs, env, `"-" (standard input) cannot be combined with other paths`)
	}
	if opts.Check {
		opts.Write = false
	}
	return opts, nil
}

func runFmt(ctx context.Context, env *Env, opts fmtOptions) error {
	f := &formatter{
		env:  env,
		opts: opts,
		view: views.NewFmt(newView(env, opts.NoColor)),
	}
	if len(opts.Paths) == 1 && opts.Paths[0] == "-" {
		return f.stdin()
	}
	for _, p := range opts.Paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.path(ctx, p)
	}
	switch {
	case f.failed:
		return ErrReported
	case opts.Check && f.unformatted:
		return &ExitError{Code: ExitUnformatted}
	}
	return nil
}

type formatter struct {
	env  *Env
	opts fmtOptions
	view *views.Fmt

	failed      bool // an error was reported: exit 1
	unformatted bool // a file's formatting differs
}

func (f *formatter) fail(err error) {
	f.view.Error(err)
	f.failed = true
}

// path formats the file or directory p, named as the user gave it.
func (f *formatter) path(ctx context.Context, p string) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(f.env.Dir, p)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			f.fail(fmt.Errorf("no file or directory at %s", p))
		} else {
			f.fail(err)
		}
		return
	}
	if !fi.IsDir() {
		if !strings.HasSuffix(abs, ".hcl") {
			f.fail(fmt.Errorf("%s: only .hcl files can be formatted", p))
			return
		}
		f.file(filepath.Clean(p), abs)
		return
	}
	rels, err := format.Files(abs, f.opts.Recursive)
	if err != nil {
		f.fail(err)
	}
	for _, rel := range rels {
		if ctx.Err() != nil {
			return
		}
		f.file(filepath.Join(p, rel), filepath.Join(abs, rel))
	}
}

// file formats one file; name is how it is shown, abs where it is.
func (f *formatter) file(name, abs string) {
	src, err := os.ReadFile(abs)
	if err != nil {
		f.fail(err)
		return
	}
	out, file, diags := format.Source(name, src)
	if diags.HasErrors() {
		f.view.Diagnostics(diags, map[string]*hcl.File{name: file})
		f.failed = true
		return
	}
	if bytes.Equal(src, out) {
		return
	}
	f.unformatted = true
	if f.opts.List {
		f.view.Listed(name)
	}
	if f.opts.Write {
		if err := writeKeepingMode(abs, out); err != nil {
			f.fail(fmt.Errorf("writing %s: %w", name, err))
			return
		}
	}
	if f.opts.Diff {
		f.view.Diff(name, src, out)
	}
}

// stdin formats standard input to standard output: the formatted source,
// or with -diff the changes, or with -check nothing but the exit status.
func (f *formatter) stdin() error {
	if f.env.Stdin == nil {
		return errors.New("no standard input to format")
	}
	src, err := io.ReadAll(f.env.Stdin)
	if err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	out, file, diags := format.Source(stdinName, src)
	if diags.HasErrors() {
		f.view.Diagnostics(diags, map[string]*hcl.File{stdinName: file})
		return ErrReported
	}
	changed := !bytes.Equal(src, out)
	switch {
	case f.opts.Diff:
		err = f.view.Diff(stdinName, src, out)
	case f.opts.Check:
	default:
		err = f.view.Formatted(out)
	}
	if err != nil {
		return err
	}
	if f.opts.Check && changed {
		return &ExitError{Code: ExitUnformatted}
	}
	return nil
}

// writeKeepingMode replaces the file's content through a temporary file
// and a rename, so an interrupted write never leaves half a file; the
// file keeps its permission bits, and a symlink keeps pointing at the
// rewritten file.
func writeKeepingMode(path string, data []byte) error {
	return atomicfile.Write(path, data, atomicfile.Options{KeepPerm: true, FollowSymlinks: true})
}
