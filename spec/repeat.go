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
		{Name: "interval"},
		{Name: "count"},
		{Name: "except"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "occurrence", LabelNames: []string{"time"}},
	},
}

var occurrenceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "send_at"},
		{Name: "text"},
		{Name: "expires_after"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "media"},
	},
}

// repeatBlock is a decoded repeat block. Absent optional attributes are
// nil.
type repeatBlock struct {
	Cron        hcl.Expression
	Timezone    hcl.Expression
	From        hcl.Expression
	Until       hcl.Expression
	Interval    hcl.Expression
	Count       hcl.Expression
	Except      hcl.Expression
	Occurrences []*occurrenceBlock
	DeclRange   hcl.Range
}

// occurrenceBlock is a decoded occurrence block: what one occurrence of a
// repeat message does differently. Absent attributes are nil.
type occurrenceBlock struct {
	// Label is the occurrence's time as written: RFC 3339, or a wall time
	// in the repeat's zone.
	Label        string
	LabelRange   hcl.Range
	SendAt       hcl.Expression
	Text         hcl.Expression
	ExpiresAfter hcl.Expression
	Media        *mediaBlock
	DeclRange    hcl.Range
}

func decodeRepeatBlock(block *hcl.Block) (*repeatBlock, hcl.Diagnostics) {
	content, diags := block.Body.Content(repeatSchema)
	rb := &repeatBlock{
		Cron:      attrExpr(content, "cron"),
		Timezone:  attrExpr(content, "timezone"),
		From:      attrExpr(content, "from"),
		Until:     attrExpr(content, "until"),
		Interval:  attrExpr(content, "interval"),
		Count:     attrExpr(content, "count"),
		Except:    attrExpr(content, "except"),
		DeclRange: block.DefRange,
	}
	for _, b := range content.Blocks {
		ob, d := decodeOccurrenceBlock(b)
		diags = append(diags, d...)
		rb.Occurrences = append(rb.Occurrences, ob)
	}
	return rb, diags
}

func decodeOccurrenceBlock(block *hcl.Block) (*occurrenceBlock, hcl.Diagnostics) {
	content, diags := block.Body.Content(occurrenceSchema)
	ob := &occurrenceBlock{
		Label:        block.Labels[0],
		LabelRange:   block.LabelRanges[0],
		SendAt:       attrExpr(content, "send_at"),
		Text:         attrExpr(content, "text"),
		ExpiresAfter: attrExpr(content, "expires_after"),
		DeclRange:    block.DefRange,
	}
	for _, b := range content.Blocks {
		if ob.Media != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate media block",
				Detail:   fmt.Sprintf("An occurrence block has at most one media block; one was already declared at %s.", sourcePos(ob.Media.DeclRange)),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		mc, d := b.Body.Content(mediaSchema)
		diags = append(diags, d...)
		if mc.Attributes["url"] == nil || mc.Attributes["type"] == nil {
			// The missing argument is already reported.
			continue
		}
		ob.Media = &mediaBlock{
			URL:       attrExpr(mc, "url"),
			Type:      attrExpr(mc, "type"),
			Caption:   attrExpr(mc, "caption"),
			DeclRange: b.DefRange,
		}
	}
	switch {
	case ob.Text != nil && ob.Media != nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Conflicting message content",
			Detail:   fmt.Sprintf("An occurrence block replaces the message's content with text or with a media block, not both (the media block is at %s).", sourcePos(ob.Media.DeclRange)),
			Subject:  ob.Text.Range().Ptr(),
		})
	case ob.Text == nil && ob.Media == nil && ob.SendAt == nil && ob.ExpiresAfter == nil && len(content.Blocks) == 0:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Empty occurrence block",
			Detail:   fmt.Sprintf("The occurrence block for %q changes nothing: set send_at, text, a media block or expires_after in it, or remove it.", ob.Label),
			Subject:  ob.DeclRange.Ptr(),
		})
	}
	return ob, diags
}

