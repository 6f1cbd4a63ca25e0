package command

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/spec/genimport"
)

// generateImports looks up the threads of every due or overdue message
// that state does not know (planned to send or to expire) and prints an
// import block for each one found there. It needs credentials: it reads
// the threads.
func generateImports(ctx context.Context, env *Env, v *views.View, run *builtPlan) error {
	view := views.NewGenerateImports(v)
	candidates := run.Plan.Unrecorded()
	if len(candidates) == 0 {
		view.NothingMissing()
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
	var imports []genimport.Import
	for _, r := range results {
		if r.Err != nil {
			view.LookupFailed(r.Change.Addr.String(), r.Err)
			continue
		}
		if r.Found == nil {
			continue
		}
		group := r.Change.Instance.ThreadID
		if r.Change.Instance.Group != nil {
			group = r.Change.Instance.Group.Name
		}
		imports = append(imports, genimport.Import{To: r.Change.Addr, Group: group, ID: r.Found.ID, SentAt: r.Found.DateCreated})
	}
	if err := view.Blocks(genimport.Blocks(imports)); err != nil {
		return err
	}
	view.Found(len(imports), len(candidates))
	return nil
}
