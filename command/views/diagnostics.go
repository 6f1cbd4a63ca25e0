package views

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/zclconf/go-cty/cty"
)

// Diagnostics prints diags for a person: errors on stderr, warnings on
// stdout (they accompany a result rather than replace it), each with the
// source lines it points at. files are the parsed files by name, as the
// parser named them; a diagnostic whose file is missing is printed without
// its snippet.
func (v *View) Diagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) {
	if len(diags) == 0 {
		return
	}
	diags, files = v.localize(diags, files)
	var errs, warns hcl.Diagnostics
	for _, d := range diags {
		if d == nil {
			continue
		}
		if d.Severity == hcl.DiagWarning {
			warns = append(warns, d)
		} else {
			errs = append(errs, d)
		}
	}
	width := uint(max(v.Width, 0))
	writeDiagnostics(v.Stdout, files, width, v.StdoutColor, warns)
	writeDiagnostics(v.Stderr, files, width, v.StderrColor, errs)
}

// localize renames files under BaseDir to their path relative to it, in
// the diagnostics' ranges and in the file map alike, so the snippets are
// still found.
func (v *View) localize(diags hcl.Diagnostics, files map[string]*hcl.File) (hcl.Diagnostics, map[string]*hcl.File) {
	if v.BaseDir == "" {
		return diags, files
	}
	newFiles := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		newFiles[v.displayName(name)] = f
	}
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		if d == nil {
			continue
		}
		c := *d
		c.Subject = v.localRange(d.Subject)
		c.Context = v.localRange(d.Context)
		out = append(out, &c)
	}
	return out, newFiles
}

func (v *View) localRange(r *hcl.Range) *hcl.Range {
	if r == nil {
		return nil
	}
	c := *r
	c.Filename = v.displayName(r.Filename)
	return &c
}

// displayName shows an absolute name under BaseDir relative to it; any
// other name is left as it is.
func (v *View) displayName(name string) string {
	if v.BaseDir == "" || !filepath.IsAbs(name) {
		return name
	}
	rel, err := filepath.Rel(v.BaseDir, name)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return name
	}
	return rel
}

// JSONDiagnostic is one diagnostic in machine-readable output, in the shape
// of `terraform validate -json`.
type JSONDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *JSONRange   `json:"range,omitempty"`
	Snippet  *JSONSnippet `json:"snippet,omitempty"`
}

// JSONRange is a source range; lines and columns count from 1, bytes from 0.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position in a source file.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONSnippet is the source a diagnostic points at, for tools that show it
// themselves.
type JSONSnippet struct {
	// Context names the enclosing block, e.g. `message "launch"`; null when
	// there is none.
	Context *string `json:"context"`
	// Code is the whole source lines the diagnostic covers.
	Code      string `json:"code"`
	StartLine int    `json:"start_line"`
	// HighlightStartOffset and HighlightEndOffset are byte offsets into Code
	// of the part the diagnostic is about.
	HighlightStartOffset int `json:"highlight_start_offset"`
	HighlightEndOffset   int `json:"highlight_end_offset"`
	// Values describes the variables the failing expression referred to.
	Values []JSONExpressionValue `json:"values"`
}

// JSONExpressionValue describes one variable of a failing expression, such
// as `each.key` is "eng".
type JSONExpressionValue struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

// JSONDiagnostics converts diags for a JSON document. It never returns nil,
// so an empty list encodes as [] rather than null.
func (v *View) JSONDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) []JSONDiagnostic {
	diags, files = v.localize(diags, files)
	out := make([]JSONDiagnostic, 0, len(diags))
	for _, d := range diags {
		if d == nil {
			continue
		}
		jd := JSONDiagnostic{
			Severity: "error",
			Summary:  d.Summary,
			Detail:   d.Detail,
		}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			jd.Range = &JSONRange{
				Filename: d.Subject.Filename,
				Start:    JSONPos{d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.Start.Byte},
				End:      JSONPos{d.Subject.End.Line, d.Subject.End.Column, d.Subject.End.Byte},
			}
			if f := files[d.Subject.Filename]; f != nil && f.Bytes != nil {
				jd.Snippet = snippet(d, f)
			}
		}
		out = append(out, jd)
	}
	return out
}

