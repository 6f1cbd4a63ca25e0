package reliability

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// marker is a line of a broken configuration that a diagnostic must point
// at, marked "# ERROR" or "# ERROR: <summary>".
type marker struct {
	line    int
	summary string
}

func markers(src string) []marker {
	var out []marker
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		_, rest, ok := strings.Cut(sc.Text(), "# ERROR")
		if !ok {
			continue
		}
		out = append(out, marker{line: n, summary: strings.TrimSpace(strings.TrimPrefix(rest, ":"))})
	}
	return out
}

// validateDoc is the part of "validate -json" the suite reads.
type validateDoc struct {
	Valid       bool `json:"valid"`
	Diagnostics []struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Range    *struct {
			Filename string `json:"filename"`
			Start    struct {
				Line int `json:"line"`
			} `json:"start"`
		} `json:"range"`
	} `json:"diagnostics"`
}

// TestBrokenConfigurations runs every configuration in testdata/broken
// through "herald validate -json" and "herald plan": both must exit 1
// without a panic, every error must have a file:line location, and every
// marked line must get an error with the marked summary.
func TestBrokenConfigurations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("the corpus has %d broken configurations; it must have at least 30", len(files))
	}
	f := &Figures{Scenario: fmt.Sprintf("7 bad input: %d broken configs", len(files))}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		marks := markers(string(src))
		if len(marks) == 0 {
			t.Fatalf("%s marks no line with # ERROR", file)
		}
		name := filepath.Base(file)
		w := NewWorkspace(heraldBin, t.TempDir(), nil, testKey, testSecret)
		if err := w.WriteConfig(string(src)); err != nil {
			t.Fatal(err)
		}
		res := mustRun(w, f, 1, "validate", "-json", "-no-color")
		var doc validateDoc
		if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
			f.Fail("%s: validate -json printed no document: %v\n%s", name, err, res)
		}
		for _, d := range doc.Diagnostics {
			if d.Severity == "error" && (d.Range == nil || d.Range.Filename == "" || d.Range.Start.Line < 1) {
				f.Fail("%s: error %q has no file:line location", name, d.Summary)
			}
		}
		plan := mustRun(w, f, 1, "plan", "-no-color", "-at=2026-12-01T10:00:00Z")
		for _, m := range marks {
			found := false
			for _, d := range doc.Diagnostics {
				if d.Severity == "error" && d.Range != nil && d.Range.Filename == "main.hcl" && d.Range.Start.Line == m.line &&
					strings.Contains(d.Summary, m.summary) {
					found = true
				}
			}
			if !found {
				f.Fail("%s: no error %q at main.hcl line %d; validate said:\n%s", name, m.summary, m.line, clip(res.Stdout))
			}
			if loc := fmt.Sprintf("on main.hcl line %d", m.line); !strings.Contains(plan.Stderr, loc) {
				f.Fail("%s: plan's diagnostics do not point at %s:\n%s", name, loc, plan.Stderr)
			}
		}
	}
	report(t, f)
}

// TestFuzzTargets runs the configuration loader's and the state reader's
// fuzz targets for a bounded number of inputs each: any input must give
// diagnostics or a refusal, never a panic. The budget is a count, not a
// duration: with -fuzztime as a duration, Go 1.26's fuzzing coordinator can
// fail a target that found nothing with "context deadline exceeded" when
// the deadline races a busy worker (go.dev/issue/75804).
func TestFuzzTargets(t *testing.T) {
	for _, target := range []struct {
		pkg, name   string
		full, short int
	}{
		{"./spec", "FuzzLoad", 20000, 4000},
		{"./state", "FuzzDecode", 200000, 40000},
		{"./state", "FuzzJournal", 200000, 40000},
	} {
		t.Run(target.name, func(t *testing.T) {
			f := &Figures{Scenario: "7 bad input: fuzz " + target.name, Runs: 1}
			cmd := exec.Command("go", "test", target.pkg, "-run=^$", "-fuzz=^"+target.name+"$",
				fmt.Sprintf("-fuzztime=%dx", size(target.full, target.short)), "-parallel=2", "-timeout=5m")
			cmd.Dir = ".."
			out, err := cmd.CombinedOutput()
			if err != nil {
				f.Fail("go test -fuzz=%s %s: %v\n%s", target.name, target.pkg, err, clip(string(out)))
			}
			t.Logf("%s", lastLines(string(out), 3))
			report(t, f)
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
