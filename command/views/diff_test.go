package views

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"change", "a\nb\nc\n", "a\nB\nc\n", "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"insert at start", "b\nc\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n+a\n b\n c\n"},
		{"delete at end", "a\nb\nc\n", "a\nb\n", "@@ -1,3 +1,2 @@\n a\n b\n-c\n"},
		{"from empty", "", "a\n", "@@ -0,0 +1 @@\n+a\n"},
		{"to empty", "a\n", "", "@@ -1 +0,0 @@\n-a\n"},
		{"newline added at end", "a", "a\n", "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"},
		{
			"distant changes make two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			"@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n",
		},
		{
			"near changes share a hunk",
			"1\n2\n3\n4\n5\n6\n7\n8\n",
			"one\n2\n3\n4\n5\n6\n7\neight\n",
			"@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UnifiedDiff("old/f", "new/f", []byte(tt.a), []byte(tt.b))
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, "--- old/f\n+++ new/f\n"+tt.want, got)
			assert.Equal(t, tt.b, applyDiff(t, tt.a, got))
		})
	}
}

// TestUnifiedDiffApplies checks, on many generated pairs, that the diff
// turns the old text into the new one and that its hunks are well formed.
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d", "}", "{", ""}
	gen := func() string {
		n := rng.IntN(30)
		var b strings.Builder
		for range n {
			b.WriteString(words[rng.IntN(len(words))] + "\n")
		}
		s := b.String()
		if s != "" && rng.IntN(4) == 0 {
			s = strings.TrimSuffix(s, "\n")
		}
		return s
	}
	for i := range 500 {
		a, b := gen(), gen()
		d := UnifiedDiff("a", "b", []byte(a), []byte(b))
		require.Equal(t, b, applyDiff(t, a, d), "case %d:\n%q\n%q\n%s", i, a, b, d)
	}
}

// TestUnifiedDiffLargeFallsBack covers files so different that the edit
// search gives up: the diff is longer but still correct.
func TestUnifiedDiffLargeFallsBack(t *testing.T) {
	var a, b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&a, "old %d\n", i)
		fmt.Fprintf(&b, "new %d\n", i)
	}
	d := UnifiedDiff("a", "b", []byte(a.String()), []byte(b.String()))
	assert.Equal(t, b.String(), applyDiff(t, a.String(), d))
	assert.Contains(t, d, "@@ -1,1500 +1,1500 @@\n")
}

// applyDiff applies a unified diff to a, checking the context and the
// line counts of each hunk header as it goes.
func applyDiff(t *testing.T, a, diff string) string {
	t.Helper()
	if diff == "" {
		return a
	}
	old := splitLines(a)
	lines := strings.SplitAfter(diff, "\n")
	require.True(t, strings.HasPrefix(lines[0], "--- ") && strings.HasPrefix(lines[1], "+++ "), diff)
	var out []string
	pos := 0
	i := 2
	for i < len(lines) && lines[i] != "" {
		var aStart, aCount, bStart, bCount int
		header := strings.TrimSuffix(lines[i], "\n")
		parseRange := func(s string) (int, int) {
			start, count, ok := strings.Cut(s, ",")
			n, err := strconv.Atoi(start)
			require.NoError(t, err, header)
			if !ok {
				return n, 1
			}
			c, err := strconv.Atoi(count)
			require.NoError(t, err, header)
			return n, c
		}
		var ar, br string
		_, err := fmt.Sscanf(header, "@@ -%s +%s @@", &ar, &br)
		require.NoError(t, err, header)
		aStart, aCount = parseRange(ar)
		bStart, bCount = parseRange(br)
		from := aStart - 1
		if aCount == 0 {
			from = aStart
		}
		require.GreaterOrEqual(t, from, pos, "hunks in order")
		out = append(out, old[pos:from]...)
		require.Equal(t, len(out), max(bStart-1, 0)+boolInt(bCount == 0 && bStart > 0), "new start of %s", header)
		pos = from
		i++
		var seenA, seenB int
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			line := lines[i]
			i++
			noNL := i < len(lines) && strings.HasPrefix(lines[i], `\ No newline`)
			text := line[1:]
			if noNL {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch line[0] {
			case ' ':
				require.Equal(t, old[pos], text, "context of %s", header)
				out = append(out, text)
				pos++
				seenA++
				seenB++
			case '-':
				require.Equal(t, old[pos], text, "deleted line of %s", header)
				pos++
				seenA++
			case '+':
				out = append(out, text)
				seenB++
			default:
				t.Fatalf("bad diff line %q", line)
			}
		}
		require.Equal(t, aCount, seenA, header)
		require.Equal(t, bCount, seenB, header)
	}
	out = append(out, old[pos:]...)
	return strings.Join(out, "")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
