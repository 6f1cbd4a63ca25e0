package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "state",
		Synopsis: "Inspect, edit and move the state: state list, show, rm, pull, push",
		Run:      runStateCommand,
	})
}

const stateUsage = `Usage: herald state <subcommand> [options] [args]

  list [ADDR...]   List the recorded messages, optionally those ADDR selects
  show ADDR        Show one recorded message in detail
  rm ADDR...       Remove recorded messages (takes the state lock)
  pull             Write the state to stdout in the local state file format
  push [-force] FILE
                   Replace the state with FILE (takes the state lock)

Each uses the state the configuration's backend block names (PostgreSQL),
or else the local state file: -state=PATH, default ` + state.DefaultPath + `.
With -sandbox, each uses the state "herald apply -sandbox" writes instead:
` + SandboxStatePath + `, or -state=PATH.
`

func runStateCommand(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		newView(env, false).Usage(stateUsage)
		return ErrReported
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		newView(env, false).Help(stateUsage)
		return nil
	case "list":
		return runStateList(ctx, env, args[1:])
	case "show":
		return runStateShow(ctx, env, args[1:])
	case "rm":
		return runStateRm(ctx, env, args[1:])
	case "pull":
		return runStatePull(ctx, env, args[1:])
	case "push":
		return runStatePush(ctx, env, args[1:])
	}
	newView(env, false).UsageError(fmt.Errorf("unknown state subcommand %q", args[0]), stateUsage)
	return ErrReported
}

type stateOptions struct {
	StatePath   string
	Sandbox     bool
	LockTimeout time.Duration
	NoColor     bool
	Vars        []spec.VarArg
	// AllowFileOutsideRoot is -allow-file-outside-root.
	AllowFileOutsideRoot bool
	Addrs                []addrs.Message
}

// parseStateFlags parses a state subcommand's flags and its address
// arguments, which must be message addresses (except for pull and push).
func parseStateFlags(env *Env, name, argsUsage, help string, args []string, withLock bool) (stateOptions, *flag.FlagSet, error) {
	return parseStateFlagsWith(env, name, argsUsage, help, args, withLock, nil)
}

// parseStateFlagsWith is parseStateFlags with more flags, which extra
// registers.
func parseStateFlagsWith(env *Env, name, argsUsage, help string, args []string, withLock bool, extra func(*flag.FlagSet)) (stateOptions, *flag.FlagSet, error) {
	var opts stateOptions
	fs := newFlagSet("state "+name, env)
	if extra != nil {
		extra(fs)
	}
	setUsage(fs, argsUsage, help)
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	fs.BoolVar(&opts.Sandbox, "sandbox", false, "Use the state of apply -sandbox: "+SandboxStatePath+" in the working directory, or -state.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	addVarFlags(fs, &opts.Vars)
	addFileFlag(fs, &opts.AllowFileOutsideRoot)
	if withLock {
		fs.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "How long to wait for the state lock, as a `DURATION` (e.g. 30s).")
	}
	if err := parseFlags(fs, env, args); err != nil {
		return opts, fs, err
	}
	if name == "pull" || name == "push" {
		return opts, fs, nil
	}
	for _, a := range fs.Args() {
		m, err := addrs.ParseSelection(a)
		if err != nil {
			return opts, fs, usageError(fs, env, "%v", err)
		}
		opts.Addrs = append(opts.Addrs, m)
	}
	return opts, fs, nil
}

// openState opens the state the configuration's backend block names, or
// the local file.
func openState(ctx context.Context, env *Env, opts stateOptions) (state.Backend, error) {
	if opts.Sandbox {
		// apply -sandbox keeps its records in a local file whatever the
		// backend block says, so that block is not read.
		return state.OpenLocal(sandboxStatePath(env, opts.StatePath)), nil
	}
	return openStateOnly(ctx, env, newView(env, opts.NoColor), opts.StatePath, opts.Vars, opts.AllowFileOutsideRoot)
}

// readSnapshot reads the state without the lock.
func readSnapshot(ctx context.Context, env *Env, opts stateOptions) (*state.Snapshot, error) {
	b, err := openState(ctx, env, opts)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", describeState(env, b), err)
	}
	return snap, nil
}

// lockState opens the state and takes its lock for op; the caller closes
// it, which releases the lock.
func lockState(ctx context.Context, env *Env, opts stateOptions, op string) (state.Backend, error) {
	b, err := openState(ctx, env, opts)
	if err != nil {
		return nil, err
	}
	b.SetOperation(op)
	if err := b.Lock(ctx, opts.LockTimeout); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func runStateList(ctx context.Context, env *Env, args []string) error {
	opts, _, err := parseStateFlags(env, "list", "[options] [ADDR...]", `
List the addresses of the recorded messages, one per line, sorted. With
addresses, list only the messages they select: message.NAME selects every
instance of the block. On a terminal, a record made by herald import (not
sent by herald) is marked "(imported)", or "(imported without evidence)"
when the import was forced; piped, the lines are the bare addresses.`, args, false)
	if err != nil {
		return err
	}
	snap, err := readSnapshot(ctx, env, opts)
	if err != nil {
		return err
	}
	v := views.NewState(newView(env, opts.NoColor))
	addrs := snap.Select(opts.Addrs)
	records := make([]*state.Record, 0, len(addrs))
	for _, a := range addrs {
		if r := snap.Records[a]; r != nil {
			records = append(records, r)
		}
	}
	v.List(records, env.StdoutIsTerminal)
	if len(snap.Records) == 0 && !opts.Sandbox {
		if n := sandboxRecords(ctx, env); n > 0 {
			v.SandboxHint(SandboxStatePath, n)
		}
	}
	return nil
}

// sandboxRecords counts the records in the default state file of apply
// -sandbox; 0 when there is none or it cannot be read. An empty state
// next to a sandbox state is most likely a look in the wrong one.
func sandboxRecords(ctx context.Context, env *Env) int {
	path := sandboxStatePath(env, "")
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	b := state.OpenLocal(path)
	defer b.Close()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return 0
	}
	return len(snap.Records)
}

