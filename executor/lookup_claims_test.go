package executor

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// snapRecorder is a memRecorder that also reads the state its events make
// on top of base, as a state backend does.
type snapRecorder struct {
	*memRecorder
	base *state.Snapshot
}

func (s *snapRecorder) Snapshot(context.Context) (*state.Snapshot, error) {
	snap := state.NewSnapshot()
	if s.base != nil {
		snap = s.base.Clone()
	}
	for _, e := range s.all() {
		snap.Apply(e)
	}
	return snap, nil
}

// sentRecord is a record of c delivered by one attempt from started to
// answered, whose answer A1Base dated created.
func sentRecord(c *planner.Change, started, answered time.Time, created string) *state.Record {
	return &state.Record{
		Message: state.Message{Address: c.Addr.String(), Group: c.Instance.Group.Name, ThreadID: c.Instance.ThreadID, From: own, ContentHash: c.Instance.ContentHash(), SendAt: c.Instance.SendAt}, Status: state.StatusSent, Attempts: []state.Attempt{{Number: 1, StartedAt: started, FinishedAt: &answered, Outcome: "delivered"}},
		Answer: &state.Answer{From: own, Body: c.Instance.Content(), DateCreated: created},
	}
}

// TestReconcileSameTextOutsideWindowIsUnsettled: a message with the
// unknown message's text from its sender, dated outside the attempt's
// window, may be the delivery itself, dated by a clock further off than a
// look-up allows: the look-up proves nothing while it is listed.
func TestReconcileSameTextOutsideWindowIsUnsettled(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(2 * time.Second)
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{name: "dated_before", at: started.Add(-10 * time.Minute)},
		{name: "dated_after", at: ended.Add(10 * time.Minute)},
		{name: "days_before", at: started.Add(-48 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			c := unknown(b, "eng", "lost", started)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) {
				return []a1base.ThreadMessage{{From: "whatsapp:" + own, Body: c.Instance.Text, DateCreated: tc.at}}, nil
			}
			resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
			require.NoError(t, err)
			assert.Empty(t, resolved)
			evs := rec.of(c.Addr.String())
			require.Len(t, evs, 1)
			assert.Equal(t, state.EventLookUp, evs[0].Kind, "not %s", evs[0].Status)
			require.NotNil(t, evs[0].LookUp)
			assert.Empty(t, evs[0].LookUp.Covered)
			assert.Contains(t, evs[0].LookUp.Unsettled, "same text and sender, created "+stamp(tc.at)+", outside the attempt's window")
		})
	}
}

// TestReconcileRefusesToSettleBeyondObservedSkew: when A1Base dated a
// delivery herald recorded further from its attempt than a look-up
// allows, the clocks disagree by more than the window assumes, and no
// look-up of that account settles an absence.
func TestReconcileRefusesToSettleBeyondObservedSkew(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(2 * time.Second)
	for _, tc := range []struct {
		name    string
		created time.Duration // after the earlier attempt's start
		inPlan  bool          // the earlier record is in the plan, else only in state (a past occurrence)
		date    string        // the answer's date_created, when not created
		settles bool
		why     string
	}{
		{name: "in_step", created: time.Second, inPlan: true, settles: true},
		{name: "ahead_in_plan", created: 5 * time.Minute, inPlan: true},
		{name: "behind_in_plan", created: -3 * time.Minute, inPlan: true},
		{name: "ahead_in_state", created: 5 * time.Minute},
		{name: "within_allowance", created: ClockSkew, inPlan: true, settles: true},
		// A date without a zone could be in any: the clocks cannot be
		// compared, which is not proof that they agree.
		{name: "zoneless_answer", date: "2026-12-01T09:01:00", inPlan: true, why: `dated it "2026-12-01T09:01:00", which has no zone`},
		{name: "no_date", date: " ", inPlan: true, why: "gave no date_created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			prev := b.text(planner.Noop, "eng", "prev", t0)
			prevStart := t0.Add(time.Minute)
			prevEnd := prevStart.Add(time.Second)
			date := prevStart.Add(tc.created).Format(time.RFC3339)
			if tc.date != "" {
				date = strings.TrimSpace(tc.date)
			}
			prevRec := sentRecord(prev, prevStart, prevEnd, date)
			var base *state.Snapshot
			if tc.inPlan {
				prev.Record = prevRec
			} else {
				b.plan.Changes = b.plan.Changes[1:]
				base = state.NewSnapshot()
				base.Records[prevRec.Address] = prevRec
			}
			c := unknown(b, "eng", "lost", started)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
			mem := &memRecorder{}
			rec := &snapRecorder{memRecorder: mem, base: base}
			f := newFake(mem, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) { return nil, nil }
			resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
			require.NoError(t, err)
			evs := mem.of(c.Addr.String())
			require.Len(t, evs, 1)
			if tc.settles {
				assert.Equal(t, state.StatusNotDelivered, evs[0].Status)
				assert.Equal(t, []addrs.Message{c.Addr}, resolved)
				return
			}
			assert.Empty(t, resolved)
			assert.Equal(t, state.EventLookUp, evs[0].Kind, "not %s", evs[0].Status)
			why := cmp.Or(tc.why, "A1Base's clock has differed from herald's by up to")
			assert.Contains(t, evs[0].LookUp.Unsettled, why)
			assert.Contains(t, evs[0].LookUp.Unsettled, "message.prev")
		})
	}
}

