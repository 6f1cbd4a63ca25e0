package lsp

import (
	"path/filepath"

	"go.lsp.dev/protocol"
)

// referenceKinds are the reference roots go-to-definition follows, with
// the kind of declaration each names.
var referenceKinds = map[string]string{
	"group":  "group",
	"var":    "variable",
	"local":  "local",
	"module": "module",
}

func (s *Server) definition(p *protocol.DefinitionParams) ([]protocol.Location, error) {
	path, err := pathOf(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	src, err := s.text(path)
	if err != nil {
		return nil, err
	}
	word, start := wordAt(src, offset(src, p.Position))
	parts := referenceParts(word)
	if len(parts) < 2 {
		return []protocol.Location{}, nil
	}
	kind, ok := referenceKinds[parts[0]]
	if !ok {
		return []protocol.Location{}, nil
	}
	x := s.index(filepath.Dir(path))
	d := x.lookup(kind, parts[1])
	if d == nil {
		return []protocol.Location{}, nil
	}
	// module.NAME.OUTPUT, with the cursor on OUTPUT: the output block.
	if kind == "module" && len(parts) >= 3 && offset(src, p.Position) > start+len("module.")+len(parts[1]) {
		if mx := s.moduleIndex(x, parts[1]); mx != nil {
			if o := mx.lookup("output", parts[2]); o != nil {
				d = o
			}
		}
	}
	return []protocol.Location{{URI: uriOf(d.rng.Filename), Range: protocolRange(d.src, d.rng)}}, nil
}
