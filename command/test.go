package command

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/testrun"
)

func init() {
	register(&Command{
		Name:     "test",
		Synopsis: "Run the test files: plans at pinned clocks, with asserts",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseTestFlags(env, args)
			if err != nil {
				return err
			}
			return runTest(ctx, env, opts)
		},
	})
}

type testOptions struct {
	JSON    bool
	Verbose bool
	NoColor bool
	Run     string
	Dir     string
	Vars    []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	Files                []string
}

func parseTestFlags(env *Env, args []string) (testOptions, error) {
	var opts testOptions
	fs := newFlagSet("test", env)
	setUsage(fs, "[options] [FILE...]", `
Run the test files of the configuration in the working directory: every
*`+testrun.Suffix+` file in the tests directory, or the FILEs given. Each run
block plans the configuration at its own clock with its own variables,
against an empty state, and checks its asserts and expect_failures.
Nothing is sent and no state or credential is read.

Exits 0 when every run passed, 1 when one failed or a file is invalid, as
go test does.`)
	fs.BoolVar(&opts.JSON, "json", false, "Print the events of go test -json, one JSON object per line, for CI tools.")
	fs.BoolVar(&opts.Verbose, "v", false, "List every run, not only the failed ones.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.Run, "run", "", "Only make the runs whose name matches the `REGEXP`.")
	fs.StringVar(&opts.Dir, "test-directory", testrun.DefaultDir, "The `DIR` of the test files, relative to the working directory.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	opts.Files = fs.Args()
	for _, f := range opts.Files {
		if !strings.HasSuffix(f, testrun.Suffix) {
			return opts, usageError(fs, env, "%s is not a test file: test files end %s", f, testrun.Suffix)
		}
	}
	return opts, nil
}

func runTest(_ context.Context, env *Env, opts testOptions) error {
	var sel *regexp.Regexp
	if opts.Run != "" {
		re, err := regexp.Compile(opts.Run)
		if err != nil {
			return fmt.Errorf("-run=%s: %w", opts.Run, err)
		}
		sel = re
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	names := opts.Files
	if len(names) == 0 {
		found, err := testrun.Find(env.Path(opts.Dir))
		if err != nil {
			return fmt.Errorf("reading the test directory %s: %w", opts.Dir, err)
		}
		for _, f := range found {
			rel, err := filepath.Rel(env.Dir, f)
			if err != nil {
				rel = f
			}
			names = append(names, rel)
		}
	}
	v := newView(env, opts.NoColor || opts.JSON)
	view := views.NewTest(v, opts.JSON, opts.Verbose, func() time.Time { return now() })
	passed := true
	for _, name := range names {
		f, diags := testrun.Parse(env.Path(name), filepath.ToSlash(name))
		var res *testrun.FileResult
		if diags.HasErrors() {
			res = &testrun.FileResult{Name: f.Name, Diags: diags, Files: map[string]*hcl.File{}}
			if f.HCL != nil {
				res.Files[f.Name] = f.HCL
			}
		} else {
			res = testrun.RunFile(f, testrun.Options{
				Dir: env.Dir, Vars: opts.Vars, Getenv: env.Getenv,
				AllowFileOutsideRoot: opts.AllowFileOutsideRoot, Run: sel, Now: now,
			})
		}
		passed = passed && res.Passed()
		view.File(res)
	}
	view.Done(passed, len(names))
	if !passed {
		return ErrReported
	}
	return nil
}
