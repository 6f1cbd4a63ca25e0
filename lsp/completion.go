package lsp

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/heraldhq/herald/spec"
)

// identBefore matches the start of a line up to an argument or block
// name being typed.
var identBefore = regexp.MustCompile(`^\s*[A-Za-z0-9_-]*$`)

func (s *Server) completion(p *protocol.CompletionParams) (*protocol.CompletionList, error) {
	path, err := pathOf(p.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	src, err := s.text(path)
	if err != nil {
		return nil, err
	}
	off := offset(src, p.Position)
	c := scan(src, off)
	list := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	if !c.inExpr {
		if identBefore.MatchString(c.linePrefix) {
			list.Items = s.structureItems(c.path)
			if len(c.path) == 1 && c.path[0] == "module" {
				list.Items = append(list.Items, s.moduleInputItems(src, path, off)...)
			}
		}
		return list, nil
	}
	if m := traversalBefore.FindStringSubmatch(c.linePrefix); m != nil {
		list.Items = s.referenceItems(filepath.Dir(path), c, referenceParts(m[1]))
		return list, nil
	}
	list.Items = append(valueItems(c), s.rootItems(filepath.Dir(path), c)...)
	return list, nil
}

// docMarkdown is an argument's documentation as hover and completion
// show it.
func docMarkdown(a *spec.AttributeDoc) string {
	req := ""
	if a.Required {
		req = " (required)"
	}
	return fmt.Sprintf("**%s** `%s`%s\n\n%s", a.Name, a.Type, req, a.Doc)
}

// blockMarkdown is a block type's documentation.
func blockMarkdown(b *spec.BlockDoc) string {
	header := b.Type
	for _, l := range b.Labels {
		header += fmt.Sprintf(" %q", strings.ToUpper(l))
	}
	return fmt.Sprintf("**%s** block\n\n%s", header, b.Doc)
}

func markdown(s string) *protocol.MarkupContent {
	return &protocol.MarkupContent{Kind: protocol.Markdown, Value: s}
}

// structureItems are the blocks, and the arguments, that may start a line
// in the block at path (the file's top level when empty).
func (s *Server) structureItems(path []string) []protocol.CompletionItem {
	var items []protocol.CompletionItem
	blockItem := func(key string, bd *spec.BlockDoc) protocol.CompletionItem {
		it := protocol.CompletionItem{
			Label:         bd.Type,
			Kind:          protocol.CompletionItemKindClass,
			Detail:        "block",
			Documentation: markdown(blockMarkdown(bd)),
			InsertText:    bd.Type,
		}
		if s.snippets {
			labels := ""
			for i, l := range bd.Labels {
				labels += fmt.Sprintf(` "${%d:%s}"`, i+1, l)
			}
			it.InsertText = bd.Type + labels + " {\n\t$0\n}"
			it.InsertTextFormat = protocol.InsertTextFormatSnippet
		}
		return it
	}
	if len(path) == 0 {
		for _, t := range spec.TopLevelBlocks {
			items = append(items, blockItem(t, spec.BlockDocs[t]))
		}
		return items
	}
	bd := spec.LookupBlockDoc(path)
	if bd == nil {
		return nil
	}
	for i := range bd.Attributes {
		a := &bd.Attributes[i]
		detail := a.Type
		if a.Required {
			detail += " (required)"
		}
		items = append(items, protocol.CompletionItem{
			Label:         a.Name,
			Kind:          protocol.CompletionItemKindProperty,
			Detail:        detail,
			Documentation: markdown(docMarkdown(a)),
			InsertText:    a.Name + " = ",
		})
	}
	key := strings.Join(path, ".")
	for _, nested := range bd.Blocks {
		items = append(items, blockItem(key+"."+nested, spec.BlockDocs[key+"."+nested]))
	}
	return items
}

// valueItems are the values an argument with a fixed set of them takes
// (service, on_unknown, a media type), from its documented type.
func valueItems(c cursor) []protocol.CompletionItem {
	if c.attr == "" {
		return nil
	}
	bd := spec.LookupBlockDoc(c.path)
	if bd == nil {
		return nil
	}
	a := bd.Attribute(c.attr)
	if a == nil || !strings.HasPrefix(a.Type, `"`) {
		return nil
	}
	inString := strings.Count(c.linePrefix, `"`)%2 == 1
	var items []protocol.CompletionItem
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(a.Type, -1) {
		text := m[0]
		if inString {
			text = m[1]
		}
		items = append(items, protocol.CompletionItem{Label: m[0], Kind: protocol.CompletionItemKindEnumMember, Detail: a.Name, InsertText: text, FilterText: m[1]})
	}
	return items
}

// rootItems are the names an expression may start with: the reference
// roots in scope at the cursor and the functions.
func (s *Server) rootItems(dir string, c cursor) []protocol.CompletionItem {
	type root struct{ name, doc string }
	roots := []root{
		{"var", "An input variable: var.NAME."},
		{"local", "A local value: local.NAME."},
		{"group", "A group: group.NAME, or group for the map of all of them."},
		{"module", "A module call's outputs: module.NAME.OUTPUT."},
	}
	if slices.Contains([]string{"message", "module"}, first(c.path)) {
		roots = append(roots, root{"each", "The element of for_each: each.key and each.value."})
	}
	if slices.Contains(c.path, "precondition") {
		roots = append(roots, root{"self", "The message instance the precondition checks."})
	}
	if first(c.path) == "check" {
		roots = append(roots,
			root{"message", "The instances of a message block: message.NAME."},
			root{"messages", "Every message instance of the plan."})
	}
	var items []protocol.CompletionItem
	for _, r := range roots {
		items = append(items, protocol.CompletionItem{Label: r.name, Kind: protocol.CompletionItemKindVariable, Documentation: markdown(r.doc)})
	}
	funcs := spec.Functions(dir)
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		items = append(items, protocol.CompletionItem{Label: n, Kind: protocol.CompletionItemKindFunction, Detail: "function", InsertText: n + "("})
	}
	return items
}

