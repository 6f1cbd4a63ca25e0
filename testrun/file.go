package testrun

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Suffix ends the name of a test file.
const Suffix = ".test.hcl"

// DefaultDir is where herald test looks for test files, under the working
// directory. The configuration loader does not read subdirectories, so test
// files there are never taken for configuration.
const DefaultDir = "tests"

// File is a parsed test file.
type File struct {
	// Name is the file's path as given (relative to the working
	// directory when found by Find).
	Name string
	// HCL is the parsed file, for diagnostic snippets.
	HCL *hcl.File
	// Variables are the file's variables block: values for every run.
	Variables []*hcl.Attribute
	Runs      []*Run
}

// Run is a run block: one plan made at a pinned clock with pinned
// variables, and what must hold of it.
type Run struct {
	Name string
	// At is the plan's clock, an RFC 3339 time.
	At hcl.Expression
	// Apply: command = "apply", the run carries its plan out against the
	// sandbox, and the file's later runs see what it recorded.
	Apply bool
	// Variables win over the file's.
	Variables []*hcl.Attribute
	Asserts   []*Assert
	// ExpectFailures name the checks (check.NAME) and messages
	// (message.NAME, for their preconditions) that must fail.
	ExpectFailures []hcl.Traversal
	DeclRange      hcl.Range
}

// Assert is an assert block of a run.
type Assert struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variables"},
		{Type: "run", LabelNames: []string{"name"}},
	},
}

var runSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "at", Required: true},
		{Name: "command"},
		{Name: "expect_failures"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variables"},
		{Type: "assert"},
	},
}

var assertSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// Find lists the test files of dir (non-recursive), sorted by name; none
// when dir does not exist.
func Find(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), Suffix) && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Parse reads and decodes the test file at path; display is the name
// diagnostics and results use.
func Parse(path, display string) (*File, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return &File{Name: display}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read test file",
			Detail:   fmt.Sprintf("Cannot read %s: %s.", display, err),
		}}
	}
	hf, diags := hclsyntax.ParseConfig(src, display, hcl.InitialPos)
	f := &File{Name: display, HCL: hf}
	if diags.HasErrors() {
		return f, diags
	}
	content, d := hf.Body.Content(fileSchema)
	diags = append(diags, d...)
	names := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variables":
			attrs, d := b.Body.JustAttributes()
			diags = append(diags, d...)
			f.Variables = append(f.Variables, sortedAttrs(attrs)...)
		case "run":
			r, d := decodeRun(b)
			diags = append(diags, d...)
			if prev, dup := names[r.Name]; dup {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate run block",
					Detail:   fmt.Sprintf("A run block named %q was already declared at %s:%d. Names must be unique in a file.", r.Name, prev.Filename, prev.Start.Line),
					Subject:  b.DefRange.Ptr(),
				})
				continue
			}
			names[r.Name] = b.DefRange
			f.Runs = append(f.Runs, r)
		}
	}
	return f, diags
}

func decodeRun(b *hcl.Block) (*Run, hcl.Diagnostics) {
	content, diags := b.Body.Content(runSchema)
	r := &Run{Name: b.Labels[0], DeclRange: b.DefRange}
	if a, ok := content.Attributes["at"]; ok {
		r.At = a.Expr
	}
	if a, ok := content.Attributes["command"]; ok {
		v, d := a.Expr.Value(nil)
		switch {
		case d.HasErrors() || v.Type() != cty.String || v.IsNull():
			diags = append(diags, badCommand(a.Expr))
		case v.AsString() == "apply":
			r.Apply = true
		case v.AsString() != "plan":
			diags = append(diags, badCommand(a.Expr))
		}
	}
	if a, ok := content.Attributes["expect_failures"]; ok {
		exprs, d := hcl.ExprList(a.Expr)
		diags = append(diags, d...)
		for _, e := range exprs {
			t, d := hcl.AbsTraversalForExpr(e)
			if _, ok := expectName(t); ok && !d.HasErrors() {
				r.ExpectFailures = append(r.ExpectFailures, t)
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid expect_failures entry",
				Detail:   "expect_failures lists check blocks (check.NAME) and messages whose preconditions must fail (message.NAME).",
				Subject:  e.Range().Ptr(),
			})
		}
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "variables":
			attrs, d := blk.Body.JustAttributes()
			diags = append(diags, d...)
			r.Variables = append(r.Variables, sortedAttrs(attrs)...)
		case "assert":
			ac, d := blk.Body.Content(assertSchema)
			diags = append(diags, d...)
			cond, okc := ac.Attributes["condition"]
			msg, okm := ac.Attributes["error_message"]
			if okc && okm {
				r.Asserts = append(r.Asserts, &Assert{Condition: cond.Expr, ErrorMessage: msg.Expr, DeclRange: blk.DefRange})
			}
		}
	}
	return r, diags
}

func badCommand(expr hcl.Expression) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid command",
		Detail:   `command is "plan" (the default: the run plans against the file's state) or "apply" (the run also carries the plan out against a sandbox inside herald, and records it in the file's state for the runs after it), written as a literal string.`,
		Subject:  expr.Range().Ptr(),
	}
}

// expectName is check.NAME or message.NAME as written in expect_failures.
func expectName(t hcl.Traversal) (string, bool) {
	if len(t) != 2 {
		return "", false
	}
	attr, ok := t[1].(hcl.TraverseAttr)
	root := t.RootName()
	if !ok || (root != "check" && root != "message") {
		return "", false
	}
	return root + "." + attr.Name, true
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}
