package executor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// own is the number the test groups send from.
const own = "+14155550000"

// unknown adds an unknown change whose last attempt started at started.
func unknown(b *planBuilder, group, name string, started time.Time) *planner.Change {
	c := b.text(planner.Unknown, group, name, t0)
	c.Record = &state.Record{
		Message: state.Message{Address: c.Addr.String()},
		Status:  state.StatusUnknown,
		Attempts: []state.Attempt{
			{Number: 1, StartedAt: started.Add(-time.Hour), Outcome: "transient"},
			{Number: 2, StartedAt: started},
		},
	}
	return c
}

func TestReconcile(t *testing.T) {
	started := t0.Add(90*time.Second + 700*time.Millisecond) // 09:01:30.7
	b := newPlan()
	found := unknown(b, "eng", "found", started)
	unknown(b, "eng", "missing", started)
	unknown(b, "eng", "earlier", started)
	// The API's dates have whole seconds: a message created in the same
	// second as the attempt started counts.
	sameSecond := unknown(b, "ops", "same_second", started)
	secret := unknown(b, "ops", "secret", started)
	secret.Instance.Sensitive = true
	b.send("ops", "not_unknown", t0) // only unknown changes are looked up

	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(thread string) ([]a1base.ThreadMessage, error) {
		switch thread {
		case "thread-eng":
			return []a1base.ThreadMessage{
				{From: own, Body: "text of message.found", DateCreated: t0.Add(95 * time.Second)},
				// Created before the attempt started, by more than the
				// clocks may disagree: another send of the same text.
				{From: own, Body: "text of message.earlier", DateCreated: t0.Add(-31 * time.Second)},
				{From: own, Body: "something else", DateCreated: t0.Add(96 * time.Second)},
			}, nil
		case "thread-ops":
			return []a1base.ThreadMessage{
				{From: own, Body: "text of message.same_second", DateCreated: t0.Add(90 * time.Second)},
				{From: own, Body: "text of message.secret", DateCreated: t0.Add(91 * time.Second)},
			}, nil
		}
		return nil, nil
	}
	h := &hookLog{}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.NoError(t, err)
	assert.ElementsMatch(t, []addrs.Message{found.Addr, sameSecond.Addr, secret.Addr}, resolved)
	assert.Equal(t, map[string]bool{
		"message.found": true, "message.missing": false, "message.earlier": false,
		"message.same_second": true, "message.secret": true,
	}, h.found)
	assert.Equal(t, map[string]int{"thread-eng": 1, "thread-ops": 1}, f.lookups)
	assert.Empty(t, f.sent())

	evs := rec.of("message.found")
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, state.EventOutcome, e.Kind)
	assert.Equal(t, state.StatusSent, e.Status)
	assert.Equal(t, "delivered", e.Outcome)
	assert.Equal(t, 2, e.Attempt, "the last attempt is the one that delivered")
	assert.Equal(t, "eng", e.Group)
	assert.Equal(t, found.Instance.ContentHash(), e.ContentHash)
	assert.Equal(t, &state.Answer{From: own, Body: "text of message.found", DateCreated: "2026-12-01T09:01:35Z"}, e.Answer)

	// Not found, and read before the attempt settled: the look-up is
	// noted on the attempt, and proves nothing.
	for _, addr := range []string{"message.missing", "message.earlier"} {
		evs := rec.of(addr)
		require.Len(t, evs, 1, addr)
		assert.Equal(t, state.EventLookUp, evs[0].Kind, addr)
		require.NotNil(t, evs[0].LookUp, addr)
		assert.Equal(t, 3, evs[0].LookUp.Messages, addr)
		assert.Contains(t, evs[0].LookUp.Unsettled, "too early", addr)
	}
	evs = rec.of("message.secret")
	require.Len(t, evs, 1)
	assert.Equal(t, "", evs[0].Answer.Body)
	assert.Equal(t, "2026-12-01T09:01:31Z", evs[0].Answer.DateCreated)
}

func TestReconcileUsesEachThreadMessageOnce(t *testing.T) {
	started := t0.Add(time.Minute)
	b := newPlan()
	one := unknown(b, "eng", "one", started)
	two := unknown(b, "eng", "two", started.Add(time.Second))
	two.Instance.Text = one.Instance.Text
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		return []a1base.ThreadMessage{{From: own, Body: one.Instance.Text, DateCreated: started.Add(5 * time.Second)}}, nil
	}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	assert.Equal(t, []addrs.Message{one.Addr}, resolved)
	require.Len(t, rec.of("message.two"), 1)
	assert.Equal(t, state.EventLookUp, rec.of("message.two")[0].Kind, "one delivery accounts for one message")
}