func first(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return path[0]
}

// groupAttributes are what group.NAME holds.
var groupAttributes = [][2]string{
	{"name", "the group's name"},
	{"thread_id", "the A1Base thread of the group chat"},
	{"service", "whatsapp or telegram"},
	{"from", "the sending number"},
	{"rate_limit", "the group's rate limit as written; null when it sets none"},
}

// referenceItems complete the part after the last dot of a reference
// whose earlier parts are parts.
func (s *Server) referenceItems(dir string, c cursor, parts []string) []protocol.CompletionItem {
	var items []protocol.CompletionItem
	named := func(kind protocol.CompletionItemKind, names []string, detail func(string) string) {
		for _, n := range names {
			it := protocol.CompletionItem{Label: n, Kind: kind}
			if detail != nil {
				it.Detail = detail(n)
			}
			items = append(items, it)
		}
	}
	fields := func(pairs [][2]string) {
		for _, p := range pairs {
			items = append(items, protocol.CompletionItem{Label: p[0], Kind: protocol.CompletionItemKindField, Detail: p[1]})
		}
	}
	x := s.index(dir)
	switch {
	case len(parts) == 1 && parts[0] == "var":
		named(protocol.CompletionItemKindVariable, x.names("variable"), func(n string) string {
			return x.lookup("variable", n).attrString("description")
		})
	case len(parts) == 1 && parts[0] == "local":
		named(protocol.CompletionItemKindConstant, x.names("local"), nil)
	case len(parts) == 1 && parts[0] == "group":
		named(protocol.CompletionItemKindStruct, x.names("group"), func(n string) string {
			return x.lookup("group", n).attrString("thread_id")
		})
	case len(parts) == 2 && parts[0] == "group":
		fields(groupAttributes)
	case len(parts) == 1 && parts[0] == "module":
		named(protocol.CompletionItemKindModule, x.names("module"), func(n string) string {
			return x.lookup("module", n).attrString("source")
		})
	case len(parts) == 2 && parts[0] == "module":
		if mx := s.moduleIndex(x, parts[1]); mx != nil {
			named(protocol.CompletionItemKindProperty, mx.names("output"), func(n string) string {
				return mx.lookup("output", n).attrString("description")
			})
		}
	case len(parts) == 1 && parts[0] == "each":
		fields([][2]string{{"key", "the element's key (for a set, the element)"}, {"value", "the element's value"}})
	case len(parts) == 1 && parts[0] == "self":
		fields(spec.InstanceObjectAttributes)
	case len(parts) == 1 && parts[0] == "message":
		named(protocol.CompletionItemKindEvent, x.names("message"), nil)
	case len(parts) == 2 && parts[0] == "self" && parts[1] == "media":
		fields([][2]string{{"url", "the media URL"}, {"type", "image, video, audio or document"}, {"caption", "the caption"}})
	}
	return items
}

// moduleInputItems are the variables of the module a module block at off
// calls: its other arguments.
func (s *Server) moduleInputItems(src []byte, path string, off int) []protocol.CompletionItem {
	b := topBlockAt(src, path, off)
	if b == nil || b.Type != "module" || len(b.Labels) != 1 {
		return nil
	}
	d := &declaration{block: b}
	source := d.attrString("source")
	if source == "" {
		return nil
	}
	mx := s.index(filepath.Clean(filepath.Join(filepath.Dir(path), filepath.FromSlash(source))))
	var items []protocol.CompletionItem
	for _, name := range mx.names("variable") {
		v := mx.lookup("variable", name)
		detail := "module variable"
		if v.block.Body.Attributes["default"] == nil {
			detail += " (required)"
		}
		it := protocol.CompletionItem{Label: name, Kind: protocol.CompletionItemKindVariable, Detail: detail, InsertText: name + " = "}
		if desc := v.attrString("description"); desc != "" {
			it.Documentation = markdown(desc)
		}
		items = append(items, it)
	}
	return items
}
