package command

import (
	"fmt"
	"os"
	"path/filepath"
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
	seen := map[string]bool{}
	for _, page := range docPages(t) {
		path := filepath.Join("..", filepath.FromSlash(page))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		doc := string(data)
		var b strings.Builder
		rest := doc
		for {
			loc := attributesMarker.FindStringSubmatchIndex(rest)
			if loc == nil {
				b.WriteString(rest)
				break
			}
			key := rest[loc[2]:loc[3]]
			bd := spec.BlockDocs[key]
			require.NotNil(t, bd, "%s: <!-- attributes:%s --> names no block of spec.BlockDocs", page, key)
			seen[key] = true
			b.WriteString(rest[:loc[1]])
			end := strings.Index(rest[loc[1]:], "<!-- /attributes -->")
			require.GreaterOrEqual(t, end, 0, "%s: <!-- attributes:%s --> is not closed by <!-- /attributes -->", page, key)
			got := rest[loc[1] : loc[1]+end]
			want := attributeTable(key, bd)
			if got != want && !*update {
				t.Errorf("%s: the attribute table of %s differs from spec.BlockDocs (go test ./command -run Docs -update rewrites it):\npage:\n%s\nspec:\n%s", page, key, got, want)
			}
			b.WriteString(want)
			rest = rest[loc[1]+end:]
		}
		if *update && b.String() != doc {
			require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		}
	}
	for key, bd := range spec.BlockDocs {
		if len(bd.Attributes) == 0 || strings.HasSuffix(key, ".media") && seen["message.media"] {
			continue
		}
		require.True(t, seen[key], "no page has the attribute table of %s: add <!-- attributes:%s --><!-- /attributes --> to its page and run go test ./command -run Docs -update", key, key)
	}
}
