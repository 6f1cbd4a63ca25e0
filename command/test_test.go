package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checksWithFailingTests is a copy of examples/checks with
// testdata/test/failing.test.hcl beside its own tests: five runs that fail
// in five ways.
func checksWithFailingTests(t *testing.T) string {
	t.Helper()
	dir := copyTree(t, "..", "..", "examples", "checks")
	src, err := os.ReadFile(testdataDir(t, "test", "failing.test.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tests", "failing.test.hcl"), src, 0o644))
	return dir
}

// The example's own tests pass: herald test exits 0, lists every run with
// -v, and ends with PASS.
func TestHeraldTestPasses(t *testing.T) {
	dir := copyTree(t, "..", "..", "examples", "checks")
	r := runMain(t, dir, "", "test", "-v")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	checkGolden(t, "test/passing.out.txt", []byte(r.stdout))
	assert.Contains(t, r.stdout, "--- PASS: quiet_hours_refused (0.00s)")
	assert.True(t, strings.HasSuffix(r.stdout, "PASS\n"))

	quiet := runMain(t, dir, "", "test")
	require.Equal(t, 0, quiet.code)
	assert.Equal(t, "ok  \ttests/launch.test.hcl\t0.000s (6 runs)\nPASS\n", quiet.stdout, "without -v only the file's line")
}

// Failing runs exit 1 and say why, each with the source line: an assert,
// a check that failed without being expected, an expected failure that
// did not happen, an unknown one, a bad clock and an undeclared variable.
func TestHeraldTestFailures(t *testing.T) {
	dir := checksWithFailingTests(t)
	r := runMain(t, dir, "", "test", "-no-color")
	assert.Equal(t, 1, r.code)
	checkGolden(t, "test/failing.out.txt", []byte(r.stdout))
	for _, want := range []string{
		"--- FAIL: wrong_count (0.00s)",
		"Expected two sends, got 1.",
		"--- FAIL: unexpected_error_check",
		"on policy.hcl line 13, in check \"quiet_hours\"",
		"The run expects check.daily_cap to fail",
		"expect_failures names check.nope",
		"--- FAIL: bad_clock",
		`Did you mean "launch_time"?`,
		"FAIL\ttests/failing.test.hcl\t0.000s (5 of 5 runs failed)",
		"ok  \ttests/launch.test.hcl\t0.000s (6 runs)",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.True(t, strings.HasSuffix(r.stdout, "FAIL\n"))

	// -run selects runs by name; the others are skipped.
	one := runMain(t, dir, "", "test", "-run=^wrong_count$", "tests/failing.test.hcl")
	assert.Equal(t, 1, one.code)
	assert.Contains(t, one.stdout, "FAIL\ttests/failing.test.hcl\t0.000s (1 of 1 run failed, 4 skipped)")
	passing := runMain(t, dir, "", "test", "-run=monday", "tests/launch.test.hcl")
	assert.Equal(t, 0, passing.code, passing.stdout)
}

// -json prints go test -json's events: tools made for Go tests read them.
func TestHeraldTestJSON(t *testing.T) {
	dir := checksWithFailingTests(t)
	r := runMain(t, dir, "", "test", "-json")
	assert.Equal(t, 1, r.code)
	checkGolden(t, "test/failing.out.jsonl", []byte(r.stdout))
	type event struct {
		Action, Package, Test, Output string
		Elapsed                       *float64
	}
	final := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e event
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		if e.Action == "pass" || e.Action == "fail" || e.Action == "skip" {
			final[e.Package+"/"+e.Test] = e.Action
			require.NotNil(t, e.Elapsed, line)
		}
	}
	assert.Equal(t, "fail", final["tests/failing.test.hcl/wrong_count"])
	assert.Equal(t, "pass", final["tests/launch.test.hcl/monday_standup"])
	assert.Equal(t, "fail", final["tests/failing.test.hcl/"])
	assert.Equal(t, "pass", final["tests/launch.test.hcl/"])
}

// A test file that does not parse fails with its error; a directory
// without tests says where herald looked, and passes as go test does.
func TestHeraldTestBadFileAndNoFiles(t *testing.T) {
	dir := copyTree(t, "..", "..", "examples", "checks")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tests", "broken.test.hcl"), []byte("run \"x\" {\n  at = \n}\n"), 0o644))
	r := runMain(t, dir, "", "test", "-no-color")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "on tests/broken.test.hcl line 2")
	assert.Contains(t, r.stdout, "FAIL\ttests/broken.test.hcl\t0.000s (the file is invalid)")

	empty := runMain(t, testdataDir(t, "validate", "valid"), "", "test")
	assert.Equal(t, 0, empty.code, empty.stderr)
	assert.Equal(t, "No test files: herald test reads tests/*.test.hcl (see -test-directory).\n", empty.stdout)

	wrong := runMain(t, dir, "", "test", "main.hcl")
	assert.Equal(t, 1, wrong.code)
	assert.Contains(t, wrong.stderr, "main.hcl is not a test file")
}

// Every example with test files passes them, as .ci/run checks too.
func TestExamplesTestsPass(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "examples", "*", "tests"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, d := range dirs {
		example := filepath.Dir(d)
		t.Run(filepath.Base(example), func(t *testing.T) {
			dir := copyTree(t, "..", "..", "examples", filepath.Base(example))
			r := runMain(t, dir, "", "test", "-no-color")
			assert.Equal(t, 0, r.code, r.stdout+r.stderr)
			assert.True(t, strings.HasSuffix(r.stdout, "PASS\n"), r.stdout)
		})
	}
}
