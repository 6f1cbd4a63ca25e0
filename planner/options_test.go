package planner

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func addrList(t *testing.T, ss ...string) []addrs.Message {
	var out []addrs.Message
	for _, s := range ss {
		out = append(out, mustAddr(t, s))
	}
	return out
}

func TestTargets(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{
		newInst(t, "message.a", due),
		newInst(t, "message.b", due),
		newInst(t, `message.r["eng"]`, due),
		newInst(t, `message.r["sales"]`, due),
	})
	snap := snapOf(
		rec(newInst(t, "message.gone", due), state.StatusSent),
		rec(newInst(t, `message.r["old"]`, due), state.StatusSent),
	)
	tests := []struct {
		targets []string
		want    []string
	}{
		{nil, []string{"send message.a", "send message.b", `send message.r["eng"]`, `send message.r["sales"]`, "orphan message.gone", `orphan message.r["old"]`}},
		{[]string{"message.a"}, []string{"send message.a"}},
		{[]string{"message.r"}, []string{`send message.r["eng"]`, `send message.r["sales"]`, `orphan message.r["old"]`}},
		{[]string{`message.r["eng"]`}, []string{`send message.r["eng"]`}},
		{[]string{`message.r["eng"]`, "message.b"}, []string{"send message.b", `send message.r["eng"]`}},
		{[]string{"message.gone"}, []string{"orphan message.gone"}},
		{[]string{"message.nothing"}, nil},
	}
	for _, tt := range tests {
		p := New(cfg, snap, clock, Options{Targets: addrList(t, tt.targets...)})
		require.Equal(t, tt.want, summary(p), "%v", tt.targets)
	}
}

func TestExclude(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{
		newInst(t, "message.a", due),
		newInst(t, "message.b", due),
		newInst(t, `message.r["eng"]`, due),
		newInst(t, `message.r["sales"]`, due),
		newInst(t, `module.emea.message.m`, due),
	})
	snap := snapOf(
		rec(newInst(t, "message.gone", due), state.StatusSent),
		rec(newInst(t, `message.r["old"]`, due), state.StatusSent),
	)
	tests := []struct {
		targets, exclude []string
		want             []string
		excluded         int
	}{
		{nil, []string{"message.a"}, []string{"send message.b", `send message.r["eng"]`, `send message.r["sales"]`, "send module.emea.message.m", "orphan message.gone", `orphan message.r["old"]`}, 1},
		{nil, []string{"message.r"}, []string{"send message.a", "send message.b", "send module.emea.message.m", "orphan message.gone"}, 3},
		{nil, []string{`message.r["eng"]`, "message.gone", "module.emea"}, []string{"send message.a", "send message.b", `send message.r["sales"]`, `orphan message.r["old"]`}, 3},
		// -target and -exclude together: the targets minus the excluded.
		{[]string{"message.r"}, []string{`message.r["eng"]`}, []string{`send message.r["sales"]`, `orphan message.r["old"]`}, 1},
		{[]string{"message.r", "message.a"}, []string{"message.r"}, []string{"send message.a"}, 3},
		// What -target left out is not counted as excluded.
		{[]string{"message.a"}, []string{"message.b"}, []string{"send message.a"}, 0},
		{[]string{"message.a"}, []string{"message.a"}, nil, 1},
	}
	for _, tt := range tests {
		p := New(cfg, snap, clock, Options{Targets: addrList(t, tt.targets...), Exclude: selections(t, tt.exclude...)})
		require.Equal(t, tt.want, summary(p), "-target=%v -exclude=%v", tt.targets, tt.exclude)
		require.Equal(t, tt.excluded, p.Excluded, "-target=%v -exclude=%v", tt.targets, tt.exclude)
	}
}

// selections parses -target and -exclude values, whole modules included.
func selections(t *testing.T, ss ...string) []addrs.Message {
	var out []addrs.Message
	for _, s := range ss {
		a, err := addrs.ParseSelection(s)
		require.NoError(t, err)
		out = append(out, a)
	}
	return out
}

func TestTargetsKeepRenameWarning(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{newInst(t, "message.new", due, text("x"))})
	snap := snapOf(rec(newInst(t, "message.old", due, text("x")), state.StatusSent))
	p := New(cfg, snap, clock, Options{Targets: addrList(t, "message.new")})
	require.Equal(t, []string{"send message.new"}, summary(p))
	require.Equal(t, "message.old", p.Changes[0].LikelyRenameOf.String())
}

