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

// unknown adds an unknown change whose last attempt started at started.
func unknown(b *planBuilder, group, name string, started time.Time) *planner.Change {
	c := b.text(planner.Unknown, group, name, t0)
	c.Record = &state.Record{
		Address: c.Addr.String(),
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
				{Body: "text of message.found", DateCreated: t0.Add(95 * time.Second)},
				{Body: "text of message.earlier", DateCreated: t0.Add(89 * time.Second)},
				{Body: "something else", DateCreated: t0.Add(96 * time.Second)},
			}, nil
		case "thread-ops":
			return []a1base.ThreadMessage{
				{Body: "text of message.same_second", DateCreated: t0.Add(90 * time.Second)},
				{Body: "text of message.secret", DateCreated: t0.Add(91 * time.Second)},
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
	assert.Equal(t, &state.Answer{Body: "text of message.found", DateCreated: "2026-12-01T09:01:35Z"}, e.Answer)

	assert.Empty(t, rec.of("message.missing"))
	assert.Empty(t, rec.of("message.earlier"))
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
		return []a1base.ThreadMessage{{Body: one.Instance.Text, DateCreated: started.Add(5 * time.Second)}}, nil
	}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	assert.Equal(t, []addrs.Message{one.Addr}, resolved)
	assert.Empty(t, rec.of("message.two"))
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
			{Body: ok.Instance.Text, DateCreated: started},
			{Body: "", DateCreated: started},
		}, nil
	}
	h := &hookLog{}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, h)
	require.NoError(t, err)
	assert.Equal(t, []addrs.Message{ok.Addr}, resolved)
	require.Len(t, h.lookErrs, 3)
	assert.ErrorContains(t, h.lookErrs["message.lost"], `looking up thread "thread-down": A1Base answered 503`)
	assert.ErrorContains(t, h.lookErrs["message.captionless"], "without a caption")
	assert.ErrorContains(t, h.lookErrs["message.no_attempts"], "no attempt")
	assert.Empty(t, rec.of("message.lost"))
	assert.Empty(t, rec.of("message.captionless"))
}

func TestReconcileRecordFailureIsAnError(t *testing.T) {
	started := t0.Add(time.Minute)
	b := newPlan()
	c := unknown(b, "eng", "found", started)
	rec := &memRecorder{fail: func(state.Event) error { return errDisk }}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		return []a1base.ThreadMessage{{Body: c.Instance.Text, DateCreated: started}}, nil
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
