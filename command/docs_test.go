package command

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/figures"
	"github.com/heraldhq/herald/internal/testkit"
)

// markerAttrs reads key=value and key="quoted value" pairs.
func markerAttrs(t *testing.T, where, s string) map[string]string {
	t.Helper()
	attrs := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`).FindAllStringSubmatch(s, -1) {
		attrs[m[1]] = strings.Trim(m[2], `"`)
	}
	require.NotEmpty(t, attrs, "%s: an example marker without attributes", where)
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

// runExampleCommand runs one documented command line in dir.
func runExampleCommand(t *testing.T, dir string, getenv func(string) string, cmdline string) (string, int) {
	t.Helper()
	words := shellWords(cmdline)
	require.NotEmpty(t, words)
	require.Equal(t, "herald", words[0], "documented examples run herald only: %q", cmdline)
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
	if len(words) > 1 && words[1] == "test" {
		// herald test reports how long each run took, as go test does;
		// the pages show a fast machine's figures.
		return elapsedFigure.ReplaceAllStringFunc(out.String(), func(m string) string {
			return regexp.MustCompile(`[1-9]`).ReplaceAllString(m, "0")
		}), code
	}
	return out.String(), code
}

// elapsedFigure matches herald test's times: "(0.01s)" and "\t0.013s".
var elapsedFigure = regexp.MustCompile(`(\(|\t)[0-9]+\.[0-9]+s`)

var readmeClock = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// The documentation is README.md, CONTRIBUTING.md and every page under
// docs/. Its code blocks are checked by the tests below; a block is marked,
// when it needs to be, by an HTML comment on the line before its fence:
//
//	<!-- example: dir=examples/NAME [command="herald ARGS"] -->
//	    a block of herald's output, run and compared (TestDocsExamples)
//	<!-- fragment -->
//	    an hcl block that is only part of a configuration: it must parse
//	<!-- file: PATH -->
//	    an hcl block that is the file PATH of a configuration; consecutive
//	    file blocks make one configuration, validated as a whole
//	<!-- flags:COMMAND --> ... <!-- /flags -->
//	    (around a table, not a block) the flags of "herald COMMAND -h"
//
// An unmarked hcl block is a complete configuration: it must pass
// "herald validate". A comment that starts "<!-- file: PATH" and goes on
// for more lines, up to "-->", is a file that readers do not see (a text
// file a function reads, the provider a group names) and belongs to the
// next hcl block's configuration.
//
// In an example block, a line "$ herald ARGS  # comment" runs herald with
// ARGS; the lines after it, up to the next "$" line, are its output (stdout
// and stderr as a terminal interleaves them), where a line "..." stands for
// any number of lines. With command= the block has no "$" lines: it is an
// excerpt, consecutive lines somewhere in that command's output. Commands
// give their clock with -at (the examples are dated), so the output does
// not depend on the day the test runs. Sends go to a fake A1Base, so a
// block shows "herald apply" as it is run against the real one.

// docBlock is one fenced code block of a page, or a hidden file.
type docBlock struct {
	page   string // relative to the repository root, for messages
	line   int    // of the fence (of the comment, for a hidden file)
	lang   string
	marker string // the comment on the line before, without <!-- -->
	lines  []string
	hidden string // a hidden file's path
}

func (b docBlock) where() string { return fmt.Sprintf("%s:%d", b.page, b.line) }

var (
	markerLine  = regexp.MustCompile(`^<!--\s*(.*?)\s*-->\s*$`)
	hiddenStart = regexp.MustCompile(`^<!--\s*file:\s*(\S+)\s*$`)
)

// docPages lists the documentation, relative to the repository root.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md", "CONTRIBUTING.md"}
	require.NoError(t, filepath.WalkDir(filepath.Join("..", "docs"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel("..", path)
			if err != nil {
				return err
			}
			pages = append(pages, filepath.ToSlash(rel))
		}
		return nil
	}))
	return pages
}

// readDocBlocks returns a page's code blocks and hidden files, in order.
func readDocBlocks(t *testing.T, page string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(page)))
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := hiddenStart.FindStringSubmatch(line); m != nil {
			b := docBlock{page: page, line: i + 1, hidden: m[1]}
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "-->"; i++ {
				b.lines = append(b.lines, lines[i])
			}
			require.Less(t, i, len(lines), "%s: the hidden file is not closed with a line \"-->\"", b.where())
			out = append(out, b)
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := len(line) - len(trimmed)
		b := docBlock{page: page, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
		if i > 0 {
			if m := markerLine.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.marker = m[1]
			}
		}
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimLeft(lines[i], " "), "```"); i++ {
			l := lines[i]
			if len(l) >= indent && strings.TrimSpace(l[:indent]) == "" {
				l = l[indent:]
			}
			b.lines = append(b.lines, l)
		}
		require.Less(t, i, len(lines), "%s: the code block is not closed", b.where())
		out = append(out, b)
	}
	return out
}

