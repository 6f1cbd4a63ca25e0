package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWriteDocsFigures writes figures into a copy of the docs page: the
// rows of the scenarios run replace theirs, the others stay, and a run
// that must not be published is refused.
func TestWriteDocsFigures(t *testing.T) {
	orig, err := os.ReadFile(docsPage)
	require.NoError(t, err)
	page := filepath.Join(t.TempDir(), "testing.md")
	require.NoError(t, os.WriteFile(page, orig, 0o644))

	rows := []Figures{{Scenario: "2 interrupt (SIGINT)", Runs: 3, Deliveries: 401}}
	failovers := []FailoverFigures{{Figures: Figures{Scenario: "10 failover: two replicas, kill -9", Deliveries: 299}, Replicas: 2, LongestTakeover: 150 * time.Millisecond}}

	for _, c := range []struct {
		code        int
		short, race bool
	}{{1, false, false}, {0, true, false}, {0, false, true}} {
		require.Error(t, writeDocsFigures(page, c.code, c.short, c.race, rows, failovers))
	}
	unchanged, err := os.ReadFile(page)
	require.NoError(t, err)
	require.Equal(t, string(orig), string(unchanged))

	require.NoError(t, writeDocsFigures(page, 0, false, false, rows, failovers))
	got, err := os.ReadFile(page)
	require.NoError(t, err)
	doc := string(got)
	require.Contains(t, doc, "| 2 interrupt (SIGINT) ")
	require.Regexp(t, `\| 2 interrupt \(SIGINT\) +\| 3 +\| 401 +\|`, doc)
	require.Contains(t, doc, "| 2 interrupt (SIGTERM) ", "rows of scenarios not run are kept")
	require.Regexp(t, `\| two replicas, kill -9 +\| 2 +\| 0 \(0\) +\| 299 +\|`, doc)
	require.Contains(t, doc, "| three replicas, kill -9 ")
	require.Equal(t, 1, strings.Count(doc, "| 2 interrupt (SIGINT) "), "the row is replaced, not added")
	// Everything outside the tables is as it was.
	before, _, _ := strings.Cut(string(orig), "<!-- figures:reliability -->")
	require.True(t, strings.HasPrefix(doc, before))
}