// ruleExpressions are the expressions that decide the occurrences: they
// cannot use each.
func (r *repeatBlock) expressions() []hcl.Expression {
	exprs := nonNil(r.Cron, r.Timezone, r.From, r.Until, r.Interval, r.Count, r.Except)
	for _, ob := range r.Occurrences {
		exprs = append(exprs, nonNil(ob.SendAt)...)
	}
	return exprs
}

// instanceExpressions are the expressions of the occurrence blocks that
// are evaluated per occurrence, with each.
func (r *repeatBlock) instanceExpressions() []hcl.Expression {
	var exprs []hcl.Expression
	for _, ob := range r.Occurrences {
		exprs = append(exprs, nonNil(ob.Text, ob.ExpiresAfter)...)
		if ob.Media != nil {
			exprs = append(exprs, nonNil(ob.Media.URL, ob.Media.Type, ob.Media.Caption)...)
		}
	}
	return exprs
}

// message is the message block as the occurrence block changes it: its
// text or media and expires_after replace the message's own.
func (ob *occurrenceBlock) message(m *messageBlock) *messageBlock {
	c := *m
	switch {
	case ob.Text != nil:
		c.Text, c.Media = ob.Text, nil
	case ob.Media != nil:
		c.Text, c.Media = nil, ob.Media
	}
	if ob.ExpiresAfter != nil {
		c.ExpiresAfter = ob.ExpiresAfter
	}
	return &c
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
	// Interval keeps the occurrences of every Nth day or week only,
	// counted from the day or week of From; zero when not set.
	Interval Interval
	// Count ends the rule after that many occurrences from From (those
	// that except removes included); 0 when not set.
	Count int
	// Last is the Count-th occurrence, when count ends the rule before
	// until does; zero otherwise.
	Last time.Time
	// Except lists the skipped dates and times as written; nil when not
	// set.
	Except    []string
	DeclRange hcl.Range

	sched *cron.SpecSchedule // read in wall time: its Location is UTC
	// fromDay is the day of From in the zone (see civilDay).
	fromDay int64
	// exceptDays are the skipped days (civilDay), exceptTimes the skipped
	// instants (UnixNano).
	exceptDays, exceptTimes map[int64]bool
	// overrides are the occurrence blocks by their occurrence's instant
	// (UnixNano).
	overrides map[int64]*override
}

// Interval is a repeat block's interval: every N days or weeks.
type Interval struct {
	// N is the number of days or weeks; 0 when there is no interval.
	N int
	// Weeks is true for weeks, false for days.
	Weeks bool
}

// String is the interval as herald writes it: "2 weeks", "1 day"; ""
// when there is none.
func (iv Interval) String() string {
	if iv.N == 0 {
		return ""
	}
	unit := "day"
	if iv.Weeks {
		unit = "week"
	}
	if iv.N != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", iv.N, unit)
}

// override is an occurrence block, evaluated: the occurrence it changes
// and when that occurrence is sent.
type override struct {
	at     time.Time // the occurrence, as the rule has it
	sendAt time.Time
	block  *occurrenceBlock
}

