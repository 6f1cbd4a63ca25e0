package ghaction

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	repoName = "acme/broadcasts"
	token    = "ghs_test-token"
	prNumber = 7
	// quickstartClock is when examples/quickstart has one message due and
	// three waiting.
	quickstartClock = "2026-12-01T08:30:00Z"
)

// workspace is a checkout: a repository with herald configurations in
// subdirectories, and the pull-request event the run is for.
type workspace struct {
	dir   string
	event string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	w := &workspace{dir: t.TempDir()}
	w.event = filepath.Join(t.TempDir(), "event.json")
	ev, err := json.Marshal(map[string]any{"action": "synchronize", "pull_request": map[string]any{"number": prNumber}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(w.event, ev, 0o644))
	return w
}

// quickstart copies examples/quickstart to DIR in the workspace.
func (w *workspace) quickstart(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "examples", "quickstart")
	dst := filepath.Join(w.dir, dir)
	require.NoError(t, os.MkdirAll(dst, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
	}
	return dst
}

func (w *workspace) write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(w.dir, dir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(w.dir, dir, name), []byte(content), 0o644))
}

// action runs the action's run step for command in dir.
func (w *workspace) action(t *testing.T, apiURL, command, dir string, extra map[string]string) result {
	t.Helper()
	env := map[string]string{
		"HERALD_COMMAND":           command,
		"HERALD_WORKING_DIRECTORY": dir,
		"HERALD_BIN":               heraldBin,
		"GITHUB_API_URL":           apiURL,
		"GITHUB_REPOSITORY":        repoName,
		"GITHUB_TOKEN":             token,
		"GITHUB_EVENT_PATH":        w.event,
		"GITHUB_SERVER_URL":        "https://github.example",
		"GITHUB_RUN_ID":            "4242",
	}
	if command == "plan" {
		env["HERALD_ARGS"] = "-at=" + quickstartClock
	}
	for k, v := range extra {
		env[k] = v
	}
	return runScript(t, w.dir, env, "run")
}

func marker(dir string) string { return fmt.Sprintf(`<!-- herald-plan dir="%s" -->`, dir) }

// planComments are the pull request's comments that start with a marker
// of the action.
func planComments(f *fakeGitHub) []comment {
	var out []comment
	for _, c := range f.all(prNumber) {
		if strings.HasPrefix(c.Body, `<!-- herald-plan dir=`) {
			out = append(out, c)
		}
	}
	return out
}

func TestPlanCommentIsCreatedThenEditedInPlace(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	// More than a page of other comments: the plan comment is found past
	// the first page, and none of the others is touched.
	for i := range 120 {
		f.seed(prNumber, "reviewer", fmt.Sprintf("comment %d", i))
	}
	f.seed(prNumber, "reviewer", "> "+marker("teams/eng")+" quoted, not the plan comment")
	w := newWorkspace(t)
	eng := w.quickstart(t, "teams/eng")
	w.quickstart(t, "teams/sales")

	first := w.action(t, srv.URL, "plan", "teams/eng", nil)
	require.Equal(t, 0, first.code, "a plan with messages to send succeeds\nstdout:\n%s\nstderr:\n%s", first.stdout, first.stderr)
	assert.Equal(t, "2", first.outputs["exitcode"], "herald plan -detailed-exitcode said: changes")
	assert.Equal(t, "true", first.outputs["changes"])
	assert.FileExists(t, first.outputs["plan-file"])
	assert.Contains(t, first.stdout, "message.launch", "the plan is in the job log")
	assert.Contains(t, first.stdout, "Plan comment created on pull request #7")
	require.Len(t, planComments(f), 1)
	c := planComments(f)[0]
	assert.Equal(t, fmt.Sprint(c.ID), first.outputs["comment-id"])
	assert.True(t, strings.HasPrefix(c.Body, marker("teams/eng")+"\n"), "the comment starts with the directory's marker: %.100q", c.Body)
	assert.Contains(t, c.Body, "**Plan: 1 to send, 3 waiting.**")
	assert.Contains(t, c.Body, "Launch day is 2026-12-01!")
	assert.Contains(t, c.Body, "[job log](https://github.example/acme/broadcasts/actions/runs/4242)")
	checkMarkdown(t, c.Body, "")

	// A push changes the text: the same comment is edited, none added.
	main := filepath.Join(eng, "main.hcl")
	src, err := os.ReadFile(main)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(main, []byte(strings.Replace(string(src), "Launch day is", "Launch day, at last, is", 1)), 0o644))
	second := w.action(t, srv.URL, "plan", "./teams/eng/", nil)
	require.Equal(t, 0, second.code, second.stderr)
	assert.Contains(t, second.stdout, "Plan comment updated on pull request #7")
	require.Len(t, planComments(f), 1, "no second comment")
	edited := planComments(f)[0]
	assert.Equal(t, c.ID, edited.ID)
	assert.Contains(t, edited.Body, "Launch day, at last, is 2026-12-01!")
	assert.NotContains(t, edited.Body, "Launch day is 2026-12-01!")
	_, creates, updates := f.requests()
	assert.Equal(t, 1, creates)
	assert.Equal(t, 1, updates)

	// Another directory has a comment of its own.
	other := w.action(t, srv.URL, "plan", "teams/sales", nil)
	require.Equal(t, 0, other.code, other.stderr)
	comments := planComments(f)
	require.Len(t, comments, 2)
	assert.Equal(t, c.ID, comments[0].ID)
	assert.True(t, strings.HasPrefix(comments[1].Body, marker("teams/sales")+"\n"))
	assert.Contains(t, comments[0].Body, "Launch day, at last", "the first directory's comment is left as it was")

	// The others' comments are as they were.
	all := f.all(prNumber)
	assert.Len(t, all, 123)
	for i := range 120 {
		assert.Equal(t, fmt.Sprintf("comment %d", i), all[i].Body)
	}
	_, creates, updates = f.requests()
	assert.Equal(t, 2, creates)
	assert.Equal(t, 1, updates)
}

