package genimport

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
)

func TestBlocks(t *testing.T) {
	mod := addrs.RootModule.Child("region", "emea", true)
	got := string(Blocks([]Import{
		{To: addrs.NoKey("launch"), Group: "eng", ID: "msg-1", SentAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CET", 3600))},
		{To: addrs.WithKey("weekly", "2026-12-07T09:00:00+01:00").In(mod), Group: "t-sales"},
	}))
	want := `# Found in the thread of group eng, sent 2026-12-03T09:00:00Z.
import {
  to = message.launch
  id = "msg-1"
}

# Found in the thread of group t-sales, sent at an unknown time.
import {
  to = module.region["emea"].message.weekly["2026-12-07T09:00:00+01:00"]
}
`
	assert.Equal(t, want, got)
	_, diags := hclsyntax.ParseConfig([]byte(got), "imports.hcl", hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
}

func TestBlocksEmpty(t *testing.T) {
	assert.Empty(t, Blocks(nil))
}

// A group name cannot end the comment line and start configuration.
func TestBlocksSanitizesTheComment(t *testing.T) {
	got := string(Blocks([]Import{{To: addrs.NoKey("a"), Group: "eng\nimport {}\x7f"}}))
	assert.Contains(t, got, "# Found in the thread of group eng?import {}?, sent at an unknown time.\n")
	f, diags := hclsyntax.ParseConfig([]byte(got), "imports.hcl", hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Len(t, f.Body.(*hclsyntax.Body).Blocks, 1)
}

// The traversal reads back as the address it was made from.
func TestTraversalRoundTrips(t *testing.T) {
	mod := addrs.RootModule.Child("region", "", false).Child("team", `a "b" ${c}`, true)
	for _, a := range []addrs.Message{
		addrs.NoKey("launch"),
		addrs.WithKey("reminder", "day-1"),
		addrs.NoKey("launch").In(mod),
		addrs.WithKey("weekly", "2026-12-07T09:00:00Z").In(mod),
	} {
		f := Blocks([]Import{{To: a}})
		file, diags := hclsyntax.ParseConfig(f, "imports.hcl", hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		attrs, diags := file.Body.(*hclsyntax.Body).Blocks[0].Body.JustAttributes()
		require.False(t, diags.HasErrors(), diags.Error())
		trav, diags := hcl.AbsTraversalForExpr(attrs["to"].Expr)
		require.False(t, diags.HasErrors(), diags.Error())
		back, err := addrs.FromTraversal(trav, a.String())
		require.NoError(t, err)
		assert.Equal(t, a.String(), back.String())
	}
}