// TestReconcileZonelessDatesAreUnreadable: a thread whose dates carry no
// zone cannot be placed against herald's clock. Read as UTC, a full page
// of members' messages dated "06:10" would seem to reach back before the
// attempt (made at 09:10 UTC) and prove its absence; they may well be
// 06:10 at UTC-3, after it.
func TestReconcileZonelessDatesAreUnreadable(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(2 * time.Second)
	var items []string
	for i := 4; i >= 0; i-- {
		items = append(items, fmt.Sprintf(`{"id":"m%d","body":"chat %d","from":"+19995550123","date_created":"2026-12-01T06:1%d:00"}`, i, i, i))
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":[`+strings.Join(items, ",")+`]}`)
	}))
	defer ts.Close()
	client := a1base.New(a1base.Config{BaseURL: ts.URL, AccountID: "acc_1", APIKey: testKey, APISecret: testSecret, Timeout: 5 * time.Second, HTTPClient: ts.Client()})

	b := newPlan()
	c := unknown(b, "eng", "lost", started)
	c.Record.Attempts[1].FinishedAt = &ended
	c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
	rec := &memRecorder{}
	resolved, err := Reconcile(context.Background(), b.plan, client, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
	require.NoError(t, err)
	assert.Empty(t, resolved)
	evs := rec.of(c.Addr.String())
	require.Len(t, evs, 1)
	assert.Equal(t, state.EventLookUp, evs[0].Kind, "not %s", evs[0].Status)
	assert.Nil(t, evs[0].LookUp.Oldest, "no date was readable")
	assert.Contains(t, evs[0].LookUp.Unsettled, "busier than one page")
}

// TestReconcileDoesNotAdoptAnotherRecordsDelivery: two messages with the
// same text in one thread (a fan-out, a repeat every minute). The one
// herald recorded as sent owns its delivery; the unknown one is never
// recorded as sent on it, whether the sent one is in the plan or only in
// state (an earlier occurrence of a repeat message). Claimed, that
// delivery does not hold back a proof of absence either.
func TestReconcileDoesNotAdoptAnotherRecordsDelivery(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	for _, tc := range []struct {
		name   string
		inPlan bool
		late   bool // the look-up is settled
	}{
		{name: "in_plan", inPlan: true},
		{name: "in_state", inPlan: false},
		{name: "in_plan_settled", inPlan: true, late: true},
		{name: "in_state_settled", inPlan: false, late: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			prev := b.text(planner.Noop, "eng", "prev", t0)
			prevRec := sentRecord(prev, started.Add(-30*time.Second), started.Add(-29*time.Second), started.Add(-30*time.Second).Format(time.RFC3339))
			var base *state.Snapshot
			if tc.inPlan {
				prev.Record = prevRec
			} else {
				b.plan.Changes = b.plan.Changes[1:]
				base = state.NewSnapshot()
				base.Records[prevRec.Address] = prevRec
			}
			c := unknown(b, "eng", "lost", started)
			c.Instance.Text = prev.Instance.Text
			ended := started.Add(time.Second)
			c.Record.Attempts[1].FinishedAt = &ended
			c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
			mem := &memRecorder{}
			rec := &snapRecorder{memRecorder: mem, base: base}
			f := newFake(mem, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) {
				return []a1base.ThreadMessage{{From: own, Body: prev.Instance.Text, DateCreated: started.Add(-30 * time.Second)}}, nil
			}
			now := ended.Add(10 * time.Second)
			if tc.late {
				now = ended.Add(time.Hour)
			}
			h := &hookLog{}
			resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return now }}, h)
			require.NoError(t, err)
			evs := mem.of(c.Addr.String())
			require.Len(t, evs, 1)
			assert.NotEqual(t, state.StatusSent, evs[0].Status, "recorded as sent on message.prev's delivery")
			assert.False(t, h.found[c.Addr.String()])
			if tc.late {
				assert.Equal(t, state.StatusNotDelivered, evs[0].Status, evs[0].LookUp.Unsettled)
				assert.Equal(t, []addrs.Message{c.Addr}, resolved)
			} else {
				assert.Equal(t, state.EventLookUp, evs[0].Kind)
				assert.Empty(t, resolved)
			}
		})
	}
}

