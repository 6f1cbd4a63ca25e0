package spec

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/heraldhq/herald/addrs"
)

// occurrence is what a repeat message's instance takes from its rule.
type occurrence struct {
	at    time.Time
	zone  *time.Location
	group *Group
	info  *RepeatInfo
}

// representativeStart is where Load without a clock looks for the
// occurrence it evaluates a repeat message's body against, when the rule
// has no from: any fixed moment keeps validation deterministic.
var representativeStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// expandRepeat evaluates a repeat message: its rule, then the occurrences
// a plan at LoadOptions.At considers (the latest at or before the clock
// and the next after it) as instances keyed by their time.
func (l *loader) expandRepeat(m *messageBlock, ctx *hcl.EvalContext, provider *Provider) ([]*Instance, *Repeat, hcl.Diagnostics) {
	diags := l.checkRepeatRefs(m)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	rb := m.Repeat
	r, g, ok, d := l.evalRule(m, ctx)
	diags = append(diags, d...)
	if !ok {
		return nil, nil, diags
	}
	zone := r.Timezone

	at := l.opts.At
	occs, before := r.consideredAt(at)
	if len(occs) == 0 {
		window := ""
		if !r.From.IsZero() || !r.Until.IsZero() {
			window = " between from and until"
		}
		diags = append(diags, attrError("Repeat never fires", fmt.Sprintf("The rule %q (%s) has no occurrence%s.", r.Cron, r.Rule, window), rb.Cron))
		return nil, nil, diags
	}

	out := make([]*Instance, 0, len(occs))
	infos := r.infos(occs, before)
	evaluated := map[*override]bool{}
	for i, t := range occs {
		key := occurrenceKey(t, zone)
		addr := addrs.WithKey(m.Name, key).In(l.path)
		body := m
		occ := &occurrence{at: t.In(zone), zone: zone, group: g, info: infos[i]}
		if ov := r.overrideAt(t); ov != nil {
			body, occ.at = ov.block.message(m), ov.sendAt
			evaluated[ov] = true
		}
		inst, d := l.evalInstance(body, addr, eachContext(ctx, key, cty.StringVal(key)), provider, occ)
		diags = append(diags, d...)
		if inst == nil {
			continue
		}
		if note := r.shiftNote(t); note != "" && !at.IsZero() {
			diags = append(diags, wallWarning("occurrence", note+fmt.Sprintf(" (in %s)", addr), rb.Cron))
		}
		out = append(out, inst)
	}
	// The occurrence blocks of occurrences the plan does not consider are
	// checked all the same, so that a mistake in one shows now, not on
	// its day.
	for _, ov := range r.overrideList() {
		if evaluated[ov] {
			continue
		}
		key := occurrenceKey(ov.at, zone)
		addr := addrs.WithKey(m.Name, key).In(l.path)
		occ := &occurrence{at: ov.sendAt, zone: zone, group: g, info: r.info(ov.at)}
		_, d := l.evalInstance(ov.block.message(m), addr, eachContext(ctx, key, cty.StringVal(key)), provider, occ)
		diags = append(diags, d...)
	}
	if at.IsZero() {
		// Without a clock the body was only checked.
		out = nil
	}
	return out, r, diags
}

// checkRepeatRefs checks the references of a repeat message: what decides
// the occurrences cannot use each, the body can.
func (l *loader) checkRepeatRefs(m *messageBlock) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ruleScope := scope{vars: true, locals: true, groups: true, modules: true,
		where: "the group, timezone or repeat block of a repeat message, which decide the occurrences each.key names"}
	for _, expr := range append(m.Repeat.expressions(), nonNil(m.Group, m.Timezone)...) {
		_, d := l.checkRefs(expr, ruleScope)
		diags = append(diags, d...)
	}
	for _, expr := range append(m.instanceExpressions(), m.Repeat.instanceExpressions()...) {
		_, d := l.checkRefs(expr, scope{vars: true, locals: true, groups: true, modules: true, each: true, where: "a repeat message"})
		diags = append(diags, d...)
	}
	return append(diags, l.checkPreconditionRefs(m, true)...)
}

// evalRule evaluates the rule of a repeat message and the group it sends
// to; ok is false when either is unusable.
func (l *loader) evalRule(m *messageBlock, ctx *hcl.EvalContext) (*Repeat, *Group, bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	rb := m.Repeat
	ok := true
	g, d := l.resolveGroup(m.Group, ctx, "")
	diags = append(diags, d...)
	ok = ok && g != nil
	msgZone, msgSet, msgZoneOK, d := l.evalZone(m.Timezone, ctx, "")
	diags = append(diags, d...)
	repZone, repSet, repZoneOK, d := l.evalZone(rb.Timezone, ctx, "")
	diags = append(diags, d...)
	ok = ok && msgZoneOK && repZoneOK

	// The zone in scope, for wall times in from and until; the rule itself
	// falls back to UTC.
	var scoped *time.Location
	switch {
	case repSet:
		scoped = repZone
	case msgSet:
		scoped = msgZone
	case !msgZoneOK || !repZoneOK || g == nil || g.zoneInvalid:
		// A zone that is set but invalid, or a group that failed: the
		// zone of a wall time in from or until is not known, which is
		// already reported. UTC stands in, so that only the times' own
		// mistakes are reported, and the rule is not used.
		scoped = time.UTC
		ok = false
	default:
		scoped = g.Timezone
	}
	zone := scoped
	if zone == nil {
		zone = time.UTC
	}

	r := &Repeat{Name: m.Name, Timezone: zone, DeclRange: rb.DeclRange}
	cok, d := l.evalCron(r, rb, ctx)
	diags = append(diags, d...)
	ok = ok && cok
	var fromOK, untilOK bool
	r.From, fromOK, d = l.evalRepeatMoment(rb.From, ctx, "from", scoped)
	diags = append(diags, d...)
	r.Until, untilOK, d = l.evalRepeatMoment(rb.Until, ctx, "until", scoped)
	diags = append(diags, d...)
	ok = ok && fromOK && untilOK
	if fromOK && untilOK && !r.From.IsZero() && !r.Until.IsZero() && r.Until.Before(r.From) {
		diags = append(diags, attrError("Invalid until", fmt.Sprintf("until (%s) is before from (%s): the rule would never fire.",
			r.Until.Format(time.RFC3339), r.From.Format(time.RFC3339)), rb.Until))
		ok = false
	}
	if !ok {
		return r, g, false, diags
	}
	r.Rule = describeRule(r.Cron, r.sched, zone)
	bok, d := l.evalRuleBounds(r, rb, ctx)
	diags = append(diags, d...)
	if !bok {
		return r, g, false, diags
	}
	r.Rule = r.describeBounds(r.Rule)
	ook, d := l.evalOverrides(r, rb, ctx)
	diags = append(diags, d...)
	return r, g, ook, diags
}

