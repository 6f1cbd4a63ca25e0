package spec

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The bounds on what herald parses. HCL's parser and evaluator recurse
// once per level of nesting, and a file written to go deep enough (a
// pull request with 100,000 parentheses) runs them out of stack, which
// kills the process rather than failing one configuration. Every source
// herald parses is checked against these before it is parsed.
const (
	// MaxFileSize is the largest configuration, variables or template
	// file herald reads, in bytes.
	MaxFileSize = 4 << 20
	// MaxNesting is the deepest an expression or block may go: brackets,
	// braces, parentheses, strings, template interpolations and
	// directives, plus the operators of one expression, each count one.
	MaxNesting = 256
)

// readSourceFile reads a file herald parses, refusing one larger than
// MaxFileSize. what names the kind of file in the diagnostic. A file in
// overlay (by absolute path) is read from there, not from disk.
func readSourceFile(name, what string, overlay map[string][]byte) ([]byte, *hcl.Diagnostic) {
	if src, ok := overlay[absPath(name)]; ok {
		if len(src) > MaxFileSize {
			return nil, tooLarge(name, what)
		}
		return src, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("Cannot read %s: %s.", filepath.Base(name), pathErrReason(err)),
		}
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("Cannot read %s: %s.", filepath.Base(name), pathErrReason(err)),
		}
	}
	if len(src) > MaxFileSize {
		return nil, tooLarge(name, what)
	}
	return src, nil
}

func tooLarge(name, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  what + " too large",
		Detail:   fmt.Sprintf("%s is larger than %d MiB, the most herald reads as one file. Split it into several files.", filepath.Base(name), MaxFileSize>>20),
		Subject:  &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// nestingLevel is one open bracket, string or interpolation.
type nestingLevel struct {
	open hclsyntax.TokenType
	// ops counts the operators of the expression being read at this
	// level: a chain of them nests as deep as brackets do.
	ops int
	// multiLine: a newline does not end the expression at this level
	// (inside parentheses, brackets, interpolations and for expressions).
	multiLine bool
}

// checkNesting refuses tokens that nest deeper than MaxNesting, with a
// diagnostic on the token where the limit is crossed. It reads the tokens
// of HCL's own scanner, which does not recurse, so that it sees strings,
// heredocs and comments exactly as the parser will; what it counts is
// never less than how deep the parser goes.
func checkNesting(tokens hclsyntax.Tokens) hcl.Diagnostics {
	_, at := tokenNestingUntil(tokens, MaxNesting)
	if at == nil {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Nesting too deep",
		Detail: fmt.Sprintf("This goes more than %d levels deep: herald counts each bracket, brace, parenthesis, string, template interpolation and directive, and each operator of one expression, and stops reading here, before parsing, rather than run out of stack. Split the expression, for example into local values.",
			MaxNesting),
		Subject: at.Range.Ptr(),
	}}
}

// tokenNesting is the deepest the tokens go, as checkNesting counts.
func tokenNesting(tokens hclsyntax.Tokens) int {
	d, _ := tokenNestingUntil(tokens, math.MaxInt)
	return d
}

// tokenNestingUntil counts how deep the tokens go, stopping at the first
// token that takes the depth over limit.
func tokenNestingUntil(tokens hclsyntax.Tokens, limit int) (maxDepth int, at *hclsyntax.Token) {
	stack := []nestingLevel{{multiLine: false}}
	depth := 0      // len(stack)-1 plus every level's ops plus directives
	directives := 0 // open %{ if } and %{ for } directives
	for i, tok := range tokens {
		top := &stack[len(stack)-1]
		switch tok.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			lv := nestingLevel{open: tok.Type, multiLine: tok.Type != hclsyntax.TokenOBrace}
			next := nextMeaningful(tokens, i+1)
			if tok.Type == hclsyntax.TokenOBrace && next != nil && next.Type == hclsyntax.TokenIdent && string(next.Bytes) == "for" {
				// An object for expression ignores newlines.
				lv.multiLine = true
			}
			if tok.Type == hclsyntax.TokenTemplateControl && next != nil && next.Type == hclsyntax.TokenIdent {
				switch string(next.Bytes) {
				case "if", "for":
					directives++
					depth++
				case "endif", "endfor":
					if directives > 0 {
						directives--
						depth--
					}
				}
			}
			stack = append(stack, lv)
			depth++
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			// A closer that does not match is a syntax error the parser
			// reports; the level stays counted, which only overestimates.
			if len(stack) > 1 && closes(top.open, tok.Type) {
				depth -= 1 + top.ops
				stack = stack[:len(stack)-1]
			}
			continue
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			// A # or // comment takes the newline that ends it, and the
			// parser reads it as that newline.
			isNewline := tok.Type == hclsyntax.TokenNewline || bytes.HasSuffix(tok.Bytes, []byte("\n"))
			if isNewline && !top.multiLine {
				depth -= top.ops
				top.ops = 0
			}
			continue
		case hclsyntax.TokenComma:
			depth -= top.ops
			top.ops = 0
			continue
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenBang, hclsyntax.TokenQuestion:
			top.ops++
			depth++
		default:
			continue
		}
		maxDepth = max(maxDepth, depth)
		if depth > limit {
			return maxDepth, &tokens[i]
		}
	}
	return maxDepth, nil
}