func TestPlanExitCodes(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	w := newWorkspace(t)
	w.quickstart(t, "q")

	t.Run("changes fail the step when asked", func(t *testing.T) {
		r := w.action(t, srv.URL, "plan", "q", map[string]string{"HERALD_FAIL_ON_CHANGES": "true"})
		assert.Equal(t, 2, r.code)
		assert.Equal(t, "true", r.outputs["changes"])
		assert.Contains(t, r.stdout, "::error::herald plan: there are messages to send, and fail-on-changes is set.")
	})
	t.Run("nothing to send", func(t *testing.T) {
		// Every message waits: nothing to send, so -detailed-exitcode
		// says 0.
		r := w.action(t, srv.URL, "plan", "q", map[string]string{"HERALD_ARGS": "-at=2026-11-01T00:00:00Z", "HERALD_FAIL_ON_CHANGES": "true"})
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "0", r.outputs["exitcode"])
		assert.Equal(t, "false", r.outputs["changes"])
	})
	t.Run("an invalid configuration fails with herald's code and says why", func(t *testing.T) {
		w.write(t, "bad", "main.hcl", "group \"eng\" {\n  thread_id = \"t\"\n}\n\nmessage \"m\" {\n  group   = group.nope\n  send_at = \"2026-12-01T09:00:00Z\"\n  text    = \"<b>hi</b>\"\n}\n")
		r := w.action(t, srv.URL, "plan", "bad", nil)
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "1", r.outputs["exitcode"])
		assert.Contains(t, r.stderr, "nope", "herald's diagnostics are in the log")
		var body string
		for _, c := range planComments(f) {
			if strings.HasPrefix(c.Body, marker("bad")) {
				body = c.Body
			}
		}
		require.NotEmpty(t, body, "the comment says the plan failed")
		assert.Contains(t, body, "**herald plan failed** in <code>bad</code> (exit 1)")
		assert.Contains(t, body, "nope")
		checkMarkdown(t, body, "")
	})
	t.Run("validate and fmt pass herald's code through", func(t *testing.T) {
		r := w.action(t, srv.URL, "validate", "bad", nil)
		assert.Equal(t, 1, r.code)
		r = w.action(t, srv.URL, "validate", "q", nil)
		assert.Equal(t, 0, r.code, r.stderr)
		w.write(t, "unformatted", "main.hcl", "locals {\n    x=1\n}\n")
		r = w.action(t, srv.URL, "fmt", "unformatted", nil)
		assert.Equal(t, 3, r.code, "fmt -check: a file is not formatted")
		assert.Contains(t, r.stdout+r.stderr, "main.hcl")
	})
	t.Run("apply", func(t *testing.T) {
		r := w.action(t, srv.URL, "apply", "q", map[string]string{"HERALD_ARGS": "-sandbox -at=" + quickstartClock})
		assert.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		assert.FileExists(t, filepath.Join(w.dir, "q", "herald.sandbox.state.json"))
		r = w.action(t, srv.URL, "apply", "q", map[string]string{"HERALD_ARGS": "-sandbox -at=not-a-time"})
		assert.Equal(t, 1, r.code)
	})
	t.Run("args are split into words, quotes honoured", func(t *testing.T) {
		w.write(t, "vars", "main.hcl", "variable \"who\" {\n  type = string\n}\n\ngroup \"eng\" {\n  thread_id = \"t\"\n  from      = \"+14155550000\"\n}\n\nmessage \"m\" {\n  group   = group.eng\n  send_at = \"2026-12-01T08:00:00Z\"\n  text    = \"hello ${var.who}\"\n}\n")
		r := w.action(t, srv.URL, "plan", "vars", map[string]string{"HERALD_COMMENT": "false", "HERALD_ARGS": `-at=2026-12-01T08:30:00Z "-var=who=the whole team"`})
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "hello the whole team")
		r = w.action(t, srv.URL, "plan", "vars", map[string]string{"HERALD_ARGS": `'-var=who=unclosed`})
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "args: cannot split into words")
	})
	t.Run("test passes herald's code through", func(t *testing.T) {
		w.write(t, "tested", "main.hcl", "group \"eng\" {\n  thread_id = \"t\"\n  from      = \"+14155550000\"\n}\n\nmessage \"m\" {\n  group   = group.eng\n  send_at = \"2026-12-01T08:00:00Z\"\n  text    = \"hello\"\n}\n")
		w.write(t, "tested/tests", "m.test.hcl", "run \"due\" {\n  at = \"2026-12-01T08:30:00Z\"\n  assert {\n    condition     = message.m.action == \"send\"\n    error_message = \"m is due\"\n  }\n}\n")
		r := w.action(t, srv.URL, "test", "tested", nil)
		assert.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stdout, "ok  \ttests/m.test.hcl")
		w.write(t, "tested/tests", "m.test.hcl", "run \"due\" {\n  at = \"2026-12-01T07:30:00Z\"\n  assert {\n    condition     = message.m.action == \"send\"\n    error_message = \"m is due\"\n  }\n}\n")
		r = w.action(t, srv.URL, "test", "tested", nil)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stdout, "--- FAIL: due")
	})
	t.Run("an unknown command", func(t *testing.T) {
		r := w.action(t, srv.URL, "destroy", "q", nil)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, `command "destroy": expected validate, fmt, test, plan or apply`)
	})
}

