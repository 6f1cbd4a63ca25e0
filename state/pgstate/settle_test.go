package pgstate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/state"
)

// TestNotDeliveredRoundTrip: look-up notes and a proven absence are kept
// as state's Apply keeps them, evidence included, and read back by another
// backend (the next run).
func TestNotDeliveredRoundTrip(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	oldest, newest := t0.Add(-time.Hour), t0
	early := &state.LookUp{At: t0.Add(time.Minute), Messages: 5, Oldest: &oldest, Newest: &newest, Unsettled: "too early"}
	proof := &state.LookUp{At: t0.Add(10 * time.Minute), Messages: 3, Covered: "fewer than a page"}
	events := []state.Event{
		attempt("message.a", 1, t0),
		{Kind: state.EventLookUp, Message: state.Message{Address: "message.a"}, Attempt: 1, At: early.At, LookUp: early},
	}
	record(t, b, events...)
	if got := snapshot(t, open(t, conn)).Records["message.a"]; got.Status != state.StatusUnknown || got.Attempts[0].LookUp == nil || got.Attempts[0].LookUp.Unsettled != "too early" {
		t.Fatalf("after a note, another backend reads %+v; want unknown with the note", got)
	}
	absent := state.Event{Kind: state.EventOutcome, Message: state.Message{Address: "message.a"}, Attempt: 1, At: proof.At,
		Status: state.StatusNotDelivered, Outcome: state.OutcomeAbsent, Error: "not delivered, proven by look-up", LookUp: proof}
	record(t, b, absent)
	events = append(events, absent)
	got := snapshot(t, open(t, conn))
	if diff := cmp.Diff(appliedBy(t, b, events...), got.Records, timesEqual); diff != "" {
		t.Errorf("records differ from state's Apply (-want +got):\n%s", diff)
	}
	r := got.Records["message.a"]
	if r.Status != state.StatusNotDelivered || r.Attempts[0].LookUp.Covered != "fewer than a page" || r.Attempts[0].FinishedAt != nil {
		t.Errorf("record %+v: want not_delivered with its proof, the attempt's end left unknown", r)
	}
}
