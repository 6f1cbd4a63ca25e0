package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/testkit"
)

// A configuration built to nest 100,000 levels deep, or too large, is a
// diagnostic and exit 1 from the real process, never a stack overflow
// and a goroutine dump: a pull request must not be able to crash herald.
func TestValidateRefusesDeepAndHugeFiles(t *testing.T) {
	cases := map[string]struct {
		src, want string
	}{
		"nested parentheses":    {"locals {\n  x = " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + "\n}\n", "Nesting too deep"},
		"a long operator chain": {"locals {\n  x = " + strings.Repeat("1+", 1000000) + "1\n}\n", "Nesting too deep"},
		"an oversized file":     {"locals {\n  x = \"" + strings.Repeat("a", 5<<20) + "\"\n}\n", "Configuration file too large"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(c.src), 0o644))
			for _, args := range [][]string{{"validate", "-no-color"}, {"plan", "-no-color"}} {
				cmd := exec.Command(heraldBin, args...)
				cmd.Dir = dir
				var out testkit.SyncBuffer
				cmd.Stdout, cmd.Stderr = &out, &out
				code, err := testkit.ExitCode(cmd.Run())
				require.NoError(t, err)
				assert.Equal(t, 1, code, "%v:\n%.2000s", args, out.String())
				assert.Contains(t, out.String(), c.want)
				assert.NotContains(t, out.String(), "goroutine ")
				assert.NotContains(t, out.String(), "fatal error")
			}
		})
	}
}