// docExample is one block marked "example:".
type docExample struct {
	docBlock
	dir, command string
	// exit is the exit status the command= excerpt ends with (exit=N);
	// 0 unless given.
	exit int
}

func docExamples(t *testing.T) []docExample {
	t.Helper()
	var out []docExample
	for _, page := range docPages(t) {
		for _, b := range readDocBlocks(t, page) {
			attrs, ok := strings.CutPrefix(b.marker, "example:")
			if !ok {
				continue
			}
			ex := docExample{docBlock: b}
			for key, val := range markerAttrs(t, b.where(), attrs) {
				switch key {
				case "dir":
					ex.dir = val
				case "command":
					ex.command = val
				case "exit":
					n, err := strconv.Atoi(val)
					require.NoError(t, err, "%s: exit=%s", b.where(), val)
					ex.exit = n
				default:
					t.Fatalf("%s: unknown attribute %q in the example marker", b.where(), key)
				}
			}
			require.NotEmpty(t, ex.dir, "%s: the example marker names no dir", b.where())
			out = append(out, ex)
		}
	}
	return out
}

func TestDocsExamples(t *testing.T) {
	covered := map[string]bool{}
	for _, ex := range docExamples(t) {
		covered[ex.dir] = true
		t.Run(ex.where(), func(t *testing.T) {
			dir := copyExample(t, filepath.Join("..", filepath.FromSlash(ex.dir)))
			api := a1sandbox.NewHandler()
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
				require.NotEmpty(t, steps, "%s: output before the first $ line", ex.where())
				steps[len(steps)-1].want = append(steps[len(steps)-1].want, line)
			}
			require.NotEmpty(t, steps, "%s: no command", ex.where())
			for _, s := range steps {
				got, code := runExampleCommand(t, dir, getenv, s.cmd)
				require.Equal(t, ex.exit, code, "%s: %s exited %d:\n%s", ex.where(), s.cmd, code, got)
				if !matchOutput(s.want, outputLines(got)) {
					t.Errorf("%s: the output of %q is not what the page shows.\npage:\n%s\n\nherald:\n%s",
						ex.where(), s.cmd, strings.Join(s.want, "\n"), got)
				}
			}
		})
	}
	for _, dir := range []string{"examples/quickstart", "examples/standup"} {
		require.True(t, covered[dir], "the docs quote %s: mark its examples", dir)
	}
}

// docConfig is a configuration assembled from hcl blocks.
type docConfig struct {
	where string
	files map[string]string
	open  bool // file blocks may still join
}

// TestDocsHCL validates every hcl block of the documentation: a complete
// configuration must pass herald validate, a fragment must parse.
func TestDocsHCL(t *testing.T) {
	n := 0
	for _, page := range docPages(t) {
		configs, fragments := docConfigs(t, readDocBlocks(t, page))
		for _, b := range fragments {
			_, diags := hclsyntax.ParseConfig([]byte(strings.Join(b.lines, "\n")), b.where(), hcl.InitialPos)
			require.False(t, diags.HasErrors(), "%s: the fragment does not parse: %s", b.where(), diags.Error())
		}
		for _, c := range configs {
			validateDocConfig(t, c)
		}
		n += len(configs) + len(fragments)
	}
	require.Greater(t, n, 10, "too few hcl blocks found: is the scanner broken?")
}