// TestLostAnswerLookupSkipsClaimedDelivery: the look-up right after a lost
// answer does not take the delivery of a message with the same text that
// the run has just sent to the same group as its own.
func TestLostAnswerLookupSkipsClaimedDelivery(t *testing.T) {
	b := newPlan()
	first := b.send("eng", "first", t0)
	second := b.send("eng", "second", t0.Add(time.Second))
	second.Instance.Text = first.Instance.Text
	mem := &memRecorder{}
	rec := &snapRecorder{memRecorder: mem}
	f := newFake(mem, b.plan)
	f.respond = func(_ context.Context, _ string, n int, req a1base.SendRequest) a1base.Result {
		if n == 1 {
			return delivered(req) // dated 09:01:00, the clock
		}
		return ambiguous()
	}
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		return []a1base.ThreadMessage{{From: own, Body: first.Instance.Text, DateCreated: fixedClock()()}}, nil
	}
	sum, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 1, sum.Unknown)
	assert.Equal(t, state.StatusSent, mem.last(first.Addr.String()))
	assert.Equal(t, state.StatusUnknown, mem.last(second.Addr.String()), "recorded as sent on message.first's delivery")
}

// TestEvidenceDateBounds: an import takes a thread message only when it is
// dated no earlier than the message's send_at less the clock skew allowed,
// and for an occurrence of a repeat message after the occurrence before
// it; a thread message that names no sender, or has no readable date, is
// no evidence.
func TestEvidenceDateBounds(t *testing.T) {
	sendAt := t0.Add(48 * time.Hour)
	for _, tc := range []struct {
		name  string
		msg   a1base.ThreadMessage
		prev  time.Duration // the previous occurrence, before send_at; 0: not a repeat
		found bool
	}{
		{name: "on_time", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(3 * time.Second)}, found: true},
		{name: "clock_behind", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-ClockSkew)}, found: true},
		{name: "too_early", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-ClockSkew - time.Second)}},
		{name: "days_before", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-48 * time.Hour)}},
		{name: "days_before_daily", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-48 * time.Hour)}, prev: 24 * time.Hour},
		{name: "daily_on_time", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(time.Minute)}, prev: 24 * time.Hour, found: true},
		{name: "minutely_previous", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-time.Minute)}, prev: time.Minute},
		{name: "minutely_between", msg: a1base.ThreadMessage{From: own, DateCreated: sendAt.Add(-30 * time.Second)}, prev: time.Minute, found: true},
		{name: "no_sender", msg: a1base.ThreadMessage{DateCreated: sendAt}},
		{name: "no_date", msg: a1base.ThreadMessage{From: own}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPlan()
			c := b.text(planner.Import, "eng", "standup", sendAt)
			if tc.prev > 0 {
				c.Instance.Repeat = &spec.RepeatInfo{Cron: "0 9 * * *", Prev: sendAt.Add(-tc.prev), Next: sendAt.Add(tc.prev), Period: tc.prev}
			}
			rec := &memRecorder{}
			f := newFake(rec, b.plan)
			f.recent = func(string) ([]a1base.ThreadMessage, error) {
				m := tc.msg
				m.ID, m.Body = "msg_1", c.Instance.Text
				return []a1base.ThreadMessage{m}, nil
			}
			results, err := Evidence(context.Background(), []*planner.Change{c}, f, nil, nil)
			require.NoError(t, err)
			require.Len(t, results, 1)
			require.NoError(t, results[0].Err)
			assert.Equal(t, tc.found, results[0].Found != nil)
		})
	}
}

