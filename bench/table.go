package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/figures"
)

// row is one figure of the results table. A row with a target says whether
// it was met; the others are context for the reader.
type row struct {
	Case, Measure, Value, Target string
	Met                          *bool
}

type table struct{ rows []row }

func (t *table) info(c, measure, value string) {
	t.rows = append(t.rows, row{Case: c, Measure: measure, Value: value})
}

func (t *table) target(c, measure, value, target string, met bool) {
	t.rows = append(t.rows, row{Case: c, Measure: measure, Value: value, Target: target, Met: &met})
}

func (t *table) missed() int {
	n := 0
	for _, r := range t.rows {
		if r.Met != nil && !*r.Met {
			n++
		}
	}
	return n
}

// write prints the table as markdown, as docs/internals/performance.md
// shows it.
func (t *table) write(w io.Writer) {
	fmt.Fprintln(w, "| case | measure | median | target | |")
	fmt.Fprintln(w, "|---|---|---:|---|---|")
	for _, r := range t.rows {
		status := ""
		if r.Met != nil {
			status = "met"
			if !*r.Met {
				status = "**missed**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Case, r.Measure, r.Value, r.Target, status)
	}
}

// machine describes where the figures were taken.
func machine(opts options) string {
	var b strings.Builder
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(&b, "Machine: %d CPUs (nproc), %s, %s %s/%s.\n", runtime.NumCPU(), cpu, goVersion, runtime.GOOS, runtime.GOARCH)
	mode := "full sizes"
	if opts.Quick {
		mode = "-quick: reduced sizes, figures indicative only"
	}
	fmt.Fprintf(&b, "Runs: %d per case after one warm-up (%s). Medians of %d; a ratio is the median of the ratios of runs measured back to back.\n", opts.Runs, mode, opts.Runs)
	return b.String()
}

func fmtDur(seconds float64) string {
	switch {
	case seconds >= 10:
		return fmt.Sprintf("%.1f s", seconds)
	case seconds >= 1:
		return fmt.Sprintf("%.2f s", seconds)
	default:
		return fmt.Sprintf("%.0f ms", seconds*1000)
	}
}

func fmtMiB(bytes float64) string { return fmt.Sprintf("%.0f MiB", bytes/(1<<20)) }

func fmtCount(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// docsPage is the page that keeps the benchmark table, relative to the
// module root, between the markers <!-- figures:bench --> and
// <!-- /figures -->.
const docsPage = "docs/internals/performance.md"

// writeDocs writes the table into docsPage when HERALD_WRITE_FIGURES=1
// asks for it. Only a full run of every case of this checkout's herald
// may replace the published figures: -quick sizes, a subset of cases or
// another binary (-herald) are refused.
func (t *table) writeDocs(getenv func(string) string, root string, opts options, selected []string, stderr io.Writer) error {
	if !figures.Enabled(getenv) {
		return nil
	}
	switch {
	case opts.Quick:
		return fmt.Errorf("%s=1: -quick figures are not written into %s", figures.EnvVar, docsPage)
	case opts.Herald != "":
		return fmt.Errorf("%s=1: the figures of -herald=%s are not written into %s", figures.EnvVar, opts.Herald, docsPage)
	case !slices.Equal(sortedCopy(selected), []string{"1", "2", "3", "4", "5"}):
		return fmt.Errorf("%s=1: only a run of every case is written into %s (this one ran -cases=%s)", figures.EnvVar, docsPage, opts.Cases)
	}
	var b strings.Builder
	t.write(&b)
	if err := figures.WriteFile(filepath.Join(root, filepath.FromSlash(docsPage)), "bench", b.String()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: wrote the table into %s\n", docsPage)
	return nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
