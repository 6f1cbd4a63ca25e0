package spec

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/heraldhq/herald/addrs"
)

// node is one thing evaluated before messages: the provider, a local value
// or a group. They may refer to each other, so they are evaluated in
// dependency order.
type node struct {
	kind  string // "provider", "local", "group" or "module"
	name  string
	exprs []hcl.Expression
	rng   hcl.Range // where a cycle through this node is reported
	deps  []int
	refs  refs
	// bad: its references are wrong, or it is in a cycle; it is not
	// evaluated and what depends on it sees an unknown value.
	bad bool
}

func (n *node) String() string {
	if n.kind == "provider" {
		if n.name != "" {
			return `provider "a1base" (alias ` + n.name + `)`
		}
		return `provider "a1base"`
	}
	return n.kind + "." + n.name
}

// evaluate evaluates everything after the variables: the provider, locals,
// groups and module calls in dependency order, then the backend, the
// messages and the outputs. The root module, last, checks the moved and
// import blocks of every module against every message.
func (l *loader) evaluate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	mod := l.mod
	root := l.parent == nil
	var providers []*providerBlock
	if root {
		providers = mod.providers
		l.declareAliases(providers)
		diags = append(diags, checkEnvNames(providers)...)
	}

	g, d := l.buildGraph(providers)
	diags = append(diags, d...)
	order, cdiags := topoSort(g.nodes)
	diags = append(diags, cdiags...)

	ctx, d := l.evalGraph(g, order, providers)
	diags = append(diags, d...)
	if root && len(mod.backends) > 0 {
		diags = append(diags, l.evalBackendBlock(mod.backends[0], ctx)...)
	}
	if root {
		diags = append(diags, l.evalNotifyBlocks(mod.notifies, ctx)...)
	}
	own, failed, d := l.collectMessages(ctx)
	diags = append(diags, d...)
	if root {
		sortInstances(l.cfg.Instances)
		// The root module's checks see every module's messages.
		own = l.cfg.Instances
	}
	diags = append(diags, l.evalChecks(ctx, own, failed)...)
	diags = append(diags, l.evalOutputs(ctx)...)
	for _, m := range mod.moved {
		abs := *m
		abs.From, abs.To = m.From.In(l.path), m.To.In(l.path)
		l.shared.moved = append(l.shared.moved, &abs)
	}
	if !root {
		return diags
	}
	sort.SliceStable(l.cfg.Checks, func(i, j int) bool {
		a, b := l.cfg.Checks[i], l.cfg.Checks[j]
		if a.Addr != b.Addr {
			return a.Addr < b.Addr
		}
		return a.Index < b.Index
	})

	instances := l.shared.instances
	moved, d := l.checkMoved(l.shared.moved, instances)
	diags = append(diags, d...)
	l.cfg.Moved = moved
	imports, d := l.checkImports(mod.imports, instances)
	diags = append(diags, d...)
	l.cfg.Imports = imports
	return diags
}

// declareAliases names every aliased provider of the root module before
// anything is evaluated.
func (l *loader) declareAliases(providers []*providerBlock) {
	l.shared.providerFromOK = map[string]bool{}
	for _, pb := range providers {
		if pb.Alias == "" {
			continue
		}
		if l.cfg.Aliases == nil {
			l.cfg.Aliases = map[string]*Provider{}
		}
		// An alias whose block fails still names a provider, so that
		// its groups report their own problems rather than a missing
		// alias.
		l.cfg.Aliases[pb.Alias] = &Provider{Alias: pb.Alias, BaseURL: DefaultBaseURL, ExpiresAfter: DefaultExpiresAfter, Endpoint: EndpointGroup, DeclRange: pb.DeclRange}
	}
}

// graph is the module's providers, locals, groups and module calls with
// the references between them.
type graph struct {
	nodes       []*node
	providerIdx map[string]int
	localIdx    map[string]int
	groupIdx    map[string]int
	callIdx     map[string]int
	// firstGroup and lastGroup bound the groups' nodes.
	firstGroup, lastGroup int
}

