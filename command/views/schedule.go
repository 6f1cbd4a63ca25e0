package views

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Night is the part of a day in which a send to a group is flagged: from
// NightStarts to NightEnds o'clock in the group's own time zone.
const (
	NightStarts = 22
	NightEnds   = 7
)

// CollisionWindow is the shortest gap between two sends to one group that
// is not flagged, whatever the group's rate limit: two messages a few
// seconds apart read as one burst, and are usually a mistake.
const CollisionWindow = time.Minute

// MaxScheduleDays bounds -days; past a year a day per column stops being
// a picture anyone reads.
const MaxScheduleDays = 366

// autoScheduleDays are the spans a schedule picks from when none is
// asked for: the first that reaches the last send to come, else the last.
var autoScheduleDays = []int{1, 2, 7, 14, 28}

// hourlyDays is the longest span drawn with a column per hour; longer
// spans get a column per day.
const hourlyDays = 2

// ScheduleGroupInfo is what the configuration knows about a group that a
// plan document does not carry.
type ScheduleGroupInfo struct {
	// Zone is the group's time zone, for what counts as night; nil is UTC.
	Zone *time.Location
	// RateLimit is the group's own limit; nil when it has none.
	RateLimit *spec.RateLimit
}

// ScheduleOptions shape a schedule.
type ScheduleOptions struct {
	// Days is the span drawn from the start of the clock's day (UTC);
	// 0 picks the shortest of 1, 2, 7, 14 and 28 days that shows every
	// send to come.
	Days int
	// Groups adds what the configuration knows, by group name. A group
	// listed here is drawn even when nothing is scheduled for it.
	Groups map[string]ScheduleGroupInfo
}

// SendKind says what a mark on the schedule stands for.
type SendKind string

const (
	// SendUpcoming: apply sends it (now, or once it is due).
	SendUpcoming SendKind = "upcoming"
	// SendSent: state records it as sent.
	SendSent SendKind = "sent"
	// SendUnknown: an earlier apply may or may not have sent it.
	SendUnknown SendKind = "unknown"
)

// Schedule is the sends of a plan laid out on a time axis, one row per
// group, with what needs a reviewer's eye flagged.
type Schedule struct {
	// At is the plan's clock.
	At time.Time
	// Start is the start of the first column, midnight UTC of the clock's
	// day; End is the end of the last.
	Start, End time.Time
	// Column is the time one column covers: an hour or a day.
	Column time.Duration
	Groups []*ScheduleGroup
	// Later counts sends to come after End, which are not drawn.
	Later int
}

// ScheduleGroup is one row.
type ScheduleGroup struct {
	Name      string
	Zone      *time.Location
	RateLimit *spec.RateLimit
	// Sends are the sends within the span, in time order.
	Sends []*ScheduleSend
}

// ScheduleSend is one message on the axis.
type ScheduleSend struct {
	Address string
	Action  string
	Kind    SendKind
	// At is when the message goes out: its send_at, or the clock for a
	// due message, which the next apply sends at once.
	At time.Time
	// Night reports that a send to come lands at night in the group's
	// zone.
	Night bool
	// Collision, when set, says why this send comes too close to an
	// earlier one to the same group.
	Collision string
}

// Flagged reports whether the send needs a look.
func (s *ScheduleSend) Flagged() bool { return s.Night || s.Collision != "" }

