package lsp

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// declaration is a named thing a reference can lead to.
type declaration struct {
	kind string // variable, local, group, message, module, output, check
	name string
	// rng is what go-to-definition shows: the block's header, or the
	// local's name.
	rng hcl.Range
	// block is the whole block; nil for a local.
	block *hclsyntax.Block
	src   []byte
}

// attrString is the literal string an argument of the declaration's
// block sets, or "".
func (d *declaration) attrString(name string) string {
	if d.block == nil {
		return ""
	}
	a := d.block.Body.Attributes[name]
	if a == nil {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return ""
	}
	return v.AsString()
}

// dirIndex is the declarations of one module directory, by kind and name,
// read by parsing its files (the open documents' text winning) without
// evaluating them.
type dirIndex struct {
	dir   string
	decls map[string]map[string]*declaration
}

func (x *dirIndex) lookup(kind, name string) *declaration { return x.decls[kind][name] }

// names lists the declarations of a kind, sorted.
func (x *dirIndex) names(kind string) []string {
	out := make([]string, 0, len(x.decls[kind]))
	for n := range x.decls[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// index reads the declarations of the configuration files in dir.
func (s *Server) index(dir string) *dirIndex {
	x := &dirIndex{dir: dir, decls: map[string]map[string]*declaration{}}
	add := func(d *declaration) {
		if x.decls[d.kind] == nil {
			x.decls[d.kind] = map[string]*declaration{}
		}
		if _, dup := x.decls[d.kind][d.name]; !dup {
			x.decls[d.kind][d.name] = d
		}
	}
	for _, name := range s.configFiles(dir) {
		src, err := s.text(name)
		if err != nil {
			continue
		}
		file, _ := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if file == nil {
			continue
		}
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			switch {
			case b.Type == "locals":
				for _, a := range b.Body.Attributes {
					add(&declaration{kind: "local", name: a.Name, rng: a.NameRange, src: src})
				}
			case len(b.Labels) == 1:
				kind := b.Type
				if kind == "provider" || kind == "backend" {
					continue
				}
				add(&declaration{kind: kind, name: b.Labels[0], rng: b.DefRange(), block: b, src: src})
			}
		}
	}
	return x
}

// configFiles are the configuration files of dir, on disk and open.
func (s *Server) configFiles(dir string) []string {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && isConfigName(e.Name()) {
			seen[filepath.Join(dir, e.Name())] = true
		}
	}
	s.mu.Lock()
	for path := range s.docs {
		if filepath.Dir(path) == dir && isConfigName(filepath.Base(path)) {
			seen[path] = true
		}
	}
	s.mu.Unlock()
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// isConfigName reports whether a file name is a configuration file's, as
// the loader reads them.
func isConfigName(name string) bool {
	return strings.HasSuffix(name, ".hcl") && !strings.HasSuffix(name, ".vars.hcl") && !strings.HasPrefix(name, ".")
}

// moduleIndex is the index of the directory a module call's source names.
func (s *Server) moduleIndex(x *dirIndex, call string) *dirIndex {
	d := x.lookup("module", call)
	if d == nil {
		return nil
	}
	source := d.attrString("source")
	if source == "" {
		return nil
	}
	return s.index(filepath.Clean(filepath.Join(x.dir, filepath.FromSlash(source))))
}