// buildGraph makes the nodes: the providers (if any), then locals, then
// groups, then module calls, each with the nodes it depends on.
func (l *loader) buildGraph(providers []*providerBlock) (*graph, hcl.Diagnostics) {
	mod := l.mod
	g := &graph{
		providerIdx: make(map[string]int, len(providers)),
		localIdx:    make(map[string]int, len(mod.locals)),
		groupIdx:    make(map[string]int, len(mod.groups)),
		callIdx:     make(map[string]int, len(mod.calls)),
	}
	for _, pb := range providers {
		g.providerIdx[pb.Alias] = len(g.nodes)
		g.nodes = append(g.nodes, &node{kind: "provider", name: pb.Alias, exprs: pb.expressions(), rng: pb.DeclRange})
	}
	for _, lv := range mod.locals {
		g.localIdx[lv.Name] = len(g.nodes)
		g.nodes = append(g.nodes, &node{kind: "local", name: lv.Name, exprs: []hcl.Expression{lv.Expr}, rng: lv.DeclRange})
	}
	g.firstGroup = len(g.nodes)
	for _, gb := range mod.groups {
		g.groupIdx[gb.Name] = len(g.nodes)
		g.nodes = append(g.nodes, &node{kind: "group", name: gb.Name, exprs: gb.expressions(), rng: gb.DeclRange})
	}
	g.lastGroup = len(g.nodes)
	for _, c := range mod.calls {
		g.callIdx[c.Name] = len(g.nodes)
		g.nodes = append(g.nodes, &node{kind: "module", name: c.Name, exprs: c.expressions(), rng: c.DeclRange})
	}
	var diags hcl.Diagnostics
	for _, n := range g.nodes {
		diags = append(diags, l.linkNode(g, n)...)
	}
	return g, diags
}

// linkNode checks the references of one node and records the nodes it
// depends on.
func (l *loader) linkNode(g *graph, n *node) hcl.Diagnostics {
	var diags hcl.Diagnostics
	mod := l.mod
	sc := scope{vars: true, locals: true, groups: n.kind == "local" || n.kind == "module", modules: n.kind != "provider", where: n.kindDescription()}
	var call *moduleCall
	if n.kind == "module" {
		call = mod.callByName[n.name]
	}
	for i, expr := range n.exprs {
		esc := sc
		if call != nil && call.ForEach != nil && i > 0 {
			esc.each = true
		}
		if call != nil && call.ForEach != nil && i == 0 {
			esc.where = "the for_each argument"
		}
		r, d := l.checkRefs(expr, esc)
		diags = append(diags, d...)
		if d.HasErrors() {
			n.bad = true
		}
		n.refs.locals = append(n.refs.locals, r.locals...)
		n.refs.groups = append(n.refs.groups, r.groups...)
		n.refs.modules = append(n.refs.modules, r.modules...)
		n.refs.allGroups = n.refs.allGroups || r.allGroups
	}
	for _, name := range n.refs.locals {
		n.deps = append(n.deps, g.localIdx[name])
	}
	for _, name := range n.refs.groups {
		n.deps = append(n.deps, g.groupIdx[name])
	}
	for _, name := range n.refs.modules {
		n.deps = append(n.deps, g.callIdx[name])
	}
	if n.refs.allGroups {
		for i := g.firstGroup; i < g.lastGroup; i++ {
			n.deps = append(n.deps, i)
		}
	}
	// A group's from defaults to its provider's. A module's groups
	// name the root module's providers, evaluated before the module.
	if n.kind == "group" {
		gb := mod.groupByName[n.name]
		if i, ok := g.providerIdx[gb.ProviderAlias]; ok {
			n.deps = append(n.deps, i)
		} else if gb.ProviderAlias != "" && l.cfg.Aliases[gb.ProviderAlias] == nil {
			diags = append(diags, undefinedAlias(gb, sortedKeys(l.cfg.Aliases)))
			n.bad = true
		}
	}
	return diags
}

// values holds what the nodes evaluated to so far; a node not yet
// evaluated, or that failed, is unknown.
type values struct {
	vars, path cty.Value
	funcs      map[string]function.Function
	locals     map[string]cty.Value
	groups     map[string]cty.Value
	modules    map[string]cty.Value
	allGroups  cty.Value // built once every group is done
}

