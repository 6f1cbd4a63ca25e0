package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func waitingAt(t *testing.T, addr string, at time.Time, opts ...instOpt) *Change {
	t.Helper()
	in := newInst(t, addr, at, opts...)
	return &Change{Addr: in.Addr, Action: Wait, Instance: in}
}

func scheduleOf(t *testing.T, opts ScheduleOptions, changes ...*Change) *Schedule {
	t.Helper()
	s, err := NewSchedule(&Plan{At: clock, Changes: changes}, opts)
	require.NoError(t, err)
	return s
}

func sendsTo(s *Schedule, group string) map[string]*ScheduleSend {
	out := map[string]*ScheduleSend{}
	for _, g := range s.Groups {
		if g.Name == group {
			for _, send := range g.Sends {
				out[send.Address] = send
			}
		}
	}
	return out
}

func TestScheduleSpan(t *testing.T) {
	for _, tc := range []struct {
		name       string
		last       time.Duration
		days       int
		wantDays   int
		wantHourly bool
		wantLater  int
	}{
		{"today", 11 * time.Hour, 0, 1, true, 0},
		{"tomorrow", 20 * time.Hour, 0, 2, true, 0},
		{"in three days", 72 * time.Hour, 0, 7, false, 0},
		{"in ten days", 240 * time.Hour, 0, 14, false, 0},
		{"past 28 days", 40 * 24 * time.Hour, 0, 28, false, 1},
		{"asked for 3 days", time.Hour, 3, 3, false, 0},
		{"asked for 1 day, one later", 13 * time.Hour, 1, 1, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scheduleOf(t, ScheduleOptions{Days: tc.days}, waitingAt(t, "message.a", in(time.Hour)), waitingAt(t, "message.b", in(tc.last)))
			assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), s.Start, "starts at midnight UTC of the clock's day")
			assert.Equal(t, s.Start.AddDate(0, 0, tc.wantDays), s.End)
			assert.Equal(t, tc.wantHourly, s.Hourly())
			assert.Equal(t, tc.wantDays*24/map[bool]int{true: 1, false: 24}[tc.wantHourly], s.Columns())
			assert.Equal(t, tc.wantLater, s.Later)
		})
	}
	for _, days := range []int{-1, MaxScheduleDays + 1} {
		_, err := NewSchedule(&Plan{At: clock}, ScheduleOptions{Days: days})
		assert.ErrorContains(t, err, "expected a number of days from 1 to 366")
	}
}

func TestScheduleKinds(t *testing.T) {
	late := newInst(t, "message.late", ago_(5*time.Hour))
	sent := newInst(t, "message.sent", ago_(2*time.Hour))
	maybe := newInst(t, "message.maybe", ago_(time.Hour))
	expired := newInst(t, "message.expired", ago_(10*time.Hour))
	gone := newInst(t, "message.gone", in(2*time.Hour))
	s := scheduleOf(t, ScheduleOptions{},
		&Change{Addr: late.Addr, Action: Retry, Instance: late, Record: recordOf(late, state.StatusFailed)},
		&Change{Addr: sent.Addr, Action: Noop, Instance: sent, Record: recordOf(sent, state.StatusSent)},
		&Change{Addr: maybe.Addr, Action: Unknown, Instance: maybe, Record: recordOf(maybe, state.StatusUnknown)},
		&Change{Addr: expired.Addr, Action: Expire, Instance: expired},
		&Change{Addr: gone.Addr, Action: Orphan, Record: recordOf(gone, state.StatusSent)},
	)
	sends := sendsTo(s, "eng")
	require.Contains(t, sends, "message.late")
	assert.Equal(t, clock, sends["message.late"].At, "a retry goes out at the next apply, not at its old send_at")
	assert.Equal(t, SendUpcoming, sends["message.late"].Kind)
	assert.Equal(t, SendSent, sends["message.sent"].Kind)
	assert.Equal(t, ago_(2*time.Hour), sends["message.sent"].At, "history is drawn at its send_at")
	assert.Equal(t, SendUnknown, sends["message.maybe"].Kind)
	assert.NotContains(t, sends, "message.expired", "an expired message is never sent")
	assert.NotContains(t, sends, "message.gone", "an orphan is never sent")
	assert.Equal(t, 1, s.Upcoming())
	assert.Equal(t, 3, s.Drawn())
}