func TestPlanCommentOffAndOutsidePullRequests(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	w := newWorkspace(t)
	w.quickstart(t, ".")
	r := w.action(t, srv.URL, "plan", ".", map[string]string{"HERALD_COMMENT": "false"})
	assert.Equal(t, 0, r.code, r.stderr)
	r = w.action(t, srv.URL, "plan", ".", map[string]string{"GITHUB_EVENT_PATH": filepath.Join(t.TempDir(), "push.json")})
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Not a pull request")
	lists, creates, updates := f.requests()
	assert.Zero(t, lists+creates+updates, "no request to GitHub")
}

// A fork's pull request gets a token that cannot comment: the job's result
// is still herald's, with a warning.
func TestCommentRefusedKeepsHeraldsResult(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	f.refuseWrites()
	w := newWorkspace(t)
	w.quickstart(t, ".")
	r := w.action(t, srv.URL, "plan", ".", nil)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "::warning::herald action: could not post the plan comment")
	assert.Contains(t, r.stderr, "403")
	r = w.action(t, srv.URL, "plan", ".", map[string]string{"GITHUB_TOKEN": "wrong"})
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stderr, "401")
}

// hugeConfig has enough long messages that the plan's markdown exceeds
// GitHub's limit many times over.
func hugeConfig() string {
	var b strings.Builder
	b.WriteString("group \"eng\" {\n  thread_id = \"t-eng\"\n  from      = \"+14155550000\"\n}\n\n")
	b.WriteString("message \"notice\" {\n  for_each = toset([for i in range(600) : format(\"n%04d\", i)])\n  group    = group.eng\n")
	b.WriteString("  send_at  = timeadd(\"2026-12-02T09:00:00Z\", format(\"%dm\", tonumber(substr(each.key, 1, 4))))\n")
	b.WriteString("  text     = \"Notice ${each.key}: ${join(\" \", [for j in range(40) : \"word${j}\"])}\\n```\\nnot a fence\\n```\"\n}\n\n")
	b.WriteString("message \"now\" {\n  group   = group.eng\n  send_at = \"2026-12-01T08:00:00Z\"\n  text    = \"due now\"\n}\n")
	return b.String()
}