// evalGraph evaluates the nodes in order and returns the context messages,
// outputs and the backend are evaluated in.
func (l *loader) evalGraph(g *graph, order []int, providers []*providerBlock) (*hcl.EvalContext, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	mod := l.mod
	v := &values{
		vars:    l.varObject(),
		path:    l.pathObject(),
		funcs:   l.functions(),
		locals:  make(map[string]cty.Value, len(mod.locals)),
		groups:  make(map[string]cty.Value, len(mod.groups)),
		modules: make(map[string]cty.Value, len(mod.calls)),
	}
	for _, lv := range mod.locals {
		v.locals[lv.Name] = cty.DynamicVal
	}
	for _, gb := range mod.groups {
		v.groups[gb.Name] = cty.DynamicVal
	}
	for _, c := range mod.calls {
		v.modules[c.Name] = cty.DynamicVal
	}

	if l.parent == nil {
		// Without a usable provider block, the defaults and the
		// environment still apply.
		prov, fromOK, pdiags := l.evalProvider("", nil, nil)
		if i, ok := g.providerIdx[""]; !ok || g.nodes[i].bad {
			diags = append(diags, pdiags...)
			l.shared.providerFromOK[""] = !ok && fromOK
		}
		l.cfg.Provider = prov
	}
	for _, i := range order {
		n := g.nodes[i]
		if n.bad {
			continue
		}
		ctx := v.contextFor(n)
		switch n.kind {
		case "provider":
			pb := providers[i]
			p, fromOK, d := l.evalProvider(pb.Alias, pb, ctx)
			diags = append(diags, d...)
			*l.cfg.ProviderOf(pb.Alias) = p
			l.shared.providerFromOK[pb.Alias] = fromOK
		case "local":
			lv := mod.localByName[n.name]
			val, d := lv.Expr.Value(ctx)
			diags = append(diags, d...)
			if !d.HasErrors() {
				v.locals[n.name] = val
			}
		case "group":
			gb := mod.groupByName[n.name]
			grp, d := l.evalGroup(gb, ctx, l.cfg.ProviderOf(gb.ProviderAlias), l.shared.providerFromOK[gb.ProviderAlias])
			diags = append(diags, d...)
			if grp != nil {
				l.cfg.Groups[grp.Name] = grp
				v.groups[n.name] = groupValue(grp)
			}
		case "module":
			val, d := l.evalModuleCall(mod.callByName[n.name], ctx)
			diags = append(diags, d...)
			v.modules[n.name] = val
		}
	}

	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":    v.vars,
			"local":  cty.ObjectVal(v.locals),
			"group":  cty.ObjectVal(v.groups),
			"module": cty.ObjectVal(v.modules),
			"path":   v.path,
		},
		Functions: v.funcs,
	}
	return ctx, diags
}

// contextFor is the context one node is evaluated in: only what it refers
// to.
func (v *values) contextFor(n *node) *hcl.EvalContext {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": v.vars, "path": v.path}, Functions: v.funcs}
	if len(n.refs.locals) > 0 {
		obj := make(map[string]cty.Value, len(n.refs.locals))
		for _, name := range n.refs.locals {
			obj[name] = v.locals[name]
		}
		ctx.Variables["local"] = cty.ObjectVal(obj)
	}
	if n.refs.allGroups {
		if v.allGroups == cty.NilVal {
			v.allGroups = cty.ObjectVal(v.groups)
		}
		ctx.Variables["group"] = v.allGroups
	} else if len(n.refs.groups) > 0 {
		obj := make(map[string]cty.Value, len(n.refs.groups))
		for _, name := range n.refs.groups {
			obj[name] = v.groups[name]
		}
		ctx.Variables["group"] = cty.ObjectVal(obj)
	}
	if len(n.refs.modules) > 0 {
		obj := make(map[string]cty.Value, len(n.refs.modules))
		for _, name := range n.refs.modules {
			obj[name] = v.modules[name]
		}
		ctx.Variables["module"] = cty.ObjectVal(obj)
	}
	return ctx
}

// evalBackendBlock evaluates the root module's backend block unless its
// references are wrong.
func (l *loader) evalBackendBlock(b *backendBlock, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := false
	for _, expr := range b.expressions() {
		_, d := l.checkRefs(expr, scope{vars: true, locals: true, groups: true, where: "a backend block"})
		diags = append(diags, d...)
		bad = bad || d.HasErrors()
	}
	if !bad {
		backend, d := l.evalBackend(b, ctx)
		diags = append(diags, d...)
		l.cfg.Backend = backend
	}
	return diags
}

// collectMessages expands the module's messages and adds their instances
// to the configuration. It returns the module's own instances and the
// names of the message blocks that failed to evaluate.
func (l *loader) collectMessages(ctx *hcl.EvalContext) ([]*Instance, map[string]bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var own []*Instance
	failed := map[string]bool{}
	expanded := l.expandMessages(ctx)
	instances := l.shared.instances
	for i, m := range l.mod.messages {
		blockAddr := addrs.NoKey(m.Name).In(l.path)
		l.shared.blocks[blockAddr.String()] = m
		insts, d := expanded[i].instances, expanded[i].diags
		diags = append(diags, d...)
		if d.HasErrors() {
			failed[m.Name] = true
			l.shared.failed[blockAddr.String()] = true
		}
		if r := expanded[i].repeat; r != nil {
			if l.cfg.Repeats == nil {
				l.cfg.Repeats = map[string]*Repeat{}
			}
			l.cfg.Repeats[RepeatKey(blockAddr)] = r
		}
		for _, in := range insts {
			key := in.Addr.String()
			if instances[key] {
				// Names are unique and for_each keys are unique, so this
				// cannot happen; it is checked because two instances with
				// one address would share their state.
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate message address",
					Detail:   fmt.Sprintf("%s is produced twice.", key),
					Subject:  m.DeclRange.Ptr(),
				})
				continue
			}
			instances[key] = true
			l.cfg.Instances = append(l.cfg.Instances, in)
			own = append(own, in)
		}
	}
	return own, failed, diags
}

