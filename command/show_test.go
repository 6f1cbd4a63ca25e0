package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
)

// scheduleDir copies the schedule fixture into a fresh directory.
func scheduleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(testdataDir(t, "show", "schedule", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))
	return dir
}

func TestShowScheduleGolden(t *testing.T) {
	dir := scheduleDir(t)
	week := runMain(t, dir, "", "show", "-schedule", "-at=2026-12-01T08:00:00Z")
	require.Equal(t, 0, week.code, week.stderr)
	checkGolden(t, "show/schedule/week.out.txt", []byte(week.stdout))
	assert.Contains(t, week.stdout, "over its rate_limit 2/1h", "the group's limit comes from the configuration")

	hours := runMain(t, dir, "", "show", "-schedule", "-days=2", "-at=2026-12-02T08:00:00Z")
	require.Equal(t, 0, hours.code, hours.stderr)
	checkGolden(t, "show/schedule/hours.out.txt", []byte(hours.stdout))
	assert.Contains(t, hours.stdout, "one column per hour")
	assert.Contains(t, hours.stdout, "Not drawn: 4 sends after Fri 04 Dec")

	// The environment's clock stands in for -at.
	now := runMain(t, dir, "", "show", "-schedule")
	require.Equal(t, 0, now.code, now.stderr)
	assert.Contains(t, now.stdout, "now is Tue 01 Dec 2026 08:00 UTC")
	assert.NoFileExists(t, filepath.Join(dir, "herald.state.json"), "show writes no state")
}

// TestShowScheduleMarksState: sent messages are drawn as sent, unknown as
// maybe sent, and due ones at the clock.
func TestShowScheduleMarksState(t *testing.T) {
	dir := e2eDir(t)
	r := runMain(t, dir, "", "show", "-schedule", "-days=1", "-at=2026-12-01T08:00:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	// Rows start after the label column, as wide as "community", and two
	// spaces.
	rows := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		for _, g := range []string{"eng", "community"} {
			if strings.HasPrefix(line, g+" ") && len(line) > 11 {
				rows[g] = line[11:]
			}
		}
	}
	require.Contains(t, rows, "eng", r.stdout)
	assert.Equal(t, byte('?'), rows["eng"][5], "message.maybe (05:00) may have been sent: %q", rows["eng"])
	assert.Equal(t, byte('!'), rows["eng"][8], "three due messages go out together at 08:00: %q", rows["eng"])
}

func TestShowScheduleOfSavedPlan(t *testing.T) {
	dir := scheduleDir(t)
	out := runMain(t, dir, "", "plan", "-at=2026-12-01T08:00:00Z", "-out=saved.plan")
	require.Equal(t, 0, out.code, out.stderr)
	r := runMain(t, dir, "", "show", "-schedule", "saved.plan")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "now is Tue 01 Dec 2026 08:00 UTC", "a saved plan is drawn at its own clock")
	assert.Contains(t, r.stdout, "message.rules to group community")
	assert.Contains(t, r.stdout, "over its rate_limit 2/1h", "a saved plan carries its groups' limits")
}

func TestPlanMarkdownIncludesSchedule(t *testing.T) {
	dir := scheduleDir(t)
	md := runMain(t, dir, "", "plan", "-markdown", "-at=2026-12-01T08:00:00Z")
	require.Equal(t, 0, md.code, md.stderr)
	assert.True(t, strings.HasPrefix(md.stdout, views.PlanCommentMarker+"\n### herald plan\n"))
	assert.Contains(t, md.stdout, "<details open><summary>Schedule: 9 sends to come, 1 at night, 2 collisions</summary>\n\n```text\nSchedule from Tue 01 Dec 2026 00:00")
	assert.Contains(t, md.stdout, "lands at night (22:00-07:00)\n")
	assert.Contains(t, md.stdout, "over its rate_limit 2/1h", "the groups' limits come from the configuration")

	// The saved plan's comment is the same, limits included.
	out := runMain(t, dir, "", "plan", "-at=2026-12-01T08:00:00Z", "-out=saved.plan")
	require.Equal(t, 0, out.code, out.stderr)
	shown := runMain(t, dir, "", "show", "-markdown", "saved.plan")
	require.Equal(t, 0, shown.code, shown.stderr)
	assert.Equal(t, md.stdout, shown.stdout)
}

