package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "thread_id", Required: true},
		{Name: "service"},
		{Name: "from"},
		{Name: "rate_limit"},
		{Name: "timezone"},
		{Name: "on_unknown"},
		{Name: "unknown_settle"},
		{Name: "provider"},
	},
}

// groupBlock is a decoded group block. Absent optional attributes are nil.
type groupBlock struct {
	Name      string
	ThreadID  hcl.Expression
	Service   hcl.Expression
	From      hcl.Expression
	RateLimit hcl.Expression
	Timezone  hcl.Expression
	OnUnknown hcl.Expression
	Settle    hcl.Expression
	// ProviderAlias is the alias named by provider = a1base.ALIAS; "" for
	// the default provider. ProviderRange is set when provider is given.
	ProviderAlias string
	ProviderRange *hcl.Range
	DeclRange     hcl.Range
}

func decodeGroupBlock(block *hcl.Block) (*groupBlock, hcl.Diagnostics) {
	diags := checkName("group", block)
	content, cdiags := block.Body.Content(groupSchema)
	diags = append(diags, cdiags...)
	g := &groupBlock{
		Name:      block.Labels[0],
		ThreadID:  attrExpr(content, "thread_id"),
		Service:   attrExpr(content, "service"),
		From:      attrExpr(content, "from"),
		RateLimit: attrExpr(content, "rate_limit"),
		Timezone:  attrExpr(content, "timezone"),
		OnUnknown: attrExpr(content, "on_unknown"),
		Settle:    attrExpr(content, "unknown_settle"),
		DeclRange: block.DefRange,
	}
	if attr, ok := content.Attributes["provider"]; ok {
		alias, d := decodeProviderRef(attr.Expr)
		diags = append(diags, d...)
		g.ProviderAlias, g.ProviderRange = alias, attr.Expr.Range().Ptr()
	}
	return g, diags
}

// decodeProviderRef reads provider = a1base or provider = a1base.ALIAS: a
// reference to a provider block, not an expression, as in Terraform.
func decodeProviderRef(expr hcl.Expression) (string, hcl.Diagnostics) {
	bad := hcl.Diagnostics{attrError("Invalid provider reference",
		`The provider argument names a provider "a1base" block: a1base for the one without alias, or a1base.ALIAS (such as a1base.eu) for the one with that alias. It is a reference, not a string.`, expr)}
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		return "", bad
	}
	if trav.RootName() != providerName {
		return "", hcl.Diagnostics{attrError("Invalid provider reference",
			fmt.Sprintf("herald has one provider, %q; %q is not one. Write a1base or a1base.ALIAS.", providerName, trav.RootName()), expr)}
	}
	switch len(trav) {
	case 1:
		return "", nil
	case 2:
		if step, ok := trav[1].(hcl.TraverseAttr); ok {
			return step.Name, nil
		}
	}
	return "", bad
}

func (g *groupBlock) expressions() []hcl.Expression {
	return nonNil(g.ThreadID, g.Service, g.From, g.RateLimit, g.Timezone, g.OnUnknown, g.Settle)
}

// evalGroup evaluates a group block. It returns nil when the group is
// unusable; the diagnostics say why.
func (l *loader) evalGroup(g *groupBlock, ctx *hcl.EvalContext, provider *Provider, providerFromOK bool) (*Group, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := &Group{Name: l.groupName(g.Name), Service: "whatsapp", Provider: provider, DeclRange: g.DeclRange}
	ok := g.ThreadID != nil

	if g.ThreadID != nil {
		s, _, tok, d := l.evalShownRequiredString(g.ThreadID, ctx, "thread_id", "")
		diags = append(diags, d...)
		switch {
		case !tok:
			ok = false
		case s == "":
			diags = append(diags, attrError("Invalid thread_id", "The thread_id must not be empty.", g.ThreadID))
			ok = false
		default:
			out.ThreadID = s
		}
	}
	s, set, sensitive, sok, d := l.evalShownString(g.Service, ctx, "service", "")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		if !oneOf(s, services) {
			diags = append(diags, attrError("Invalid service", detail(fmt.Errorf("%q is not a service: use \"whatsapp\" or \"telegram\"", s), s, sensitive), g.Service))
			ok = false
		} else {
			out.Service = s
		}
	}
	s, set, sensitive, sok, d = l.evalShownString(g.From, ctx, "from", "")
	diags = append(diags, d...)
	ok = ok && sok
	switch {
	case set:
		if err := checkE164(s); err != nil {
			diags = append(diags, attrError("Invalid from", detail(err, s, sensitive), g.From))
			ok = false
		} else {
			out.From = s
		}
	case sok && provider.From != "":
		out.From = provider.From
	case sok && providerFromOK:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing sending number",
			Detail:   fmt.Sprintf("Group %q has no from, and %s sets none. Set from (an E.164 number) in one of them.", g.Name, provider.blockName()),
			Subject:  g.DeclRange.Ptr(),
		})
		ok = false
	default:
		ok = false
	}
	s, set, sensitive, sok, d = l.evalShownString(g.RateLimit, ctx, "rate_limit", "")
	diags = append(diags, d...)
	ok = ok && sok
	if set {
		rl, err := ParseRateLimit(s)
		if err != nil {
			diags = append(diags, attrError("Invalid rate_limit", detail(err, s, sensitive), g.RateLimit))
			ok = false
		}
		out.RateLimit = rl
	}
	out.Timezone, out.zoneInvalid = provider.Timezone, provider.zoneInvalid
	zone, set, zok, d := l.evalZone(g.Timezone, ctx, "")
	diags = append(diags, d...)
	ok = ok && zok
	if set {
		out.Timezone, out.zoneInvalid = zone, false
	}
	policy, pok, d := l.evalUnknownPolicy(g.OnUnknown, g.Settle, ctx, provider.Unknown, func(summary, text string, expr hcl.Expression) {
		diags = append(diags, attrError(summary, text, expr))
	})
	diags = append(diags, d...)
	ok = ok && pok
	out.Unknown = policy
	if !ok {
		return nil, diags
	}
	return out, diags
}

// groupValue is a group as expressions see it: its attributes plus name.
func groupValue(g *Group) cty.Value {
	rl := cty.NullVal(cty.String)
	if g.RateLimit != nil {
		rl = cty.StringVal(g.RateLimit.Text)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":       cty.StringVal(g.Name),
		"thread_id":  cty.StringVal(g.ThreadID),
		"service":    cty.StringVal(g.Service),
		"from":       cty.StringVal(g.From),
		"rate_limit": rl,
	})
}
