package pgstate

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/state"
)

func importOf(addr string, how state.Imported) state.Event {
	e := attempt(addr, 0, t0)
	e.Kind, e.Status, e.Imported = state.EventImport, state.StatusSent, how
	if how == state.ImportedFound {
		e.Answer = &state.Answer{MessageID: "msg_4", From: "+14155550000", Body: "hi", DateCreated: "2026-12-01T09:00:00Z"}
	}
	return e
}

// Imported records are stored, read back and replaced like any other, and
// an import never overwrites a record that exists.
func TestRecordImport(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	record(t, b,
		importOf("message.a", state.ImportedFound),
		importOf("message.b", state.ImportedForced),
		attempt("message.c", 1, t0),
		outcome("message.c", 1, t0, state.StatusFailed),
		importOf("message.c", state.ImportedForced),
	)
	got := snapshot(t, b).Records
	if r := got["message.a"]; r == nil || r.Status != state.StatusSent || r.Imported != state.ImportedFound ||
		r.Answer == nil || r.Answer.MessageID != "msg_4" || r.Answer.DateCreated != "2026-12-01T09:00:00Z" {
		t.Errorf("message.a = %+v, want sent, imported with the thread message as its answer", r)
	}
	if r := got["message.b"]; r == nil || r.Status != state.StatusSent || r.Imported != state.ImportedForced || r.Answer != nil {
		t.Errorf("message.b = %+v, want sent, imported without evidence", r)
	}
	if r := got["message.c"]; r == nil || r.Status != state.StatusFailed || r.Imported != "" {
		t.Errorf("message.c = %+v, want its own failed record kept", r)
	}

	snap := snapshot(t, b)
	if err := b.Replace(context.Background(), snap); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snap.Records, snapshot(t, b).Records, timesEqual); diff != "" {
		t.Errorf("records after Replace (-want +got):\n%s", diff)
	}
}
