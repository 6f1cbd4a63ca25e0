package testrun

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// Options are what every run of a test command shares.
type Options struct {
	// Dir is the configuration's directory.
	Dir string
	// Vars are herald test's own -var and -var-file flags: the file's and
	// the run's variables blocks win over them.
	Vars   []spec.VarArg
	Getenv func(string) string
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	// Run, when set, selects the runs to make by name; the others are
	// skipped.
	Run *regexp.Regexp
	// Now reads the clock, for elapsed times; time.Now when nil.
	Now func() time.Time
}

// RunResult is what became of one run block.
type RunResult struct {
	Name string
	// Skipped: -run did not select it.
	Skipped bool
	// Passed: the configuration loaded, every assert held, every
	// expected failure happened and no other error-level check failed.
	Passed bool
	// Diags say why it failed (errors) and what else is worth knowing
	// (warnings: checks that failed with severity warning).
	Diags   hcl.Diagnostics
	Elapsed time.Duration
}

// FileResult is what became of one test file.
type FileResult struct {
	Name string
	// Diags are the file's own problems (it did not parse); its runs are
	// then not made.
	Diags   hcl.Diagnostics
	Runs    []*RunResult
	Elapsed time.Duration
	// Files holds the test file and the configuration files the runs
	// read, for diagnostic snippets.
	Files map[string]*hcl.File
}

// Passed reports whether the file parsed and no run failed.
func (r *FileResult) Passed() bool {
	if r.Diags.HasErrors() {
		return false
	}
	for _, run := range r.Runs {
		if !run.Skipped && !run.Passed {
			return false
		}
	}
	return true
}

// Counts are the file's runs that passed, failed and were skipped.
func (r *FileResult) Counts() (passed, failed, skipped int) {
	for _, run := range r.Runs {
		switch {
		case run.Skipped:
			skipped++
		case run.Passed:
			passed++
		default:
			failed++
		}
	}
	return passed, failed, skipped
}

// RunFile makes every run of a parsed test file, in order. The file has a
// state of its own, empty at first, in a temporary directory: a plan run
// plans against it, an apply run also records what it carried out, so
// that the runs after it see it.
func RunFile(f *File, opts Options) *FileResult {
	now := opts.Now
	if now == nil {
		now = clock.Now
	}
	start := now()
	res := &FileResult{Name: f.Name, Files: map[string]*hcl.File{}}
	if f.HCL != nil {
		res.Files[f.Name] = f.HCL
	}
	funcs := spec.FunctionsIn(spec.FileScope{Base: opts.Dir, Roots: []string{opts.Dir}, Anywhere: opts.AllowFileOutsideRoot})
	stateDir, err := os.MkdirTemp("", "herald-test-state-")
	if err != nil {
		res.Diags = append(res.Diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot make the test's state", Detail: err.Error()})
		return res
	}
	defer os.RemoveAll(stateDir)
	statePath := filepath.Join(stateDir, "herald.state.json")
	for _, r := range f.Runs {
		if opts.Run != nil && !opts.Run.MatchString(r.Name) {
			res.Runs = append(res.Runs, &RunResult{Name: r.Name, Skipped: true})
			continue
		}
		t0 := now()
		rr := runOne(f, r, opts, funcs, res.Files, statePath)
		rr.Elapsed = now().Sub(t0)
		res.Runs = append(res.Runs, rr)
	}
	res.Elapsed = now().Sub(start)
	return res
}

func runOne(f *File, r *Run, opts Options, funcs map[string]function.Function, files map[string]*hcl.File, statePath string) *RunResult {
	rr := &RunResult{Name: r.Name}
	fail := func(d hcl.Diagnostics) *RunResult {
		rr.Diags = append(rr.Diags, d...)
		return rr
	}
	litCtx := &hcl.EvalContext{Functions: funcs}
	at, d := evalAt(r.At, litCtx)
	if d.HasErrors() {
		return fail(d)
	}
	vars := append([]spec.VarArg(nil), opts.Vars...)
	for _, a := range append(append([]*hcl.Attribute(nil), f.Variables...), r.Variables...) {
		v, d := a.Expr.Value(litCtx)
		if d.HasErrors() {
			return fail(d)
		}
		vars = append(vars, spec.VarArg{Given: v, Name: a.Name, Range: a.Expr.Range()})
	}
	cfg, diags := spec.Load(opts.Dir, spec.LoadOptions{Vars: vars, Getenv: opts.Getenv, At: at, AllowFileOutsideRoot: opts.AllowFileOutsideRoot})
	for name, hf := range cfg.Files {
		files[name] = hf
	}
	if diags.HasErrors() {
		return fail(diags)
	}
	var plan *planner.Plan
	var applied *applyResult
	if r.Apply {
		var d hcl.Diagnostics
		plan, applied, d = applyRun(cfg, at, statePath)
		if d.HasErrors() || plan == nil {
			return fail(d)
		}
	} else {
		snap, err := state.OpenLocal(statePath).Snapshot(context.Background())
		if err != nil {
			return fail(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the test's state", Detail: err.Error()}})
		}
		plan = planner.New(cfg, snap, at, planner.Options{})
	}

	ctx := &hcl.EvalContext{Functions: withOccurrences(funcs, cfg), Variables: map[string]cty.Value{
		"plan":    planObject(plan),
		"message": messageObject(plan),
		"check":   checkObject(plan),
		"apply":   applyObject(applied),
	}}
	for _, a := range r.Asserts {
		rr.Diags = append(rr.Diags, evalAssert(a, ctx)...)
	}
	rr.Diags = append(rr.Diags, judgeChecks(r, plan, cfg)...)
	rr.Passed = !rr.Diags.HasErrors()
	return rr
}

// evalAt reads a run's at.
func evalAt(expr hcl.Expression, ctx *hcl.EvalContext) (time.Time, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return time.Time{}, diags
	}
	bad := hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid at",
		Detail:   `at is the clock the run plans at: an RFC 3339 time with an offset, such as "2027-03-01T08:00:00Z".`,
		Subject:  expr.Range().Ptr(),
	}}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return time.Time{}, bad
	}
	t, err := time.Parse(time.RFC3339, s.AsString())
	if err != nil {
		return time.Time{}, bad
	}
	return t, nil
}

