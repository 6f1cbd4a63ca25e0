package planner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// loadAt loads a configuration at a clock, as plan and apply do.
func loadAt(t *testing.T, dir string, at time.Time) *spec.Config {
	t.Helper()
	cfg, diags := spec.Load(dir, spec.LoadOptions{At: at, Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%v", diags)
	return cfg
}

func repeatDir(t *testing.T, cron string) string {
	t.Helper()
	dir := t.TempDir()
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
    from = "2027-03-01 00:00"
  }
  text = "Standup (${each.key})"
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	return dir
}

func berlin(t *testing.T, wall string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", wall, loc)
	require.NoError(t, err)
	return at
}

func actions(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Action.String()+" "+c.Addr.String())
	}
	return out
}

// applyRepeatPlan is what apply leaves in state for a plan: sent records for
// sends, expired records for expiries.
func applyRepeatPlan(p *Plan, snap *state.Snapshot) {
	for _, c := range p.Changes {
		switch c.Action {
		case Send, Retry:
			r := recordOf(c.Instance, state.StatusSent)
			at := p.At
			r.Attempts = []state.Attempt{{Number: 1, StartedAt: at, FinishedAt: &at, Outcome: "delivered"}}
			snap.Records[r.Address] = r
		case Expire:
			snap.Records[c.Addr.String()] = recordOf(c.Instance, state.StatusExpired)
		}
	}
	snap.Serial++
}

