package views

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func checkScheduleGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("../testdata/schedule", name)
	if updating() {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// at is the fixtures' clock plus an offset in hours; the clock is 12:00 UTC.
func at(hours float64) time.Time { return planClock.Add(time.Duration(hours * float64(time.Hour))) }

func waiting(address string, g *spec.Group, t time.Time) *planner.Change {
	return change(textInstance(address, g, t, "text of "+address), planner.Wait, "send_at is after the clock", nil)
}

func sched(t *testing.T, p *planner.Plan, opts planner.ScheduleOptions) *planner.Schedule {
	t.Helper()
	s, err := planner.NewSchedule(p, opts)
	require.NoError(t, err)
	return s
}

func sendsOf(s *planner.Schedule, group string) map[string]*planner.ScheduleSend {
	out := map[string]*planner.ScheduleSend{}
	for _, g := range s.Groups {
		if g.Name == group {
			for _, send := range g.Sends {
				out[send.Address] = send
			}
		}
	}
	return out
}

// scheduleFixtures are drawn in the golden tests: an hourly and a daily
// span, with night sends, collisions and sent history.
func scheduleFixtures() map[string]struct {
	plan *planner.Plan
	opts planner.ScheduleOptions
} {
	sent := textInstance("message.welcome", groupEng, at(-4), "Welcome!")
	maybe := textInstance("message.maybe", groupSales, at(-2), "Did it go?")
	due := textInstance("message.launch", groupEng, at(-1), "Launch!")
	busy := []*planner.Change{
		change(sent, planner.Noop, "already sent, unchanged", recordFor(sent, state.StatusSent, 1, "")),
		change(maybe, planner.Unknown, "an attempt has no recorded outcome", recordFor(maybe, state.StatusUnknown, 1, "")),
		change(due, planner.Send, "due and never sent", nil),
		waiting("message.burst_a", groupEng, at(3)),
		waiting("message.burst_b", groupEng, at(3).Add(20*time.Second)),
		waiting("message.night", groupSales, at(15)), // 03:00 UTC
		waiting("message.evening", groupSales, at(9)),
		waiting("message.tomorrow", groupEng, at(22)),
	}
	for i := range 4 {
		busy = append(busy, waiting(fmt.Sprintf("message.digest[%d]", i), groupSales, at(26).Add(time.Duration(i)*10*time.Minute)))
	}
	var month []*planner.Change
	for d := range 20 {
		month = append(month, waiting(fmt.Sprintf("message.daily[%d]", d), groupEng, at(float64(24*d)-3)))
	}
	for i := range 25 {
		month = append(month, waiting(fmt.Sprintf("message.flood[%d]", i), groupSales, at(48).Add(time.Duration(i)*30*time.Second)))
	}
	month = append(month, waiting("message.far", groupSales, at(24*40)))
	return map[string]struct {
		plan *planner.Plan
		opts planner.ScheduleOptions
	}{
		"empty":  {plan(), planner.ScheduleOptions{}},
		"hourly": {plan(busy...), planner.ScheduleOptions{Groups: map[string]planner.ScheduleGroupInfo{"sales": {RateLimit: &spec.RateLimit{N: 2, Per: time.Hour, Text: "2/1h"}}, "quiet": {}}}},
		"daily":  {plan(month...), planner.ScheduleOptions{}},
	}
}

func TestScheduleGolden(t *testing.T) {
	for name, fx := range scheduleFixtures() {
		t.Run(name, func(t *testing.T) {
			s := sched(t, fx.plan, fx.opts)
			checkScheduleGolden(t, name+".out.txt", RenderSchedule(s, false))
		})
	}
}

func TestScheduleNight(t *testing.T) {
	newYork := time.FixedZone("EST", -5*3600) // 03:00 UTC is 22:00 the day before
	tokyo := time.FixedZone("JST", 9*3600)    // 03:00 UTC is 12:00
	p := plan(
		waiting("message.three", groupEng, at(15)),   // 03:00 UTC
		waiting("message.seven", groupEng, at(19)),   // 07:00 UTC
		waiting("message.ten_pm", groupEng, at(10)),  // 22:00 UTC
		waiting("message.nine_pm", groupEng, at(9)),  // 21:00 UTC
		waiting("message.sales", groupSales, at(15)), // 03:00 UTC
	)
	s := sched(t, p, planner.ScheduleOptions{})
	eng := sendsOf(s, "eng")
	assert.True(t, eng["message.three"].Night)
	assert.False(t, eng["message.seven"].Night, "night ends at 07:00")
	assert.True(t, eng["message.ten_pm"].Night, "night starts at 22:00")
	assert.False(t, eng["message.nine_pm"].Night)

	s = sched(t, p, planner.ScheduleOptions{Groups: map[string]planner.ScheduleGroupInfo{"eng": {Zone: tokyo}, "sales": {Zone: newYork}}})
	assert.False(t, sendsOf(s, "eng")["message.three"].Night, "noon in Tokyo")
	assert.True(t, sendsOf(s, "eng")["message.nine_pm"].Night, "06:00 in Tokyo")
	assert.True(t, sendsOf(s, "sales")["message.sales"].Night, "22:00 in New York")
	out := RenderSchedule(s, false)
	assert.Contains(t, out, "eng (JST)")
	assert.Contains(t, out, "message.sales to group sales at Wed 02 Dec 03:00 UTC (22:00 EST)\n      lands at night (22:00-07:00)")
}

func TestScheduleCollisions(t *testing.T) {
	base := at(2)
	tests := []struct {
		name   string
		limit  *spec.RateLimit
		offset []time.Duration
		want   []bool // which sends are flagged
		reason string
	}{
		{"same minute", nil, []time.Duration{0, 30 * time.Second}, []bool{false, true}, "comes 30s after message.s0: two sends to group \"eng\" within 1m"},
		{"same time", nil, []time.Duration{0, 0}, []bool{false, true}, "comes at the same time as message.s0: two sends"},
		{"a minute apart", nil, []time.Duration{0, time.Minute}, []bool{false, false}, ""},
		{"within the rate limit period", &spec.RateLimit{N: 1, Per: 5 * time.Minute, Text: "1/5m"}, []time.Duration{0, 2 * time.Minute}, []bool{false, true}, "makes 2 sends to group \"eng\" within 5m, over its rate_limit 1/5m"},
		{"two per hour", &spec.RateLimit{N: 2, Per: time.Hour, Text: "2/h"}, []time.Duration{0, 20 * time.Minute, 40 * time.Minute, 80 * time.Minute}, []bool{false, false, true, false}, "makes 3 sends to group \"eng\" within 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var changes []*planner.Change
			for i, d := range tt.offset {
				changes = append(changes, waiting(fmt.Sprintf("message.s%d", i), groupEng, base.Add(d)))
			}
			s := sched(t, plan(changes...), planner.ScheduleOptions{Groups: map[string]planner.ScheduleGroupInfo{"eng": {RateLimit: tt.limit}}})
			g := s.Groups[0]
			sends := sendsOf(s, "eng")
			var reasons []string
			for i, want := range tt.want {
				send := sends[fmt.Sprintf("message.s%d", i)]
				assert.Equal(t, want, send.Collision != nil, "message.s%d: %v", i, send.Collision)
				if send.Collision != nil {
					reasons = append(reasons, collisionText(g, send.Collision))
				}
			}
			if tt.reason != "" {
				require.NotEmpty(t, reasons)
				assert.Contains(t, reasons[0], tt.reason)
			}
		})
	}

	// Sent history does not collide with what is to come.
	old := textInstance("message.old", groupEng, at(-1), "old")
	s := sched(t, plan(
		change(old, planner.Noop, "already sent", recordFor(old, state.StatusSent, 1, "")),
		change(textInstance("message.now", groupEng, at(-1).Add(10*time.Second), "now"), planner.Send, "due", nil),
	), planner.ScheduleOptions{})
	assert.Nil(t, sendsOf(s, "eng")["message.now"].Collision)
}

