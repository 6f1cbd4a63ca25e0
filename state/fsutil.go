package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/internal/atomicfile"
)

// fileMode is the mode of every file the local backend writes: state can
// name groups and threads that are nobody else's business.
const fileMode fs.FileMode = 0o600

// tempPattern names the temporary files a write goes through; a crash can
// leave one behind, and it is never read.
func tempPattern(path string) string { return filepath.Base(path) + ".tmp-*" }

// writeAtomic replaces path with data so that a crash at any moment leaves
// either the old file or the new one, keeping the old file as backup
// (when backup is not empty) just before the new one replaces it.
func writeAtomic(path, backup string, data []byte) error {
	opts := atomicfile.Options{Perm: fileMode, TempPattern: tempPattern(path)}
	if backup != "" {
		opts.BeforeRename = func() error { return keepBackup(path, backup) }
	}
	if err := atomicfile.Write(path, data, opts); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// keepBackup makes backup a copy of path as it is now (nothing when path
// does not exist). A hard link costs nothing however large the state; where
// the file system has none, the bytes are copied. Either way the backup
// appears under its name by a rename, so it is never torn either.
func keepBackup(path, backup string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	dir := filepath.Dir(backup)
	tmp, err := os.CreateTemp(dir, tempPattern(backup))
	if err != nil {
		return fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	tmpName := tmp.Name()
	_ = tmp.Close()
	_ = os.Remove(tmpName)
	if err := os.Link(path, tmpName); err != nil {
		if err := copyFile(path, tmpName); err != nil {
			_ = os.Remove(tmpName)
			return fmt.Errorf("keeping a backup of %s: %w", path, err)
		}
	}
	// The link shares the old file's mode, which a hand-made state file may
	// have had wider.
	if err := os.Chmod(tmpName, fileMode); err != nil {
		_ = os.Remove(tmpName)
		return fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	if err := os.Rename(tmpName, backup); err != nil {
		_ = os.Remove(tmpName)
		return fmt.Errorf("keeping a backup of %s: %w", path, err)
	}
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// removeStrayTemps removes temporary files that a crashed write left
// beside path. Only a lock holder calls it, so no other writer's file can
// be in flight.
func removeStrayTemps(path string) {
	for _, p := range []string{path, path + backupSuffix} {
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), globEscape(tempPattern(p))))
		for _, m := range matches {
			_ = os.Remove(m)
		}
	}
}

// globEscape quotes glob metacharacters in the fixed part of a pattern,
// leaving the trailing * as the only wildcard.
func globEscape(pattern string) string {
	fixed := strings.TrimSuffix(pattern, "*")
	var b strings.Builder
	for _, r := range fixed {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}
