package spec

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
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
