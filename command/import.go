package command

import (
	"context"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/planner"
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
	Force   bool
	Sandbox bool
	ID      string
	Addr    addrs.Message
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
matches, it says so and records nothing. With -force it reads no thread
and needs no credentials: it records the message as "sent, imported
without evidence" at once.

With -sandbox it imports into the state of "herald apply -sandbox"
(`+SandboxStatePath+`, or -state) from an A1Base sandbox inside herald,
whose threads hold what earlier sandbox runs sent (kept in
herald.sandbox.threads.json beside that state); no credentials are needed.

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
	fs.BoolVar(&opts.Force, "force", false, "Record the message as sent without evidence, without reading its thread (no credentials needed).")
	fs.StringVar(&opts.ID, "id", "", "Match only the thread message with the A1Base `ID`.")
	fs.BoolVar(&opts.Sandbox, "sandbox", false, "Import into the state of apply -sandbox, from the threads of an in-process A1Base sandbox.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if opts.Force && opts.ID != "" {
		return opts, usageError(fs, env, "-force records without reading the thread, and -id picks a message in it: give one of them")
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
	if err := operation.CheckImportable(in.Config, opts.Addr); err != nil {
		return err
	}
	var matched []*planner.Change
	for _, inst := range in.Config.Instances {
		if inst != nil && inst.Addr.Equal(opts.Addr) {
			matched = append(matched, &planner.Change{Addr: inst.Addr, Instance: inst})
		}
	}
	now := env.Now
	if now == nil {
		now = clock.Now
	}
	view := views.NewImport(v, now, opts.Sandbox)
	var set accounts.Set
	var backend state.Backend
	switch {
	case opts.Sandbox:
		path := sandboxStatePath(env, opts.StatePath)
		backend = state.OpenLocal(path)
		threads := ""
		if !opts.Force {
			// The look-up reads the sandbox's threads: what earlier
			// sandbox runs sent, kept beside its state.
			sb := accounts.NewSandbox(func(a1base.SendRequest, bool) {}, now)
			defer sb.Close()
			threads = accounts.ThreadsPath(path)
			if err := sb.LoadHistory(threads); err != nil {
				return err
			}
			set = sb.Connect(accountsEnv(env), in.Config)
			threads = displayPath(env, threads)
		}
		view.SandboxImport(displayPath(env, path), threads)
	default:
		if !opts.Force {
			// A forced import reads no thread: it needs no credentials.
			if set, err = accounts.Connect(accountsEnv(env), in.Config, accounts.Needed(matched)); err != nil {
				return err
			}
		}
		if backend, err = openBackend(ctx, env, in.Config.Backend, opts.StatePath); err != nil {
			return err
		}
	}
	out, err := operation.Apply(ctx, operation.Op{
		Inputs: in, Import: &operation.Import{Addr: opts.Addr, ID: opts.ID, Force: opts.Force},
		Client: set.Default, Accounts: set.Aliased, Backend: backend,
		Name: "herald import", LockTimeout: opts.LockTimeout,
		Approver: operation.AutoApprove, Reporter: view, Clock: now,
	})
	if err != nil {
		return passError(env, opts.NoColor, out, err)
	}
	view.Imported(*out.Imported)
	if out.Failed() {
		return ErrReported
	}
	return nil
}
