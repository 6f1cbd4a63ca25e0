package spec

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// backendPostgres is the only backend type besides the default local file.
const backendPostgres = "postgres"

// DefaultSchemaName is the PostgreSQL schema herald uses unless
// schema_name says otherwise.
const DefaultSchemaName = "herald"

var backendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "conn_str"},
		{Name: "schema_name"},
	},
}

var schemaNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// backendBlock is a decoded backend block. The connection string may hold
// a password: it is never put in a diagnostic.
type backendBlock struct {
	Type       string
	ConnStr    hcl.Expression
	SchemaName hcl.Expression
	DeclRange  hcl.Range
}

func decodeBackendBlock(block *hcl.Block) (*backendBlock, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if block.Labels[0] != backendPostgres {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported backend type",
			Detail:   fmt.Sprintf("herald stores state in a local file by default, or in PostgreSQL with backend %q; %q is not a backend.%s", backendPostgres, block.Labels[0], didYouMean(block.Labels[0], []string{backendPostgres})),
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	content, cdiags := block.Body.Content(backendSchema)
	diags = append(diags, cdiags...)
	if block.Labels[0] != backendPostgres {
		return nil, diags
	}
	return &backendBlock{
		Type:       block.Labels[0],
		ConnStr:    attrExpr(content, "conn_str"),
		SchemaName: attrExpr(content, "schema_name"),
		DeclRange:  block.DefRange,
	}, diags
}

func (b *backendBlock) expressions() []hcl.Expression {
	return nonNil(b.ConnStr, b.SchemaName)
}

func (l *loader) evalBackend(b *backendBlock, ctx *hcl.EvalContext) (*Backend, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := &Backend{Type: b.Type, SchemaName: DefaultSchemaName, DeclRange: b.DeclRange}
	ok := true
	s, set, _, sok, d := l.evalString(b.ConnStr, ctx, "conn_str")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		out.ConnStr = s
	}
	s, set, sensitive, sok, d := l.evalString(b.SchemaName, ctx, "schema_name")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		if !schemaNamePattern.MatchString(s) {
			diags = append(diags, attrError("Invalid schema_name", detail(fmt.Errorf("%q is not a plain PostgreSQL identifier: letters, digits and underscores, not starting with a digit, at most 63 characters", s), s, sensitive), b.SchemaName))
			ok = false
		}
		out.SchemaName = s
	}
	if !ok {
		return nil, diags
	}
	return out, diags
}

// LoadBackend reads the configuration in dir for its backend block, for
// the commands that touch only the state (show, state ...): they do not
// need the rest of the configuration to be valid, so errors elsewhere are
// ignored. It returns a nil Backend, and no diagnostics, when there are no
// configuration files or no backend block in them: the local state file.
// When a backend block is declared but could not be evaluated (or two
// are), the Backend is nil and the diagnostics say why; files are the
// parsed files, for printing them. State must never silently fall back to
// a local file when a backend is declared.
func LoadBackend(dir string, opts LoadOptions) (b *Backend, files map[string]*hcl.File, diags hcl.Diagnostics) {
	cfg, all := Load(dir, opts)
	declared := declaredBackends(cfg.Files)
	switch {
	case declared == 0:
		return nil, cfg.Files, nil
	case declared == 1 && cfg.Backend != nil:
		return cfg.Backend, cfg.Files, nil
	}
	// Two backend blocks are an error Load reports; using either one
	// would be a guess about where the state is.
	for _, d := range all {
		if d.Severity == hcl.DiagError {
			diags = append(diags, d)
		}
	}
	if len(diags) == 0 {
		// Load found nothing wrong and still gave no backend: should not
		// happen.
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Backend block could not be read",
			Detail:   "the configuration declares a backend block, but it could not be read",
		})
	}
	return nil, cfg.Files, diags
}

// declaredBackends counts the backend blocks at the top level of the
// configuration files.
func declaredBackends(files map[string]*hcl.File) int {
	n := 0
	for _, f := range files {
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == "backend" {
				n++
			}
		}
	}
	return n
}
