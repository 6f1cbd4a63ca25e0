package views

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change, as in
// `diff -u`.
const diffContext = 3

// maxEditDistance bounds the work of the line diff: past it the remaining
// middle of the files is shown as replaced whole, which is still a correct
// diff, only a longer one. Formatting changes are small and local, so this is
// reached only for files that share almost nothing.
const maxEditDistance = 2000

// UnifiedDiff renders the line differences between a and b in the unified
// format of `diff -u`, headed by the two names; it is empty when a and b are
// equal.
func UnifiedDiff(oldName, newName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	edits := diffLines(splitLines(string(a)), splitLines(string(b)))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(edits) {
		h.write(&out)
	}
	return out.String()
}

// splitLines cuts s after each newline; the last line has none when the
// text does not end with one, so that difference is seen as a change.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type editKind byte

const (
	editEqual  editKind = ' '
	editDelete editKind = '-'
	editInsert editKind = '+'
)

type edit struct {
	kind editKind
	line string
	// aLine and bLine are the 0-based positions of the line in a and b
	// before the edit applies.
	aLine, bLine int
}

// diffLines finds a shortest edit script from a to b (Myers' algorithm),
// after taking off the common head and tail.
func diffLines(a, b []string) []edit {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var edits []edit
	for i := range head {
		edits = append(edits, edit{editEqual, a[i], i, i})
	}
	for _, e := range myers(a[head:len(a)-tail], b[head:len(b)-tail]) {
		e.aLine += head
		e.bLine += head
		edits = append(edits, e)
	}
	for i := tail; i > 0; i-- {
		ai, bi := len(a)-i, len(b)-i
		edits = append(edits, edit{editEqual, a[ai], ai, bi})
	}
	return edits
}

func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEditDistance)
	off := limit + 1
	v := make([]int, 2*limit+3)
	// trace[d] keeps v[-d-1 .. d+1] as it was before step d, all that the
	// walk back reads at that step.
	var trace [][]int
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace)
			}
		}
	}
	return replaceAll(a, b)
}

func backtrack(a, b []string, trace [][]int) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		at := func(k int) int { return v[k+d+1] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{editEqual, a[x], x, y})
		}
		if d > 0 {
			if x == prevX {
				rev = append(rev, edit{editInsert, b[prevY], prevX, prevY})
			} else {
				rev = append(rev, edit{editDelete, a[prevX], prevX, prevY})
			}
		}
		x, y = prevX, prevY
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}

func replaceAll(a, b []string) []edit {
	out := make([]edit, 0, len(a)+len(b))
	for i, l := range a {
		out = append(out, edit{editDelete, l, i, 0})
	}
	for i, l := range b {
		out = append(out, edit{editInsert, l, len(a), i})
	}
	return out
}

type hunk struct {
	edits []edit
}

// hunks groups changes that are within 2*diffContext lines of each other,
// with up to diffContext unchanged lines around each group.
func hunks(edits []edit) []hunk {
	var out []hunk
	i := 0
	for i < len(edits) {
		for i < len(edits) && edits[i].kind == editEqual {
			i++
		}
		if i == len(edits) {
			break
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(edits) {
			if edits[end].kind != editEqual {
				end++
				continue
			}
			run := end
			for run < len(edits) && edits[run].kind == editEqual {
				run++
			}
			if run == len(edits) || run-end > 2*diffContext {
				end = min(end+diffContext, len(edits))
				break
			}
			end = run
		}
		out = append(out, hunk{edits[start:end]})
		i = end
	}
	return out
}

func (h hunk) write(out *strings.Builder) {
	first := h.edits[0]
	var aCount, bCount int
	for _, e := range h.edits {
		if e.kind != editInsert {
			aCount++
		}
		if e.kind != editDelete {
			bCount++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(first.aLine, aCount), hunkRange(first.bLine, bCount))
	for _, e := range h.edits {
		out.WriteByte(byte(e.kind))
		out.WriteString(e.line)
		if !strings.HasSuffix(e.line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is "start,count" with 1-based lines; an empty range names the
// line before it, as diff does.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if count == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
