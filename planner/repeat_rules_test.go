package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/state"
)

// fortnightlyDir is a fortnightly standup in Berlin from Monday 1 March
// 2027, ten times, without 26 April, with the occurrence of 12 April moved
// to Tuesday 10:30 and that of 29 March (the day after the clocks go
// forward) moved back to Friday 26 March, 16:00 CET.
func fortnightlyDir(t *testing.T) string {
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
    cron     = "0 9 * * MON"
    from     = "2027-03-01 00:00"
    interval = "2 weeks"
    count    = 10
    except   = ["2027-04-26"]
    occurrence "2027-03-29 09:00" {
      send_at = "2027-03-26 16:00"
      text    = "Standup on Monday; the retro is now (${each.key})"
    }
    occurrence "2027-04-12 09:00" {
      send_at = "2027-04-13 10:30"
    }
  }
  text = "Standup (${each.key})"
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644))
	return dir
}

// TestFortnightlyPlans: the plan's latest and next follow the interval,
// except and the moved occurrences, apply after apply, through to the
// count's end.
func TestFortnightlyPlans(t *testing.T) {
	dir := fortnightlyDir(t)
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	steps := []struct {
		at   string // wall time in Berlin
		want []string
	}{
		{"2027-03-01 09:05:00", []string{
			`send message.standup["2027-03-01T09:00:00+01:00"]`,
			`wait message.standup["2027-03-15T09:00:00+01:00"]`,
		}},
		// Monday 8 March is in a week the interval leaves out.
		{"2027-03-08 09:05:00", []string{
			`noop message.standup["2027-03-01T09:00:00+01:00"]`,
			`wait message.standup["2027-03-15T09:00:00+01:00"]`,
		}},
		{"2027-03-15 09:05:00", []string{
			`send message.standup["2027-03-15T09:00:00+01:00"]`,
			`wait message.standup["2027-03-29T09:00:00+02:00"]`,
		}},
		// Friday 26 March 16:05 CET: the 29 March occurrence, moved to
		// now, across the change to summer time.
		{"2027-03-26 16:05:00", []string{
			`send message.standup["2027-03-29T09:00:00+02:00"]`,
			`wait message.standup["2027-04-12T09:00:00+02:00"]`,
		}},
		// Monday 29 March 09:05: nothing more is due that day.
		{"2027-03-29 09:05:00", []string{
			`noop message.standup["2027-03-29T09:00:00+02:00"]`,
			`wait message.standup["2027-04-12T09:00:00+02:00"]`,
		}},
		// Monday 12 April 09:05: its occurrence waits for Tuesday 10:30.
		{"2027-04-12 09:05:00", []string{
			`noop message.standup["2027-03-29T09:00:00+02:00"]`,
			`wait message.standup["2027-04-12T09:00:00+02:00"]`,
		}},
		{"2027-04-13 10:31:00", []string{
			`send message.standup["2027-04-12T09:00:00+02:00"]`,
			`wait message.standup["2027-05-10T09:00:00+02:00"]`,
		}},
		// 26 April is excepted.
		{"2027-04-26 09:05:00", []string{
			`noop message.standup["2027-04-12T09:00:00+02:00"]`,
			`wait message.standup["2027-05-10T09:00:00+02:00"]`,
		}},
		// Long after the count's end (5 July): the last one, never sent,
		// expires; nothing waits.
		{"2027-09-01 12:00:00", []string{
			`expire message.standup["2027-07-05T09:00:00+02:00"]`,
		}},
	}
	for _, step := range steps {
		at := berlin(t, step.at)
		p := New(loadAt(t, dir, at), snap, at, Options{})
		require.Equal(t, step.want, actions(p), step.at)
		applyRepeatPlan(p, snap)
	}

	moved := snap.Records[`message.standup["2027-03-29T09:00:00+02:00"]`]
	require.NotNil(t, moved)
	require.Equal(t, "2027-03-26T16:00:00+01:00", moved.SendAt.In(berlin(t, "2027-03-26 00:00:00").Location()).Format(time.RFC3339), "recorded with the time it was sent at")
	require.Len(t, snap.Records, 5, "1 and 15 March, 29 March and 12 April (moved), 5 July (expired)")

	// The moved occurrence's text and window.
	at := berlin(t, "2027-03-26 16:05:00")
	p := New(loadAt(t, dir, at), nil, at, Options{})
	c := p.Changes[0]
	require.Equal(t, "Standup on Monday; the retro is now (2027-03-29T09:00:00+02:00)", c.Instance.Text)
	require.True(t, c.Instance.Repeat.Overridden)
	require.Equal(t, "2027-04-13T10:30:00+02:00", c.Instance.Repeat.Next.Format(time.RFC3339))
	require.Equal(t, "due 5m ago, never sent", c.Reason)
}

