package command

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base/a1basetest"
	"github.com/heraldhq/herald/internal/testkit"
)

// A README code block that shows herald's output is marked, on the line
// before it, with
//
//	<!-- example: dir=examples/NAME [command="herald ARGS"] -->
//
// and TestReadmeExamples runs it in a copy of that directory and compares.
// In the block, a line "$ herald ARGS  # comment" runs herald with ARGS;
// the lines after it, up to the next "$" line, are its output (stdout and
// stderr as a terminal interleaves them), where a line "..." stands for
// any number of lines. With command= the block has no "$" lines: it is an
// excerpt, consecutive lines somewhere in that command's output. Commands
// give their clock with -at (the examples are dated), so the output does
// not depend on the day the test runs. Sends go to a fake A1Base, so a
// block shows "herald apply" as it is run against the real one.
var exampleMarker = regexp.MustCompile(`^<!-- example: (.*)-->\s*$`)

// readmeExample is one marked block of the README.
type readmeExample struct {
	line    int // of the marker, for messages
	dir     string
	command string
	lines   []string
}

func readReadmeExamples(t *testing.T, path string) []readmeExample {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []readmeExample
	var cur *readmeExample
	inBlock := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil:
			m := exampleMarker.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			cur = &readmeExample{line: n}
			for key, val := range markerAttrs(t, n, m[1]) {
				switch key {
				case "dir":
					cur.dir = val
				case "command":
					cur.command = val
				default:
					t.Fatalf("README.md:%d: unknown attribute %q in the example marker", n, key)
				}
			}
			require.NotEmpty(t, cur.dir, "README.md:%d: the example marker names no dir", n)
		case !inBlock:
			require.True(t, strings.HasPrefix(line, "```"), "README.md:%d: an example marker must come right before a code block", cur.line)
			inBlock = true
		case strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur, inBlock = nil, false
		default:
			cur.lines = append(cur.lines, line)
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "README.md: an example block is not closed")
	return out
}

// markerAttrs reads key=value and key="quoted value" pairs.
func markerAttrs(t *testing.T, line int, s string) map[string]string {
	t.Helper()
	attrs := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`).FindAllStringSubmatch(s, -1) {
		attrs[m[1]] = strings.Trim(m[2], `"`)
	}
	require.NotEmpty(t, attrs, "README.md:%d: an example marker without attributes", line)
	return attrs
}

// shellWords splits a command line as a shell would for the simple lines
// the README shows: words, single or double quotes, and a trailing
// "# comment".
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// matchOutput reports whether got fits want, where a "..." line of want
// matches any number of lines. Trailing blanks are not compared: editors
// strip them from the README.
func matchOutput(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for i := 0; i <= len(got); i++ {
			if matchOutput(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && strings.TrimRight(want[0], " \t") == strings.TrimRight(got[0], " \t") && matchOutput(want[1:], got[1:])
}

func outputLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if s == "" {
		return nil
	}
	return lines
}

// copyExample copies an example directory's files (not its
// subdirectories' state) into a new temporary directory.
func copyExample(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
	return dst
}

// runExampleCommand runs one README command line in dir.
func runExampleCommand(t *testing.T, dir string, getenv func(string) string, cmdline string) (string, int) {
	t.Helper()
	words := shellWords(cmdline)
	require.NotEmpty(t, words)
	require.Equal(t, "herald", words[0], "README examples run herald only: %q", cmdline)
	var out testkit.SyncBuffer
	start := time.Now()
	env := &Env{
		Dir:     dir,
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &out,
		Getenv:  getenv,
		Environ: func() []string { return nil },
		// A clock far from every example's dates, so a command that
		// forgets -at shows; it runs, as apply's rate limits wait on it.
		Now:     func() time.Time { return readmeClock.Add(time.Since(start)) },
		Version: "1.2.3",
	}
	code := Main(context.Background(), env, words[1:])
	return out.String(), code
}

var readmeClock = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

func TestReadmeExamples(t *testing.T) {
	examples := readReadmeExamples(t, filepath.Join("..", "README.md"))
	covered := map[string]bool{}
	for _, ex := range examples {
		covered[ex.dir] = true
		t.Run(fmt.Sprintf("README.md:%d", ex.line), func(t *testing.T) {
			dir := copyExample(t, filepath.Join("..", filepath.FromSlash(ex.dir)))
			api := a1basetest.NewHandler()
			srv := httptest.NewServer(api)
			t.Cleanup(func() { api.Close(); srv.Close() })
			vars := map[string]string{
				"A1BASE_BASE_URL":   srv.URL + "/v1",
				"A1BASE_API_KEY":    "readme-key",
				"A1BASE_API_SECRET": "readme-secret",
			}
			getenv := func(k string) string { return vars[k] }

			type step struct {
				cmd  string
				want []string
			}
			var steps []step
			if ex.command != "" {
				steps = append(steps, step{cmd: ex.command, want: append(append([]string{"..."}, ex.lines...), "...")})
			}
			for _, line := range ex.lines {
				if ex.command != "" {
					break
				}
				if cmd, ok := strings.CutPrefix(line, "$ "); ok {
					steps = append(steps, step{cmd: cmd})
					continue
				}
				require.NotEmpty(t, steps, "README.md:%d: output before the first $ line", ex.line)
				steps[len(steps)-1].want = append(steps[len(steps)-1].want, line)
			}
			require.NotEmpty(t, steps, "README.md:%d: no command", ex.line)
			for _, s := range steps {
				got, code := runExampleCommand(t, dir, getenv, s.cmd)
				require.Equal(t, 0, code, "README.md:%d: %s exited %d:\n%s", ex.line, s.cmd, code, got)
				if !matchOutput(s.want, outputLines(got)) {
					t.Errorf("README.md:%d: the output of %q is not what the README shows.\nREADME:\n%s\n\nherald:\n%s",
						ex.line, s.cmd, strings.Join(s.want, "\n"), got)
				}
			}
		})
	}
	for _, dir := range []string{"examples/quickstart", "examples/standup"} {
		require.True(t, covered[dir], "the README quotes %s: mark its examples", dir)
	}
}

func TestMatchOutput(t *testing.T) {
	got := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		want []string
		ok   bool
	}{
		{[]string{"a", "b", "c", "d"}, true},
		{[]string{"a", "...", "d"}, true},
		{[]string{"...", "b", "c", "..."}, true},
		{[]string{"...", "b", "d"}, false}, // b and d are not adjacent
		{[]string{"a", "b", "c"}, false},   // d is left over
		{[]string{"...", "d", "..."}, true},
		{[]string{"...", "x", "..."}, false},
		{[]string{"..."}, true},
		{[]string{"a ", "...", "d"}, true}, // trailing blanks
	} {
		require.Equal(t, tc.ok, matchOutput(tc.want, got), "%q", tc.want)
	}
	require.Equal(t, []string{"herald", "plan", "-var", "a=b c", "-at=x"}, shellWords(`herald plan -var 'a=b c' -at=x   # comment`))
}
