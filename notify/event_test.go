package notify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func record(addr string, status state.Status, attempts int, updated time.Time) *state.Record {
	r := &state.Record{Message: state.Message{Address: addr, Group: "eng", SendAt: t0}, Status: status, UpdatedAt: updated, LastError: "422 thread not found"}
	for i := 1; i <= attempts; i++ {
		r.Attempts = append(r.Attempts, state.Attempt{Number: i, StartedAt: updated})
	}
	return r
}

func mustAddr(t *testing.T, s string) addrs.Message {
	a, err := addrs.ParseMessage(s)
	require.NoError(t, err)
	return a
}

// TestPassEvents: one event per notifiable record updated lately, per
// drift and per skipped message, and a summary when the executor ran;
// ids stay the same when the same pass is read again.
func TestPassEvents(t *testing.T) {
	now := t0.Add(time.Hour)
	snap := &state.Snapshot{Lineage: "lin", Serial: 7, Records: map[string]*state.Record{
		"message.failed":  record("message.failed", state.StatusFailed, 2, now),
		"message.unknown": record("message.unknown", state.StatusUnknown, 1, now),
		"message.absent":  record("message.absent", state.StatusNotDelivered, 1, now),
		"message.expired": record("message.expired", state.StatusExpired, 0, now),
		"message.sent":    record("message.sent", state.StatusSent, 1, now),
		"message.old":     record("message.old", state.StatusFailed, 1, now.Add(-notify.Lookback-time.Minute)),
		"message.secret":  record("message.secret", state.StatusFailed, 1, now),
	}}
	grp := &spec.Group{Name: "eng"}
	plan := &planner.Plan{At: now, Changes: []*planner.Change{
		{Addr: mustAddr(t, "message.drifted"), Action: planner.Drift, Reason: "content changed", Instance: &spec.Instance{Addr: mustAddr(t, "message.drifted"), Group: grp, SendAt: t0, Text: "new words"},
			Record: &state.Record{Message: state.Message{ContentHash: "sha256:old"}}},
		{Addr: mustAddr(t, "message.secret"), Action: planner.Noop, Instance: &spec.Instance{Addr: mustAddr(t, "message.secret"), Group: grp, SendAt: t0, Text: "hidden", Sensitive: true}},
	}, Skipped: []*planner.Skipped{{Addr: mustAddr(t, "message.standup"), Count: 3, First: t0.Add(-72 * time.Hour), Last: t0.Add(-24 * time.Hour)}}}
	pass := notify.Pass{Plan: plan, State: snap, Executed: true, Now: now, Summary: notify.SummaryCounts(3, 1, 1, 1, 0)}
	events := notify.PassEvents(pass)
	kinds := map[string][]string{}
	for _, e := range events {
		kinds[e.Kind] = append(kinds[e.Kind], e.Addresses...)
		js, err := json.Marshal(e)
		require.NoError(t, err)
		require.NotContains(t, string(js), "new words", "an event carries message text")
		require.NotContains(t, string(js), "hidden")
	}
	require.Equal(t, map[string][]string{
		"failed":        {"message.failed", "message.secret"},
		"unknown":       {"message.unknown"},
		"not_delivered": {"message.absent"},
		"expired":       {"message.expired"},
		"drift":         {"message.drifted"},
		"skipped":       {"message.standup"},
		"apply_summary": nil,
	}, kinds)
	for _, e := range events {
		if e.Kind == "failed" && e.Addresses[0] == "message.secret" {
			require.Empty(t, e.Messages[0].Error, "a sensitive message's error is left out")
		}
		if e.Kind == "failed" && e.Addresses[0] == "message.failed" {
			require.Equal(t, "422 thread not found", e.Messages[0].Error)
			require.Equal(t, 2, e.Messages[0].Attempts)
		}
		if e.Kind == "apply_summary" {
			require.Equal(t, 3, e.Counts["sent"])
			require.Equal(t, &notify.StateRef{Lineage: "lin", Serial: 7}, e.State)
		}
	}
	// The same pass read again (after a crash, or by the next pass of
	// run) gives the same ids.
	again := notify.PassEvents(pass)
	require.Equal(t, len(events), len(again))
	for i := range events {
		require.Equal(t, events[i].ID, again[i].ID)
	}
	// Another failed attempt is another event.
	snap.Records["message.failed"] = record("message.failed", state.StatusFailed, 3, now)
	byAddr := func(es []notify.Event, kind, addr string) string {
		for _, e := range es {
			if e.Kind == kind && len(e.Addresses) == 1 && e.Addresses[0] == addr {
				return e.ID
			}
		}
		t.Fatalf("no %s event for %s", kind, addr)
		return ""
	}
	third := notify.PassEvents(pass)
	require.NotEqual(t, byAddr(events, "failed", "message.failed"), byAddr(third, "failed", "message.failed"))
	require.Equal(t, byAddr(events, "expired", "message.expired"), byAddr(third, "expired", "message.expired"))
}

func TestTakeoverEvent(t *testing.T) {
	e := notify.TakeoverEvent("host-a/123", t0)
	require.Equal(t, "takeover", e.Kind)
	require.Equal(t, e.ID, notify.TakeoverEvent("host-a/123", t0).ID)
	require.NotEqual(t, e.ID, notify.TakeoverEvent("host-a/123", t0.Add(time.Second)).ID)
}

func TestPreview(t *testing.T) {
	grp := &spec.Group{Name: "eng"}
	inst := func(name string) *spec.Instance {
		return &spec.Instance{Addr: mustAddr(t, name), Group: grp, SendAt: t0}
	}
	plan := &planner.Plan{At: t0, Changes: []*planner.Change{
		{Addr: mustAddr(t, "message.a"), Action: planner.Send, Instance: inst("message.a")},
		{Addr: mustAddr(t, "message.b"), Action: planner.Expire, Instance: inst("message.b")},
		{Addr: mustAddr(t, "message.c"), Action: planner.Drift, Instance: inst("message.c")},
	}}
	blocks := []*spec.Notify{
		{Name: "ops-slack", Events: []string{"expired"}},
		{Name: "hook", Events: []string{"failed", "unknown", "drift", "apply_summary"}},
		{Name: "quiet", Events: []string{"takeover"}},
	}
	got := notify.Preview(blocks, plan)
	var sentences []string
	for _, e := range got {
		sentences = append(sentences, e.Sentence())
	}
	require.Equal(t, []string{
		"apply would notify ops-slack of 1 expired",
		"apply would notify hook of 1 drift, 1 apply_summary (and of any send that fails or becomes unknown)",
	}, sentences)
	require.Equal(t, notify.Expected{Notify: "hook", Events: map[string]int{"drift": 1, "apply_summary": 1}, IfSendsFail: []string{"failed", "unknown"}}, got[1])
	require.Empty(t, notify.Preview(blocks, &planner.Plan{At: t0}))
}
