package lsp

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"
)

// TestPositions checks the conversion between byte offsets and the
// protocol's UTF-16 positions, both ways.
func TestPositions(t *testing.T) {
	src := []byte("a = \"é😀x\"\nb = 1\n")
	x := strings.Index(string(src), "x")
	// é is one UTF-16 unit, 😀 two: x is at character 4+1+1+2 = 8.
	assert.Equal(t, protocol.Position{Line: 0, Character: 8}, position(src, x))
	assert.Equal(t, x, offset(src, protocol.Position{Line: 0, Character: 8}))
	b := strings.Index(string(src), "b")
	assert.Equal(t, protocol.Position{Line: 1, Character: 0}, position(src, b))
	assert.Equal(t, b, offset(src, protocol.Position{Line: 1, Character: 0}))
	// Past the end of a line: the line's end; past the last line: the end.
	assert.Equal(t, b-1, offset(src, protocol.Position{Line: 0, Character: 99}))
	assert.Equal(t, len(src), offset(src, protocol.Position{Line: 9, Character: 0}))
	assert.Equal(t, protocol.Position{Line: 2, Character: 0}, endPosition(src))

	r := hcl.Range{Start: hcl.Pos{Line: 2, Column: 5, Byte: b + 4}, End: hcl.Pos{Line: 2, Column: 6, Byte: b + 5}}
	assert.Equal(t, protocol.Range{Start: protocol.Position{Line: 1, Character: 4}, End: protocol.Position{Line: 1, Character: 5}}, rangeIn(src, r))
	// Without the source, by line and column.
	assert.Equal(t, protocol.Range{Start: protocol.Position{Line: 1, Character: 4}, End: protocol.Position{Line: 1, Character: 5}}, rangeIn(nil, r))
}

func TestURIs(t *testing.T) {
	p, err := pathOf(uriOf("/tmp/a dir/main.hcl"))
	require.NoError(t, err)
	assert.Equal(t, "/tmp/a dir/main.hcl", p)
	assert.Equal(t, protocol.DocumentURI("file:///tmp/a%20dir/main.hcl"), uriOf("/tmp/a dir/main.hcl"))
	_, err = pathOf("untitled:Untitled-1")
	assert.ErrorContains(t, err, "file: URIs only")
}

// TestScan checks what the token scan tells of a cursor, marked | in
// each case's source.
func TestScan(t *testing.T) {
	for _, tc := range []struct {
		src    string
		path   []string
		inExpr bool
		attr   string
	}{
		{"|", nil, false, ""},
		{"mes|", nil, false, ""},
		{"message \"x\" {\n  |\n}", []string{"message"}, false, ""},
		{"message \"x\" {\n  gr|\n}", []string{"message"}, false, ""},
		{"message \"x\" {\n  group = |\n}", []string{"message"}, true, "group"},
		{"message \"x\" {\n  group = group.|\n}", []string{"message"}, true, "group"},
		{"message \"x\" {\n  repeat {\n    |\n  }\n}", []string{"message", "repeat"}, false, ""},
		{"message \"x\" {\n  repeat {\n    occurrence \"2027-03-01 09:00\" {\n      |", []string{"message", "repeat", "occurrence"}, false, ""},
		{"message \"x\" {\n  repeat {\n  }\n  |\n}", []string{"message"}, false, ""},
		{"message \"x\" {\n  text = \"${var.|}\"\n}", []string{"message"}, true, "text"},
		{"locals {\n  m = {\n    a = 1\n    |\n  }\n}", []string{"locals"}, true, "m"},
		{"message \"x\" {\n  text = join(\",\", [\n    |", []string{"message"}, true, "text"},
		{"message \"x\" {\n  text = \"a\"\n}\n|", nil, false, ""},
		{"check \"c\" {\n  assert {\n    condition = |", []string{"check", "assert"}, true, "condition"},
		{"# groups\nmessage \"x\" { # the launch\n  // text next\n  |", []string{"message"}, false, ""},
		{"/* a */ message \"x\" {\n  media {\n    |", []string{"message", "media"}, false, ""},
	} {
		off := strings.Index(tc.src, "|")
		src := []byte(strings.Replace(tc.src, "|", "", 1))
		c := scan(src, off)
		assert.Equal(t, tc.path, c.path, "%q: path", tc.src)
		assert.Equal(t, tc.inExpr, c.inExpr, "%q: inExpr", tc.src)
		assert.Equal(t, tc.attr, c.attr, "%q: attr", tc.src)
	}
}

func TestWordAt(t *testing.T) {
	src := []byte(`group = group.eng["x"].name`)
	w, start := wordAt(src, 10)
	assert.Equal(t, "group.eng", w)
	assert.Equal(t, 8, start)
	assert.Equal(t, []string{"module", "team", "channel"}, referenceParts(`module.team["a"].channel`))
}
