package state_test

import (
	"os"
	"testing"

	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/outboxtest"
)

func TestLocalOutbox(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T) func() state.Outbox {
		path := inboxStatePath(t)
		return func() state.Outbox { return state.OpenLocal(path) }
	})
}

// TestLocalOutboxFileMode: the outbox file is private, like the state.
func TestLocalOutboxFileMode(t *testing.T) {
	path := inboxStatePath(t)
	outboxtest.Enqueue(t, state.OpenLocal(path), 10, outboxtest.N("ops", "a", 0))
	fi, err := os.Stat(path + ".outbox")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("outbox file mode %v, want 0600", fi.Mode().Perm())
	}
}