// docConfigs assembles a page's hcl blocks into configurations, by the
// markers described at the top of this file, and returns the fragments
// apart.
func docConfigs(t *testing.T, blocks []docBlock) (configs []*docConfig, fragments []docBlock) {
	t.Helper()
	var cur *docConfig
	flush := func() {
		if cur != nil && cur.where != "" {
			configs = append(configs, cur)
			cur = nil
		}
	}
	for _, b := range blocks {
		switch {
		case b.hidden != "":
			flush() // a hidden file starts the next configuration
			if cur == nil {
				cur = &docConfig{files: map[string]string{}}
			}
			require.NotContains(t, cur.files, b.hidden, "%s: %s given twice", b.where(), b.hidden)
			cur.files[b.hidden] = strings.Join(b.lines, "\n") + "\n"
			continue
		case b.lang != "hcl":
			continue
		case b.marker == "fragment":
			fragments = append(fragments, b)
			continue
		}
		path, isFile := strings.CutPrefix(b.marker, "file:")
		path = strings.TrimSpace(path)
		if !isFile {
			require.Empty(t, b.marker, "%s: unknown marker %q before an hcl block", b.where(), b.marker)
			path = "main.hcl"
		}
		if cur != nil && cur.where != "" && (!isFile || !cur.open || cur.files[path] != "") {
			flush() // not a file of the run before
		}
		if cur == nil {
			cur = &docConfig{files: map[string]string{}}
		}
		if cur.where == "" {
			cur.where = b.where()
		}
		require.NotContains(t, cur.files, path, "%s: %s given twice", b.where(), path)
		cur.files[path] = strings.Join(b.lines, "\n") + "\n"
		cur.open = isFile
		if !isFile {
			flush()
		}
	}
	if cur != nil && cur.where == "" {
		for _, b := range blocks {
			if b.hidden != "" {
				t.Fatalf("%s: the hidden file %s belongs to no hcl block after it", b.where(), b.hidden)
			}
		}
	}
	flush()
	return configs, fragments
}

func TestDocConfigs(t *testing.T) {
	block := func(line int, lang, marker, text string) docBlock {
		return docBlock{page: "p.md", line: line, lang: lang, marker: marker, lines: strings.Split(text, "\n")}
	}
	hidden := func(line int, path, text string) docBlock {
		return docBlock{page: "p.md", line: line, hidden: path, lines: strings.Split(text, "\n")}
	}
	configs, fragments := docConfigs(t, []docBlock{
		block(1, "hcl", "", "a"),                // complete
		hidden(5, "groups.hcl", "g"),            // joins the next
		block(10, "hcl", "", "b"),               // complete, with groups.hcl
		block(15, "sh", "", "herald plan"),      // not hcl
		block(20, "hcl", "fragment", "c"),       // parse only
		block(25, "hcl", "file: main.hcl", "d"), // a run of files...
		block(30, "hcl", "file: modules/m/main.hcl", "e"),
		block(35, "hcl", "file: main.hcl", "f"), // main.hcl again: a new run
		hidden(40, "agenda.txt", "x"),           // starts the next one
		block(45, "hcl", "file: main.hcl", "g"),
		block(50, "hcl", "", "h"), // complete: ends the run
	})
	var got []string
	for _, c := range configs {
		var files []string
		for path, content := range c.files {
			files = append(files, path+"="+strings.TrimSpace(content))
		}
		slices.Sort(files)
		got = append(got, c.where+" "+strings.Join(files, ","))
	}
	require.Equal(t, []string{
		"p.md:1 main.hcl=a",
		"p.md:10 groups.hcl=g,main.hcl=b",
		"p.md:25 main.hcl=d,modules/m/main.hcl=e",
		"p.md:35 main.hcl=f",
		"p.md:45 agenda.txt=x,main.hcl=g",
		"p.md:50 main.hcl=h",
	}, got)
	require.Len(t, fragments, 1)
	require.Equal(t, 20, fragments[0].line)
}

func validateDocConfig(t *testing.T, c *docConfig) {
	t.Helper()
	t.Run(c.where, func(t *testing.T) {
		dir := t.TempDir()
		for path, content := range c.files {
			full := filepath.Join(dir, filepath.FromSlash(path))
			require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
			require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
		}
		var out testkit.SyncBuffer
		env := &Env{
			Dir:     dir,
			Stdin:   strings.NewReader(""),
			Stdout:  &out,
			Stderr:  &out,
			Getenv:  func(string) string { return "" },
			Environ: func() []string { return nil },
			Now:     func() time.Time { return readmeClock },
			Version: "1.2.3",
		}
		code := Main(context.Background(), env, []string{"validate", "-no-color"})
		require.Equal(t, 0, code, "%s: the configuration is not valid (mark a fragment <!-- fragment -->, or give the files it needs):\n%s", c.where, out.String())
	})
}

