package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
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
	Shell           string            `yaml:"shell"`
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

// action is the part of action.yml these tests read and run.
type action struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string        `yaml:"using"`
		Steps []*actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
	Run   string            `yaml:"run"`
}

func loadAction(t *testing.T) *action {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	require.NoError(t, err)
	var a action
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(false) // branding, author, description
	require.NoError(t, dec.Decode(&a))
	return &a
}

// scriptStep is the action's step that runs scripts/github-action.sh SUB.
func (a *action) scriptStep(t *testing.T, sub string) *actionStep {
	t.Helper()
	for _, s := range a.Runs.Steps {
		if strings.TrimSpace(s.Run) == `"$GITHUB_ACTION_PATH/scripts/github-action.sh" `+sub {
			return s
		}
	}
	t.Fatalf("action.yml has no step running github-action.sh %s", sub)
	return nil
}

var expression = regexp.MustCompile(`\$\{\{\s*([a-z]+)\.([A-Za-z0-9_.-]+)\s*\}\}`)

// expand replaces ${{ ctx.name }} in s from values["ctx.name"]; an
// expression the test does not know fails it.
func expand(t *testing.T, s string, values map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		sub := expression.FindStringSubmatch(m)
		v, ok := values[sub[1]+"."+sub[2]]
		require.True(t, ok, "%q uses %s, which the test does not know", s, m)
		return v
	})
}

// heraldSteps are the recipe's steps that use the herald action.
func (j *job) heraldSteps() []*step {
	var out []*step
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "heraldhq/herald@") {
			out = append(out, s)
		}
	}
	return out
}

// actionRun is one step of a recipe that uses the herald action, as the
// action's run step sees it: its environment.
type actionRun struct {
	step    string
	command string
	env     map[string]string
}

// actionRuns resolves each herald step of the recipe: its with: inputs
// (expressions of the workflow's env expanded, vars first) over the
// action's defaults, then the action's run-step environment from them.
// extraArgs[command] is appended to the args input, as a test's -at or
// -sandbox.
func actionRuns(t *testing.T, w *workflow, vars map[string]string, extraArgs map[string]string) []actionRun {
	t.Helper()
	a := loadAction(t)
	run := a.scriptStep(t, "run")
	values := map[string]string{"github.token": "TOKEN", "steps.install.outputs.path": heraldBin}
	for k, v := range w.Env {
		values["env."+k] = v
	}
	for k, v := range vars {
		values["env."+k] = v
	}
	var out []actionRun
	for _, s := range w.job().heraldSteps() {
		inputs := map[string]string{}
		for k, in := range a.Inputs {
			inputs["inputs."+k] = expand(t, in.Default, values)
		}
		for k, v := range s.With {
			_, ok := a.Inputs[k]
			require.True(t, ok, "step %q: the action has no input %q", s.Name, k)
			inputs["inputs."+k] = expand(t, v, values)
		}
		inputs["inputs.args"] = strings.TrimSpace(inputs["inputs.args"] + " " + extraArgs[inputs["inputs.command"]])
		for k, v := range values {
			inputs[k] = v
		}
		env := map[string]string{}
		for k, v := range w.Env {
			env[k] = v
		}
		for k, v := range s.Env {
			env[k] = v
		}
		for k, v := range run.Env {
			env[k] = expand(t, v, inputs)
		}
		out = append(out, actionRun{step: s.Name, command: inputs["inputs.command"], env: env})
	}
	return out
}

// runAction runs the action's run step as GitHub would, in dir.
func runAction(t *testing.T, dir string, r actionRun) (int, string, string, map[string]string) {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "github-action.sh"), "run")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "RUNNER_TEMP=" + tmp, "GITHUB_OUTPUT=" + filepath.Join(tmp, "output")}
	for k, v := range r.env {
		if !strings.Contains(v, "${{") {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := exitCode(t, cmd.Run())
	outputs := map[string]string{}
	if raw, err := os.ReadFile(filepath.Join(tmp, "output")); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				outputs[k] = v
			}
		}
	}
	return code, stdout.String(), stderr.String(), outputs
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

// checkArgs checks that herald's command accepts every option of an args
// input.
func checkArgs(t *testing.T, r actionRun) {
	t.Helper()
	cmd := r.command
	_, ok := command.Lookup(cmd)
	require.True(t, ok, "step %q runs herald %q, which is no herald command", r.step, cmd)
	flags := acceptedFlags(t, cmd)
	for _, a := range shellWords(t, r.env["HERALD_ARGS"], nil) {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		assert.Contains(t, flags, name, "step %q: herald %s does not accept %q", r.step, cmd, a)
	}
}

