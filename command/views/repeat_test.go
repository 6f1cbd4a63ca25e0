package views

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

const standupConfig = `
group "eng" {
  thread_id = "t-eng"
  from      = "+14155550000"
  timezone  = "Europe/Berlin"
}

message "standup" {
  group = group.eng
  repeat {
    cron  = "0 9 * * MON"
    from  = "2027-03-01 00:00"
    until = "2027-12-31 00:00"
  }
  text = "Standup in 15 minutes (${formatdate("DD MMM", each.key)})"
}
`

// repeatPlan plans the weekly standup on a Monday, five minutes after it
// was due.
func repeatPlan(t *testing.T) *planner.Plan {
	t.Helper()
	p, _ := repeatPlanConfig(t)
	return p
}

// repeatPlanConfig is repeatPlan with the configuration it was made from.
func repeatPlanConfig(t *testing.T) (*planner.Plan, *spec.Config) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(standupConfig), 0o644))
	at := time.Date(2027, 3, 29, 7, 5, 0, 0, time.UTC)
	cfg, diags := spec.Load(dir, spec.LoadOptions{At: at, Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), "%v", diags)
	return planner.New(cfg, nil, at, planner.Options{}), cfg
}

func TestRepeatPlanGolden(t *testing.T) {
	p := repeatPlan(t)
	checkPlanGolden(t, "repeat.out.txt", render(t, PlanHumanFormat, p, PlanNext{Apply: true}, false))
	checkPlanGolden(t, "repeat.out.json", render(t, PlanJSONFormat, p, PlanNext{}, false))
	// The comment's schedule draws every occurrence within its span from
	// the configuration's rules, as plan -markdown does.
	p, cfg := repeatPlanConfig(t)
	md := RenderPlanMarkdown(NewPlanDocument(p), sched(t, p, planner.ScheduleOptions{Repeats: cfg.Repeats}), GitHubCommentLimit)
	checkPlanGolden(t, "repeat.out.md", md)
	require.NotContains(t, md, "Not drawn")
}

func TestRepeatJSON(t *testing.T) {
	var doc struct {
		Changes []struct {
			Address string         `json:"address"`
			Repeat  map[string]any `json:"repeat"`
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(render(t, PlanJSONFormat, repeatPlan(t), PlanNext{}, false)), &doc))
	require.Len(t, doc.Changes, 2)
	due := doc.Changes[0].Repeat
	require.Equal(t, `message.standup["2027-03-29T09:00:00+02:00"]`, doc.Changes[0].Address)
	require.Equal(t, "every Monday at 09:00 (Europe/Berlin)", due["rule"])
	require.Equal(t, "0 9 * * MON", due["cron"])
	require.Equal(t, "Europe/Berlin", due["timezone"])
	require.Equal(t, "2027-04-05T09:00:00+02:00", due["next"])
	require.Equal(t, float64(39), due["remaining"])
	require.Equal(t, float64(38), doc.Changes[1].Repeat["remaining"])
}

func TestPlanRepeatText(t *testing.T) {
	until := time.Date(2027, 12, 31, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	next := time.Date(2027, 4, 5, 9, 0, 0, 0, time.FixedZone("CEST", 7200))
	r := &PlanRepeat{Occurrence: "2027-03-29T09:00:00+02:00", Timezone: "Europe/Berlin", Next: &next, Until: &until, Remaining: 3}
	at := time.Date(2027, 3, 29, 7, 0, 0, 0, time.UTC)
	require.Equal(t, "this one 2027-03-29 09:00 CEST; next 2027-04-05 09:00 CEST (in 7d); 3 more until 2027-12-31 00:00 CET", r.Summary(at))
	r.Remaining = 0
	r.Next = nil
	require.Equal(t, "this one 2027-03-29 09:00 CEST; no next one; the last one (until 2027-12-31 00:00 CET)", r.Summary(at))
	r.Remaining = spec.MaxRemaining
	require.Contains(t, r.RemainingText(), "or more")
	r.Remaining, r.Until = -1, nil
	require.Equal(t, "", r.RemainingText())
}
