package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// skippedDir is a configuration of one repeat message with the rule and
// the repeat block's from (none when "").
func skippedDir(t *testing.T, cron, from string) string {
	t.Helper()
	dir := t.TempDir()
	fromLine := ""
	if from != "" {
		fromLine = `from = "` + from + `"`
	}
	src := `
group "eng" {
  thread_id = "t-eng"
  from      = "+14155550000"
  timezone  = "Europe/Berlin"
}
message "standup" {
  group = group.eng
  repeat {
    cron = "` + cron + `"
    ` + fromLine + `
  }
  text = "Standup (${each.key})"
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	return dir
}

// recordAt puts a record of the standup's occurrence at wall time day in
// snap, with the status given.
func recordAt(t *testing.T, dir string, snap *state.Snapshot, day string, status state.Status) {
	t.Helper()
	when := berlin(t, day)
	cfg := loadAt(t, dir, when)
	inst := *cfg.Instances[0]
	require.True(t, inst.SendAt.Equal(when), "%s is an occurrence", day)
	snap.Records[inst.Addr.String()] = recordOf(&inst, status)
}

func TestSkippedWithoutStateOrFrom(t *testing.T) {
	dir := skippedDir(t, "0 9 * * MON", "")
	at := berlin(t, "2027-04-19 09:05:00")
	p := New(loadAt(t, dir, at), nil, at, Options{})
	require.Empty(t, p.Skipped, "a new rule without from has missed nothing")
	require.Equal(t, 0, p.SkippedCount())
}

func TestSkippedFromFrom(t *testing.T) {
	dir := skippedDir(t, "0 9 * * MON", "2027-03-29 00:00")
	at := berlin(t, "2027-04-19 09:05:00")
	p := New(loadAt(t, dir, at), nil, at, Options{})
	require.Len(t, p.Skipped, 1)
	s := p.Skipped[0]
	require.Equal(t, "message.standup", s.Addr.String())
	require.Equal(t, 3, s.Count, "29 March, 5 and 12 April: from is included")
	require.Equal(t, "2027-03-29T09:00:00+02:00", s.First.In(s.Timezone).Format(time.RFC3339))
	require.Equal(t, "2027-04-12T09:00:00+02:00", s.Last.In(s.Timezone).Format(time.RFC3339))
	require.Equal(t, "Europe/Berlin", s.Timezone.String())
	require.False(t, s.AtLeast())
	require.Equal(t, 3, p.SkippedCount())
	require.Equal(t, []string{
		`send message.standup["2027-04-19T09:00:00+02:00"]`,
		`wait message.standup["2027-04-26T09:00:00+02:00"]`,
	}, actions(p), "skipped occurrences are not changes")

	// A clock before the second occurrence: nothing between from and the
	// latest.
	at = berlin(t, "2027-03-29 09:05:00")
	p = New(loadAt(t, dir, at), nil, at, Options{})
	require.Empty(t, p.Skipped)
}

// TestSkippedAfterARecord: counting starts at the latest record of the
// message's occurrences, whatever its status, and stops once the latest
// occurrence is recorded.
func TestSkippedAfterARecord(t *testing.T) {
	dir := skippedDir(t, "0 9 * * MON", "2027-03-01 00:00")
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	recordAt(t, dir, snap, "2027-03-22 09:00:00", state.StatusSent)
	recordAt(t, dir, snap, "2027-03-29 09:00:00", state.StatusExpired)
	at := berlin(t, "2027-04-19 09:05:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, snap, at, Options{})
	require.Len(t, p.Skipped, 1)
	require.Equal(t, 2, p.Skipped[0].Count, "5 and 12 April, after the expired record of 29 March")
	require.Equal(t, "2027-04-05T09:00:00+02:00", p.Skipped[0].First.In(p.Skipped[0].Timezone).Format(time.RFC3339))

	// The previous occurrence recorded: nothing passed over.
	recordAt(t, dir, snap, "2027-04-12 09:00:00", state.StatusFailed)
	require.Empty(t, New(cfg, snap, at, Options{}).Skipped)
	delete(snap.Records, `message.standup["2027-04-12T09:00:00+02:00"]`)

	// Once apply recorded the latest, the gap is behind it.
	applyRepeatPlan(p, snap)
	require.Empty(t, New(cfg, snap, at, Options{}).Skipped, "reported once, by the plans before the apply")

	// -exclude or a -target elsewhere leaves the message out, and its
	// skipped occurrences with it.
	delete(snap.Records, `message.standup["2027-04-19T09:00:00+02:00"]`)
	require.Len(t, New(cfg, snap, at, Options{}).Skipped, 1)
	block := addrs.NoKey("standup")
	require.Empty(t, New(cfg, snap, at, Options{Exclude: []addrs.Message{block}}).Skipped)
	next := mustAddr(t, `message.standup["2027-04-26T09:00:00+02:00"]`)
	require.Empty(t, New(cfg, snap, at, Options{Targets: []addrs.Message{next}}).Skipped)
	require.Len(t, New(cfg, snap, at, Options{Targets: []addrs.Message{block}}).Skipped, 1)
}

// TestSkippedCap: an every-minute rule after a month's outage counts up
// to MaxSkipped and stops; the first and last are still exact.
func TestSkippedCap(t *testing.T) {
	dir := skippedDir(t, "* * * * *", "")
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	recordAt(t, dir, snap, "2027-03-01 12:00:00", state.StatusSent)
	at := berlin(t, "2027-04-01 12:00:30")
	start := time.Now()
	p := New(loadAt(t, dir, at), snap, at, Options{})
	require.Less(t, time.Since(start), 5*time.Second, "the walk is capped")
	require.Len(t, p.Skipped, 1)
	s := p.Skipped[0]
	require.Equal(t, MaxSkipped, s.Count)
	require.True(t, s.AtLeast())
	require.Equal(t, berlin(t, "2027-03-01 12:01:00"), s.First.In(s.Timezone))
	require.Equal(t, berlin(t, "2027-04-01 11:59:00"), s.Last.In(s.Timezone))
}

// TestSkippedInSavedPlan: a saved plan carries its skipped occurrences,
// so that show PLANFILE and apply PLANFILE report them; a damaged entry
// is refused.
func TestSkippedInSavedPlan(t *testing.T) {
	dir := skippedDir(t, "0 9 * * MON", "2027-03-29 00:00")
	at := berlin(t, "2027-04-19 09:05:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, nil, at, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	require.Contains(t, string(data), `"skipped": [`)
	sp, err := Decode(data)
	require.NoError(t, err)
	for _, got := range []*Plan{sp.Plan(), mustResolve(t, sp, cfg)} {
		require.Len(t, got.Skipped, 1)
		s := got.Skipped[0]
		require.Equal(t, "message.standup", s.Addr.String())
		require.Equal(t, 3, s.Count)
		require.True(t, s.First.Equal(p.Skipped[0].First))
		require.True(t, s.Last.Equal(p.Skipped[0].Last))
		require.Equal(t, "Europe/Berlin", s.Timezone.String())
	}

	for _, bad := range []struct{ from, to, want string }{
		{`"count": 3`, `"count": 0`, "a count of 0"},
		{`"address": "message.standup"`, `"address": "message.standup[\"x\"]"`, "not a message block"},
		{`"timezone": "Europe/Berlin"`, `"timezone": "Mars/Olympus"`, "unknown timezone"},
	} {
		_, err := Decode([]byte(replaceOnce(t, string(data), bad.from, bad.to)))
		require.ErrorContains(t, err, bad.want)
		require.ErrorContains(t, err, "damaged")
	}
}

func mustResolve(t *testing.T, sp *SavedPlan, cfg *spec.Config) *Plan {
	t.Helper()
	p, err := sp.Resolve(cfg, testPlanKey)
	require.NoError(t, err)
	return p
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	require.GreaterOrEqual(t, i, 0, "%q in the plan file", from)
	return s[:i] + to + s[i+len(from):]
}
