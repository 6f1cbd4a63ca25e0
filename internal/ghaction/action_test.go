package ghaction

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/release"
	"github.com/heraldhq/herald/internal/testkit"
)

// heraldBin is herald built from this checkout, once for the package.
var heraldBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := exec.LookPath("bash"); err != nil {
		fmt.Fprintln(os.Stderr, "ghaction tests need bash:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "herald-ghaction-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := release.Root(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	heraldBin, err = testkit.Build(dir, testkit.BuildOptions{Root: root, LDFlags: "-X main.version=1.2.3"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "building herald: %v\n", err)
		return 1
	}
	return m.Run()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := release.Root(".")
	require.NoError(t, err)
	return r
}

func script(t *testing.T) string {
	return filepath.Join(repoRoot(t), "scripts", "github-action.sh")
}

// result is one run of the script.
type result struct {
	code           int
	stdout, stderr string
	outputs        map[string]string // what it wrote to GITHUB_OUTPUT
	path           []string          // what it added to GITHUB_PATH
}

// runScript runs scripts/github-action.sh STEP in dir with env on top of a
// minimal environment, as a step of the action runs it.
func runScript(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	tmp := t.TempDir()
	outFile, pathFile := filepath.Join(tmp, "output"), filepath.Join(tmp, "path")
	cmd := exec.Command("bash", append([]string{script(t)}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tmp,
		"RUNNER_TEMP=" + tmp,
		"GITHUB_OUTPUT=" + outFile,
		"GITHUB_PATH=" + pathFile,
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code, err := testkit.ExitCode(cmd.Run())
	require.NoError(t, err)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String(), outputs: map[string]string{}}
	if raw, err := os.ReadFile(outFile); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				r.outputs[k] = v
			}
		}
	}
	if raw, err := os.ReadFile(pathFile); err == nil {
		r.path = strings.Fields(string(raw))
	}
	return r
}

// checkMarkdown checks that body is a comment GitHub accepts and renders
// as intended (see markdownProblems).
func checkMarkdown(t *testing.T, body, note string) {
	t.Helper()
	assert.Empty(t, markdownProblems(body, note))
}

// markdownProblems lists what is wrong with body as a comment: over
// GitHub's limit, a <pre> block left open, <details> unbalanced, or, when
// note is not empty, the note missing or swallowed by a code or HTML
// block instead of standing as a block quote of its own.
func markdownProblems(body, note string) []string {
	var problems []string
	if n := len([]rune(body)); n > views.GitHubCommentLimit {
		problems = append(problems, fmt.Sprintf("%d characters, over GitHub's limit", n))
	}
	src := []byte(body)
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	lines := func(n ast.Node) string {
		var s strings.Builder
		for i := 0; i < n.Lines().Len(); i++ {
			seg := n.Lines().At(i)
			s.Write(seg.Value(src))
		}
		return s.String()
	}
	var html strings.Builder
	noteOutside := false
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch b := n.(type) {
		case *ast.HTMLBlock:
			s := lines(b)
			if b.HasClosure() {
				s += string(b.ClosureLine.Value(src))
			} else if b.HTMLBlockType == ast.HTMLBlockType1 {
				problems = append(problems, fmt.Sprintf("a <pre> block is not closed: %.80q", s))
			}
			if note != "" && strings.Contains(s, note) {
				problems = append(problems, "the note is inside an HTML block")
			}
			html.WriteString(s)
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			if note != "" && strings.Contains(lines(n), note) {
				problems = append(problems, "the note is inside a code block")
			}
			return ast.WalkSkipChildren, nil
		case *ast.Blockquote:
			for c := b.FirstChild(); c != nil; c = c.NextSibling() {
				if note != "" && strings.Contains(lines(c), note) {
					noteOutside = true
				}
			}
		}
		return ast.WalkContinue, nil
	})
	if note != "" && !noteOutside {
		problems = append(problems, "the note is not a block quote of its own")
	}
	if opened, closed := strings.Count(html.String(), "<details"), strings.Count(html.String(), "</details>"); opened != closed {
		problems = append(problems, fmt.Sprintf("%d <details> opened, %d closed", opened, closed))
	}
	return problems
}

// The checker itself tells broken markup.
func TestMarkdownProblems(t *testing.T) {
	const note = "see the log"
	assert.Empty(t, markdownProblems("<details><summary>x</summary>\n\n<pre>\na\n</pre>\n\n</details>\n\n> "+note+"\n", note))
	for name, body := range map[string]string{
		"unclosed fence":   "```text\na\n\n> " + note + "\n",
		"unclosed pre":     "<pre>\na\n\n> " + note + "\n",
		"unclosed details": "<details><summary>x</summary>\n\na\n\n> " + note + "\n",
		"note in details":  "<details><summary>x</summary>\n> " + note + "\n</details>\n",
		"no note":          "just text\n",
		"too long":         strings.Repeat("é", views.GitHubCommentLimit+1) + "\n\n> " + note + "\n",
	} {
		assert.NotEmpty(t, markdownProblems(body, note), name)
	}
}

func execScript(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script(t)}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + t.TempDir()}
	return cmd
}
