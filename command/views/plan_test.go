package views

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/planner"
)

func render(t *testing.T, format PlanFormat, p *planner.Plan, next PlanNext, color bool) string {
	t.Helper()
	var out bytes.Buffer
	v := &View{Stdout: &out, Stderr: &out, StdoutColor: color}
	pv := NewPlan(format, v)
	if md, ok := pv.(*PlanMarkdown); ok {
		md.Schedule = sched(t, p, planner.ScheduleOptions{})
	}
	require.NoError(t, pv.Plan(NewPlanDocument(p), next))
	return out.String()
}

// renderMarkdown is the markdown form of a plan cut to maxLen bytes, with
// its schedule.
func renderMarkdown(t *testing.T, p *planner.Plan, maxLen int) string {
	t.Helper()
	return RenderPlanMarkdown(NewPlanDocument(p), sched(t, p, planner.ScheduleOptions{}), maxLen)
}

func TestPlanGolden(t *testing.T) {
	for name, p := range planFixtures() {
		t.Run(name, func(t *testing.T) {
			checkPlanGolden(t, name+".out.txt", render(t, PlanHumanFormat, p, PlanNext{Apply: true}, false))
			checkPlanGolden(t, name+".out.json", render(t, PlanJSONFormat, p, PlanNext{}, false))
			checkPlanGolden(t, name+".out.md", render(t, PlanMarkdownFormat, p, PlanNext{}, false))
		})
	}
}

func TestPlanHumanColour(t *testing.T) {
	p := planFixtures()["all_actions"]
	plain := render(t, PlanHumanFormat, p, PlanNext{Apply: true}, false)
	coloured := render(t, PlanHumanFormat, p, PlanNext{Apply: true}, true)
	assert.NotContains(t, plain, "\x1b[", "no escape codes without colour")
	assert.Contains(t, coloured, "\x1b[32m+\x1b[0m", "send is a green +")
	assert.Contains(t, coloured, "\x1b[35m!\x1b[0m", "drift is a magenta !")
	assert.Equal(t, plain, regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(coloured, ""),
		"colour changes nothing but escape codes")
}

func TestPlanHumanSavedHint(t *testing.T) {
	p := planFixtures()["multigroup"]
	out := render(t, PlanHumanFormat, p, PlanNext{Apply: true, SavedTo: "my plan.bin"}, false)
	assert.Contains(t, out, "Saved the plan to my plan.bin. To send exactly these messages, run:\n  herald apply 'my plan.bin'\n")
	out = render(t, PlanHumanFormat, planFixtures()["waiting"], PlanNext{Apply: true, SavedTo: "p"}, false)
	assert.Contains(t, out, "Nothing in it would be sent.")
	out = render(t, PlanHumanFormat, p, PlanNext{}, false)
	assert.NotContains(t, out, "herald apply\"", "show of a saved plan gives no apply hint")
}

func TestSummaryLine(t *testing.T) {
	fx := planFixtures()
	for name, want := range map[string]string{
		"empty":       NoChanges,
		"noop_only":   NoChanges,
		"waiting":     "Plan: 1 waiting.",
		"all_actions": "Plan: 2 to send, 1 to retry, 1 waiting, 1 unchanged, 1 drifted, 1 expired, 1 unknown, 1 orphaned.",
		"rename":      "Plan: 1 to send, 1 orphaned.",
	} {
		assert.Equal(t, want, NewPlanDocument(fx[name]).SummaryLine(), name)
	}
}

func TestRelative(t *testing.T) {
	at := planClock
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{3 * time.Hour, "in 3h"},
		{-48 * time.Hour, "2d ago"},
		{90 * time.Minute, "in 1h30m"},
		{-(26*time.Hour + 5*time.Minute), "1d2h ago"},
		{49*time.Hour + 5*time.Minute, "in 2d1h"},
		{45 * time.Second, "in 45s"},
		{500 * time.Millisecond, "in <1s"},
		{-(2*time.Minute + 3*time.Second), "2m3s ago"},
	} {
		assert.Equal(t, tc.want, Relative(at.Add(tc.d), at), tc.d.String())
	}
}

