package spec

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Bounds of a repeat block's interval and count.
const (
	maxIntervalDays  = 3660
	maxIntervalWeeks = 520
	maxRepeatCount   = 10000
)

var intervalPattern = regexp.MustCompile(`^\s*([0-9]+)\s*(day|days|week|weeks)\s*$`)

// parseInterval reads an interval: "N days" or "N weeks" ("1 week" too).
func parseInterval(s string) (Interval, error) {
	m := intervalPattern.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return Interval{}, fmt.Errorf("%q is not an interval: write a number of days or weeks, such as \"2 weeks\" or \"3 days\"", s)
	}
	n, err := strconv.Atoi(m[1])
	weeks := strings.HasPrefix(m[2], "week")
	limit := maxIntervalDays
	if weeks {
		limit = maxIntervalWeeks
	}
	if err != nil || n < 1 || n > limit {
		return Interval{}, fmt.Errorf("%q is out of range: an interval is 1 to %d %ss", s, limit, strings.TrimSuffix(m[2], "s"))
	}
	return Interval{N: n, Weeks: weeks}, nil
}

// evalRuleBounds evaluates interval, count and except into r, whose cron,
// zone, from and until are set, and works out the count's last
// occurrence. It reports whether all three are usable.
func (l *loader) evalRuleBounds(r *Repeat, rb *repeatBlock, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ok := true
	r.fromDay = civilDay(wallOf(r.From, r.Timezone))

	s, set, _, iok, d := l.evalShownString(rb.Interval, ctx, "interval", "")
	diags = append(diags, d...)
	ok = ok && iok
	if set {
		iv, err := parseInterval(s)
		switch {
		case err != nil:
			diags = append(diags, attrError("Invalid interval", detail(err, s, false), rb.Interval))
			ok = false
		case r.From.IsZero():
			diags = append(diags, attrError("Interval without from",
				fmt.Sprintf("interval = %q counts days or weeks from the day or week of from, so the repeat block needs from as well.", s), rb.Interval))
			ok = false
		default:
			r.Interval = iv
		}
	}

	count, cset, cok, d := l.evalCount(rb.Count, ctx)
	diags = append(diags, d...)
	ok = ok && cok
	if cset && r.From.IsZero() {
		diags = append(diags, attrError("Count without from",
			fmt.Sprintf("count = %d counts the occurrences from from, so the repeat block needs from as well.", count), rb.Count))
		ok = false
	}

	entries, eok, d := l.evalExcept(rb.Except, ctx, r.Timezone)
	diags = append(diags, d...)
	ok = ok && eok
	if !ok {
		return false, diags
	}

	if cset {
		r.Count = count
		n := 0
		var last time.Time
		r.walkRule(r.From.Add(-time.Nanosecond), false, func(o time.Time) bool {
			n++
			last = o
			return n < count
		})
		if n == count && (r.Until.IsZero() || last.Before(r.Until)) {
			r.Last = last
		}
	}

	for _, e := range entries {
		r.Except = append(r.Except, e.text)
		if e.day {
			if r.exceptDays == nil {
				r.exceptDays = map[int64]bool{}
			}
			r.exceptDays[e.civil] = true
		} else {
			if r.exceptTimes == nil {
				r.exceptTimes = map[int64]bool{}
			}
			r.exceptTimes[e.at.UnixNano()] = true
		}
	}
	for _, e := range entries {
		if !r.exceptMatches(e) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Exception matches no occurrence",
				Detail: fmt.Sprintf("except lists %q, but the rule (%s) has no occurrence %s%s, so it skips nothing: is it a typo?",
					e.text, r.Cron, e.where(r.Timezone), r.outside(e)),
				Subject: e.rng.Ptr(),
			})
		}
	}
	return true, diags
}

