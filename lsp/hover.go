package lsp

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/spec"
)

// nextSends is how many upcoming sends a message's hover lists.
const nextSends = 5

var (
	// attrAfter and blockAfter tell an argument's name ("name =") from a
	// block's type ("name "label" {") by what follows the word.
	attrAfter  = regexp.MustCompile(`^\s*=`)
	blockAfter = regexp.MustCompile(`^\s*("[^"]*"\s*|[A-Za-z_][A-Za-z0-9_-]*\s*)*\{`)
)

func (s *Server) hover(p *protocol.HoverParams) (*protocol.Hover, error) {
	path, err := pathOf(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	src, err := s.text(path)
	if err != nil {
		return nil, err
	}
	off := offset(src, p.Position)
	word, start := wordAt(src, off)
	c := scan(src, start)
	rest := string(src[start+len(word):])
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	rng := protocol.Range{Start: position(src, start), End: position(src, start+len(word))}

	// A message block's header: its documentation and next sends.
	if b := headerBlockAt(src, path, off); b != nil && b.Type == "message" && len(b.Labels) == 1 {
		text := blockMarkdown(spec.BlockDocs["message"]) + "\n\n" + s.messageSends(path, b)
		return &protocol.Hover{Contents: *markdown(text), Range: &rng}, nil
	}
	if word == "" {
		return nil, nil
	}
	if !c.inExpr && strings.TrimSpace(c.linePrefix) == "" {
		switch {
		case attrAfter.MatchString(rest):
			if bd := spec.LookupBlockDoc(c.path); bd != nil {
				if a := bd.Attribute(word); a != nil {
					return &protocol.Hover{Contents: *markdown(docMarkdown(a)), Range: &rng}, nil
				}
			}
		case blockAfter.MatchString(rest):
			if bd := spec.LookupBlockDoc(append(c.path, word)); bd != nil {
				return &protocol.Hover{Contents: *markdown(blockMarkdown(bd)), Range: &rng}, nil
			}
		}
		return nil, nil
	}
	// A reference: what it names.
	if text := s.referenceDoc(filepath.Dir(path), referenceParts(word)); text != "" {
		return &protocol.Hover{Contents: *markdown(text), Range: &rng}, nil
	}
	return nil, nil
}

// topBlockAt is the top-level block that holds off.
func topBlockAt(src []byte, path string, off int) *hclsyntax.Block {
	body := parseBody(src, path)
	if body == nil {
		return nil
	}
	for _, b := range body.Blocks {
		if r := b.Range(); off >= r.Start.Byte && off <= r.End.Byte {
			return b
		}
	}
	return nil
}

// parseBody parses a document as far as it parses.
func parseBody(src []byte, path string) *hclsyntax.Body {
	file, _ := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if file == nil {
		return nil
	}
	body, _ := file.Body.(*hclsyntax.Body)
	return body
}

// headerBlockAt is the top-level block whose header line holds off.
func headerBlockAt(src []byte, path string, off int) *hclsyntax.Block {
	body := parseBody(src, path)
	if body == nil {
		return nil
	}
	for _, b := range body.Blocks {
		r := b.DefRange()
		if off >= lineStart(src, r.Start.Byte) && off <= r.End.Byte {
			return b
		}
	}
	return nil
}

// referenceDoc describes what a reference names, or "".
func (s *Server) referenceDoc(dir string, parts []string) string {
	if len(parts) < 2 {
		return ""
	}
	x := s.index(dir)
	switch parts[0] {
	case "var":
		if d := x.lookup("variable", parts[1]); d != nil {
			text := fmt.Sprintf("**variable** `%s`", parts[1])
			if desc := d.attrString("description"); desc != "" {
				text += "\n\n" + desc
			}
			return text
		}
	case "group":
		if d := x.lookup("group", parts[1]); d != nil {
			return fmt.Sprintf("**group** `%s`\n\nthread_id `%s`", parts[1], d.attrString("thread_id"))
		}
	case "local":
		if x.lookup("local", parts[1]) != nil {
			return fmt.Sprintf("**local value** `%s`", parts[1])
		}
	case "module":
		if d := x.lookup("module", parts[1]); d != nil {
			return fmt.Sprintf("**module** `%s`\n\nsource `%s`", parts[1], d.attrString("source"))
		}
	}
	return ""
}

// messageSends lists a message's next send instants, in UTC and in the
// zone of its group, from a load at the server's clock.
func (s *Server) messageSends(path string, b *hclsyntax.Block) string {
	now := s.opts.Now()
	s.mu.Lock()
	roots := s.rootsOf(path)
	overlay, _ := s.overlay()
	s.mu.Unlock()
	opts := s.loadOptions(overlay)
	opts.At = now
	cfg, diags := spec.Load(roots[0], opts)
	if diags.HasErrors() {
		return "Next sends: not known while the configuration has errors (see the diagnostics)."
	}
	type send struct {
		at   time.Time
		zone *time.Location
		key  string
	}
	var sends []send
	def := b.DefRange()
	body := b.Range()
	for _, r := range cfg.Repeats {
		if r.Name != b.Labels[0] || r.DeclRange.Filename != path || r.DeclRange.Start.Byte < body.Start.Byte || r.DeclRange.End.Byte > body.End.Byte {
			continue
		}
		zone := r.Timezone
		for _, occ := range r.Occurrences(now, now.AddDate(2, 0, 0), nextSends) {
			sends = append(sends, send{at: r.SendTime(occ), zone: zone})
		}
	}
	var past int
	for _, in := range cfg.Instances {
		if in.Repeat != nil || in.DeclRange.Filename != path || in.DeclRange.Start.Line != def.Start.Line {
			continue
		}
		if in.SendAt.Before(now) {
			past++
			continue
		}
		zone := in.Timezone
		if in.Group != nil && in.Group.Timezone != nil {
			zone = in.Group.Timezone
		}
		key := ""
		if in.Addr.HasKey || len(in.Addr.Module) > 0 {
			key = in.Addr.String() // which of the block's instances
		}
		sends = append(sends, send{at: in.SendAt, zone: zone, key: key})
	}
	sort.SliceStable(sends, func(i, j int) bool { return sends[i].at.Before(sends[j].at) })
	if len(sends) > nextSends {
		sends = sends[:nextSends]
	}
	var out strings.Builder
	fmt.Fprintf(&out, "Next sends after %s:\n", now.UTC().Format(time.RFC3339))
	if len(sends) == 0 {
		if past > 0 {
			out.WriteString("\nnone: every send time is past.")
		} else {
			out.WriteString("\nnone.")
		}
		return out.String()
	}
	out.WriteString("\n| UTC | group's time zone |   |\n|---|---|---|\n")
	for _, sd := range sends {
		local := "—"
		if sd.zone != nil {
			local = sd.at.In(sd.zone).Format("2006-01-02 15:04 MST") + " (" + sd.zone.String() + ")"
		}
		fmt.Fprintf(&out, "| %s | %s | %s |\n", sd.at.UTC().Format("2006-01-02 15:04 MST"), local, sd.key)
	}
	return out.String()
}