func TestScheduleCells(t *testing.T) {
	var changes []*planner.Change
	for i := range 12 {
		changes = append(changes, waiting(fmt.Sprintf("message.many[%d]", i), groupEng, at(1).Add(time.Duration(i)*2*time.Minute)))
	}
	for i := range 3 {
		changes = append(changes, waiting(fmt.Sprintf("message.few[%d]", i), groupSales, at(2).Add(time.Duration(i)*5*time.Minute)))
	}
	// Both names fit the label column, which is as wide as "group".
	row := func(out, group string) string {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, group+" ") {
				return line[len("group")+2:]
			}
		}
		t.Fatalf("no row for %s in:\n%s", group, out)
		return ""
	}

	hourly := RenderSchedule(sched(t, plan(changes...), planner.ScheduleOptions{Days: 1}), false)
	assert.Equal(t, "~~~~~~~......+........~~", row(hourly, "eng"), "more than 9 in an hour is +")
	assert.Equal(t, "~~~~~~~.......3.......~~", row(hourly, "sales"), "three in one hour")

	daily := RenderSchedule(sched(t, plan(changes...), planner.ScheduleOptions{Days: 7}), false)
	assert.True(t, strings.HasPrefix(row(daily, "eng"), "12  ."), "a day counts to 99: %q", row(daily, "eng"))
	assert.True(t, strings.HasPrefix(row(daily, "sales"), " 3  ."), "%q", row(daily, "sales"))

	// A flagged cell keeps its count in a daily column.
	flagged := append(changes, waiting("message.clash", groupSales, at(2)))
	daily = RenderSchedule(sched(t, plan(flagged...), planner.ScheduleOptions{Days: 7}), false)
	assert.True(t, strings.HasPrefix(row(daily, "sales"), "4!  ."), "%q", row(daily, "sales"))
	hourly = RenderSchedule(sched(t, plan(flagged...), planner.ScheduleOptions{Days: 1}), false)
	assert.Equal(t, byte('!'), row(hourly, "sales")[14])
	assert.Contains(t, hourly, "Needs a look:\n  ! message.few[\"0\"] to group sales at Tue 01 Dec 14:00 UTC\n      comes at the same time as message.clash")
}

