package command

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyFixture copies testdata/fmt/name into a temporary directory, so fmt
// may rewrite it, and adds a .git directory holding an unformatted file
// (git cannot keep one inside testdata) that fmt must leave alone.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src := testdataDir(t, "fmt", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dst, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dst, ".git", "config.hcl"), []byte("hidden   = true\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dst, ".hidden.hcl"), []byte("hidden   = true\n"), 0o644))
	return dst
}

// snapshot reads every file under dir, by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return files
}

// changed lists the files whose content differs between two snapshots.
func changed(before, after map[string]string) []string {
	var out []string
	for name, b := range before {
		if after[name] != b {
			out = append(out, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			out = append(out, name)
		}
	}
	return out
}

func TestFmt(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantCode    int
		wantStdout  string
		wantChanged []string
	}{
		{"rewrites and lists", []string{"fmt"}, 0, "main.hcl\nprod.vars.hcl\n", []string{"main.hcl", "prod.vars.hcl"}},
		{"explicit dot", []string{"fmt", "."}, 0, "main.hcl\nprod.vars.hcl\n", []string{"main.hcl", "prod.vars.hcl"}},
		{"double dash flags", []string{"fmt", "--list=false"}, 0, "", []string{"main.hcl", "prod.vars.hcl"}},
		{"recursive", []string{"fmt", "-recursive"}, 0, "main.hcl\nprod.vars.hcl\nsub/team.hcl\n", []string{"main.hcl", "prod.vars.hcl", "sub/team.hcl"}},
		{"directory argument", []string{"fmt", "sub"}, 0, "sub/team.hcl\n", []string{"sub/team.hcl"}},
		{"file argument", []string{"fmt", "sub/team.hcl", "main.hcl"}, 0, "sub/team.hcl\nmain.hcl\n", []string{"sub/team.hcl", "main.hcl"}},
		{"hidden file named explicitly", []string{"fmt", ".hidden.hcl"}, 0, ".hidden.hcl\n", []string{".hidden.hcl"}},
		{"check", []string{"fmt", "-check"}, 3, "main.hcl\nprod.vars.hcl\n", nil},
		{"check recursive", []string{"fmt", "--check", "--recursive"}, 3, "main.hcl\nprod.vars.hcl\nsub/team.hcl\n", nil},
		{"check quiet", []string{"fmt", "-check", "-list=false"}, 3, "", nil},
		{"check formatted file", []string{"fmt", "-check", "formatted.hcl"}, 0, "", nil},
		{"write=false", []string{"fmt", "-write=false"}, 0, "main.hcl\nprod.vars.hcl\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t, "unformatted")
			before := snapshot(t, dir)
			r := runMain(t, dir, "", tt.args...)
			assert.Equal(t, tt.wantCode, r.code, r.stderr)
			assert.Equal(t, tt.wantStdout, r.stdout)
			assert.Empty(t, r.stderr)
			after := snapshot(t, dir)
			assert.ElementsMatch(t, tt.wantChanged, changed(before, after))
			for _, name := range tt.wantChanged {
				checkGolden(t, "fmt/formatted/"+name, []byte(after[name]))
			}
			// Hidden directories and files are never touched by a walk.
			assert.Equal(t, "hidden   = true\n", after[".git/config.hcl"])
		})
	}
}

func TestFmtIsIdempotent(t *testing.T) {
	dir := copyFixture(t, "unformatted")
	require.Equal(t, 0, runMain(t, dir, "", "fmt", "-recursive").code)
	r := runMain(t, dir, "", "fmt", "-check", "-recursive")
	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stdout)
}

func TestFmtKeepsFileMode(t *testing.T) {
	dir := copyFixture(t, "unformatted")
	path := filepath.Join(dir, "main.hcl")
	require.NoError(t, os.Chmod(path, 0o600))
	link := filepath.Join(dir, "link.hcl")
	require.NoError(t, os.Symlink("sub/team.hcl", link))

	r := runMain(t, dir, "", "fmt", "main.hcl", "link.hcl")
	require.Equal(t, 0, r.code, r.stderr)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A symlink stays a symlink; its target is rewritten.
	li, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, li.Mode().Type())
	data, err := os.ReadFile(filepath.Join(dir, "sub", "team.hcl"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "  thread_id")
	// No temporary file is left behind.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp")
	}
}

