package lsp

import (
	"context"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/spec"
)

// diagnoseLoop diagnoses the configurations marked dirty, each time it
// is woken: changes that arrive while a load runs are diagnosed together
// by the next one, so a fast typist never queues loads.
func (s *Server) diagnoseLoop(ctx context.Context) {
	for {
		select {
		case <-s.stopWorkers:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		roots := make([]string, 0, len(s.dirty))
		for root := range s.dirty {
			roots = append(roots, root)
		}
		s.dirty = map[string]bool{}
		overlay, versions := s.overlay()
		s.mu.Unlock()
		sort.Strings(roots)
		for _, root := range roots {
			s.publish(ctx, root, s.diagnose(root, overlay), versions)
		}
	}
}

// diagnose loads the configuration in root as validate does, with the
// open documents overlaid, and returns its diagnostics by file (every
// file the load read has an entry, empty when it has none).
func (s *Server) diagnose(root string, overlay map[string][]byte) map[string][]protocol.Diagnostic {
	cfg, diags := spec.Load(root, s.loadOptions(overlay))
	byFile := map[string][]protocol.Diagnostic{}
	s.mu.Lock()
	for name := range cfg.Files {
		byFile[name] = nil
		if s.fileRoots[name] == nil {
			s.fileRoots[name] = map[string]bool{}
		}
		s.fileRoots[name][root] = true
	}
	var unplaced []string
	for path := range s.docs {
		if filepath.Dir(path) == root {
			if _, ok := byFile[path]; !ok {
				byFile[path] = nil
			}
			unplaced = append(unplaced, path)
		}
	}
	s.mu.Unlock()
	sort.Strings(unplaced)

	source := func(name string) []byte {
		if f := cfg.Files[name]; f != nil {
			return f.Bytes
		}
		if src, ok := overlay[name]; ok {
			return src
		}
		src, _ := readLimited(name)
		return src
	}
	for _, d := range diags {
		pd := protocol.Diagnostic{
			Severity: protocol.DiagnosticSeverityError,
			Source:   "herald",
			Message:  d.Summary,
		}
		if d.Severity == hcl.DiagWarning {
			pd.Severity = protocol.DiagnosticSeverityWarning
		}
		if d.Detail != "" {
			pd.Message += ": " + d.Detail
		}
		if d.Subject == nil || d.Subject.Filename == "" {
			// Nothing to point at (a -var value, an unreadable
			// directory): shown at the top of the open documents.
			for _, path := range unplaced {
				byFile[path] = append(byFile[path], pd)
			}
			continue
		}
		name := d.Subject.Filename
		if !filepath.IsAbs(name) {
			name = filepath.Join(root, name)
		}
		pd.Range = rangeIn(source(name), *d.Subject)
		byFile[name] = append(byFile[name], pd)
	}
	return byFile
}

// rangeIn is r as a protocol range; without the source, by its line and
// column.
func rangeIn(src []byte, r hcl.Range) protocol.Range {
	if src != nil && r.End.Byte <= len(src) {
		return protocolRange(src, r)
	}
	pos := func(p hcl.Pos) protocol.Position {
		line, col := p.Line-1, p.Column-1
		if line < 0 {
			line = 0
		}
		if col < 0 {
			col = 0
		}
		return protocol.Position{Line: uint32(line), Character: uint32(col)}
	}
	return protocol.Range{Start: pos(r.Start), End: pos(r.End)}
}

// publish sends the diagnostics of one configuration: for every file
// that has some, every open document, and every file that had some at the
// last publication (now cleared).
func (s *Server) publish(ctx context.Context, root string, byFile map[string][]protocol.Diagnostic, versions map[string]int32) {
	s.mu.Lock()
	previous := s.reported[root]
	now := map[string]bool{}
	var names []string
	for name, diags := range byFile {
		_, open := versions[name]
		if len(diags) > 0 || open || previous[name] {
			names = append(names, name)
		}
		if len(diags) > 0 {
			now[name] = true
		}
	}
	for name := range previous {
		if _, ok := byFile[name]; !ok {
			names = append(names, name)
		}
	}
	s.reported[root] = now
	s.mu.Unlock()
	sort.Strings(names)
	for _, name := range names {
		diags := byFile[name]
		if diags == nil {
			diags = []protocol.Diagnostic{}
		}
		p := &protocol.PublishDiagnosticsParams{URI: uriOf(name), Diagnostics: diags}
		if v, ok := versions[name]; ok {
			p.Version = uint32(v)
		}
		_ = s.conn.Notify(ctx, protocol.MethodTextDocumentPublishDiagnostics, p)
	}
}
