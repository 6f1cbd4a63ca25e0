package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeFiles writes name → content under dir, making directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// TestLoadOverlay checks that an overlay wins over the file on disk, in
// the root module and in a module, and that an overlay file not yet on
// disk is read as one of the directory's files.
func TestLoadOverlay(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.hcl": `
group "eng" {
  thread_id = "t-eng"
  from      = "+14155552671"
}
module "weekly" {
  source = "./modules/weekly"
}
message "launch" {
  group   = group.nope
  send_at = "2026-12-01T09:00:00Z"
  text    = "hi"
}
`,
		"modules/weekly/main.hcl": `
variable "n" {
  default = 1
}
`,
	})
	_, diags := Load(dir, LoadOptions{})
	require.True(t, diags.HasErrors(), "the file on disk refers to an undeclared group")

	fixed := []byte(`
group "eng" {
  thread_id = "t-eng"
  from      = "+14155552671"
}
module "weekly" {
  source = "./modules/weekly"
}
message "launch" {
  group   = group.eng
  send_at = "2026-12-01T09:00:00Z"
  text    = "hi"
}
`)
	main := filepath.Join(dir, "main.hcl")
	cfg, diags := Load(dir, LoadOptions{Overlay: map[string][]byte{main: fixed}})
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Equal(t, string(fixed), string(cfg.Files[main].Bytes))

	// A module's file from the overlay, with an error in it.
	modFile := filepath.Join(dir, "modules", "weekly", "main.hcl")
	_, diags = Load(dir, LoadOptions{Overlay: map[string][]byte{
		main:    fixed,
		modFile: []byte("variable \"n\" {\n  default = \n}\n"),
	}})
	require.True(t, diags.HasErrors())
	require.Equal(t, modFile, diags[0].Subject.Filename)
	require.Equal(t, 2, diags[0].Subject.Start.Line)

	// A new file, only in the overlay.
	extra := filepath.Join(dir, "extra.hcl")
	cfg, diags = Load(dir, LoadOptions{Overlay: map[string][]byte{
		main:  fixed,
		extra: []byte("group \"sales\" {\n  thread_id = \"t-sales\"\n  from = \"+14155552671\"\n}\n"),
	}})
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Contains(t, cfg.Groups, "sales")
	require.Contains(t, cfg.Files, extra)

	// A variables file (not configuration) in the overlay is not read as
	// configuration.
	cfg, diags = Load(dir, LoadOptions{Overlay: map[string][]byte{
		main:                                fixed,
		filepath.Join(dir, "prod.vars.hcl"): []byte("not = valid = hcl"),
	}})
	require.False(t, diags.HasErrors(), "%v", diags)
	require.NotContains(t, cfg.Files, filepath.Join(dir, "prod.vars.hcl"))
}
