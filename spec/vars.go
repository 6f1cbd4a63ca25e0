package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// varValue is a variable's value and where it came from.
type varValue struct {
	value cty.Value
	// rng is the value's source, for diagnostics about it.
	rng hcl.Range
	// byCall: the value is an argument of the module call (rng is its
	// expression in the caller), not a default.
	byCall bool
}

// loadVariables gathers each declared variable's value with Terraform's
// precedence, lowest first: default, HERALD_VAR_name, *.auto.vars.hcl in
// lexical order, then -var and -var-file in the order given. It converts
// the winning value to the declared type and runs the validations.
func (l *loader) loadVariables(autoVars []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	// raw holds each variable's winning value; nil marks a value that was
	// given but could not be read, already reported.
	raw := map[string]*varValue{}
	for _, v := range l.mod.variables {
		if v.HasDefault {
			raw[v.Name] = &varValue{value: v.Default, rng: v.DefaultExpr.Range()}
		}
	}
	for _, v := range l.mod.variables {
		env := "HERALD_VAR_" + v.Name
		if s := l.getenv(env); s != "" {
			val, d := l.parseCLIValue(v, s, "<value for "+env+">", "the environment variable "+env)
			diags = append(diags, d...)
			raw[v.Name] = val
		}
	}
	for _, name := range autoVars {
		diags = append(diags, l.loadVarsFile(name, raw)...)
	}
	for _, arg := range l.opts.Vars {
		if arg.Given != cty.NilVal {
			if _, ok := l.mod.variableByName[arg.Name]; !ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Value for undeclared variable",
					Detail:   fmt.Sprintf("A variable named %q was given a value, but no variable block of the configuration declares it.%s", arg.Name, didYouMean(arg.Name, sortedKeys(l.mod.variableByName))),
					Subject:  arg.Range.Ptr(),
				})
				continue
			}
			raw[arg.Name] = &varValue{value: arg.Given, rng: arg.Range}
			continue
		}
		if arg.File {
			name := arg.Value
			if !filepath.IsAbs(name) {
				name = filepath.Join(l.cfg.Dir, name)
			}
			// A file named outside the directory is the operator's
			// choice; one inside it comes with the configuration, and
			// must not be a symlink leading out of it.
			if abs, err := filepath.Abs(name); err == nil && underAny(abs, []string{absPath(l.cfg.Dir)}) {
				if d := l.outsideRoot(name, []string{l.cfg.Dir}); d != nil {
					diags = append(diags, d)
					continue
				}
			}
			diags = append(diags, l.loadVarsFile(name, raw)...)
			continue
		}
		name, value, found := strings.Cut(arg.Value, "=")
		if !found || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   "The -var option takes a variable name and a value, like -var 'launch_day=2026-12-01'.",
			})
			continue
		}
		v, ok := l.mod.variableByName[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("A variable named %q was given with -var, but no variable block declares it.%s", name, didYouMean(name, sortedKeys(l.mod.variableByName))),
			})
			continue
		}
		val, d := l.parseCLIValue(v, value, "<value for var."+name+">", "-var")
		diags = append(diags, d...)
		raw[name] = val
	}

	l.vars = map[string]*varValue{}
	for _, v := range l.mod.variables {
		val, ok := raw[v.Name]
		if v.Broken || (ok && val == nil) {
			// The reason is already reported.
			continue
		}
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail:   fmt.Sprintf("The variable %q has no default; set it with -var, a variables file or the HERALD_VAR_%s environment variable.", v.Name, v.Name),
				Subject:  v.DeclRange.Ptr(),
			})
			continue
		}
		conv, err := v.convertValue(val.value)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The given value is not suitable for var.%s declared at %s, which expects %s: %s.", v.Name, sourcePos(v.DeclRange), typeName(v.Type), err),
				Subject:  val.rng.Ptr(),
			})
			continue
		}
		if v.Sensitive {
			conv = conv.Mark(SensitiveMark)
		}
		l.vars[v.Name] = &varValue{value: conv, rng: val.rng}
	}
	diags = append(diags, l.validateVariables()...)
	return diags
}

