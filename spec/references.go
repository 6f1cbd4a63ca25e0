package spec

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// scope says which roots an expression may refer to.
type scope struct {
	vars   bool // var.NAME
	locals bool // local.NAME
	groups bool // group, group.NAME
	each   bool // each.key, each.value
	// modules: module.NAME, the outputs of the module calls declared
	// beside the expression.
	modules bool
	// self: self, the instance, in a precondition; messages: message.NAME
	// and messages, in a check block.
	self, messages bool
	// where names the place for messages about disallowed roots,
	// such as "a group block".
	where string
}

// refs is what an expression refers to, for ordering evaluation.
type refs struct {
	locals    []string
	groups    []string
	allGroups bool // the whole group object, or group[expr]
	modules   []string
}

// checkRefs reports references to things that do not exist or are not
// available where expr is written, with a suggestion when a declared name
// is close. It returns what expr refers to.
func (l *loader) checkRefs(expr hcl.Expression, sc scope) (refs, hcl.Diagnostics) {
	var r refs
	var diags hcl.Diagnostics
	if expr == nil {
		return r, nil
	}
	for _, trav := range variables(expr) {
		if d := l.checkRef(trav, sc, &r); d != nil {
			diags = append(diags, d)
		}
	}
	return r, diags
}

// checkRef checks one reference and adds what it refers to to r.
func (l *loader) checkRef(trav hcl.Traversal, sc scope, r *refs) *hcl.Diagnostic {
	root := trav.RootName()
	name, hasName := traversalName(trav)
	rng := trav.SourceRange()
	switch {
	case root == "var" && sc.vars:
		if !hasName {
			return nil
		}
		if _, ok := l.mod.variableByName[name]; !ok {
			return undeclared("input variable", "An input variable", name, l.mod.variableByName, rng)
		}
	case root == "local" && sc.locals:
		return l.checkLocalRef(name, hasName, rng, r)
	case root == "group" && sc.groups:
		return l.checkGroupRef(name, hasName, rng, r)
	case root == "module" && sc.modules:
		return l.checkModuleRef(name, hasName, rng, r)
	case root == "path" && sc.vars:
		if !hasName || (name != "module" && name != "root") {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  `Invalid "path" attribute`,
				Detail:   `The "path" object has two attributes: path.module, the directory of the module the expression is in, and path.root, the working directory.`,
				Subject:  rng.Ptr(),
			}
		}
	case root == "self" && sc.self:
		if hasName && !instanceObjectType.HasAttribute(name) {
			return unknownAttribute("self", name, rng)
		}
	case root == "messages" && sc.messages:
	case root == "message" && sc.messages:
		if !hasName {
			return nil
		}
		if _, ok := l.mod.messageByName[name]; !ok {
			return undeclared("message", "A message", name, l.mod.messageByName, rng)
		}
	case root == "self":
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  `Reference to "self" outside a precondition`,
			Detail:   fmt.Sprintf(`The "self" object, the message instance being checked, can be used only in a message's precondition block; this is %s.`, sc.where),
			Subject:  rng.Ptr(),
		}
	case root == "each" && sc.each:
		if !hasName || (name != "key" && name != "value") {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  `Invalid "each" attribute`,
				Detail:   `The "each" object has two attributes: each.key and each.value.`,
				Subject:  rng.Ptr(),
			}
		}
	case root == "each":
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  `Reference to "each" in context without for_each`,
			Detail:   fmt.Sprintf(`The "each" object can be used only in a message block that sets for_each, and not in for_each itself; this is %s.`, sc.where),
			Subject:  rng.Ptr(),
		}
	case root == "var" || root == "local" || root == "group" || root == "module":
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   fmt.Sprintf("References to %q are not allowed in %s.", root, sc.where),
			Subject:  rng.Ptr(),
		}
	default:
		return unknownVariable(root, sc, rng)
	}
	return nil
}

func (l *loader) checkLocalRef(name string, hasName bool, rng hcl.Range, r *refs) *hcl.Diagnostic {
	if !hasName {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   `The "local" object must be followed by the name of a local value, such as local.teams.`,
			Subject:  rng.Ptr(),
		}
	}
	if _, ok := l.mod.localByName[name]; !ok {
		return undeclared("local value", "A local value", name, l.mod.localByName, rng)
	}
	r.locals = append(r.locals, name)
	return nil
}

func (l *loader) checkGroupRef(name string, hasName bool, rng hcl.Range, r *refs) *hcl.Diagnostic {
	if !hasName {
		r.allGroups = true
		return nil
	}
	if _, ok := l.mod.groupByName[name]; !ok {
		return undeclared("group", "A group", name, l.mod.groupByName, rng)
	}
	r.groups = append(r.groups, name)
	return nil
}

