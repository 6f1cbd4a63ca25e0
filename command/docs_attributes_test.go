package command

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
)

// attributeTable renders a block's documented arguments and nested
// blocks as the docs' markdown table.
func attributeTable(key string, doc *spec.BlockDoc) string {
	var b strings.Builder
	b.WriteString("| argument | type | what |\n|---|---|---|\n")
	for _, a := range doc.Attributes {
		what := a.Doc
		if a.Required {
			what = "**Required.** " + what
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", a.Name, strings.ReplaceAll(a.Type, "|", `\|`), strings.ReplaceAll(what, "|", `\|`))
	}
	for _, nested := range doc.Blocks {
		nd := spec.BlockDocs[key+"."+nested]
		fmt.Fprintf(&b, "| `%s { }` | block | %s |\n", nested, strings.ReplaceAll(nd.Doc, "|", `\|`))
	}
	if doc.AnyAttributes {
		fmt.Fprintf(&b, "| *any other name* | any | %s |\n", strings.ReplaceAll(doc.Doc, "|", `\|`))
	}
	return b.String()
}

var attributesMarker = regexp.MustCompile(`(?m)^<!-- attributes:([a-z.]+) -->\n`)

// TestDocsAttributeTables checks that every attribute table, between
// <!-- attributes:BLOCK --> and <!-- /attributes -->, is what spec.BlockDocs
// documents for BLOCK (the key, such as message.repeat), and that every
// documented block with arguments has its table on some page; go test
// ./command -run Docs -update rewrites them.
func TestDocsAttributeTables(t *testing.T) {
	seen := checkMarkedTables(t, attributesMarker, "<!-- /attributes -->", func(page, key string) string {
		bd := spec.BlockDocs[key]
		require.NotNil(t, bd, "%s: <!-- attributes:%s --> names no block of spec.BlockDocs", page, key)
		return attributeTable(key, bd)
	}, func(page, key, got, want string) string {
		return fmt.Sprintf("%s: the attribute table of %s differs from spec.BlockDocs (go test ./command -run Docs -update rewrites it):\npage:\n%s\nspec:\n%s", page, key, got, want)
	})
	for key, bd := range spec.BlockDocs {
		if len(bd.Attributes) == 0 || strings.HasSuffix(key, ".media") && seen["message.media"] {
			continue
		}
		require.True(t, seen[key], "no page has the attribute table of %s: add <!-- attributes:%s --><!-- /attributes --> to its page and run go test ./command -run Docs -update", key, key)
	}
}
