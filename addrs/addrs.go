package addrs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Message addresses one message instance. A message without for_each or
// repeat has no key. Module is the module instance that declares it; nil
// for the root module.
//
// A selection (-target, state list) may also be a whole module: Name is
// then empty and the address selects every message under Module.
type Message struct {
	Module ModuleInstance
	Name   string
	Key    string
	HasKey bool
}

// NoKey returns the address of a message block that has no for_each.
func NoKey(name string) Message { return Message{Name: name} }

// WithKey returns the address of one instance of a for_each or repeat message.
func WithKey(name, key string) Message { return Message{Name: name, Key: key, HasKey: true} }

// In returns the address inside the module instance m, taking the place of
// the root module: m.message.x for message.x.
func (m Message) In(mod ModuleInstance) Message {
	if len(mod) == 0 {
		return m
	}
	out := m
	out.Module = make(ModuleInstance, 0, len(mod)+len(m.Module))
	out.Module = append(append(out.Module, mod...), m.Module...)
	return out
}

// Block is the address of the whole message block the instance belongs to.
func (m Message) Block() Message { return Message{Module: m.Module, Name: m.Name} }

// IsModule reports that the address names a whole module, not a message.
func (m Message) IsModule() bool { return m.Name == "" && len(m.Module) > 0 }

// Equal reports whether two addresses are the same.
func (m Message) Equal(o Message) bool {
	return m.Name == o.Name && m.HasKey == o.HasKey && m.Key == o.Key && m.Module.Equal(o.Module)
}

// String renders the address the way users write it: message.x["k"], or
// module.emea.message.x["k"] inside a module.
func (m Message) String() string {
	var b strings.Builder
	if len(m.Module) > 0 {
		b.WriteString(m.Module.String())
		if m.Name == "" {
			return b.String()
		}
		b.WriteByte('.')
	}
	b.WriteString("message.")
	b.WriteString(m.Name)
	if m.HasKey {
		b.WriteByte('[')
		b.WriteString(quote(m.Key))
		b.WriteByte(']')
	}
	return b.String()
}

// Contains reports whether target (an instance, a whole block or a whole
// module) selects m, as -target and -replace do. A module step without a
// key selects every instance of that module call.
func (m Message) Contains(target Message) bool {
	if target.Name == "" {
		return len(target.Module) > 0 && m.Module.Contains(target.Module)
	}
	if m.Name != target.Name || len(m.Module) != len(target.Module) || !m.Module.Contains(target.Module) {
		return false
	}
	return !target.HasKey || (m.HasKey && m.Key == target.Key)
}

// quote writes an HCL string literal: strconv's escapes plus ${ and %{,
// which HCL would otherwise read as template sequences.
func quote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	q = strings.ReplaceAll(q, "%{", "%%{")
	return q
}

const expected = `expected message.NAME, message.NAME["KEY"] or either after module.NAME. or module.NAME["KEY"].`

// ParseMessage parses message.NAME or message.NAME["KEY"], with any module
// path before it.
func ParseMessage(s string) (Message, error) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return Message{}, fmt.Errorf("invalid address %q: %s", s, expected)
	}
	return FromTraversal(trav, s)
}

// ParseSelection parses what -target and the state commands accept: a
// message address, or a whole module (module.emea, module.region).
func ParseSelection(s string) (Message, error) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return Message{}, fmt.Errorf("invalid address %q: %s", s, expected)
	}
	if mod, rest, ok := moduleFromTraversal(trav); ok && len(rest) == 0 && len(mod) > 0 {
		return Message{Module: mod}, nil
	}
	return FromTraversal(trav, s)
}

// FromTraversal reads a message address from an HCL traversal, as found in
// moved blocks.
func FromTraversal(trav hcl.Traversal, text string) (Message, error) {
	bad := fmt.Errorf("invalid address %q: %s", text, expected)
	mod, trav, ok := moduleFromTraversal(trav)
	if !ok || len(trav) < 2 || len(trav) > 3 || stepName(trav[0]) != "message" {
		return Message{}, bad
	}
	if _, isIndex := trav[0].(hcl.TraverseIndex); isIndex {
		return Message{}, bad
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return Message{}, bad
	}
	m := Message{Module: mod, Name: attr.Name}
	if len(trav) == 3 {
		idx, ok := trav[2].(hcl.TraverseIndex)
		if !ok {
			return Message{}, bad
		}
		key, ok := indexKey(idx)
		if !ok {
			return Message{}, bad
		}
		m.Key, m.HasKey = key, true
	}
	return m, nil
}
