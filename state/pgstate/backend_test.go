package pgstate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldhq/herald/state"
)

func TestRecordRoundTrip(t *testing.T) {
	b := openLocked(t, newDB(t))
	events := []state.Event{
		attempt("message.a", 1, t0.Add(time.Second)),
		outcome("message.a", 1, t0.Add(2*time.Second), state.StatusSent),
		attempt(`message.b["x"]`, 1, t0.Add(3*time.Second)),
		outcome(`message.b["x"]`, 1, t0.Add(4*time.Second), state.StatusFailed),
		attempt(`message.b["x"]`, 2, t0.Add(5*time.Second)),
		attempt("message.c", 1, t0.Add(6*time.Second)),
		{Kind: state.EventOutcome, Message: state.Message{Address: "message.d", Group: "group.eng", SendAt: t0}, At: t0.Add(7 * time.Second), Status: state.StatusExpired},
	}
	record(t, b, events...)
	got := snapshot(t, b)
	if diff := cmp.Diff(appliedBy(t, b, events...), got.Records, timesEqual); diff != "" {
		t.Errorf("records differ from state's Apply (-want +got):\n%s", diff)
	}
	// The lock holder's own send in flight stays sending.
	if s := got.Records["message.c"].Status; s != state.StatusSending {
		t.Errorf("message.c is %s to the lock holder, want sending", s)
	}
	if got.Lineage == "" {
		t.Error("no lineage")
	}
}

func TestSerialOncePerRun(t *testing.T) {
	b := openLocked(t, newDB(t))
	ctx := context.Background()
	serial := func() uint64 { return snapshot(t, b).Serial }
	if s := serial(); s != 0 {
		t.Fatalf("new state has serial %d, want 0", s)
	}
	record(t, b, attempt("message.a", 1, t0), outcome("message.a", 1, t0, state.StatusSent))
	if s := serial(); s != 1 {
		t.Fatalf("after the first run's events serial is %d, want 1", s)
	}
	if err := b.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if s := serial(); s != 1 {
		t.Fatalf("Persist without changes moved serial to %d", s)
	}
	record(t, b, attempt("message.b", 1, t0))
	if s := serial(); s != 2 {
		t.Fatalf("second run: serial %d, want 2", s)
	}
}

