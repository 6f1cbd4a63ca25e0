package state

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestApplyMove(t *testing.T) {
	s := NewSnapshot()
	s.Apply(attemptEvent("message.a", 1, t0))
	s.Apply(sentEvent("message.a", 1, t0))
	move := Event{Kind: EventMove, Message: Message{Address: "message.b"}, MovedFrom: "message.a", At: t0}
	require.NoError(t, ValidateEvent(move))
	s.Apply(move)
	require.NotContains(t, s.Records, "message.a")
	require.Equal(t, "message.b", s.Records["message.b"].Address)
	require.Equal(t, StatusSent, s.Records["message.b"].Status)
	require.Len(t, s.Records["message.b"].Attempts, 1)

	// Replayed, the move changes nothing.
	s.Apply(move)
	require.Len(t, s.Records, 1)

	// A target with a record of its own keeps it; the old one stays.
	s.Apply(attemptEvent("message.c", 1, t0))
	s.Apply(Event{Kind: EventMove, Message: Message{Address: "message.c"}, MovedFrom: "message.b", At: t0})
	require.Equal(t, StatusSending, s.Records["message.c"].Status)
	require.Equal(t, StatusSent, s.Records["message.b"].Status)

	require.Error(t, ValidateEvent(Event{Kind: EventMove, Message: Message{Address: "message.b"}}))
	require.Error(t, ValidateEvent(Event{Kind: EventMove, Message: Message{Address: "message.b"}, MovedFrom: "message.b"}))
}

// A move recorded in the journal survives a crash: the next load replays it.
func TestMoveReplayedFromJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DefaultPath)
	l := OpenLocal(path)
	require.NoError(t, l.Lock(ctx, 0))
	require.NoError(t, l.Record(ctx, attemptEvent("message.a", 1, t0)))
	require.NoError(t, l.Record(ctx, sentEvent("message.a", 1, t0)))
	require.NoError(t, l.Close())

	l = OpenLocal(path)
	require.NoError(t, l.Lock(ctx, 0))
	require.NoError(t, l.Record(ctx, Event{Kind: EventMove, Message: Message{Address: "message.b"}, MovedFrom: "message.a", At: t0}))
	// No Persist: as if the process died here.
	require.NoError(t, l.Unlock())

	snap, err := OpenLocal(path).Snapshot(ctx)
	require.NoError(t, err)
	require.NotContains(t, snap.Records, "message.a")
	require.Equal(t, StatusSent, snap.Records["message.b"].Status)
}