func TestScheduleNightSends(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600) // 03:00 UTC is 12:00
	changes := []*Change{
		waitingAt(t, "message.three", in(15*time.Hour)),  // 03:00 UTC
		waitingAt(t, "message.seven", in(19*time.Hour)),  // 07:00 UTC
		waitingAt(t, "message.ten_pm", in(10*time.Hour)), // 22:00 UTC
		waitingAt(t, "message.nine_pm", in(9*time.Hour)), // 21:00 UTC
	}
	s := scheduleOf(t, ScheduleOptions{}, changes...)
	eng := sendsTo(s, "eng")
	assert.True(t, eng["message.three"].Night)
	assert.False(t, eng["message.seven"].Night, "night ends at 07:00")
	assert.True(t, eng["message.ten_pm"].Night, "night starts at 22:00")
	assert.False(t, eng["message.nine_pm"].Night)
	assert.Equal(t, 2, s.NightSends())
	assert.Equal(t, 0, s.Collisions())

	s = scheduleOf(t, ScheduleOptions{Groups: map[string]ScheduleGroupInfo{"eng": {Zone: tokyo}, "quiet": {}}}, changes...)
	eng = sendsTo(s, "eng")
	assert.False(t, eng["message.three"].Night, "noon in Tokyo")
	assert.True(t, eng["message.nine_pm"].Night, "06:00 in Tokyo")
	require.Len(t, s.Groups, 2, "a configured group is drawn with nothing scheduled")
	assert.Equal(t, "quiet", s.Groups[1].Name)
	assert.Equal(t, time.UTC, s.Groups[1].Location())
}

func TestScheduleCollisions(t *testing.T) {
	base := in(2 * time.Hour)
	tests := []struct {
		name   string
		limit  *spec.RateLimit
		offset []time.Duration
		want   []*Collision
	}{
		{"same minute", nil, []time.Duration{0, 30 * time.Second}, []*Collision{nil, {After: "message.s0", Gap: 30 * time.Second}}},
		{"same time", nil, []time.Duration{0, 0}, []*Collision{nil, {After: "message.s0"}}},
		{"a minute apart", nil, []time.Duration{0, time.Minute}, []*Collision{nil, nil}},
		{"within the rate limit period", &spec.RateLimit{N: 1, Per: 5 * time.Minute}, []time.Duration{0, 2 * time.Minute}, []*Collision{nil, {RateLimit: &spec.RateLimit{N: 1, Per: 5 * time.Minute}}}},
		{"two per hour", &spec.RateLimit{N: 2, Per: time.Hour}, []time.Duration{0, 20 * time.Minute, 40 * time.Minute, 80 * time.Minute}, []*Collision{nil, nil, {RateLimit: &spec.RateLimit{N: 2, Per: time.Hour}}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var changes []*Change
			for i, d := range tt.offset {
				changes = append(changes, waitingAt(t, fmt.Sprintf("message.s%d", i), base.Add(d)))
			}
			s := scheduleOf(t, ScheduleOptions{Groups: map[string]ScheduleGroupInfo{"eng": {RateLimit: tt.limit}}}, changes...)
			sends := sendsTo(s, "eng")
			for i, want := range tt.want {
				assert.Equal(t, want, sends[fmt.Sprintf("message.s%d", i)].Collision, "message.s%d", i)
			}
		})
	}

	// Sent history does not collide with what is to come.
	old := newInst(t, "message.old", ago_(time.Hour))
	now := newInst(t, "message.now", ago_(time.Hour).Add(10*time.Second))
	s := scheduleOf(t, ScheduleOptions{},
		&Change{Addr: old.Addr, Action: Noop, Instance: old, Record: recordOf(old, state.StatusSent)},
		&Change{Addr: now.Addr, Action: Send, Instance: now},
	)
	assert.Nil(t, sendsTo(s, "eng")["message.now"].Collision)
	assert.Empty(t, s.Flags())
}

func TestScheduleFlagsInTimeOrder(t *testing.T) {
	s := scheduleOf(t, ScheduleOptions{},
		waitingAt(t, "message.b", in(15*time.Hour), group("sales")),
		waitingAt(t, "message.a", in(14*time.Hour)),
		waitingAt(t, "message.c", in(2*time.Hour)),
		waitingAt(t, "message.d", in(2*time.Hour)),
	)
	var got []string
	for _, f := range s.Flags() {
		got = append(got, f.Group.Name+" "+f.Send.Address)
	}
	assert.Equal(t, []string{"eng message.d", "eng message.a", "sales message.b"}, got)
	assert.Equal(t, 2, s.NightSends())
	assert.Equal(t, 1, s.Collisions())
}

