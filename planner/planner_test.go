package planner

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// TestActions covers every action and reason for one instance (or one
// orphan) against what state holds for it.
func TestActions(t *testing.T) {
	const a = "message.a"
	sentAtTime := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	base := func(opts ...instOpt) *spec.Instance { return newInst(t, a, ago_(3*time.Hour), opts...) }

	tests := []struct {
		name   string
		inst   *spec.Instance // nil: nothing configured
		record *state.Record  // nil: nothing in state
		action Action
		reason string
	}{
		{"due never sent", base(), nil, Send, "due 3h ago, never sent"},
		{"due now", newInst(t, a, clock), nil, Send, "due now, never sent"},
		{"due minutes ago", newInst(t, a, ago_(90*time.Second)), nil, Send, "due 1m ago, never sent"},
		{"due at the window's last moment", newInst(t, a, ago_(6*time.Hour)), nil, Send, "due 6h ago, never sent"},
		{"not due", newInst(t, a, in(2*time.Hour)), nil, Wait, "sends in 2h"},
		{"not due, days", newInst(t, a, in(50*time.Hour+30*time.Minute)), nil, Wait, "sends in 2d2h"},
		{"past the window", newInst(t, a, ago_(48*time.Hour)), nil, Expire, "past its 6h expiry window (due 2d ago)"},
		{"past a 90m window", newInst(t, a, ago_(2*time.Hour), expiresAfter(90*time.Minute)), nil, Expire, "past its 1h30m expiry window (due 2h ago)"},
		{"one second past the window", newInst(t, a, ago_(6*time.Hour+time.Second)), nil, Expire, "past its 6h expiry window (due 6h ago)"},

		{"sent unchanged", base(), rec(base(), state.StatusSent, delivered(sentAtTime)), Noop, "sent 2026-12-01T09:00:00Z"},
		{"sent, answer date only", base(), rec(base(), state.StatusSent, func(r *state.Record) {
			r.Answer = &state.Answer{DateCreated: "2026-12-01T09:00:05Z"}
		}), Noop, "sent 2026-12-01T09:00:05Z"},
		{"sent, nothing known of when", base(), rec(base(), state.StatusSent), Noop, "already sent"},
		{"sent, other sender and service", base(), rec(base(), state.StatusSent, delivered(sentAtTime), func(r *state.Record) {
			r.From, r.Service = "+10000000000", "telegram"
		}), Noop, "sent 2026-12-01T09:00:00Z"},
		{"sent, text changed", base(text("new")), rec(base(text("old")), state.StatusSent), Drift, "text changed since it was sent"},
		{"sent, media changed", base(media("https://x/b.pdf", "")), rec(base(media("https://x/a.pdf", "")), state.StatusSent), Drift, "media changed since it was sent"},
		{"sent, now sensitive", base(sensitive()), rec(base(), state.StatusSent), Drift, "text changed since it was sent"},
		{"sent, group changed", base(group("sales")), rec(base(), state.StatusSent), Drift, "group changed (eng → sales)"},
		{"sent, thread changed", base(), rec(base(), state.StatusSent, func(r *state.Record) { r.ThreadID = "t-old" }), Drift, "thread_id changed (t-old → t-eng)"},
		{"sent, send_at changed", base(), rec(newInst(t, a, ago_(5*time.Hour)), state.StatusSent), Drift,
			"send_at changed (2026-12-01T07:00:00Z → 2026-12-01T09:00:00Z)"},
		{"sent, everything changed", newInst(t, a, in(time.Hour), text("new"), group("sales")), rec(base(), state.StatusSent), Drift,
			"text changed since it was sent; group changed (eng → sales); send_at changed (2026-12-01T09:00:00Z → 2026-12-01T13:00:00Z)"},
		{"sent, same instant in another zone", newInst(t, a, ago_(3*time.Hour).In(time.FixedZone("CET", 3600))), rec(base(), state.StatusSent), Noop, "already sent"},

		{"expired unchanged", newInst(t, a, ago_(48*time.Hour)), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusExpired), Noop, "recorded as expired"},
		{"expired, text changed, send_at kept", newInst(t, a, ago_(48*time.Hour), text("new")), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusExpired), Noop, "recorded as expired"},
		{"expired, send_at moved to the future", newInst(t, a, in(2*time.Hour)), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusExpired), Wait,
			"send_at changed since it was recorded as expired; sends in 2h"},
		{"expired, send_at moved into the window", newInst(t, a, ago_(time.Hour)), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusExpired), Send,
			"send_at changed since it was recorded as expired; due 1h ago, never sent"},
		{"expired, send_at moved but still late", newInst(t, a, ago_(24*time.Hour)), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusExpired), Expire,
			"send_at changed since it was recorded as expired; past its 6h expiry window (due 1d ago)"},

		{"failed within the window", base(), rec(base(), state.StatusFailed, failedAttempts(2, "422 thread not found")), Retry,
			"attempt 2 failed: 422 thread not found; retry within window (3h left)"},
		{"failed, nothing recorded of it", base(), rec(base(), state.StatusFailed), Retry, "an earlier attempt failed; retry within window (3h left)"},
		{"failed past the window", newInst(t, a, ago_(48*time.Hour)), rec(newInst(t, a, ago_(48*time.Hour)), state.StatusFailed, failedAttempts(2, "boom")), Expire,
			"attempt 2 failed: boom; past its 6h expiry window (due 2d ago)"},
		{"failed, send_at moved to the future", newInst(t, a, in(2*time.Hour)), rec(base(), state.StatusFailed, failedAttempts(1, "boom")), Wait,
			"sends in 2h (attempt 1 failed: boom)"},
		{"failed, content changed since", base(text("fixed")), rec(base(text("broken")), state.StatusFailed, failedAttempts(1, "boom")), Retry,
			"attempt 1 failed: boom; retry within window (3h left)"},

		{"unknown", base(), rec(base(), state.StatusUnknown), Unknown, "an earlier apply may have sent it (answer lost); -replace to resend"},
		{"sending from a run that died", base(), rec(base(), state.StatusSending), Unknown,
			"an earlier apply stopped while sending it (no answer recorded); -replace to resend"},
		{"unknown even when changed", base(text("new")), rec(base(text("old")), state.StatusUnknown), Unknown,
			"an earlier apply may have sent it (answer lost); -replace to resend"},
		{"status herald does not know", base(), rec(base(), "bounced"), Unknown, `state records status "bounced"; treated as unknown; -replace to resend`},

		{"orphan", nil, rec(base(), state.StatusSent), Orphan, "in state but no longer in configuration"},
		{"orphan, failed", nil, rec(base(), state.StatusFailed), Orphan, "in state but no longer in configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var instances []*spec.Instance
			if tt.inst != nil {
				instances = append(instances, tt.inst)
			}
			snap := snapOf()
			if tt.record != nil {
				snap = snapOf(tt.record)
			}
			p := New(configOf(instances), snap, clock, Options{})
			require.Len(t, p.Changes, 1)
			c := p.Changes[0]
			require.Equal(t, a, c.Addr.String())
			require.Equal(t, tt.action.String(), c.Action.String())
			require.Equal(t, tt.reason, c.Reason)
			require.Same(t, tt.inst, c.Instance)
			require.Same(t, tt.record, c.Record)
			require.Nil(t, c.MovedFrom)
			require.Nil(t, c.LikelyRenameOf)
			require.False(t, c.Replace)
		})
	}
}

