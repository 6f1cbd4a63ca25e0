package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

const source = `group "eng" {
  thread_id = "t-eng"
}

message "launch" {
  group   = group.eng
  send_at = "tomorrow"
  text    = "Launch day is ${var.day}!"
}
`

// parsed parses source under the given name, as the loader would.
func parsed(t *testing.T, name string) (*hcl.File, map[string]*hcl.File) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(source), name, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	return f, map[string]*hcl.File{name: f}
}

// attrDiag is a diagnostic on the value of the attribute name of the
// message block, as a loader reports one.
func attrDiag(t *testing.T, f *hcl.File, sev hcl.DiagnosticSeverity, summary, name string) *hcl.Diagnostic {
	t.Helper()
	block := f.Body.(*hclsyntax.Body).Blocks[1]
	attr := block.Body.Attributes[name]
	require.NotNil(t, attr, name)
	return &hcl.Diagnostic{
		Severity: sev,
		Summary:  summary,
		Detail:   "Detail of " + summary + ".",
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.SrcRange.Ptr(),
	}
}

func TestDiagnosticsHuman(t *testing.T) {
	f, files := parsed(t, "/work/cfg/main.hcl")
	diags := hcl.Diagnostics{
		attrDiag(t, f, hcl.DiagError, "Invalid send_at", "send_at"),
		attrDiag(t, f, hcl.DiagWarning, "Group given twice", "group"),
	}
	var out, errOut bytes.Buffer
	v := &View{Stdout: &out, Stderr: &errOut, Width: 78, BaseDir: "/work/cfg"}
	v.Diagnostics(diags, files)

	assert.Equal(t, `Error: Invalid send_at

  on main.hcl line 7, in message "launch":
   7:   send_at = "tomorrow"

Detail of Invalid send_at.

`, errOut.String())
	assert.Equal(t, `Warning: Group given twice

  on main.hcl line 6, in message "launch":
   6:   group   = group.eng

Detail of Group given twice.

`, out.String())
	// The caller's diagnostics keep their names.
	assert.Equal(t, "/work/cfg/main.hcl", diags[0].Subject.Filename)
}

func TestDiagnosticsHumanColourAndMissingFile(t *testing.T) {
	f, _ := parsed(t, "main.hcl")
	var errOut bytes.Buffer
	v := &View{Stdout: &bytes.Buffer{}, Stderr: &errOut, StderrColor: true}
	v.Diagnostics(hcl.Diagnostics{attrDiag(t, f, hcl.DiagError, "Bad", "send_at"), nil}, nil)
	assert.Contains(t, errOut.String(), "\x1b[31mError\x1b[0m: Bad")
	assert.Contains(t, errOut.String(), "on main.hcl line 7:\n  (source code not available)")
}

func TestDiagnosticsOutsideBaseDirKeepTheirName(t *testing.T) {
	f, files := parsed(t, "/elsewhere/vars.hcl")
	var errOut bytes.Buffer
	v := &View{Stdout: &bytes.Buffer{}, Stderr: &errOut, BaseDir: "/work/cfg"}
	v.Diagnostics(hcl.Diagnostics{attrDiag(t, f, hcl.DiagError, "Bad", "send_at")}, files)
	assert.Contains(t, errOut.String(), "on /elsewhere/vars.hcl line 7")
	assert.Contains(t, errOut.String(), `   7:   send_at = "tomorrow"`)
}

func TestJSONDiagnostics(t *testing.T) {
	f, files := parsed(t, "/work/cfg/main.hcl")
	d := attrDiag(t, f, hcl.DiagError, "Invalid send_at", "send_at")
	v := &View{BaseDir: "/work/cfg"}
	got := v.JSONDiagnostics(hcl.Diagnostics{d, {Severity: hcl.DiagWarning, Summary: "No range"}}, files)
	require.Len(t, got, 2)

	context := `message "launch"`
	want := JSONDiagnostic{
		Severity: "error",
		Summary:  "Invalid send_at",
		Detail:   "Detail of Invalid send_at.",
		Range: &JSONRange{
			Filename: "main.hcl",
			Start:    JSONPos{Line: 7, Column: 13, Byte: d.Subject.Start.Byte},
			End:      JSONPos{Line: 7, Column: 23, Byte: d.Subject.End.Byte},
		},
		Snippet: &JSONSnippet{
			Context:              &context,
			Code:                 `  send_at = "tomorrow"`,
			StartLine:            7,
			HighlightStartOffset: 12,
			HighlightEndOffset:   22,
			Values:               []JSONExpressionValue{},
		},
	}
	assert.Equal(t, want, got[0])
	assert.Equal(t, `"tomorrow"`, got[0].Snippet.Code[got[0].Snippet.HighlightStartOffset:got[0].Snippet.HighlightEndOffset])
	assert.Equal(t, JSONDiagnostic{Severity: "warning", Summary: "No range"}, got[1])

	// Encoded, a diagnostic without a range has neither range nor snippet,
	// and an empty list is [] rather than null.
	enc, err := json.Marshal(got[1])
	require.NoError(t, err)
	assert.JSONEq(t, `{"severity":"warning","summary":"No range","detail":""}`, string(enc))
	enc, err = json.Marshal(v.JSONDiagnostics(nil, nil))
	require.NoError(t, err)
	assert.Equal(t, "[]", string(enc))
}

