package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestNoStateFile(t *testing.T) {
	path := statePath(t)
	l := OpenLocal(path)
	require.Equal(t, path, l.Describe())
	require.Equal(t, DefaultPath, OpenLocal("").Describe())

	s1, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Zero(t, s1.Serial)
	require.Empty(t, s1.Records)
	require.NotEmpty(t, s1.Lineage)
	s2, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, s1.Lineage, s2.Lineage, "one Local keeps one lineage for a state not yet written")

	// Locking, persisting and closing with nothing recorded writes nothing.
	require.NoError(t, l.Lock(context.Background(), 0))
	require.NoError(t, l.Persist(context.Background()))
	require.NoError(t, l.Close())
	require.False(t, exists(path))
	require.False(t, exists(path+journalSuffix))
	require.False(t, exists(path+backupSuffix))
}

func TestRecordPersistReopen(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	before, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0.Add(time.Second)))
	require.True(t, exists(path+journalSuffix))
	require.NoError(t, l.Persist(context.Background()))
	require.False(t, exists(path+journalSuffix), "persist removes the folded journal")
	require.False(t, exists(path+backupSuffix), "there was no earlier state to keep")

	live, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, before.Lineage, live.Lineage)
	require.Equal(t, uint64(1), live.Serial)

	got := snapshotOf(t, path)
	if d := cmp.Diff(live, got); d != "" {
		t.Fatalf("reopened state differs from the live one (-live +file):\n%s", d)
	}

	// Persist with nothing new changes nothing, serial included.
	first := readFile(t, path)
	require.NoError(t, l.Persist(context.Background()))
	require.Equal(t, first, readFile(t, path))

	// The next change goes to serial 2 and keeps serial 1 as the backup.
	record(t, l, attemptEvent("message.b", 1, t0))
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "closing twice is harmless")
	require.Equal(t, first, readFile(t, path+backupSuffix))
	got = snapshotOf(t, path)
	require.Equal(t, uint64(2), got.Serial)
	require.Len(t, got.Records, 2)
	// Persisted mid-flight, it reads back as unknown.
	require.Equal(t, StatusUnknown, got.Records["message.b"].Status)
}

func TestFileModes(t *testing.T) {
	path := statePath(t)
	// A hand-made state file with a wide mode.
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, NewSnapshot()))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))

	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0))
	for _, p := range []string{path + journalSuffix, path + lockSuffix} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}
	require.NoError(t, l.Persist(context.Background()))
	record(t, l, sentEvent("message.a", 1, t0))
	require.NoError(t, l.Unlock())
	for _, p := range []string{path, path + backupSuffix, path + journalSuffix} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}
}

func TestStrayTempFileIgnored(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Close())
	good := readFile(t, path)

	// A crash between writing the temporary file and renaming it.
	stray := filepath.Join(filepath.Dir(path), DefaultPath+".tmp-12345")
	require.NoError(t, os.WriteFile(stray, []byte(`{"version":1,"lineage":"half-writ`), fileMode))

	s := snapshotOf(t, path)
	require.Equal(t, StatusSent, s.Records["message.a"].Status)
	require.Equal(t, good, readFile(t, path))

	// The next write clears it away.
	l2 := locked(t, path)
	record(t, l2, attemptEvent("message.b", 1, t0))
	require.NoError(t, l2.Close())
	require.False(t, exists(stray))
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp-*"))
	require.NoError(t, err)
	require.Empty(t, matches)
}