// parseCLIValue reads a value given on the command line or in the
// environment (how names which): as a string for an untyped or string
// variable, else as an HCL expression, as Terraform does for TF_VAR_ and
// -var. A value that is not one is a single error saying which type the
// variable expects, not the parser's view of the text.
func (l *loader) parseCLIValue(v *variableBlock, s, source, how string) (*varValue, hcl.Diagnostics) {
	if !v.Sensitive {
		// Registered so that diagnostics about the value show it; a
		// sensitive value must never be shown, so it is not.
		l.cfg.Files[source] = &hcl.File{Body: hcl.EmptyBody(), Bytes: []byte(s)}
	}
	whole := hcl.Range{
		Filename: source,
		Start:    hcl.InitialPos,
		End:      hcl.Pos{Line: 1 + strings.Count(s, "\n"), Column: 1 + len(s) - (strings.LastIndex(s, "\n") + 1), Byte: len(s)},
	}
	if v.Literal {
		return &varValue{value: cty.StringVal(s), rng: whole}, nil
	}
	diags := checkExpressionNesting([]byte(s), source)
	var expr hclsyntax.Expression
	if !diags.HasErrors() {
		expr, diags = hclsyntax.ParseExpression([]byte(s), source, hcl.InitialPos)
	}
	if !diags.HasErrors() {
		var val cty.Value
		if val, diags = expr.Value(nil); !diags.HasErrors() {
			return &varValue{value: val, rng: expr.Range()}, nil
		}
	}
	reason := ""
	if !v.Sensitive {
		for _, d := range diags {
			// "Variables not allowed" only means a bare word, which the
			// type and the example explain better.
			if d.Severity == hcl.DiagError && d.Summary != "Variables not allowed" {
				reason = fmt.Sprintf(" (%s: %s)", d.Summary, strings.TrimSuffix(d.Detail, "."))
				break
			}
		}
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail: fmt.Sprintf("The value given with %s is not a value of the type var.%s expects, %s%s. Write it in HCL syntax, for example %s.",
			how, v.Name, typeName(v.Type), reason, exampleAssignment(how, v.Name, v.Type)),
		Subject: whole.Ptr(),
	}
	if v.Sensitive {
		// The value is not shown: point at the declaration instead.
		d.Subject = v.DeclRange.Ptr()
	}
	return nil, hcl.Diagnostics{d}
}

// typeName writes a type as a variable block declares it.
func typeName(ty cty.Type) string {
	if ty == cty.DynamicPseudoType {
		return "any"
	}
	return typeexpr.TypeString(ty)
}

// exampleAssignment shows how a value of type ty is given on the command
// line or in the environment.
func exampleAssignment(how, name string, ty cty.Type) string {
	if strings.HasPrefix(how, "-var") {
		return fmt.Sprintf("-var '%s=%s'", name, exampleValue(ty, 0))
	}
	return fmt.Sprintf("HERALD_VAR_%s='%s'", name, exampleValue(ty, 0))
}