func TestActionDefinition(t *testing.T) {
	a := loadAction(t)
	assert.Equal(t, "composite", a.Runs.Using, "no Docker needed")
	for _, in := range []string{"command", "working-directory", "version", "args", "comment", "fail-on-changes", "github-token"} {
		assert.Contains(t, a.Inputs, in)
	}
	assert.Equal(t, "plan", a.Inputs["command"].Default)
	assert.Equal(t, "${{ github.token }}", a.Inputs["github-token"].Default)
	used := map[string]bool{}
	var all strings.Builder
	for _, s := range a.Runs.Steps {
		if s.Run != "" {
			assert.Equal(t, "bash", s.Shell, "step %q", s.Name)
		}
		for _, v := range s.Env {
			all.WriteString(v + "\n")
		}
		for _, v := range s.With {
			all.WriteString(v + "\n")
		}
	}
	for _, m := range regexp.MustCompile(`inputs\.([a-z-]+)`).FindAllStringSubmatch(all.String(), -1) {
		used[m[1]] = true
		assert.Contains(t, a.Inputs, m[1], "the action uses an input it declares")
	}
	for in := range a.Inputs {
		assert.True(t, used[in], "input %q is passed to a step", in)
	}
	for _, sub := range []string{"resolve", "install", "run"} {
		a.scriptStep(t, sub)
	}
	var cache *actionStep
	for _, s := range a.Runs.Steps {
		if strings.HasPrefix(s.Uses, "actions/cache@") {
			cache = s
		}
	}
	require.NotNil(t, cache, "the binary is cached")
	assert.Equal(t, "${{ steps.resolve.outputs.dir }}", cache.With["path"])
	assert.Equal(t, "${{ steps.resolve.outputs.cache-key }}", cache.With["key"])
	assert.Equal(t, "${{ steps.resolve.outputs.tag }}", a.scriptStep(t, "install").Env["HERALD_VERSION"], "installs the release resolve picked")
	for _, out := range []string{"exitcode", "changes", "plan-file", "comment-id", "version"} {
		assert.Contains(t, a.Outputs, out)
	}
}

// checkHeraldSteps: every herald step pins the same release through the
// workflow's HERALD_VERSION and works in HERALD_DIR.
func checkHeraldSteps(t *testing.T, w *workflow) {
	t.Helper()
	assert.Regexp(t, `^v\d+\.\d+\.\d+$`, w.Env["HERALD_VERSION"], "%s pins herald to a release", w.Name)
	steps := w.job().heraldSteps()
	require.NotEmpty(t, steps, "%s uses the herald action", w.Name)
	for _, s := range steps {
		assert.Equal(t, "heraldhq/herald@v1", s.Uses)
		assert.Equal(t, "${{ env.HERALD_VERSION }}", s.With["version"], "step %q", s.Name)
		assert.Equal(t, "${{ env.HERALD_DIR }}", s.With["working-directory"], "step %q", s.Name)
	}
	for _, s := range w.job().Steps {
		assert.NotContains(t, s.Run, "go install", "%s installs herald with the action, not from source", w.Name)
		assert.NotContains(t, s.Uses, "actions/setup-go")
	}
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
	checkHeraldSteps(t, w)

	var cmds []string
	for _, r := range actionRuns(t, w, nil, nil) {
		checkArgs(t, r)
		cmds = append(cmds, r.command)
		assert.Equal(t, "true", r.env["HERALD_COMMENT"], "the plan is posted as a comment")
		assert.Equal(t, "TOKEN", r.env["HERALD_COMMENT_TOKEN"], "with the workflow's token")
		assert.NotContains(t, r.env, "GITHUB_TOKEN", "under a name of the action's own, which the script takes out of herald's environment")
	}
	assert.Equal(t, []string{"plan", "fmt", "test"}, cmds)

	// The checks run to the end, and the last step fails the job.
	j := w.job()
	for _, s := range j.heraldSteps() {
		assert.True(t, s.ContinueOnError, "step %q lets the other check run", s.Name)
		assert.NotEmpty(t, s.ID)
	}
	last := j.Steps[len(j.Steps)-1]
	assert.Contains(t, last.If, "steps.plan.outcome != 'success'")
	assert.Contains(t, last.If, "steps.fmt.outcome != 'success'")
	assert.Contains(t, last.Run, "exit 1")
}