func TestScheduleGroups(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	limit := &spec.RateLimit{N: 1, Per: time.Minute}
	g := &spec.Group{Name: "eng", Timezone: zone, RateLimit: limit}
	inst := newInst(t, "message.a", in(time.Hour), func(i *spec.Instance) { i.Group = g })
	gone := recordOf(newInst(t, "message.gone", in(time.Hour), group("sales")), state.StatusSent)
	p := &Plan{At: clock, Changes: []*Change{{Addr: inst.Addr, Action: Wait, Instance: inst}, {Addr: mustAddr(t, "message.gone"), Action: Orphan, Record: gone}}}
	assert.Equal(t, map[string]ScheduleGroupInfo{"eng": {Zone: zone, RateLimit: limit}}, ScheduleGroups(p))
	cfg := &spec.Config{Groups: map[string]*spec.Group{"eng": g}}
	assert.Equal(t, map[string]ScheduleGroupInfo{"eng": {Zone: zone, RateLimit: limit}}, ConfigScheduleGroups(cfg))
}

func TestRepeatPreview(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	at := berlin(t, "2027-03-01 10:00:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, snapOf(), at, Options{})
	require.Equal(t, []string{
		`send message.standup["2027-03-01T09:00:00+01:00"]`,
		`wait message.standup["2027-03-02T09:00:00+01:00"]`,
	}, actions(p))

	// Seven days from midnight UTC of the clock's day: up to 8 March.
	var got []string
	for _, o := range RepeatPreview(p, cfg.Repeats, 0) {
		assert.Equal(t, "eng", o.Group)
		got = append(got, o.Addr.String()+" "+o.SendAt.UTC().Format(time.RFC3339))
	}
	assert.Equal(t, []string{
		`message.standup["2027-03-03T09:00:00+01:00"] 2027-03-03T08:00:00Z`,
		`message.standup["2027-03-04T09:00:00+01:00"] 2027-03-04T08:00:00Z`,
		`message.standup["2027-03-05T09:00:00+01:00"] 2027-03-05T08:00:00Z`,
		`message.standup["2027-03-06T09:00:00+01:00"] 2027-03-06T08:00:00Z`,
		`message.standup["2027-03-07T09:00:00+01:00"] 2027-03-07T08:00:00Z`,
	}, got)
	assert.Empty(t, RepeatPreview(p, cfg.Repeats, 1), "the plan already reaches past one day")
	assert.Len(t, RepeatPreview(p, cfg.Repeats, 3), 1)

	// The schedule draws them as sends to come, and its span reaches them.
	s, err := NewSchedule(p, ScheduleOptions{Preview: RepeatPreview(p, cfg.Repeats, 0)})
	require.NoError(t, err)
	assert.Equal(t, 7, s.Upcoming(), "the due one, the next one and five more")
	assert.False(t, s.Hourly())
}

// TestScheduleDrawsEveryOccurrenceInTheSpan: given the rules, a schedule
// draws a repeat message at every occurrence within the span it draws,
// which a one-off message three weeks out stretches to 28 days; without
// them it draws the two the plan considers and counts the message as cut.
func TestScheduleDrawsEveryOccurrenceInTheSpan(t *testing.T) {
	dir := repeatDir(t, "0 9 * * *")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "later.hcl"), []byte(`
message "later" {
  group   = group.eng
  send_at = "2027-03-20 12:00"
  text    = "later"
}
`), 0o644))
	at := berlin(t, "2027-03-01 10:00:00")
	cfg := loadAt(t, dir, at)
	p := New(cfg, snapOf(), at, Options{})

	s, err := NewSchedule(p, ScheduleOptions{Repeats: cfg.Repeats})
	require.NoError(t, err)
	assert.Equal(t, 28, int(s.End.Sub(s.Start)/(24*time.Hour)), "the later message needs 28 days")
	assert.Equal(t, 28+1, s.Upcoming(), "every day of the 28, and the later message")
	assert.Equal(t, 0, s.RepeatsCut)

	s, err = NewSchedule(p, ScheduleOptions{Repeats: cfg.Repeats, Days: 3})
	require.NoError(t, err)
	assert.Equal(t, 3, s.Upcoming(), "1, 2 and 3 March")
	assert.Equal(t, 1, s.Later)

	// Without a later message the span stays the week the preview fills.
	p = New(cfg, snapOf(), at, Options{Exclude: []addrs.Message{mustAddr(t, "message.later")}})
	s, err = NewSchedule(p, ScheduleOptions{Repeats: cfg.Repeats})
	require.NoError(t, err)
	assert.Equal(t, 7, int(s.End.Sub(s.Start)/(24*time.Hour)))
	assert.Equal(t, 7, s.Upcoming())

	// A saved plan has no rules: the two considered, and the cut said.
	s, err = NewSchedule(p, ScheduleOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Upcoming())
	assert.Equal(t, 1, s.RepeatsCut)
}
