package state

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func journalBytes(t testing.TB, lineage string, serial uint64, events ...Event) []byte {
	t.Helper()
	b := encodeHeader(lineage, serial)
	for _, e := range events {
		line, err := encodeEvent(e)
		require.NoError(t, err)
		b = append(b, line...)
	}
	return b
}

func TestParseJournal(t *testing.T) {
	whole := journalBytes(t, "lin", 3, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0), attemptEvent("message.b", 1, t0))
	last, err := encodeEvent(sentEvent("message.b", 1, t0))
	require.NoError(t, err)

	jc, err := parseJournal(whole)
	require.NoError(t, err)
	require.Equal(t, &journalHeader{Journal: 1, Lineage: "lin", Serial: 3}, jc.Header)
	require.Len(t, jc.Events, 3)
	require.Equal(t, int64(len(whole)), jc.Valid)
	require.False(t, jc.TornTail)

	tails := map[string][]byte{
		"cut mid-line":            last[:len(last)/2],
		"cut before newline":      last[:len(last)-1],
		"zeros from a grown file": make([]byte, 300),
		"damaged final line":      append(append([]byte{}, last[:20]...), append([]byte("X"), last[21:]...)...),
		"zeros then a newline":    append(make([]byte, 40), '\n'),
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			jc, err := parseJournal(append(append([]byte{}, whole...), tail...))
			require.NoError(t, err)
			require.Len(t, jc.Events, 3, "the torn tail is dropped, nothing before it")
			require.Equal(t, int64(len(whole)), jc.Valid)
			require.True(t, jc.TornTail)
		})
	}

	t.Run("torn header", func(t *testing.T) {
		jc, err := parseJournal(whole[:10])
		require.NoError(t, err)
		require.Nil(t, jc.Header)
		require.Empty(t, jc.Events)
		require.Zero(t, jc.Valid)
	})
	t.Run("empty", func(t *testing.T) {
		jc, err := parseJournal(nil)
		require.NoError(t, err)
		require.Nil(t, jc.Header)
	})

	t.Run("damaged middle line", func(t *testing.T) {
		data := append([]byte{}, whole...)
		hl := len(encodeHeader("lin", 3))
		data[hl+30] ^= 0x01 // one flipped bit inside event line 2
		_, err := parseJournal(data)
		var je *JournalError
		require.True(t, errors.As(err, &je), "%v", err)
		require.Equal(t, 2, je.Line)
	})
	t.Run("missing newline in the middle", func(t *testing.T) {
		hl := len(encodeHeader("lin", 3))
		data := append(append([]byte{}, whole[:hl-1]...), whole[hl:]...)
		_, err := parseJournal(data)
		require.Error(t, err)
	})
	t.Run("valid checksum, invalid event", func(t *testing.T) {
		data := append(append([]byte{}, whole...), appendLine(nil, []byte(`{"kind":"bogus","address":"message.a"}`))...)
		_, err := parseJournal(data)
		require.ErrorContains(t, err, "line 5")
		require.ErrorContains(t, err, "unknown kind")
	})
	t.Run("newer journal version", func(t *testing.T) {
		_, err := parseJournal(appendLine(nil, []byte(`{"journal":2,"lineage":"l","serial":0}`)))
		require.ErrorContains(t, err, "journal version 2")
	})
	t.Run("first line not a header", func(t *testing.T) {
		line, err := encodeEvent(attemptEvent("message.a", 1, t0))
		require.NoError(t, err)
		_, err = parseJournal(line)
		require.ErrorContains(t, err, "not a journal header")
	})
}

// A run that crashed leaves its journal; the next load replays it.
func TestJournalReplayAfterCrash(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l,
		attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0.Add(time.Second)),
		attemptEvent("message.b", 1, t0), // in flight when the process died
	)
	journal := readFile(t, path+journalSuffix)
	require.NoError(t, l.Unlock()) // the flock goes as with kill -9; nothing is folded
	require.False(t, exists(path), "recording alone must not write the state file")
	require.Equal(t, journal, readFile(t, path+journalSuffix))

	s := snapshotOf(t, path)
	require.Equal(t, StatusSent, s.Records["message.a"].Status)
	require.Equal(t, "cg-1", s.Records["message.a"].Answer.ChatGroupID)
	b := s.Records["message.b"]
	require.Equal(t, StatusUnknown, b.Status, "an attempt with no outcome reads as unknown")
	require.Contains(t, b.LastError, "no outcome was recorded for attempt 1")
	require.Len(t, b.Attempts, 1)
	require.Nil(t, b.Attempts[0].FinishedAt)
	require.Zero(t, s.Serial, "a journal without a state file continues serial 0")

	// The next holder folds it, keeping the journal's lineage.
	l2 := locked(t, path)
	live, err := l2.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, s.Lineage, live.Lineage)
	require.NoError(t, l2.Close())
	require.False(t, exists(path+journalSuffix))
	after := snapshotOf(t, path)
	require.Equal(t, s.Lineage, after.Lineage)
	require.Equal(t, uint64(1), after.Serial)
	require.Equal(t, StatusUnknown, after.Records["message.b"].Status)
}