func TestPlanMetadata(t *testing.T) {
	p := New(configOf(nil), snapOf(), clock, Options{})
	require.Equal(t, clock, p.At)
	require.Equal(t, "lineage-1", p.Lineage)
	require.Equal(t, uint64(7), p.Serial)
	require.Equal(t, "sha256:config-1", p.ConfigHash)
	require.Empty(t, p.Changes)
	for _, a := range Actions {
		require.Contains(t, p.Summary(), a)
	}
}

func TestNilInputs(t *testing.T) {
	p := New(nil, nil, clock, Options{})
	require.Empty(t, p.Changes)
	require.Empty(t, p.Lineage)

	inst := newInst(t, "message.a", ago_(time.Hour))
	p = New(configOf([]*spec.Instance{inst, nil}), &state.Snapshot{Records: map[string]*state.Record{"message.b": nil}}, clock, Options{})
	require.Len(t, p.Changes, 1)
	require.Equal(t, Send, p.Changes[0].Action)
}

func TestOrdering(t *testing.T) {
	early := newInst(t, "message.z", ago_(2*time.Hour))
	b := newInst(t, `message.r["b"]`, ago_(time.Hour))
	a := newInst(t, `message.r["a"]`, ago_(time.Hour))
	blockB := newInst(t, "message.b", ago_(time.Hour))
	late := newInst(t, "message.a", in(time.Hour))
	gone1 := rec(newInst(t, "message.y", in(-100*time.Hour)), state.StatusSent)
	gone2 := rec(newInst(t, "message.c", in(100*time.Hour)), state.StatusSent)
	// The configuration arrives unordered; the plan orders it anyway.
	p := New(configOf([]*spec.Instance{late, b, blockB, early, a}), snapOf(gone1, gone2), clock, Options{})
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Addr.String())
	}
	require.Equal(t, []string{"message.z", "message.b", `message.r["a"]`, `message.r["b"]`, "message.a", "message.c", "message.y"}, got)
}

