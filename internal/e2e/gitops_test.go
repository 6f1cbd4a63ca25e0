package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/command"
	"github.com/heraldhq/herald/command/views"
)

// workflow is the part of a GitHub Actions workflow the recipes rely on.
type workflow struct {
	Name        string                               `yaml:"name"`
	On          map[string]yaml.Node                 `yaml:"on"`
	Permissions map[string]string                    `yaml:"permissions"`
	Concurrency *concurrency                         `yaml:"concurrency"`
	Defaults    struct{ Run struct{ Shell string } } `yaml:"defaults"`
	Env         map[string]string                    `yaml:"env"`
	Jobs        map[string]*job                      `yaml:"jobs"`
}

type concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress bool   `yaml:"cancel-in-progress"`
}

type job struct {
	RunsOn         string  `yaml:"runs-on"`
	TimeoutMinutes int     `yaml:"timeout-minutes"`
	Steps          []*step `yaml:"steps"`
}

type step struct {
	Name            string            `yaml:"name"`
	ID              string            `yaml:"id"`
	If              string            `yaml:"if"`
	Uses            string            `yaml:"uses"`
	With            map[string]string `yaml:"with"`
	Env             map[string]string `yaml:"env"`
	Run             string            `yaml:"run"`
	ContinueOnError bool              `yaml:"continue-on-error"`
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func loadWorkflow(t *testing.T, name string) *workflow {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "github-actions", name))
	require.NoError(t, err)
	var w workflow
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&w), "%s is not a workflow this test understands", name)
	require.Len(t, w.Jobs, 1, "%s: one job", name)
	return &w
}

func (w *workflow) job() *job {
	for _, j := range w.Jobs {
		return j
	}
	return nil
}

// stepUsing returns the step that runs the action (owner/name, any ref).
func (j *job) stepUsing(action string) *step {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, action+"@") {
			return s
		}
	}
	return nil
}

// invocation is one herald command line of a recipe's run: scripts.
type invocation struct {
	step string
	args []string // after "herald"
	env  map[string]string
}

// commandName is the herald command, after the global options.
func (in invocation) commandName() string {
	for _, a := range in.args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// heraldInvocations finds every line of every run: script that starts
// with herald, joins continuation lines, and splits it into words the way
// bash would for the simple commands the recipes use. A redirection, pipe
// or list operator ends the command.
func heraldInvocations(t *testing.T, w *workflow, vars map[string]string) []invocation {
	t.Helper()
	var out []invocation
	for _, s := range w.job().Steps {
		script := strings.ReplaceAll(s.Run, "\\\n", " ")
		env := map[string]string{}
		for k, v := range w.Env {
			env[k] = v
		}
		for k, v := range s.Env {
			env[k] = v
		}
		known := map[string]string{}
		for k, v := range env {
			known[k] = v
		}
		for k, v := range vars {
			known[k] = v
		}
		for _, line := range strings.Split(script, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "herald ") {
				continue
			}
			words := shellWords(t, line, known)
			out = append(out, invocation{step: s.Name, args: words[1:], env: env})
		}
	}
	return out
}