func checkApplyRecipe(t *testing.T, w *workflow) actionRun {
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
	checkHeraldSteps(t, w)

	checkout := w.job().stepUsing("actions/checkout")
	require.NotNil(t, checkout)
	assert.Equal(t, "${{ github.event.repository.default_branch }}", checkout.With["ref"], "a queued run applies the branch as it is now")

	runs := actionRuns(t, w, nil, nil)
	require.Len(t, runs, 1)
	apply := runs[0]
	assert.Equal(t, "apply", apply.command)
	checkArgs(t, apply)
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
	assert.Equal(t, "bash", w.Defaults.Run.Shell)
}

func TestApplyRecipePostgres(t *testing.T) {
	w := loadWorkflow(t, "herald-apply-postgres.yml")
	apply := checkApplyRecipe(t, w)
	assert.Equal(t, "read", w.Permissions["contents"], "commits nothing")
	for _, v := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"} {
		assert.Equal(t, "${{ secrets."+v+" }}", apply.env[v])
	}
	assert.Equal(t, "-lock-timeout=5m", apply.env["HERALD_ARGS"], "waits for an apply someone started by hand")
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

// TestRecipesRunOnQuickstart runs the recipes' herald steps through the
// action's script, in the order a pull request and its merge run them, on
// a copy of the quickstart, at a fixed clock, with -sandbox added to apply
// so that nothing leaves. (The comment is tested in internal/ghaction;
// outside a pull request there is none to post.)
func TestRecipesRunOnQuickstart(t *testing.T) {
	dir := quickstartCopy(t)
	clock := "-at=" + quickstartClock.Format(time.RFC3339)
	vars := map[string]string{"HERALD_DIR": dir}

	for _, r := range actionRuns(t, loadWorkflow(t, "herald-plan.yml"), vars, map[string]string{"plan": clock}) {
		code, stdout, stderr, outputs := runAction(t, dir, r)
		switch r.command {
		case "plan":
			require.Equal(t, 0, code, "a plan with messages to send passes\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Equal(t, "true", outputs["changes"])
			assert.Contains(t, stdout, "Plan: 1 to send, 3 waiting.")
			assert.Contains(t, stdout, "Not a pull request: no plan comment to post.")
		case "fmt":
			assert.Equal(t, 0, code, "the quickstart is formatted: %s%s", stdout, stderr)
		case "test":
			assert.Equal(t, 0, code, "a configuration without test files passes: %s%s", stdout, stderr)
			assert.Contains(t, stdout, "No test files")
		default:
			t.Errorf("unexpected herald %s in the plan recipe", r.command)
		}
	}

	apply := actionRuns(t, loadWorkflow(t, "herald-apply.yml"), vars, map[string]string{"apply": "-sandbox " + clock})
	require.Len(t, apply, 1)
	code, stdout, stderr, _ := runAction(t, dir, apply[0])
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.FileExists(t, filepath.Join(dir, "herald.sandbox.state.json"))
	assert.NoFileExists(t, filepath.Join(dir, "herald.state.json"), "a sandbox apply never writes the real state")

	// The next scheduled run finds the message recorded and sends nothing.
	code, stdout, stderr, _ = runAction(t, dir, apply[0])
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	code, stdout, _ = herald(t, nil, "-chdir="+dir, "plan", "-state=herald.sandbox.state.json", "-detailed-exitcode")
	assert.Equal(t, 0, code, "nothing left to send after apply:\n%s", stdout)
}

// TestPlanRecipeFailsOnInvalidConfiguration: the plan step exits 1, which
// fails the job; fmt -check exits 3 on an unformatted file.
func TestPlanRecipeFailsOnInvalidConfiguration(t *testing.T) {
	dir := quickstartCopy(t)
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(main, bytes.Replace(src, []byte("group   = group.community"), []byte("group   = group.nope"), 1), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extra.hcl"), []byte("locals {\n    x=1\n}\n"), 0o644))

	codes := map[string]int{}
	for _, r := range actionRuns(t, loadWorkflow(t, "herald-plan.yml"), map[string]string{"HERALD_DIR": dir}, nil) {
		code, _, stderr, _ := runAction(t, dir, r)
		codes[r.command] = code
		if r.command == "plan" {
			assert.Contains(t, stderr, "nope")
		}
	}
	assert.Equal(t, 1, codes["plan"], "an invalid configuration fails plan")
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