// TestOutageSendsOnce: after an outage of days, a plan sends the latest
// missed occurrence once (or expires it), waits for the next, and lists
// nothing older; once applied, the next plan has nothing to do.
func TestOutageSendsOnce(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	// Sent on the first three days, then herald did not run for five.
	first := loadAt(t, dir, berlin(t, "2027-03-03 09:00:30"))
	for _, day := range []string{"2027-03-01 09:00", "2027-03-02 09:00", "2027-03-03 09:00"} {
		inst := *first.Instances[0]
		inst.SendAt = berlin(t, day+":00")
		inst.Addr.Key = inst.SendAt.Format(time.RFC3339)
		snap.Records[inst.Addr.String()] = recordOf(&inst, state.StatusSent)
	}

	at := berlin(t, "2027-03-08 12:00:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, snap, at, Options{})
	require.Equal(t, []string{
		`send message.standup["2027-03-08T09:00:00+01:00"]`,
		`wait message.standup["2027-03-09T09:00:00+01:00"]`,
	}, actions(p), "one send, one wait; nothing older, no orphans")
	require.Equal(t, 1, p.Summary()[Send])

	applyRepeatPlan(p, snap)
	p = New(loadAt(t, dir, at), snap, at, Options{})
	require.Equal(t, []string{
		`noop message.standup["2027-03-08T09:00:00+01:00"]`,
		`wait message.standup["2027-03-09T09:00:00+01:00"]`,
	}, actions(p))
	require.Len(t, snap.Records, 4, "records of old occurrences stay in state")

	// Weekly, and the outage outlasted the day's window: the latest
	// occurrence expires rather than arriving two days late.
	dir = repeatDir(t, "0 9 * * MON")
	at = berlin(t, "2027-03-17 12:00:00") // Wednesday
	snap = &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	p = New(loadAt(t, dir, at), snap, at, Options{})
	require.Equal(t, []string{
		`expire message.standup["2027-03-15T09:00:00+01:00"]`,
		`wait message.standup["2027-03-22T09:00:00+01:00"]`,
	}, actions(p))
	applyRepeatPlan(p, snap)
	p = New(loadAt(t, dir, at), snap, at, Options{})
	require.Equal(t, []string{
		`noop message.standup["2027-03-15T09:00:00+01:00"]`,
		`wait message.standup["2027-03-22T09:00:00+01:00"]`,
	}, actions(p))
}

// TestClockOnTheOccurrence: a clock exactly on an occurrence sends it now;
// one nanosecond before, it waits and the previous one is the latest.
func TestClockOnTheOccurrence(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	on := berlin(t, "2027-03-10 09:00:00")
	p := New(loadAt(t, dir, on), nil, on, Options{})
	require.Equal(t, []string{
		`send message.standup["2027-03-10T09:00:00+01:00"]`,
		`wait message.standup["2027-03-11T09:00:00+01:00"]`,
	}, actions(p))
	require.Equal(t, "due now, never sent", p.Changes[0].Reason)

	before := on.Add(-time.Nanosecond)
	p = New(loadAt(t, dir, before), nil, before, Options{})
	require.Equal(t, []string{
		`send message.standup["2027-03-09T09:00:00+01:00"]`,
		`wait message.standup["2027-03-10T09:00:00+01:00"]`,
	}, actions(p))
	require.Equal(t, "sends in 0s", p.Changes[1].Reason)
	// The default window of a daily rule is the day: yesterday's is about
	// to expire, and does so at the next occurrence.
	require.True(t, p.Changes[0].Instance.ExpiresAt().Equal(on))
}

// TestRepeatAcrossDST: a plan over the spring-forward night keeps 09:00.
func TestRepeatAcrossDST(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	at := berlin(t, "2027-03-28 08:59:00") // local, after the change
	p := New(loadAt(t, dir, at), nil, at, Options{})
	require.Equal(t, []string{
		`send message.standup["2027-03-27T09:00:00+01:00"]`,
		`wait message.standup["2027-03-28T09:00:00+02:00"]`,
	}, actions(p))
	require.Equal(t, 23*time.Hour, p.Changes[0].Instance.Repeat.Period, "the night is an hour short")
	require.Equal(t, 23*time.Hour, p.Changes[0].Instance.ExpiresAfter)
}

// TestReplaceOneOccurrence: -replace names one occurrence.
func TestReplaceOneOccurrence(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	at := berlin(t, "2027-03-10 10:00:00")
	cfg := loadAt(t, dir, at)
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	applyRepeatPlan(New(cfg, snap, at, Options{}), snap)

	due := mustAddr(t, `message.standup["2027-03-10T09:00:00+01:00"]`)
	opts := Options{Replace: []addrs.Message{due}}
	require.NoError(t, Validate(cfg, snap, opts))
	p := New(cfg, snap, at, opts)
	require.Equal(t, Send, changeByAddr(p, due.String()).Action)
	require.True(t, changeByAddr(p, due.String()).Replace)
	require.Equal(t, Wait, changeByAddr(p, `message.standup["2027-03-11T09:00:00+01:00"]`).Action)

	// An occurrence the plan does not consider cannot be replaced.
	old := mustAddr(t, `message.standup["2027-03-09T09:00:00+01:00"]`)
	require.Error(t, Validate(cfg, snap, Options{Replace: []addrs.Message{old}}))
}

// TestSavedRepeatPlan: a saved plan keeps the repeat description, and
// resolves against a configuration loaded at the plan's own clock only.
func TestSavedRepeatPlan(t *testing.T) {
	dir := repeatDir(t, "0 9 * * MON")
	at := berlin(t, "2027-03-29 09:00:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, nil, at, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	require.Contains(t, string(data), `"rule": "every Monday at 09:00 (Europe/Berlin)"`)
	sp, err := Decode(data)
	require.NoError(t, err)

	shown := sp.Plan()
	ri := shown.Changes[0].Instance.Repeat
	require.NotNil(t, ri)
	require.Equal(t, "0 9 * * MON", ri.Cron)
	require.Equal(t, "Europe/Berlin", ri.Timezone.String())
	require.Equal(t, "2027-04-05T09:00:00+02:00", ri.Next.Format(time.RFC3339))
	require.Equal(t, -1, ri.Remaining)
	require.Equal(t, 7*24*time.Hour, ri.Period)
	require.Equal(t, "2027-03-29T09:00:00+02:00", shown.Changes[0].Instance.SendAt.Format(time.RFC3339))

	resolved, err := sp.Resolve(loadAt(t, dir, sp.At), testPlanKey)
	require.NoError(t, err)
	require.Len(t, resolved.Changes, 2)

	// Loaded at a later clock, the configuration has other occurrences.
	_, err = sp.Resolve(loadAt(t, dir, at.Add(8*24*time.Hour)), testPlanKey)
	var stale *StalePlanError
	require.ErrorAs(t, err, &stale)
	require.Contains(t, err.Error(), `message.standup["2027-03-29T09:00:00+02:00"] is no longer in the configuration`)
}