func TestDamagedStateRefusedAndKept(t *testing.T) {
	cases := map[string]struct {
		content string
		want    []string
	}{
		"damaged json":    {"{\n  \"version\": 1,\n  \"lineage\": \"l\",\n  \"serial\": 3,\n  \"records\": [\n    {\"address\": \"message.a\",, }\n  ]\n}\n", []string{"line 6", "column 29", "byte "}},
		"unknown version": {`{"version": 7, "lineage": "l", "serial": 3, "records": []}`, []string{"version 7"}},
		"empty":           {"", []string{"empty"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := statePath(t)
			require.NoError(t, os.WriteFile(path, []byte(tc.content), fileMode))
			check := func(err error) {
				t.Helper()
				require.Error(t, err)
				require.ErrorContains(t, err, path)
				for _, w := range tc.want {
					require.ErrorContains(t, err, w)
				}
			}
			_, err := OpenLocal(path).Snapshot(context.Background())
			check(err)
			if name == "unknown version" {
				var ve *VersionError
				require.True(t, errors.As(err, &ve))
			} else {
				var fe *FormatError
				require.True(t, errors.As(err, &fe))
				require.Equal(t, path, fe.Path)
			}

			l := locked(t, path)
			_, err = l.Snapshot(context.Background())
			check(err)
			check(l.Record(context.Background(), attemptEvent("message.a", 1, t0)))
			check(l.Persist(context.Background()))
			check(l.Replace(context.Background(), NewSnapshot()))
			require.NoError(t, l.Close())

			require.Equal(t, tc.content, string(readFile(t, path)), "a refused state file is never rewritten")
			require.False(t, exists(path+backupSuffix))
			require.False(t, exists(path+journalSuffix))
		})
	}
}

func TestWritingNeedsTheLock(t *testing.T) {
	path := statePath(t)
	l := OpenLocal(path)
	ctx := context.Background()
	require.ErrorIs(t, l.Record(ctx, attemptEvent("message.a", 1, t0)), ErrNotLocked)
	require.ErrorIs(t, l.Persist(ctx), ErrNotLocked)
	require.ErrorIs(t, l.Replace(ctx, NewSnapshot()), ErrNotLocked)
	require.False(t, exists(path+journalSuffix))
	require.NoError(t, l.Unlock(), "unlocking what is not locked does nothing")

	require.NoError(t, l.Lock(ctx, 0))
	require.NoError(t, l.Lock(ctx, 0), "locking again is harmless")
	require.NoError(t, l.Record(ctx, attemptEvent("message.a", 1, t0)))
	require.NoError(t, l.Close())
	require.ErrorIs(t, l.Lock(ctx, 0), errClosed)
	require.ErrorIs(t, l.Record(ctx, attemptEvent("message.a", 1, t0)), errClosed)
}

func TestRecordRejectsInvalidEvents(t *testing.T) {
	l := locked(t, statePath(t))
	err := l.Record(context.Background(), Event{Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: StatusSending})
	require.ErrorContains(t, err, "want sent, failed, unknown, not_delivered or expired")
	s, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Empty(t, s.Records)
}

func TestRecordHonoursCancelledContext(t *testing.T) {
	l := locked(t, statePath(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.Record(ctx, attemptEvent("message.a", 1, t0)), context.Canceled)
	s, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Empty(t, s.Records)
}

func TestSnapshotIsACopy(t *testing.T) {
	l := locked(t, statePath(t))
	record(t, l, attemptEvent("message.a", 1, t0))
	s, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	held := s.Clone()

	record(t, l, sentEvent("message.a", 1, t0), attemptEvent("message.b", 1, t0))
	require.NoError(t, l.Persist(context.Background()))
	if d := cmp.Diff(held, s); d != "" {
		t.Fatalf("a returned snapshot changed under its caller:\n%s", d)
	}

	// And the caller changing its copy does not reach the live state.
	s.Records["message.a"].Status = StatusFailed
	delete(s.Records, "message.b")
	live, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, StatusSent, live.Records["message.a"].Status)
	require.Contains(t, live.Records, "message.b")
	// The live state keeps its own in-flight send as sending.
	require.Equal(t, StatusSending, live.Records["message.b"].Status)
}