// nextMeaningful is the first token from i on that is not a newline or a
// comment, or nil.
func nextMeaningful(tokens hclsyntax.Tokens, i int) *hclsyntax.Token {
	for ; i < len(tokens); i++ {
		switch tokens[i].Type {
		case hclsyntax.TokenNewline, hclsyntax.TokenComment, hclsyntax.TokenBitwiseNot:
			// ~ is a directive's whitespace strip marker: %{~ if }.
			continue
		}
		return &tokens[i]
	}
	return nil
}

func closes(open, close hclsyntax.TokenType) bool {
	switch open {
	case hclsyntax.TokenOParen:
		return close == hclsyntax.TokenCParen
	case hclsyntax.TokenOBrack:
		return close == hclsyntax.TokenCBrack
	case hclsyntax.TokenOBrace:
		return close == hclsyntax.TokenCBrace
	case hclsyntax.TokenOQuote:
		return close == hclsyntax.TokenCQuote
	case hclsyntax.TokenOHeredoc:
		return close == hclsyntax.TokenCHeredoc
	case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
		return close == hclsyntax.TokenTemplateSeqEnd
	}
	return false
}

// checkConfigNesting, checkExpressionNesting and checkTemplateNesting
// check a source before it is parsed as a configuration file, an
// expression or a template.
func checkConfigNesting(src []byte, filename string) hcl.Diagnostics {
	if depth, ok := quickNesting(src); ok && depth <= MaxNesting {
		return nil
	}
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	return checkNesting(tokens)
}

// quickLevel is an open bracket or string of quickNesting.
type quickLevel struct {
	open      byte // ( [ { " or $ for an interpolation
	ops       int
	multiLine bool
}

// quickNesting bounds from above how deep a configuration file nests, as
// checkNesting counts it, without lexing it: HCL's scanner allocates a
// token per word, which costs more than half of what parsing does, and
// nearly every file is shallow. It reads the common part of the language
// exactly as HCL's scanner does (code, # and // comments, quoted strings
// with escapes and interpolations); on anything else (heredocs, block
// comments, directives, $$ and %% escapes, ~ strip markers, a newline in
// a string, a closer that does not match) it gives up with ok false, and
// the tokens are counted. It counts every operator character, assignment
// included, so what it returns is never less than checkNesting's depth.
func quickNesting(src []byte) (maxDepth int, ok bool) {
	q := &quickScan{stack: []quickLevel{{}}}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c >= utf8.RuneSelf {
			// HCL's scanner reads broken UTF-8 its own way; a valid
			// character is a letter or string text, nothing more.
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false
			}
			i += size - 1
			continue
		}
		if q.stack[len(q.stack)-1].open == '"' {
			i, ok = q.stringByte(src, i)
		} else {
			i, ok = q.codeByte(src, i)
		}
		if !ok {
			return 0, false
		}
	}
	return q.maxDepth, true
}

// quickScan is the state of quickNesting: the open brackets and strings,
// the depth now and the deepest so far.
type quickScan struct {
	stack           []quickLevel
	depth, maxDepth int
}

func (q *quickScan) push(open byte, multiLine bool) {
	q.stack = append(q.stack, quickLevel{open: open, multiLine: multiLine})
	q.depth++
	q.maxDepth = max(q.maxDepth, q.depth)
}

func (q *quickScan) pop() {
	q.depth -= 1 + q.stack[len(q.stack)-1].ops
	q.stack = q.stack[:len(q.stack)-1]
}

