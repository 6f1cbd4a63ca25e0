package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
)

// generateImports looks up the threads of every due or overdue message
// that state does not know (planned to send or to expire) and prints an
// import block for each one found there, hclwrite-formatted, on stdout;
// what it looked for and found goes to stderr. It needs credentials: it
// reads the threads.
func generateImports(ctx context.Context, env *Env, v *views.View, run *builtPlan) error {
	var candidates []*planner.Change
	for _, c := range run.Plan.Changes {
		if c.Instance != nil && c.Record == nil && (c.Action == planner.Send || c.Action == planner.Expire) {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) == 0 {
		fmt.Fprintln(env.Stderr, "No due or overdue message is missing from state: nothing to import.")
		return nil
	}
	set, err := accounts.Connect(accountsEnv(env), run.Config, accounts.Needed(candidates))
	if err != nil {
		return fmt.Errorf("-generate-imports reads the groups' threads: %w", err)
	}
	results, err := executor.Evidence(ctx, candidates, set.Default, set.Aliased, run.Snap)
	if err != nil {
		return err
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	found := 0
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(env.Stderr, "%s: %s\n", r.Change.Addr, r.Err)
			continue
		}
		if r.Found == nil {
			continue
		}
		if found > 0 {
			body.AppendNewline()
		}
		found++
		when := "at an unknown time"
		if !r.Found.DateCreated.IsZero() {
			when = r.Found.DateCreated.UTC().Format(time.RFC3339)
		}
		body.AppendUnstructuredTokens(hclwrite.Tokens{{
			Type:  hclsyntax.TokenComment,
			Bytes: []byte(fmt.Sprintf("# Found in the thread of group %s, sent %s.\n", sanitizeComment(groupOf(r.Change)), when)),
		}})
		b := body.AppendNewBlock("import", nil).Body()
		b.SetAttributeTraversal("to", addressTraversal(r.Change.Addr))
		if r.Found.ID != "" {
			b.SetAttributeValue("id", cty.StringVal(r.Found.ID))
		}
	}
	if _, err := io.Copy(env.Stdout, bytes.NewReader(hclwrite.Format(f.Bytes()))); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Found %d of %d due or overdue messages missing from state in their threads' recent messages.\n", found, len(candidates))
	return nil
}

func groupOf(c *planner.Change) string {
	if c.Instance.Group == nil {
		return c.Instance.ThreadID
	}
	return c.Instance.Group.Name
}

// sanitizeComment keeps a name from ending the comment line.
func sanitizeComment(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}

// addressTraversal is the address as HCL writes it: message.NAME or
// message.NAME["KEY"], after its module path if any.
func addressTraversal(a addrs.Message) hcl.Traversal {
	t := a.Module.Traversal()
	if len(t) == 0 {
		t = hcl.Traversal{hcl.TraverseRoot{Name: "message"}}
	} else {
		t = append(t, hcl.TraverseAttr{Name: "message"})
	}
	t = append(t, hcl.TraverseAttr{Name: a.Name})
	if a.HasKey {
		t = append(t, hcl.TraverseIndex{Key: cty.StringVal(a.Key)})
	}
	return t
}