func TestReplace(t *testing.T) {
	due := ago_(time.Hour)
	old := ago_(48 * time.Hour)
	const replaced = "replaced on request (-replace)"
	tests := []struct {
		name    string
		inst    *spec.Instance
		record  *state.Record
		action  Action
		replace bool
		reason  string
	}{
		{"sent", newInst(t, "message.a", due), rec(newInst(t, "message.a", due), state.StatusSent), Send, true, replaced},
		{"sent long ago", newInst(t, "message.a", old), rec(newInst(t, "message.a", old), state.StatusSent), Send, true, replaced},
		{"drift", newInst(t, "message.a", due, text("new")), rec(newInst(t, "message.a", due), state.StatusSent), Send, true, replaced},
		{"unknown", newInst(t, "message.a", due), rec(newInst(t, "message.a", due), state.StatusUnknown), Send, true, replaced},
		{"sending", newInst(t, "message.a", due), rec(newInst(t, "message.a", due), state.StatusSending), Send, true, replaced},
		{"expired, window since widened", newInst(t, "message.a", old, expiresAfter(72*time.Hour)), rec(newInst(t, "message.a", old), state.StatusExpired), Send, true, replaced},
		{"expired, still past its window", newInst(t, "message.a", old), rec(newInst(t, "message.a", old), state.StatusExpired), Noop, false,
			"recorded as expired; -replace has no effect: past its expiry window"},
		{"never sent, past its window", newInst(t, "message.a", old), nil, Expire, false,
			"past its 6h expiry window (due 2d ago); -replace has no effect: past its expiry window"},
		{"never sent, due", newInst(t, "message.a", due), nil, Send, false, "due 1h ago, never sent"},
		{"failed", newInst(t, "message.a", due), rec(newInst(t, "message.a", due), state.StatusFailed, failedAttempts(1, "boom")), Retry, false,
			"attempt 1 failed: boom; retry within window (5h left)"},
		{"sent, not due", newInst(t, "message.a", in(time.Hour)), rec(newInst(t, "message.a", in(time.Hour)), state.StatusSent, delivered(ago_(time.Minute))), Noop, false,
			"sent 2026-12-01T11:59:00Z; -replace has no effect: not due yet"},
		{"drift, moved later", newInst(t, "message.a", in(time.Hour)), rec(newInst(t, "message.a", due), state.StatusSent), Drift, false,
			"send_at changed (2026-12-01T11:00:00Z → 2026-12-01T13:00:00Z); -replace has no effect: not due yet"},
		{"not due, never sent", newInst(t, "message.a", in(time.Hour)), nil, Wait, false, "sends in 1h; -replace has no effect: not due yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []*state.Record
			if tt.record != nil {
				recs = append(recs, tt.record)
			}
			p := New(configOf([]*spec.Instance{tt.inst}), snapOf(recs...), clock, Options{Replace: addrList(t, "message.a")})
			require.Len(t, p.Changes, 1)
			c := p.Changes[0]
			require.Equal(t, tt.action.String(), c.Action.String())
			require.Equal(t, tt.replace, c.Replace)
			require.Equal(t, tt.reason, c.Reason)
		})
	}
}

func TestReplaceSelectsByAddress(t *testing.T) {
	due := ago_(time.Hour)
	eng := newInst(t, `message.r["eng"]`, due)
	sales := newInst(t, `message.r["sales"]`, due)
	other := newInst(t, "message.o", due)
	cfg := configOf([]*spec.Instance{eng, sales, other})
	snap := snapOf(rec(eng, state.StatusSent), rec(sales, state.StatusSent), rec(other, state.StatusSent))

	p := New(cfg, snap, clock, Options{Replace: addrList(t, "message.r")})
	require.Equal(t, []string{"noop message.o", `send message.r["eng"]`, `send message.r["sales"]`}, summary(p))

	p = New(cfg, snap, clock, Options{Replace: addrList(t, `message.r["sales"]`)})
	require.Equal(t, []string{"noop message.o", `noop message.r["eng"]`, `send message.r["sales"]`}, summary(p))

	p = New(cfg, snap, clock, Options{Replace: addrList(t, `message.r["sales"]`), Targets: addrList(t, "message.r")})
	require.Equal(t, []string{`noop message.r["eng"]`, `send message.r["sales"]`}, summary(p))
}