func TestJournalTornTailIgnoredAndOverwritten(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Unlock())

	// A crash in the middle of appending message.b's attempt.
	line, err := encodeEvent(attemptEvent("message.b", 1, t0))
	require.NoError(t, err)
	f, err := os.OpenFile(path+journalSuffix, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(line[:len(line)/2])
	require.NoError(t, err)
	require.NoError(t, f.Close())

	s := snapshotOf(t, path)
	require.Len(t, s.Records, 1)
	require.Equal(t, StatusSent, s.Records["message.a"].Status)

	// Appending resumes after the last whole line, so the torn bytes never
	// become damage in the middle.
	l2 := locked(t, path)
	record(t, l2, attemptEvent("message.c", 1, t0))
	require.NoError(t, l2.Unlock())
	jc, err := parseJournal(readFile(t, path+journalSuffix))
	require.NoError(t, err)
	require.False(t, jc.TornTail)
	require.Len(t, jc.Events, 3)
	s = snapshotOf(t, path)
	require.Len(t, s.Records, 2)
	require.Equal(t, StatusUnknown, s.Records["message.c"].Status)
}

func TestJournalDamagedMiddleRefused(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Persist(context.Background()))
	record(t, l, attemptEvent("message.b", 1, t0), sentEvent("message.b", 1, t0), attemptEvent("message.c", 1, t0))
	require.NoError(t, l.Unlock())

	jpath := path + journalSuffix
	data := readFile(t, jpath)
	first := len(encodeHeader(snapshotOf(t, path).Lineage, 1))
	data[first+20] ^= 0x04
	require.NoError(t, os.WriteFile(jpath, data, fileMode))
	state := readFile(t, path)

	_, err := OpenLocal(path).Snapshot(context.Background())
	var je *JournalError
	require.True(t, errors.As(err, &je), "%v", err)
	require.Equal(t, jpath, je.Path)
	require.Equal(t, 2, je.Line)
	require.ErrorContains(t, err, jpath)

	l2 := locked(t, path)
	require.Error(t, l2.Record(context.Background(), attemptEvent("message.d", 1, t0)))
	require.Error(t, l2.Persist(context.Background()))
	require.NoError(t, l2.Close())
	require.Equal(t, data, readFile(t, jpath), "a refused journal is left as it was")
	require.Equal(t, state, readFile(t, path))
}

// A run that wrote the state file and died before removing the journal
// leaves a journal whose events are already folded: it is not replayed.
func TestStaleJournalIgnored(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), failedEvent("message.a", 1, t0, "503"))
	journal := readFile(t, path+journalSuffix)
	require.NoError(t, l.Persist(context.Background()))
	record(t, l, attemptEvent("message.a", 2, t0), sentEvent("message.a", 2, t0))
	require.NoError(t, l.Persist(context.Background()))
	require.NoError(t, l.Unlock())

	// Put back the first run's journal, as the crash would have left it.
	require.NoError(t, os.WriteFile(path+journalSuffix, journal, fileMode))
	s := snapshotOf(t, path)
	require.Equal(t, uint64(2), s.Serial)
	require.Equal(t, StatusSent, s.Records["message.a"].Status)
	require.Len(t, s.Records["message.a"].Attempts, 2)

	// The next run starts a fresh journal and folds only its own events.
	l2 := locked(t, path)
	record(t, l2, attemptEvent("message.b", 1, t0), sentEvent("message.b", 1, t0))
	require.NoError(t, l2.Unlock())
	jc, err := parseJournal(readFile(t, path+journalSuffix))
	require.NoError(t, err)
	require.Equal(t, uint64(2), jc.Header.Serial)
	require.Len(t, jc.Events, 2)
	s = snapshotOf(t, path)
	require.Equal(t, StatusSent, s.Records["message.a"].Status)
	require.Equal(t, StatusSent, s.Records["message.b"].Status)
}

func TestJournalOfAnotherStateRefused(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Close())
	lineage := snapshotOf(t, path).Lineage

	t.Run("other lineage", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path+journalSuffix, journalBytes(t, "other", 1, attemptEvent("message.b", 1, t0)), fileMode))
		_, err := OpenLocal(path).Snapshot(context.Background())
		require.ErrorContains(t, err, "belongs to another state")
	})
	t.Run("newer serial", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path+journalSuffix, journalBytes(t, lineage, 9), fileMode))
		_, err := OpenLocal(path).Snapshot(context.Background())
		require.ErrorContains(t, err, "does not continue")
	})
	t.Run("state file missing", func(t *testing.T) {
		other := statePath(t)
		require.NoError(t, os.WriteFile(other+journalSuffix, journalBytes(t, "lin", 4, attemptEvent("message.b", 1, t0)), fileMode))
		_, err := OpenLocal(other).Snapshot(context.Background())
		require.ErrorContains(t, err, "does not exist")
	})
}
