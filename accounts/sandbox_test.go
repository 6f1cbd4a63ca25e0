package accounts

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestThreadsPath(t *testing.T) {
	for state, want := range map[string]string{
		"herald.sandbox.state.json":         "herald.sandbox.threads.json",
		filepath.Join("d", "try.json"):      filepath.Join("d", "try.threads.json"),
		filepath.Join("d", "state.sandbox"): filepath.Join("d", "state.sandbox.threads.json"),
	} {
		require.Equal(t, want, ThreadsPath(state), state)
	}
}
