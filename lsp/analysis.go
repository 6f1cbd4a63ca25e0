package lsp

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// cursor is what surrounds a position in a document, read from HCL's
// tokens rather than its parser: the text being typed rarely parses.
type cursor struct {
	// path are the types of the blocks holding the position, from the
	// file's top level in.
	path []string
	// inExpr: the position is in an expression (an argument's value,
	// brackets, an interpolation), not where an argument or block starts.
	inExpr bool
	// attr is the argument whose value holds the position, when it is on
	// the argument's own line.
	attr string
	// linePrefix is the line's text before the position.
	linePrefix string
}

// frame is one open brace, bracket, parenthesis or interpolation.
type frame struct {
	block string // the block type it opens; "" for any other
}

// scan reads the tokens of src before off.
func scan(src []byte, off int) cursor {
	if off > len(src) {
		off = len(src)
	}
	tokens, _ := hclsyntax.LexConfig(src[:off], "", hcl.InitialPos)
	var stack []frame
	var line hclsyntax.Tokens
	inBlockBody := func() bool { return len(stack) == 0 || stack[len(stack)-1].block != "" }
	pop := func() {
		if len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
	}
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenNewline:
			if inBlockBody() {
				line = nil
			}
		case hclsyntax.TokenComment:
			// A # or // comment's token holds the newline that ends it.
			if inBlockBody() && bytes.HasSuffix(t.Bytes, []byte("\n")) {
				line = nil
			}
		case hclsyntax.TokenOBrace:
			if inBlockBody() {
				if typ, ok := blockHeader(line); ok {
					stack = append(stack, frame{block: typ})
					line = nil
					continue
				}
			}
			stack = append(stack, frame{})
			line = append(line, t)
		case hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			stack = append(stack, frame{})
			line = append(line, t)
		case hclsyntax.TokenCBrace:
			wasBlock := len(stack) > 0 && stack[len(stack)-1].block != ""
			pop()
			if wasBlock {
				line = nil
			} else {
				line = append(line, t)
			}
		case hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			pop()
			line = append(line, t)
		case hclsyntax.TokenEOF:
		default:
			line = append(line, t)
		}
	}
	c := cursor{linePrefix: string(src[lineStart(src, off):off])}
	for _, f := range stack {
		if f.block == "" {
			c.inExpr = true
			break
		}
		c.path = append(c.path, f.block)
	}
	if len(line) >= 2 && line[0].Type == hclsyntax.TokenIdent && line[1].Type == hclsyntax.TokenEqual {
		c.attr = string(line[0].Bytes)
		c.inExpr = true
	}
	for _, t := range line {
		if t.Type == hclsyntax.TokenEqual || t.Type == hclsyntax.TokenColon {
			c.inExpr = true
		}
	}
	return c
}

// blockHeader reports whether the tokens of a line before "{" are a
// block's type and labels, and returns the type.
func blockHeader(line hclsyntax.Tokens) (string, bool) {
	if len(line) == 0 || line[0].Type != hclsyntax.TokenIdent {
		return "", false
	}
	for _, t := range line[1:] {
		switch t.Type {
		case hclsyntax.TokenIdent, hclsyntax.TokenOQuote, hclsyntax.TokenCQuote, hclsyntax.TokenQuotedLit:
		default:
			return "", false
		}
	}
	return string(line[0].Bytes), true
}

// wordAt is the identifier with dots and index brackets ("group.eng",
// "module.team.channel") around off, and where it starts.
func wordAt(src []byte, off int) (string, int) {
	if off > len(src) {
		off = len(src)
	}
	isWord := func(b byte) bool {
		return b == '_' || b == '-' || b == '.' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
	}
	start, end := off, off
	for start > 0 && isWord(src[start-1]) {
		start--
	}
	for end < len(src) && isWord(src[end]) {
		end++
	}
	return strings.Trim(string(src[start:end]), "."), start
}

// traversalBefore matches the reference being typed before the cursor:
// its parts before the last dot, and what follows that dot.
var traversalBefore = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])*)\.([A-Za-z0-9_-]*)$`)

// referenceParts splits "module.team[\"x\"].channel" into its names,
// dropping index keys.
func referenceParts(ref string) []string {
	var parts []string
	for _, p := range strings.Split(ref, ".") {
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}
