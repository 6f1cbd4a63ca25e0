package reliability

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	docfigures "github.com/heraldhq/herald/internal/figures"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
)

var raceBinary = flag.Bool("herald-race", false, "build the herald binary under test with -race")

// heraldBin is the binary every scenario drives, built once.
var heraldBin string

const (
	testKey    = "rel-key-Q7xK2mP9vW4nZ8"
	testSecret = "rel-secret-J3hT6yR1cB5sL0"
)

var (
	figuresMu sync.Mutex
	figures   []Figures
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "herald-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	heraldBin, err = Build("..", dir, *raceBinary)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if err := pgtest.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
	}
	os.RemoveAll(dir)
	figuresMu.Lock()
	rows := append([]Figures(nil), figures...)
	figuresMu.Unlock()
	if len(rows) > 0 {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Scenario < rows[j].Scenario })
		mode := "full"
		if testing.Short() {
			mode = "short"
		}
		fmt.Printf("\nherald reliability figures (%s mode):\n\n%s", mode, Table(rows))
		for _, f := range rows {
			for _, why := range f.Failures {
				fmt.Printf("  %s: %s\n", f.Scenario, why)
			}
		}
	}
	if len(failovers) > 0 {
		fmt.Printf("\nherald failover figures (%s mode):\n\n%s", map[bool]string{true: "short", false: "full"}[testing.Short()], FailoverTable(failovers))
	}
	if docfigures.Enabled(os.Getenv) {
		if err := writeDocsFigures(docsPage, code, testing.Short(), *raceBinary, rows, failovers); err != nil {
			fmt.Fprintf(os.Stderr, "%s=1: %v\n", docfigures.EnvVar, err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// docsPage keeps the figures tables, between <!-- figures:reliability -->
// (and <!-- figures:failover -->) and <!-- /figures -->.
const docsPage = "../docs/internals/testing.md"

// writeDocsFigures writes a run's figures into page (docsPage), as
// HERALD_WRITE_FIGURES=1 asks: each scenario's row replaces its row there,
// and rows of scenarios the run did not run are kept, so a scenario run
// on its own (go test -run) updates its own row. Only a passing run (code
// 0) in full mode, of a binary built without -race, is written.
func writeDocsFigures(page string, code int, short, race bool, rows []Figures, failovers []FailoverFigures) error {
	switch {
	case code != 0:
		return fmt.Errorf("the suite failed: its figures are not written into %s", page)
	case short:
		return fmt.Errorf("-short figures are not written into %s", page)
	case race:
		return fmt.Errorf("the figures of a -herald-race binary are not written into %s", page)
	}
	for _, t := range []struct {
		name  string
		cells [][]string
		n     int
	}{
		{"reliability", tableCells(rows), len(rows)},
		{"failover", failoverCells(failovers), len(failovers)},
	} {
		if t.n == 0 {
			continue
		}
		old, err := docfigures.Read(page, t.name)
		if err != nil {
			return err
		}
		if err := docfigures.WriteFile(page, t.name, renderTable(docfigures.Merge(docfigures.Cells(old), t.cells))); err != nil {
			return err
		}
		fmt.Printf("wrote the %s figures into %s\n", t.name, page)
	}
	return nil
}

// report adds f to the figures table and fails t for each of its
// failures.
func report(t *testing.T, f *Figures) {
	t.Helper()
	figuresMu.Lock()
	figures = append(figures, *f)
	figuresMu.Unlock()
	for _, why := range f.Failures {
		t.Error(why)
	}
	t.Logf("%s: runs %d, deliveries %d, duplicates %d, unrecorded %d, unknowns left %d", f.Scenario, f.Runs,
		f.Deliveries, f.Duplicates, f.Unrecorded, f.UnknownsLeft)
}

// size picks the full number, or the smaller one under -short.
func size(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

// newWorkspace starts a fake with o and a working directory for herald.
func newWorkspace(t *testing.T, o FakeOptions) *Workspace {
	t.Helper()
	fake := NewFake(o)
	t.Cleanup(fake.Close)
	return NewWorkspace(heraldBin, t.TempDir(), fake, testKey, testSecret)
}

// checkState reads the workspace's state and checks the fake's deliveries
// against it.
func checkState(t *testing.T, w *Workspace, f *Figures) *state.Snapshot {
	t.Helper()
	snap, err := ReadState(w.StatePath())
	if err != nil {
		f.Fail("reading the state herald left: %v", err)
	}
	Check(f, Deliveries(w.Fake.Sends()), snap, AddrOf)
	return snap
}

// runTimeout bounds any one herald process.
const runTimeout = 3 * time.Minute

// mustRun runs herald and notes a failure when it does not exit with code.
func mustRun(w *Workspace, f *Figures, code int, args ...string) Result {
	f.Runs++
	res := w.Herald.Run(runTimeout, args...)
	if res.Code != code {
		f.Fail("expected exit %d, got:\n%s", code, res)
	}
	noPanic(f, res)
	return res
}

// noPanic notes a failure when a run's output shows a Go panic or a
// goroutine dump.
func noPanic(f *Figures, res Result) {
	for _, s := range []string{res.Stderr, res.Stdout} {
		if strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
			f.Fail("herald panicked:\n%s", res)
			return
		}
	}
}

// at formats a clock for -at.
func at(t time.Time) string { return "-at=" + t.UTC().Format(time.RFC3339) }

// statusCounts counts the records of snap by status.
func statusCounts(snap *state.Snapshot) map[state.Status]int {
	n := map[state.Status]int{}
	if snap != nil {
		for _, r := range snap.Records {
			n[r.Status]++
		}
	}
	return n
}

// fileBytes reads every regular file in dir (not recursive) by name.
func fileBytes(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}