func TestReplace(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	record(t, l, attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0))
	require.NoError(t, l.Persist(context.Background()))
	record(t, l, attemptEvent("message.b", 1, t0), sentEvent("message.b", 1, t0))
	old := readFile(t, path)

	cur, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	delete(cur.Records, "message.a") // state rm
	require.NoError(t, l.Replace(context.Background(), cur))
	require.False(t, exists(path+journalSuffix))
	require.Equal(t, old, readFile(t, path+backupSuffix))

	got := snapshotOf(t, path)
	require.Equal(t, cur.Lineage, got.Lineage)
	require.Equal(t, uint64(2), got.Serial, "the replaced state is newer than the one it replaces")
	require.NotContains(t, got.Records, "message.a")
	require.Contains(t, got.Records, "message.b")

	// The caller's snapshot is copied, not kept.
	cur.Records["message.z"] = &Record{Message: Message{Address: "message.z"}, Status: StatusSent}
	live, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.NotContains(t, live.Records, "message.z")

	// A pushed state with a higher serial keeps it.
	push := NewSnapshot()
	push.Serial = 40
	require.NoError(t, l.Replace(context.Background(), push))
	got = snapshotOf(t, path)
	require.Equal(t, push.Lineage, got.Lineage)
	require.Equal(t, uint64(40), got.Serial)
	require.Empty(t, got.Records)

	// Recording goes on after a replace, on the new state.
	record(t, l, attemptEvent("message.c", 1, t0))
	require.NoError(t, l.Close())
	got = snapshotOf(t, path)
	require.Equal(t, uint64(41), got.Serial)
	require.Contains(t, got.Records, "message.c")

	require.Error(t, OpenLocal(path).Replace(context.Background(), nil))
	bad := &Snapshot{Lineage: "x", Records: map[string]*Record{"message.a": {Message: Message{Address: "message.b"}, Status: StatusSent}}}
	l2 := locked(t, path)
	require.Error(t, l2.Replace(context.Background(), bad))
}

