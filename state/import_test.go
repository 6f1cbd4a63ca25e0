package state

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func importEvent(addr string, how Imported) Event {
	e := attemptEvent(addr, 0, t0)
	e.Kind, e.Status, e.Imported = EventImport, StatusSent, how
	if how == ImportedFound {
		e.Answer = &Answer{MessageID: "msg_3", From: "+14155550000", Body: "Hi", DateCreated: "2026-12-01T09:00:00Z"}
	}
	return e
}

func TestApplyImport(t *testing.T) {
	s := NewSnapshot()
	found := importEvent("message.a", ImportedFound)
	require.NoError(t, ValidateEvent(found))
	s.Apply(found)
	r := s.Records["message.a"]
	require.NotNil(t, r)
	require.Equal(t, StatusSent, r.Status)
	require.Equal(t, ImportedFound, r.Imported)
	require.Equal(t, "msg_3", r.Answer.MessageID)
	require.Equal(t, "eng", r.Group)
	require.Equal(t, "hmac-sha256:message.a", r.ContentHash)
	require.Empty(t, r.Attempts, "an import makes no attempt")

	// An import never overwrites what state knows of a message.
	s.Apply(attemptEvent("message.b", 1, t0))
	s.Apply(failedEvent("message.b", 1, t0, "boom"))
	s.Apply(importEvent("message.b", ImportedForced))
	require.Equal(t, StatusFailed, s.Records["message.b"].Status)
	require.Empty(t, s.Records["message.b"].Imported)

	require.Error(t, ValidateEvent(Event{Kind: EventImport, Message: Message{Address: "message.c"}}), "an import says how it knows")
	bad := importEvent("message.c", ImportedForced)
	bad.Status = StatusFailed
	require.Error(t, ValidateEvent(bad))
}

// An import recorded in the journal survives a crash, and is folded into
// the state file like any event.
func TestImportReplayedFromJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DefaultPath)
	l := OpenLocal(path)
	require.NoError(t, l.Lock(ctx, 0))
	require.NoError(t, l.Record(ctx, importEvent("message.a", ImportedFound)))
	require.NoError(t, l.Record(ctx, importEvent("message.b", ImportedForced)))
	// No Persist: as if the process died here.
	require.NoError(t, l.Unlock())

	snap, err := OpenLocal(path).Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, ImportedFound, snap.Records["message.a"].Imported)
	require.Equal(t, "msg_3", snap.Records["message.a"].Answer.MessageID)
	require.Equal(t, ImportedForced, snap.Records["message.b"].Imported)
	require.Nil(t, snap.Records["message.b"].Answer)

	l = OpenLocal(path)
	require.NoError(t, l.Lock(ctx, 0))
	require.NoError(t, l.Persist(ctx))
	require.NoError(t, l.Close())
	snap2, err := OpenLocal(path).Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, snap.Records, snap2.Records)
}
