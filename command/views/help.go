package views

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// CommandSummary is one line of herald's usage: a command and what it
// does.
type CommandSummary struct {
	Name, Synopsis string
}

// HeraldUsage is herald's usage: the commands and the global options.
func HeraldUsage(cmds []CommandSummary) string {
	var b strings.Builder
	b.WriteString(`Usage: herald [global options] <command> [args]

herald sends scheduled messages to WhatsApp and Telegram groups from a
declarative configuration: plan shows what is due, apply sends it.

Commands:
`)
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, c.Synopsis)
	}
	b.WriteString(`
Global options (before the command):
  -chdir=DIR  Work in DIR instead of the current directory.
  -help       Show this help, or a command's with "herald -help COMMAND".
  -version    Show herald's version, as "herald version" does.

Options of a command take one dash or two: -out=FILE and --out=FILE are the
same. "herald COMMAND -help" lists them.
`)
	return b.String()
}

// CommandUsage is a command's usage: "herald NAME ARGS", the description
// indented, and the flags as "-name=VALUE  usage", aligned, the way
// Terraform's help reads.
func CommandUsage(fs *flag.FlagSet, args, text string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: herald %s %s\n", fs.Name(), args)
	if text != "" {
		fmt.Fprintf(&b, "\n%s\n", indent(strings.TrimSpace(text), "  "))
	}
	writeOptions(&b, fs)
	return b.String()
}

// Help prints usage text that was asked for, on stdout.
func (v *View) Help(usage string) { io.WriteString(v.Stdout, usage) }

// Usage prints usage text after a mistake, on stderr.
func (v *View) Usage(usage string) { io.WriteString(v.Stderr, usage) }

// UsageError prints an error in the command line, a blank line and the
// usage, on stderr.
func (v *View) UsageError(err error, usage string) {
	v.Error(err)
	io.WriteString(v.Stderr, "\n"+usage)
}

func writeOptions(w io.Writer, fs *flag.FlagSet) {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		left := "-" + f.Name
		if value != "" {
			left += "=" + value
		}
		if !isZeroDefault(f) {
			usage += fmt.Sprintf(" Default: %s.", f.DefValue)
		}
		rows = append(rows, row{left, usage})
		if len(left) <= 24 {
			width = max(width, len(left))
		}
	})
	if len(rows) == 0 {
		return
	}
	fmt.Fprint(w, "\nOptions:\n\n")
	pad := strings.Repeat(" ", width+4)
	for _, r := range rows {
		lines := wrap(r.usage, max(76-width-4, 30))
		if len(r.left) > width {
			fmt.Fprintf(w, "  %s\n", r.left)
		} else {
			fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s\n", pad, l)
		}
	}
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return true
	}
	return false
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(text) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func indent(text, prefix string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
