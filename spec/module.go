package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// moduleCall is a decoded module block: a call of the module in a local
// directory. Its other attributes set the module's input variables.
type moduleCall struct {
	Name        string
	Source      string
	SourceRange hcl.Range
	ForEach     hcl.Expression
	// Args are the input variable arguments, in source order.
	Args      []*hcl.Attribute
	DeclRange hcl.Range
}

// decodeModuleCall reads a module block. Its source is a literal local
// path: which files make up the configuration must be known before
// anything is evaluated.
func decodeModuleCall(block *hcl.Block) (*moduleCall, hcl.Diagnostics) {
	diags := checkName("module", block)
	attrs, adiags := block.Body.JustAttributes()
	diags = append(diags, adiags...)
	c := &moduleCall{Name: block.Labels[0], DeclRange: block.DefRange}
	hasSource := false
	for _, a := range sortedAttributes(attrs) {
		switch a.Name {
		case "source":
			hasSource = true
			c.SourceRange = a.Expr.Range()
			v, d := a.Expr.Value(nil)
			if d.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid module source",
					Detail:   `The source argument of a module block is a literal string, the module's directory relative to this one, such as "./modules/weekly".`,
					Subject:  a.Expr.Range().Ptr(),
				})
				continue
			}
			src := v.AsString()
			if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unsupported module source",
					Detail:   fmt.Sprintf("herald reads modules from local directories only: the source must start with ./ or ../, such as \"./modules/weekly\". %q is not a local path (registry, git and URL sources are not supported).", src),
					Subject:  a.Expr.Range().Ptr(),
				})
				continue
			}
			c.Source = src
		case "for_each":
			c.ForEach = a.Expr
		case "count", "version", "providers", "depends_on":
			why := map[string]string{
				"count":      "herald expands modules with for_each, not count.",
				"version":    "version applies to registry modules; herald reads modules from local directories only.",
				"providers":  `every module sends through the root module's provider "a1base" block.`,
				"depends_on": "modules are evaluated in the order their references require.",
			}[a.Name]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail:   fmt.Sprintf("A module block does not take %s: %s", a.Name, why),
				Subject:  a.NameRange.Ptr(),
			})
		default:
			c.Args = append(c.Args, a)
		}
	}
	if !hasSource {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   `The argument "source" is required: the module's directory, such as "./modules/weekly".`,
			Subject:  block.DefRange.Ptr(),
		})
	}
	if c.Source == "" {
		return nil, diags
	}
	return c, diags
}

// expressions are what the call refers to: its for_each and its arguments.
func (c *moduleCall) expressions() []hcl.Expression {
	exprs := nonNil(c.ForEach)
	for _, a := range c.Args {
		exprs = append(exprs, a.Expr)
	}
	return exprs
}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

// outputBlock is a decoded output block: a value a module gives its
// caller as module.NAME.OUTPUT.
type outputBlock struct {
	Name      string
	Value     hcl.Expression
	Sensitive bool
	DeclRange hcl.Range
}

func decodeOutputBlock(block *hcl.Block) (*outputBlock, hcl.Diagnostics) {
	diags := checkName("output", block)
	content, cdiags := block.Body.Content(outputSchema)
	diags = append(diags, cdiags...)
	o := &outputBlock{Name: block.Labels[0], Value: attrExpr(content, "value"), DeclRange: block.DefRange}
	if attr, ok := content.Attributes["sensitive"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if b, err := convert.Convert(val, cty.Bool); err != nil || b.IsNull() || !b.IsKnown() {
				diags = append(diags, attrError("Invalid sensitive", "sensitive must be true or false.", attr.Expr))
			} else {
				o.Sensitive = b.True()
			}
		}
	}
	if o.Value == nil {
		return nil, diags
	}
	return o, diags
}

// moduleDir is a module directory's declarations, read once per Load.
type moduleDir struct {
	mod *module
	// usable: the files were read and parsed; otherwise the module is not
	// evaluated (its errors are reported).
	usable bool
}

