package state

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// An outcome queued before the next attempt is Recorded is durable once
// that Record returns, by the same fsync: one sync for both.
func TestRecordQueuedSharesTheNextRecordsSync(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0)) // opens the journal
	base := l.syncs.Load()

	release := make(chan struct{})
	l.beforeSync = func() { <-release }
	wait := l.RecordQueued(context.Background(), sentEvent("message.a", 1, t0))
	done := make(chan error, 1)
	go func() { done <- l.Record(context.Background(), attemptEvent("message.b", 1, t0)) }()
	// Both are queued or in the writer's hands before any fsync ends.
	l.mu.Lock()
	q := l.j.queue
	l.mu.Unlock()
	for len(q) > 0 {
		select {
		case err := <-done:
			t.Fatalf("Record returned %v before its fsync", err)
		default:
		}
		release <- struct{}{}
	}
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, wait())
	require.NoError(t, wait(), "wait answers every call")
	require.LessOrEqual(t, l.syncs.Load()-base, int64(2))

	// The journal holds the outcome before the attempt that followed it.
	jc, err := parseJournal(readFile(t, path+journalSuffix))
	require.NoError(t, err)
	require.Len(t, jc.Events, 3)
	require.Equal(t, EventOutcome, jc.Events[1].Kind)
	require.Equal(t, "message.a", jc.Events[1].Address)
	require.Equal(t, "message.b", jc.Events[2].Address)
}

// A queued event whose wait is never called is still written, and
// Persist folds it.
func TestRecordQueuedIsPersistedWithoutWait(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0))
	_ = l.RecordQueued(context.Background(), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Persist(context.Background()))
	require.Equal(t, StatusSent, snapshotOf(t, path).Records["message.a"].Status)
}

func TestRecordQueuedRefusals(t *testing.T) {
	path := statePath(t)
	unlocked := OpenLocal(path)
	require.ErrorIs(t, unlocked.RecordQueued(context.Background(), attemptEvent("message.a", 1, t0))(), ErrNotLocked)

	l := locked(t, path)
	require.Error(t, l.RecordQueued(context.Background(), Event{Kind: EventAttempt, Attempt: 1})(), "an event without an address")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.RecordQueued(ctx, attemptEvent("message.a", 1, t0))(), context.Canceled)

	// A failed fsync fails the queued event and everything after it.
	record(t, l, attemptEvent("message.b", 1, t0))
	l.mu.Lock()
	f := l.j.f
	l.mu.Unlock()
	l.beforeSync = func() { _ = f.Close() }
	require.Error(t, l.RecordQueued(context.Background(), sentEvent("message.b", 1, t0))())
	require.Error(t, l.Record(context.Background(), attemptEvent("message.c", 1, t0)))
	_, statErr := os.Stat(path + journalSuffix)
	require.NoError(t, statErr, "the journal stays for the next run")
}