var shellVar = regexp.MustCompile(`^\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

func shellWords(t *testing.T, line string, vars map[string]string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quote := false, byte(0)
	// expand writes the variable at line[i:]; unquoted, its value is split
	// into words as bash splits it.
	expand := func(i int, quoted bool) int {
		m := shellVar.FindStringSubmatch(line[i:])
		if m == nil {
			cur.WriteByte('$')
			return i + 1
		}
		name := m[2] + m[3]
		v, ok := vars[name]
		require.True(t, ok, "the recipe uses $%s, which the test does not know: %q", name, line)
		if quoted {
			cur.WriteString(v)
			return i + len(m[0])
		}
		fields := strings.Split(v, " ")
		for j, f := range fields {
			if j > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			cur.WriteString(f)
		}
		return i + len(m[0])
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
			i++
		case quote == '"':
			switch c {
			case '"':
				quote = 0
				i++
			case '$':
				i = expand(i, true)
			case '\\':
				cur.WriteByte(line[i+1])
				i += 2
			default:
				cur.WriteByte(c)
				i++
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
			i++
		case c == '$':
			inWord = true
			i = expand(i, false)
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '#' && !inWord:
			i = len(line)
		case strings.ContainsRune("|&;<>", rune(c)) || (c == '2' && !inWord && i+1 < len(line) && line[i+1] == '>'):
			if inWord {
				words = append(words, cur.String())
			}
			return words
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	require.Zero(t, quote, "unterminated quote in %q", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// herald runs herald in process, as the binary would, with the clock
// fixed so that the quickstart's messages are due.
func herald(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &command.Env{
		Dir:     t.TempDir(),
		Stdin:   strings.NewReader(""),
		Stdout:  &stdout,
		Stderr:  &stderr,
		Getenv:  func(k string) string { return env[k] },
		Environ: func() []string { return nil },
		Now:     func() time.Time { return quickstartClock },
		Version: "0.0.0-test",
	}
	code := command.Main(context.Background(), e, args)
	return code, stdout.String(), stderr.String()
}

// quickstartClock is when examples/quickstart has one message due and
// three waiting.
var quickstartClock = time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)

// acceptedFlags reads the options "herald COMMAND -h" lists.
func acceptedFlags(t *testing.T, cmd string) []string {
	t.Helper()
	code, out, errOut := herald(t, nil, cmd, "-h")
	require.Equal(t, 0, code, "herald %s -h: %s", cmd, errOut)
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(out, -1) {
		flags = append(flags, m[1])
	}
	require.NotEmpty(t, flags, "herald %s -h lists no option", cmd)
	return flags
}

// globalFlags are the options before the command (herald -h).
var globalFlags = []string{"chdir", "help", "h", "version", "v"}

// checkInvocation checks that herald accepts the command and each of its
// flags, and names the options it was given.
func checkInvocation(t *testing.T, in invocation) {
	t.Helper()
	cmd := in.commandName()
	_, ok := command.Lookup(cmd)
	require.True(t, ok, "step %q runs herald %q, which is no herald command", in.step, cmd)
	global := true
	var flags []string
	for _, a := range in.args {
		if a == cmd && global {
			global = false
			flags = acceptedFlags(t, cmd)
			continue
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if global {
			assert.Contains(t, globalFlags, name, "step %q: %q is not a global option", in.step, a)
		} else {
			assert.Contains(t, flags, name, "step %q: herald %s does not accept %q", in.step, cmd, a)
		}
	}
}

// checkInstall: herald is installed with go install at a pinned version,
// with the Go release go.mod asks for.
func checkInstall(t *testing.T, w *workflow) {
	t.Helper()
	j := w.job()
	setup := j.stepUsing("actions/setup-go")
	require.NotNil(t, setup, "%s sets up Go", w.Name)
	gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	require.NotNil(t, m)
	assert.Equal(t, string(m[1]), setup.With["go-version"], "%s: the Go release of go.mod", w.Name)

	version := w.Env["HERALD_VERSION"]
	assert.Regexp(t, `^v\d+\.\d+\.\d+$|^[0-9a-f]{40}$`, version, "%s pins herald to a release or a commit", w.Name)
	var installs []string
	for _, s := range j.Steps {
		for _, line := range strings.Split(s.Run, "\n") {
			if strings.Contains(line, "go install") {
				installs = append(installs, strings.Join(shellWords(t, strings.TrimSpace(line), map[string]string{"HERALD_VERSION": version}), " "))
			}
		}
	}
	assert.Equal(t, []string{"go install github.com/heraldhq/herald@" + version}, installs, "%s installs herald once", w.Name)
	assert.Equal(t, "bash", w.Defaults.Run.Shell, "%s: shell bash, for pipefail", w.Name)
}

func triggers(w *workflow) []string {
	var names []string
	for k := range w.On {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func TestPlanRecipe(t *testing.T) {
	w := loadWorkflow(t, "herald-plan.yml")
	assert.Equal(t, []string{"pull_request"}, triggers(w))
	assert.Equal(t, "write", w.Permissions["pull-requests"])
	assert.Equal(t, "read", w.Permissions["contents"])
	require.NotNil(t, w.Concurrency)
	assert.Contains(t, w.Concurrency.Group, "github.event.pull_request.number", "one plan per pull request at a time")
	checkInstall(t, w)

	vars := map[string]string{"HERALD_DIR": "DIR", "RUNNER_TEMP": "/tmp"}
	var cmds []string
	for _, in := range heraldInvocations(t, w, vars) {
		checkInvocation(t, in)
		cmds = append(cmds, in.commandName())
	}
	assert.Equal(t, []string{"version", "validate", "fmt", "plan"}, cmds)

	j := w.job()
	script := j.stepUsing("actions/github-script")
	require.NotNil(t, script, "the comment is posted with actions/github-script")
	body := script.With["script"]
	assert.Contains(t, body, "'"+views.PlanCommentMarker+"'", "finds its comment by herald's marker")
	assert.Contains(t, body, "updateComment", "updates the comment it finds")
	assert.Contains(t, body, "createComment", "creates one when there is none")
	assert.Contains(t, body, "paginate", "looks past the first page of comments")

	// The checks run to the end, and the last step fails the job.
	ids := map[string]*step{}
	for _, s := range j.Steps {
		if s.ID != "" {
			ids[s.ID] = s
		}
	}
	for _, id := range []string{"validate", "fmt", "plan"} {
		require.Contains(t, ids, id)
		assert.True(t, ids[id].ContinueOnError, "step %s lets the comment be posted", id)
	}
	last := j.Steps[len(j.Steps)-1]
	assert.Contains(t, last.If, "steps.validate.outcome != 'success'")
	assert.Contains(t, last.If, "steps.fmt.outcome != 'success'")
	assert.Contains(t, last.Run, "exit 1")
}

func checkApplyRecipe(t *testing.T, w *workflow) invocation {
	t.Helper()
	assert.Equal(t, []string{"push", "schedule", "workflow_dispatch"}, triggers(w))
	push := w.On["push"]
	var pushOn struct{ Branches []string }
	require.NoError(t, push.Decode(&pushOn))
	assert.Equal(t, []string{"main"}, pushOn.Branches)
	var schedule []struct{ Cron string }
	sched := w.On["schedule"]
	require.NoError(t, sched.Decode(&schedule))
	assert.Equal(t, []struct{ Cron string }{{"*/10 * * * *"}}, schedule)

	require.NotNil(t, w.Concurrency)
	assert.Equal(t, "herald-apply", w.Concurrency.Group, "one group for every apply, whatever triggered it")
	assert.False(t, w.Concurrency.CancelInProgress, "an apply in flight is never cancelled")
	checkInstall(t, w)

	checkout := w.job().stepUsing("actions/checkout")
	require.NotNil(t, checkout)
	assert.Equal(t, "${{ github.event.repository.default_branch }}", checkout.With["ref"], "a queued run applies the branch as it is now")

	var applies []invocation
	for _, in := range heraldInvocations(t, w, map[string]string{"HERALD_DIR": "DIR"}) {
		checkInvocation(t, in)
		if in.commandName() == "apply" {
			applies = append(applies, in)
		}
	}
	require.Len(t, applies, 1)
	apply := applies[0]
	assert.Contains(t, apply.args, "-auto-approve")
	assert.Equal(t, "${{ secrets.A1BASE_API_KEY }}", apply.env["A1BASE_API_KEY"])
	assert.Equal(t, "${{ secrets.A1BASE_API_SECRET }}", apply.env["A1BASE_API_SECRET"])
	return apply
}

func TestApplyRecipeCommittedState(t *testing.T) {
	w := loadWorkflow(t, "herald-apply.yml")
	checkApplyRecipe(t, w)
	assert.Equal(t, "write", w.Permissions["contents"], "pushes the state commit")

	var commit *step
	for _, s := range w.job().Steps {
		if strings.Contains(s.Run, "git commit") {
			commit = s
		}
	}
	require.NotNil(t, commit, "commits the state")
	assert.Equal(t, "always()", commit.If, "commits even when apply fails")
	assert.Contains(t, commit.Run, "herald.state.json")
	assert.Contains(t, commit.Run, "herald.state.json.journal", "an unfolded journal is state too")
	assert.Contains(t, commit.Run, "git push")
	assert.NotContains(t, commit.Run, "herald.state.json.lock")
}

func TestApplyRecipePostgres(t *testing.T) {
	w := loadWorkflow(t, "herald-apply-postgres.yml")
	apply := checkApplyRecipe(t, w)
	assert.Equal(t, "read", w.Permissions["contents"], "commits nothing")
	for _, v := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"} {
		assert.Equal(t, "${{ secrets."+v+" }}", apply.env[v])
	}
	for _, s := range w.job().Steps {
		assert.NotContains(t, s.Run, "git commit")
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "github-actions", "herald-apply-postgres.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(raw), `backend "postgres" {}`, "says which backend block goes with it")
}

// quickstartCopy copies examples/quickstart into a fresh directory.
func quickstartCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "examples", "quickstart")
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644))
	}
	return dir
}

// TestRecipesRunOnQuickstart runs the recipes' herald commands in the
// order a pull request and its merge run them, on a copy of the
// quickstart, with -sandbox added to apply so that nothing leaves.
func TestRecipesRunOnQuickstart(t *testing.T) {
	dir := quickstartCopy(t)
	vars := map[string]string{"HERALD_DIR": dir, "RUNNER_TEMP": t.TempDir()}

	for _, in := range heraldInvocations(t, loadWorkflow(t, "herald-plan.yml"), vars) {
		code, stdout, stderr := herald(t, in.env, in.args...)
		switch in.commandName() {
		case "version":
			assert.Equal(t, 0, code, stderr)
		case "validate":
			assert.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "valid")
		case "fmt":
			assert.Equal(t, 0, code, "the quickstart is formatted: %s%s", stdout, stderr)
		case "plan":
			require.Equal(t, 0, code, stderr)
			assert.True(t, strings.HasPrefix(stdout, views.PlanCommentMarker+"\n"), "the comment starts with the marker the workflow looks for")
			assert.Contains(t, stdout, "**Plan: 1 to send, 3 waiting.**")
			assert.Contains(t, stdout, "<summary>Schedule: 4 sends to come, none at night, no collisions</summary>")
			assert.Contains(t, stdout, `<a href="https://example.com/launch-poster.png">launch-poster.png</a>`)
			assert.LessOrEqual(t, len(stdout), views.GitHubCommentLimit)
		default:
			t.Errorf("unexpected herald %s in the plan recipe", in.commandName())
		}
	}

	apply := heraldInvocations(t, loadWorkflow(t, "herald-apply.yml"), vars)
	var args []string
	for _, in := range apply {
		if in.commandName() == "apply" {
			args = in.args
		}
	}
	require.NotNil(t, args)
	if !slices.Contains(acceptedFlags(t, "apply"), "sandbox") {
		t.Skip("herald apply has no -sandbox yet: the apply step of the recipe is not run")
	}
	code, stdout, stderr := herald(t, nil, append(args, "-sandbox")...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.FileExists(t, filepath.Join(dir, "herald.sandbox.state.json"))
	assert.NoFileExists(t, filepath.Join(dir, "herald.state.json"), "a sandbox apply never writes the real state")

	// The next scheduled run finds the message recorded and sends nothing.
	code, stdout, stderr = herald(t, nil, append(args, "-sandbox")...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	code, stdout, _ = herald(t, nil, "-chdir="+dir, "plan", "-state=herald.sandbox.state.json", "-detailed-exitcode")
	assert.Equal(t, 0, code, "nothing left to send after apply:\n%s", stdout)
}

// TestPlanRecipeFailsOnInvalidConfiguration: the validate step exits 1,
// which fails the job; fmt -check exits 3 on an unformatted file.
func TestPlanRecipeFailsOnInvalidConfiguration(t *testing.T) {
	dir := quickstartCopy(t)
	vars := map[string]string{"HERALD_DIR": dir, "RUNNER_TEMP": t.TempDir()}
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(main, bytes.Replace(src, []byte("group   = group.community"), []byte("group   = group.nope"), 1), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extra.hcl"), []byte("locals {\n    x=1\n}\n"), 0o644))

	codes := map[string]int{}
	for _, in := range heraldInvocations(t, loadWorkflow(t, "herald-plan.yml"), vars) {
		code, _, stderr := herald(t, in.env, in.args...)
		codes[in.commandName()] = code
		if in.commandName() == "validate" {
			assert.Contains(t, stderr, "nope")
		}
	}
	assert.Equal(t, 1, codes["validate"], "an invalid configuration fails validate")
	assert.Equal(t, 3, codes["fmt"], "an unformatted file fails fmt -check")
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"D": "a dir", "V": "v1"}
	for line, want := range map[string][]string{
		`herald -chdir="$D" validate -no-color 2>&1 | tee x`: {"herald", "-chdir=a dir", "validate", "-no-color"},
		`herald -chdir="$D" plan -markdown > "$D/p.md" 2> e`: {"herald", "-chdir=a dir", "plan", "-markdown"},
		`go install "github.com/heraldhq/herald@${V}"`:       {"go", "install", "github.com/heraldhq/herald@v1"},
		`herald 'a b' plan || status=$?`:                     {"herald", "a b", "plan"},
		`herald apply -auto-approve # and a comment`:         {"herald", "apply", "-auto-approve"},
		`herald -chdir=$D plan`:                              {"herald", "-chdir=a", "dir", "plan"},
		`herald "-var=x=\"q\"" plan; echo done`:              {"herald", `-var=x="q"`, "plan"},
	} {
		assert.Equal(t, want, shellWords(t, line, vars), line)
	}
}