// RepeatInfo describes an instance that is an occurrence of a repeat
// message.
type RepeatInfo struct {
	Rule     string
	Cron     string
	Timezone *time.Location
	// From and Until are the rule's bounds; zero when not set.
	From, Until time.Time
	// Occurrence is this occurrence as the rule has it, the time its key
	// names. The instance's SendAt differs when an occurrence block moved
	// it (Overridden).
	Occurrence time.Time
	// Overridden reports that an occurrence block changes this occurrence.
	Overridden bool
	// Interval is the rule's interval ("2 weeks"); "" when not set.
	Interval string
	// Count is the rule's count; 0 when not set.
	Count int
	// Last is the Count-th occurrence when count ends the rule before
	// until; zero otherwise.
	Last time.Time
	// Except lists the skipped dates and times as written.
	Except []string
	// Next is when the occurrence after this one is sent; zero when until
	// or count leaves none.
	Next time.Time
	// Prev is when the occurrence before this one was due; zero when from
	// leaves none. An import takes no thread message as this occurrence's
	// that is not dated after it.
	Prev time.Time
	// Remaining counts the occurrences after this one up to until or the
	// count's last one: -1 without either. Counting stops at MaxRemaining,
	// so that value means "at least".
	Remaining int
	// Period is the gap from this occurrence to the next, as they are
	// sent; 0 when there is no next one.
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
func (r *Repeat) walk(a time.Time, yield func(time.Time) bool) {
	r.walkRule(a, true, yield)
}

// intervalHorizon is how far a walk goes on without an occurrence when
// an interval leaves out the days the expression matches: "0 9 * * MON"
// every 7 days from a Tuesday never fires.
const intervalHorizon = 100 * 366 * 24 * time.Hour

// walkRule is walk, with except applied or not: count counts the
// occurrences that except removes too.
//
// Wall times are visited in order and made instants by resolveWall. Only
// a skipped wall time can land after a later wall time's instant, so
// instants wait in pending until a wall time that was not skipped shows
// that nothing later can come before them. A day that interval or except
// leaves out is passed over whole.
func (r *Repeat) walkRule(a time.Time, except bool, yield func(time.Time) bool) {
	lo := a
	if !r.From.IsZero() && r.From.After(lo) {
		lo = r.From.Add(-time.Nanosecond)
	}
	end := r.end()
	w := wallOf(lo, r.Timezone).Add(-r.margin(lo))
	kept := w
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
		if w.IsZero() || (r.Interval.N > 1 && w.Sub(kept) > intervalHorizon) {
			emit(time.Time{}, true)
			return
		}
		inst, kind, _ := resolveWall(w, r.Timezone)
		if !end.IsZero() && inst.After(end) {
			if kind != wallSkipped {
				emit(time.Time{}, true)
				return
			}
			continue
		}
		skipDay := r.nextDay(w, except)
		if skipDay.IsZero() && except && r.exceptTimes[inst.UnixNano()] {
			if kind != wallSkipped && !emit(inst, false) {
				return
			}
			continue
		}
		if !skipDay.IsZero() {
			if kind != wallSkipped && !emit(inst, false) {
				return
			}
			// Carry on from the first wall time of the next day kept.
			w = skipDay.Add(-time.Second)
			continue
		}
		kept = w
		if inst.After(lo) && !slices.ContainsFunc(pending, inst.Equal) {
			pending = append(pending, inst)
		}
		if kind != wallSkipped && !emit(inst, false) {
			return
		}
	}
}

// end is the last moment an occurrence may fall on: until, or the
// count's last occurrence; zero for none.
func (r *Repeat) end() time.Time {
	if !r.Last.IsZero() && (r.Until.IsZero() || r.Last.Before(r.Until)) {
		return r.Last
	}
	return r.Until
}