// evalCount evaluates a repeat block's count: a whole number from 1 to
// maxRepeatCount.
func (l *loader) evalCount(expr hcl.Expression, ctx *hcl.EvalContext) (int, bool, bool, hcl.Diagnostics) {
	if expr == nil {
		return 0, false, true, nil
	}
	v, sensitive, ok, diags := l.evalAs(expr, ctx, cty.Number, "count")
	switch {
	case !ok:
		return 0, false, false, diags
	case v.IsNull():
		return 0, false, true, diags
	case sensitive:
		return 0, false, false, append(diags, sensitiveShownError("count", "", expr))
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if acc != big.Exact || !bf.IsInt() || n < 1 || n > maxRepeatCount {
		return 0, false, false, append(diags, attrError("Invalid count",
			fmt.Sprintf("count must be a whole number from 1 to %d; this is %s.", maxRepeatCount, bf.Text('g', -1)), expr))
	}
	return int(n), true, true, diags
}

// exceptEntry is one element of a repeat block's except: a whole day or
// one moment.
type exceptEntry struct {
	text  string
	day   bool
	civil int64     // the day, when day is set
	at    time.Time // the moment, when it is not
	rng   hcl.Range
}

func (e exceptEntry) where(loc *time.Location) string {
	if e.day {
		return "on " + dayWall(e.civil).Format("Monday 2 January 2006") + " in " + loc.String()
	}
	return "at " + e.at.In(loc).Format(time.RFC3339)
}

const dateLayout = "2006-01-02"

var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// evalExcept evaluates a repeat block's except: a list of dates
// ("2027-12-25", a whole day in the rule's zone) and moments (a wall time
// in the rule's zone, or RFC 3339).
func (l *loader) evalExcept(expr hcl.Expression, ctx *hcl.EvalContext, loc *time.Location) ([]exceptEntry, bool, hcl.Diagnostics) {
	if expr == nil {
		return nil, true, nil
	}
	v, sensitive, ok, diags := l.evalAs(expr, ctx, cty.List(cty.String), "except")
	switch {
	case !ok:
		return nil, false, diags
	case v.IsNull():
		return nil, true, diags
	case sensitive:
		return nil, false, append(diags, sensitiveShownError("except", "", expr))
	}
	// Each element's own range, when except is written as a list.
	var ranges []hcl.Range
	if tuple, isTuple := expr.(*hclsyntax.TupleConsExpr); isTuple && len(tuple.Exprs) == v.LengthInt() {
		for _, e := range tuple.Exprs {
			ranges = append(ranges, e.Range())
		}
	}
	var out []exceptEntry
	ok = true
	for i, ev := range v.AsValueSlice() {
		rng := expr.Range()
		if ranges != nil {
			rng = ranges[i]
		}
		if ev.IsNull() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid except",
				Detail: "except lists dates and times; an element is null.", Subject: rng.Ptr()})
			ok = false
			continue
		}
		s := ev.AsString()
		e := exceptEntry{text: s, rng: rng}
		if datePattern.MatchString(s) {
			d, err := time.Parse(dateLayout, s)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid except",
					Detail: fmt.Sprintf("%q is not a valid date.", s), Subject: rng.Ptr()})
				ok = false
				continue
			}
			e.day, e.civil = true, civilDay(d)
		} else {
			t, _, err := parseMoment(s, loc)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid except",
					Detail:  fmt.Sprintf("%q is neither a date, such as \"2027-12-25\", nor a wall time in %s, such as \"2027-12-25 09:00\", nor an RFC 3339 time, such as \"2027-12-25T09:00:00+01:00\".", s, loc),
					Subject: rng.Ptr()})
				ok = false
				continue
			}
			e.at = t
		}
		out = append(out, e)
	}
	return out, ok, diags
}

// outside says why an except entry falls outside the rule's bounds, when
// it does: " (it is before from, 2027-03-01T00:00:00+01:00)".
func (r *Repeat) outside(e exceptEntry) string {
	first, last := e.at, e.at
	if e.day {
		first, _, _ = resolveWall(dayWall(e.civil), r.Timezone)
		last, _, _ = resolveWall(dayWall(e.civil+1), r.Timezone)
	}
	switch end := r.end(); {
	case !r.From.IsZero() && !last.After(r.From):
		return " (it is before from, " + r.From.In(r.Timezone).Format(time.RFC3339) + ")"
	case !end.IsZero() && first.After(end) && end.Equal(r.Last):
		return fmt.Sprintf(" (it is after the last of its %d occurrences, %s)", r.Count, occurrenceKey(end, r.Timezone))
	case !end.IsZero() && first.After(end):
		return " (it is after until, " + end.In(r.Timezone).Format(time.RFC3339) + ")"
	}
	return ""
}

// exceptMatches reports whether an except entry names an occurrence of
// the rule as it would be without except.
func (r *Repeat) exceptMatches(e exceptEntry) bool {
	var start time.Time
	if e.day {
		start, _, _ = resolveWall(dayWall(e.civil), r.Timezone)
	} else {
		start = e.at
	}
	var found bool
	r.walkRule(start.Add(-time.Nanosecond), false, func(o time.Time) bool {
		if e.day {
			found = civilDay(wallOf(o, r.Timezone)) == e.civil
		} else {
			found = o.Equal(e.at)
		}
		return false
	})
	return found
}

