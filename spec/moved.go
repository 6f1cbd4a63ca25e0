package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/heraldhq/herald/addrs"
)

var movedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "from", Required: true},
		{Name: "to", Required: true},
	},
}

// movedBlock is a decoded moved block. Its addresses are static: they are
// read from the traversals, never evaluated.
type movedBlock struct {
	From      addrs.Message
	To        addrs.Message
	FromRange hcl.Range
	ToRange   hcl.Range
	DeclRange hcl.Range
}

func decodeMovedBlock(block *hcl.Block) (*movedBlock, hcl.Diagnostics) {
	content, diags := block.Body.Content(movedSchema)
	m := &movedBlock{DeclRange: block.DefRange}
	ok := true
	for _, side := range []struct {
		name string
		addr *addrs.Message
		rng  *hcl.Range
	}{{"from", &m.From, &m.FromRange}, {"to", &m.To, &m.ToRange}} {
		attr, present := content.Attributes[side.name]
		if !present {
			ok = false
			continue
		}
		*side.rng = attr.Expr.Range()
		addr, d := messageAddress(attr.Expr, side.name)
		diags = append(diags, d...)
		if d.HasErrors() {
			ok = false
			continue
		}
		*side.addr = addr
	}
	if !ok {
		return nil, diags
	}
	return m, diags
}

// messageAddress reads message.NAME or message.NAME["KEY"] from an
// expression without evaluating it.
func messageAddress(expr hcl.Expression, attr string) (addrs.Message, hcl.Diagnostics) {
	bad := hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid address",
		Detail:   fmt.Sprintf("The %s argument of a moved block must be a message address, such as message.launch, message.report[\"eng\"] or module.emea.message.launch.", attr),
		Subject:  expr.Range().Ptr(),
	}}
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		return addrs.Message{}, bad
	}
	addr, err := addrs.FromTraversal(trav, "")
	if err != nil {
		return addrs.Message{}, bad
	}
	return addr, nil
}

// checkMoved checks the moved blocks against the messages that exist: the
// target must exist, the source must not (its state is what moves), and
// no address moves twice.
func (l *loader) checkMoved(blocks []*movedBlock, instances map[string]bool) ([]*Moved, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	exists := func(a addrs.Message) bool {
		if a.HasKey {
			return instances[a.String()]
		}
		_, ok := l.shared.blocks[a.String()]
		return ok
	}
	seen := map[string]*movedBlock{}
	var out []*Moved
	for _, m := range blocks {
		switch {
		case m.From.Equal(m.To):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Redundant moved block",
				Detail:   fmt.Sprintf("This moves %s to itself.", m.From),
				Subject:  m.DeclRange.Ptr(),
			})
			continue
		}
		bad := false
		if exists(m.From) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Moved object still exists",
				Detail:   fmt.Sprintf("%s is still in the configuration; a moved block's from must name a message that was renamed or removed.", m.From),
				Subject:  m.FromRange.Ptr(),
			})
			bad = true
		}
		switch {
		case exists(m.To):
		case l.targetFailed(m.To):
			// Its message failed to evaluate, which is reported.
			bad = true
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Moved to a message that does not exist",
				Detail:   fmt.Sprintf("The configuration has no %s; a moved block's to must name a message that exists.%s", m.To, l.suggestMessage(m.To)),
				Subject:  m.ToRange.Ptr(),
			})
			bad = true
		}
		if bad {
			continue
		}
		if prev, dup := seen[m.From.String()]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Ambiguous move statements",
				Detail:   fmt.Sprintf("%s is already moved by the block at %s.", m.From, sourcePos(prev.DeclRange)),
				Subject:  m.FromRange.Ptr(),
			})
			continue
		}
		seen[m.From.String()] = m
		out = append(out, &Moved{From: m.From, To: m.To, DeclRange: m.DeclRange})
	}
	return out, diags
}

// suggestMessage suggests a declared message close to a: by name in the
// root module, by block address elsewhere.
func (l *loader) suggestMessage(a addrs.Message) string {
	if len(a.Module) == 0 {
		return didYouMean(a.Name, sortedKeys(l.mod.messageByName))
	}
	return didYouMean(a.Block().String(), sortedKeys(l.shared.blocks))
}