// exampleValue is a value of type ty in HCL syntax, made up to show its
// shape.
func exampleValue(ty cty.Type, depth int) string {
	if depth > 3 {
		return "..."
	}
	switch {
	case ty == cty.String:
		return `"text"`
	case ty == cty.Number:
		return "42"
	case ty == cty.Bool:
		return "true"
	case ty.IsListType() || ty.IsSetType():
		return "[" + exampleValue(ty.ElementType(), depth+1) + "]"
	case ty.IsMapType():
		return "{ key = " + exampleValue(ty.ElementType(), depth+1) + " }"
	case ty.IsTupleType():
		var parts []string
		for _, et := range ty.TupleElementTypes() {
			parts = append(parts, exampleValue(et, depth+1))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ty.IsObjectType():
		names := sortedKeys(ty.AttributeTypes())
		parts := make([]string, 0, len(names))
		for _, n := range names {
			parts = append(parts, n+" = "+exampleValue(ty.AttributeType(n), depth+1))
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return `"text"`
}

// loadVarsFile reads a *.vars.hcl file: attributes only, constant values.
// A value for an undeclared variable is a warning, as a variables file may
// be shared between configurations.
func (l *loader) loadVarsFile(name string, raw map[string]*varValue) hcl.Diagnostics {
	src, d := readSourceFile(name, "Variables file", l.opts.Overlay)
	if d != nil {
		if d.Summary == "Failed to read file" {
			d.Summary = "Failed to read variables file"
		}
		return hcl.Diagnostics{d}
	}
	if diags := checkConfigNesting(src, name); diags.HasErrors() {
		if f := sourceForSnippet(src, name, diags); f != nil {
			l.cfg.Files[name] = f
		}
		return diags
	}
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if file == nil {
		return diags
	}
	l.cfg.Files[name] = file
	if diags.HasErrors() {
		return diags
	}
	attrs, adiags := file.Body.JustAttributes()
	diags = append(diags, adiags...)
	for _, attr := range sortedAttributes(attrs) {
		if _, ok := l.mod.variableByName[attr.Name]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The file sets %q, but no variable block declares it; the value is ignored.%s", attr.Name, didYouMean(attr.Name, sortedKeys(l.mod.variableByName))),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		val, vdiags := attr.Expr.Value(nil)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			raw[attr.Name] = nil
			continue
		}
		raw[attr.Name] = &varValue{value: val, rng: attr.Expr.Range()}
	}
	return diags
}

func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	// Source order, so diagnostics come out in reading order.
	sortByRange(out, func(a *hcl.Attribute) hcl.Range { return a.Range })
	return out
}

// validateVariables runs every validation block against the final values.
func (l *loader) validateVariables() hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": l.varObject()}, Functions: l.functions()}
	for _, v := range l.mod.variables {
		if _, ok := l.vars[v.Name]; !ok {
			continue
		}
		for _, vc := range v.Validations {
			sc := scope{vars: true, where: "a validation block"}
			_, d1 := l.checkRefs(vc.Condition, sc)
			_, d2 := l.checkRefs(vc.ErrorMessage, sc)
			diags = append(diags, d1...)
			diags = append(diags, d2...)
			if d1.HasErrors() || d2.HasErrors() {
				continue
			}
			ok, _, valid, d := l.evalAs(vc.Condition, ctx, cty.Bool, "condition")
			diags = append(diags, d...)
			if !valid {
				continue
			}
			if ok.IsNull() {
				diags = append(diags, attrError("Invalid validation condition", "The condition must be true or false, not null.", vc.Condition))
				continue
			}
			if ok.True() {
				continue
			}
			msg, _, msgSensitive, msgOK, d := l.evalString(vc.ErrorMessage, ctx, "error_message")
			diags = append(diags, d...)
			if !msgOK {
				continue
			}
			if msgSensitive {
				msg = "The error message refers to sensitive values and is not shown."
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", msg, sourcePos(vc.DeclRange)),
				Subject:  vc.Condition.Range().Ptr(),
			})
		}
	}
	return diags
}

// varObject is the "var" object of the evaluation context. A variable
// without a usable value is unknown, so that what depends on it is skipped
// instead of reported a second time.
func (l *loader) varObject() cty.Value {
	attrs := make(map[string]cty.Value, len(l.mod.variables))
	for _, v := range l.mod.variables {
		if val, ok := l.vars[v.Name]; ok {
			attrs[v.Name] = val.value
		} else {
			attrs[v.Name] = cty.DynamicVal
		}
	}
	return cty.ObjectVal(attrs)
}