// TestDocsOtherBlocks checks the json, yaml and shell blocks: json and
// yaml must parse, shell must pass bash -n, and every herald command line
// in a shell block must name a real command and real flags.
func TestDocsOtherBlocks(t *testing.T) {
	bash, bashErr := exec.LookPath("bash")
	usage := newUsageCache(t)
	for _, page := range docPages(t) {
		for _, b := range readDocBlocks(t, page) {
			text := strings.Join(b.lines, "\n") + "\n"
			switch b.lang {
			case "json":
				if json.Valid([]byte(text)) {
					continue
				}
				for _, l := range b.lines { // JSON lines
					if strings.TrimSpace(l) != "" {
						require.True(t, json.Valid([]byte(l)), "%s: not JSON: %s", b.where(), l)
					}
				}
			case "yaml", "yml":
				var v any
				require.NoError(t, yaml.Unmarshal([]byte(text), &v), "%s: not YAML", b.where())
			case "sh", "bash":
				if bashErr == nil {
					cmd := exec.Command(bash, "-n")
					cmd.Stdin = strings.NewReader(text)
					out, err := cmd.CombinedOutput()
					require.NoError(t, err, "%s: bash -n: %s", b.where(), out)
				}
				for _, args := range heraldCommandLines(text) {
					if err := usage.check(args); err != nil {
						t.Errorf("%s: %q: %v", b.where(), strings.Join(args, " "), err)
					}
				}
			}
		}
	}
	if bashErr != nil {
		t.Logf("no bash: shell blocks were not parsed: %v", bashErr)
	}
}

// heraldCommandLines returns the arguments of every herald command in a
// shell script (and of "go run ." as herald): the words after "herald"
// at the start of a command, up to a redirection or the end of the
// command.
func heraldCommandLines(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		for _, cmd := range regexp.MustCompile(`&&|\|\||[|;]|\$\(`).Split(line, -1) {
			words := shellWords(strings.TrimSpace(cmd))
			// Leading VAR=value assignments.
			for len(words) > 0 && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(words[0]) {
				words = words[1:]
			}
			switch {
			case len(words) > 0 && words[0] == "herald":
				words = words[1:]
			case len(words) > 2 && words[0] == "go" && words[1] == "run" && words[2] == ".":
				words = words[3:]
			default:
				continue
			}
			for i, w := range words {
				if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") || w == "2>&1" || w == ")" {
					words = words[:i]
					break
				}
			}
			out = append(out, words)
		}
	}
	return out
}

// usageCache knows the commands and their flags, from herald's own help.
type usageCache struct {
	t     *testing.T
	flags map[string]map[string]bool // "plan", "state list" -> flag names
}

func newUsageCache(t *testing.T) *usageCache {
	return &usageCache{t: t, flags: map[string]map[string]bool{}}
}

// flagsOf returns the flags "herald CMD -h" lists.
func (u *usageCache) flagsOf(cmd string) map[string]bool {
	if f, ok := u.flags[cmd]; ok {
		return f
	}
	f := map[string]bool{"h": true, "help": true}
	for _, r := range commandFlagRows(u.t, cmd) {
		f[r.name] = true
	}
	u.flags[cmd] = f
	return f
}

var stateSubcommands = []string{"list", "show", "rm", "pull", "push"}

func (u *usageCache) check(args []string) error {
	// Global options come before the command.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		switch name {
		case "chdir", "help", "h", "version":
		default:
			return fmt.Errorf("-%s is not a global option", name)
		}
		if name == "chdir" && !strings.Contains(args[0], "=") {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return nil
	}
	c, ok := Lookup(args[0])
	if !ok {
		return fmt.Errorf("%q is not a herald command", args[0])
	}
	name, rest := c.Name, args[1:]
	if c.Name == "state" {
		if len(rest) == 0 || !slices.Contains(stateSubcommands, rest[0]) {
			return fmt.Errorf("state needs one of the subcommands %v", stateSubcommands)
		}
		name, rest = "state "+rest[0], rest[1:]
	}
	if c.Name == "help" {
		return nil
	}
	flags := u.flagsOf(name)
	for _, w := range rest {
		if !strings.HasPrefix(w, "-") || w == "-" {
			continue
		}
		if w == "--" {
			break
		}
		f, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if !flags[f] {
			return fmt.Errorf("herald %s has no flag -%s", name, f)
		}
	}
	return nil
}

// flagRow is one option of a command's usage text.
type flagRow struct {
	name, left, usage string
}

