package addrs

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ModuleInstanceStep is one module call on the way from the root module to
// a module instance: module.NAME, or module.NAME["KEY"] for an instance of
// a module call with for_each.
type ModuleInstanceStep struct {
	Name   string
	Key    string
	HasKey bool
}

func (s ModuleInstanceStep) String() string {
	if !s.HasKey {
		return "module." + s.Name
	}
	return "module." + s.Name + "[" + quote(s.Key) + "]"
}

// ModuleInstance is the path of module calls from the root module to one
// module instance. The root module is the empty (nil) path.
type ModuleInstance []ModuleInstanceStep

// RootModule is the path of the root module.
var RootModule ModuleInstance

// IsRoot reports whether m is the root module.
func (m ModuleInstance) IsRoot() bool { return len(m) == 0 }

// Child is the path of an instance of a module called from m. A module
// call without for_each has no key.
func (m ModuleInstance) Child(name, key string, hasKey bool) ModuleInstance {
	out := make(ModuleInstance, len(m), len(m)+1)
	copy(out, m)
	return append(out, ModuleInstanceStep{Name: name, Key: key, HasKey: hasKey})
}

// String renders the path the way users write it:
// module.region["emea"].module.weekly. The root module is "".
func (m ModuleInstance) String() string {
	if len(m) == 0 {
		return ""
	}
	var b strings.Builder
	for i, s := range m {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// Equal reports whether two paths name the same module instance.
func (m ModuleInstance) Equal(o ModuleInstance) bool {
	if len(m) != len(o) {
		return false
	}
	for i := range m {
		if m[i] != o[i] {
			return false
		}
	}
	return true
}

// Contains reports whether the target path selects m: every step of the
// target names the same module call, a step without a key selects every
// instance of its call, and the target may stop at an ancestor of m.
func (m ModuleInstance) Contains(target ModuleInstance) bool {
	if len(target) > len(m) {
		return false
	}
	for i, t := range target {
		s := m[i]
		if s.Name != t.Name || (t.HasKey && (!s.HasKey || s.Key != t.Key)) {
			return false
		}
	}
	return true
}

// ParseModuleInstance parses module.NAME, module.NAME["KEY"] and longer
// paths of them.
func ParseModuleInstance(s string) (ModuleInstance, error) {
	bad := fmt.Errorf("invalid module address %q: expected module.NAME or module.NAME[\"KEY\"]", s)
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, bad
	}
	m, rest, ok := moduleFromTraversal(trav)
	if !ok || len(rest) > 0 || len(m) == 0 {
		return nil, bad
	}
	return m, nil
}

// moduleFromTraversal reads the leading module steps of a traversal and
// returns what follows them. ok is false when a module step is malformed.
func moduleFromTraversal(trav hcl.Traversal) (ModuleInstance, hcl.Traversal, bool) {
	var m ModuleInstance
	for len(trav) > 0 && stepName(trav[0]) == "module" {
		if len(trav) < 2 {
			return nil, nil, false
		}
		attr, ok := trav[1].(hcl.TraverseAttr)
		if !ok {
			return nil, nil, false
		}
		step := ModuleInstanceStep{Name: attr.Name}
		trav = trav[2:]
		if len(trav) > 0 {
			if idx, ok := trav[0].(hcl.TraverseIndex); ok {
				key, ok := indexKey(idx)
				if !ok {
					return nil, nil, false
				}
				step.Key, step.HasKey = key, true
				trav = trav[1:]
			}
		}
		m = append(m, step)
	}
	return m, trav, true
}

// stepName is the name of a root or attribute step; "" for an index.
func stepName(t hcl.Traverser) string {
	switch s := t.(type) {
	case hcl.TraverseRoot:
		return s.Name
	case hcl.TraverseAttr:
		return s.Name
	}
	return ""
}

func indexKey(idx hcl.TraverseIndex) (string, bool) {
	if idx.Key.IsNull() || !idx.Key.IsKnown() {
		return "", false
	}
	switch idx.Key.Type() {
	case cty.String:
		return idx.Key.AsString(), true
	case cty.Number:
		return idx.Key.AsBigFloat().Text('f', -1), true
	}
	return "", false
}

// Traversal is the path as HCL writes it, for generated configuration.
func (m ModuleInstance) Traversal() hcl.Traversal {
	var t hcl.Traversal
	for i, s := range m {
		if i == 0 {
			t = append(t, hcl.TraverseRoot{Name: "module"})
		} else {
			t = append(t, hcl.TraverseAttr{Name: "module"})
		}
		t = append(t, hcl.TraverseAttr{Name: s.Name})
		if s.HasKey {
			t = append(t, hcl.TraverseIndex{Key: cty.StringVal(s.Key)})
		}
	}
	return t
}