// readModuleDir reads the module directory of a call, once per Load. The
// diagnostics of its files come with the first call that reads it.
func (l *loader) readModuleDir(dir string, c *moduleCall) (*moduleDir, hcl.Diagnostics) {
	key := filepath.Clean(dir)
	if md, ok := l.shared.modules[key]; ok {
		return md, nil
	}
	md := &moduleDir{mod: &module{}}
	l.shared.modules[key] = md
	shown := l.displayPath(dir)
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		reason := "does not exist"
		if err == nil {
			reason = "is not a directory"
		} else if !os.IsNotExist(err) {
			reason = "cannot be read: " + pathErrReason(err)
		}
		return md, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Module directory not found",
			Detail:   fmt.Sprintf("The module source %q is %s, which %s. A module's source is a directory relative to the file that calls it.", c.Source, shown, reason),
			Subject:  c.SourceRange.Ptr(),
		}}
	}
	names, _, err := listDir(dir, l.opts.Overlay)
	if err != nil || len(names) == 0 {
		detail := fmt.Sprintf("The module directory %s contains no *.hcl configuration files.", shown)
		if err != nil {
			detail = fmt.Sprintf("Cannot list the module directory %s: %s.", shown, pathErrReason(err))
		}
		return md, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Empty module directory",
			Detail:   detail,
			Subject:  c.SourceRange.Ptr(),
		}}
	}
	names, cdiags := l.confineFiles(names, []string{l.cfg.Dir, dir})
	l.shared.configNames = append(l.shared.configNames, names...)
	files, decls, syntaxOK, diags := parseAndDecode(names, l.opts.Overlay)
	diags = append(cdiags, diags...)
	syntaxOK = syntaxOK && !cdiags.HasErrors()
	for i, name := range names {
		if files[i] != nil {
			l.cfg.Files[name] = files[i]
		}
	}
	mod, mdiags := mergeModule(decls)
	diags = append(diags, mdiags...)
	root := func(kind string, rng hcl.Range, detail string) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  kind + " in a module",
			Detail:   detail,
			Subject:  rng.Ptr(),
		})
	}
	for _, p := range mod.providers {
		root("Provider configuration", p.DeclRange, `The provider "a1base" block belongs in the root module; every module sends through it.`)
	}
	for _, b := range mod.backends {
		root("Backend configuration", b.DeclRange, "The backend block belongs in the root module: one configuration has one state.")
	}
	for _, n := range mod.notifies {
		root("Notify block", n.DeclRange, "Notify blocks belong in the root module: notifications are about the whole configuration's runs.")
	}
	for _, ib := range mod.imports {
		root("Import block", ib.DeclRange, "Import blocks belong in the root module; name the message with its module address there, such as module.emea.message.launch.")
	}
	md.mod = mod
	md.usable = syntaxOK
	return md, diags
}

// displayPath shows a directory relative to the working directory when it
// is under it.
func (l *loader) displayPath(dir string) string {
	if rel, err := filepath.Rel(l.cfg.Dir, dir); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return dir
}

// pos is where a declaration is, by its file's path from the working
// directory: module files share names such as main.hcl.
func (l *loader) pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", l.displayPath(r.Filename), r.Start.Line)
}

// callChain is the module directories from the root module down to this
// one, for finding module cycles.
func (l *loader) callChain() []string {
	var dirs []string
	for p := l; p != nil; p = p.parent {
		abs, err := filepath.Abs(p.dir)
		if err != nil {
			abs = p.dir
		}
		dirs = append(dirs, abs)
	}
	return dirs
}

// evalModuleCall evaluates a module call: each of its instances (one, or
// one per for_each element) with the arguments as the module's variables.
// It returns the value module.NAME has in the caller: the outputs object,
// or under for_each an object of them by key.
func (l *loader) evalModuleCall(c *moduleCall, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	// A call that cannot be evaluated has no messages; what names them is
	// not told so again.
	failed := func() { l.shared.failed[l.path.Child(c.Name, "", false).String()] = true }
	dir := filepath.Join(l.dir, filepath.FromSlash(c.Source))
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	for _, d := range l.callChain() {
		if d == abs {
			failed()
			return cty.DynamicVal, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Module cycle",
				Detail:   fmt.Sprintf("The module %s (%s) calls a module that is already being called on the way here (%s); a module cannot call itself, directly or through others.", l.path.Child(c.Name, "", false), l.displayPath(dir), l.chainDescription()),
				Subject:  c.SourceRange.Ptr(),
			})
		}
	}
	md, d := l.readModuleDir(dir, c)
	diags = append(diags, d...)
	if !md.usable {
		failed()
		return cty.DynamicVal, diags
	}

	type callInstance struct {
		key    string
		hasKey bool
		ctx    *hcl.EvalContext
	}
	insts := []callInstance{{ctx: ctx}}
	if c.ForEach != nil {
		elems, d := l.evalForEach(c.ForEach, ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			failed()
			return cty.DynamicVal, diags
		}
		insts = insts[:0]
		for _, e := range elems {
			insts = append(insts, callInstance{key: e.key, hasKey: true, ctx: eachContext(ctx, e.key, e.value)})
		}
	}
	results := make(map[string]cty.Value, len(insts))
	per := make([]moduleInstanceDiags, 0, len(insts))
	for _, in := range insts {
		child := &loader{
			cfg: l.cfg, opts: l.opts, getenv: l.getenv, shared: l.shared,
			mod: md.mod, dir: dir, path: l.path.Child(c.Name, in.key, in.hasKey), parent: l,
		}
		d := child.loadModuleVariables(c, in.ctx)
		d = append(d, child.evaluate()...)
		per = append(per, moduleInstanceDiags{path: child.path.String(), key: in.key, diags: d})
		results[in.key] = child.outputs
	}
	if c.ForEach == nil {
		return results[""], append(diags, per[0].diags...)
	}
	diags = append(diags, mergeModuleInstanceDiags(l.path.Child(c.Name, "", false).String(), per)...)
	return cty.ObjectVal(results), diags
}

