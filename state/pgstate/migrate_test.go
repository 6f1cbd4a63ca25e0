package pgstate

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func versions(t *testing.T, conn, schema string) []int {
	t.Helper()
	rows, err := admin(t, conn).Query(context.Background(), "SELECT version FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateEmptyDatabase(t *testing.T) {
	conn := newDB(t)
	b := open(t, conn)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, versions(t, conn, "herald")); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	s := snapshot(t, b)
	if s.Lineage == "" || s.Serial != 0 || len(s.Records) != 0 {
		t.Errorf("new state: %+v", s)
	}
	// Opening again keeps the state.
	if again := snapshot(t, open(t, conn)); again.Lineage != s.Lineage {
		t.Errorf("reopening changed the lineage from %s to %s", s.Lineage, again.Lineage)
	}
}

// migrateTo brings a new database's schema herald to version v only, as
// the herald that had v migrations left it.
func migrateTo(t *testing.T, conn string, v int) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := &Backend{pool: pool, schema: "herald", qschema: `"herald"`}
	if err := old.migrate(context.Background(), v); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromVersion1 makes a version 1 schema holding a record, as the
// herald that had only migration 1 left it, and opens it with this one.
func TestMigrateFromVersion1(t *testing.T) {
	conn := newDB(t)
	ctx := context.Background()
	migrateTo(t, conn, 1)
	db := admin(t, conn)
	if _, err := db.Exec(ctx, `
UPDATE herald.states SET lineage = 'lineage-v1', serial = 7;
INSERT INTO herald.messages (address, group_name, thread_id, service, from_number, content_hash, send_at, status, attempts, answer, last_error)
VALUES ('message.a', 'group.eng', 't-1', 'whatsapp', '+1', 'h', '2026-12-01T09:00:00Z', 'sent',
	'[{"number":1,"started_at":"2026-12-01T09:00:01.5Z","finished_at":"2026-12-01T09:00:02.25Z","outcome":"delivered"}]',
	'{"chat_group_id":"cg"}', ''),
	('message.b', 'group.eng', 't-1', 'whatsapp', '+1', 'h', '2026-12-01T10:00:00Z', 'expired', '[]', NULL, '')`); err != nil {
		t.Fatal(err)
	}

	b := open(t, conn)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, versions(t, conn, "herald")); diff != "" {
		t.Errorf("versions after upgrade (-want +got):\n%s", diff)
	}
	got := snapshot(t, b)
	finished := time.Date(2026, 12, 1, 9, 0, 2, 250_000_000, time.UTC)
	want := &state.Snapshot{Lineage: "lineage-v1", Serial: 7, Records: map[string]*state.Record{
		"message.a": {Message: state.Message{Address: "message.a", Group: "group.eng", ThreadID: "t-1", Service: "whatsapp", From: "+1", ContentHash: "h", SendAt: t0}, Status: state.StatusSent,
			Attempts:  []state.Attempt{{Number: 1, StartedAt: time.Date(2026, 12, 1, 9, 0, 1, 500_000_000, time.UTC), FinishedAt: &finished, Outcome: "delivered"}},
			Answer:    &state.Answer{ChatGroupID: "cg"},
			UpdatedAt: finished},
		"message.b": {Message: state.Message{Address: "message.b", Group: "group.eng", ThreadID: "t-1", Service: "whatsapp", From: "+1", ContentHash: "h", SendAt: t0.Add(time.Hour)}, Status: state.StatusExpired, UpdatedAt: t0.Add(time.Hour)},
	}}
	if diff := cmp.Diff(want, got, timesEqual); diff != "" {
		t.Errorf("state after upgrade (-want +got):\n%s", diff)
	}
	var indexed bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('herald.messages_group_send_at') IS NOT NULL").Scan(&indexed); err != nil || !indexed {
		t.Errorf("version 2 index missing: %v", err)
	}
}