// commandFlagRows runs "herald CMD -h" and reads its Options section.
func commandFlagRows(t *testing.T, cmd string) []flagRow {
	t.Helper()
	var out, errOut testkit.SyncBuffer
	env := &Env{
		Dir:     t.TempDir(),
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &errOut,
		Getenv:  func(string) string { return "" },
		Environ: func() []string { return nil },
		Now:     func() time.Time { return readmeClock },
		Version: "1.2.3",
	}
	code := Main(context.Background(), env, append(strings.Fields(cmd), "-h"))
	require.Equal(t, 0, code, "herald %s -h: %s", cmd, errOut.String())
	text := out.String()
	_, opts, ok := strings.Cut(text, "\nOptions:\n")
	if !ok {
		return nil
	}
	var rows []flagRow
	for _, line := range strings.Split(opts, "\n") {
		switch {
		case strings.HasPrefix(line, "  -"):
			left, usage, _ := strings.Cut(strings.TrimSpace(line), "  ")
			name, _, _ := strings.Cut(strings.TrimPrefix(left, "-"), "=")
			rows = append(rows, flagRow{name: name, left: left, usage: strings.TrimSpace(usage)})
		case strings.TrimSpace(line) != "" && len(rows) > 0:
			r := &rows[len(rows)-1]
			r.usage = strings.TrimSpace(r.usage + " " + strings.TrimSpace(line))
		}
	}
	return rows
}

// flagTable renders a command's options as the docs' markdown table.
func flagTable(rows []flagRow) string {
	var b strings.Builder
	b.WriteString("| flag | what |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s |\n", r.left, strings.ReplaceAll(r.usage, "|", `\|`))
	}
	return b.String()
}

var flagsMarker = regexp.MustCompile(`(?m)^<!-- flags:([a-z ]+) -->\n`)

// TestDocsFlagTables checks that every flag table, between
// <!-- flags:CMD --> and <!-- /flags -->, is what "herald CMD -h" lists;
// go test ./command -run Docs -update rewrites them.
func TestDocsFlagTables(t *testing.T) {
	seen := checkMarkedTables(t, flagsMarker, "<!-- /flags -->", func(page, cmd string) string {
		return flagTable(commandFlagRows(t, cmd))
	}, func(page, cmd, got, want string) string {
		return fmt.Sprintf("%s: the flag table of herald %s differs from its -h (go test ./command -run Docs -update rewrites it):\npage:\n%s\nherald:\n%s", page, cmd, got, want)
	})
	// Every command with options has its table.
	for _, c := range All() {
		if c.Name == "help" {
			continue // no options: "help -h" asks for help on -h
		}
		names := []string{c.Name}
		if c.Name == "state" {
			names = nil
			for _, s := range stateSubcommands {
				names = append(names, "state "+s)
			}
		}
		for _, name := range names {
			if len(commandFlagRows(t, name)) > 0 {
				require.True(t, seen[name], "no page has the flag table of herald %s: add <!-- flags:%s --><!-- /flags --> to its page and run go test ./command -run Docs -update", name, name)
			}
		}
	}
}

// checkMarkedTables walks every page for the tables between marker (whose
// first group is the table's key) and end: each must be what table makes
// of its key, or is rewritten with -update; differ says how it differs.
// It returns the keys seen.
func checkMarkedTables(t *testing.T, marker *regexp.Regexp, end string, table func(page, key string) string, differ func(page, key, got, want string) string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, page := range docPages(t) {
		path := filepath.Join("..", filepath.FromSlash(page))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		doc := string(data)
		var b strings.Builder
		rest := doc
		for {
			loc := marker.FindStringSubmatchIndex(rest)
			if loc == nil {
				b.WriteString(rest)
				break
			}
			key := rest[loc[2]:loc[3]]
			seen[key] = true
			b.WriteString(rest[:loc[1]])
			n := strings.Index(rest[loc[1]:], end)
			require.GreaterOrEqual(t, n, 0, "%s: %s is not closed by %s", page, strings.TrimSpace(rest[loc[0]:loc[1]]), end)
			got := rest[loc[1] : loc[1]+n]
			want := table(page, key)
			if got != want && !*update {
				t.Error(differ(page, key, got, want))
			}
			b.WriteString(want)
			rest = rest[loc[1]+n:]
		}
		if *update && b.String() != doc {
			require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		}
	}
	return seen
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`^(#+)\s+(.*?)\s*#*$`)
	htmlID    = regexp.MustCompile(`<a id="([^"]+)"`)
)

// anchors returns the anchors of a page: its headings' slugs as GitHub
// makes them, and the explicit <a id> anchors.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	count := map[string]int{}
	inBlock := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			continue
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			s := slug(m[2])
			if n := count[s]; n > 0 {
				out[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				out[s] = true
			}
			count[s]++
		}
	}
	return out
}

