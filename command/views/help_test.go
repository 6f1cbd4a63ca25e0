package views

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandUsage(t *testing.T) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.Bool("short", false, "A short flag.")
	fs.String("a-very-long-flag-name-indeed", "x", "Stands on its own `LINE`.")
	assert.Equal(t, `Usage: herald demo [options]

  Two lines
  of text.

Options:

  -a-very-long-flag-name-indeed=LINE
          Stands on its own LINE. Default: x.
  -short  A short flag.
`, CommandUsage(fs, "[options]", "\nTwo lines\nof text.\n"))
	assert.Equal(t, "Usage: herald none ARGS\n", CommandUsage(flag.NewFlagSet("none", flag.ContinueOnError), "ARGS", ""))
}

func TestHeraldUsageAlignsCommands(t *testing.T) {
	out := HeraldUsage([]CommandSummary{{"plan", "Show the plan"}, {"sandbox", "Run a sandbox"}})
	assert.Contains(t, out, "Commands:\n  plan     Show the plan\n  sandbox  Run a sandbox\n\nGlobal options")
}

func TestUsageStreams(t *testing.T) {
	var out, errs bytes.Buffer
	v := &View{Stdout: &out, Stderr: &errs}
	v.Help("help\n")
	v.UsageError(errors.New("bad flag"), "usage\n")
	v.Usage("again\n")
	assert.Equal(t, "help\n", out.String())
	assert.Equal(t, "Error: bad flag\n\nusage\nagain\n", errs.String())
}
