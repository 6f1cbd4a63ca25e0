package spec

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/addrs"
)

var importSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "to", Required: true},
		{Name: "id"},
	},
}

// importBlock is a decoded import block. Its address is static, read from
// the traversal as a moved block's are; its id is a literal string.
type importBlock struct {
	To        addrs.Message
	ToRange   hcl.Range
	ID        string
	DeclRange hcl.Range
}

func decodeImportBlock(block *hcl.Block) (*importBlock, hcl.Diagnostics) {
	content, diags := block.Body.Content(importSchema)
	ib := &importBlock{DeclRange: block.DefRange}
	attr, ok := content.Attributes["to"]
	if !ok {
		return nil, diags
	}
	ib.ToRange = attr.Expr.Range()
	trav, d := hcl.AbsTraversalForExpr(attr.Expr)
	var err error
	if !d.HasErrors() {
		ib.To, err = addrs.FromTraversal(trav, "")
	}
	if d.HasErrors() || err != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid address",
			Detail:   "The to argument of an import block must be a message address, such as message.launch or message.report[\"eng\"].",
			Subject:  ib.ToRange.Ptr(),
		})
	}
	if attr, ok := content.Attributes["id"]; ok {
		v, d := attr.Expr.Value(nil)
		if d.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String || v.AsString() == "" {
			return nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid import id",
				Detail:   "The id argument of an import block is the A1Base id of the thread message to match, written as a literal string such as \"msg_123\".",
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		ib.ID = v.AsString()
	}
	return ib, diags
}

// checkImports checks the import blocks against the messages that exist:
// each must name one instance, and no instance is imported twice. An
// occurrence of a repeat message is checked by its key alone, an RFC 3339
// time: which occurrences exist depends on the clock, and an import of one
// the plan no longer considers is simply left alone.
func (l *loader) checkImports(blocks []*importBlock, instances map[string]bool) ([]*Import, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	seen := map[string]*importBlock{}
	var out []*Import
	for _, ib := range blocks {
		m, ok := l.shared.blocks[ib.To.Block().String()]
		// An address of the right shape whose message (or a module call on
		// the way to it) failed to evaluate is not in the configuration
		// only because of that error, which is reported and says more.
		shaped := !ok || (m.Repeat == nil && (m.ForEach != nil) == ib.To.HasKey)
		var problem string
		switch {
		case shaped && !instances[ib.To.String()] && l.targetFailed(ib.To):
			continue
		case !ok:
			problem = fmt.Sprintf("The configuration has no %s; an import block's to must name a message that exists.%s", ib.To.Block(), l.suggestMessage(ib.To))
		case m.Repeat != nil && !ib.To.HasKey:
			problem = fmt.Sprintf("%s is a repeat message; import one occurrence, keyed by its time, such as %s.", ib.To, addrs.WithKey(ib.To.Name, "2027-03-01T09:00:00+01:00").In(ib.To.Module))
		case m.Repeat != nil:
			if _, err := time.Parse(time.RFC3339, ib.To.Key); err != nil {
				problem = fmt.Sprintf("%s is not an occurrence of the repeat message %s: its key must be an RFC 3339 time.", ib.To, ib.To.Block())
			}
		case m.ForEach != nil && !ib.To.HasKey:
			problem = fmt.Sprintf("%s has for_each; import one of its instances, such as %s.", ib.To, addrs.WithKey(ib.To.Name, "KEY").In(ib.To.Module))
		case !instances[ib.To.String()]:
			problem = fmt.Sprintf("The configuration has no %s; an import block's to must name a message instance that exists.", ib.To)
		}
		if problem != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Import to a message that does not exist",
				Detail:   problem,
				Subject:  ib.ToRange.Ptr(),
			})
			continue
		}
		if prev, dup := seen[ib.To.String()]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate import block",
				Detail:   fmt.Sprintf("%s is already imported by the block at %s.", ib.To, sourcePos(prev.DeclRange)),
				Subject:  ib.ToRange.Ptr(),
			})
			continue
		}
		seen[ib.To.String()] = ib
		out = append(out, &Import{To: ib.To, ID: ib.ID, DeclRange: ib.DeclRange})
	}
	return out, diags
}

// targetFailed reports whether a names a message instance that is not in
// the configuration because an error already reported stopped it: its
// message block failed to evaluate, or a module call on the way to it did.
func (l *loader) targetFailed(a addrs.Message) bool {
	if l.shared.failed[a.Block().String()] {
		return true
	}
	for i := range a.Module {
		call := append(addrs.ModuleInstance(nil), a.Module[:i+1]...)
		call[i].Key, call[i].HasKey = "", false
		if l.shared.failed[call.String()] {
			return true
		}
	}
	return false
}