// slug is GitHub's anchor for a heading: lower case, punctuation other
// than - and _ dropped, spaces as -.
func slug(heading string) string {
	heading = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(heading, "")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinks checks that every relative link of the documentation
// names a file of the repository, and an anchor that its page has.
func TestDocsLinks(t *testing.T) {
	pageText := map[string]string{}
	for _, page := range docPages(t) {
		data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(page)))
		require.NoError(t, err)
		pageText[page] = string(data)
	}
	n := 0
	for page, text := range pageText {
		inBlock := false
		for i, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
				inBlock = !inBlock
				continue
			}
			if inBlock {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if regexp.MustCompile(`^[a-z]+:`).MatchString(target) {
					continue
				}
				n++
				file, anchor, _ := strings.Cut(target, "#")
				where := fmt.Sprintf("%s:%d", page, i+1)
				dest := page
				if file != "" {
					dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(page), file)))
					require.False(t, strings.HasPrefix(dest, "../"), "%s: %s leaves the repository", where, target)
					_, err := os.Stat(filepath.Join("..", filepath.FromSlash(dest)))
					if err != nil {
						t.Errorf("%s: the link %s names no file (%s)", where, target, dest)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				destText, ok := pageText[dest]
				if !ok {
					t.Errorf("%s: the link %s has an anchor into a page that is not documentation", where, target)
					continue
				}
				if !anchors(destText)[anchor] {
					t.Errorf("%s: %s has no anchor #%s", where, dest, anchor)
				}
			}
		}
	}
	require.Greater(t, n, 50, "too few links found: is the scanner broken?")
}

func TestDocsReadmeShort(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	lines := strings.Count(string(data), "\n")
	require.Less(t, lines, 250, "README.md has %d lines: keep it a short page, and move the detail to docs/", lines)
	// CI (.ci/run) runs these as the README gives them.
	for _, want := range []string{
		"./scripts/test.sh",
		"go run . -chdir=examples/quickstart apply -sandbox -auto-approve -at=2026-12-01T09:30:00Z",
	} {
		require.Contains(t, string(data), "\n"+want+"\n", "README.md must give the command %q on a line of its own", want)
	}
}

// TestDocsFigureMarkers checks that the pages keep the markers the
// benchmark harness and the reliability suite write their tables between
// (HERALD_WRITE_FIGURES=1).
func TestDocsFigureMarkers(t *testing.T) {
	for _, m := range []struct{ page, name string }{
		{"docs/internals/performance.md", "bench"},
		{"docs/internals/testing.md", "reliability"},
		{"docs/internals/testing.md", "failover"},
	} {
		table, err := figures.Read(filepath.Join("..", filepath.FromSlash(m.page)), m.name)
		require.NoError(t, err)
		require.NotEmpty(t, figures.Cells(table), "%s: the %s table is empty", m.page, m.name)
	}
}

func TestSlug(t *testing.T) {
	require.Equal(t, "trying-it-out--sandbox-and-herald-sandbox", slug("Trying it out: `-sandbox` and `herald sandbox`"))
	require.Equal(t, "provider-a1base", slug(`provider "a1base"`))
	require.Equal(t, "how-fast-a-takeover-is", slug("How fast a takeover is"))
	a := anchors("# State\n\n## state\n\n```\n# not a heading\n```\n<a id=\"x\"></a>")
	require.Equal(t, map[string]bool{"state": true, "state-1": true, "x": true}, a)
}

func TestHeraldCommandLines(t *testing.T) {
	got := heraldCommandLines("cd x && herald plan -out=p  # c\nA=1 herald state list -sandbox > out\nherald validate \\\n  -json\ngo run . -chdir=d apply -sandbox\nsudo install herald /bin/herald\n")
	require.Equal(t, [][]string{{"plan", "-out=p"}, {"state", "list", "-sandbox"}, {"validate", "-json"}, {"-chdir=d", "apply", "-sandbox"}}, got)
	u := newUsageCache(t)
	require.NoError(t, u.check([]string{"-chdir=d", "plan", "-out=p", "--json"}))
	require.NoError(t, u.check([]string{"state", "push", "-force", "-"}))
	require.Error(t, u.check([]string{"plan", "-nope"}))
	require.Error(t, u.check([]string{"plna"}))
	require.Error(t, u.check([]string{"state", "frob"}))
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