func TestUnreadableRecordAddress(t *testing.T) {
	bad := &state.Record{Message: state.Message{Address: "message.a.b"}, Status: state.StatusSent}
	p := New(configOf(nil), snapOf(bad), clock, Options{})
	require.Len(t, p.Changes, 1)
	require.Equal(t, Orphan, p.Changes[0].Action)
	require.Contains(t, p.Changes[0].Reason, `cannot read ("message.a.b")`)
}

func TestParseAddr(t *testing.T) {
	for _, s := range []string{"message.a", `message.r["eng"]`, `message.r["a \"q\" $${x} %%{y}"]`, `message.r[""]`, `message.r["ü"]`} {
		a, ok := parseAddr(s)
		require.True(t, ok, s)
		require.Equal(t, s, a.String())
	}
	for _, s := range []string{"message.a.b", "message.", `message.r["x"]["y"]`, "group.eng", `message.r[1`, ""} {
		_, ok := parseAddr(s)
		require.False(t, ok, s)
	}
}

// TestPastOccurrences: records of other occurrences of a repeat message
// are neither listed nor orphans (CONTRACT §2b); records of the same block
// under a key that is not a time still are orphans, and a for_each message
// keyed by times is not taken for a repeat message.
func TestPastOccurrences(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*3600)
	latest := time.Date(2026, 12, 1, 9, 0, 0, 0, berlin)
	next := latest.Add(7 * 24 * time.Hour)
	key := func(t time.Time) string { return `message.standup["` + t.Format(time.RFC3339) + `"]` }
	repeat := func(i *spec.Instance) { i.Repeat = &spec.RepeatInfo{Cron: "0 9 * * TUE", Remaining: -1} }
	cur := newInst(t, key(latest), latest, repeat)
	nxt := newInst(t, key(next), next, repeat)
	older := rec(newInst(t, key(latest.Add(-7*24*time.Hour)), latest.Add(-7*24*time.Hour)), state.StatusSent)
	between := rec(newInst(t, key(latest.Add(24*time.Hour)), latest.Add(24*time.Hour)), state.StatusSent)
	notATime := rec(newInst(t, `message.standup["x"]`, latest), state.StatusSent)

	p := New(configOf([]*spec.Instance{cur, nxt}), snapOf(rec(cur, state.StatusSent), older, between, notATime), clock, Options{})
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Action.String()+" "+c.Addr.String())
	}
	require.Equal(t, []string{
		"noop " + key(latest),
		"wait " + key(next),
		`orphan message.standup["x"]`,
	}, got)

	// The same instances without the marker are a for_each message: its
	// old records are orphans.
	plain := []*spec.Instance{newInst(t, key(latest), latest), newInst(t, key(next), next)}
	p = New(configOf(plain), snapOf(older), clock, Options{})
	require.Equal(t, Orphan, changeByAddr(p, older.Address).Action)

	// A repeat message with no occurrence planned (say, -target left them
	// out elsewhere, or its window has none now) is still known by the
	// configuration's list of rules.
	cfg := configOf(nil)
	cfg.Repeats = map[string]*spec.Repeat{"standup": {Name: "standup"}}
	p = New(cfg, snapOf(older), clock, Options{})
	require.Empty(t, p.Changes)
}

