package executor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// TestReconcileSettles: a look-up that does not find an unknown message
// proves it was not delivered only when it reads the thread at least
// unknown_settle after the attempt and the messages read cover the
// attempt's window; anything else is noted on the attempt with the reason,
// and the message stays unknown.
func TestReconcileSettles(t *testing.T) {
	const settle = 5 * time.Minute
	started := t0.Add(10 * time.Minute)
	ended := started.Add(2 * time.Second)
	settled := ended.Add(settle)
	member := "+19995550123"
	// chatter is n member messages created from first on, a second apart.
	chatter := func(n int, first time.Time) []a1base.ThreadMessage {
		var out []a1base.ThreadMessage
		for i := n - 1; i >= 0; i-- {
			out = append(out, a1base.ThreadMessage{From: member, Body: fmt.Sprintf("chat %d", i), DateCreated: first.Add(time.Duration(i) * time.Second)})
		}
		return out
	}
	cases := []struct {
		name    string
		now     time.Time
		msgs    func(prev *planner.Change) []a1base.ThreadMessage
		status  state.Status // not_delivered, or "" for a note
		covered string
		why     string
	}{
		{name: "few", now: settled, msgs: func(*planner.Change) []a1base.ThreadMessage { return chatter(4, started) },
			status: state.StatusNotDelivered, covered: "fewer than a page"},
		{name: "empty", now: settled.Add(time.Hour), msgs: func(*planner.Change) []a1base.ThreadMessage { return nil },
			status: state.StatusNotDelivered, covered: "only these 0"},
		{name: "reaches_back", now: settled, msgs: func(*planner.Change) []a1base.ThreadMessage {
			return chatter(5, started.Add(-ClockSkew-2*time.Second))
		}, status: state.StatusNotDelivered, covered: "oldest message read was created before"},
		{name: "after_predecessor", now: settled, msgs: func(prev *planner.Change) []a1base.ThreadMessage {
			msgs := chatter(3, started)
			msgs = append(msgs, a1base.ThreadMessage{From: own, Body: prev.Instance.Text, DateCreated: started.Add(-time.Second)})
			return append(msgs, a1base.ThreadMessage{From: member, Body: "older", DateCreated: started.Add(-time.Second)})
		}, status: state.StatusNotDelivered, covered: "includes message.after_predecessor_prev"},
		// Listed last, the earlier delivery proves nothing: a delivery of
		// the same second may have been listed below it, off the page.
		{name: "predecessor_last", now: settled, msgs: func(prev *planner.Change) []a1base.ThreadMessage {
			msgs := chatter(4, started)
			return append(msgs, a1base.ThreadMessage{From: own, Body: prev.Instance.Text, DateCreated: started.Add(-time.Second)})
		}, why: "busier than one page"},
		{name: "busy", now: settled, msgs: func(*planner.Change) []a1base.ThreadMessage { return chatter(5, started) },
			why: "busier than one page"},
		{name: "too_early", now: settled.Add(-time.Second), msgs: func(*planner.Change) []a1base.ThreadMessage { return chatter(2, started) },
			why: "too early"},
		{name: "undated_copy", now: settled, msgs: func(prev *planner.Change) []a1base.ThreadMessage {
			return []a1base.ThreadMessage{{From: own, Body: "text of message.undated_copy"}}
		}, why: "no readable date"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			prev := b.text(planner.Noop, tc.name, tc.name+"_prev", t0)
			answered := started.Add(-time.Second)
			prev.Record = &state.Record{
				Message: state.Message{Address: prev.Addr.String(), ThreadID: prev.Instance.ThreadID, From: own, ContentHash: prev.Instance.ContentHash()}, Status: state.StatusSent,
				Attempts: []state.Attempt{{Number: 1, StartedAt: answered.Add(-time.Second), FinishedAt: &answered, Outcome: "delivered"}},
				Answer:   &state.Answer{From: own, Body: prev.Instance.Text, DateCreated: answered.Truncate(time.Second).Format(time.RFC3339)},
			}
			c := unknown(b, tc.name, tc.name, started)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: settle}
			msgs := tc.msgs(prev)
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) { return msgs, nil }
			h := &hookLog{}
			resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return tc.now }}, h)
			require.NoError(t, err)
			evs := rec.of(c.Addr.String())
			require.Len(t, evs, 1)
			e := evs[0]
			require.NotNil(t, e.LookUp)
			assert.Equal(t, tc.now, e.LookUp.At)
			assert.Equal(t, len(msgs), e.LookUp.Messages)
			assert.Equal(t, 2, e.Attempt)
			if tc.status == state.StatusNotDelivered {
				assert.Equal(t, state.EventOutcome, e.Kind)
				assert.Equal(t, state.StatusNotDelivered, e.Status)
				assert.Equal(t, state.OutcomeAbsent, e.Outcome)
				assert.Contains(t, e.LookUp.Covered, tc.covered)
				assert.Empty(t, e.LookUp.Unsettled)
				assert.Contains(t, resolved, c.Addr)
				assert.Equal(t, state.StatusNotDelivered, h.settled[c.Addr.String()])
				if len(msgs) > 0 {
					require.NotNil(t, e.LookUp.Oldest)
					require.NotNil(t, e.LookUp.Newest)
					assert.False(t, e.LookUp.Newest.Before(*e.LookUp.Oldest))
				}
				return
			}
			assert.Equal(t, state.EventLookUp, e.Kind)
			assert.Contains(t, e.LookUp.Unsettled, tc.why)
			assert.Empty(t, e.LookUp.Covered)
			assert.Empty(t, resolved)
			assert.Equal(t, state.StatusUnknown, h.settled[c.Addr.String()])
		})
	}
}

