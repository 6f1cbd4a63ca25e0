package views

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

func TestMarkdownStartsWithMarker(t *testing.T) {
	for name, p := range planFixtures() {
		out := render(t, PlanMarkdownFormat, p, PlanNext{}, false)
		assert.True(t, strings.HasPrefix(out, PlanCommentMarker+"\n### herald plan\n"), name)
		assert.Equal(t, 1, strings.Count(out, PlanCommentMarker), "%s: one marker, for the workflow to find", name)
	}
	// A cut comment keeps it too.
	assert.True(t, strings.HasPrefix(renderMarkdown(t, bigPlan(100), 3000), PlanCommentMarker+"\n"))
}

func TestMarkdownMediaLink(t *testing.T) {
	m := mediaInstance("message.poster", groupEng, at(1), spec.Media{
		URL: "https://example.com/a|b/poster.png?v=1&x=2", Type: "image", Caption: "We are | live"})
	out := render(t, PlanMarkdownFormat, plan(change(m, planner.Wait, "send_at is after the clock", nil)), PlanNext{}, false)
	assertBalancedMarkdown(t, out)
	assert.Contains(t, out, `| image <a href="https://example.com/a%7Cb/poster.png?v=1&amp;x=2">poster.png</a> — We are &#124; live |`,
		"the table links the file by name, with no pipe left to split the cell")
	assert.Contains(t, out, `<p><b>image</b> <a href="https://example.com/a|b/poster.png?v=1&amp;x=2">https://example.com/a|b/poster.png?v=1&amp;x=2</a></p>`)
	assert.Contains(t, out, "<p>Caption:</p>\n\n<pre>\nWe are | live\n</pre>")

	bad := mediaInstance("message.bad", groupEng, at(1), spec.Media{URL: "javascript:alert(1)", Type: "image"})
	out = render(t, PlanMarkdownFormat, plan(change(bad, planner.Wait, "", nil)), PlanNext{}, false)
	assert.NotContains(t, out, `href="javascript`, "only web links become links")
	assert.Contains(t, out, "<p>No caption.</p>")
}

func TestMediaName(t *testing.T) {
	for u, want := range map[string]string{
		"https://example.com/q3.pdf":           "q3.pdf",
		"https://example.com/a/b.png?x=/y#z/w": "b.png",
		"https://example.com/":                 "https://example.com/",
		"https://example.com":                  "https://example.com",
	} {
		assert.Equal(t, want, mediaName(u), u)
	}
}

func TestMarkdownSchedule(t *testing.T) {
	quiet := render(t, PlanMarkdownFormat, planFixtures()["media"], PlanNext{}, false)
	assert.Contains(t, quiet, "<details><summary>Schedule: 3 sends to come, none at night, no collisions</summary>\n\n```text\n")

	night := render(t, PlanMarkdownFormat, plan(waiting("message.late_night", groupEng, at(14))), PlanNext{}, false)
	assert.Contains(t, night, "<details open><summary>Schedule: 1 send to come, 1 at night, no collisions</summary>", "opened when something needs a look")

	// Nothing to draw: no schedule.
	for _, name := range []string{"empty", "orphans"} {
		assert.NotContains(t, render(t, PlanMarkdownFormat, planFixtures()[name], PlanNext{}, false), "Schedule", name)
	}

	// A fence cannot be closed by what it holds.
	g := *groupEng
	g.Name = "a```b"
	out := render(t, PlanMarkdownFormat, plan(waiting("message.x", &g, at(1))), PlanNext{}, false)
	assert.Contains(t, out, "````text\n")
	assert.Contains(t, out, "\n````\n\n</details>")
}

func TestMarkdownGroupsAddRateLimits(t *testing.T) {
	p := plan(waiting("message.a", groupEng, at(1)), waiting("message.b", groupEng, at(1).Add(10*time.Minute)))
	doc := NewPlanDocument(p)
	assert.Contains(t, RenderPlanMarkdown(doc, sched(t, p, planner.ScheduleOptions{}), 0), "Schedule: 2 sends to come, none at night, no collisions")
	with := RenderPlanMarkdown(doc, sched(t, p, planner.ScheduleOptions{Groups: map[string]planner.ScheduleGroupInfo{"eng": {RateLimit: &spec.RateLimit{N: 1, Per: time.Hour, Text: "1/h"}}}}), 0)
	assert.Contains(t, with, "Schedule: 2 sends to come, none at night, 1 collision")
	assert.Contains(t, with, "over its rate_limit 1/h")
}
