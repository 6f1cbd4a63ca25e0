package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cliSecret = "cli-s3cr3t-outside"

// outsideConfig is a configuration directory whose message text is expr,
// next to a file it must not read.
func outsideConfig(t *testing.T, expr string) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "cfg")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret.txt"), []byte(cliSecret+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret.csv"), []byte("a\n"+cliSecret+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret.tmpl"), []byte(cliSecret), 0o644))
	require.NoError(t, os.Symlink("../secret.txt", filepath.Join(dir, "link.txt")))
	src := "group \"g\" {\n  thread_id = \"t\"\n  from      = \"+14155552671\"\n}\n\nmessage \"m\" {\n  group   = group.g\n  send_at = \"2026-12-01T09:00:00Z\"\n  text    = " + expr + "\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	return dir
}

func TestFileFunctionsOutsideTheRootCLI(t *testing.T) {
	for _, expr := range []string{
		`file("/etc/passwd")`,
		`file("../secret.txt")`,
		`file("link.txt")`,
		`templatefile("../secret.tmpl", {})`,
		`tostring(fileexists("../secret.txt"))`,
		`csvdecode(file("../secret.csv"))[0].a`,
	} {
		t.Run(expr, func(t *testing.T) {
			dir := outsideConfig(t, expr)
			for _, args := range [][]string{{"validate", "-no-color"}, {"plan", "-no-color"}} {
				r := runMain(t, dir, "", args...)
				assert.Equal(t, 1, r.code, "%v: stdout %s", args, r.stdout)
				flat := strings.Join(strings.Fields(r.stderr), " ")
				assert.Contains(t, flat, "outside the configuration directory")
				assert.Contains(t, flat, "-allow-file-outside-root")
				assert.Contains(t, r.stderr, "on main.hcl line 9", "the error points at the call")
				assert.NotContains(t, r.stdout+r.stderr, cliSecret)
				assert.NotContains(t, r.stdout+r.stderr, "root:x:0")
			}
			r := runMain(t, dir, "", "validate", "-no-color", "-allow-file-outside-root")
			assert.Equal(t, 0, r.code, r.stderr)
			r = runMain(t, dir, "", "plan", "-no-color", "-allow-file-outside-root")
			assert.Equal(t, 0, r.code, r.stderr)
		})
	}
}

func TestNestingTooDeepCLI(t *testing.T) {
	dir := t.TempDir()
	deep := strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("locals {\n  x = "+deep+"\n}\n"), 0o644))
	for _, args := range [][]string{{"validate", "-no-color"}, {"plan", "-no-color"}, {"fmt", "-check", "-no-color"}} {
		r := runMain(t, dir, "", args...)
		assert.Equal(t, 1, r.code, "%v", args)
		assert.Contains(t, r.stderr, "Nesting too deep")
		assert.Contains(t, r.stderr, "main.hcl line 2")
	}
}
