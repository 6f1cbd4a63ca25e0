package command

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/command/views"
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
		newView(env, false).Help(heraldUsage())
		return nil
	}
	c, ok := Lookup(args[0])
	if !ok {
		return fmt.Errorf("no help for %q: not a herald command", args[0])
	}
	if c.Name == "help" {
		newView(env, false).Help(heraldUsage())
		return nil
	}
	// A command's -h prints its usage and exits 0; the rest of the
	// arguments let "help state list" reach a subcommand's help.
	return c.Run(ctx, env, append(append([]string{}, args[1:]...), "-h"))
}

// heraldUsage is herald's usage: the commands from the registry and the
// global options.
func heraldUsage() string {
	var cmds []views.CommandSummary
	for _, c := range All() {
		cmds = append(cmds, views.CommandSummary{Name: c.Name, Synopsis: c.Synopsis})
	}
	return views.HeraldUsage(cmds)
}