func TestJSONSnippetSpansLines(t *testing.T) {
	f, files := parsed(t, "main.hcl")
	block := f.Body.(*hclsyntax.Body).Blocks[0]
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Whole block", Subject: block.Range().Ptr()}
	got := (&View{}).JSONDiagnostics(hcl.Diagnostics{d}, files)
	require.NotNil(t, got[0].Snippet)
	assert.Equal(t, "group \"eng\" {\n  thread_id = \"t-eng\"\n}", got[0].Snippet.Code)
	assert.Equal(t, 1, got[0].Snippet.StartLine)
	assert.Nil(t, got[0].Snippet.Context, "a top-level block has no enclosing context")
	assert.Equal(t, 0, got[0].Snippet.HighlightStartOffset)
	assert.Equal(t, len(got[0].Snippet.Code), got[0].Snippet.HighlightEndOffset)
}

func TestJSONSnippetOutOfFile(t *testing.T) {
	_, files := parsed(t, "main.hcl")
	r := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 90, Column: 1, Byte: 5000}, End: hcl.Pos{Line: 90, Column: 2, Byte: 5001}}
	got := (&View{}).JSONDiagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Stale", Subject: &r}}, files)
	require.NotNil(t, got[0].Range)
	assert.Nil(t, got[0].Snippet)
}

func TestJSONDiagnosticValues(t *testing.T) {
	f, files := parsed(t, "main.hcl")
	d := attrDiag(t, f, hcl.DiagError, "Text too long", "text")
	d.Expression = f.Body.(*hclsyntax.Body).Blocks[1].Body.Attributes["text"].Expr
	eval := func(day cty.Value) *hcl.EvalContext {
		return &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"day": day})}}
	}
	tests := []struct {
		name string
		day  cty.Value
		want string
	}{
		{"string", cty.StringVal("Monday"), `is "Monday"`},
		{"number", cty.NumberIntVal(3), "is 3"},
		{"bool", cty.True, "is true"},
		{"null", cty.NullVal(cty.String), "is null"},
		{"unknown", cty.UnknownVal(cty.String), "is not yet known"},
		{"list", cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), "is list of string with 2 elements"},
		{"sensitive", cty.StringVal("s3cr3t-token").Mark("sensitive"), "has a sensitive value"},
		{"sensitive inside", cty.ListVal([]cty.Value{cty.StringVal("s3cr3t-token").Mark("sensitive")}), "has a sensitive value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.EvalContext = eval(tt.day)
			got := (&View{}).JSONDiagnostics(hcl.Diagnostics{d}, files)
			assert.Equal(t, []JSONExpressionValue{{Traversal: "var.day", Statement: tt.want}}, got[0].Snippet.Values)
			enc, err := json.Marshal(got)
			require.NoError(t, err)
			assert.False(t, strings.Contains(string(enc), "s3cr3t"), "a sensitive value never reaches the output")
		})
	}
}

