package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGCLimit(t *testing.T) {
	assert.Equal(t, int64(gcBaseLimit), gcLimit(gcBaseLimit, 0))
	assert.Equal(t, int64(gcBaseLimit), gcLimit(gcBaseLimit, 100<<20))
	assert.Equal(t, int64(600<<20), gcLimit(gcBaseLimit, 400<<20), "above the base, the limit follows the live heap")
}

func TestTuneGCLeavesTheUsersSettings(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		tuneGC(func(k string) string {
			if k == name {
				return "200"
			}
			return ""
		})
		assert.Equal(t, before, debug.SetMemoryLimit(-1), "%s set", name)
	}
}

// After a collection finds more live data than the base allows for, the
// limit rises with it.
func TestMemoryLimitFollowsTheLiveHeap(t *testing.T) {
	const base = 1 << 20
	stop := followLiveHeap(base)
	defer func() {
		stop()
		debug.SetMemoryLimit(math.MaxInt64)
	}()
	require.Equal(t, int64(base), debug.SetMemoryLimit(-1))
	live := make([]byte, 32<<20)
	for i := range live {
		live[i] = byte(i)
	}
	raised := false
	// Finalizers run on their own goroutine after the collection; give
	// it a bounded number of collections to get there.
	for range 200 {
		runtime.GC()
		runtime.Gosched()
		if debug.SetMemoryLimit(-1) >= 32<<20 {
			raised = true
			break
		}
	}
	runtime.KeepAlive(live)
	assert.True(t, raised, "limit %d after 200 collections with 32 MiB live", debug.SetMemoryLimit(-1))
}
