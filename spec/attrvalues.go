package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evalAs evaluates expr and converts the result to ty. The returned value
// has its marks removed; sensitive reports whether it carried any. ok is
// false when no usable value came out; diags then explain why, unless the
// value was unknown because something it depends on already failed. A null
// result is returned as is (ok true), for the caller to treat as unset or
// as an error.
func (l *loader) evalAs(expr hcl.Expression, ctx *hcl.EvalContext, ty cty.Type, attr string) (val cty.Value, sensitive, ok bool, diags hcl.Diagnostics) {
	raw, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, false, false, diags
	}
	var plain cty.Value
	if raw.Type().IsPrimitiveType() {
		// A string or number carries its marks on itself alone.
		var marks cty.ValueMarks
		plain, marks = raw.Unmark()
		sensitive = len(marks) > 0
	} else {
		var marks cty.ValueMarks
		plain, marks = raw.UnmarkDeep()
		sensitive = len(marks) > 0
	}
	if !plain.IsWhollyKnown() {
		l.shared.unknownSkipped.Store(true)
		return cty.NilVal, sensitive, false, diags
	}
	if plain.IsNull() {
		return cty.NullVal(ty), sensitive, true, diags
	}
	conv, err := convert.Convert(plain, ty)
	if err != nil {
		return cty.NilVal, sensitive, false, append(diags, &hcl.Diagnostic{
			Severity:   hcl.DiagError,
			Summary:    "Incorrect attribute value type",
			Detail:     fmt.Sprintf("Inappropriate value for attribute %q: %s.", attr, err),
			Subject:    expr.Range().Ptr(),
			Expression: expr,
		})
	}
	return conv, sensitive, true, diags
}

// evalString evaluates an optional string attribute; set is false when it
// is absent or null.
func (l *loader) evalString(expr hcl.Expression, ctx *hcl.EvalContext, attr string) (s string, set, sensitive, ok bool, diags hcl.Diagnostics) {
	if expr == nil {
		return "", false, false, true, nil
	}
	v, sensitive, ok, diags := l.evalAs(expr, ctx, cty.String, attr)
	if !ok || v.IsNull() {
		return "", false, sensitive, ok, diags
	}
	return v.AsString(), true, sensitive, true, diags
}

// evalRequiredString is evalString for an attribute that must have a value.
func (l *loader) evalRequiredString(expr hcl.Expression, ctx *hcl.EvalContext, attr string) (string, bool, bool, hcl.Diagnostics) {
	s, set, sensitive, ok, diags := l.evalString(expr, ctx, attr)
	if ok && !set {
		return "", sensitive, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + attr,
			Detail:   fmt.Sprintf("The %s argument is required and must not be null.", attr),
			Subject:  expr.Range().Ptr(),
		})
	}
	return s, sensitive, ok, diags
}

// attrError is a diagnostic about the value of an attribute.
func attrError(summary, detail string, expr hcl.Expression) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  expr.Range().Ptr(),
	}
}

// joinNames lists names for a message: "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// sensitiveShownError refuses a sensitive value in an attribute herald
// shows in plans or errors, or stores in saved plans and state: every
// attribute but a message's text, media url and caption (and the backend
// block's). Unlike content, such a value cannot be withheld where it is
// shown, so it is refused, as for_each refuses one.
func sensitiveShownError(attr, about string, expr hcl.Expression) *hcl.Diagnostic {
	return attrError("Invalid "+attr,
		fmt.Sprintf("Sensitive values cannot be used in %s: herald shows its value in plans and stores it in saved plans and state, where no sensitive value may appear. Sensitive values belong in a message's text, media url or caption%s.", attr, about),
		expr)
}

// evalShownString is evalString for an attribute herald shows or stores:
// a sensitive value is refused (sensitiveShownError) and comes back unset
// and not ok. sensitive is then always false; it is returned so that call
// sites read like evalString's.
func (l *loader) evalShownString(expr hcl.Expression, ctx *hcl.EvalContext, attr, about string) (s string, set, sensitive, ok bool, diags hcl.Diagnostics) {
	s, set, sensitive, ok, diags = l.evalString(expr, ctx, attr)
	if set && sensitive {
		return "", false, false, false, append(diags, sensitiveShownError(attr, about, expr))
	}
	return s, set, false, ok, diags
}

// evalShownRequiredString is evalRequiredString for an attribute herald
// shows or stores (see evalShownString).
func (l *loader) evalShownRequiredString(expr hcl.Expression, ctx *hcl.EvalContext, attr, about string) (string, bool, bool, hcl.Diagnostics) {
	s, sensitive, ok, diags := l.evalRequiredString(expr, ctx, attr)
	if ok && sensitive {
		return "", false, false, append(diags, sensitiveShownError(attr, about, expr))
	}
	return s, false, ok, diags
}