func TestConcurrentRecords(t *testing.T) {
	b := openLocked(t, newDB(t))
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	var want []state.Event
	for i := range n {
		addr := fmt.Sprintf("message.m[%q]", fmt.Sprint(i%10))
		at := t0.Add(time.Duration(i) * time.Second)
		want = append(want, attempt(addr, i+1, at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.Record(context.Background(), attempt(addr, i+1, at))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := snapshot(t, b)
	if got.Serial != 1 {
		t.Errorf("serial %d after one run, want 1", got.Serial)
	}
	if len(got.Records) != 10 {
		t.Fatalf("%d records, want 10", len(got.Records))
	}
	total := 0
	for _, r := range got.Records {
		total += len(r.Attempts)
	}
	if total != n {
		t.Errorf("%d attempts stored, want %d: concurrent events on one record were lost", total, n)
	}
	// The events raced, so the order a record's attempts were stored in,
	// and which of them touched it last, is the database's; everything
	// else must be what state's own Apply makes of them.
	byNumber := cmpopts.SortSlices(func(a, b state.Attempt) bool { return a.Number < b.Number })
	noUpdated := cmpopts.IgnoreFields(state.Record{}, "UpdatedAt")
	if diff := cmp.Diff(appliedBy(t, b, want...), got.Records, timesEqual, byNumber, noUpdated); diff != "" {
		t.Errorf("records after concurrent attempts (-want +got):\n%s", diff)
	}
	for addr, r := range got.Records {
		if !slices.ContainsFunc(r.Attempts, func(a state.Attempt) bool { return a.StartedAt.Equal(r.UpdatedAt) }) {
			t.Errorf("%s: updated_at %s is none of its attempts' times", addr, r.UpdatedAt)
		}
	}
}

func TestRecordIsDurableForOtherBackends(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	record(t, a, attempt("message.a", 1, t0), attempt("message.b", 1, t0), outcome("message.b", 1, t0, state.StatusSent))

	other := open(t, conn)
	got := snapshot(t, other)
	if len(got.Records) != 2 {
		t.Fatalf("another backend sees %d records, want 2", len(got.Records))
	}
	// Without the lock, a send in flight reads as unknown, like the local
	// backend's.
	r := got.Records["message.a"]
	if r.Status != state.StatusUnknown || r.LastError == "" {
		t.Errorf("message.a seen from outside: status %s, last error %q; want unknown with a reason", r.Status, r.LastError)
	}
	if r := got.Records["message.b"]; r.Status != state.StatusSent || r.Answer == nil || r.Answer.ChatGroupID != "cg-1" {
		t.Errorf("message.b seen from outside: %+v", r)
	}
}

func TestWritesNeedTheLock(t *testing.T) {
	b := open(t, newDB(t))
	ctx := context.Background()
	for name, err := range map[string]error{
		"Record":  b.Record(ctx, attempt("message.a", 1, t0)),
		"Persist": b.Persist(ctx),
		"Replace": b.Replace(ctx, state.NewSnapshot()),
		"Push":    state.Push(ctx, b, state.NewSnapshot(), true, b.Describe()),
	} {
		if !errors.Is(err, state.ErrNotLocked) {
			t.Errorf("%s without the lock: %v, want ErrNotLocked", name, err)
		}
	}
	if n := len(snapshot(t, b).Records); n != 0 {
		t.Errorf("%d records written without the lock", n)
	}
}

func TestBadEventsRefused(t *testing.T) {
	b := openLocked(t, newDB(t))
	for _, e := range []state.Event{
		{Kind: state.EventAttempt, Message: state.Message{Address: ""}, Attempt: 1},
		{Kind: state.EventAttempt, Message: state.Message{Address: "message.a"}, Attempt: 0},
		{Kind: "other", Message: state.Message{Address: "message.a"}},
		{Kind: state.EventOutcome, Message: state.Message{Address: "message.a"}, Status: "weird"},
	} {
		if err := b.Record(context.Background(), e); err == nil {
			t.Errorf("Record(%+v) accepted a bad event", e)
		}
	}
	if s := snapshot(t, b); len(s.Records) != 0 || s.Serial != 0 {
		t.Errorf("bad events changed state: %d records, serial %d", len(s.Records), s.Serial)
	}
}

func TestReplace(t *testing.T) {
	b := openLocked(t, newDB(t))
	ctx := context.Background()
	record(t, b, attempt("message.a", 1, t0), attempt("message.b", 1, t0))
	s := snapshot(t, b)
	delete(s.Records, "message.a") // state rm
	if err := b.Replace(ctx, s); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, b)
	if _, ok := got.Records["message.a"]; ok || len(got.Records) != 1 {
		t.Errorf("after Replace records are %v", keys(got.Records))
	}
	if got.Serial != s.Serial+1 || got.Lineage != s.Lineage {
		t.Errorf("after Replace lineage/serial %s/%d, want %s/%d", got.Lineage, got.Serial, s.Lineage, s.Serial+1)
	}
	// A run after Replace increments the serial again.
	record(t, b, attempt("message.c", 1, t0))
	if s := snapshot(t, b).Serial; s != got.Serial+1 {
		t.Errorf("record after Replace: serial %d, want %d", s, got.Serial+1)
	}
	if err := b.Replace(ctx, &state.Snapshot{Lineage: "x", Records: map[string]*state.Record{"message.a": {Message: state.Message{Address: "message.b"}}}}); err == nil {
		t.Error("Replace accepted a record stored under another address")
	}
	if err := b.Replace(ctx, &state.Snapshot{}); err == nil {
		t.Error("Replace accepted a snapshot without lineage")
	}
}

func TestPush(t *testing.T) {
	b := openLocked(t, newDB(t))
	ctx := context.Background()
	record(t, b, attempt("message.a", 1, t0))
	if err := b.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	record(t, b, attempt("message.b", 1, t0))
	stored := snapshot(t, b) // serial 2
	if stored.Serial != 2 {
		t.Fatalf("stored serial %d, want 2", stored.Serial)
	}
	pushed := func(lineage string, serial uint64) *state.Snapshot {
		return &state.Snapshot{Lineage: lineage, Serial: serial, Records: applied(attempt("message.p", 1, t0))}
	}
	for _, c := range []struct {
		name string
		snap *state.Snapshot
	}{
		{"other lineage", pushed("other-lineage", 9)},
		{"older serial", pushed(stored.Lineage, 1)},
	} {
		var pe *state.PushRefusedError
		if err := state.Push(ctx, b, c.snap, false, b.Describe()); !errors.As(err, &pe) {
			t.Errorf("%s: Push = %v, want a *state.PushRefusedError", c.name, err)
		}
		// The check in the writing transaction refuses it too, with the
		// check's own error.
		refused := &state.PushRefusedError{Where: b.Describe(), Reason: c.name}
		err := b.ReplaceChecked(ctx, c.snap, func(lineage string, serial uint64) error {
			if err := state.CheckPush(b.Describe(), &state.Snapshot{Lineage: lineage, Serial: serial, Records: stored.Records}, c.snap); err != nil {
				return refused
			}
			return nil
		})
		if err != refused {
			t.Errorf("%s: ReplaceChecked = %v, want the check's error", c.name, err)
		}
	}
	if got := snapshot(t, b); got.Serial != 2 || len(got.Records) != 2 {
		t.Fatalf("refused pushes changed state: serial %d, records %v", got.Serial, keys(got.Records))
	}

	// An equal serial of the same lineage is accepted; the result is newer.
	if err := state.Push(ctx, b, pushed(stored.Lineage, 2), false, b.Describe()); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, b)
	if got.Serial != 3 || len(got.Records) != 1 || got.Records["message.p"] == nil {
		t.Errorf("after push: serial %d, records %v", got.Serial, keys(got.Records))
	}
	// A higher serial is kept as it is.
	if err := state.Push(ctx, b, pushed(stored.Lineage, 10), false, b.Describe()); err != nil {
		t.Fatal(err)
	}
	if s := snapshot(t, b).Serial; s != 10 {
		t.Errorf("pushing serial 10: stored %d", s)
	}
	// Force overwrites another lineage.
	if err := state.Push(ctx, b, pushed("other-lineage", 0), true, b.Describe()); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, b); got.Lineage != "other-lineage" || got.Serial != 11 {
		t.Errorf("after forced push: lineage %s serial %d, want other-lineage 11", got.Lineage, got.Serial)
	}
}

