package state

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settleEvents: an attempt a crash cut short, a look-up that settled
// nothing, then the look-up that proved it was not delivered.
func settleEvents(addr string) []Event {
	early := &LookUp{At: t0.Add(time.Minute), Messages: 2, Unsettled: "too early"}
	oldest, newest := t0.Add(-time.Hour), t0
	proof := &LookUp{At: t0.Add(10 * time.Minute), Messages: 5, Oldest: &oldest, Newest: &newest, Covered: "the oldest message read was created before the window"}
	lookUp := Event{Kind: EventLookUp, Message: Message{Address: addr}, Attempt: 1, At: early.At, LookUp: early}
	absent := Event{Kind: EventOutcome, Message: Message{Address: addr}, Attempt: 1, At: proof.At, Status: StatusNotDelivered,
		Outcome: OutcomeAbsent, Error: "not delivered, proven by look-up", LookUp: proof}
	return []Event{attemptEvent(addr, 1, t0), lookUp, absent}
}

// TestNotDeliveredRoundTrip: a proven absence and the look-ups before it
// survive the journal (replayed after a crash) and the state file.
func TestNotDeliveredRoundTrip(t *testing.T) {
	path := statePath(t)
	l := locked(t, path)
	events := settleEvents("message.a")
	record(t, l, events[:2]...)

	// Replayed from the journal, as the next run sees it.
	mid := snapshotOf(t, path)
	r := mid.Records["message.a"]
	require.Equal(t, StatusUnknown, r.Status, "a note changes no outcome")
	require.NotNil(t, r.Attempts[0].LookUp)
	assert.Equal(t, "too early", r.Attempts[0].LookUp.Unsettled)
	assert.Nil(t, r.Attempts[0].FinishedAt)

	record(t, l, events[2])
	live, err := l.Snapshot(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Persist(context.Background()))
	got := snapshotOf(t, path)
	if d := cmp.Diff(live.Records, got.Records); d != "" {
		t.Fatalf("reopened state differs from the live one (-live +file):\n%s", d)
	}
	r = got.Records["message.a"]
	assert.Equal(t, StatusNotDelivered, r.Status)
	a := r.Attempts[0]
	assert.Equal(t, OutcomeAbsent, a.Outcome)
	require.NotNil(t, a.LookUp)
	assert.Equal(t, 5, a.LookUp.Messages)
	assert.Equal(t, t0.Add(-time.Hour), *a.LookUp.Oldest)
	assert.Contains(t, a.LookUp.Covered, "oldest message")
	assert.Empty(t, a.LookUp.Unsettled)
	assert.Equal(t, "not delivered, proven by look-up", r.LastError)
}

// TestLookUpNoteChangesNoOutcome: a look-up note never creates a record,
// and never touches one that is no longer unknown.
func TestLookUpNoteChangesNoOutcome(t *testing.T) {
	s := &Snapshot{}
	note := Event{Kind: EventLookUp, Message: Message{Address: "message.a"}, Attempt: 1, At: t0, LookUp: &LookUp{At: t0, Unsettled: "busy"}}
	s.Apply(note)
	assert.Empty(t, s.Records)
	s.Apply(attemptEvent("message.a", 1, t0))
	s.Apply(sentEvent("message.a", 1, t0.Add(time.Second)))
	s.Apply(note)
	assert.Nil(t, s.Records["message.a"].Attempts[0].LookUp)
	assert.Equal(t, StatusSent, s.Records["message.a"].Status)
}

func TestSettleEventsValidated(t *testing.T) {
	for name, e := range map[string]Event{
		"absent without look-up": {Kind: EventOutcome, Message: Message{Address: "message.a"}, Attempt: 1, Status: StatusNotDelivered},
		"absent without attempt": {Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: StatusNotDelivered, LookUp: &LookUp{}},
		"note without look-up":   {Kind: EventLookUp, Message: Message{Address: "message.a"}, Attempt: 1},
		"note without attempt":   {Kind: EventLookUp, Message: Message{Address: "message.a"}, LookUp: &LookUp{}},
	} {
		assert.Error(t, ValidateEvent(e), name)
	}
}

// TestNotDeliveredDecodes: the state file reader knows the status and the
// look-up fields, and still refuses an unknown field inside a look-up.
func TestNotDeliveredDecodes(t *testing.T) {
	doc := `{"version":1,"lineage":"l","serial":1,"records":[{"address":"message.a","group":"g","thread_id":"t","service":"whatsapp","from":"+1","content_hash":"h","send_at":"2026-12-01T09:00:00Z","status":"not_delivered","attempts":[{"number":1,"started_at":"2026-12-01T09:00:00Z","outcome":"absent","look_up":{"at":"2026-12-01T09:10:00Z","messages":3,"covered":"fewer than a page"}}],"updated_at":"2026-12-01T09:10:00Z"}]}`
	snap, err := decodeBytes([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, StatusNotDelivered, snap.Records["message.a"].Status)
	assert.Equal(t, 3, snap.Records["message.a"].Attempts[0].LookUp.Messages)

	bad := `{"version":1,"lineage":"l","serial":1,"records":[{"address":"message.a","group":"g","thread_id":"t","service":"whatsapp","from":"+1","content_hash":"h","send_at":"2026-12-01T09:00:00Z","status":"not_delivered","attempts":[{"number":1,"started_at":"2026-12-01T09:00:00Z","look_up":{"at":"2026-12-01T09:10:00Z","messages":3,"proof":"x"}}],"updated_at":"2026-12-01T09:10:00Z"}]}`
	_, err = decodeBytes([]byte(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "proof")
}
