package lsp

import (
	"bytes"
	"fmt"

	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/spec/format"
)

// formatting formats a document as herald fmt does: one edit replacing
// the whole text, none when it is already formatted. A document with
// syntax errors is not formatted; its diagnostics say why.
func (s *Server) formatting(p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	path, err := pathOf(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	src, err := s.text(path)
	if err != nil {
		return nil, err
	}
	out, _, diags := format.Source(path, src)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s cannot be formatted: %s", path, diags[0].Error())
	}
	if bytes.Equal(out, src) {
		return []protocol.TextEdit{}, nil
	}
	return []protocol.TextEdit{{
		Range:   protocol.Range{Start: protocol.Position{}, End: endPosition(src)},
		NewText: string(out),
	}}, nil
}