// evalOverrides evaluates the occurrence blocks of a repeat block into r,
// whose rule is complete: each must name an occurrence, once, and may
// move it only between the occurrences before and after it.
func (l *loader) evalOverrides(r *Repeat, rb *repeatBlock, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ok := true
	var list []*override
	for _, ob := range rb.Occurrences {
		bad := func(summary, text string, rng hcl.Range) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: text, Subject: rng.Ptr()})
			ok = false
		}
		at, _, err := parseMoment(ob.Label, r.Timezone)
		if err != nil {
			bad("Invalid occurrence", fmt.Sprintf("An occurrence block is labelled with its occurrence's time, as a wall time in %s (\"2027-04-05 09:00\") or in RFC 3339; %s.",
				r.Timezone, strings.TrimSuffix(detail(err, ob.Label, false), ".")), ob.LabelRange)
			continue
		}
		if got := r.next(at.Add(-time.Nanosecond)); !got.Equal(at) {
			hint := "there is none after it"
			if !got.IsZero() {
				hint = "the next one is " + occurrenceKey(got, r.Timezone)
			}
			if prev := r.latest(at); !prev.IsZero() {
				hint = "the one before is " + occurrenceKey(prev, r.Timezone) + "; " + hint
			}
			bad("Not an occurrence", fmt.Sprintf("The occurrence block %q names %s, which is not an occurrence of the rule (%s): %s.",
				ob.Label, occurrenceKey(at, r.Timezone), r.Rule, hint), ob.LabelRange)
			continue
		}
		if prev := r.overrideAt(at); prev != nil {
			bad("Duplicate occurrence block", fmt.Sprintf("The occurrence %s already has an occurrence block, at %s.",
				occurrenceKey(at, r.Timezone), sourcePos(prev.block.DeclRange)), ob.LabelRange)
			continue
		}
		ov := &override{at: at, sendAt: at, block: ob}
		s, set, _, sok, d := l.evalShownString(ob.SendAt, ctx, "send_at", "")
		diags = append(diags, d...)
		if !sok {
			ok = false
			continue
		}
		if set {
			t, note, err := parseMoment(s, r.Timezone)
			if err != nil {
				bad("Invalid send_at", detail(err, s, false), ob.SendAt.Range())
				continue
			}
			if note != "" {
				diags = append(diags, wallWarning("send_at", note, ob.SendAt))
			}
			ov.sendAt = t.In(r.Timezone)
		}
		if r.overrides == nil {
			r.overrides = map[int64]*override{}
		}
		r.overrides[at.UnixNano()] = ov
		list = append(list, ov)
	}
	if !ok {
		return false, diags
	}
	// A moved occurrence keeps its place among the others, both where
	// the rule has them and where they are sent: a plan finds the latest
	// and the next by either.
	for _, ov := range list {
		if ov.sendAt.Equal(ov.at) {
			continue
		}
		moved := fmt.Sprintf("The occurrence %s moved to %s", occurrenceKey(ov.at, r.Timezone), ov.sendAt.Format(time.RFC3339))
		if prev := r.latest(ov.at.Add(-time.Nanosecond)); !prev.IsZero() {
			if !ov.sendAt.After(prev) || !ov.sendAt.After(r.SendTime(prev)) {
				diags = append(diags, attrError("Occurrence moved out of order", moved+
					fmt.Sprintf(" is not after the occurrence before it, %s (sent at %s). An occurrence block may move its occurrence only between the occurrences before and after it, so that they keep their order.",
						occurrenceKey(prev, r.Timezone), r.SendTime(prev).Format(time.RFC3339)), ov.block.SendAt))
				ok = false
				continue
			}
		}
		if next := r.next(ov.at); !next.IsZero() {
			if !ov.sendAt.Before(next) || !ov.sendAt.Before(r.SendTime(next)) {
				diags = append(diags, attrError("Occurrence moved out of order", moved+
					fmt.Sprintf(" is not before the occurrence after it, %s (sent at %s). An occurrence block may move its occurrence only between the occurrences before and after it, so that they keep their order.",
						occurrenceKey(next, r.Timezone), r.SendTime(next).Format(time.RFC3339)), ov.block.SendAt))
				ok = false
			}
		}
	}
	return ok, diags
}

// ordinal writes n as "2nd", "3rd", "11th".
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// describeBounds adds interval, count and except to the rule in words
// (describeRule's): "every 2nd Monday at 09:00 from 1 March 2027, 10
// times, except 2 dates (Europe/Berlin)".
func (r *Repeat) describeBounds(rule string) string {
	zone := " (" + r.Timezone.String() + ")"
	base, hadZone := strings.CutSuffix(rule, zone)
	if r.Interval.N > 1 {
		from := dayWall(r.fromDay).Format("2 January 2006")
		unit := "day"
		if r.Interval.Weeks {
			unit = "week"
		}
		nth := ordinal(r.Interval.N)
		switch {
		case !r.Interval.Weeks && strings.HasPrefix(base, "every day "):
			base = "every " + nth + " day " + strings.TrimPrefix(base, "every day ") + " from " + from
		case r.Interval.Weeks && singleWeekday(base):
			base = "every " + nth + " " + strings.TrimPrefix(base, "every ") + " from " + from
		default:
			base += ", in every " + nth + " " + unit + " from " + from
		}
	}
	if r.Count > 0 {
		if r.Count == 1 {
			base += ", once"
		} else {
			base += fmt.Sprintf(", %d times", r.Count)
		}
	}
	if len(r.Except) > 0 {
		var days, times int
		for _, e := range r.Except {
			if datePattern.MatchString(e) {
				days++
			} else {
				times++
			}
		}
		var parts []string
		if days > 0 {
			parts = append(parts, plural(days, "date"))
		}
		if times > 0 {
			parts = append(parts, plural(times, "time"))
		}
		base += ", except " + strings.Join(parts, " and ")
	}
	if hadZone {
		base += zone
	}
	return base
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// singleWeekday reports whether a rule in words starts with one weekday
// and its times: "every Monday at 09:00".
func singleWeekday(base string) bool {
	for _, d := range weekdayNames {
		if strings.HasPrefix(base, "every "+d+" at ") {
			return true
		}
	}
	return false
}