func TestConcurrentRecordsAllDurable(t *testing.T) {
	const writers, each = 16, 40
	path := statePath(t)
	l := locked(t, path)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				addr := fmt.Sprintf("message.g%02d[%q]", w, fmt.Sprint(i))
				if err := l.Record(context.Background(), attemptEvent(addr, 1, t0)); err != nil {
					errs <- err
					return
				}
				if err := l.Record(context.Background(), sentEvent(addr, 1, t0)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	check := func(s *Snapshot) {
		t.Helper()
		require.Len(t, s.Records, writers*each)
		for addr, r := range s.Records {
			require.Equal(t, StatusSent, r.Status, addr)
			require.Len(t, r.Attempts, 1, addr)
		}
	}
	// Durable before any fold: another reader sees all of it in the journal.
	check(snapshotOf(t, path))
	require.NoError(t, l.Unlock())
	check(snapshotOf(t, path))
	jc, err := parseJournal(readFile(t, path+journalSuffix))
	require.NoError(t, err)
	require.Len(t, jc.Events, 2*writers*each)

	l2 := locked(t, path)
	require.NoError(t, l2.Close())
	check(snapshotOf(t, path))
}

// While one fsync is under way, Records that arrive queue up and share the
// next one.
func TestGroupCommitSharesOneSync(t *testing.T) {
	l := locked(t, statePath(t))
	record(t, l, attemptEvent("message.warmup", 1, t0)) // opens the journal
	base := l.syncs.Load()

	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var once sync.Once
	l.beforeSync = func() {
		once.Do(func() {
			entered <- struct{}{}
			<-release
		})
	}
	errs := make(chan error, 16)
	go func() { errs <- l.Record(context.Background(), attemptEvent("message.first", 1, t0)) }()
	<-entered // the writer is inside the first batch's fsync

	const waiting = 15
	for i := range waiting {
		go func() { errs <- l.Record(context.Background(), attemptEvent(fmt.Sprintf("message.m%d", i), 1, t0)) }()
	}
	l.mu.Lock()
	q := l.j.queue
	l.mu.Unlock()
	for len(q) < waiting {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range waiting + 1 {
		require.NoError(t, <-errs)
	}
	require.Equal(t, int64(2), l.syncs.Load()-base, "16 records, two fsyncs: the first alone, the rest together")
	s, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.Len(t, s.Records, 17)
}

// TestForeignJournalRefusedAndKept: a journal whose header names another
// lineage than the state file's holds events of a different state (a state
// file restored or swapped under it). Its serial tells nothing about the
// file's, so whatever it is, herald refuses to read, record, persist or
// replace, leaves both files byte for byte as they were, and says how to
// recover.
func TestForeignJournalRefusedAndKept(t *testing.T) {
	for name, journalSerial := range map[string]uint64{"older serial": 1, "same serial": 3, "newer serial": 5} {
		t.Run(name, func(t *testing.T) {
			path := statePath(t)
			cur := NewSnapshot()
			cur.Serial = 3
			cur.Apply(attemptEvent("message.a", 1, t0))
			cur.Apply(sentEvent("message.a", 1, t0.Add(time.Second)))
			var buf bytes.Buffer
			require.NoError(t, Encode(&buf, cur))
			require.NoError(t, os.WriteFile(path, buf.Bytes(), fileMode))

			foreign := NewLineage()
			journal := encodeHeader(foreign, journalSerial)
			for _, e := range []Event{attemptEvent("message.b", 1, t0), sentEvent("message.b", 1, t0.Add(time.Second))} {
				line, err := encodeEvent(e)
				require.NoError(t, err)
				journal = append(journal, line...)
			}
			require.NoError(t, os.WriteFile(path+journalSuffix, journal, fileMode))
			stateBefore := readFile(t, path)

			check := func(err error) {
				t.Helper()
				require.Error(t, err)
				for _, w := range []string{path + journalSuffix, foreign, cur.Lineage, "left unchanged", path + backupSuffix, "move the journal away"} {
					require.ErrorContains(t, err, w)
				}
			}
			_, err := OpenLocal(path).Snapshot(context.Background())
			check(err)

			l := locked(t, path)
			_, err = l.Snapshot(context.Background())
			check(err)
			check(l.Record(context.Background(), attemptEvent("message.c", 1, t0)))
			check(l.Persist(context.Background()))
			check(l.Replace(context.Background(), cur))
			require.NoError(t, l.Close())

			require.Equal(t, journal, readFile(t, path+journalSuffix), "a foreign journal is never truncated or removed")
			require.Equal(t, stateBefore, readFile(t, path), "the state file is not rewritten")
			require.False(t, exists(path+backupSuffix))
		})
	}
}

// Module-qualified addresses are keys of the state file like any other,
// through the journal, a move from the root module and a reopen.
func TestModuleAddressesPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultPath)
	ctx := context.Background()
	b := OpenLocal(path)
	require.NoError(t, b.Lock(ctx, 0))
	emea := `module.region["emea"].message.standup["2026-12-07T09:00:00+01:00"]`
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for _, addr := range []string{emea, "message.hello"} {
		require.NoError(t, b.Record(ctx, Event{Kind: EventAttempt, Message: Message{Address: addr, Group: "g", SendAt: at}, Attempt: 1, At: at}))
		require.NoError(t, b.Record(ctx, Event{Kind: EventOutcome, Message: Message{Address: addr}, Attempt: 1, Status: StatusSent, Outcome: "delivered", At: at.Add(time.Second)}))
	}
	require.NoError(t, b.Record(ctx, Event{Kind: EventMove, Message: Message{Address: "module.team.message.hello"}, MovedFrom: "message.hello", At: at.Add(2 * time.Second)}))
	require.NoError(t, b.Close())

	snap, err := OpenLocal(path).Snapshot(ctx)
	require.NoError(t, err)
	require.Contains(t, snap.Records, emea)
	require.Contains(t, snap.Records, "module.team.message.hello")
	require.NotContains(t, snap.Records, "message.hello")
	require.Equal(t, StatusSent, snap.Records[emea].Status)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"address": "module.region[\"emea\"].message.standup[\"2026-12-07T09:00:00+01:00\"]"`)
}
