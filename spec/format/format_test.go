package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
)

func TestSource(t *testing.T) {
	out, file, diags := Source("main.hcl", []byte("a   = 1\nbb = 2\n"))
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, "a  = 1\nbb = 2\n", string(out))
	require.NotNil(t, file)

	// Formatted source comes back unchanged.
	again, _, diags := Source("main.hcl", out)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, string(out), string(again))
}

// Broken source gets diagnostics and no output, with a file to show the
// source lines from, never hclwrite's best guess.
func TestSourceSyntaxError(t *testing.T) {
	src := []byte("a = {\n")
	out, file, diags := Source("bad.hcl", src)
	require.True(t, diags.HasErrors())
	assert.Nil(t, out)
	require.NotNil(t, file)
	assert.Equal(t, "bad.hcl", diags[0].Subject.Filename)
}

// A file over the loader's size limit is refused before it is parsed.
func TestSourceTooLarge(t *testing.T) {
	src := []byte("a = \"" + strings.Repeat("x", spec.MaxFileSize) + "\"\n")
	out, file, diags := Source("big.hcl", src)
	require.True(t, diags.HasErrors())
	assert.Nil(t, out)
	require.NotNil(t, file)
	assert.Equal(t, src, file.Bytes)
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"b.hcl", "a.hcl", "notes.txt", ".hidden.hcl",
		"sub/c.hcl", "sub/deeper/d.hcl", ".git/config.hcl",
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte("a = 1\n"), 0o644))
	}
	// A symlink counts when it leads to a regular file, not to a directory.
	require.NoError(t, os.Symlink(filepath.Join(dir, "a.hcl"), filepath.Join(dir, "link.hcl")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dir.d"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(dir, "dir.d"), filepath.Join(dir, "dirlink.hcl")))

	got, err := Files(dir, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.hcl", "b.hcl", "link.hcl"}, got)

	got, err = Files(dir, true)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"a.hcl", "b.hcl", "link.hcl",
		filepath.Join("sub", "c.hcl"), filepath.Join("sub", "deeper", "d.hcl"),
	}, got)
}

func TestFilesMissingDir(t *testing.T) {
	_, err := Files(filepath.Join(t.TempDir(), "absent"), false)
	assert.Error(t, err)
}