// TestMigrateFromVersion3 makes a version 3 schema holding a record, as the
// herald before the inbox left it, and opens it with this one: the record
// stays, and the inbox works.
func TestMigrateFromVersion3(t *testing.T) {
	conn := newDB(t)
	ctx := context.Background()
	migrateTo(t, conn, 3)
	db := admin(t, conn)
	var inboxBefore bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('herald.inbox_messages') IS NOT NULL").Scan(&inboxBefore); err != nil || inboxBefore {
		t.Fatalf("version 3 has an inbox table already (%v)", err)
	}
	if _, err := db.Exec(ctx, `
UPDATE herald.states SET lineage = 'lineage-v3', serial = 4;
INSERT INTO herald.messages (address, group_name, thread_id, service, from_number, content_hash, send_at, status, attempts, answer, last_error, updated_at, imported)
VALUES ('message.a', 'group.eng', 't-1', 'whatsapp', '+1', 'h', '2026-12-01T09:00:00Z', 'sent', '[]', '{"chat_group_id":"cg"}', '', '2026-12-01T09:00:03Z', 'found')`); err != nil {
		t.Fatal(err)
	}

	b := open(t, conn)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, versions(t, conn, "herald")); diff != "" {
		t.Errorf("versions after upgrade (-want +got):\n%s", diff)
	}
	want := &state.Snapshot{Lineage: "lineage-v3", Serial: 4, Records: map[string]*state.Record{
		"message.a": {Message: state.Message{Address: "message.a", Group: "group.eng", ThreadID: "t-1", Service: "whatsapp", From: "+1", ContentHash: "h", SendAt: t0},
			Status: state.StatusSent, Answer: &state.Answer{ChatGroupID: "cg"}, UpdatedAt: t0.Add(3 * time.Second), Imported: state.ImportedFound},
	}}
	if diff := cmp.Diff(want, snapshot(t, b), timesEqual); diff != "" {
		t.Errorf("state after upgrade (-want +got):\n%s", diff)
	}
	var indexed bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('herald.inbox_messages_thread_created') IS NOT NULL").Scan(&indexed); err != nil || !indexed {
		t.Errorf("version 4 index missing: %v", err)
	}
	m := state.InboxMessage{Account: "acct", ID: "m-1", Thread: "t-1", Created: t0, Received: t0.Add(time.Second)}
	if stored, err := b.Receive(ctx, m); err != nil || !stored {
		t.Fatalf("Receive after the upgrade: stored %v, error %v", stored, err)
	}
	if r, err := b.ReadInbox(ctx, "acct", "t-1", time.Time{}); err != nil || !r.Has("m-1") {
		t.Errorf("ReadInbox after the upgrade: %+v, %v", r, err)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	conn := newDB(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	lineages := make([]string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, err := Open(context.Background(), conn, "")
			if err != nil {
				errs[i] = err
				return
			}
			defer b.Close()
			s, err := b.Snapshot(context.Background())
			if err != nil {
				errs[i] = err
				return
			}
			lineages[i] = s.Lineage
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	for _, l := range lineages[1:] {
		if l != lineages[0] {
			t.Errorf("concurrent opens see different lineages: %v", lineages)
			break
		}
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, versions(t, conn, "herald")); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	conn := newDB(t)
	open(t, conn)
	if _, err := admin(t, conn).Exec(context.Background(), "INSERT INTO herald.schema_version (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), conn, "")
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != 99 {
		t.Fatalf("Open of a newer schema: %v, want a *VersionError for 99", err)
	}
}

func TestSchemaNames(t *testing.T) {
	conn := newDB(t)
	ctx := context.Background()
	odd := `Team "A"; DROP`
	a, err := Open(ctx, conn, odd)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Lock(ctx, 0); err != nil {
		t.Fatal(err)
	}
	record(t, a, attempt("message.a", 1, t0))
	// The default schema is another state.
	if n := len(snapshot(t, open(t, conn)).Records); n != 0 {
		t.Errorf("default schema sees %d records of schema %q", n, odd)
	}
	if n := len(snapshot(t, a).Records); n != 1 {
		t.Errorf("schema %q holds %d records, want 1", odd, n)
	}
	for _, bad := range []string{string(make([]byte, 64)), "a\x00b"} {
		if _, err := Open(ctx, conn, bad); err == nil {
			t.Errorf("schema name %q accepted", bad)
		}
	}
}
