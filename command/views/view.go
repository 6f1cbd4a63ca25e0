package views

import (
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Streams is what a View needs of the outside world: the writers and
// whether each of them is a terminal.
type Streams struct {
	Stdout           io.Writer
	Stderr           io.Writer
	StdoutIsTerminal bool
	StderrIsTerminal bool
	// Getenv reads the environment; nil reads nothing.
	Getenv func(string) string
}

// DefaultWidth is the wrapping width used when the stream is not a terminal
// or its size cannot be read, so that piped output stays predictable.
const DefaultWidth = 78

// View is the base every command's view embeds: the two streams, whether
// each is coloured, and the width to wrap prose at.
type View struct {
	Stdout io.Writer
	Stderr io.Writer
	// StdoutColor and StderrColor are true when ANSI colour may be written
	// to that stream.
	StdoutColor bool
	StderrColor bool
	// Width is the column count prose wraps at; 0 means no wrapping.
	Width int
	// BaseDir, when set, is the working directory: file names under it are
	// shown relative to it, as the user wrote them.
	BaseDir string
}

// NewView decides colour per stream: on only when the stream is a terminal,
// -no-color was not given and NO_COLOR is unset or empty
// (https://no-color.org).
func NewView(s Streams, noColor bool) *View {
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	allowed := !noColor && getenv("NO_COLOR") == ""
	if getenv("TERM") == "dumb" {
		allowed = false
	}
	v := &View{
		Stdout:      s.Stdout,
		Stderr:      s.Stderr,
		StdoutColor: allowed && s.StdoutIsTerminal,
		StderrColor: allowed && s.StderrIsTerminal,
		Width:       DefaultWidth,
	}
	switch {
	case s.StdoutIsTerminal:
		if w := terminalWidth(s.Stdout); w > 0 {
			v.Width = w
		}
	case s.StderrIsTerminal:
		if w := terminalWidth(s.Stderr); w > 0 {
			v.Width = w
		}
	}
	return v
}

// terminalWidth reads the column count of a terminal; 0 when the writer is
// not a file or its size cannot be read.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 {
		return 0
	}
	return cols
}

// Style is an ANSI SGR code.
type Style string

// Styles the views use; keep them few so the output looks alike across
// commands.
const (
	Bold      Style = "1"
	Underline Style = "4"
	Red       Style = "31"
	Green     Style = "32"
	Yellow    Style = "33"
	Cyan      Style = "36"
	Dim       Style = "2"
)

// Paint wraps s in the given styles when on is true, and returns s
// unchanged otherwise.
func Paint(on bool, s string, styles ...Style) string {
	if !on || len(styles) == 0 || s == "" {
		return s
	}
	codes := make([]string, len(styles))
	for i, st := range styles {
		codes[i] = string(st)
	}
	return "\x1b[" + strings.Join(codes, ";") + "m" + s + "\x1b[0m"
}

// Out styles s for stdout.
func (v *View) Out(s string, styles ...Style) string { return Paint(v.StdoutColor, s, styles...) }

// Err styles s for stderr.
func (v *View) Err(s string, styles ...Style) string { return Paint(v.StderrColor, s, styles...) }

// Error prints a plain error (one that has no source range) on stderr in
// the same shape as a diagnostic.
func (v *View) Error(err error) {
	if err == nil {
		return
	}
	io.WriteString(v.Stderr, v.Err("Error:", Bold, Red)+" "+err.Error()+"\n")
}
