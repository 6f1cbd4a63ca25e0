package pgstate

import (
	"testing"

	"github.com/heraldhq/herald/state"
)

func TestRecordMove(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	record(t, b,
		attempt("message.a", 1, t0),
		outcome("message.a", 1, t0, state.StatusSent),
		attempt("message.c", 1, t0),
	)
	move := state.Event{Kind: state.EventMove, Message: state.Message{Address: "message.b"}, MovedFrom: "message.a", At: t0}
	record(t, b, move, move) // twice: the second changes nothing
	record(t, b, state.Event{Kind: state.EventMove, Message: state.Message{Address: "message.c"}, MovedFrom: "message.b", At: t0})
	record(t, b, state.Event{Kind: state.EventMove, Message: state.Message{Address: "message.y"}, MovedFrom: "message.x", At: t0})

	got := snapshot(t, b).Records
	if _, ok := got["message.a"]; ok {
		t.Error("message.a is still in state after its move")
	}
	if r := got["message.b"]; r == nil || r.Status != state.StatusSent || len(r.Attempts) != 1 {
		t.Errorf("message.b = %+v, want the sent record of message.a", r)
	}
	if r := got["message.c"]; r == nil || r.Status != state.StatusSending {
		t.Errorf("message.c = %+v, want its own record kept", r)
	}
	if len(got) != 2 {
		t.Errorf("state holds %d records, want 2", len(got))
	}
}