func TestShowScheduleErrors(t *testing.T) {
	dir := scheduleDir(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-days=3"}, "-days applies only with -schedule"},
		{[]string{"-at=2026-12-01T08:00:00Z", "-var=x=1"}, "-at, -var apply only with -schedule"},
		{[]string{"-schedule", "-days=0", "-json"}, "-schedule draws text"},
		{[]string{"-schedule", "-markdown", "p"}, "-schedule draws text"},
		{[]string{"-schedule", "-days=400"}, "-days=400: expected a number of days from 1 to 366"},
		{[]string{"-schedule", "-days=-1"}, "-days=-1: expected a number of days"},
		{[]string{"-schedule", "-at=2026-12-01T08:00:00Z", "saved.plan"}, "a plan file holds its own clock"},
		{[]string{"-schedule", "-at=tomorrow"}, "-at=tomorrow: expected an RFC 3339 time"},
		{[]string{"-schedule", "-target=message.nope"}, "-target=message.nope matches no message"},
		{[]string{"-schedule", "-exclude=message.nope"}, "-exclude=message.nope matches no message"},
		{[]string{"-exclude=message.nope"}, "-exclude applies only with -schedule"},
		{[]string{"-schedule", "-exclude=message.a", "saved.plan"}, "-target and -exclude do not apply to it"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runMain(t, dir, "", append([]string{"show"}, tt.args...)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
		})
	}

	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "main.hcl"), []byte("group \"x\" {}\n"), 0o644))
	r := runMain(t, broken, "", "show", "-schedule")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "thread_id", "configuration errors are shown as diagnostics")
	assert.Empty(t, r.stdout)
}

// TestShowScheduleDrawsEveryOccurrence: a repeat message is drawn at each
// occurrence within the span, not only the two a plan considers, and a
// group's time zone labels its row.
func TestShowScheduleDrawsEveryOccurrence(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "standup", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))
	r := runMain(t, dir, "", "show", "-schedule", "-days=28", "-at=2027-03-29T07:05:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	// Four weeks come in two blocks of 14 days, a row for eng in each.
	var rows []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "eng (Europe/Berlin)") {
			rows = append(rows, strings.TrimPrefix(line, "eng (Europe/Berlin)"))
		}
	}
	require.Len(t, rows, 2, r.stdout)
	// Mondays 29 Mar, 5, 12 and 19 Apr, and the retro on 31 Mar.
	assert.Equal(t, 5, strings.Count(strings.Join(rows, ""), "1"), r.stdout)
}

// TestScheduleSpanListsWhatItDraws: a one-off message three weeks out
// stretches the schedule to 28 days, and the standup is drawn on every
// Monday of them, in show -schedule and in the comment of plan -markdown
// alike, whose heading counts what it draws.
func TestScheduleSpanListsWhatItDraws(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "examples", "standup", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "later.hcl"), []byte(`
message "review" {
  group   = group.eng
  send_at = "2027-04-20 10:00"
  text    = "Quarterly review"
}
`), 0o644))
	count := func(out string) int {
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "eng (Europe/Berlin)") {
				n += strings.Count(line, "1")
			}
		}
		return n
	}
	r := runMain(t, dir, "", "show", "-schedule", "-at=2027-03-29T07:05:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "to Mon 26 Apr 2027 00:00 UTC, one column per day", "28 days")
	// Mondays 29 Mar, 5, 12 and 19 Apr, the retro and the review.
	assert.Equal(t, 6, count(r.stdout), r.stdout)

	md := runMain(t, dir, "", "plan", "-markdown", "-at=2027-03-29T07:05:00Z")
	require.Equal(t, 0, md.code, md.stderr)
	assert.Contains(t, md.stdout, "<summary>Schedule: 6 sends to come,")
	assert.Equal(t, 6, count(md.stdout), md.stdout)
	assert.NotContains(t, md.stdout, "Not drawn")
}
