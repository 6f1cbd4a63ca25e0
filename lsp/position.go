package lsp

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/protocol"
)

// The protocol counts a position's character in UTF-16 code units, HCL in
// bytes (Pos.Byte) and characters; positions are converted through the
// byte offset, which needs the source.

// lineStart is the byte offset at which the line holding offset starts.
func lineStart(src []byte, offset int) int {
	if offset > len(src) {
		offset = len(src)
	}
	return bytes.LastIndexByte(src[:offset], '\n') + 1
}

// position is the protocol position of a byte offset in src.
func position(src []byte, offset int) protocol.Position {
	if offset > len(src) {
		offset = len(src)
	}
	if offset < 0 {
		offset = 0
	}
	line := bytes.Count(src[:offset], []byte{'\n'})
	start := lineStart(src, offset)
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(src[start:offset]))}
}

// utf16Len is the length of b in UTF-16 code units.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n += utf16.RuneLen(r) // an invalid byte decodes as U+FFFD: one unit
	}
	return n
}

// offset is the byte offset of a protocol position in src; a position
// past the end of its line is the line's end, past the last line the end
// of src.
func offset(src []byte, pos protocol.Position) int {
	off := 0
	for line := uint32(0); line < pos.Line; line++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	units := int(pos.Character)
	for off < len(src) && src[off] != '\n' && units > 0 {
		r, size := utf8.DecodeRune(src[off:])
		units -= utf16.RuneLen(r)
		off += size
	}
	return off
}

// protocolRange is an HCL range in src as a protocol range.
func protocolRange(src []byte, r hcl.Range) protocol.Range {
	return protocol.Range{Start: position(src, r.Start.Byte), End: position(src, r.End.Byte)}
}

// endPosition is the position after the last character of src.
func endPosition(src []byte) protocol.Position { return position(src, len(src)) }
