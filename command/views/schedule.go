package views

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
)

// Schedule prints a schedule on stdout, as "herald show -schedule" draws
// it.
func (v *View) Schedule(s *planner.Schedule) error {
	_, err := io.WriteString(v.Stdout, RenderSchedule(s, v.StdoutColor))
	return err
}

// Columns per block: a wider picture would wrap in an 80-column terminal.
const (
	hourlyBlock = 48
	dailyBlock  = 14
	// dailyCell is the width of a day's column: two characters for a
	// count and a flag, and a space.
	dailyCell = 3
	// maxLabel is the widest label column: with an hourly block it
	// makes 80 columns. A longer label has a line of its own above its
	// row, so that no name is cut.
	maxLabel = 30
	// maxFlagsListed keeps a flood of collisions from burying the rest;
	// the grid still marks every one.
	maxFlagsListed = 20
)

// ScheduleSummary is the schedule in one line, for a heading.
func ScheduleSummary(s *planner.Schedule) string {
	var parts []string
	parts = append(parts, countOf(s.Upcoming(), "send to come", "sends to come"))
	night, near := s.NightSends(), s.Collisions()
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
func RenderSchedule(s *planner.Schedule, color bool) string {
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
		// A label too wide for the column goes on a line of its own.
		if l := utf8.RuneCountInString(printable(groupLabel(g))); l > width && l <= maxLabel {
			width = l
		}
	}
	if len(s.Groups) == 0 {
		b.WriteString("\nNo group has anything scheduled.\n")
	}

	block := hourlyBlock
	if !s.Hourly() {
		block = dailyBlock
	}
	total := s.Columns()
	for from := 0; from < total && len(s.Groups) > 0; from += block {
		to := min(from+block, total)
		b.WriteByte('\n')
		writeAxis(&b, s, width, from, to)
		for _, g := range s.Groups {
			label := printable(groupLabel(g))
			n := utf8.RuneCountInString(label)
			if n > width {
				fmt.Fprintf(&b, "%s\n", label)
				label, n = "", 0
			}
			b.WriteString(label + strings.Repeat(" ", width-n+2))
			var row strings.Builder
			for col := from; col < to; col++ {
				row.WriteString(cell(s, g, col, paint))
			}
			b.WriteString(strings.TrimRight(row.String(), " ") + "\n")
		}
		if now := s.ColumnOf(s.At); now >= from && now < to {
			pad := (now - from) * cellWidth(s)
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
			paint("!", Red, Bold), planner.NightStarts, planner.NightEnds)
	} else {
		fmt.Fprintf(&b, "Legend: sends in the day (+ over 99), %s needs a look, = sent, ? maybe sent,\n"+
			"        . nothing.\n", paint("!", Red, Bold))
	}
	if s.Later > 0 {
		fmt.Fprintf(&b, "Not drawn: %s after %s; \"herald show -schedule -days=N\" draws more.\n", countOf(s.Later, "send", "sends"), s.End.Format("Mon 02 Jan"))
	}
	if s.RepeatsCut > 0 {
		fmt.Fprintf(&b, "Not drawn: the later occurrences of %s; a saved plan holds only\n"+
			"the two it considers of each, and \"herald show -schedule\" draws them all.\n",
			countOf(s.RepeatsCut, "repeat message", "repeat messages"))
	}

	flags := s.Flags()
	if len(flags) == 0 {
		if s.Upcoming() > 0 {
			fmt.Fprintf(&b, "No send lands at night (%02d:00-%02d:00) and none comes too close to another.\n", planner.NightStarts, planner.NightEnds)
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
		if z := g.Location(); z != time.UTC {
			when += fmt.Sprintf(" (%s %s)", send.At.In(z).Format("15:04"), z.String())
		}
		fmt.Fprintf(&b, "  %s %s to group %s at %s\n", paint("!", Red, Bold), printable(send.Address), printable(g.Name), when)
		if send.Night {
			fmt.Fprintf(&b, "      lands at night (%02d:00-%02d:00)\n", planner.NightStarts, planner.NightEnds)
		}
		if send.Collision != nil {
			fmt.Fprintf(&b, "      %s\n", printable(collisionText(g, send.Collision)))
		}
	}
	return b.String()
}

// collisionText says why a send comes too close to an earlier one.
func collisionText(g *planner.ScheduleGroup, c *planner.Collision) string {
	if r := c.RateLimit; r != nil {
		return fmt.Sprintf("makes %d sends to group %q within %s, over its rate_limit %s: held back until the limit allows", r.N+1, g.Name, shortDuration(r.Per), rateText(r))
	}
	return fmt.Sprintf("comes %s %s: two sends to group %q within %s", gapPhrase(c.Gap), c.After, g.Name, shortDuration(planner.CollisionWindow))
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

func groupLabel(g *planner.ScheduleGroup) string {
	if g.Zone != nil && g.Zone != time.UTC {
		return g.Name + " (" + g.Zone.String() + ")"
	}
	return g.Name
}

func cellWidth(s *planner.Schedule) int {
	if s.Hourly() {
		return 1
	}
	return dailyCell
}

// writeAxis writes the two heading rows of a block: dates and hours for
// an hourly block, months and days of the month for a daily one.
func writeAxis(b *strings.Builder, s *planner.Schedule, width, from, to int) {
	top := []byte(strings.Repeat(" ", (to-from)*cellWidth(s)))
	bottom := []byte(strings.Repeat(" ", len(top)))
	put := func(line []byte, at int, text string) {
		for i := 0; i < len(text) && at+i < len(line); i++ {
			line[at+i] = text[i]
		}
	}
	for col := from; col < to; col++ {
		t := s.ColumnStart(col)
		x := (col - from) * cellWidth(s)
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
func cell(s *planner.Schedule, g *planner.ScheduleGroup, col int, paint func(string, ...Style) string) string {
	var upcoming, sent, unknown int
	flagged := false
	for _, send := range g.Sends {
		if s.ColumnOf(send.At) != col {
			continue
		}
		switch send.Kind {
		case planner.SendUpcoming:
			upcoming++
			flagged = flagged || send.Flagged()
		case planner.SendSent:
			sent++
		case planner.SendUnknown:
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
		if g.IsNight(s.ColumnStart(col)) {
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