const truncationNote = "this comment was cut to fit GitHub's limit of 65,536 characters; the full plan is in [the job log](https://github.example/acme/broadcasts/actions/runs/4242)."

func TestHugePlanIsTruncatedWithValidMarkdown(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	w := newWorkspace(t)
	w.write(t, "big", "main.hcl", hugeConfig())
	r := w.action(t, srv.URL, "plan", "big", nil)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "true", r.outputs["changes"])
	assert.Greater(t, len(r.stdout), 2*65536, "the log has the whole plan")
	assert.Contains(t, r.stdout, `message.notice["n0599"]`)
	comments := planComments(f)
	require.Len(t, comments, 1)
	body := comments[0].Body
	assert.Greater(t, len(body), 60000, "the comment uses the room it has")
	assert.Contains(t, body, truncationNote)
	assert.True(t, strings.HasSuffix(body, "[job log](https://github.example/acme/broadcasts/actions/runs/4242)</sub>\n"), "the footer is kept: %q", body[len(body)-200:])
	checkMarkdown(t, body, truncationNote)
}

// hugeErrors is a configuration with hundreds of errors, whose diagnostics
// exceed the limit.
func hugeErrors() string {
	var b strings.Builder
	b.WriteString("group \"eng\" {\n  thread_id = \"t-eng\"\n}\n\n")
	for i := range 600 {
		fmt.Fprintf(&b, "message \"m%d\" {\n  group   = group.nope%d\n  send_at = \"2026-12-01T09:00:00Z\"\n  text    = \"</pre> <details> ```\"\n}\n\n", i, i)
	}
	return b.String()
}

func TestHugeFailureIsTruncatedWithValidMarkdown(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	w := newWorkspace(t)
	w.write(t, "broken", "main.hcl", hugeErrors())
	r := w.action(t, srv.URL, "plan", "broken", nil)
	require.Equal(t, 1, r.code)
	assert.Greater(t, len(r.stderr), 65536, "the diagnostics exceed a comment")
	comments := planComments(f)
	require.Len(t, comments, 1)
	body := comments[0].Body
	assert.Contains(t, body, "**herald plan failed**")
	assert.Contains(t, body, truncationNote)
	assert.NotContains(t, body, "</pre> <details>", "herald's output is escaped inside <pre>")
	checkMarkdown(t, body, truncationNote)
}

func TestTruncate(t *testing.T) {
	lines := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s line %d of some length\n", prefix, i)
		}
		return b.String()
	}
	const note = "> **Note:** cut; see the log.\n"
	cases := map[string]string{
		"a backtick fence":  "# Plan\n\n````text\n" + lines("```", 200) + "````\n\nafter\n",
		"a tilde fence":     "# Plan\n\n~~~\n" + lines("x", 200) + "~~~\n",
		"an indented fence": "  ```\n" + lines("y", 200) + "  ```\n",
		"nested details with a fence": "<details><summary>a</summary>\n\n<details open><summary>b</summary>\n\n```text\n" +
			lines("z", 200) + "```\n\n</details>\n\n</details>\n",
		"details with pre": "<details><summary>m</summary>\n\n<pre>\n" + lines("p", 200) + "</pre>\n\n</details>\n\n" +
			"<details><summary>n</summary>\n\n<pre>\n" + lines("q", 200) + "</pre>\n\n</details>\n",
		"a table": "| a | b |\n|---|---|\n" + lines("| c | d |", 300),
	}
	notefile := filepath.Join(t.TempDir(), "note.md")
	require.NoError(t, os.WriteFile(notefile, []byte(note), 0o644))
	for name, in := range cases {
		for _, limit := range []int{300, 1000, 4000} {
			t.Run(fmt.Sprintf("%s/%d", name, limit), func(t *testing.T) {
				out := truncate(t, in, limit, notefile)
				assert.LessOrEqual(t, len(out), limit)
				assert.True(t, strings.HasSuffix(out, note))
				assert.True(t, strings.HasPrefix(in, strings.SplitN(out, "\n", 2)[0]), "keeps the start")
				checkMarkdown(t, out, "cut; see the log.")
			})
		}
	}
	// What fits is left alone, byte for byte.
	small := "<details><summary>a</summary>\n\n```\nunclosed on purpose"
	assert.Equal(t, small, truncate(t, small, 1000, notefile))
}

func truncate(t *testing.T, in string, limit int, notefile string) string {
	t.Helper()
	cmd := execScript(t, "truncate", fmt.Sprint(limit), notefile)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	require.NoError(t, err)
	return string(out)
}
