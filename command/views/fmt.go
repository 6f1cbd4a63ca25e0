package views

import (
	"fmt"
	"io"
	"strings"
)

// Fmt renders `herald fmt`: the names of files that were (or would be)
// rewritten, their diffs, and formatted standard input.
type Fmt struct{ *View }

// NewFmt returns the fmt view.
func NewFmt(v *View) *Fmt { return &Fmt{v} }

// Listed names a file whose formatting differs.
func (f *Fmt) Listed(name string) error {
	_, err := fmt.Fprintln(f.Stdout, name)
	return err
}

// Diff prints the changes formatting makes to a file, as `diff -u` would,
// coloured on a terminal.
func (f *Fmt) Diff(name string, before, after []byte) error {
	d := UnifiedDiff("old/"+name, "new/"+name, before, after)
	if !f.StdoutColor {
		_, err := io.WriteString(f.Stdout, d)
		return err
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		if line == "" {
			continue
		}
		text := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"):
			text = Paint(true, text, Bold)
		case strings.HasPrefix(line, "@@"):
			text = Paint(true, text, Cyan)
		case strings.HasPrefix(line, "-"):
			text = Paint(true, text, Red)
		case strings.HasPrefix(line, "+"):
			text = Paint(true, text, Green)
		}
		b.WriteString(text + "\n")
	}
	_, err := io.WriteString(f.Stdout, b.String())
	return err
}

// Formatted writes formatted source, for input read from stdin.
func (f *Fmt) Formatted(src []byte) error {
	_, err := f.Stdout.Write(src)
	return err
}