func runStateShow(ctx context.Context, env *Env, args []string) error {
	opts, fs, err := parseStateFlags(env, "show", "[options] ADDR", `
Show one recorded message: where it goes, its status, every attempt with
its times and outcome, the API's answer and the last error.`, args, false)
	if err != nil {
		return err
	}
	if len(opts.Addrs) != 1 {
		return usageError(fs, env, "state show takes exactly one address")
	}
	snap, err := readSnapshot(ctx, env, opts)
	if err != nil {
		return err
	}
	want := opts.Addrs[0].String()
	r, ok := snap.Records[want]
	if !ok {
		if found := snap.Select(opts.Addrs); len(found) > 0 {
			return fmt.Errorf("%s selects %d recorded messages; name one: %s", want, len(found), strings.Join(found, ", "))
		}
		return fmt.Errorf("no message %s in the state", want)
	}
	if r.Address == "" {
		c := *r
		c.Address = want
		r = &c
	}
	views.NewState(newView(env, opts.NoColor)).Record(r)
	return nil
}

func runStateRm(ctx context.Context, env *Env, args []string) error {
	opts, fs, err := parseStateFlags(env, "rm", "[options] ADDR...", `
Remove recorded messages from the state: herald forgets that they were
sent. A message removed and still configured will be sent again when due.
Takes the state lock; with the local state file, the previous state is kept
as a backup beside it. Every address must select at least one record, or
nothing is removed.`, args, true)
	if err != nil {
		return err
	}
	if len(opts.Addrs) == 0 {
		return usageError(fs, env, "state rm needs at least one address")
	}

	b, err := lockState(ctx, env, opts, "herald state rm")
	if err != nil {
		return err
	}
	// Close releases the lock on every way out; the explicit Unlock below
	// is there so that a failure to release it is reported.
	defer b.Close()
	where := describeState(env, b)
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", where, err)
	}

	next, removed, missing := snap.Remove(opts.Addrs)
	if len(missing) > 0 {
		return fmt.Errorf("no message %s in the state; nothing was removed", strings.Join(missing, ", "))
	}
	if err := b.Replace(ctx, next); err != nil {
		return fmt.Errorf("writing state %s: %w", where, err)
	}
	if err := b.Unlock(); err != nil {
		return fmt.Errorf("releasing the state lock: %w", err)
	}
	v := views.NewState(newView(env, opts.NoColor))
	for _, a := range removed {
		v.Removed(a)
	}
	v.RemovedAll(len(removed), where)
	return nil
}

func runStatePull(ctx context.Context, env *Env, args []string) error {
	opts, fs, err := parseStateFlags(env, "pull", "[options]", `
Write the state to stdout in the local state file format (version, lineage,
serial and every record), whichever backend holds it: with a PostgreSQL
backend, "herald state pull > `+state.DefaultPath+`" makes a local copy.
Reads a consistent snapshot and takes no lock. Sends a running apply has
in flight show as unknown, as they would after a crash.`, args, false)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, env, "state pull takes no arguments, got %q", fs.Arg(0))
	}
	snap, err := readSnapshot(ctx, env, opts)
	if err != nil {
		return err
	}
	return views.NewState(newView(env, true)).Pulled(snap)
}

func runStatePush(ctx context.Context, env *Env, args []string) error {
	var force bool
	opts, fs, err := parseStateFlagsWith(env, "push", "[options] FILE", `
Replace the state with FILE, a state in the local state file format (as
"herald state pull" writes it, or a local `+state.DefaultPath+`); FILE "-"
reads standard input. It moves a team's state from a local file to
PostgreSQL and back: configure the backend block, then push the local file.

Takes the state lock. Refused, unless -force, when the stored state has
another lineage (it is a different state) or a higher serial (FILE is older
than what is stored): either would lose records. A state that was never
written takes any FILE. The stored serial becomes the larger of FILE's
serial and the previous serial plus one. Prints nothing on success.`, args, true, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "Push even when the lineage differs or FILE's serial is older.")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, env, "state push takes exactly one state file (or - for standard input)")
	}
	snap, err := readPushFile(env, fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := lockState(ctx, env, opts, "herald state push")
	if err != nil {
		return err
	}
	defer b.Close()
	if err := state.Push(ctx, b, snap, force, describeState(env, b)); err != nil {
		return err
	}
	if err := b.Unlock(); err != nil {
		return fmt.Errorf("releasing the state lock of %s: %w", describeState(env, b), err)
	}
	return nil
}

// readPushFile reads the state file state push was given, "-" for stdin.
func readPushFile(env *Env, name string) (*state.Snapshot, error) {
	if name == "-" {
		snap, err := state.Decode(env.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the state to push from standard input: %w", err)
		}
		return snap, nil
	}
	path := env.Path(name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the state to push: %w", err)
	}
	defer f.Close()
	snap, err := state.Decode(f)
	if err != nil {
		var fe *state.FormatError
		if errors.As(err, &fe) && fe.Path == "" {
			fe.Path = name
			return nil, fmt.Errorf("reading the state to push: %w", fe)
		}
		return nil, fmt.Errorf("reading the state to push from %s: %w", name, err)
	}
	return snap, nil
}
