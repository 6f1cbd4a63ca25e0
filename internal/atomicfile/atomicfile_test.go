package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, Write(path, []byte("new"), Options{}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, DefaultPerm, fi.Mode().Perm())
	requireNoTemps(t, filepath.Dir(path), 1)
}

func TestWriteReplacesAndSetsPerm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.plan")
	require.NoError(t, os.WriteFile(path, []byte("old content"), 0o644))
	require.NoError(t, Write(path, []byte("new"), Options{Perm: 0o640}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
}

func TestWriteKeepPerm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, Write(path, []byte("new"), Options{KeepPerm: true}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// Without a file to keep it from, Perm applies.
	fresh := filepath.Join(dir, "fresh.hcl")
	require.NoError(t, Write(fresh, []byte("new"), Options{KeepPerm: true}))
	fi, err = os.Stat(fresh)
	require.NoError(t, err)
	require.Equal(t, DefaultPerm, fi.Mode().Perm())
}

func TestWriteSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.hcl")
	link := filepath.Join(dir, "link.hcl")
	require.NoError(t, os.WriteFile(real, []byte("old"), 0o600))
	require.NoError(t, os.Symlink("real.hcl", link))

	require.NoError(t, Write(link, []byte("followed"), Options{FollowSymlinks: true}))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	require.Equal(t, os.ModeSymlink, fi.Mode().Type(), "the link stays a link")
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	require.Equal(t, "followed", string(got))

	require.NoError(t, Write(link, []byte("replaced"), Options{}))
	fi, err = os.Lstat(link)
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular(), "without FollowSymlinks the link is replaced")
	got, err = os.ReadFile(real)
	require.NoError(t, err)
	require.Equal(t, "followed", string(got))
}

func TestWriteTempPatternAndBeforeRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	var seen []string
	err := Write(path, []byte("new"), Options{
		TempPattern: "state.json.tmp-*",
		BeforeRename: func() error {
			matches, err := filepath.Glob(filepath.Join(dir, "state.json.tmp-*"))
			require.NoError(t, err)
			require.Len(t, matches, 1)
			data, err := os.ReadFile(matches[0])
			require.NoError(t, err)
			seen = append(seen, string(data))
			old, err := os.ReadFile(path)
			require.NoError(t, err)
			seen = append(seen, string(old))
			return nil
		},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"new", "old"}, seen, "the new content is complete before the old file goes")

	stop := errors.New("no backup")
	err = Write(path, []byte("newer"), Options{BeforeRename: func() error { return stop }})
	require.ErrorIs(t, err, stop)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(got), "a failed write leaves the old file")
	requireNoTemps(t, dir, 1)
}

func TestWriteErrors(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "no", "such", "dir", "x"), []byte("x"), Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Error(t, SyncDir(filepath.Join(t.TempDir(), "missing")))
	require.NoError(t, SyncDir(t.TempDir()))
}

// requireNoTemps checks that dir holds n files: no temporary file is left.
func requireNoTemps(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, n)
}
