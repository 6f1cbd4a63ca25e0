package spec

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"
)

var repeatSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cron", Required: true},
		{Name: "timezone"},
		{Name: "from"},
		{Name: "until"},
	},
}

// repeatBlock is a decoded repeat block. Absent optional attributes are
// nil.
type repeatBlock struct {
	Cron      hcl.Expression
	Timezone  hcl.Expression
	From      hcl.Expression
	Until     hcl.Expression
	DeclRange hcl.Range
}

func decodeRepeatBlock(block *hcl.Block) (*repeatBlock, hcl.Diagnostics) {
	content, diags := block.Body.Content(repeatSchema)
	return &repeatBlock{
		Cron:      attrExpr(content, "cron"),
		Timezone:  attrExpr(content, "timezone"),
		From:      attrExpr(content, "from"),
		Until:     attrExpr(content, "until"),
		DeclRange: block.DefRange,
	}, diags
}

func (r *repeatBlock) expressions() []hcl.Expression {
	return nonNil(r.Cron, r.Timezone, r.From, r.Until)
}

// Repeat is the rule of a repeat message: when its occurrences fall.
type Repeat struct {
	// Name is the message's name.
	Name string
	// Rule is the rule in words: "every Monday at 09:00 (Europe/Berlin)".
	Rule string
	// Cron is the five-field expression as written.
	Cron string
	// Timezone is the zone the expression is read in (UTC when none is in
	// scope).
	Timezone *time.Location
	// From and Until bound the occurrences, both included; zero when not
	// set (no bound).
	From, Until time.Time
	DeclRange   hcl.Range

	sched *cron.SpecSchedule // read in wall time: its Location is UTC
}

// RepeatInfo describes an instance that is an occurrence of a repeat
// message.
type RepeatInfo struct {
	Rule     string
	Cron     string
	Timezone *time.Location
	// From and Until are the rule's bounds; zero when not set.
	From, Until time.Time
	// Next is the occurrence after this one; zero when until leaves none.
	Next time.Time
	// Prev is the occurrence before this one; zero when from leaves none.
	// An import takes no thread message as this occurrence's that is not
	// dated after it.
	Prev time.Time
	// Remaining counts the occurrences after this one up to until: -1
	// without until. Counting stops at MaxRemaining, so that value means
	// "at least".
	Remaining int
	// Period is the gap from this occurrence to the next; 0 when there is
	// no next one.
	Period time.Duration
}

// MaxRemaining bounds RepeatInfo.Remaining: counting every minute of a
// year would cost more than the count is worth.
const MaxRemaining = 1000

// repeatSearchRounds bounds the search for one occurrence. The cron parser
// looks five years ahead at a time; a rule such as "0 9 29 2 *" can go
// eight years without one (2096 to 2104).
const repeatSearchRounds = 4

// parseCron reads a five-field cron expression (or a descriptor such as
// "@daily"), with 7 for Sunday as well as 0 and errors that name the field
// (normalizeCron). The expression is read in wall time: the zone is applied when
// wall times become instants (resolveWall), so that 09:00 stays 09:00
// across daylight-saving changes.
func parseCron(s string) (*cron.SpecSchedule, error) {
	trimmed := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		return nil, fmt.Errorf("%q names its time zone inside the expression: set the repeat block's timezone instead", s)
	case strings.HasPrefix(trimmed, "@every"):
		return nil, fmt.Errorf("%q is an interval, not a calendar rule: use a five-field cron expression such as \"*/15 * * * *\"", s)
	}
	if !strings.HasPrefix(trimmed, "@") {
		fields, err := normalizeCron(strings.Fields(trimmed))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		trimmed = strings.Join(fields, " ")
	}
	sched, err := cron.ParseStandard(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%q is not a five-field cron expression (minute hour day-of-month month day-of-week, such as \"0 9 * * MON\"): %s", s, err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%q is not a calendar rule: use a five-field cron expression such as \"0 9 * * MON\"", s)
	}
	c := *spec
	c.Location = time.UTC
	return &c, nil
}