// civilDay numbers the calendar day of a wall time: days since 1 January
// 1970.
func civilDay(w time.Time) int64 {
	return time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// dayWall is the wall time of the start of a civilDay.
func dayWall(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// weekOf is the Monday (civilDay) of the week of a civilDay: weeks run
// Monday to Sunday. 1 January 1970 was a Thursday.
func weekOf(day int64) int64 {
	return day - floorMod(day+3, 7)
}

func floorMod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

// intervalKeeps reports whether the interval keeps a civilDay: its day,
// or its week, is a multiple of the interval from From's.
func (r *Repeat) intervalKeeps(day int64) bool {
	switch {
	case r.Interval.N <= 1:
		return true
	case r.Interval.Weeks:
		return floorMod((weekOf(day)-weekOf(r.fromDay))/7, int64(r.Interval.N)) == 0
	}
	return floorMod(day-r.fromDay, int64(r.Interval.N)) == 0
}

// nextIntervalDay is the first day after day that the interval keeps.
func (r *Repeat) nextIntervalDay(day int64) int64 {
	n := int64(r.Interval.N)
	switch {
	case n <= 1:
		return day + 1
	case r.Interval.Weeks:
		if r.intervalKeeps(day + 1) {
			return day + 1
		}
		weeks := (weekOf(day+1) - weekOf(r.fromDay)) / 7
		return weekOf(day+1) + 7*(n-floorMod(weeks, n))
	}
	return day + 1 + floorMod(r.fromDay-(day+1), n)
}

// nextDay is the start (a wall time) of the next day the rule keeps
// when the day of the wall time w is one that interval, or with except
// set except, leaves out; zero when w's day is kept.
func (r *Repeat) nextDay(w time.Time, except bool) time.Time {
	day := civilDay(w)
	skipped := func(d int64) bool { return !r.intervalKeeps(d) || (except && r.exceptDays[d]) }
	if !skipped(day) {
		return time.Time{}
	}
	d := day
	for {
		if !r.intervalKeeps(d) {
			d = r.nextIntervalDay(d)
		} else {
			d++
		}
		if !skipped(d) {
			return dayWall(d)
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
// few steps; a rule with from that has fewer than two occurrences in the
// longest span (a sparse interval) is walked from from.
func (r *Repeat) latestTwo(t time.Time) (last, prev time.Time) {
	if !r.From.IsZero() && t.Before(r.From) {
		return time.Time{}, time.Time{}
	}
	if end := r.end(); !end.IsZero() && t.After(end) {
		// Nothing comes after the end: look back from it.
		t = end
	}
	spans := []time.Duration{2 * time.Hour, 50 * time.Hour, 33 * 24 * time.Hour, 400 * 24 * time.Hour, 5 * 366 * 24 * time.Hour, 20 * 366 * 24 * time.Hour, 0}
	for _, span := range spans {
		start := t.Add(-span)
		if span == 0 {
			if r.From.IsZero() {
				break
			}
			start = r.From.Add(-time.Nanosecond)
		}
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
// order, at most max of them (none when max <= 0): the times the rule
// has them, which their keys name. An occurrence block may send one at
// another time (see SendTime). For previews: a plan only ever considers
// two occurrences (see LoadOptions.At).
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

// SendTime is when the occurrence at t is sent: t, unless an occurrence
// block moves it.
func (r *Repeat) SendTime(t time.Time) time.Time {
	if ov := r.overrideAt(t); ov != nil {
		return ov.sendAt
	}
	return t
}

// overrideAt is the occurrence block of the occurrence at t; nil when
// there is none.
func (r *Repeat) overrideAt(t time.Time) *override {
	if r.overrides == nil || t.IsZero() {
		return nil
	}
	return r.overrides[t.UnixNano()]
}

// remainingAfter counts the occurrences after t up to until or the
// count's last one, or -1 without either; at most MaxRemaining.
func (r *Repeat) remainingAfter(t time.Time) int {
	if r.end().IsZero() {
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
// the end is made once; the previous of each but the first is the one
// before it, and before is the first's (zero: none, or not looked for).
// Next, Prev and Period are where the occurrences are sent.
func (r *Repeat) infos(occs []time.Time, before time.Time) []*RepeatInfo {
	out := make([]*RepeatInfo, len(occs))
	var nextKey time.Time
	for i := len(occs) - 1; i >= 0; i-- {
		t := occs[i]
		ri := r.info(t)
		if i+1 < len(occs) {
			nextKey = occs[i+1]
			ri.Remaining = out[i+1].Remaining
			if ri.Remaining >= 0 && ri.Remaining < MaxRemaining {
				ri.Remaining++
			}
		} else {
			nextKey, ri.Remaining = r.next(t), r.remainingAfter(t)
		}
		if !nextKey.IsZero() {
			ri.Next = r.SendTime(nextKey)
			ri.Period = ri.Next.Sub(r.SendTime(t))
		}
		prev := before
		if i > 0 {
			prev = occs[i-1]
		}
		if !prev.IsZero() {
			ri.Prev = r.SendTime(prev)
		}
		out[i] = ri
	}
	return out
}

// info is what every occurrence's RepeatInfo takes from the rule, for the
// occurrence at t.
func (r *Repeat) info(t time.Time) *RepeatInfo {
	return &RepeatInfo{
		Rule: r.Rule, Cron: r.Cron, Timezone: r.Timezone, From: r.From, Until: r.Until,
		Occurrence: t, Overridden: r.overrideAt(t) != nil,
		Interval: r.Interval.String(), Count: r.Count, Last: r.Last, Except: r.Except,
	}
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