func TestDuplicateInstanceAddress(t *testing.T) {
	one := newInst(t, "message.a", ago_(time.Hour))
	two := newInst(t, "message.a", ago_(time.Hour), text("other"))
	p := New(configOf([]*spec.Instance{one, two}), snapOf(rec(one, state.StatusSent)), clock, Options{})
	require.Len(t, p.Changes, 2)
	actions := []Action{p.Changes[0].Action, p.Changes[1].Action}
	require.ElementsMatch(t, []Action{Noop, Send}, actions)
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "0s",
		45 * time.Second:              "45s",
		-45 * time.Second:             "45s",
		59 * time.Minute:              "59m",
		time.Hour:                     "1h",
		90 * time.Minute:              "1h30m",
		23*time.Hour + 59*time.Minute: "23h59m",
		24 * time.Hour:                "1d",
		49 * time.Hour:                "2d1h",
		400 * 24 * time.Hour:          "400d",
	} {
		require.Equal(t, want, ago(d), d.String())
	}
	for d, want := range map[time.Duration]string{
		6 * time.Hour:    "6h",
		90 * time.Minute: "1h30m",
		90 * time.Second: "1m30s",
		24 * time.Hour:   "24h",
		0:                "0s",
	} {
		require.Equal(t, want, window(d))
	}
}

func TestReasonsNeverEmpty(t *testing.T) {
	insts := []*spec.Instance{newInst(t, "message.a", ago_(time.Hour)), newInst(t, "message.b", in(time.Hour))}
	p := New(configOf(insts), snapOf(rec(newInst(t, "message.c", clock), state.StatusSent)), clock, Options{})
	for _, c := range p.Changes {
		require.NotEmpty(t, strings.TrimSpace(c.Reason), c.Addr.String())
	}
}

func TestUnrecorded(t *testing.T) {
	due := newInst(t, "message.due", ago_(time.Hour))
	old := newInst(t, "message.old", ago_(10*time.Hour))
	retry := newInst(t, "message.retry", ago_(time.Hour))
	later := newInst(t, "message.later", in(time.Hour))
	p := &Plan{At: clock, Changes: []*Change{
		{Addr: due.Addr, Action: Send, Instance: due},
		{Addr: old.Addr, Action: Expire, Instance: old},
		{Addr: retry.Addr, Action: Retry, Instance: retry, Record: recordOf(retry, state.StatusFailed)},
		{Addr: later.Addr, Action: Wait, Instance: later},
		{Addr: mustAddr(t, "message.gone"), Action: Orphan, Record: recordOf(newInst(t, "message.gone", ago_(time.Hour)), state.StatusSent)},
	}}
	var got []string
	for _, c := range p.Unrecorded() {
		got = append(got, c.Addr.String())
	}
	require.Equal(t, []string{"message.due", "message.old"}, got)
}
