package command

import (
	"context"
	"os"
)

// WatchInterrupts turns the interrupts arriving on sigs into what commands
// act on. The first cancels the returned context: every command stops
// gracefully, and apply finishes the requests in flight and records them.
// The second closes the returned abort channel (Env.Abort): apply cancels
// requests in flight, which leaves them unknown. The third calls exit with
// ExitInterrupted, for when even that is too slow: state stays consistent
// because every event is in the journal before it counts, and the kernel
// releases the state lock with the process.
//
// The caller owns sigs (signal.Notify); the watcher ends when sigs is
// closed or parent ends.
func WatchInterrupts(parent context.Context, sigs <-chan os.Signal, exit func(code int)) (context.Context, <-chan struct{}) {
	ctx, cancel := context.WithCancel(parent)
	abort := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-parent.Done():
				cancel()
				return
			case _, ok := <-sigs:
				if !ok {
					return
				}
				n++
				switch n {
				case 1:
					cancel()
				case 2:
					close(abort)
				default:
					exit(ExitInterrupted)
					return
				}
			}
		}
	}()
	return ctx, abort
}
