package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/testrun"
)

// Test is the view of `herald test`. Its output follows `go test`: a
// failed run's reasons under "--- FAIL: NAME", one "ok" or "FAIL" line per
// test file, and PASS or FAIL at the end; -v shows every run; -json
// prints the events of `go test -json` (test2json), so that tools made
// for Go tests read herald's too.
type Test interface {
	// File reports one test file's results.
	File(r *testrun.FileResult)
	// Done closes the output: passed when every file passed.
	Done(passed bool, files int)
}

// NewTest returns the test view.
func NewTest(v *View, jsonOut, verbose bool, now func() time.Time) Test {
	if jsonOut {
		return &testJSON{view: v, now: now}
	}
	return &testHuman{view: v, verbose: verbose}
}

type testHuman struct {
	view    *View
	verbose bool
}

func (t *testHuman) File(r *testrun.FileResult) {
	w := t.view.Stdout
	if r.Diags.HasErrors() {
		fmt.Fprintf(w, "%s\n", indentLines(t.diagText(r.Diags, r.Files), "    "))
	}
	for _, run := range r.Runs {
		if t.verbose {
			fmt.Fprintf(w, "=== RUN   %s\n", run.Name)
		}
		switch {
		case run.Skipped:
			if t.verbose {
				fmt.Fprintf(w, "--- SKIP: %s (0.00s)\n", run.Name)
			}
		case !run.Passed:
			fmt.Fprintf(w, "--- FAIL: %s (%.2fs)\n", run.Name, run.Elapsed.Seconds())
			fmt.Fprint(w, indentLines(t.diagText(run.Diags, r.Files), "    "))
		case t.verbose:
			fmt.Fprintf(w, "--- PASS: %s (%.2fs)\n", run.Name, run.Elapsed.Seconds())
			fmt.Fprint(w, indentLines(t.diagText(run.Diags, r.Files), "    "))
		}
	}
	fmt.Fprintln(w, fileLine(r))
}

// fileLine is go test's line for a package: "ok  \tNAME\t0.012s (3
// runs)" or "FAIL\tNAME\t0.012s (1 of 3 runs failed)".
func fileLine(r *testrun.FileResult) string {
	passed, failed, skipped := r.Counts()
	counts := countOf(passed+failed, "run", "runs")
	if failed > 0 {
		counts = fmt.Sprintf("%d of %s failed", failed, counts)
	}
	if skipped > 0 {
		counts += fmt.Sprintf(", %d skipped", skipped)
	}
	if r.Diags.HasErrors() {
		counts = "the file is invalid"
	}
	status := "ok  "
	if !r.Passed() {
		status = "FAIL"
	}
	return fmt.Sprintf("%s\t%s\t%.3fs (%s)", status, r.Name, r.Elapsed.Seconds(), counts)
}

func (t *testHuman) Done(passed bool, files int) {
	switch {
	case files == 0:
		fmt.Fprintf(t.view.Stdout, "No test files: herald test reads %s/*%s (see -test-directory).\n", testrun.DefaultDir, testrun.Suffix)
	case passed:
		fmt.Fprintln(t.view.Stdout, "PASS")
	default:
		fmt.Fprintln(t.view.Stdout, "FAIL")
	}
}

// diagText renders diagnostics as validate would, without colour, for
// indenting under a run.
func (t *testHuman) diagText(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	if len(diags) == 0 {
		return ""
	}
	diags, files = t.view.localize(diags, files)
	var b bytes.Buffer
	width := uint(0)
	if t.view.Width > 4 {
		width = uint(t.view.Width - 4)
	}
	writeDiagnostics(&b, files, width, false, diags)
	return b.String()
}

func indentLines(s, prefix string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestEvent is one line of `herald test -json`, in the shape of
// `go test -json` (cmd/test2json): Package is the test file, Test the run.
type TestEvent struct {
	Time    time.Time `json:"Time"`
	Action  string    `json:"Action"`
	Package string    `json:"Package,omitempty"`
	Test    string    `json:"Test,omitempty"`
	Elapsed *float64  `json:"Elapsed,omitempty"`
	Output  string    `json:"Output,omitempty"`
}

type testJSON struct {
	view *View
	now  func() time.Time
}

func (t *testJSON) emit(e TestEvent) {
	e.Time = t.now().UTC()
	b, _ := json.Marshal(e)
	t.view.Stdout.Write(append(b, '\n'))
}

func (t *testJSON) File(r *testrun.FileResult) {
	h := &testHuman{view: &View{BaseDir: t.view.BaseDir, Width: DefaultWidth}}
	pkg := r.Name
	t.emit(TestEvent{Action: "start", Package: pkg})
	if r.Diags.HasErrors() {
		t.emit(TestEvent{Action: "output", Package: pkg, Output: indentLines(h.diagText(r.Diags, r.Files), "    ")})
	}
	for _, run := range r.Runs {
		el := run.Elapsed.Seconds()
		t.emit(TestEvent{Action: "run", Package: pkg, Test: run.Name})
		t.emit(TestEvent{Action: "output", Package: pkg, Test: run.Name, Output: fmt.Sprintf("=== RUN   %s\n", run.Name)})
		action, word := "pass", "PASS"
		switch {
		case run.Skipped:
			action, word = "skip", "SKIP"
		case !run.Passed:
			action, word = "fail", "FAIL"
		}
		t.emit(TestEvent{Action: "output", Package: pkg, Test: run.Name, Output: fmt.Sprintf("--- %s: %s (%.2fs)\n", word, run.Name, el)})
		if text := indentLines(h.diagText(run.Diags, r.Files), "    "); text != "" {
			t.emit(TestEvent{Action: "output", Package: pkg, Test: run.Name, Output: text})
		}
		t.emit(TestEvent{Action: action, Package: pkg, Test: run.Name, Elapsed: &el})
	}
	el := r.Elapsed.Seconds()
	action := "pass"
	if !r.Passed() {
		action = "fail"
	}
	t.emit(TestEvent{Action: "output", Package: pkg, Output: fileLine(r) + "\n"})
	t.emit(TestEvent{Action: action, Package: pkg, Elapsed: &el})
}

func (t *testJSON) Done(bool, int) {}
