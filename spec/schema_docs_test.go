package spec

import (
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
)

// schemaOf is the decoding schema behind each documented block; module
// and locals are decoded with JustAttributes and have none.
var schemaOf = map[string]*hcl.BodySchema{
	"provider":                        providerSchema,
	"backend":                         backendSchema,
	"variable":                        variableSchema,
	"variable.validation":             validationSchema,
	"group":                           groupSchema,
	"message":                         messageSchema,
	"message.media":                   mediaSchema,
	"message.repeat":                  repeatSchema,
	"message.repeat.occurrence":       occurrenceSchema,
	"message.repeat.occurrence.media": mediaSchema,
	"message.precondition":            preconditionSchema,
	"output":                          outputSchema,
	"moved":                           movedSchema,
	"import":                          importSchema,
	"check":                           checkSchema,
	"check.assert":                    conditionSchema,
	"notify":                          notifySchema,
	"notify.webhook":                  webhookSchema,
	"notify.slack":                    slackSchema,
}

// TestBlockDocsMatchSchemas checks that every attribute and nested block
// the decoders accept has its documentation, and that nothing documented
// is unknown to them.
func TestBlockDocsMatchSchemas(t *testing.T) {
	var top []string
	for _, b := range fileSchema.Blocks {
		top = append(top, b.Type)
		doc := BlockDocs[b.Type]
		require.NotNil(t, doc, "top-level block %s has no entry in BlockDocs", b.Type)
		require.Equal(t, b.LabelNames, doc.Labels, "labels of %s", b.Type)
	}
	require.ElementsMatch(t, top, TopLevelBlocks)

	for key, schema := range schemaOf {
		doc := BlockDocs[key]
		require.NotNil(t, doc, "block %s has no entry in BlockDocs", key)
		var want, got []string
		for _, a := range schema.Attributes {
			want = append(want, a.Name)
			ad := doc.Attribute(a.Name)
			if ad == nil {
				t.Errorf("%s: attribute %s has no doc entry in BlockDocs", key, a.Name)
				continue
			}
			require.Equal(t, a.Required, ad.Required, "%s.%s: Required", key, a.Name)
		}
		for _, a := range doc.Attributes {
			got = append(got, a.Name)
			require.NotEmpty(t, a.Type, "%s.%s has no type", key, a.Name)
			require.NotEmpty(t, a.Doc, "%s.%s has no doc", key, a.Name)
			require.NotContains(t, a.Doc, "\n", "%s.%s: the doc is one line", key, a.Name)
		}
		sort.Strings(want)
		sort.Strings(got)
		require.Equal(t, want, got, "%s: documented attributes against the schema's", key)

		var blocks []string
		for _, b := range schema.Blocks {
			blocks = append(blocks, b.Type)
			nested := BlockDocs[key+"."+b.Type]
			require.NotNil(t, nested, "%s: nested block %s has no entry %s.%s", key, b.Type, key, b.Type)
			require.Equal(t, b.LabelNames, nested.Labels, "labels of %s.%s", key, b.Type)
		}
		require.ElementsMatch(t, blocks, doc.Blocks, "%s: documented nested blocks", key)
	}
	// Every entry is reached from the top level.
	for key, doc := range BlockDocs {
		require.NotEmpty(t, doc.Doc, "%s has no doc", key)
		parts := strings.Split(key, ".")
		require.Equal(t, parts[len(parts)-1], doc.Type, "%s: Type", key)
		if len(parts) > 1 {
			parent := BlockDocs[strings.Join(parts[:len(parts)-1], ".")]
			require.NotNil(t, parent, "%s has no parent entry", key)
			require.Contains(t, parent.Blocks, doc.Type, "%s is not among its parent's blocks", key)
		}
		if _, ok := schemaOf[key]; !ok && key != "module" && key != "locals" {
			t.Errorf("%s has no decoding schema in the test's schemaOf", key)
		}
	}
	require.ElementsMatch(t, []string{"source", "for_each"}, []string{BlockDocs["module"].Attributes[0].Name, BlockDocs["module"].Attributes[1].Name})
}
