package state

import "testing"

// SetInboxMaxDead makes the local inbox compact once it holds more than n
// dead lines, for the rest of t.
func SetInboxMaxDead(t testing.TB, n int) {
	old := inboxMaxDead
	inboxMaxDead = n
	t.Cleanup(func() { inboxMaxDead = old })
}