func TestEventIsAllOrNothing(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	ctx := context.Background()
	// Make the last statement of the run's first Record (the serial
	// increment) fail after its row was written.
	db := admin(t, conn)
	if _, err := db.Exec(ctx, `
CREATE FUNCTION herald.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
CREATE TRIGGER refuse BEFORE UPDATE OF serial ON herald.states FOR EACH ROW EXECUTE FUNCTION herald.refuse();`); err != nil {
		t.Fatal(err)
	}
	err := b.Record(ctx, attempt("message.a", 1, t0))
	if err == nil {
		t.Fatal("Record succeeded though its transaction failed")
	}
	if s := snapshot(t, b); len(s.Records) != 0 || s.Serial != 0 {
		t.Errorf("a failed Record left %d records, serial %d", len(s.Records), s.Serial)
	}
	if _, err := db.Exec(ctx, "DROP TRIGGER refuse ON herald.states"); err != nil {
		t.Fatal(err)
	}
	// The failed write did not count as the run's change.
	record(t, b, attempt("message.a", 1, t0))
	if s := snapshot(t, b); len(s.Records) != 1 || s.Serial != 1 {
		t.Errorf("after the retry: %d records, serial %d; want 1, 1", len(s.Records), s.Serial)
	}
}

func TestConnectionDroppedMidRun(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	ctx := context.Background()
	record(t, b, attempt("message.a", 1, t0), outcome("message.a", 1, t0, state.StatusSent))

	// Drop every connection herald has: the lock goes with its own.
	db := admin(t, conn)
	if _, err := db.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'herald%'`); err != nil {
		t.Fatal(err)
	}
	// pg_terminate_backend only signals: wait until the backends, and the
	// lock the session held, are gone.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'herald%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d herald connections still open after pg_terminate_backend", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Each Record now fails, whether on a dead pooled connection or on a
	// fresh one that finds the lock gone; none is stored. Once the dead
	// connections are used up, the error says the lock is lost.
	lost := false
	for i := 0; i < 10 && !lost; i++ {
		err := b.Record(ctx, attempt("message.b", i+1, t0))
		if err == nil {
			t.Fatalf("Record %d succeeded after the connections were dropped", i+1)
		}
		lost = errors.Is(err, state.ErrLockLost)
	}
	if !lost {
		t.Error("Record on a fresh connection did not report the lost lock")
	}
	got := snapshot(t, open(t, conn))
	if _, ok := got.Records["message.b"]; ok {
		t.Error("an event recorded after the lock was lost is stored")
	}
	if r := got.Records["message.a"]; r == nil || r.Status != state.StatusSent {
		t.Errorf("message.a before the drop: %+v", r)
	}
	if err := b.Unlock(); err == nil {
		t.Error("Unlock after the lock's connection was dropped reported nothing")
	}
}

func keys(m map[string]*state.Record) []string {
	var k []string
	for a := range m {
		k = append(k, a)
	}
	return k
}

// Module-qualified addresses are keys like any other: recorded, moved from
// the root module into a module, and read back.
func TestModuleAddresses(t *testing.T) {
	db := newDB(t)
	b := openLocked(t, db)
	emea := `module.region["emea"].message.standup["2026-12-07T09:00:00+01:00"]`
	events := []state.Event{
		attempt(emea, 1, t0.Add(time.Second)),
		outcome(emea, 1, t0.Add(2*time.Second), state.StatusSent),
		attempt("message.hello", 1, t0.Add(3*time.Second)),
		outcome("message.hello", 1, t0.Add(4*time.Second), state.StatusSent),
	}
	record(t, b, events...)
	record(t, b, state.Event{Kind: state.EventMove, Message: state.Message{Address: "module.team.message.hello"}, MovedFrom: "message.hello", At: t0.Add(5 * time.Second)})
	got := snapshot(t, b)
	if got.Records[emea] == nil || got.Records[emea].Status != state.StatusSent {
		t.Fatalf("no sent record under %s: %v", emea, got.Records)
	}
	if got.Records["message.hello"] != nil {
		t.Error("the moved record is still under its root address")
	}
	moved := got.Records["module.team.message.hello"]
	if moved == nil || moved.Status != state.StatusSent || len(moved.Attempts) != 1 {
		t.Fatalf("moved record: %+v", moved)
	}
	if err := b.Persist(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Another backend on the same database reads the same keys.
	other := open(t, db)
	again := snapshot(t, other)
	for _, addr := range []string{emea, "module.team.message.hello"} {
		if again.Records[addr] == nil {
			t.Errorf("%s not read back", addr)
		}
	}
}