// TestPlanJSONShape checks the document against CONTRACT §4 as a reader
// without herald's types sees it.
func TestPlanJSONShape(t *testing.T) {
	out := render(t, PlanJSONFormat, planFixtures()["all_actions"], PlanNext{}, false)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))

	assert.Equal(t, "1", doc["format_version"])
	assert.Equal(t, "2026-12-01T12:00:00Z", doc["at"])

	summary := doc["summary"].(map[string]any)
	var keys []string
	for k := range summary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var actions []string
	for _, a := range planner.Actions {
		actions = append(actions, a.String())
	}
	counted := append([]string{}, actions...)
	sort.Strings(counted)
	assert.Equal(t, counted, keys, "a count for every action, and nothing else (CONTRACT §4)")

	empty := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(render(t, PlanJSONFormat, planFixtures()["empty"], PlanNext{}, false)), &empty))
	assert.NotContains(t, empty, "skipped", "no skipped list when nothing was skipped")
	for _, a := range counted {
		assert.Equal(t, 0.0, empty["summary"].(map[string]any)[a], "zero %s present", a)
	}
	assert.Equal(t, []any{}, empty["changes"], "changes is an empty list, not null")

	changes := doc["changes"].([]any)
	require.Len(t, changes, 9)
	var prevAt, prevAddr string
	for _, raw := range changes {
		c := raw.(map[string]any)
		for _, k := range []string{"address", "action", "reason", "group", "thread_id", "service", "from", "send_at", "sensitive"} {
			assert.Contains(t, c, k, "%v", c["address"])
		}
		_, hasText := c["text"]
		_, hasMedia := c["media"]
		if c["action"] == "orphan" {
			assert.False(t, hasText || hasMedia, "an orphan has no content")
			assert.NotContains(t, c, "expires_at")
		} else {
			assert.True(t, hasText != hasMedia, "exactly one of text and media: %v", c["address"])
			assert.Contains(t, c, "expires_at")
		}
		if m, ok := c["media"].(map[string]any); ok {
			assert.Contains(t, m, "url")
			assert.Contains(t, m, "type")
			assert.Contains(t, m, "caption")
		}
		at, address := c["send_at"].(string), c["address"].(string)
		ts, err := time.Parse(time.RFC3339, at)
		require.NoError(t, err)
		assert.Equal(t, time.UTC, ts.Location())
		if prevAt != "" {
			assert.True(t, prevAt < at || (prevAt == at && prevAddr < address), "ordered by send_at, address: %s after %s", address, prevAddr)
		}
		prevAt, prevAddr = at, address
	}
	// The orphan (72h ago) sorts first by its record's send_at.
	assert.Equal(t, "message.retired", changes[0].(map[string]any)["address"])
}

func TestPlanJSONSensitive(t *testing.T) {
	out := render(t, PlanJSONFormat, planFixtures()["sensitive"], PlanNext{}, false)
	assert.NotContains(t, out, "4711")
	assert.NotContains(t, out, "token=abc")
	assert.NotContains(t, out, "eyes")
	var doc PlanDocument
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	byAddr := map[string]PlanChange{}
	for _, c := range doc.Changes {
		byAddr[c.Address] = c
		assert.True(t, c.Sensitive, c.Address)
	}
	require.Len(t, byAddr, 4)
	assert.Equal(t, Sensitive, *byAddr["message.code"].Text)
	assert.Equal(t, &PlanMedia{URL: Sensitive, Type: "image", Caption: Sensitive}, byAddr["message.secret_doc"].Media)
	// Only the part built from a sensitive value is hidden.
	assert.Equal(t, &PlanMedia{URL: "https://example.com/poster.png", Type: "image", Caption: Sensitive}, byAddr["message.poster"].Media)
	assert.Equal(t, &PlanMedia{URL: Sensitive, Type: "document", Caption: "Q4 figures"}, byAddr["message.private_pdf"].Media)

	for _, f := range []PlanFormat{PlanHumanFormat, PlanMarkdownFormat} {
		out := render(t, f, planFixtures()["sensitive"], PlanNext{}, false)
		assert.NotContains(t, out, "4711")
		assert.NotContains(t, out, "token=abc")
		assert.Contains(t, out, Sensitive)
		assert.Contains(t, out, "https://example.com/poster.png")
		assert.Contains(t, out, "Q4 figures")
	}
}

// TestPlanJSONRoundTrip: the document reads back into the same value, so
// a consumer written against these types sees every field.
func TestPlanJSONRoundTrip(t *testing.T) {
	for name, p := range planFixtures() {
		doc := NewPlanDocument(p)
		var buf bytes.Buffer
		require.NoError(t, writeJSON(&buf, doc))
		var back PlanDocument
		require.NoError(t, json.Unmarshal(buf.Bytes(), &back), name)
		assert.Equal(t, normalize(doc), normalize(&back), name)
	}
}

// normalize makes an empty list and a nil one compare equal.
func normalize(d *PlanDocument) *PlanDocument {
	c := *d
	if len(c.Changes) == 0 {
		c.Changes = nil
	}
	return &c
}