func TestReconcileLookupErrorsAreReportedNotFatal(t *testing.T) {
	started := t0.Add(time.Minute)
	b := newPlan()
	unknown(b, "down", "lost", started)
	ok := unknown(b, "eng", "ok", started)
	caption := unknown(b, "eng", "captionless", started)
	caption.Instance.Text = ""
	caption.Instance.Media = &spec.Media{URL: "https://example.com/a.png", Type: "image"}
	noAttempts := b.text(planner.Unknown, "eng", "no_attempts", t0)
	_ = noAttempts
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(thread string) ([]a1base.ThreadMessage, error) {
		if thread == "thread-down" {
			return nil, errors.New("A1Base answered 503")
		}
		return []a1base.ThreadMessage{
			{From: own, Body: ok.Instance.Text, DateCreated: started},
			{From: own, Body: "", DateCreated: started},
		}, nil
	}
	h := &hookLog{}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.NoError(t, err)
	assert.Equal(t, []addrs.Message{ok.Addr}, resolved)
	require.Len(t, h.lookErrs, 2)
	assert.ErrorContains(t, h.lookErrs["message.lost"], `looking up thread "thread-down": A1Base answered 503`)
	assert.ErrorContains(t, h.lookErrs["message.no_attempts"], "no attempt")
	assert.Empty(t, rec.of("message.lost"))
	// A media message without a caption is looked for by its URL; a
	// message read with neither text nor URL may be it.
	evs := rec.of("message.captionless")
	require.Len(t, evs, 1)
	assert.Equal(t, state.EventLookUp, evs[0].Kind)
	assert.Contains(t, evs[0].LookUp.Unsettled, "names no media URL")
}

// TestReconcileFindsCaptionlessMediaByURL: a media message without a
// caption is found by the media URL its thread message lists; another
// URL is not it, and a settled look-up whose messages all name their
// media proves it absent.
func TestReconcileFindsCaptionlessMediaByURL(t *testing.T) {
	started := t0.Add(time.Minute)
	ended := started.Add(time.Second)
	for _, tc := range []struct {
		name       string
		attachment string
		want       state.Status
	}{
		{"same URL", "https://example.com/a.png", state.StatusSent},
		{"another URL", "https://example.com/b.png", state.StatusNotDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			c := unknown(b, "eng", "captionless", started)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Text = ""
			c.Instance.Media = &spec.Media{URL: "https://example.com/a.png", Type: "image"}
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) {
				return []a1base.ThreadMessage{{From: own, Attachment: tc.attachment, DateCreated: started}}, nil
			}
			_, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
			require.NoError(t, err)
			evs := rec.of(c.Addr.String())
			require.Len(t, evs, 1)
			assert.Equal(t, tc.want, evs[0].Status, "%+v", evs[0].LookUp)
		})
	}
}

func TestReconcileRecordFailureIsAnError(t *testing.T) {
	started := t0.Add(time.Minute)
	b := newPlan()
	c := unknown(b, "eng", "found", started)
	rec := &memRecorder{fail: func(state.Event) error { return errDisk }}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		return []a1base.ThreadMessage{{From: own, Body: c.Instance.Text, DateCreated: started}}, nil
	}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.ErrorIs(t, err, errDisk)
	assert.Empty(t, resolved)
}

func TestReconcileWithNothingUnknownMakesNoCalls(t *testing.T) {
	b := newPlan()
	b.send("eng", "m", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	assert.Empty(t, resolved)
	assert.Empty(t, f.lookups)
}

// TestReconcileMatchesSenderAndWindow: a thread message is an unknown
// message's delivery only when it has the same text, comes from the number
// herald sends from, and was created within the attempt's window, widened
// by ClockSkew on both sides. A member posting the same text from another
// number, or the same text long before or after the attempt, does not mark
// the message as sent.
func TestReconcileMatchesSenderAndWindow(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(30 * time.Second)
	lookup := ended.Add(time.Hour) // the clock of the next apply
	cases := []struct {
		name  string
		from  string
		at    time.Time
		ended bool // the attempt's end is recorded
		found bool
	}{
		{name: "own", from: own, at: started.Add(time.Second), ended: true, found: true},
		{name: "own_other_spelling", from: "whatsapp:14155550000", at: started, ended: true, found: true},
		{name: "member_copy", from: "+19995550123", at: started.Add(time.Second), ended: true},
		{name: "no_sender", from: "", at: started.Add(time.Second), ended: true},
		{name: "api_clock_behind", from: own, at: started.Add(-ClockSkew), ended: true, found: true},
		{name: "too_early", from: own, at: started.Add(-ClockSkew - time.Second), ended: true},
		{name: "api_clock_ahead", from: own, at: ended.Add(ClockSkew), ended: true, found: true},
		{name: "too_late", from: own, at: ended.Add(ClockSkew + time.Second), ended: true},
		// A crash cut the attempt short: its window ends at the look-up.
		{name: "crashed_before_lookup", from: own, at: lookup, found: true},
		{name: "crashed_after_lookup", from: own, at: lookup.Add(ClockSkew + time.Second)},
	}
	b := newPlan()
	byThread := map[string][]a1base.ThreadMessage{}
	want := map[string]bool{}
	for _, tc := range cases {
		c := unknown(b, tc.name, tc.name, started)
		if tc.ended {
			last := &c.Record.Attempts[len(c.Record.Attempts)-1]
			last.FinishedAt = &ended
		}
		byThread[c.Instance.ThreadID] = []a1base.ThreadMessage{{From: tc.from, Body: c.Instance.Text, DateCreated: tc.at}}
		want[c.Addr.String()] = tc.found
	}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(thread string) ([]a1base.ThreadMessage, error) { return byThread[thread], nil }
	h := &hookLog{}
	_, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return lookup }}, h)
	require.NoError(t, err)
	assert.Equal(t, want, h.found)
	for addr, found := range want {
		evs := rec.of(addr)
		require.Len(t, evs, 1, addr)
		assert.Equal(t, found, evs[0].Status == state.StatusSent, "%s recorded as sent", addr)
	}
}
