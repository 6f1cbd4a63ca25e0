package command

import (
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchInterrupts(t *testing.T) {
	sigs := make(chan os.Signal)
	exited := make(chan int, 1)
	ctx, abort := WatchInterrupts(context.Background(), sigs, func(code int) { exited <- code })

	require.NoError(t, ctx.Err())
	sigs <- os.Interrupt
	<-ctx.Done()
	select {
	case <-abort:
		t.Fatal("the first interrupt must not abort")
	default:
	}

	sigs <- syscall.SIGTERM
	<-abort
	assert.Empty(t, exited)

	sigs <- os.Interrupt
	assert.Equal(t, ExitInterrupted, <-exited)
}

func TestWatchInterruptsEndsWithParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal)
	ctx, abort := WatchInterrupts(parent, sigs, func(int) { t.Error("exit called") })
	cancel()
	<-ctx.Done()
	select {
	case <-abort:
		t.Fatal("ending the parent is not an abort")
	default:
	}
}