// wallOf is the wall time t shows in loc, carried in a UTC time so that
// arithmetic on it knows no daylight saving.
func wallOf(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// wallNext is the first wall time after w that the rule matches; zero when
// there is none within the search rounds.
func (r *Repeat) wallNext(w time.Time) time.Time {
	for round := 0; round < repeatSearchRounds; round++ {
		if n := r.sched.Next(w); !n.IsZero() {
			return n
		}
		// The parser gave up five years on; carry on from there.
		w = time.Date(w.Year()+5, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
	}
	return time.Time{}
}

// margin is how far before t's wall time the walk must start: a wall time
// that daylight saving skips is shifted forward by the gap, so an earlier
// wall time can land after t, by at most the gap of a transition near t.
// Away from any transition nothing can.
func (r *Repeat) margin(t time.Time) time.Duration {
	const near = 50 * time.Hour
	var m time.Duration
	start, end := t.In(r.Timezone).ZoneBounds()
	for _, tr := range []time.Time{start, end} {
		if tr.IsZero() || tr.Sub(t) > near || t.Sub(tr) > near {
			continue
		}
		_, before := tr.Add(-time.Nanosecond).In(r.Timezone).Zone()
		_, after := tr.In(r.Timezone).Zone()
		if gap := time.Duration(after-before) * time.Second; gap > m {
			m = gap
		}
	}
	if m > 0 {
		// The wall time just before the gap, too.
		m += time.Minute
	}
	return m
}

// walk yields the occurrences after a, in order, until yield returns
// false or the rule has none left.
//
// Wall times are visited in order and made instants by resolveWall. Only
// a skipped wall time can land after a later wall time's instant, so
// instants wait in pending until a wall time that was not skipped shows
// that nothing later can come before them.
func (r *Repeat) walk(a time.Time, yield func(time.Time) bool) {
	lo := a
	if !r.From.IsZero() && r.From.After(lo) {
		lo = r.From.Add(-time.Nanosecond)
	}
	w := wallOf(lo, r.Timezone).Add(-r.margin(lo))
	var pending []time.Time
	var last time.Time
	emit := func(upTo time.Time, all bool) bool {
		slices.SortFunc(pending, func(x, y time.Time) int { return x.Compare(y) })
		n := 0
		for _, p := range pending {
			if !all && p.After(upTo) {
				break
			}
			n++
			if !last.IsZero() && !p.After(last) {
				continue
			}
			last = p
			if !yield(p) {
				return false
			}
		}
		pending = pending[n:]
		return true
	}
	for {
		w = r.wallNext(w)
		if w.IsZero() {
			emit(time.Time{}, true)
			return
		}
		inst, kind, _ := resolveWall(w, r.Timezone)
		if !r.Until.IsZero() && inst.After(r.Until) {
			if kind != wallSkipped {
				emit(time.Time{}, true)
				return
			}
			continue
		}
		if inst.After(lo) && !slices.ContainsFunc(pending, inst.Equal) {
			pending = append(pending, inst)
		}
		if kind != wallSkipped && !emit(inst, false) {
			return
		}
	}
}

// next is the first occurrence after t; zero when there is none.
func (r *Repeat) next(t time.Time) time.Time {
	var out time.Time
	r.walk(t, func(o time.Time) bool { out = o; return false })
	return out
}

// latest is the last occurrence at or before t; zero when there is none.
func (r *Repeat) latest(t time.Time) time.Time {
	last, _ := r.latestTwo(t)
	return last
}

// latestTwo is the last occurrence at or before t and the one before it;
// each zero when there is none. It looks back over growing spans, so that
// a rule firing every minute and one firing every four years both cost a
// few steps.
func (r *Repeat) latestTwo(t time.Time) (last, prev time.Time) {
	if !r.From.IsZero() && t.Before(r.From) {
		return time.Time{}, time.Time{}
	}
	for _, span := range []time.Duration{2 * time.Hour, 50 * time.Hour, 33 * 24 * time.Hour, 400 * 24 * time.Hour, 5 * 366 * 24 * time.Hour, 20 * 366 * 24 * time.Hour} {
		start := t.Add(-span)
		var found, before time.Time
		r.walk(start, func(o time.Time) bool {
			if o.After(t) {
				return false
			}
			found, before = o, found
			return true
		})
		if !found.IsZero() {
			last, prev = found, before
		}
		if !prev.IsZero() || (!r.From.IsZero() && start.Before(r.From)) {
			return last, prev
		}
	}
	return last, prev
}

// Occurrences lists the occurrences at or after from and before to, in
// order, at most max of them (none when max <= 0). For previews: a plan
// only ever considers two occurrences (see LoadOptions.At).
func (r *Repeat) Occurrences(from, to time.Time, max int) []time.Time {
	var out []time.Time
	if max <= 0 || !from.Before(to) {
		return nil
	}
	r.walk(from.Add(-time.Nanosecond), func(o time.Time) bool {
		if !o.Before(to) {
			return false
		}
		out = append(out, o)
		return len(out) < max
	})
	return out
}

// CountBetween counts the occurrences after a and before b, at most max of
// them: the walk stops there, so max means "at least max". A zero a counts
// from the rule's from; with neither there is no start, and the count is 0.
// first is the earliest occurrence counted; zero when none is.
func (r *Repeat) CountBetween(a, b time.Time, max int) (n int, first time.Time) {
	if a.IsZero() {
		if r.From.IsZero() {
			return 0, time.Time{}
		}
		a = r.From.Add(-time.Nanosecond)
	}
	if max <= 0 || !a.Before(b) {
		return 0, time.Time{}
	}
	r.walk(a, func(o time.Time) bool {
		if !o.Before(b) {
			return false
		}
		if n == 0 {
			first = o
		}
		n++
		return n < max
	})
	return n, first
}

// remainingAfter counts the occurrences after t up to until, or -1
// without until; at most MaxRemaining.
func (r *Repeat) remainingAfter(t time.Time) int {
	if r.Until.IsZero() {
		return -1
	}
	n := 0
	r.walk(t, func(time.Time) bool {
		n++
		return n < MaxRemaining
	})
	return n
}

// infos describes consecutive occurrences, in order. The next of each but
// the last is the one after it, and its count one more, so the walk to
// until is made once; the previous of each but the first is the one
// before it, and before is the first's (zero: none, or not looked for).
func (r *Repeat) infos(occs []time.Time, before time.Time) []*RepeatInfo {
	out := make([]*RepeatInfo, len(occs))
	for i := len(occs) - 1; i >= 0; i-- {
		t := occs[i]
		ri := &RepeatInfo{Rule: r.Rule, Cron: r.Cron, Timezone: r.Timezone, From: r.From, Until: r.Until}
		if i+1 < len(occs) {
			ri.Next = occs[i+1]
			ri.Remaining = out[i+1].Remaining
			if ri.Remaining >= 0 && ri.Remaining < MaxRemaining {
				ri.Remaining++
			}
		} else {
			ri.Next, ri.Remaining = r.next(t), r.remainingAfter(t)
		}
		if !ri.Next.IsZero() {
			ri.Period = ri.Next.Sub(t)
		}
		if i > 0 {
			ri.Prev = occs[i-1]
		} else {
			ri.Prev = before
		}
		out[i] = ri
	}
	return out
}

// occurrenceKey is an occurrence's instance key: RFC 3339 with the zone's
// offset at that moment.
func occurrenceKey(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.RFC3339)
}

// shiftNote explains an occurrence whose wall time daylight saving moved:
// shown twice (the earlier instant is used) or skipped (shifted forward by
// the gap). "" for an ordinary occurrence.
func (r *Repeat) shiftNote(t time.Time) string {
	w := wallOf(t, r.Timezone)
	if r.matchesWall(w) {
		got, kind, other := resolveWall(w, r.Timezone)
		if kind == wallAmbiguous && got.Equal(t) {
			return wallNote(w, kind, got, other, r.Timezone)
		}
		return ""
	}
	// A skipped wall time was read with the offset before the gap.
	_, before := t.Add(-14 * time.Hour).In(r.Timezone).Zone()
	orig := t.UTC().Add(time.Duration(before) * time.Second)
	got, kind, other := resolveWall(orig, r.Timezone)
	if kind != wallSkipped || !got.Equal(t) {
		return ""
	}
	return wallNote(orig, kind, got, other, r.Timezone)
}

// matchesWall reports whether the rule matches the wall time w.
func (r *Repeat) matchesWall(w time.Time) bool {
	return r.sched.Next(w.Add(-time.Second)).Equal(w)
}

// Words for describing a rule.
var (
	weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames   = []string{"", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const cronStar = 1 << 63

// fieldValues lists the values set in a cron field between lo and hi.
func fieldValues(field uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if field&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

func full(field uint64, lo, hi int) bool {
	return bits.OnesCount64(field&^cronStar) == hi-lo+1
}

// describeRule puts a rule in words: "every Monday at 09:00
// (Europe/Berlin)". Rules too irregular for a short phrase are described
// by their expression.
func describeRule(expr string, s *cron.SpecSchedule, loc *time.Location) string {
	zone := " (" + loc.String() + ")"
	fallback := fmt.Sprintf("on cron schedule %q%s", expr, zone)
	minutes := fieldValues(s.Minute, 0, 59)
	hours := fieldValues(s.Hour, 0, 23)
	allMinutes, allHours := full(s.Minute, 0, 59), full(s.Hour, 0, 23)

	var when string
	switch {
	case allMinutes && allHours:
		when = "every minute"
	case allMinutes && len(hours) == 1:
		when = fmt.Sprintf("every minute from %02d:00 to %02d:59", hours[0], hours[0])
	case allHours && len(minutes) == 1:
		when = fmt.Sprintf("every hour at :%02d", minutes[0])
	case len(minutes)*len(hours) <= 6:
		var times []string
		for _, h := range hours {
			for _, m := range minutes {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		when = "at " + joinNames(times)
	default:
		return fallback
	}

	domStar, dowStar := s.Dom&cronStar != 0, s.Dow&cronStar != 0
	days := fieldValues(s.Dom, 1, 31)
	weekdays := fieldValues(s.Dow, 0, 6)
	months := fieldValues(s.Month, 1, 12)
	allMonths := full(s.Month, 1, 12)
	var inMonths string
	if !allMonths {
		names := make([]string, len(months))
		for i, m := range months {
			names[i] = monthNames[m]
		}
		inMonths = joinNames(names)
	}

	domAll, dowAll := domStar || full(s.Dom, 1, 31), dowStar || full(s.Dow, 0, 6)
	if !domStar && !dowStar && (domAll || dowAll) {
		// Two restricted day fields are read either-or (cronDaysWarning):
		// one that names every day makes it every day.
		domAll, dowAll = true, true
	}
	nums := make([]string, len(days))
	for i, d := range days {
		nums[i] = fmt.Sprint(d)
	}
	monthDays := func() string {
		if len(days) == 1 {
			return "on day " + nums[0] + " of every month"
		}
		return "on days " + joinNames(nums) + " of every month"
	}

	var day string
	switch {
	case domAll && dowAll:
		day = "every day"
		if inMonths != "" {
			day += " in " + inMonths
		}
	case domAll:
		day = "every " + weekdayPhrase(weekdays)
		if inMonths != "" {
			day += " in " + inMonths
		}
	case dowAll:
		switch {
		case inMonths != "" && len(days) == 1:
			day = "every year on " + inMonths + " " + nums[0]
		default:
			day = monthDays()
		}
		if inMonths != "" && len(days) > 1 {
			day = strings.Replace(day, "every month", inMonths, 1)
		}
	case inMonths == "" && len(days) <= 7:
		// Either-or: "on day 1 of every month and every Monday".
		day = monthDays() + " and every " + weekdayPhrase(weekdays)
	default:
		return fallback
	}
	if day == "every day" && strings.HasPrefix(when, "every ") {
		return when + zone
	}
	if strings.HasPrefix(when, "every ") {
		return when + ", " + day + zone
	}
	return day + " " + when + zone
}

func weekdayPhrase(days []int) string {
	switch {
	case slices.Equal(days, []int{1, 2, 3, 4, 5}):
		return "weekday"
	case slices.Equal(days, []int{0, 6}):
		return "Saturday and Sunday"
	}
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = weekdayNames[d]
	}
	return joinNames(names)
}
