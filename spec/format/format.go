package format

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/heraldhq/herald/spec"
)

// Source returns src in the canonical format. It parses src first, since
// hclwrite formats even broken source without complaint: a file with
// syntax errors gets diagnostics (and no output), with the parsed file for
// the diagnostics' source lines.
func Source(name string, src []byte) ([]byte, *hcl.File, hcl.Diagnostics) {
	if diags := spec.CheckConfigSource(src, name); diags.HasErrors() {
		return nil, &hcl.File{Bytes: src}, diags
	}
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		if file == nil {
			file = &hcl.File{Bytes: src}
		}
		return nil, file, diags
	}
	return hclwrite.Format(src), file, nil
}

// Files lists the *.hcl files of dir, relative to it, in lexical order;
// with recursive it descends into subdirectories except hidden ones (.git,
// .terraform). Hidden files are skipped as the loader skips them.
func Files(dir string, recursive bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if !recursive || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".hcl") {
			return nil
		}
		if !d.Type().IsRegular() {
			// A symlink counts when it leads to a regular file.
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, rel)
		return nil
	})
	return out, err
}