// NewSchedule lays out the sends of a plan document. Sends to come (send,
// retry, wait) are drawn where they go out; sent messages (noop, drift)
// and unknown ones are drawn at their send_at so the span reads as a
// whole; expired and orphaned messages are never sent and are left out.
func NewSchedule(doc *PlanDocument, opts ScheduleOptions) (*Schedule, error) {
	if opts.Days < 0 || opts.Days > MaxScheduleDays {
		return nil, fmt.Errorf("-days=%d: expected a number of days from 1 to %d", opts.Days, MaxScheduleDays)
	}
	at := doc.At.UTC()
	s := &Schedule{At: at, Start: time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)}

	groups := map[string]*ScheduleGroup{}
	group := func(name string) *ScheduleGroup {
		g, ok := groups[name]
		if !ok {
			info := opts.Groups[name]
			g = &ScheduleGroup{Name: name, Zone: info.Zone, RateLimit: info.RateLimit}
			groups[name] = g
		}
		return g
	}
	for name := range opts.Groups {
		group(name)
	}

	var all []*ScheduleSend
	var owner []*ScheduleGroup
	var lastUpcoming time.Time
	for i := range doc.Changes {
		c := &doc.Changes[i]
		a, ok := c.ActionOf()
		if !ok {
			continue
		}
		send := &ScheduleSend{Address: c.Address, Action: c.Action, At: c.SendAt.UTC()}
		switch a {
		case planner.Send, planner.Retry:
			send.Kind = SendUpcoming
			if send.At.Before(at) {
				send.At = at
			}
		case planner.Wait:
			send.Kind = SendUpcoming
		case planner.Noop, planner.Drift:
			send.Kind = SendSent
		case planner.Unknown:
			send.Kind = SendUnknown
		default:
			continue
		}
		if send.Kind == SendUpcoming && send.At.After(lastUpcoming) {
			lastUpcoming = send.At
		}
		all = append(all, send)
		owner = append(owner, group(c.Group))
	}

	days := opts.Days
	if days == 0 {
		days = autoScheduleDays[len(autoScheduleDays)-1]
		for _, d := range autoScheduleDays {
			if lastUpcoming.Before(s.Start.AddDate(0, 0, d)) {
				days = d
				break
			}
		}
	}
	s.End = s.Start.AddDate(0, 0, days)
	s.Column = time.Hour
	if days > hourlyDays {
		s.Column = 24 * time.Hour
	}

	for i, send := range all {
		if send.At.Before(s.Start) || !send.At.Before(s.End) {
			if send.Kind == SendUpcoming && !send.At.Before(s.End) {
				s.Later++
			}
			continue
		}
		owner[i].Sends = append(owner[i].Sends, send)
	}
	for _, g := range groups {
		sort.SliceStable(g.Sends, func(i, j int) bool {
			if !g.Sends[i].At.Equal(g.Sends[j].At) {
				return g.Sends[i].At.Before(g.Sends[j].At)
			}
			return g.Sends[i].Address < g.Sends[j].Address
		})
		g.flag()
		s.Groups = append(s.Groups, g)
	}
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].Name < s.Groups[j].Name })
	return s, nil
}

// zone is the group's time zone, UTC when it has none.
func (g *ScheduleGroup) zone() *time.Location {
	if g.Zone == nil {
		return time.UTC
	}
	return g.Zone
}

// flag marks the sends to come that land at night, or too close to an
// earlier send to the group: within CollisionWindow of the one before, or
// as the (N+1)th send inside one period of an N/period rate limit, which
// holds it back past its send_at.
func (g *ScheduleGroup) flag() {
	var upcoming []*ScheduleSend
	for _, s := range g.Sends {
		if s.Kind != SendUpcoming {
			continue
		}
		h := s.At.In(g.zone()).Hour()
		s.Night = h >= NightStarts || h < NightEnds
		n := len(upcoming)
		switch {
		case n > 0 && s.At.Sub(upcoming[n-1].At) < CollisionWindow:
			prev := upcoming[n-1]
			s.Collision = fmt.Sprintf("comes %s %s: two sends to group %q within %s", gapPhrase(s.At.Sub(prev.At)), prev.Address, g.Name, shortDuration(CollisionWindow))
		case g.RateLimit != nil && g.RateLimit.N > 0 && n >= g.RateLimit.N && s.At.Sub(upcoming[n-g.RateLimit.N].At) < g.RateLimit.Per:
			s.Collision = fmt.Sprintf("makes %d sends to group %q within %s, over its rate_limit %s: held back until the limit allows", g.RateLimit.N+1, g.Name, shortDuration(g.RateLimit.Per), rateText(g.RateLimit))
		}
		upcoming = append(upcoming, s)
	}
}

func gapPhrase(d time.Duration) string {
	if d == 0 {
		return "at the same time as"
	}
	return shortDuration(d) + " after"
}

func rateText(r *spec.RateLimit) string {
	if r.Text != "" {
		return r.Text
	}
	return fmt.Sprintf("%d/%s", r.N, shortDuration(r.Per))
}

