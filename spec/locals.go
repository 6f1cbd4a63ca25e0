package spec

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// localValue is one attribute of a locals block.
type localValue struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// decodeLocalsBlock returns the block's local values in source order.
func decodeLocalsBlock(block *hcl.Block) ([]*localValue, hcl.Diagnostics) {
	attrs, diags := block.Body.JustAttributes()
	out := make([]*localValue, 0, len(attrs))
	for _, attr := range sortedAttributes(attrs) {
		out = append(out, &localValue{Name: attr.Name, Expr: attr.Expr, DeclRange: attr.Range})
	}
	return out, diags
}

// sortByRange orders items by where they start in their file.
func sortByRange[T any](items []T, rng func(T) hcl.Range) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := rng(items[i]), rng(items[j])
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