func TestScheduleColour(t *testing.T) {
	fx := scheduleFixtures()["hourly"]
	s := sched(t, fx.plan, fx.opts)
	plain := RenderSchedule(s, false)
	coloured := RenderSchedule(s, true)
	assert.Contains(t, coloured, "\x1b[31;1m!\x1b[0m")
	assert.Equal(t, plain, regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(coloured, ""))
}

func TestScheduleSummary(t *testing.T) {
	fx := scheduleFixtures()["hourly"]
	assert.Equal(t, "10 sends to come, 1 at night, 3 collisions", ScheduleSummary(sched(t, fx.plan, fx.opts)))
	assert.Equal(t, "0 sends to come, none at night, no collisions", ScheduleSummary(sched(t, plan(), planner.ScheduleOptions{})))
}

// TestScheduleLongLabels: a label wider than the column is never cut: it
// has a line of its own, with its row below, and the column keeps the
// width of the labels that fit.
func TestScheduleLongLabels(t *testing.T) {
	sp, err := time.LoadLocation("America/Sao_Paulo")
	require.NoError(t, err)
	long := &spec.Group{Name: `module.city["sao_paulo"].group.community`, ThreadID: "t-sp", Service: "whatsapp", From: "+14155550000", Timezone: sp}
	p := plan(waiting("message.a", groupEng, at(24)), waiting(`module.city["sao_paulo"].message.b`, long, at(48)))
	out := RenderSchedule(sched(t, p, planner.ScheduleOptions{Days: 7, Groups: map[string]planner.ScheduleGroupInfo{long.Name: {Zone: sp}}}), false)
	assert.Contains(t, out, "\ngroup  01 02 03 04 05 06 07\neng     .  1  .  .  .  .  .\n"+
		`module.city["sao_paulo"].group.community (America/Sao_Paulo)`+"\n        .  .  1  .  .  .  .\n", out)
	assert.NotContains(t, out, "~ ", "no label is cut")
}

// TestScheduleSaysWhatIsCut: without the rules (a saved plan), the
// schedule says that later occurrences of repeat messages are not drawn.
func TestScheduleSaysWhatIsCut(t *testing.T) {
	p, cfg := repeatPlanConfig(t)
	cut := RenderSchedule(sched(t, p, planner.ScheduleOptions{Days: 28}), false)
	assert.Contains(t, cut, "Not drawn: the later occurrences of 1 repeat message; a saved plan holds only\nthe two it considers of each, and \"herald show -schedule\" draws them all.\n")
	whole := sched(t, p, planner.ScheduleOptions{Days: 28, Repeats: cfg.Repeats})
	assert.Equal(t, 4, whole.Upcoming(), "29 March, 5, 12 and 19 April")
	assert.NotContains(t, RenderSchedule(whole, false), "Not drawn")
}
