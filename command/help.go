package command

import (
	"context"
	"fmt"
	"io"
)

func init() {
	register(&Command{
		Name:     "help",
		Synopsis: "Show this help, or a command's with \"help COMMAND\"",
		Run:      runHelpCommand,
	})
}

func runHelpCommand(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		printUsage(env.Stdout)
		return nil
	}
	c, ok := Lookup(args[0])
	if !ok {
		return fmt.Errorf("no help for %q: not a herald command", args[0])
	}
	if c.Name == "help" {
		printUsage(env.Stdout)
		return nil
	}
	// A command's -h prints its usage and exits 0; the rest of the
	// arguments let "help state list" reach a subcommand's help.
	return c.Run(ctx, env, append(append([]string{}, args[1:]...), "-h"))
}

// printUsage writes herald's usage: the commands from the registry and the
// global options.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: herald [global options] <command> [args]

herald sends scheduled messages to WhatsApp and Telegram groups from a
declarative configuration: plan shows what is due, apply sends it.

Commands:
`)
	cmds := All()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Name, c.Synopsis)
	}
	fmt.Fprint(w, `
Global options (before the command):
  -chdir=DIR  Work in DIR instead of the current directory.
  -help       Show this help, or a command's with "herald -help COMMAND".
  -version    Show herald's version, as "herald version" does.

Options of a command take one dash or two: -out=FILE and --out=FILE are the
same. "herald COMMAND -help" lists them.
`)
}