// evalCron evaluates the cron expression of a repeat block into r.
func (l *loader) evalCron(r *Repeat, rb *repeatBlock, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	s, sensitive, ok, d := l.evalRequiredString(rb.Cron, ctx, "cron")
	diags = append(diags, d...)
	if !ok {
		return false, diags
	}
	sched, err := parseCron(s)
	switch {
	case sensitive:
		diags = append(diags, attrError("Invalid cron expression", "The cron expression cannot be sensitive: it is shown in every plan.", rb.Cron))
		return false, diags
	case err != nil:
		diags = append(diags, attrError("Invalid cron expression", detail(err, s, false), rb.Cron))
		return false, diags
	}
	r.Cron, r.sched = s, sched
	if w := cronDaysWarning(s, sched, rb.Cron); w != nil {
		diags = append(diags, w)
	}
	return true, diags
}

// consideredAt is the occurrences a plan at the clock at considers: the
// latest sent at or before it and the next after it, with the occurrence
// before the first of them. Without a clock it is the first occurrence,
// so that the body can be checked. Occurrences are returned as the rule
// has them (their keys); an occurrence block may send one at another
// time, which decides which are the latest and the next. Such a time
// stays between the occurrences before and after it (evalOverrides), so
// at most one step either way is needed.
func (r *Repeat) consideredAt(at time.Time) (occs []time.Time, before time.Time) {
	if at.IsZero() {
		start := representativeStart
		if !r.From.IsZero() {
			start = r.From.Add(-time.Nanosecond)
		}
		if first := r.next(start); !first.IsZero() {
			occs = append(occs, first)
		}
		return occs, before
	}
	latest, prev := r.latestTwo(at)
	next := r.next(at)
	switch {
	case !latest.IsZero() && r.SendTime(latest).After(at):
		// The latest was moved past the clock: it is the next one.
		next, latest = latest, prev
		prev = time.Time{}
		if !latest.IsZero() {
			prev = r.latest(latest.Add(-time.Nanosecond))
		}
	case !next.IsZero() && !r.SendTime(next).After(at):
		// The next was moved to the clock or before it.
		prev, latest = latest, next
		next = r.next(next)
	}
	if !latest.IsZero() {
		occs = append(occs, latest)
		before = prev
	}
	if !next.IsZero() {
		occs = append(occs, next)
	}
	return occs, before
}

// overrideList is the occurrence blocks in the order of their
// occurrences.
func (r *Repeat) overrideList() []*override {
	out := make([]*override, 0, len(r.overrides))
	for _, ov := range r.overrides {
		out = append(out, ov)
	}
	slices.SortFunc(out, func(a, b *override) int { return a.at.Compare(b.at) })
	return out
}

// evalRepeatMoment evaluates a repeat block's from or until: RFC 3339, or
// a wall time when a zone is in scope. Zero when absent.
func (l *loader) evalRepeatMoment(expr hcl.Expression, ctx *hcl.EvalContext, attr string, scoped *time.Location) (time.Time, bool, hcl.Diagnostics) {
	s, set, sensitive, ok, diags := l.evalShownString(expr, ctx, attr, "")
	if !ok || !set {
		return time.Time{}, ok, diags
	}
	t, note, err := parseMoment(s, scoped)
	if err != nil {
		return time.Time{}, false, append(diags, attrError("Invalid "+attr, detail(err, s, sensitive), expr))
	}
	if note != "" {
		diags = append(diags, wallWarning(attr, note, expr))
	}
	return t, true, diags
}

// evalZone evaluates an optional timezone argument.
func (l *loader) evalZone(expr hcl.Expression, ctx *hcl.EvalContext, about string) (*time.Location, bool, bool, hcl.Diagnostics) {
	s, set, sensitive, ok, diags := l.evalShownString(expr, ctx, "timezone", about)
	if !ok || !set {
		return nil, false, ok, diags
	}
	loc, err := loadZone(s)
	if err != nil {
		return nil, false, false, append(diags, l.blameCaller(attrError("Unknown time zone", detail(err, s, sensitive)+about, expr), expr))
	}
	return loc, true, true, diags
}

// wallWarning reports the instant herald picked for a wall time that
// daylight saving makes ambiguous or skips.
func wallWarning(what, note string, expr hcl.Expression) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Wall time changed by daylight saving",
		Detail:   fmt.Sprintf("The %s %s", what, note),
		Subject:  expr.Range().Ptr(),
	}
}