// evalAssert evaluates one assert: an error when it does not hold, or
// cannot be evaluated.
func evalAssert(a *Assert, ctx *hcl.EvalContext) hcl.Diagnostics {
	v, diags := a.Condition.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	plain, _ := v.UnmarkDeep()
	b, err := convert.Convert(plain, cty.Bool)
	if err != nil || b.IsNull() || !b.IsKnown() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid assert condition",
			Detail:   "The condition must be true or false.",
			Subject:  a.Condition.Range().Ptr(),
		}}
	}
	if b.True() {
		return nil
	}
	msg := "The error message could not be evaluated."
	if mv, d := a.ErrorMessage.Value(ctx); !d.HasErrors() {
		switch s, err := convert.Convert(mv, cty.String); {
		case err != nil || !s.IsKnown() || s.IsNull():
		case s.IsMarked():
			msg = "The error message refers to sensitive values and is not shown."
		default:
			msg = s.AsString()
		}
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Test assertion failed",
		Detail:   msg,
		Subject:  a.Condition.Range().Ptr(),
	}}
}

// judgeChecks compares the plan's failed conditions with the run's
// expect_failures: each listed one must fail; an error-level failure not
// listed fails the run, and a warning is reported.
func judgeChecks(r *Run, plan *planner.Plan, cfg *spec.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	expected := map[string]hcl.Traversal{}
	for _, t := range r.ExpectFailures {
		name, _ := expectName(t)
		expected[name] = t
	}
	declared := map[string]bool{}
	for _, c := range plan.Checks {
		declared[c.Name()] = true
	}
	for _, inst := range cfg.Instances {
		if len(inst.Addr.Module) == 0 {
			declared["message."+inst.Addr.Name] = true
		}
	}
	failed := map[string]bool{}
	for _, c := range plan.FailedChecks() {
		name := c.Name()
		failed[name] = true
		if _, ok := expected[name]; ok {
			continue
		}
		sev, summary := hcl.DiagError, "Check failed"
		if c.Severity == spec.SeverityWarning {
			sev, summary = hcl.DiagWarning, "Check failed (warning)"
		}
		what := c.Addr
		if c.Kind == spec.CheckKindPrecondition {
			what = "The precondition of " + c.Addr
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  summary,
			Detail:   fmt.Sprintf("%s failed: %s\n\nList %s in expect_failures if this run means to show it failing.", what, c.Message, name),
			Subject:  c.Range.Ptr(),
		})
	}
	for _, t := range r.ExpectFailures {
		name, _ := expectName(t)
		switch {
		case failed[name]:
		case !declared[name]:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown expected failure",
				Detail:   fmt.Sprintf("expect_failures names %s, which has no condition in this plan: no check block of that name, or no planned instance of that message with a precondition.", name),
				Subject:  t.SourceRange().Ptr(),
			})
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Expected failure did not happen",
				Detail:   fmt.Sprintf("The run expects %s to fail, and every condition of it held.", name),
				Subject:  t.SourceRange().Ptr(),
			})
		}
	}
	return diags
}