// TestReconcileSkipsProvenAbsences: a message already proven not
// delivered (held under on_unknown = "hold") is not looked up again.
func TestReconcileSkipsProvenAbsences(t *testing.T) {
	b := newPlan()
	c := unknown(b, "eng", "held", t0)
	c.Record.Status = state.StatusNotDelivered
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	assert.Empty(t, resolved)
	assert.Empty(t, f.lookups)
	assert.Empty(t, rec.events)
}

// TestReconcileLateDeliveryIsNotPredecessor: a message herald delivered
// whose attempt ended after the unknown attempt started proves nothing
// about what came before it.
func TestReconcileLateDeliveryIsNotPredecessor(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	b := newPlan()
	later := b.text(planner.Noop, "eng", "later", t0)
	answered := started.Add(3 * time.Second)
	later.Record = &state.Record{
		Message: state.Message{Address: later.Addr.String(), ThreadID: later.Instance.ThreadID, From: own, ContentHash: later.Instance.ContentHash()}, Status: state.StatusSent,
		Attempts: []state.Attempt{{Number: 1, StartedAt: started.Add(time.Second), FinishedAt: &answered, Outcome: "delivered"}},
		Answer:   &state.Answer{From: own, Body: later.Instance.Text, DateCreated: answered.Truncate(time.Second).Format(time.RFC3339)},
	}
	c := unknown(b, "eng", "lost", started)
	c.Instance.Unknown = spec.UnknownPolicy{Settle: time.Minute}
	msgs := []a1base.ThreadMessage{{From: own, Body: later.Instance.Text, DateCreated: answered.Truncate(time.Second)}}
	for i := range 4 {
		msgs = append(msgs, a1base.ThreadMessage{From: "+19995550123", Body: "chat", DateCreated: started.Add(time.Duration(i) * time.Second)})
	}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) { return msgs, nil }
	_, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return started.Add(time.Hour) }}, nil)
	require.NoError(t, err)
	evs := rec.of(c.Addr.String())
	require.Len(t, evs, 1)
	assert.Equal(t, state.EventLookUp, evs[0].Kind)
	assert.Contains(t, evs[0].LookUp.Unsettled, "busier than one page")
}