// TestOverrideMovedPastTheClock: an occurrence moved later waits, and
// the occurrence before it stays the plan's latest until it is sent;
// a preview lists the moved occurrence at its new time.
func TestOverrideMovedPastTheClock(t *testing.T) {
	dir := fortnightlyDir(t)
	at := berlin(t, "2027-04-12 09:30:00")
	p := New(loadAt(t, dir, at), nil, at, Options{})
	require.Equal(t, []string{
		`expire message.standup["2027-03-29T09:00:00+02:00"]`,
		`wait message.standup["2027-04-12T09:00:00+02:00"]`,
	}, actions(p))
	require.Equal(t, "sends in 1d1h", p.Changes[1].Reason)

	// From 1 April the preview reaches past both moved occurrences.
	at = berlin(t, "2027-03-20 12:00:00")
	cfg := loadAt(t, dir, at)
	p = New(cfg, nil, at, Options{})
	var got []string
	for _, o := range RepeatPreview(p, cfg.Repeats, 60) {
		got = append(got, o.Addr.String()+" "+o.SendAt.In(at.Location()).Format(time.RFC3339))
	}
	require.Equal(t, []string{
		`message.standup["2027-04-12T09:00:00+02:00"] 2027-04-13T10:30:00+02:00`,
		`message.standup["2027-05-10T09:00:00+02:00"] 2027-05-10T09:00:00+02:00`,
	}, got)
}

// TestOverrideChangedAfterSending: an occurrence block added after its
// occurrence was sent shows as drift, as a changed send_at does.
func TestOverrideChangedAfterSending(t *testing.T) {
	plain := repeatDir(t, "0 9 * * MON")
	at := berlin(t, "2027-03-15 09:05:00")
	snap := &state.Snapshot{Lineage: "l", Records: map[string]*state.Record{}}
	applyRepeatPlan(New(loadAt(t, plain, at), snap, at, Options{}), snap)

	src, err := os.ReadFile(filepath.Join(plain, "main.hcl"))
	require.NoError(t, err)
	require.Contains(t, string(src), `    from = "2027-03-01 00:00"`)
	withOverride := []byte(strings.Replace(string(src), `    from = "2027-03-01 00:00"`, `    from = "2027-03-01 00:00"
    occurrence "2027-03-15 09:00" { text = "Standup, edited" }`, 1))
	require.NoError(t, os.WriteFile(filepath.Join(plain, "main.hcl"), withOverride, 0o644))
	p := New(loadAt(t, plain, at), snap, at, Options{})
	c := changeByAddr(p, `message.standup["2027-03-15T09:00:00+01:00"]`)
	require.Equal(t, Drift, c.Action)
	require.Equal(t, "text changed since it was sent", c.Reason)
}

// TestSavedPlanKeepsRepeatBounds: a saved plan carries interval, count,
// except and the moved occurrence's own time.
func TestSavedPlanKeepsRepeatBounds(t *testing.T) {
	dir := fortnightlyDir(t)
	at := berlin(t, "2027-03-26 16:05:00")
	p := New(loadAt(t, dir, at), nil, at, Options{})
	data, err := Encode(p, testPlanKey)
	require.NoError(t, err)
	sp, err := Decode(data)
	require.NoError(t, err)
	shown := sp.Plan()
	in := shown.Changes[0].Instance
	ri := in.Repeat
	require.Equal(t, "2 weeks", ri.Interval)
	require.Equal(t, 10, ri.Count)
	require.Equal(t, []string{"2027-04-26"}, ri.Except)
	require.Equal(t, "2027-07-05T09:00:00+02:00", ri.Last.Format(time.RFC3339))
	require.True(t, ri.Overridden)
	require.Equal(t, "2027-03-29T09:00:00+02:00", ri.Occurrence.Format(time.RFC3339))
	require.Equal(t, "2027-03-26T16:00:00+01:00", in.SendAt.Format(time.RFC3339))
	require.Equal(t, 6, ri.Remaining, "12 April, then 10 May to 5 July: 26 April is excepted")
	// The next one is moved too, to Tuesday.
	next := shown.Changes[1].Instance
	require.Equal(t, "2027-04-12T09:00:00+02:00", next.Repeat.Occurrence.Format(time.RFC3339))
	require.Equal(t, "2027-04-13T10:30:00+02:00", next.SendAt.Format(time.RFC3339))

	resolved, err := sp.Resolve(loadAt(t, dir, sp.At), testPlanKey)
	require.NoError(t, err)
	require.Len(t, resolved.Changes, 2)
}