func TestValidateViews(t *testing.T) {
	f, files := parsed(t, "main.hcl")
	warn := attrDiag(t, f, hcl.DiagWarning, "Unused group", "group")
	fail := attrDiag(t, f, hcl.DiagError, "Invalid send_at", "send_at")
	tests := []struct {
		name       string
		diags      hcl.Diagnostics
		wantStdout string
		wantStderr string
	}{
		{"valid", nil, "The configuration is valid.\n", ""},
		{"one warning", hcl.Diagnostics{warn}, "The configuration is valid, but there was 1 warning.\n", ""},
		{"two warnings", hcl.Diagnostics{warn, warn}, "The configuration is valid, but there were 2 warnings.\n", ""},
		{"error", hcl.Diagnostics{warn, fail}, "", "Error: Invalid send_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			v := &View{Stdout: &out, Stderr: &errOut}
			require.NoError(t, NewValidate(v, false).Results(tt.diags, files))
			assert.True(t, strings.HasSuffix(out.String(), tt.wantStdout), out.String())
			assert.Contains(t, errOut.String(), tt.wantStderr)
			if tt.wantStderr == "" {
				assert.Empty(t, errOut.String())
			}

			out.Reset()
			errOut.Reset()
			require.NoError(t, NewValidate(v, true).Results(tt.diags, files))
			var doc ValidateDocument
			require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
			assert.Equal(t, !tt.diags.HasErrors(), doc.Valid)
			assert.Len(t, doc.Diagnostics, len(tt.diags))
			assert.Empty(t, errOut.String())
		})
	}
}

func TestFmtView(t *testing.T) {
	var out bytes.Buffer
	f := NewFmt(&View{Stdout: &out, StdoutColor: true})
	require.NoError(t, f.Diff("a.hcl", []byte("x = 1\n"), []byte("x = 2\n")))
	assert.Equal(t, "\x1b[1m--- old/a.hcl\x1b[0m\n\x1b[1m+++ new/a.hcl\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-x = 1\x1b[0m\n\x1b[32m+x = 2\x1b[0m\n", out.String())
	out.Reset()
	f.StdoutColor = false
	require.NoError(t, f.Listed("a.hcl"))
	require.NoError(t, f.Formatted([]byte("x = 1\n")))
	assert.Equal(t, "a.hcl\nx = 1\n", out.String())
}

// TestDiagnosticsKeepBlankLines checks that a snippet over several lines
// shows the blank ones too, in text and in JSON, so its line numbers have
// no gaps.
func TestDiagnosticsKeepBlankLines(t *testing.T) {
	f, files := parsed(t, "main.hcl")
	// From the end of the group block (line 3) over the blank line 4 to
	// the message block's header (line 5).
	groupEnd := f.Body.(*hclsyntax.Body).Blocks[0].Body.SrcRange.End
	msgStart := f.Body.(*hclsyntax.Body).Blocks[1].DefRange().End
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Spanning",
		Subject:  &hcl.Range{Filename: "main.hcl", Start: groupEnd, End: msgStart},
	}
	var out, errOut bytes.Buffer
	v := &View{Stdout: &out, Stderr: &errOut}
	v.Diagnostics(hcl.Diagnostics{d}, files)
	assert.Equal(t, "Error: Spanning\n\n  on main.hcl line 3:\n   3: }\n   4: \n   5: message \"launch\" {\n\n", errOut.String())

	js := v.JSONDiagnostics(hcl.Diagnostics{d}, files)
	require.Len(t, js, 1)
	require.NotNil(t, js[0].Snippet)
	assert.Equal(t, "}\n\nmessage \"launch\" {", js[0].Snippet.Code)
	assert.Equal(t, 3, js[0].Snippet.StartLine)
}

// TestDiagnosticsTextLikeHCL checks that herald's text layout is the HCL
// text writer's where there is no blank line to keep: the same header,
// snippet, highlight, values and wrapped detail.
func TestDiagnosticsTextLikeHCL(t *testing.T) {
	f, files := parsed(t, "main.hcl")
	d := attrDiag(t, f, hcl.DiagError, "Invalid text", "text")
	d.Detail = strings.Repeat("A long detail that wraps. ", 8)
	d.Expression = f.Body.(*hclsyntax.Body).Blocks[1].Body.Attributes["text"].Expr
	d.EvalContext = &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{"day": cty.StringVal("Monday")}),
	}}
	warn := attrDiag(t, f, hcl.DiagWarning, "Odd send_at", "send_at")
	for _, color := range []bool{false, true} {
		var want, got bytes.Buffer
		require.NoError(t, hcl.NewDiagnosticTextWriter(&want, files, 60, color).WriteDiagnostics(hcl.Diagnostics{d, warn}))
		writeDiagnostics(&got, files, 60, color, hcl.Diagnostics{d, warn})
		assert.Equal(t, want.String(), got.String())
		assert.Contains(t, got.String(), `with var.day as "Monday".`)
	}
}
