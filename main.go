// Command herald sends scheduled messages to WhatsApp and Telegram groups
// from a declarative configuration. This file only connects the process to
// the command package: everything else, exit codes included, lives there.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/heraldhq/herald/command"
)

// version is set at link time: go build -ldflags "-X main.version=1.2.3".
var version string

func main() {
	os.Exit(run())
}

func run() int {
	dir, err := os.Getwd()
	if err != nil {
		os.Stderr.WriteString("Error: cannot read the working directory: " + err.Error() + "\n")
		return command.ExitError1
	}
	info, _ := debug.ReadBuildInfo()
	env := &command.Env{
		Dir:              dir,
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		StdinIsTerminal:  isTerminal(os.Stdin),
		StdoutIsTerminal: isTerminal(os.Stdout),
		StderrIsTerminal: isTerminal(os.Stderr),
		Getenv:           os.Getenv,
		Environ:          os.Environ,
		Now:              time.Now,
		Version:          command.ResolveVersion(version, info),
	}
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, abort := command.WatchInterrupts(context.Background(), sigs, os.Exit)
	env.Abort = abort
	return command.Main(ctx, env, os.Args[1:])
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
