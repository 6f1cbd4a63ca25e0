package views

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// Validate renders the result of `herald validate`.
type Validate interface {
	// Results prints the diagnostics and the verdict: valid when diags hold
	// no error.
	Results(diags hcl.Diagnostics, files map[string]*hcl.File) error
}

// NewValidate returns the human view, or the JSON one when asJSON is set.
func NewValidate(v *View, asJSON bool) Validate {
	if asJSON {
		return &validateJSON{v}
	}
	return &validateHuman{v}
}

type validateHuman struct{ *View }

func (v *validateHuman) Results(diags hcl.Diagnostics, files map[string]*hcl.File) error {
	v.Diagnostics(diags, files)
	if diags.HasErrors() {
		return nil
	}
	msg := "The configuration is valid."
	if n := countSeverity(diags, hcl.DiagWarning); n > 0 {
		msg = fmt.Sprintf("The configuration is valid, but there %s.", plural(n, "was 1 warning", "were %d warnings"))
	}
	_, err := fmt.Fprintln(v.Stdout, v.Out(msg, Green))
	return err
}

// ValidateDocument is the JSON output of `herald validate -json`.
type ValidateDocument struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []JSONDiagnostic `json:"diagnostics"`
}

// JSONFormatVersion is the format_version of herald's JSON documents; it
// changes only when a field's meaning does.
const JSONFormatVersion = "1"

type validateJSON struct{ *View }

func (v *validateJSON) Results(diags hcl.Diagnostics, files map[string]*hcl.File) error {
	doc := ValidateDocument{
		FormatVersion: JSONFormatVersion,
		Valid:         !diags.HasErrors(),
		ErrorCount:    countSeverity(diags, hcl.DiagError),
		WarningCount:  countSeverity(diags, hcl.DiagWarning),
		Diagnostics:   v.JSONDiagnostics(diags, files),
	}
	return writeJSON(v.Stdout, doc)
}

func countSeverity(diags hcl.Diagnostics, sev hcl.DiagnosticSeverity) int {
	n := 0
	for _, d := range diags {
		if d != nil && d.Severity == sev {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

// writeJSON writes one indented document followed by a newline; HTML
// characters stay as written, since nobody embeds this output in a page.
func writeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
