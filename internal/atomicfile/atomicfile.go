package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultPerm is the mode of a new file when Options.Perm is zero:
// herald's files can name groups and threads that are nobody else's
// business.
const DefaultPerm fs.FileMode = 0o600

// Options says how Write treats the file it replaces.
type Options struct {
	// Perm is the new file's mode; zero means DefaultPerm.
	Perm fs.FileMode
	// KeepPerm gives the new file the mode of the file it replaces, when
	// there is one; Perm applies otherwise.
	KeepPerm bool
	// FollowSymlinks replaces the file a symbolic link at the path leads
	// to, so that the link keeps pointing at it; otherwise the link itself
	// is replaced by a regular file.
	FollowSymlinks bool
	// TempPattern is the os.CreateTemp pattern of the temporary file,
	// created in the target's directory; empty means TempPattern(path).
	// A crash can leave the temporary file behind; callers that clean up
	// after a crash look for this pattern.
	TempPattern string
	// BeforeRename, when set, runs once the new content is durable and
	// just before it replaces the old file (the local state backend keeps
	// its backup there). An error stops the write and is returned as is.
	BeforeRename func() error
}

// TempPattern is the default pattern of the temporary file for path: a
// hidden name beside it, which no directory walk for configuration or
// plan files picks up.
func TempPattern(path string) string {
	return "." + filepath.Base(path) + ".tmp-*"
}

// Write replaces the file at path with data: it writes a temporary file in
// the same directory, gives it its mode, fsyncs it, renames it over path
// and fsyncs the directory, so that the rename survives a crash too. On an
// error the temporary file is removed and the old file is left as it was
// (unless the error is the directory's fsync, after the rename).
func Write(path string, data []byte, opts Options) (err error) {
	target := path
	if opts.FollowSymlinks {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			target = real
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	perm := opts.Perm
	if perm == 0 {
		perm = DefaultPerm
	}
	if opts.KeepPerm {
		if fi, err := os.Stat(target); err == nil {
			perm = fi.Mode().Perm()
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	pattern := opts.TempPattern
	if pattern == "" {
		pattern = TempPattern(target)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	// CreateTemp makes the file 0600; the mode is set whatever it is.
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if opts.BeforeRename != nil {
		if err = opts.BeforeRename(); err != nil {
			return err
		}
	}
	if err = os.Rename(tmpName, target); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes a rename, creation or removal in dir durable. A file
// system that cannot fsync a directory (os.ErrInvalid) is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
