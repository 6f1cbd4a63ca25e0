package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const outsideSecret = "s3cr3t-outside-the-root"

// fileTree is a configuration directory "cfg" inside a directory that
// holds files the configuration must not read.
type fileTree struct {
	parent, root string
}

func newFileTree(t *testing.T) *fileTree {
	t.Helper()
	parent := t.TempDir()
	ft := &fileTree{parent: parent, root: filepath.Join(parent, "cfg")}
	ft.write(t, "secret.txt", outsideSecret+"\n")
	ft.write(t, "secret.tmpl", outsideSecret+" ${x}\n")
	ft.write(t, "secret.csv", "name\n"+outsideSecret+"\n")
	ft.write(t, "cfg/inside.txt", "inside\n")
	ft.write(t, "cfg/sub/deeper.txt", "deeper\n")
	return ft
}

func (ft *fileTree) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(ft.parent, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func (ft *fileTree) symlink(t *testing.T, target, rel string) {
	t.Helper()
	require.NoError(t, os.Symlink(target, filepath.Join(ft.parent, filepath.FromSlash(rel))))
}

// config writes cfg/main.hcl with one message whose text is expr.
func (ft *fileTree) config(t *testing.T, expr string) {
	t.Helper()
	ft.write(t, "cfg/main.hcl", `group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = `+expr+`
}
`)
}

func (ft *fileTree) load(allow bool) (*Config, hcl.Diagnostics) {
	return Load(ft.root, LoadOptions{Getenv: func(string) string { return "" }, AllowFileOutsideRoot: allow})
}

// requireOutsideRoot checks that diags are one error, on the call in
// main.hcl line 9, that says the path is outside the configuration
// directory, names the flag, and shows nothing of the file.
func requireOutsideRoot(t *testing.T, cfg *Config, diags hcl.Diagnostics) {
	t.Helper()
	require.True(t, diags.HasErrors(), "reading outside the configuration directory must fail")
	var found *hcl.Diagnostic
	for _, d := range diags {
		assert.NotContains(t, d.Summary+d.Detail, outsideSecret, "a diagnostic shows the file's contents")
		if d.Severity == hcl.DiagError && strings.Contains(d.Detail, "outside the configuration directory") {
			found = d
		}
	}
	require.NotNil(t, found, "no outside-the-directory error in:\n%s", diags.Error())
	assert.Contains(t, found.Detail, "-allow-file-outside-root")
	require.NotNil(t, found.Subject)
	assert.Equal(t, "main.hcl", filepath.Base(found.Subject.Filename))
	assert.Equal(t, 9, found.Subject.Start.Line)
	for _, in := range cfg.Instances {
		assert.NotContains(t, in.Text, outsideSecret)
	}
}

func TestFileFunctionsStayInTheConfigurationDirectory(t *testing.T) {
	abs := func(ft *fileTree, rel string) string { return filepath.ToSlash(filepath.Join(ft.parent, rel)) }
	cases := map[string]struct {
		setup func(t *testing.T, ft *fileTree)
		expr  func(ft *fileTree) string
	}{
		"an absolute path":       {expr: func(*fileTree) string { return `file("/etc/passwd")` }},
		"proc environ":           {expr: func(*fileTree) string { return `file("/proc/self/environ")` }},
		"an absolute path above": {expr: func(ft *fileTree) string { return `file("` + abs(ft, "secret.txt") + `")` }},
		"a relative path above":  {expr: func(*fileTree) string { return `file("../secret.txt")` }},
		"through a subdirectory": {expr: func(*fileTree) string { return `file("sub/../../secret.txt")` }},
		"a symlink pointing out": {
			setup: func(t *testing.T, ft *fileTree) { ft.symlink(t, "../secret.txt", "cfg/link.txt") },
			expr:  func(*fileTree) string { return `file("link.txt")` },
		},
		"a symlinked directory": {
			setup: func(t *testing.T, ft *fileTree) { ft.symlink(t, "..", "cfg/up") },
			expr:  func(*fileTree) string { return `file("up/secret.txt")` },
		},
		"an absolute symlink": {
			setup: func(t *testing.T, ft *fileTree) { ft.symlink(t, "/etc/passwd", "cfg/passwd") },
			expr:  func(*fileTree) string { return `file("passwd")` },
		},
		"templatefile":            {expr: func(*fileTree) string { return `templatefile("../secret.tmpl", { x = 1 })` }},
		"csvdecode of a file":     {expr: func(*fileTree) string { return `csvdecode(file("../secret.csv"))[0].name` }},
		"fileexists":              {expr: func(*fileTree) string { return `tostring(fileexists("../secret.txt"))` }},
		"fileexists of a missing": {expr: func(*fileTree) string { return `tostring(fileexists("../nothing/here.txt"))` }},
		"fileexists absolute":     {expr: func(*fileTree) string { return `tostring(fileexists("/etc/passwd"))` }},
		"a template reading out": {
			setup: func(t *testing.T, ft *fileTree) { ft.write(t, "cfg/t.tmpl", `${file("../secret.txt")}`) },
			expr:  func(*fileTree) string { return `templatefile("t.tmpl", {})` },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ft := newFileTree(t)
			if c.setup != nil {
				c.setup(t, ft)
			}
			ft.config(t, c.expr(ft))
			cfg, diags := ft.load(false)
			requireOutsideRoot(t, cfg, diags)
		})
	}
}

