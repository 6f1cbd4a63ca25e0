package views

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
)

// skippedPlan is the repeat fixture's plan with the skipped occurrences
// given in place of its own.
func skippedPlan(t *testing.T, ks ...*planner.Skipped) *planner.Plan {
	p := repeatPlan(t)
	p.Skipped = ks
	return p
}

func skippedOf(t *testing.T, name string, n int, first, last string) *planner.Skipped {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	f, err := time.Parse(time.RFC3339, first)
	require.NoError(t, err)
	l, err := time.Parse(time.RFC3339, last)
	require.NoError(t, err)
	return &planner.Skipped{Addr: addrs.NoKey(name), Count: n, First: f, Last: l, Timezone: loc}
}

func TestSkippedText(t *testing.T) {
	for _, tc := range []struct {
		k    *planner.Skipped
		want string
	}{
		{skippedOf(t, "a", 1, "2027-04-05T07:00:00Z", "2027-04-05T07:00:00Z"),
			"1 occurrence skipped while herald did not run (2027-04-05 09:00 CEST)"},
		{skippedOf(t, "a", 2, "2027-04-05T07:00:00Z", "2027-04-12T07:00:00Z"),
			"2 occurrences skipped while herald did not run (2027-04-05 09:00 CEST, 2027-04-12 09:00 CEST)"},
		{skippedOf(t, "a", 4, "2027-03-01T08:00:00Z", "2027-03-29T07:00:00Z"),
			"4 occurrences skipped while herald did not run (from 2027-03-01 09:00 CET to 2027-03-29 09:00 CEST)"},
		{skippedOf(t, "a", planner.MaxSkipped, "2027-03-01T08:00:00Z", "2027-04-01T07:00:00Z"),
			"at least 1000 occurrences skipped while herald did not run (from 2027-03-01 09:00 CET to 2027-04-01 09:00 CEST)"},
	} {
		doc := NewPlanDocument(skippedPlan(t, tc.k))
		require.Len(t, doc.Skipped, 1)
		assert.Equal(t, tc.want, doc.Skipped[0].Text())
	}
}

// TestSkippedInEveryForm: the text plan lists each message once with a
// count, the summary line counts them ("1000+" when a count stopped at the
// cap), JSON has the list and the count, markdown a section.
func TestSkippedInEveryForm(t *testing.T) {
	p := skippedPlan(t,
		skippedOf(t, "daily", 2, "2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z"),
		skippedOf(t, "minutely", planner.MaxSkipped, "2027-03-01T08:00:00Z", "2027-03-29T07:04:00Z"))

	text := render(t, PlanHumanFormat, p, PlanNext{Apply: true}, false)
	assert.Contains(t, text, "\n"+SkippedHeading+"\n\n  ~ message.daily: 2 occurrences skipped while herald did not run (2027-03-27 09:00 CET, 2027-03-28 09:00 CEST)\n  ~ message.minutely: at least 1000 occurrences")
	assert.Contains(t, text, "Plan: 1 to send, 1 waiting, 1002+ skipped.\n")
	assert.Less(t, strings.Index(text, SkippedHeading), strings.Index(text, "Plan: "), "the list comes before the summary")

	var doc struct {
		Summary map[string]int `json:"summary"`
		Changes []any          `json:"changes"`
		Skipped []struct {
			Address  string    `json:"address"`
			Count    int       `json:"count"`
			AtLeast  bool      `json:"at_least"`
			First    time.Time `json:"first"`
			Last     time.Time `json:"last"`
			Timezone string    `json:"timezone"`
		} `json:"skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(render(t, PlanJSONFormat, p, PlanNext{}, false)), &doc))
	_, inSummary := doc.Summary["skipped"]
	assert.False(t, inSummary, "the JSON summary holds exactly the actions")
	assert.Len(t, doc.Changes, 2, "skipped occurrences are not changes")
	require.Len(t, doc.Skipped, 2)
	assert.Equal(t, "message.daily", doc.Skipped[0].Address)
	assert.Equal(t, 2, doc.Skipped[0].Count)
	assert.False(t, doc.Skipped[0].AtLeast)
	assert.Equal(t, "2027-03-27T08:00:00Z", doc.Skipped[0].First.Format(time.RFC3339))
	assert.Equal(t, "Europe/Berlin", doc.Skipped[0].Timezone)
	assert.True(t, doc.Skipped[1].AtLeast)

	md := render(t, PlanMarkdownFormat, p, PlanNext{}, false)
	assert.Contains(t, md, "**Plan: 1 to send, 1 waiting, 1002+ skipped.**")
	assert.Contains(t, md, "#### Skipped (missed occurrences of repeat messages, never sent):\n\n- <code>message.daily</code>: 2 occurrences skipped while herald did not run (2027-03-27 09:00 CET, 2027-03-28 09:00 CEST)\n")
}

func TestApplyResultSkipped(t *testing.T) {
	got := RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 1, Expired: 1}, Skipped: 2}, false)
	assert.Equal(t, "\nApply complete: 1 sent, 0 failed, 1 expired, 0 unknown, 2 skipped.\n", got)
	got = RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 1}, Skipped: 1000, SkippedAtLeast: true}, false)
	assert.Contains(t, got, ", 1000+ skipped.")
	got = RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 1, NotStarted: 2}, Interrupted: true, Skipped: 3}, false)
	assert.Contains(t, got, "Interrupted: 1 sent, 2 not started, 3 skipped.")
	got = RenderApplyResult(ApplyResult{Summary: executor.Summary{Sent: 1}}, false)
	assert.NotContains(t, got, "skipped", "said only when there were any")

	s := newJSONSummary(ApplyResult{Skipped: 1000, SkippedAtLeast: true})
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"skipped":1000,"skipped_at_least":true`)
}