func TestReplaceMovedRecord(t *testing.T) {
	due := ago_(time.Hour)
	b := newInst(t, "message.b", due)
	p := New(configOf([]*spec.Instance{b}, move(t, "message.a", "message.b")),
		snapOf(rec(b, state.StatusSent, under("message.a"))), clock, Options{Replace: addrList(t, "message.b")})
	require.Equal(t, []string{"send message.b <- message.a"}, summary(p))
	require.True(t, p.Changes[0].Replace)
}

func TestValidate(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{newInst(t, "message.a", due), newInst(t, `message.r["eng"]`, due)})
	snap := snapOf(rec(newInst(t, "message.gone", due), state.StatusSent))

	ok := []Options{
		{},
		{Targets: addrList(t, "message.a", "message.r", `message.r["eng"]`, "message.gone")},
		{Replace: addrList(t, "message.a", "message.r")},
		{Targets: addrList(t, "message.r"), Replace: addrList(t, `message.r["eng"]`)},
		{Targets: addrList(t, `message.r["eng"]`), Replace: addrList(t, "message.r")},
	}
	for _, o := range ok {
		require.NoError(t, Validate(cfg, snap, o), "%+v", o)
	}

	err := Validate(cfg, snap, Options{
		Targets: addrList(t, "message.a", "message.typo", `message.r["x"]`),
		Replace: addrList(t, "message.gone", "message.r", "message.nope"),
	})
	var ue *UnmatchedError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, addrList(t, "message.typo", `message.r["x"]`), ue.Targets)
	require.Equal(t, addrList(t, "message.gone", "message.nope"), ue.Replace)
	require.Equal(t, addrList(t, "message.r"), ue.OutsideTargets)
	require.Equal(t, `-target=message.typo matches no message in the configuration or the state
-target=message.r["x"] matches no message in the configuration or the state
-replace=message.gone matches no message in the configuration
-replace=message.nope matches no message in the configuration
-replace=message.r matches no message selected by -target`, err.Error())

	require.Error(t, Validate(nil, nil, Options{Targets: addrList(t, "message.a")}))
}

func TestValidateExclude(t *testing.T) {
	due := ago_(time.Hour)
	cfg := configOf([]*spec.Instance{newInst(t, "message.a", due), newInst(t, `message.r["eng"]`, due), newInst(t, `message.r["sales"]`, due)})
	snap := snapOf(rec(newInst(t, "message.gone", due), state.StatusSent))

	ok := []Options{
		{Exclude: addrList(t, "message.a", "message.r", `message.r["eng"]`, "message.gone")},
		{Targets: addrList(t, "message.r"), Exclude: addrList(t, `message.r["eng"]`)},
		{Targets: addrList(t, `message.r["eng"]`), Exclude: addrList(t, "message.r")},
		{Exclude: addrList(t, `message.r["eng"]`), Replace: addrList(t, "message.r")},
		{Targets: addrList(t, "message.r"), Exclude: addrList(t, `message.r["eng"]`), Replace: addrList(t, "message.r")},
	}
	for _, o := range ok {
		require.NoError(t, Validate(cfg, snap, o), "%+v", o)
	}

	err := Validate(cfg, snap, Options{
		Targets: addrList(t, "message.r"),
		Exclude: addrList(t, "message.typo", `message.r["x"]`, "message.a", `message.r["eng"]`),
		Replace: addrList(t, `message.r["eng"]`),
	})
	var ue *UnmatchedError
	require.True(t, errors.As(err, &ue))
	require.Equal(t, addrList(t, "message.typo", `message.r["x"]`), ue.Exclude)
	require.Equal(t, addrList(t, "message.a"), ue.ExcludeOutsideTargets)
	require.Equal(t, addrList(t, `message.r["eng"]`), ue.ReplaceExcluded)
	require.Empty(t, ue.Targets)
	require.Equal(t, `-exclude=message.typo matches no message in the configuration or the state
-exclude=message.r["x"] matches no message in the configuration or the state
-exclude=message.a matches no message selected by -target
-replace=message.r["eng"] matches only messages that -exclude leaves out`, err.Error())

	// An orphan is excluded as it is targeted: by its record.
	require.NoError(t, Validate(cfg, snap, Options{Targets: addrList(t, "message.gone"), Exclude: addrList(t, "message.gone")}))
	require.Error(t, Validate(nil, nil, Options{Exclude: addrList(t, "message.a")}))
}
