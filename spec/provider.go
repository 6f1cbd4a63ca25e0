package spec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// providerName is the only provider herald knows.
const providerName = "a1base"

var providerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "account_id"},
		{Name: "from"},
		{Name: "base_url"},
		{Name: "rate_limit"},
		{Name: "expires_after"},
		{Name: "check_media"},
		{Name: "timezone"},
		{Name: "on_unknown"},
		{Name: "unknown_settle"},
		{Name: "alias"},
		{Name: "endpoint"},
	},
}

// Send endpoints a provider can use.
const (
	EndpointGroup     = "group"
	EndpointUniversal = "universal"
)

var endpoints = []string{EndpointGroup, EndpointUniversal}

// aliasPattern is what a provider alias may be: it is part of references
// (a1base.eu) and of environment variable names (A1BASE_EU_API_KEY).
var aliasPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// providerBlock is a decoded provider "a1base" block. Absent attributes
// are nil.
type providerBlock struct {
	AccountID    hcl.Expression
	From         hcl.Expression
	BaseURL      hcl.Expression
	RateLimit    hcl.Expression
	ExpiresAfter hcl.Expression
	CheckMedia   hcl.Expression
	Timezone     hcl.Expression
	OnUnknown    hcl.Expression
	Settle       hcl.Expression
	Endpoint     hcl.Expression
	// Alias is the alias the block declares; "" for the default provider.
	Alias      string
	AliasRange hcl.Range
	DeclRange  hcl.Range
}

