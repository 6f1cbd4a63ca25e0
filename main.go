// Command herald sends scheduled messages to WhatsApp and Telegram groups
// from a declarative configuration. This file only connects the process to
// the command package: everything else, exit codes included, lives there.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"syscall"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/mattn/go-isatty"

	"github.com/heraldhq/herald/command"
)

// version, commit and date are set at link time, as a release build does:
//
//	go build -ldflags "-X main.version=1.2.3 -X main.commit=... -X main.date=2026-12-01T09:00:00Z"
//
// Without them herald reads what the Go toolchain recorded in the build.
var version, commit, date string

func main() {
	tuneGC(os.Getenv)
	os.Exit(run())
}

// herald's heap is mostly the configuration and the state, alive until it
// exits, and the collector's default pace (a heap twice the live data)
// lets a large plan touch far more fresh memory than it keeps, each page
// costing a fault. A soft limit makes it collect sooner up to that size;
// above it, the limit follows the live heap, so that a configuration
// larger than anticipated is collected no more often than at
// heap = live * gcLiveFactor, rather than thrashing against a fixed limit.
const (
	gcBaseLimit  = 320 << 20
	gcLiveFactor = 1.5
)

// gcLimit is the memory limit for a live heap of live bytes.
func gcLimit(base int64, live uint64) int64 {
	return max(base, int64(float64(live)*gcLiveFactor))
}

// tuneGC sets the memory limit and keeps it following the live heap
// after every collection. GOGC or GOMEMLIMIT in the environment turn it
// off: who sets them wants exactly that.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	followLiveHeap(gcBaseLimit)
}

// followLiveHeap sets the memory limit to base and, after every
// collection, to gcLimit of the live heap, until stop is called.
func followLiveHeap(base int64) (stop func()) {
	debug.SetMemoryLimit(base)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var stopped atomic.Bool
	var arm func()
	arm = func() {
		// The finalizer runs once the collector has found the sentinel
		// unreachable, that is after each collection, on the one
		// finalizer goroutine.
		runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
			if stopped.Load() {
				return
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(gcLimit(base, sample[0].Value.Uint64()))
			}
			arm()
		})
	}
	arm()
	return func() { stopped.Store(true) }
}

// gcSentinel is big enough to be an allocation of its own (the tiny
// allocator would batch a smaller one with others, and its finalizer might
// never run).
type gcSentinel struct {
	_ *int
	_ [16]byte
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
		Now:              clock.Now,
		Version:          command.ResolveVersion(version, info),
	}
	env.Commit, env.Date = command.ResolveBuild(commit, date, info)
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
