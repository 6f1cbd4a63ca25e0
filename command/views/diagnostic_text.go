package views

import (
	"bufio"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	wordwrap "github.com/mitchellh/go-wordwrap"
	"github.com/zclconf/go-cty/cty"
)

// writeDiagnostics prints diags for a person in the layout of
// hcl.NewDiagnosticTextWriter: summary, "on FILE line N, in BLOCK", the
// source lines with the subject highlighted, the values the expression
// used, then the detail wrapped to width (0: no wrapping). It differs in
// one way: a snippet keeps the blank lines inside the range it shows, so
// the line numbers down its margin have no gaps.
func writeDiagnostics(w io.Writer, files map[string]*hcl.File, width uint, color bool, diags hcl.Diagnostics) {
	for _, d := range diags {
		if d != nil {
			writeDiagnostic(w, files, width, color, d)
		}
	}
}

func writeDiagnostic(w io.Writer, files map[string]*hcl.File, width uint, color bool, d *hcl.Diagnostic) {
	var colorCode, highlightCode, resetCode string
	if color {
		colorCode = "\x1b[31m"
		if d.Severity == hcl.DiagWarning {
			colorCode = "\x1b[33m"
		}
		resetCode = "\x1b[0m"
		highlightCode = "\x1b[1;4m"
	}
	severity := "Error"
	if d.Severity == hcl.DiagWarning {
		severity = "Warning"
	}
	fmt.Fprintf(w, "%s%s%s: %s\n\n", colorCode, severity, resetCode, d.Summary)

	if d.Subject != nil {
		snip, highlight := snippetRanges(d)
		f := files[d.Subject.Filename]
		if f == nil || f.Bytes == nil {
			fmt.Fprintf(w, "  on %s line %d:\n  (source code not available)\n\n", d.Subject.Filename, d.Subject.Start.Line)
		} else {
			where := ""
			if ctx := hcled.ContextString(f, d.Subject.Start.Byte); ctx != "" {
				where = ", in " + ctx
			}
			fmt.Fprintf(w, "  on %s line %d%s:\n", d.Subject.Filename, d.Subject.Start.Line, where)
			src := f.Bytes
			sc := hcl.NewRangeScanner(src, d.Subject.Filename, bufio.ScanLines)
			for sc.Scan() {
				line := sc.Range()
				if !lineCovered(line, snip) {
					continue
				}
				before, hl, after := line.PartitionAround(highlight)
				if hl.Empty() {
					fmt.Fprintf(w, "%4d: %s\n", line.Start.Line, sc.Bytes())
					continue
				}
				fmt.Fprintf(w, "%4d: %s%s%s%s%s\n", line.Start.Line,
					before.SliceBytes(src), highlightCode, hl.SliceBytes(src), resetCode, after.SliceBytes(src))
			}
			fmt.Fprintln(w)
		}
		writeExpressionValues(w, d)
	}

	if d.Detail != "" {
		detail := d.Detail
		if width != 0 {
			detail = wordwrap.WrapString(detail, width)
		}
		fmt.Fprintf(w, "%s\n\n", detail)
	}
}

// snippetRanges are the source a diagnostic shows (subject and context)
// and the part of it highlighted. An empty range still points at a
// character: the one after it.
func snippetRanges(d *hcl.Diagnostic) (snip, highlight hcl.Range) {
	snip, highlight = *d.Subject, *d.Subject
	if d.Context != nil {
		snip = hcl.RangeOver(snip, *d.Context)
	}
	if snip.Empty() {
		snip.End.Byte++
		snip.End.Column++
	}
	if highlight.Empty() {
		highlight.End.Byte++
		highlight.End.Column++
	}
	return snip, highlight
}

// lineCovered reports whether a source line belongs in the snippet of
// covered. An empty line overlaps nothing, so it counts when it lies
// inside the range.
func lineCovered(line, covered hcl.Range) bool {
	if line.Overlaps(covered) {
		return true
	}
	return line.Empty() && line.Start.Byte > covered.Start.Byte && line.Start.Byte < covered.End.Byte
}

// writeExpressionValues prints "with each.key as "eng"," for the
// variables the failing expression used, as the HCL text writer does;
// marked (sensitive) and unknown values are left out.
func writeExpressionValues(w io.Writer, d *hcl.Diagnostic) {
	var stmts []string
	eachExpressionValue(d, func(name string, val cty.Value) {
		switch {
		case !val.IsKnown(), val.IsMarked():
		case val.IsNull():
			stmts = append(stmts, name+" set to null")
		default:
			stmts = append(stmts, name+" as "+textValueString(val))
		}
	})
	sort.Strings(stmts)
	for i, stmt := range stmts {
		lead, end := "     ", ",\n"
		if i == 0 {
			lead = "with "
		}
		if i == len(stmts)-1 {
			end = ".\n\n"
		}
		fmt.Fprint(w, lead+stmt+end)
	}
}

// textValueString describes a value as the HCL text writer does; unlike
// valueString (JSON), it names the attribute of a one-attribute object.
func textValueString(val cty.Value) string {
	ty := val.Type()
	switch {
	case val.IsNull() || !val.IsKnown():
		return valueString(val)
	case ty == cty.Number:
		return val.AsBigFloat().Text('g', 10)
	case ty.IsObjectType():
		atys := ty.AttributeTypes()
		switch len(atys) {
		case 0:
			return "object with no attributes"
		case 1:
			for name := range atys {
				return fmt.Sprintf("object with 1 attribute %q", name)
			}
		}
	}
	return valueString(val)
}
