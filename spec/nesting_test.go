package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadSource loads one main.hcl holding src.
func loadSource(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	return Load(dir, LoadOptions{Getenv: func(string) string { return "" }})
}

// requireNestingError checks that diags hold exactly one error, the
// nesting limit's, starting on line and column.
func requireNestingError(t *testing.T, diags hcl.Diagnostics, line int) {
	t.Helper()
	require.True(t, diags.HasErrors(), "want an error")
	var found *hcl.Diagnostic
	for _, d := range diags {
		if d.Summary == "Nesting too deep" {
			found = d
		}
	}
	require.NotNil(t, found, "no nesting error in %s", diags.Error())
	require.NotNil(t, found.Subject, "the error points at the spot")
	assert.Equal(t, line, found.Subject.Start.Line)
	assert.Contains(t, found.Detail, "256")
}

// Deeply nested source is refused before it is parsed: the parser
// recurses once per level and would run out of stack.
func TestNestingTooDeep(t *testing.T) {
	deep := 100000
	cases := map[string]string{
		"parentheses": "locals {\n  x = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "\n}\n",
		"brackets":    "locals {\n  x = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n}\n",
		"objects":     "locals {\n  x = " + strings.Repeat("{a = ", deep) + "1" + strings.Repeat("}", deep) + "\n}\n",
		"blocks":      "locals {\n  x = 1\n}\n" + strings.Repeat("a {\n", deep) + strings.Repeat("}\n", deep),
		"templates":   "locals {\n  x = " + strings.Repeat(`"${`, deep) + "1" + strings.Repeat(`}"`, deep) + "\n}\n",
		"negation":    "locals {\n  x = " + strings.Repeat("!", deep) + "true\n}\n",
		"minus":       "locals {\n  x = " + strings.Repeat("- ", deep) + "1\n}\n",
		"conditional": "locals {\n  x = " + strings.Repeat("true ? 1 : ", deep) + "2\n}\n",
		"sum":         "locals {\n  x = " + strings.Repeat("1+", deep) + "1\n}\n",
		"directives":  "locals {\n  x = <<EOT\n" + strings.Repeat("%{ if true }", deep) + strings.Repeat("%{ endif }", deep) + "\nEOT\n}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, diags := loadSource(t, src)
			line := 2
			if name == "blocks" {
				line = 4 + 256
			}
			if name == "directives" {
				line = 3
			}
			requireNestingError(t, diags, line)
		})
	}
}

// Nesting as deep as real configurations go is fine, brackets inside
// strings and comments do not count, and a new attribute starts over.
func TestNestingWithinTheLimit(t *testing.T) {
	src := `# ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((
group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

locals {
  a = ` + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + `
  b = "` + strings.Repeat("((((", 100) + `"
  c = <<EOT
` + strings.Repeat("[[[[", 100) + `
EOT
  d = ` + strings.Repeat("1 + ", 200) + `1
  e = ` + strings.Repeat("1 + ", 200) + `1
  /* ` + strings.Repeat("{", 300) + ` */
}

message "m" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = "${local.a + local.d + local.e} ${local.b}${local.c}"
}
`
	_, diags := loadSource(t, src)
	require.False(t, diags.HasErrors(), diags.Error())
}

func TestConfigurationFileTooLarge(t *testing.T) {
	src := "locals {\n  x = \"" + strings.Repeat("a", MaxFileSize) + "\"\n}\n"
	_, diags := loadSource(t, src)
	require.True(t, diags.HasErrors())
	require.Len(t, diags, 1, diags.Error())
	assert.Equal(t, "Configuration file too large", diags[0].Summary)
	assert.Contains(t, diags[0].Detail, "main.hcl")
	require.NotNil(t, diags[0].Subject)
	assert.True(t, strings.HasSuffix(diags[0].Subject.Filename, "main.hcl"))
}

// Variables files and templates are bounded as configuration files are.
func TestNestingInVariablesFilesAndTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("main.hcl", "variable \"x\" {\n  type = number\n}\n\nlocals {\n  t = templatefile(\"deep.tmpl\", {})\n}\n")
	write("deep.vars.hcl", "x = "+strings.Repeat("(", 100000)+"1"+strings.Repeat(")", 100000)+"\n")
	write("deep.tmpl", strings.Repeat("${", 100000)+"1"+strings.Repeat("}", 100000))
	_, diags := Load(dir, LoadOptions{Getenv: func(string) string { return "" }, Vars: []VarArg{{File: true, Value: "deep.vars.hcl"}}})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), "Nesting too deep")

	_, diags = Load(dir, LoadOptions{Getenv: func(string) string { return "" }, Vars: []VarArg{{Value: "x=" + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)}}})
	require.True(t, diags.HasErrors())
	var all strings.Builder
	for _, d := range diags {
		all.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	assert.Contains(t, all.String(), "Nesting too deep")
	assert.Contains(t, all.String(), "template deep.tmpl:1: Nesting too deep", "the template is refused too")
}

// quickNesting never counts less than checkNesting does, on the inputs it
// does not give up on.
func FuzzQuickNesting(f *testing.F) {
	for _, seed := range []string{
		`a = (1 + (2 * 3))`,
		"locals {\n  x = \"${a + \"${b}\"}\" # c\n  y = {for k, v in m : k => v}\n}\n",
		`x = "\${" + "$${" + "%{ if a }"`,
		"x = {\n  # comment\n  for = 1\n}\n",
		"x = \"a\\\"b(((\"\ny = ((((",
		"x = [\n1 +\n2 +\n3]\n",
		"x = \"${ {a = 1}.a }\"",
		strings.Repeat("(", 300) + strings.Repeat(")", 300),
		strings.Repeat("!", 300) + "x",
		"a { b { c = 1 // x\n d = 2 } }",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		quick, ok := quickNesting(src)
		if !ok {
			return
		}
		tokens, _ := hclsyntax.LexConfig(src, "main.hcl", hcl.InitialPos)
		if exact := tokenNesting(tokens); exact > quick {
			t.Fatalf("quickNesting counts %d, the tokens %d", quick, exact)
		}
	})
}
