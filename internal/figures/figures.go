package figures

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/atomicfile"
)

// EnvVar is the switch: with HERALD_WRITE_FIGURES=1 the tools write their
// tables into the docs.
const EnvVar = "HERALD_WRITE_FIGURES"

// Enabled reports whether getenv (os.Getenv) turns the writing on.
func Enabled(getenv func(string) string) bool {
	return getenv(EnvVar) == "1"
}

const endMarker = "<!-- /figures -->"

func startMarker(name string) string { return "<!-- figures:" + name + " -->" }

// Replace returns doc with the text between the markers of the table name
// replaced by content. The markers must each stand on a line of their own,
// the start marker exactly once, and the end marker after it. content gets
// a final newline if it lacks one.
func Replace(doc []byte, name, content string) ([]byte, error) {
	body, end, err := between(doc, name)
	if err != nil {
		return nil, err
	}
	if content != "" && content[len(content)-1] != '\n' {
		content += "\n"
	}
	var out bytes.Buffer
	out.Write(doc[:body])
	out.WriteString(content)
	out.Write(doc[end:])
	return out.Bytes(), nil
}

// between returns where the text between the markers of name starts and
// ends in doc.
func between(doc []byte, name string) (body, end int, err error) {
	start := []byte(startMarker(name) + "\n")
	i := lineIndex(doc, start)
	if i < 0 {
		return 0, 0, fmt.Errorf("no line %q", startMarker(name))
	}
	if lineIndex(doc[i+len(start):], start) >= 0 {
		return 0, 0, fmt.Errorf("%q is there twice", startMarker(name))
	}
	body = i + len(start)
	j := lineIndex(doc[body:], []byte(endMarker))
	if j < 0 {
		return 0, 0, fmt.Errorf("%q is not closed by a line %q", startMarker(name), endMarker)
	}
	return body, body + j, nil
}

// Read returns the text between the markers of the table name in the page
// at path.
func Read(path, name string) (string, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	body, end, err := between(doc, name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return string(doc[body:end]), nil
}

// Cells reads a markdown table: one row of cells per line that starts with
// "|", the heading first, without the |---| line under it. Cells are
// trimmed; other lines are skipped.
func Cells(table string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(table, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
		row := make([]string, len(parts))
		rule := true
		for i, p := range parts {
			row[i] = strings.TrimSpace(p)
			rule = rule && strings.Trim(row[i], "-: ") == "" && row[i] != ""
		}
		if rule {
			continue
		}
		rows = append(rows, row)
	}
	return rows
}

// Merge updates the table old (rows of cells, the heading first) with the
// rows of fresh: a row of fresh replaces, in its place, the row of old
// with the same first cell, and the other rows of fresh follow old's. So a
// run of some of a tool's scenarios updates their rows and keeps the rest.
// When the headings differ (the columns changed), only fresh is kept.
func Merge(old, fresh [][]string) [][]string {
	if len(fresh) == 0 {
		return old
	}
	if len(old) == 0 || !slices.Equal(old[0], fresh[0]) {
		return fresh
	}
	byKey := map[string][]string{}
	for _, row := range fresh[1:] {
		if len(row) > 0 {
			byKey[row[0]] = row
		}
	}
	out := [][]string{fresh[0]}
	used := map[string]bool{}
	for _, row := range old[1:] {
		if len(row) > 0 {
			if f, ok := byKey[row[0]]; ok {
				row = f
				used[row[0]] = true
			}
		}
		out = append(out, row)
	}
	for _, row := range fresh[1:] {
		if len(row) == 0 || !used[row[0]] {
			out = append(out, row)
		}
	}
	return out
}

// lineIndex finds line at the start of a line of doc, or returns -1.
func lineIndex(doc, line []byte) int {
	for off := 0; ; {
		k := bytes.Index(doc[off:], line)
		if k < 0 {
			return -1
		}
		k += off
		if k == 0 || doc[k-1] == '\n' {
			return k
		}
		off = k + 1
	}
}

// WriteFile replaces the table name in the page at path with content. The
// page is rewritten through a temporary file in its directory, renamed
// over it, so that an interrupted write leaves the old page.
func WriteFile(path, name, content string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := Replace(doc, name, content)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, doc) {
		return nil
	}
	return atomicfile.Write(path, out, atomicfile.Options{KeepPerm: true})
}
