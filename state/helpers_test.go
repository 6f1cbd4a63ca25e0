package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func attemptEvent(addr string, n int, at time.Time) Event {
	return Event{
		Kind:    EventAttempt,
		Message: Message{Address: addr, Group: "eng", ThreadID: "thread-eng", Service: "whatsapp", From: "+14155550000", ContentHash: "hmac-sha256:" + addr, SendAt: t0},
		Attempt: n,
		At:      at,
		Status:  StatusSending,
	}
}

func sentEvent(addr string, n int, at time.Time) Event {
	e := attemptEvent(addr, n, at)
	e.Kind = EventOutcome
	e.Status = StatusSent
	e.Outcome = "delivered"
	e.Answer = &Answer{ChatGroupID: "cg-1", From: "+14155550000", Status: "sent", DateCreated: "2026-12-01T09:00:01Z"}
	return e
}

func failedEvent(addr string, n int, at time.Time, msg string) Event {
	e := attemptEvent(addr, n, at)
	e.Kind = EventOutcome
	e.Status = StatusFailed
	e.Outcome = "permanent"
	e.Error = msg
	return e
}

func statePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), DefaultPath)
}

// locked opens the state at path and takes its lock, releasing it when the
// test ends.
func locked(t testing.TB, path string) *Local {
	t.Helper()
	l := OpenLocal(path)
	require.NoError(t, l.Lock(context.Background(), 0))
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func record(t testing.TB, l *Local, events ...Event) {
	t.Helper()
	for _, e := range events {
		require.NoError(t, l.Record(context.Background(), e))
	}
}

func snapshotOf(t testing.TB, path string) *Snapshot {
	t.Helper()
	s, err := OpenLocal(path).Snapshot(context.Background())
	require.NoError(t, err)
	return s
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// bigSnapshot is a state with n sent records.
func bigSnapshot(n int) *Snapshot {
	s := NewSnapshot()
	for i := range n {
		addr := fmt.Sprintf("message.bulk[%q]", fmt.Sprintf("k%06d", i))
		s.Apply(attemptEvent(addr, 1, t0))
		s.Apply(sentEvent(addr, 1, t0.Add(time.Second)))
	}
	return s
}