// snippet cuts the lines the diagnostic covers out of the file, with the
// highlight as offsets into them.
func snippet(d *hcl.Diagnostic, f *hcl.File) *JSONSnippet {
	highlight := *d.Subject
	covered := highlight
	if d.Context != nil {
		covered = hcl.RangeOver(covered, *d.Context)
	}
	// An empty range still points at a character: the one after it.
	if covered.Empty() {
		covered.End.Byte++
		covered.End.Column++
	}
	s := &JSONSnippet{Values: expressionValues(d)}
	if ctx := hcled.ContextString(f, highlight.Start.Byte-1); ctx != "" {
		s.Context = &ctx
	}
	var code bytes.Buffer
	codeStart := -1
	sc := hcl.NewRangeScanner(f.Bytes, highlight.Filename, bufio.ScanLines)
	for sc.Scan() {
		line := sc.Range()
		if !lineCovered(line, covered) {
			continue
		}
		if codeStart < 0 {
			codeStart = line.Start.Byte
			s.StartLine = line.Start.Line
		} else {
			code.WriteByte('\n')
		}
		code.Write(sc.Bytes())
	}
	if codeStart < 0 {
		// The range lies outside the file (a file changed since it was
		// parsed, or a range made up by a caller): no snippet then.
		return nil
	}
	s.Code = code.String()
	s.HighlightStartOffset = min(max(highlight.Start.Byte-codeStart, 0), len(s.Code))
	s.HighlightEndOffset = min(max(highlight.End.Byte-codeStart, s.HighlightStartOffset), len(s.Code))
	return s
}

// expressionValues describes the variables of the failing expression, as
// the text writer does; marked (sensitive) values are named but never
// shown.
func expressionValues(d *hcl.Diagnostic) []JSONExpressionValue {
	out := []JSONExpressionValue{}
	eachExpressionValue(d, func(name string, val cty.Value) {
		var stmt string
		switch {
		case val.ContainsMarked():
			stmt = "has a sensitive value"
		case !val.IsKnown():
			stmt = "is not yet known"
		case val.IsNull():
			stmt = "is null"
		default:
			stmt = "is " + valueString(val)
		}
		out = append(out, JSONExpressionValue{Traversal: name, Statement: stmt})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Traversal < out[j].Traversal })
	return out
}

// eachExpressionValue calls f once for each variable the failing
// expression read that can be resolved, with its value.
func eachExpressionValue(d *hcl.Diagnostic, f func(name string, val cty.Value)) {
	if d.Expression == nil || d.EvalContext == nil {
		return
	}
	seen := map[string]bool{}
	for _, tr := range d.Expression.Variables() {
		val, diags := tr.TraverseAbs(d.EvalContext)
		if diags.HasErrors() {
			continue
		}
		name := traversalString(tr)
		if seen[name] {
			continue
		}
		seen[name] = true
		f(name, val)
	}
}

func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().IsPrimitiveType() && s.Key.IsKnown() && !s.Key.IsNull() && !s.Key.IsMarked() {
				b.WriteString("[" + valueString(s.Key) + "]")
			} else {
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// valueString is a short description of a value: primitives as written,
// collections by their size, so a diagnostic never grows with the data.
func valueString(val cty.Value) string {
	ty := val.Type()
	switch {
	case val.IsNull():
		return "null"
	case !val.IsKnown():
		return "(not yet known)"
	case ty == cty.Bool:
		return fmt.Sprint(val.True())
	case ty == cty.Number:
		return val.AsBigFloat().Text('g', -1)
	case ty == cty.String:
		return fmt.Sprintf("%q", val.AsString())
	case ty.IsCollectionType() || ty.IsTupleType():
		switch n := val.LengthInt(); n {
		case 0:
			return "empty " + ty.FriendlyName()
		case 1:
			return ty.FriendlyName() + " with 1 element"
		default:
			return fmt.Sprintf("%s with %d elements", ty.FriendlyName(), n)
		}
	case ty.IsObjectType():
		n := len(ty.AttributeTypes())
		if n == 1 {
			return "object with 1 attribute"
		}
		return fmt.Sprintf("object with %d attributes", n)
	default:
		return ty.FriendlyName()
	}
}