func decodeProviderBlock(block *hcl.Block) (*providerBlock, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if block.Labels[0] != providerName {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported provider",
			Detail:   fmt.Sprintf("herald has one provider, %q; %q is not one.%s", providerName, block.Labels[0], didYouMean(block.Labels[0], []string{providerName})),
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	content, cdiags := block.Body.Content(providerSchema)
	diags = append(diags, cdiags...)
	if block.Labels[0] != providerName {
		return nil, diags
	}
	p := &providerBlock{DeclRange: block.DefRange}
	p.AccountID = attrExpr(content, "account_id")
	p.From = attrExpr(content, "from")
	p.BaseURL = attrExpr(content, "base_url")
	p.RateLimit = attrExpr(content, "rate_limit")
	p.ExpiresAfter = attrExpr(content, "expires_after")
	p.CheckMedia = attrExpr(content, "check_media")
	p.Timezone = attrExpr(content, "timezone")
	p.OnUnknown = attrExpr(content, "on_unknown")
	p.Settle = attrExpr(content, "unknown_settle")
	p.Endpoint = attrExpr(content, "endpoint")
	if attr, ok := content.Attributes["alias"]; ok {
		p.AliasRange = attr.Expr.Range()
		// The alias names the block in references and in the environment,
		// so it is a constant, as in Terraform.
		v, vdiags := attr.Expr.Value(nil)
		switch {
		case vdiags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String:
			diags = append(diags, attrError("Invalid provider alias", "The alias must be a literal string, such as \"eu\".", attr.Expr))
			return nil, diags
		case !aliasPattern.MatchString(v.AsString()):
			diags = append(diags, attrError("Invalid provider alias", fmt.Sprintf("%q is not a provider alias: use lower-case letters, digits and underscores, starting with a letter, such as \"eu\" or \"brand_b\".", v.AsString()), attr.Expr))
			return nil, diags
		}
		p.Alias = v.AsString()
	}
	return p, diags
}

// EnvVar is the environment variable that holds a provider's setting:
// A1BASE_<SUFFIX> for the default provider, A1BASE_<ALIAS>_<SUFFIX> for an
// aliased one (A1BASE_EU_API_KEY).
func EnvVar(alias, suffix string) string {
	if alias == "" {
		return "A1BASE_" + suffix
	}
	return "A1BASE_" + strings.ToUpper(alias) + "_" + suffix
}

// attrExpr returns the expression of an attribute, or nil when absent.
func attrExpr(content *hcl.BodyContent, name string) hcl.Expression {
	if content == nil {
		return nil
	}
	if attr, ok := content.Attributes[name]; ok {
		return attr.Expr
	}
	return nil
}

func (p *providerBlock) expressions() []hcl.Expression {
	return nonNil(p.AccountID, p.From, p.BaseURL, p.RateLimit, p.ExpiresAfter, p.CheckMedia, p.Timezone, p.Endpoint, p.OnUnknown, p.Settle)
}

func nonNil(exprs ...hcl.Expression) []hcl.Expression {
	out := exprs[:0]
	for _, e := range exprs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// evalProvider evaluates the provider block (or its absence) with the
// environment fallbacks. ok is false when from could not be evaluated, so
// that groups do not also complain about a missing sending number.
func (l *loader) evalProvider(alias string, p *providerBlock, ctx *hcl.EvalContext) (Provider, bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := Provider{Alias: alias, BaseURL: DefaultBaseURL, ExpiresAfter: DefaultExpiresAfter, Endpoint: EndpointGroup, Unknown: DefaultUnknownPolicy}
	fromOK := true
	baseURLSet := false
	if p != nil {
		out.DeclRange = p.DeclRange
		s, set, sensitive, _, d := l.evalShownString(p.Endpoint, ctx, "endpoint", "")
		diags = append(diags, d...)
		if set {
			if !oneOf(s, endpoints) {
				diags = append(diags, attrError("Invalid endpoint", detail(fmt.Errorf("%q is not a send endpoint: use \"group\" (POST /messages/group/{accountId}/send) or \"universal\" (POST /send/{accountId})", s), s, sensitive), p.Endpoint))
			} else {
				out.Endpoint = s
			}
		}
		s, set, _, _, d = l.evalShownString(p.AccountID, ctx, "account_id", "")
		diags = append(diags, d...)
		if set {
			out.AccountID = s
		}
		s, set, sensitive, ok, d := l.evalShownString(p.From, ctx, "from", "")
		diags = append(diags, d...)
		fromOK = ok
		if set {
			if err := checkE164(s); err != nil {
				diags = append(diags, attrError("Invalid from", detail(err, s, sensitive), p.From))
				fromOK = false
			} else {
				out.From = s
			}
		}
		s, set, sensitive, _, d = l.evalShownString(p.BaseURL, ctx, "base_url", "")
		diags = append(diags, d...)
		if set {
			baseURLSet = true
			if err := checkBaseURL(s); err != nil {
				diags = append(diags, attrError("Invalid base_url", detail(err, s, sensitive), p.BaseURL))
			} else {
				out.BaseURL = s
			}
		}
		s, set, sensitive, _, d = l.evalShownString(p.RateLimit, ctx, "rate_limit", "")
		diags = append(diags, d...)
		if set {
			rl, err := ParseRateLimit(s)
			if err != nil {
				diags = append(diags, attrError("Invalid rate_limit", detail(err, s, sensitive), p.RateLimit))
			}
			out.RateLimit = rl
		}
		s, set, sensitive, _, d = l.evalShownString(p.ExpiresAfter, ctx, "expires_after", "")
		diags = append(diags, d...)
		if set {
			dur, err := parseExpiresAfter(s)
			if err != nil {
				diags = append(diags, attrError("Invalid expires_after", detail(err, s, sensitive), p.ExpiresAfter))
			} else {
				out.ExpiresAfter = dur
			}
		}
		zone, set, zok, d := l.evalZone(p.Timezone, ctx, "")
		diags = append(diags, d...)
		if set {
			out.Timezone = zone
		}
		out.zoneInvalid = !zok
		policy, _, d := l.evalUnknownPolicy(p.OnUnknown, p.Settle, ctx, out.Unknown, func(summary, text string, expr hcl.Expression) {
			diags = append(diags, attrError(summary, text, expr))
		})
		diags = append(diags, d...)
		out.Unknown = policy
		if p.CheckMedia != nil {
			v, _, ok, d := l.evalAs(p.CheckMedia, ctx, cty.Bool, "check_media")
			diags = append(diags, d...)
			if ok && !v.IsNull() {
				out.CheckMedia = v.True()
			}
		}
	}
	if out.AccountID == "" {
		out.AccountID = l.getenv(EnvVar(alias, "ACCOUNT_ID"))
	}
	// A1BASE_<ALIAS>_BASE_URL wins over base_url, as A1BASE_BASE_URL does
	// for the default provider. An aliased provider with neither takes
	// A1BASE_BASE_URL: pointing herald at a sandbox or a test server then
	// points all its accounts there, not the default one only.
	envName := EnvVar(alias, "BASE_URL")
	env := l.getenv(envName)
	if env == "" && alias != "" && !baseURLSet {
		envName = EnvVar("", "BASE_URL")
		env = l.getenv(envName)
	}
	if env != "" {
		if err := checkBaseURL(env); err != nil {
			var subject *hcl.Range
			if p != nil {
				subject = p.DeclRange.Ptr()
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + envName,
				Detail:   detail(err, env, false),
				Subject:  subject,
			})
		} else {
			out.BaseURL = env
		}
	}
	return out, fromOK, diags
}
