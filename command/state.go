package command

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/state"
)

func init() {
	register(&Command{
		Name:     "state",
		Synopsis: "Inspect and edit the state: state list, state show ADDR, state rm ADDR...",
		Run:      runStateCommand,
	})
}

const stateUsage = `Usage: herald state <subcommand> [options] [args]

  list [ADDR...]   List the recorded messages, optionally those ADDR selects
  show ADDR        Show one recorded message in detail
  rm ADDR...       Remove recorded messages (takes the state lock)

Each reads the local state file: -state=PATH, default ` + state.DefaultPath + `.
`

func runStateCommand(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, stateUsage)
		return ErrReported
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, stateUsage)
		return nil
	case "list":
		return runStateList(ctx, env, args[1:])
	case "show":
		return runStateShow(ctx, env, args[1:])
	case "rm":
		return runStateRm(ctx, env, args[1:])
	}
	newView(env, false).Error(fmt.Errorf("unknown state subcommand %q", args[0]))
	fmt.Fprintln(env.Stderr)
	fmt.Fprint(env.Stderr, stateUsage)
	return ErrReported
}

type stateOptions struct {
	StatePath   string
	LockTimeout time.Duration
	NoColor     bool
	Addrs       []addrs.Message
}

// parseStateFlags parses a state subcommand's flags and its address
// arguments, which must be message addresses.
func parseStateFlags(env *Env, name, argsUsage, help string, args []string, withLock bool) (stateOptions, *flag.FlagSet, error) {
	var opts stateOptions
	fs := newFlagSet("state "+name, env)
	setUsage(fs, argsUsage, help)
	fs.StringVar(&opts.StatePath, "state", "", "The local state `PATH`. Default: "+state.DefaultPath+" in the working directory.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	if withLock {
		fs.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "How long to wait for the state lock, as a `DURATION` (e.g. 30s).")
	}
	if err := parseFlags(fs, env, args); err != nil {
		return opts, fs, err
	}
	for _, a := range fs.Args() {
		m, err := addrs.ParseMessage(a)
		if err != nil {
			return opts, fs, usageError(fs, env, "%v", err)
		}
		opts.Addrs = append(opts.Addrs, m)
	}
	return opts, fs, nil
}

// readSnapshot reads the state without the lock.
func readSnapshot(ctx context.Context, env *Env, opts stateOptions) (*state.Snapshot, error) {
	b := state.OpenLocal(statePath(env, opts.StatePath))
	defer b.Close()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", displayPath(env, b.Describe()), err)
	}
	return snap, nil
}

// matching lists the recorded addresses any of sel selects (all of them
// when sel is empty), sorted.
func matching(snap *state.Snapshot, sel []addrs.Message) []string {
	var out []string
	for key := range snap.Records {
		if len(sel) == 0 {
			out = append(out, key)
			continue
		}
		a, err := addrs.ParseMessage(key)
		if err != nil {
			continue
		}
		for _, s := range sel {
			if a.Contains(s) {
				out = append(out, key)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func runStateList(ctx context.Context, env *Env, args []string) error {
	opts, _, err := parseStateFlags(env, "list", "[options] [ADDR...]", `
List the addresses of the recorded messages, one per line, sorted. With
addresses, list only the messages they select: message.NAME selects every
instance of the block.`, args, false)
	if err != nil {
		return err
	}
	snap, err := readSnapshot(ctx, env, opts)
	if err != nil {
		return err
	}
	views.NewState(newView(env, opts.NoColor)).List(matching(snap, opts.Addrs))
	return nil
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
		if found := matching(snap, opts.Addrs); len(found) > 0 {
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
Takes the state lock; the previous state is kept as a backup beside the
state file. Every address must select at least one record, or nothing is
removed.`, args, true)
	if err != nil {
		return err
	}
	if len(opts.Addrs) == 0 {
		return usageError(fs, env, "state rm needs at least one address")
	}

	b := state.OpenLocal(statePath(env, opts.StatePath))
	b.SetOperation("herald state rm")
	if err := b.Lock(ctx, opts.LockTimeout); err != nil {
		return err
	}
	// Close releases the lock on every way out; the explicit Unlock below
	// is there so that a failure to release it is reported.
	defer b.Close()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading state %s: %w", displayPath(env, b.Describe()), err)
	}

	var missing []string
	remove := map[string]bool{}
	for _, a := range opts.Addrs {
		found := matching(snap, []addrs.Message{a})
		if len(found) == 0 {
			missing = append(missing, a.String())
		}
		for _, f := range found {
			remove[f] = true
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no message %s in the state; nothing was removed", strings.Join(missing, ", "))
	}

	next := snap.Clone()
	removed := make([]string, 0, len(remove))
	for key := range remove {
		delete(next.Records, key)
		removed = append(removed, key)
	}
	sort.Strings(removed)
	if err := b.Replace(ctx, next); err != nil {
		return fmt.Errorf("writing state %s: %w", displayPath(env, b.Describe()), err)
	}
	if err := b.Unlock(); err != nil {
		return fmt.Errorf("releasing the state lock: %w", err)
	}
	v := views.NewState(newView(env, opts.NoColor))
	for _, a := range removed {
		v.Removed(a)
	}
	v.RemovedAll(len(removed), displayPath(env, b.Describe()))
	return nil
}
