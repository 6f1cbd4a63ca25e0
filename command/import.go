package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "import",
		Synopsis: "Record a message that was already sent, without sending it",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseImportFlags(env, args)
			if err != nil {
				return err
			}
			return runImport(ctx, env, opts)
		},
	})
}

type importOptions struct {
	planFlags
	Force bool
	ID    string
	Addr  addrs.Message
}

func parseImportFlags(env *Env, args []string) (importOptions, error) {
	var opts importOptions
	fs := newFlagSet("import", env)
	setUsage(fs, "[options] ADDR", `
Record the message ADDR (message.NAME or message.NAME["KEY"]) as already
sent, without sending it: for messages that went out by hand or by an
earlier script before herald took over. Import takes the state lock, reads
the thread's recent messages (the last five, through the A1Base look-up;
credentials as for apply) and records the message that has the same
content from the group's sending number, dated no earlier than 2 minutes
before its send_at (and, for an occurrence of a repeat message, after the
occurrence before it), its id and time as the record's answer. Where none
matches, it says so and records nothing, unless -force is given: the
record then reads "sent, imported without evidence".

An address already in state is an error: "herald state show ADDR" shows
what is recorded. An import block in the configuration does the same at
apply, and "herald plan -generate-imports" writes those blocks.

Exit codes: 0 imported, 1 not imported or any error.`)
	fs.StringVar(&opts.At, "at", "", "Load repeat messages around the clock `RFC3339`, to import one of their occurrences. Default: now.")
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	fs.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "How long to wait for the state lock, as a `DURATION` (e.g. 30s).")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.BoolVar(&opts.Force, "force", false, "Record the message as sent even when its thread shows no matching message.")
	fs.StringVar(&opts.ID, "id", "", "Match only the thread message with the A1Base `ID`.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() != 1 {
		return opts, usageError(fs, env, "import takes one address, such as message.launch or message.report[\"eng\"]; got %d arguments", fs.NArg())
	}
	a, err := addrs.ParseMessage(fs.Arg(0))
	if err != nil {
		return opts, usageError(fs, env, "%v", err)
	}
	opts.Addr = a
	return opts, nil
}

func runImport(ctx context.Context, env *Env, opts importOptions) error {
	v := newView(env, opts.NoColor)
	in, err := loadPlanInputs(env, v, &opts.planFlags, nil)
	if err != nil {
		return err
	}
	if err := importable(in, opts.Addr); err != nil {
		return err
	}
	var matched []*planner.Change
	for _, inst := range in.Config.Instances {
		if inst != nil && inst.Addr.Equal(opts.Addr) {
			matched = append(matched, &planner.Change{Addr: inst.Addr, Instance: inst})
		}
	}
	set, err := accounts.Connect(accountsEnv(env), in.Config, accounts.Needed(matched))
	if err != nil {
		return err
	}
	backend, err := openBackend(env, in.Config, opts.StatePath)
	if err != nil {
		return err
	}
	backend.SetOperation("herald import")
	if err := backend.Lock(ctx, opts.LockTimeout); err != nil {
		backend.Close()
		return err
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	res, err := importOne(ctx, in, backend, set, opts, now)
	perr := backend.Persist(context.WithoutCancel(ctx))
	uerr := backend.Unlock()
	cerr := backend.Close()
	if err != nil {
		return err
	}
	if serr := errors.Join(perr, uerr, cerr); serr != nil {
		return fmt.Errorf("saving state %s: %w", backend.Describe(), serr)
	}
	views.NewApply(views.ApplyLinesFormat, v, now).Imported(res)
	if !res.Recorded {
		return ErrReported
	}
	return nil
}

// importable checks that addr names one configured message instance.
func importable(in *planInputs, addr addrs.Message) error {
	for _, inst := range in.Config.Instances {
		if inst.Addr.Equal(addr) {
			return nil
		}
	}
	hint := ""
	for _, inst := range in.Config.Instances {
		if inst.Addr.Block().Equal(addr.Block()) {
			hint = fmt.Sprintf("; %s has instances such as %s", addr.Block(), inst.Addr)
			break
		}
	}
	if _, ok := in.Config.Repeats[spec.RepeatKey(addr)]; ok && hint == "" {
		hint = "; an occurrence of a repeat message is only known near its time: give -at=TIME"
	}
	return fmt.Errorf("%s matches no message in the configuration%s", addr, hint)
}

// importOne imports addr under the lock: refused when state already has a
// record for it (under its address or through a moved block).
func importOne(ctx context.Context, in *planInputs, backend state.Backend, set accounts.Set, opts importOptions, now func() time.Time) (executor.ImportResult, error) {
	snap, err := backend.Snapshot(ctx)
	if err != nil {
		return executor.ImportResult{}, fmt.Errorf("reading state %s: %w", backend.Describe(), err)
	}
	plan := planner.New(in.Config, snap, in.At, planner.Options{Targets: []addrs.Message{opts.Addr}})
	var change *planner.Change
	for _, c := range plan.Changes {
		if c.Addr.Equal(opts.Addr) && c.Instance != nil {
			change = c
		}
	}
	if change == nil {
		return executor.ImportResult{}, fmt.Errorf("%s matches no message in the configuration", opts.Addr)
	}
	if change.Record != nil {
		where := ""
		if change.MovedFrom != nil {
			where = " (under " + change.MovedFrom.String() + ", moved)"
		}
		return executor.ImportResult{}, fmt.Errorf("%s is already in state%s as %s; herald state show %s shows its record, and an import is only for what state does not know", opts.Addr, where, change.Record.Status, opts.Addr)
	}
	one := *change
	one.Action, one.ImportID = planner.Import, opts.ID
	results, err := executor.Import(ctx, &planner.Plan{At: plan.At, Changes: []*planner.Change{&one}}, set.Default, backend, snap, executor.ImportOptions{Force: opts.Force, Now: now, Accounts: set.Aliased})
	if err != nil {
		return executor.ImportResult{}, err
	}
	return results[0], nil
}