func TestFileFunctionsReadInsideTheConfigurationDirectory(t *testing.T) {
	ft := newFileTree(t)
	ft.symlink(t, "sub/deeper.txt", "cfg/link.txt")
	ft.write(t, "cfg/t.tmpl", `${trimspace(file("inside.txt"))} ${x}`)
	ft.config(t, `"${chomp(file("inside.txt"))} ${chomp(file("./sub/deeper.txt"))} ${chomp(file("link.txt"))} ${fileexists("nope.txt")} ${fileexists("sub/deeper.txt")} ${templatefile("t.tmpl", { x = 1 })} ${chomp(file("sub/../inside.txt"))}"`)
	cfg, diags := ft.load(false)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, cfg.Instances, 1)
	assert.Equal(t, "inside deeper deeper false true inside 1 inside", cfg.Instances[0].Text)
}

// -allow-file-outside-root lifts the restriction.
func TestFileFunctionsOutsideTheRootWhenAllowed(t *testing.T) {
	ft := newFileTree(t)
	ft.symlink(t, "../secret.txt", "cfg/link.txt")
	ft.config(t, `"${chomp(file("../secret.txt"))} ${chomp(file("link.txt"))} ${fileexists("../secret.txt")} ${csvdecode(file("../secret.csv"))[0].name} ${templatefile("../secret.tmpl", { x = 2 })}"`)
	cfg, diags := ft.load(true)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, cfg.Instances, 1)
	assert.Equal(t, outsideSecret+" "+outsideSecret+" true "+outsideSecret+" "+outsideSecret+" 2\n", cfg.Instances[0].Text)
}

// A module reads its own directory, and the root's, even when it lives
// outside the root; nothing else.
func TestFileFunctionsInModules(t *testing.T) {
	ft := newFileTree(t)
	ft.write(t, "cfg/root.txt", "root\n")
	ft.write(t, "cfg/modules/m/own.txt", "own\n")
	ft.write(t, "shared/m/own.txt", "shared own\n")
	module := `variable "g" {}

message "m" {
  group   = var.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "${chomp(file("own.txt"))} ${chomp(file("${path.module}/own.txt"))} ${chomp(file("${path.root}/root.txt"))}"
}
`
	ft.write(t, "cfg/modules/m/main.hcl", module)
	ft.write(t, "shared/m/main.hcl", module)
	ft.write(t, "cfg/main.hcl", `group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

module "inside" {
  source = "./modules/m"
  g      = group.g
}

module "outside" {
  source = "../shared/m"
  g      = group.g
}
`)
	cfg, diags := ft.load(false)
	require.False(t, diags.HasErrors(), diags.Error())
	texts := map[string]string{}
	for _, in := range cfg.Instances {
		texts[in.Addr.String()] = in.Text
	}
	assert.Equal(t, map[string]string{
		"module.inside.message.m":  "own own root",
		"module.outside.message.m": "shared own shared own root",
	}, texts)

	// A module reading above itself and the root is refused.
	ft.write(t, "shared/m/main.hcl", `variable "g" {}

message "m" {
  group   = var.g
  send_at = "2027-01-01T00:00:00Z"
  text    = file("../../secret.txt")
}
`)
	cfg, diags = ft.load(false)
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "outside the configuration directory")
	assert.NotContains(t, diags.Error(), outsideSecret)
	_ = cfg
}

// A configuration or variables file that is a symlink to a file outside
// the directory is not read: a syntax error would show its lines.
func TestSymlinkedConfigurationFilesOutsideTheRoot(t *testing.T) {
	for _, name := range []string{"leak.hcl", "leak.auto.vars.hcl"} {
		t.Run(name, func(t *testing.T) {
			ft := newFileTree(t)
			ft.config(t, `"hello"`)
			ft.symlink(t, "../secret.txt", "cfg/"+name)
			cfg, diags := ft.load(false)
			require.True(t, diags.HasErrors())
			assert.Contains(t, diags.Error(), "outside the configuration directory")
			assert.NotContains(t, diags.Error(), outsideSecret)
			for _, f := range cfg.Files {
				assert.NotContains(t, string(f.Bytes), outsideSecret)
			}
			_, diags = ft.load(true)
			assert.NotContains(t, diags.Error(), "outside the configuration directory", "allowed with the flag")
		})
	}
	// A symlink that stays inside is fine.
	ft := newFileTree(t)
	ft.config(t, `"hello"`)
	ft.write(t, "cfg/sub/extra.hcl.txt", "locals {\n  x = 1\n}\n")
	ft.symlink(t, "sub/extra.hcl.txt", "cfg/extra.hcl")
	_, diags := ft.load(false)
	require.False(t, diags.HasErrors(), diags.Error())
}

// A -var-file inside the directory that is a symlink leading out of it is
// refused; one named outside the directory is the operator's and is read.
func TestVarFileSymlinkOutsideTheRoot(t *testing.T) {
	ft := newFileTree(t)
	ft.write(t, "cfg/main.hcl", "variable \"x\" {\n  default = \"d\"\n}\n\nlocals {\n  y = var.x\n}\n")
	ft.write(t, "prod.vars.hcl", "x = \"outside\"\n")
	ft.symlink(t, "../secret.txt", "cfg/leak.vars.hcl")
	load := func(name string) hcl.Diagnostics {
		_, diags := Load(ft.root, LoadOptions{Getenv: func(string) string { return "" }, Vars: []VarArg{{File: true, Value: name}}})
		return diags
	}
	diags := load("leak.vars.hcl")
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "outside the configuration directory")
	assert.NotContains(t, diags.Error(), outsideSecret)
	diags = load(filepath.Join(ft.parent, "prod.vars.hcl"))
	require.False(t, diags.HasErrors(), diags.Error())
}