// TestReconcileUnclaimableDeliveryIsNotAdopted: a message recorded as sent
// whose answer does not say which thread message it was (no id, and a
// date without a zone) may own any message of its text within its
// attempt's window: the unknown message with the same text takes none of
// them, and its look-up settles nothing while one is listed.
func TestReconcileUnclaimableDeliveryIsNotAdopted(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(time.Second)
	b := newPlan()
	prev := b.text(planner.Noop, "eng", "prev", t0)
	prev.Record = sentRecord(prev, started.Add(-30*time.Second), started.Add(-29*time.Second), "2026-12-01T09:09:30")
	c := unknown(b, "eng", "lost", started)
	c.Instance.Text = prev.Instance.Text
	c.Record.Attempts[1].FinishedAt = &ended
	c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		return []a1base.ThreadMessage{{From: own, Body: prev.Instance.Text, DateCreated: started.Add(-30 * time.Second)}}, nil
	}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
	require.NoError(t, err)
	assert.Empty(t, resolved)
	evs := rec.of(c.Addr.String())
	require.Len(t, evs, 1)
	assert.Equal(t, state.EventLookUp, evs[0].Kind, "not %s", evs[0].Status)
	assert.Contains(t, evs[0].LookUp.Unsettled, "may be the delivery of message.prev")
}

// TestReconcileClaimsByMessageID: a sent record whose answer gave the
// message's id (messageId) claims the thread message with that id, even
// where the thread dates it otherwise than the answer did: the look-up of
// an unknown message with the same text neither adopts it nor lets it
// hold back a settled proof of absence. Without the id, the date decides
// (TestReconcileDoesNotAdoptAnotherRecordsDelivery).
func TestReconcileClaimsByMessageID(t *testing.T) {
	started := t0.Add(10 * time.Minute)
	ended := started.Add(time.Second)
	b := newPlan()
	prev := b.text(planner.Noop, "eng", "prev", t0)
	prev.Record = sentRecord(prev, started.Add(-30*time.Second), started.Add(-29*time.Second), started.Add(-30*time.Second).Format(time.RFC3339))
	prev.Record.Answer.MessageID = "m-41"
	c := unknown(b, "eng", "lost", started)
	c.Instance.Text = prev.Instance.Text
	c.Record.Attempts[1].FinishedAt = &ended
	c.Instance.Unknown = spec.UnknownPolicy{OnUnknown: spec.OnUnknownResend, Settle: 5 * time.Minute}
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.recent = func(string) ([]a1base.ThreadMessage, error) {
		// Dated inside the unknown attempt's window: only the id tells
		// it is message.prev's.
		return []a1base.ThreadMessage{{ID: "m-41", From: own, Body: prev.Instance.Text, DateCreated: started}}, nil
	}
	resolved, err := Reconcile(context.Background(), b.plan, f, rec, Options{Now: func() time.Time { return ended.Add(time.Hour) }}, nil)
	require.NoError(t, err)
	evs := rec.of(c.Addr.String())
	require.Len(t, evs, 1)
	assert.Equal(t, state.StatusNotDelivered, evs[0].Status, "%+v", evs[0].LookUp)
	assert.Equal(t, []addrs.Message{c.Addr}, resolved)
}

// TestSendRecordsMessageID: the id in a send's answer is kept in state.
func TestSendRecordsMessageID(t *testing.T) {
	b := newPlan()
	b.send("eng", "launch", t0)
	rec := &memRecorder{}
	f := newFake(rec, b.plan)
	f.respond = func(_ context.Context, _ string, _ int, req a1base.SendRequest) a1base.Result {
		res := delivered(req)
		res.Answer.MessageID = "m-7"
		return res
	}
	_, err := Run(context.Background(), b.plan, f, rec, Options{Now: fixedClock()}, nil)
	require.NoError(t, err)
	evs := rec.of("message.launch")
	require.Len(t, evs, 2)
	require.NotNil(t, evs[1].Answer)
	assert.Equal(t, "m-7", evs[1].Answer.MessageID)
}