func TestHumanEscapesControlCharacters(t *testing.T) {
	out := render(t, PlanHumanFormat, planFixtures()["escaping"], PlanNext{}, false)
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, `\x1b[31mred`)
}

func TestMarkdownEscaping(t *testing.T) {
	out := render(t, PlanMarkdownFormat, planFixtures()["escaping"], PlanNext{}, false)
	assertBalancedMarkdown(t, out)
	assert.NotContains(t, out, "@team", "no mention notifies anyone")
	assert.NotContains(t, out, "<b>bold", "message HTML is escaped")
	assert.NotContains(t, out, "\x1b")
	// The one </pre> per message is ours; the message's own is escaped.
	assert.Equal(t, strings.Count(out, "<pre>"), strings.Count(out, "</pre>"))
	assert.Contains(t, out, "&lt;/pre&gt;")
}

var (
	tableRow   = regexp.MustCompile(`^\|.*\|$`)
	unescPipe  = regexp.MustCompile(`[^\\]\|`)
	detailsTag = regexp.MustCompile(`<(/?)(details|summary|pre)\b`)
)

// assertBalancedMarkdown checks what a truncation or an odd message could
// break: every <details>, <summary> and <pre> closes, every table row has
// the header's number of cells, and nothing follows a table row without a
// blank line.
func assertBalancedMarkdown(t *testing.T, md string) {
	t.Helper()
	depth := map[string]int{}
	for _, m := range detailsTag.FindAllStringSubmatch(md, -1) {
		if m[1] == "" {
			depth[m[2]]++
		} else {
			depth[m[2]]--
		}
		assert.GreaterOrEqual(t, depth[m[2]], 0, "</%s> before <%s>", m[2], m[2])
	}
	for tag, d := range depth {
		assert.Zero(t, d, "unbalanced <%s>", tag)
	}
	lines := strings.Split(md, "\n")
	cells := -1
	for i, l := range lines {
		if tableRow.MatchString(l) {
			n := len(unescPipe.FindAllString(l, -1)) + 1
			if cells < 0 {
				cells = n
			}
			assert.Equal(t, cells, n, "line %d has another cell count: %q", i+1, l)
			next := ""
			if i+1 < len(lines) {
				next = lines[i+1]
			}
			assert.True(t, next == "" || tableRow.MatchString(next), "table not closed by a blank line at line %d", i+1)
		} else {
			cells = -1
		}
	}
}

func TestMarkdownGoldenBalanced(t *testing.T) {
	for name, p := range planFixtures() {
		t.Run(name, func(t *testing.T) {
			assertBalancedMarkdown(t, render(t, PlanMarkdownFormat, p, PlanNext{}, false))
		})
	}
}

// bigPlan has n messages in each of three groups with long texts.
func bigPlan(n int) *planner.Plan {
	var changes []*planner.Change
	for _, g := range []*struct{ name string }{{"a"}, {"b"}, {"c"}} {
		grp := *groupEng
		grp.Name = g.name
		grp.ThreadID = "t-" + g.name
		for i := range n {
			in := textInstance("message."+g.name+"_"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+"_"+strconv.Itoa(i), &grp,
				planClock.Add(-time.Duration(i)*time.Minute), strings.Repeat("a long line | with <html> and @who\n", 40))
			changes = append(changes, change(in, planner.Send, "due and never sent", nil))
		}
	}
	return plan(changes...)
}

func TestMarkdownTruncation(t *testing.T) {
	big := bigPlan(100)
	doc := NewPlanDocument(big)
	full := renderMarkdown(t, big, 0)
	require.Greater(t, len(full), GitHubCommentLimit, "the fixture must overflow the limit")
	assert.NotContains(t, full, "Note:")

	for _, limit := range []int{GitHubCommentLimit, 20000, 3000, 800} {
		out := renderMarkdown(t, big, limit)
		assert.LessOrEqual(t, len(out), limit, "limit %d", limit)
		assert.Contains(t, out, "was cut to fit GitHub's limit", "limit %d", limit)
		assert.Contains(t, out, doc.SummaryLine(), "the summary always stays")
		assertBalancedMarkdown(t, out)
		if limit == GitHubCommentLimit {
			// Tables come before details: all three groups' rows fit,
			// and the details fill what is left.
			assert.Equal(t, 300, strings.Count(out, "| send |"))
			assert.Contains(t, out, "<details>")
			assert.Regexp(t, `not shown: \d+ message details\.`, out)
		}
	}

	// Under the limit nothing is cut.
	small := renderMarkdown(t, bigPlan(2), GitHubCommentLimit)
	assert.Equal(t, renderMarkdown(t, bigPlan(2), 0), small)
}
