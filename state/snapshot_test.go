package state

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestNewSnapshot(t *testing.T) {
	a, b := NewSnapshot(), NewSnapshot()
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), a.Lineage)
	require.NotEqual(t, a.Lineage, b.Lineage)
	require.Zero(t, a.Serial)
	require.NotNil(t, a.Records)
	require.Empty(t, a.Records)
}

func TestApply(t *testing.T) {
	t1, t2, t3, t4 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second), t0.Add(4*time.Second)
	answer := &Answer{ChatGroupID: "cg-1", From: "+14155550000", Status: "sent", DateCreated: "2026-12-01T09:00:01Z"}
	base := Record{Message: Message{Address: "message.a", Group: "eng", ThreadID: "thread-eng", Service: "whatsapp", From: "+14155550000", ContentHash: "hmac-sha256:message.a", SendAt: t0}}
	with := func(f func(r *Record)) *Record {
		r := base
		f(&r)
		return &r
	}
	cases := []struct {
		name   string
		events []Event
		want   *Record
	}{
		{
			name:   "attempt",
			events: []Event{attemptEvent("message.a", 1, t1)},
			want: with(func(r *Record) {
				r.Status = StatusSending
				r.Attempts = []Attempt{{Number: 1, StartedAt: t1}}
				r.UpdatedAt = t1
			}),
		},
		{
			name:   "attempt then sent",
			events: []Event{attemptEvent("message.a", 1, t1), sentEvent("message.a", 1, t2)},
			want: with(func(r *Record) {
				r.Status = StatusSent
				r.Attempts = []Attempt{{Number: 1, StartedAt: t1, FinishedAt: &t2, Outcome: "delivered"}}
				r.Answer = answer
				r.UpdatedAt = t2
			}),
		},
		{
			name:   "failed, retried, sent clears the last error",
			events: []Event{attemptEvent("message.a", 1, t1), failedEvent("message.a", 1, t2, "503"), attemptEvent("message.a", 2, t3), sentEvent("message.a", 2, t4)},
			want: with(func(r *Record) {
				r.Status = StatusSent
				r.Attempts = []Attempt{
					{Number: 1, StartedAt: t1, FinishedAt: &t2, Outcome: "permanent", Error: "503"},
					{Number: 2, StartedAt: t3, FinishedAt: &t4, Outcome: "delivered"},
				}
				r.Answer = answer
				r.UpdatedAt = t4
			}),
		},
		{
			name:   "failed keeps its error while the retry is in flight",
			events: []Event{attemptEvent("message.a", 1, t1), failedEvent("message.a", 1, t2, "503"), attemptEvent("message.a", 2, t3)},
			want: with(func(r *Record) {
				r.Status = StatusSending
				r.Attempts = []Attempt{{Number: 1, StartedAt: t1, FinishedAt: &t2, Outcome: "permanent", Error: "503"}, {Number: 2, StartedAt: t3}}
				r.LastError = "503"
				r.UpdatedAt = t3
			}),
		},
		{
			name:   "expiry without an attempt",
			events: []Event{{Kind: EventOutcome, Message: Message{Address: "message.a", Group: "eng", ThreadID: "thread-eng", Service: "whatsapp", From: "+14155550000", ContentHash: "hmac-sha256:message.a", SendAt: t0}, At: t1, Status: StatusExpired, Error: "past expires_after"}},
			want: with(func(r *Record) {
				r.Status = StatusExpired
				r.LastError = "past expires_after"
				r.UpdatedAt = t1
			}),
		},
		{
			name: "a short reconciliation outcome keeps the description",
			events: []Event{
				attemptEvent("message.a", 1, t1),
				{Kind: EventOutcome, Message: Message{Address: "message.a"}, At: t2, Status: StatusUnknown, Error: "no answer"},
				{Kind: EventOutcome, Message: Message{Address: "message.a"}, At: t3, Status: StatusSent, Answer: answer},
			},
			want: with(func(r *Record) {
				r.Status = StatusSent
				r.Attempts = []Attempt{{Number: 1, StartedAt: t1}}
				r.Answer = answer
				r.UpdatedAt = t3
			}),
		},
		{
			name:   "outcome for an attempt never seen",
			events: []Event{sentEvent("message.a", 3, t2)},
			want: with(func(r *Record) {
				r.Status = StatusSent
				r.Attempts = []Attempt{{Number: 3, StartedAt: t2, FinishedAt: &t2, Outcome: "delivered"}}
				r.Answer = answer
				r.UpdatedAt = t2
			}),
		},
		{
			name:   "invalid events are ignored",
			events: []Event{attemptEvent("message.a", 1, t1), {Kind: "bogus", Message: Message{Address: "message.a"}, At: t2}, {Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: "maybe", At: t2}},
			want: with(func(r *Record) {
				r.Status = StatusSending
				r.Attempts = []Attempt{{Number: 1, StartedAt: t1}}
				r.UpdatedAt = t1
			}),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Snapshot{Lineage: "l"}
			for _, e := range tc.events {
				s.Apply(e)
			}
			require.Len(t, s.Records, 1)
			if d := cmp.Diff(tc.want, s.Records["message.a"]); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestApplyDoesNotAliasTheEvent(t *testing.T) {
	s := NewSnapshot()
	e := sentEvent("message.a", 1, t0)
	s.Apply(e)
	e.Answer.Body = "changed afterwards"
	require.Empty(t, s.Records["message.a"].Answer.Body)
}

func TestValidateEvent(t *testing.T) {
	good := []Event{attemptEvent("message.a", 1, t0), sentEvent("message.a", 1, t0), {Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: StatusExpired}}
	for _, e := range good {
		require.NoError(t, ValidateEvent(e))
	}
	bad := map[string]Event{
		"no address":       {Kind: EventAttempt, Attempt: 1},
		"attempt 0":        {Kind: EventAttempt, Message: Message{Address: "message.a"}},
		"attempt status":   {Kind: EventAttempt, Message: Message{Address: "message.a"}, Attempt: 1, Status: StatusSent},
		"outcome sending":  {Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: StatusSending},
		"outcome negative": {Kind: EventOutcome, Message: Message{Address: "message.a"}, Status: StatusSent, Attempt: -1},
		"kind":             {Kind: "retry", Message: Message{Address: "message.a"}},
	}
	for name, e := range bad {
		require.Error(t, ValidateEvent(e), name)
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := NewSnapshot()
	s.Apply(attemptEvent("message.a", 1, t0))
	s.Apply(sentEvent("message.a", 1, t0.Add(time.Second)))
	c := s.Clone()
	require.Empty(t, cmp.Diff(s, c))

	r := s.Records["message.a"]
	*r.Attempts[0].FinishedAt = t0.Add(time.Hour)
	r.Answer.Body = "x"
	r.Attempts[0].Outcome = "x"
	s.Apply(attemptEvent("message.b", 1, t0))
	cr := c.Records["message.a"]
	require.Equal(t, t0.Add(time.Second), *cr.Attempts[0].FinishedAt)
	require.Empty(t, cr.Answer.Body)
	require.Equal(t, "delivered", cr.Attempts[0].Outcome)
	require.NotContains(t, c.Records, "message.b")
}
