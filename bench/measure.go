package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald/internal/clock"
)

// proc is one measured child process.
type proc struct {
	Wall time.Duration
	// CPU is user plus system time: less disturbed than Wall by other
	// work on a busy machine, reported beside it.
	CPU time.Duration
	// MaxRSS is the peak resident set size in bytes.
	MaxRSS int64
}

// measureEnv, when set in the harness's own environment, makes it the
// measurer of one child (see measureChild) instead of the harness.
const measureEnv = "HERALD_BENCH_MEASURE"

// runProc runs name with args in the environment env (added to this
// process's), discarding stdout, and measures it from start to exit. A
// non-zero exit is an error carrying the process's stderr.
//
// The child is started by a fresh copy of this program rather than by the
// harness itself: Linux counts the peak RSS of the process a child was
// forked from into the child's ru_maxrss (the address space it shares until
// exec), so a child of the harness, which holds generated inputs in memory,
// would report the harness's peak instead of its own. The fresh copy's own
// few MiB are the floor of every RSS figure.
func runProc(env []string, name string, args ...string) (proc, error) {
	self, err := os.Executable()
	if err != nil {
		return proc{}, err
	}
	out, err := os.CreateTemp("", "herald-bench-measure-")
	if err != nil {
		return proc{}, err
	}
	out.Close()
	defer os.Remove(out.Name())

	cmd := exec.Command(self, append([]string{name}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), measureEnv+"="+out.Name())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return proc{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, lastLines(stderr.String(), 20))
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		return proc{}, err
	}
	var p proc
	if err := json.Unmarshal(data, &p); err != nil {
		return proc{}, fmt.Errorf("reading the measure of %s: %w", name, err)
	}
	return p, nil
}

// measureChild runs args as a child with stdout discarded and stderr
// inherited, and writes its measure as JSON to the file named by
// measureEnv. It returns the exit code to leave with: the child's.
func measureChild(path string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench: nothing to measure")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, measureEnv+"=") })
	cmd.Stderr = os.Stderr
	start := clock.Now()
	err := cmd.Run()
	wall := clock.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		return 1
	}
	p := proc{Wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
		p.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	data, _ := json.Marshal(p)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// median of xs; 0 for none. With an even count it is the mean of the two
// middle values.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// ratios divides a[i] by b[i]: each pair was measured back to back, so
// their ratio is less disturbed by a machine whose speed drifts than the
// ratio of two medians.
func ratios(a, b []float64) []float64 {
	out := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// busiestWindow returns the most arrivals within any half-open window
// [t, t+width) of the sorted times.
func busiestWindow(sorted []time.Time, width time.Duration) int {
	best, lo := 0, 0
	for hi := range sorted {
		for sorted[hi].Sub(sorted[lo]) >= width {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// achievedRate is the sends per second between the first and the last
// arrival: n arrivals span n-1 intervals.
func achievedRate(sorted []time.Time) float64 {
	if len(sorted) < 2 {
		return 0
	}
	span := sorted[len(sorted)-1].Sub(sorted[0])
	if span <= 0 {
		return 0
	}
	return float64(len(sorted)-1) / span.Seconds()
}