func (l *loader) checkModuleRef(name string, hasName bool, rng hcl.Range, r *refs) *hcl.Diagnostic {
	if !hasName {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   `The "module" object must be followed by the name of a module call, such as module.emea.OUTPUT.`,
			Subject:  rng.Ptr(),
		}
	}
	if _, ok := l.mod.callByName[name]; !ok {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared module",
			Detail:   fmt.Sprintf("No module call named %q is declared.%s", name, didYouMean(name, sortedKeys(l.mod.callByName))),
			Subject:  rng.Ptr(),
		}
	}
	r.modules = append(r.modules, name)
	return nil
}

// unknownVariable is the diagnostic of a reference whose root is not one
// of the names herald defines, suggesting one available in sc.
func unknownVariable(root string, sc scope, rng hcl.Range) *hcl.Diagnostic {
	var roots []string
	for _, r := range []struct {
		ok   bool
		name string
	}{{sc.vars, "var"}, {sc.locals, "local"}, {sc.groups, "group"}, {sc.each, "each"}, {sc.modules, "module"}, {sc.vars, "path"}, {sc.self, "self"}, {sc.messages, "message"}, {sc.messages, "messages"}} {
		if r.ok {
			roots = append(roots, r.name)
		}
	}
	detail := fmt.Sprintf("There is no variable named %q.%s", root, didYouMean(root, roots))
	if (root == "message" || root == "messages") && !sc.messages {
		detail += " Messages can be referred to only in a check block."
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unknown variable",
		Detail:   detail,
		Subject:  rng.Ptr(),
	}
}

// unknownAttribute is the diagnostic of root.NAME where root is an object
// herald defines without that attribute.
func unknownAttribute(root, name string, rng hcl.Range) *hcl.Diagnostic {
	var names []string
	for _, a := range InstanceObjectAttributes {
		names = append(names, a[0])
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Unsupported attribute of %q", root),
		Detail:   fmt.Sprintf("%s has no attribute %q.%s Its attributes are %s.", root, name, didYouMean(name, names), joinNames(names)),
		Subject:  rng.Ptr(),
	}
}

// traversalName returns NAME in root.NAME or root["NAME"].
func traversalName(trav hcl.Traversal) (string, bool) {
	if len(trav) < 2 {
		return "", false
	}
	switch step := trav[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		k := step.Key
		if k.IsKnown() && !k.IsNull() && k.Type() == cty.String && !k.IsMarked() {
			return k.AsString(), true
		}
	}
	return "", false
}

// didYouMean suggests the option closest to given, if one is close enough
// to be a likely typo.
func didYouMean(given string, options []string) string {
	best := Suggest(given, options)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// Suggest returns the option closest to given when it is close enough to
// be a likely typo, else "". Close means at most two edits (a swap of two
// neighbouring characters counts as one), and at most one for names of
// three characters or fewer: two edits to a three-letter name leave one
// letter of it, which is a different word, not a typo ("foo" is not
// "fmt", but "egn" is "eng").
func Suggest(given string, options []string) string {
	limit := 2
	if len([]rune(given)) <= 3 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, o := range options {
		if d := editDistance(given, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, except that two neighbouring
// characters swapped count as one edit, as a typist makes them.
func editDistance(a, b string) int {
	d := levenshtein.Distance(a, b, nil)
	if d != 2 {
		return d
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return d
	}
	first := -1
	for i := range ra {
		if ra[i] != rb[i] {
			first = i
			break
		}
	}
	if first >= 0 && first+1 < len(ra) && ra[first] == rb[first+1] && ra[first+1] == rb[first] && string(ra[first+2:]) == string(rb[first+2:]) {
		return 1
	}
	return d
}

// undeclared is the error for a reference to name, a kind of object that
// is not among declared, with a suggestion when one is close.
func undeclared[V any](kind, article, name string, declared map[string]V, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to undeclared " + kind,
		Detail:   fmt.Sprintf("%s with the name %q has not been declared.%s", article, name, didYouMean(name, sortedKeys(declared))),
		Subject:  rng.Ptr(),
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// variables is expr.Variables() without walking the common expressions
// that cannot hold more than one reference: string literals and plain
// references make up most of a large configuration.
func variables(expr hcl.Expression) []hcl.Traversal {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return nil
	case *hclsyntax.TemplateExpr:
		if e.IsStringLiteral() {
			return nil
		}
	case *hclsyntax.ScopeTraversalExpr:
		return []hcl.Traversal{e.Traversal}
	}
	return expr.Variables()
}