func (l *loader) chainDescription() string {
	var parts []string
	for p := l; p != nil; p = p.parent {
		name := "the root module"
		if p.path != nil {
			name = p.path.String()
		}
		parts = append([]string{name + " in " + l.displayPath(p.dir)}, parts...)
	}
	return strings.Join(parts, " -> ")
}

// loadModuleVariables sets a module instance's variables from its call's
// arguments, evaluated in the caller's context, else their defaults, then
// runs their validations.
func (l *loader) loadModuleVariables(c *moduleCall, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	l.vars = map[string]*varValue{}
	args := map[string]*hcl.Attribute{}
	for _, a := range c.Args {
		if _, ok := l.mod.variableByName[a.Name]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument",
				Detail:   fmt.Sprintf("The module in %s declares no variable %q.%s", l.displayPath(l.dir), a.Name, didYouMean(a.Name, sortedKeys(l.mod.variableByName))),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		args[a.Name] = a
	}
	for _, v := range l.mod.variables {
		if v.Broken {
			continue
		}
		var val cty.Value
		var rng hcl.Range
		byCall := false
		if a, ok := args[v.Name]; ok {
			raw, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if plain, _ := raw.UnmarkDeep(); !plain.IsWhollyKnown() {
				// It depends on something that already failed.
				l.shared.unknownSkipped.Store(true)
				continue
			}
			val, rng, byCall = raw, a.Expr.Range(), true
		} else if v.HasDefault {
			val, rng = v.Default, v.DefaultExpr.Range()
		} else {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The module call %s does not set %q, a variable of the module without a default (declared at %s).", l.path, v.Name, l.pos(v.DeclRange)),
				Subject:  c.DeclRange.Ptr(),
			})
			continue
		}
		conv, err := v.convertValue(val)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for module variable",
				Detail:   fmt.Sprintf("The value given for var.%s of %s (declared at %s) is not suitable: %s.", v.Name, l.path, l.pos(v.DeclRange), err),
				Subject:  rng.Ptr(),
			})
			continue
		}
		if v.Sensitive {
			conv = conv.Mark(SensitiveMark)
		}
		l.vars[v.Name] = &varValue{value: conv, rng: rng, byCall: byCall}
	}
	return append(diags, l.validateVariables()...)
}

// evalOutputs evaluates the module's output blocks into l.outputs. An
// output that fails is unknown to the caller, so what uses it is skipped
// rather than reported again.
func (l *loader) evalOutputs(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	vals := make(map[string]cty.Value, len(l.mod.outputs))
	for _, o := range l.mod.outputs {
		vals[o.Name] = cty.DynamicVal
		_, d := l.checkRefs(o.Value, scope{vars: true, locals: true, groups: true, modules: true, where: "an output block"})
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, d := o.Value.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if o.Sensitive {
			v = v.Mark(SensitiveMark)
		}
		vals[o.Name] = v
	}
	l.outputs = cty.ObjectVal(vals)
	return diags
}

// groupName is the name a group declared here is known by everywhere: its
// label in the root module, its address (module.emea.group.team) in a
// module, so that groups of different module instances never merge.
func (l *loader) groupName(label string) string {
	if len(l.path) == 0 {
		return label
	}
	return l.path.String() + ".group." + label
}

// pathObject is path.module and path.root. File functions resolve
// relative paths against the module's own directory, so both are written
// relative to it: path.module is "." and path.root leads back to the
// working directory ("../.." for ./modules/weekly). Terraform's
// file("${path.module}/x") then reads the module's file, and the values
// do not depend on where the working directory is.
func (l *loader) pathObject() cty.Value {
	root := "."
	if rel, err := filepath.Rel(l.dir, l.cfg.Dir); err == nil {
		root = filepath.ToSlash(rel)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"module": cty.StringVal("."),
		"root":   cty.StringVal(root),
	})
}

// blameCaller points d, an error about the value of expr, at the module
// call's argument when expr is just var.NAME and the caller set that
// variable: the value to fix is the caller's, and the module's line is
// only where it is used, which the detail then says.
func (l *loader) blameCaller(d *hcl.Diagnostic, expr hcl.Expression) *hcl.Diagnostic {
	if l.parent == nil || expr == nil {
		return d
	}
	if w, ok := expr.(*hclsyntax.TemplateWrapExpr); ok {
		expr = w.Wrapped
	}
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || len(trav) != 2 || trav.RootName() != "var" {
		return d
	}
	step, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return d
	}
	vv := l.vars[step.Name]
	if vv == nil || !vv.byCall {
		return d
	}
	out := *d
	out.Subject = vv.rng.Ptr()
	out.Detail = fmt.Sprintf("%s It is the value %s gives var.%s, used at %s.", d.Detail, l.path, step.Name, l.pos(expr.Range()))
	return &out
}
