package figures

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const page = `# Figures

Before.

<!-- figures:bench -->
| old | table |
|---|---|
<!-- /figures -->

Between.

<!-- figures:other -->
<!-- /figures -->
After.
`

func TestReplace(t *testing.T) {
	out, err := Replace([]byte(page), "bench", "| new |\n|---|\n| 1 |")
	require.NoError(t, err)
	require.Equal(t, `# Figures

Before.

<!-- figures:bench -->
| new |
|---|
| 1 |
<!-- /figures -->

Between.

<!-- figures:other -->
<!-- /figures -->
After.
`, string(out))

	// An empty table between markers, and the same content twice, are
	// fine; the second replacement changes nothing.
	out, err = Replace([]byte(page), "other", "x\n")
	require.NoError(t, err)
	require.Contains(t, string(out), "<!-- figures:other -->\nx\n<!-- /figures -->\nAfter.")
	again, err := Replace(out, "other", "x\n")
	require.NoError(t, err)
	require.Equal(t, string(out), string(again))
}

func TestReplaceErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"no start":          "text\n<!-- /figures -->\n",
		"no end":            "<!-- figures:bench -->\n| a |\n",
		"twice":             "<!-- figures:bench -->\n<!-- /figures -->\n<!-- figures:bench -->\n<!-- /figures -->\n",
		"not its own line":  "see <!-- figures:bench -->\n<!-- /figures -->\n",
		"end before start":  "<!-- /figures -->\n<!-- figures:bench -->\n",
		"another name only": "<!-- figures:benchmarks -->\n<!-- /figures -->\n",
	} {
		_, err := Replace([]byte(doc), "bench", "x")
		require.Error(t, err, name)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "performance.md")
	require.NoError(t, os.WriteFile(path, []byte(page), 0o640))
	require.NoError(t, WriteFile(path, "bench", "| new |\n"))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(got), "<!-- figures:bench -->\n| new |\n<!-- /figures -->")
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	require.Error(t, WriteFile(path, "missing", "x"))
	unchanged, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(got), string(unchanged), "a failed write leaves the page")
}

func TestEnabled(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	require.False(t, Enabled(getenv))
	env[EnvVar] = "0"
	require.False(t, Enabled(getenv))
	env[EnvVar] = "1"
	require.True(t, Enabled(getenv))
}

func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "testing.md")
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))
	got, err := Read(path, "bench")
	require.NoError(t, err)
	require.Equal(t, "| old | table |\n|---|---|\n", got)
	got, err = Read(path, "other")
	require.NoError(t, err)
	require.Equal(t, "", got)
	_, err = Read(path, "missing")
	require.Error(t, err)
}

func TestCellsAndMerge(t *testing.T) {
	old := Cells(`
| scenario   | runs | result |
|------------|------|--------|
| 1 crash    | 51   | ok     |
| 15 jitter  | 2    | ok     |
| 2 interrupt| 2    | ok     |
`)
	require.Equal(t, [][]string{
		{"scenario", "runs", "result"},
		{"1 crash", "51", "ok"},
		{"15 jitter", "2", "ok"},
		{"2 interrupt", "2", "ok"},
	}, old)
	fresh := [][]string{
		{"scenario", "runs", "result"},
		{"2 interrupt", "4", "ok"},
		{"3 concurrency", "8", "ok"},
	}
	require.Equal(t, [][]string{
		{"scenario", "runs", "result"},
		{"1 crash", "51", "ok"},
		{"15 jitter", "2", "ok"},
		{"2 interrupt", "4", "ok"},
		{"3 concurrency", "8", "ok"},
	}, Merge(old, fresh))
	// Other columns: the old rows cannot be kept.
	other := [][]string{{"scenario", "result"}, {"1 crash", "ok"}}
	require.Equal(t, other, Merge(old, other))
	require.Equal(t, fresh, Merge(nil, fresh))
	require.Equal(t, old, Merge(old, nil))
	require.Equal(t, [][]string{{"a", "b"}, {"1", "2"}}, Cells("|a|b|\n|:--|--:|\n|1|2|\n"))
}