// Flags lists every flagged send, in time order.
func (s *Schedule) Flags() []ScheduleFlag {
	var out []ScheduleFlag
	for _, g := range s.Groups {
		for _, send := range g.Sends {
			if send.Flagged() {
				out = append(out, ScheduleFlag{Group: g, Send: send})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Send.At.Equal(out[j].Send.At) {
			return out[i].Send.At.Before(out[j].Send.At)
		}
		return out[i].Send.Address < out[j].Send.Address
	})
	return out
}

// ScheduleFlag is a send that needs a look, with its group.
type ScheduleFlag struct {
	Group *ScheduleGroup
	Send  *ScheduleSend
}

// Upcoming counts the sends to come within the span.
func (s *Schedule) Upcoming() int {
	n := 0
	for _, g := range s.Groups {
		for _, send := range g.Sends {
			if send.Kind == SendUpcoming {
				n++
			}
		}
	}
	return n
}

// Drawn counts every send within the span.
func (s *Schedule) Drawn() int {
	n := 0
	for _, g := range s.Groups {
		n += len(g.Sends)
	}
	return n
}

// Hourly reports whether a column is an hour.
func (s *Schedule) Hourly() bool { return s.Column == time.Hour }

func (s *Schedule) columns() int { return int(s.End.Sub(s.Start) / s.Column) }

// column is the index of the column t falls in.
func (s *Schedule) column(t time.Time) int { return int(t.Sub(s.Start) / s.Column) }

// Columns per block: a wider picture would wrap in an 80-column terminal.
const (
	hourlyBlock = 48
	dailyBlock  = 14
	// dailyCell is the width of a day's column: two characters for a
	// count and a flag, and a space.
	dailyCell = 3
	maxLabel  = 24
	// maxFlagsListed keeps a flood of collisions from burying the rest;
	// the grid still marks every one.
	maxFlagsListed = 20
)

// Summary is the schedule in one line, for a heading.
func (s *Schedule) Summary() string {
	var parts []string
	parts = append(parts, countOf(s.Upcoming(), "send to come", "sends to come"))
	night, near := 0, 0
	for _, f := range s.Flags() {
		if f.Send.Night {
			night++
		}
		if f.Send.Collision != "" {
			near++
		}
	}
	if night == 0 {
		parts = append(parts, "none at night")
	} else {
		parts = append(parts, fmt.Sprintf("%d at night", night))
	}
	if near == 0 {
		parts = append(parts, "no collisions")
	} else {
		parts = append(parts, countOf(near, "collision", "collisions"))
	}
	return strings.Join(parts, ", ")
}

// RenderSchedule draws the schedule for a terminal or a text block: a
// heading, one block of rows per 48 hours or 14 days, the legend, and
// each flagged send in words.
func RenderSchedule(s *Schedule, color bool) string {
	var b strings.Builder
	paint := func(str string, st ...Style) string { return Paint(color, str, st...) }

	unit := "hour"
	if !s.Hourly() {
		unit = "day"
	}
	fmt.Fprintf(&b, "Schedule from %s to %s UTC, one column per %s;\nnow is %s UTC.\n",
		s.Start.Format("Mon 02 Jan 2006 15:04"), s.End.Format("Mon 02 Jan 2006 15:04"), unit, s.At.Format("Mon 02 Jan 2006 15:04"))

	width := len("group")
	for _, g := range s.Groups {
		if l := len(groupLabel(g)); l > width {
			width = l
		}
	}
	if width > maxLabel {
		width = maxLabel
	}
	if len(s.Groups) == 0 {
		b.WriteString("\nNo group has anything scheduled.\n")
	}

	block := hourlyBlock
	if !s.Hourly() {
		block = dailyBlock
	}
	total := s.columns()
	for from := 0; from < total && len(s.Groups) > 0; from += block {
		to := min(from+block, total)
		b.WriteByte('\n')
		s.writeAxis(&b, width, from, to)
		for _, g := range s.Groups {
			fmt.Fprintf(&b, "%-*s  ", width, clip(groupLabel(g), width))
			var row strings.Builder
			for col := from; col < to; col++ {
				row.WriteString(s.cell(g, col, paint))
			}
			b.WriteString(strings.TrimRight(row.String(), " ") + "\n")
		}
		if now := s.column(s.At); now >= from && now < to {
			pad := (now - from) * s.cellWidth()
			if !s.Hourly() {
				// A day's mark stands under the second digit of its date.
				pad++
			}
			fmt.Fprintf(&b, "%-*s  %s^ now\n", width, "", strings.Repeat(" ", pad))
		}
	}

	b.WriteByte('\n')
	if s.Hourly() {
		fmt.Fprintf(&b, "Legend: 1-9 sends in the hour (+ more), %s needs a look, = sent, ? maybe sent,\n"+
			"        . nothing, ~ night (%02d:00-%02d:00 in the group's zone, UTC unless set).\n",
			paint("!", Red, Bold), NightStarts, NightEnds)
	} else {
		fmt.Fprintf(&b, "Legend: sends in the day (+ over 99), %s needs a look, = sent, ? maybe sent,\n"+
			"        . nothing.\n", paint("!", Red, Bold))
	}
	if s.Later > 0 {
		fmt.Fprintf(&b, "Not drawn: %s after %s; \"herald show -schedule -days=N\" draws more.\n", countOf(s.Later, "send", "sends"), s.End.Format("Mon 02 Jan"))
	}

	flags := s.Flags()
	if len(flags) == 0 {
		if s.Upcoming() > 0 {
			fmt.Fprintf(&b, "No send lands at night (%02d:00-%02d:00) and none comes too close to another.\n", NightStarts, NightEnds)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "\n%s\n", paint("Needs a look:", Bold, Yellow))
	for i, f := range flags {
		if i == maxFlagsListed {
			fmt.Fprintf(&b, "  ... and %d more.\n", len(flags)-i)
			break
		}
		send, g := f.Send, f.Group
		when := send.At.Format("Mon 02 Jan 15:04") + " UTC"
		if z := g.zone(); z != time.UTC {
			when += fmt.Sprintf(" (%s %s)", send.At.In(z).Format("15:04"), z.String())
		}
		fmt.Fprintf(&b, "  %s %s to group %s at %s\n", paint("!", Red, Bold), printable(send.Address), printable(g.Name), when)
		if send.Night {
			fmt.Fprintf(&b, "      lands at night (%02d:00-%02d:00)\n", NightStarts, NightEnds)
		}
		if send.Collision != "" {
			fmt.Fprintf(&b, "      %s\n", printable(send.Collision))
		}
	}
	return b.String()
}

func groupLabel(g *ScheduleGroup) string {
	if g.Zone != nil && g.Zone != time.UTC {
		return g.Name + " (" + g.Zone.String() + ")"
	}
	return g.Name
}

// clip shortens a label to n bytes; labels are group names and zone
// names, which are ASCII.
func clip(s string, n int) string {
	s = printable(s)
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

func (s *Schedule) cellWidth() int {
	if s.Hourly() {
		return 1
	}
	return dailyCell
}

// writeAxis writes the two heading rows of a block: dates and hours for
// an hourly block, months and days of the month for a daily one.
func (s *Schedule) writeAxis(b *strings.Builder, width, from, to int) {
	top := []byte(strings.Repeat(" ", (to-from)*s.cellWidth()))
	bottom := []byte(strings.Repeat(" ", len(top)))
	put := func(line []byte, at int, text string) {
		for i := 0; i < len(text) && at+i < len(line); i++ {
			line[at+i] = text[i]
		}
	}
	for col := from; col < to; col++ {
		t := s.Start.Add(time.Duration(col) * s.Column)
		x := (col - from) * s.cellWidth()
		if s.Hourly() {
			if t.Hour() == 0 || col == from {
				put(top, x, t.Format("Mon 02 Jan"))
			}
			if t.Hour()%3 == 0 {
				put(bottom, x, t.Format("15"))
			}
			continue
		}
		if t.Day() == 1 || col == from {
			put(top, x, t.Format("Jan"))
		}
		put(bottom, x, t.Format("02"))
	}
	fmt.Fprintf(b, "%-*s  %s\n", width, "", strings.TrimRight(string(top), " "))
	fmt.Fprintf(b, "%-*s  %s\n", width, "group", strings.TrimRight(string(bottom), " "))
}

// cell draws one group's column: a count of sends to come, "!" when one
// of them needs a look, "=" for sent only, "?" for maybe sent, and the
// empty mark otherwise.
func (s *Schedule) cell(g *ScheduleGroup, col int, paint func(string, ...Style) string) string {
	var upcoming, sent, unknown int
	flagged := false
	for _, send := range g.Sends {
		if s.column(send.At) != col {
			continue
		}
		switch send.Kind {
		case SendUpcoming:
			upcoming++
			flagged = flagged || send.Flagged()
		case SendSent:
			sent++
		case SendUnknown:
			unknown++
		}
	}
	if s.Hourly() {
		switch {
		case flagged:
			return paint("!", Red, Bold)
		case upcoming > 9:
			return paint("+", Green)
		case upcoming > 0:
			return paint(strconv.Itoa(upcoming), Green)
		case unknown > 0:
			return paint("?", Yellow)
		case sent > 0:
			return "="
		}
		start := s.Start.Add(time.Duration(col) * s.Column)
		if h := start.In(g.zone()).Hour(); h >= NightStarts || h < NightEnds {
			return paint("~", Dim)
		}
		return paint(".", Dim)
	}
	var mark string
	st := []Style{Green}
	switch {
	case upcoming > 99:
		mark = "+"
	case upcoming > 0:
		mark = strconv.Itoa(upcoming)
	case unknown > 0:
		mark, st = "?", []Style{Yellow}
	case sent > 0:
		mark, st = "=", nil
	default:
		mark, st = ".", []Style{Dim}
	}
	if flagged {
		if len(mark) > 1 {
			mark = mark[:1]
			if upcoming > 9 {
				mark = "+"
			}
		}
		mark += "!"
		st = []Style{Red, Bold}
	}
	return strings.Repeat(" ", dailyCell-1-len(mark)) + paint(mark, st...) + " "
}
