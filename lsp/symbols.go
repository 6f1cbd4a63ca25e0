package lsp

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"
)

// symbolKinds is how each block type shows in an editor's outline.
var symbolKinds = map[string]protocol.SymbolKind{
	"provider":     protocol.SymbolKindNamespace,
	"backend":      protocol.SymbolKindPackage,
	"variable":     protocol.SymbolKindVariable,
	"locals":       protocol.SymbolKindNamespace,
	"group":        protocol.SymbolKindStruct,
	"message":      protocol.SymbolKindEvent,
	"module":       protocol.SymbolKindModule,
	"output":       protocol.SymbolKindProperty,
	"moved":        protocol.SymbolKindKey,
	"import":       protocol.SymbolKindKey,
	"check":        protocol.SymbolKindBoolean,
	"repeat":       protocol.SymbolKindEvent,
	"occurrence":   protocol.SymbolKindEvent,
	"media":        protocol.SymbolKindFile,
	"precondition": protocol.SymbolKindBoolean,
	"validation":   protocol.SymbolKindBoolean,
	"assert":       protocol.SymbolKindBoolean,
}

func (s *Server) documentSymbols(p *protocol.DocumentSymbolParams) ([]protocol.DocumentSymbol, error) {
	path, err := pathOf(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	src, err := s.text(path)
	if err != nil {
		return nil, err
	}
	file, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if file == nil {
		return []protocol.DocumentSymbol{}, nil
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return []protocol.DocumentSymbol{}, nil
	}
	return bodySymbols(src, body, true), nil
}

// bodySymbols are the blocks of a body and, below the top level or in
// locals, its arguments, in source order.
func bodySymbols(src []byte, body *hclsyntax.Body, top bool) []protocol.DocumentSymbol {
	out := []protocol.DocumentSymbol{}
	if !top {
		attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
		for _, a := range body.Attributes {
			attrs = append(attrs, a)
		}
		sort.Slice(attrs, func(i, j int) bool { return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte })
		for _, a := range attrs {
			out = append(out, protocol.DocumentSymbol{
				Name:           a.Name,
				Kind:           protocol.SymbolKindField,
				Range:          protocolRange(src, a.SrcRange),
				SelectionRange: protocolRange(src, a.NameRange),
			})
		}
	}
	for _, b := range body.Blocks {
		name := b.Type
		if len(b.Labels) > 0 {
			name = strings.Join(b.Labels, " ")
		}
		kind, ok := symbolKinds[b.Type]
		if !ok {
			kind = protocol.SymbolKindObject
		}
		sel := b.TypeRange
		if len(b.LabelRanges) > 0 {
			sel = b.LabelRanges[len(b.LabelRanges)-1]
		}
		out = append(out, protocol.DocumentSymbol{
			Name:           name,
			Detail:         b.Type,
			Kind:           kind,
			Range:          protocolRange(src, b.Range()),
			SelectionRange: protocolRange(src, sel),
			Children:       bodySymbols(src, b.Body, false),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Range.Start.Line < out[j].Range.Start.Line ||
			out[i].Range.Start.Line == out[j].Range.Start.Line && out[i].Range.Start.Character < out[j].Range.Start.Character
	})
	return out
}