func (q *quickScan) resetOps() {
	top := &q.stack[len(q.stack)-1]
	q.depth -= top.ops
	top.ops = 0
}

// stringByte reads the byte at i inside a quoted string. It returns the
// index of the last byte it read, and false where quickNesting gives up.
func (q *quickScan) stringByte(src []byte, i int) (int, bool) {
	c := src[i]
	switch c {
	case '"':
		q.pop()
	case '\\':
		if i+1 >= len(src) || src[i+1] == '\n' || src[i+1] == '\r' {
			return i, false
		}
		i++
	case '\n', '\r':
		return i, false
	case '$', '%':
		if i+1 < len(src) && src[i+1] == c {
			return i, false
		}
		if i+1 < len(src) && src[i+1] == '{' {
			if c == '%' {
				return i, false
			}
			i++
			q.push('$', true)
		}
	}
	return i, true
}

// codeByte reads the byte at i outside strings. It returns the index of
// the last byte it read, and false where quickNesting gives up.
func (q *quickScan) codeByte(src []byte, i int) (int, bool) {
	c := src[i]
	top := &q.stack[len(q.stack)-1]
	switch c {
	case '#':
		for i+1 < len(src) && src[i+1] != '\n' {
			i++
		}
	case '/':
		if i+1 < len(src) && src[i+1] == '*' {
			return i, false
		}
		if i+1 < len(src) && src[i+1] == '/' {
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
			return i, true
		}
		top.ops++
		q.depth++
	case '<':
		if i+1 < len(src) && src[i+1] == '<' {
			return i, false
		}
		top.ops++
		q.depth++
	case '~', '\\':
		return i, false
	case '"':
		q.push('"', false)
	case '(', '[':
		q.push(c, true)
	case '{':
		q.push('{', startsForExpr(src[i+1:]))
	case ')', ']', '}':
		want := byte('{')
		switch c {
		case ')':
			want = '('
		case ']':
			want = '['
		}
		if top.open == want || (c == '}' && top.open == '$') {
			q.pop()
			return i, true
		}
		return i, false
	case '\n':
		if !top.multiLine {
			q.resetOps()
		}
		return i, true
	case ',':
		q.resetOps()
		return i, true
	case '+', '-', '*', '%', '!', '?', '>', '=', '&', '|':
		top.ops++
		q.depth++
	default:
		return i, true
	}
	q.maxDepth = max(q.maxDepth, q.depth)
	return i, true
}

// startsForExpr reports whether the text after a { may begin a for
// expression, which ignores newlines: "for" after spaces and newlines.
// Anything unusual before it (a comment) also counts as one, which only
// makes quickNesting count more.
func startsForExpr(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	if len(rest) > 0 && (rest[0] == '#' || rest[0] == '/') {
		return true
	}
	return bytes.HasPrefix(rest, []byte("for"))
}

func checkExpressionNesting(src []byte, filename string) hcl.Diagnostics {
	tokens, _ := hclsyntax.LexExpression(src, filename, hcl.InitialPos)
	return checkNesting(tokens)
}

func checkTemplateNesting(src []byte, filename string) hcl.Diagnostics {
	tokens, _ := hclsyntax.LexTemplate(src, filename, hcl.InitialPos)
	return checkNesting(tokens)
}

// CheckConfigSource checks a configuration file's source against
// MaxFileSize and MaxNesting before it is parsed, for commands that parse
// files themselves (fmt).
func CheckConfigSource(src []byte, filename string) hcl.Diagnostics {
	if len(src) > MaxFileSize {
		return hcl.Diagnostics{tooLarge(filename, "Configuration file")}
	}
	return checkConfigNesting(src, filename)
}

// sourceForSnippet is the file to show a nesting diagnostic's snippet
// from: the source, unless the line is so long that printing it would
// drown the message (a generated line of 100,000 parentheses).
func sourceForSnippet(src []byte, filename string, diags hcl.Diagnostics) *hcl.File {
	const longestLine = 1000
	for _, d := range diags {
		if d.Subject == nil {
			continue
		}
		start := min(max(d.Subject.Start.Byte, 0), len(src))
		end := start
		for start > 0 && src[start-1] != '\n' {
			start--
		}
		for end < len(src) && src[end] != '\n' {
			end++
		}
		if end-start > longestLine {
			return nil
		}
	}
	return &hcl.File{Bytes: src, Body: hcl.EmptyBody()}
}
