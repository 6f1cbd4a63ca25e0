// Package addrs holds the typed address of a message instance,
// message.NAME or message.NAME["KEY"]. The same address keys an instance in
// configuration, plans and state, so it has one printed form and one parser.
package addrs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Message addresses one message instance. A message without for_each or
// repeat has no key.
type Message struct {
	Name   string
	Key    string
	HasKey bool
}

// NoKey returns the address of a message block that has no for_each.
func NoKey(name string) Message { return Message{Name: name} }

// WithKey returns the address of one instance of a for_each or repeat message.
func WithKey(name, key string) Message { return Message{Name: name, Key: key, HasKey: true} }

// Block is the address of the whole message block the instance belongs to.
func (m Message) Block() Message { return Message{Name: m.Name} }

// String renders the address the way users write it: message.x["k"].
func (m Message) String() string {
	if !m.HasKey {
		return "message." + m.Name
	}
	return "message." + m.Name + "[" + quote(m.Key) + "]"
}

// Contains reports whether target (an instance or a whole block) selects m,
// as -target and -replace do.
func (m Message) Contains(target Message) bool {
	if m.Name != target.Name {
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

// ParseMessage parses message.NAME or message.NAME["KEY"].
func ParseMessage(s string) (Message, error) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if diags.HasErrors() {
		return Message{}, fmt.Errorf("invalid address %q: expected message.NAME or message.NAME[\"KEY\"]", s)
	}
	return FromTraversal(trav, s)
}

// FromTraversal reads a message address from an HCL traversal, as found in
// moved blocks.
func FromTraversal(trav hcl.Traversal, text string) (Message, error) {
	bad := fmt.Errorf("invalid address %q: expected message.NAME or message.NAME[\"KEY\"]", text)
	if len(trav) < 2 || len(trav) > 3 || trav.RootName() != "message" {
		return Message{}, bad
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return Message{}, bad
	}
	m := Message{Name: attr.Name}
	if len(trav) == 3 {
		idx, ok := trav[2].(hcl.TraverseIndex)
		if !ok || idx.Key.IsNull() || !idx.Key.IsKnown() {
			return Message{}, bad
		}
		switch idx.Key.Type() {
		case cty.String:
			m.Key = idx.Key.AsString()
		case cty.Number:
			m.Key = idx.Key.AsBigFloat().Text('f', -1)
		default:
			return Message{}, bad
		}
		m.HasKey = true
	}
	return m, nil
}