func TestFmtDiff(t *testing.T) {
	dir := copyFixture(t, "unformatted")
	before := snapshot(t, dir)
	r := runMain(t, dir, "", "fmt", "-diff", "-check", "-list=false", "-recursive")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Empty(t, changed(before, snapshot(t, dir)))
	checkGolden(t, "fmt/diff.out.txt", []byte(r.stdout))

	// Without -check, the diff accompanies the rewrite.
	r = runMain(t, dir, "", "fmt", "--diff", "sub")
	assert.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "sub/team.hcl\n--- old/sub/team.hcl\n+++ new/sub/team.hcl\n"), r.stdout)
	r = runMain(t, dir, "", "fmt", "-diff", "sub")
	assert.Empty(t, r.stdout, "a formatted file has no diff")
}

func TestFmtStdin(t *testing.T) {
	unformatted := "group \"eng\" {\nthread_id = \"t\"\n  service=\"telegram\"\n}\n"
	formatted := "group \"eng\" {\n  thread_id = \"t\"\n  service   = \"telegram\"\n}\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
	}{
		{"formats to stdout", []string{"fmt", "-"}, unformatted, 0, formatted},
		{"formatted input unchanged", []string{"fmt", "-"}, formatted, 0, formatted},
		{"check unformatted", []string{"fmt", "-check", "-"}, unformatted, 3, ""},
		{"check formatted", []string{"fmt", "--check", "-"}, formatted, 0, ""},
		{"diff", []string{"fmt", "-diff", "-"}, unformatted, 0,
			"--- old/<stdin>\n+++ new/<stdin>\n@@ -1,4 +1,4 @@\n group \"eng\" {\n-thread_id = \"t\"\n-  service=\"telegram\"\n+  thread_id = \"t\"\n+  service   = \"telegram\"\n }\n"},
		{"empty input", []string{"fmt", "-"}, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t, "unformatted")
			before := snapshot(t, dir)
			r := runMain(t, dir, tt.stdin, tt.args...)
			assert.Equal(t, tt.wantCode, r.code, r.stderr)
			assert.Equal(t, tt.wantStdout, r.stdout)
			assert.Empty(t, r.stderr)
			assert.Empty(t, changed(before, snapshot(t, dir)), "stdin mode writes no file")
		})
	}
}

func TestFmtSyntaxError(t *testing.T) {
	dir := copyFixture(t, "broken")
	before := snapshot(t, dir)
	r := runMain(t, dir, "", "fmt")
	assert.Equal(t, 1, r.code)
	checkGolden(t, "fmt/syntax.out.txt", []byte("== stdout\n"+r.stdout+"== stderr\n"+r.stderr))
	assert.Contains(t, r.stderr, "on bad.hcl line 3")
	assert.Contains(t, r.stderr, `   3:   text = "unterminated`)
	// The broken file is untouched; the good one is still formatted.
	after := snapshot(t, dir)
	assert.Equal(t, before["bad.hcl"], after["bad.hcl"])
	assert.Equal(t, []string{"good.hcl"}, changed(before, after))
	assert.Equal(t, "good.hcl\n", r.stdout)

	// -check reports the error rather than "unformatted".
	r = runMain(t, dir, "", "fmt", "-check", "bad.hcl")
	assert.Equal(t, 1, r.code)

	r = runMain(t, dir, "group {\n", "fmt", "-")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "on <stdin> line 1")
	assert.Empty(t, r.stdout)
}

func TestFmtBadPaths(t *testing.T) {
	dir := copyFixture(t, "unformatted")
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"missing", []string{"fmt", "nowhere"}, "Error: no file or directory at nowhere\n"},
		{"not hcl", []string{"fmt", "notes.txt"}, "Error: notes.txt: only .hcl files can be formatted\n"},
		{"stdin mixed", []string{"fmt", "-", "main.hcl"}, "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, dir)
			r := runMain(t, dir, "", tt.args...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.wantStderr)
			assert.Empty(t, changed(before, snapshot(t, dir)))
		})
	}
	// An error in one path does not stop the others.
	r := runMain(t, dir, "", "fmt", "nowhere", "sub")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "sub/team.hcl\n", r.stdout)
}