// undefinedAlias is the diagnostic of a group whose provider names an
// alias no provider block declares.
func undefinedAlias(g *groupBlock, aliases []string) *hcl.Diagnostic {
	names := make([]string, len(aliases))
	for i, a := range aliases {
		names[i] = providerName + "." + a
	}
	declared := "No provider block declares an alias."
	if len(names) > 0 {
		declared = "The aliases declared are " + joinNames(names) + "."
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Undefined provider alias",
		Detail: fmt.Sprintf("Group %q names a1base.%s, but no provider \"a1base\" block has alias = %q.%s %s",
			g.Name, g.ProviderAlias, g.ProviderAlias, didYouMean(g.ProviderAlias, aliases), declared),
		Subject: g.ProviderRange,
	}
}

// checkEnvNames refuses two aliases whose credentials would come from the
// same environment variables. Aliases are lower case, so this cannot
// happen today; the check keeps it so if the alias rules loosen.
func checkEnvNames(providers []*providerBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]*providerBlock{}
	for _, p := range providers {
		env := EnvVar(p.Alias, "API_KEY")
		if prev, ok := seen[env]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Conflicting provider aliases",
				Detail:   fmt.Sprintf("Aliases %q and %q would both read their credentials from %s.", prev.Alias, p.Alias, env),
				Subject:  p.AliasRange.Ptr(),
			})
			continue
		}
		seen[env] = p
	}
	return diags
}

func (n *node) kindDescription() string {
	switch n.kind {
	case "provider":
		return `the provider "a1base" block`
	case "group":
		return "a group block"
	case "module":
		return "a module block"
	}
	return "a local value"
}

// topoSort orders nodes so that each comes after what it depends on. Each
// cycle is reported once, naming every node in it, and its nodes are
// marked bad.
func topoSort(nodes []*node) ([]int, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(nodes))
	order := make([]int, 0, len(nodes))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = visiting
		stack = append(stack, i)
		for _, dep := range nodes[i].deps {
			switch state[dep] {
			case unvisited:
				visit(dep)
			case visiting:
				// The cycle is the stack from dep to the top.
				start := len(stack) - 1
				for stack[start] != dep {
					start--
				}
				cycle := stack[start:]
				first := cycle[0]
				names := make([]string, 0, len(cycle)+1)
				for _, c := range cycle {
					if c < first {
						first = c
					}
				}
				for _, c := range cycle {
					nodes[c].bad = true
					names = append(names, nodes[c].String())
				}
				names = append(names, nodes[dep].String())
				var path string
				for k, name := range names {
					if k > 0 {
						path += " -> "
					}
					path += name
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference cycle",
					Detail:   cycleDetail(uniqueNames(names), path),
					Subject:  nodes[first].rng.Ptr(),
				})
			}
			if nodes[dep].bad {
				nodes[i].bad = true
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, i)
	}
	for i := range nodes {
		if state[i] == unvisited {
			visit(i)
		}
	}
	return order, diags
}

func uniqueNames(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func (l *loader) functions() map[string]function.Function {
	if l.funcs == nil {
		roots := []string{l.cfg.Dir}
		if l.dir != l.cfg.Dir {
			roots = append(roots, l.dir)
		}
		l.funcs = FunctionsIn(FileScope{Base: l.dir, Roots: roots, Anywhere: l.opts.AllowFileOutsideRoot})
	}
	return l.funcs
}

type expansion struct {
	instances []*Instance
	repeat    *Repeat // the rule of a repeat message
	diags     hcl.Diagnostics
}

// expandMessages expands every message block. Blocks are independent and
// the evaluation context is only read, so they are expanded in parallel:
// with thousands of messages this is the largest cost after parsing. The
// results keep declaration order.
func (l *loader) expandMessages(ctx *hcl.EvalContext) []expansion {
	msgs := l.mod.messages
	out := make([]expansion, len(msgs))
	const chunk = 64
	workers := min(runtime.GOMAXPROCS(0), (len(msgs)+chunk-1)/chunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= len(msgs) {
					return
				}
				for i := start; i < min(start+chunk, len(msgs)); i++ {
					out[i].instances, out[i].repeat, out[i].diags = l.expandMessage(msgs[i], ctx, &l.cfg.Provider)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func cycleDetail(names []string, path string) string {
	if len(names) == 1 {
		return fmt.Sprintf("%s refers to itself. Each value must be computable without itself.", names[0])
	}
	return fmt.Sprintf("%s refer to each other: %s. Each value must be computable without itself.", joinNames(names), path)
}
