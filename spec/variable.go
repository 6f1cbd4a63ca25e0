package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "validation"},
	},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// variableBlock is a decoded variable block. Its type, default, description
// and sensitivity are constants, so they are evaluated while decoding.
type variableBlock struct {
	Name        string
	Description string
	// Type is cty.DynamicPseudoType when no type is given.
	Type     cty.Type
	Defaults *typeexpr.Defaults
	// Literal: values from the environment and -var are taken as strings,
	// not parsed as HCL expressions (no type, or type string).
	Literal     bool
	Default     cty.Value
	HasDefault  bool
	DefaultExpr hcl.Expression
	Sensitive   bool
	Validations []*validation
	// Broken: the type or default is wrong (and reported); the variable
	// gets no value and what uses it is skipped.
	Broken    bool
	DeclRange hcl.Range
}

type validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

func decodeVariableBlock(block *hcl.Block) (*variableBlock, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	v := &variableBlock{
		Name:      block.Labels[0],
		Type:      cty.DynamicPseudoType,
		Literal:   true,
		DeclRange: block.DefRange,
	}
	diags = append(diags, checkName("variable", block)...)
	content, cdiags := block.Body.Content(variableSchema)
	diags = append(diags, cdiags...)

	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, tdiags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, tdiags...)
		v.Broken = v.Broken || tdiags.HasErrors()
		if !tdiags.HasErrors() {
			v.Type, v.Defaults = ty, defaults
			v.Literal = ty == cty.String
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if s, err := convert.Convert(val, cty.String); err != nil || s.IsNull() || !s.IsKnown() {
				diags = append(diags, attrError("Invalid description", "The description must be a string.", attr.Expr))
			} else {
				v.Description = s.AsString()
			}
		}
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if b, err := convert.Convert(val, cty.Bool); err != nil || b.IsNull() || !b.IsKnown() {
				diags = append(diags, attrError("Invalid sensitive", "sensitive must be true or false.", attr.Expr))
			} else {
				v.Sensitive = b.True()
			}
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		v.Broken = v.Broken || d.HasErrors()
		if !d.HasErrors() {
			v.Default, v.HasDefault, v.DefaultExpr = val, true, attr.Expr
		}
	}
	for _, b := range content.Blocks {
		vc, vdiags := b.Body.Content(validationSchema)
		diags = append(diags, vdiags...)
		cond, msg := attrExpr(vc, "condition"), attrExpr(vc, "error_message")
		if cond != nil && msg != nil {
			v.Validations = append(v.Validations, &validation{Condition: cond, ErrorMessage: msg, DeclRange: b.DefRange})
		}
	}
	return v, diags
}

// checkName rejects block names that could not be referred to.
func checkName(kind string, block *hcl.Block) hcl.Diagnostics {
	if len(block.Labels) == 0 || validName(block.Labels[0]) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + kind + " name",
		Detail:   fmt.Sprintf("A %s name must start with a letter or underscore and may contain only letters, digits, underscores and dashes; %q is not valid.", kind, block.Labels[0]),
		Subject:  block.LabelRanges[0].Ptr(),
	}}
}

// convertValue converts a variable's value to its declared type, filling
// in optional attributes' defaults first.
func (v *variableBlock) convertValue(val cty.Value) (cty.Value, error) {
	if v.Defaults != nil {
		val = v.Defaults.Apply(val)
	}
	return convert.Convert(val, v.Type)
}

// validName is hclsyntax.ValidIdentifier with a fast path for the ASCII
// names nearly everyone writes.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return hclsyntax.ValidIdentifier(s)
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case i > 0 && (c == '-' || (c >= '0' && c <= '9')):
		default:
			return false
		}
	}
	return true
}
