package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/spec"
)

// PlanRepeat describes a change that is an occurrence of a repeat message
// (CONTRACT §2b): its rule, and what comes after it.
type PlanRepeat struct {
	// Rule is the rule in words: "every Monday at 09:00 (Europe/Berlin)".
	Rule     string `json:"rule"`
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Occurrence is this occurrence in the rule's zone, as in its address.
	Occurrence string `json:"occurrence"`
	// Next is the occurrence after this one, in the rule's zone; absent
	// when until leaves none.
	Next *time.Time `json:"next,omitempty"`
	// Remaining counts the occurrences after this one up to until; -1
	// without until. spec.MaxRemaining means at least that many.
	Remaining int `json:"remaining"`
	// Until is the rule's last moment, when it has one.
	Until *time.Time `json:"until,omitempty"`
	// Interval is the rule's interval ("2 weeks"), when it has one.
	Interval string `json:"interval,omitempty"`
	// Count is the rule's count, when it has one.
	Count int `json:"count,omitempty"`
	// Last is the count's last occurrence, in the rule's zone, when count
	// ends the rule before until.
	Last *time.Time `json:"last,omitempty"`
	// Except lists the dates and times the rule skips, as written.
	Except []string `json:"except,omitempty"`
	// Overridden is true when an occurrence block changes this occurrence
	// (its send_at, text or media).
	Overridden bool `json:"overridden,omitempty"`
}

func newPlanRepeat(r *spec.RepeatInfo, sendAt time.Time) *PlanRepeat {
	loc := r.Timezone
	if loc == nil {
		loc = time.UTC
	}
	occurrence := r.Occurrence
	if occurrence.IsZero() {
		occurrence = sendAt
	}
	pr := &PlanRepeat{
		Rule:       r.Rule,
		Cron:       r.Cron,
		Timezone:   loc.String(),
		Occurrence: occurrence.In(loc).Format(time.RFC3339),
		Remaining:  r.Remaining,
		Interval:   r.Interval,
		Count:      r.Count,
		Except:     r.Except,
		Overridden: r.Overridden,
	}
	if !r.Last.IsZero() {
		last := r.Last.In(loc)
		pr.Last = &last
	}
	if !r.Next.IsZero() {
		next := r.Next.In(loc)
		pr.Next = &next
	}
	if !r.Until.IsZero() {
		until := r.Until.In(loc)
		pr.Until = &until
	}
	return pr
}

// localTime shows a moment as the rule's zone reads it: "2027-03-29 09:00
// CEST".
func localTime(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

// RemainingText says how many occurrences are left: "38 more until
// 2027-12-31 00:00 CET", "no more", or "" without until.
// With a count that ends the rule first, the end is its last occurrence:
// "3 more until 2027-07-05 09:00 CEST (count 10)".
func (r *PlanRepeat) RemainingText() string {
	end, note := r.Until, ""
	if r.Last != nil {
		end, note = r.Last, fmt.Sprintf(" (count %d)", r.Count)
	}
	switch {
	case r.Remaining < 0 || end == nil:
		return ""
	case r.Remaining == 0 && r.Last != nil:
		return fmt.Sprintf("the last one (count %d)", r.Count)
	case r.Remaining == 0:
		return "the last one (until " + localTime(*end) + ")"
	case r.Remaining >= spec.MaxRemaining:
		return fmt.Sprintf("%d or more until %s%s", spec.MaxRemaining, localTime(*end), note)
	}
	return fmt.Sprintf("%d more until %s%s", r.Remaining, localTime(*end), note)
}

// Summary is the repeat in one line: this occurrence, the next one and
// what remains. at is the plan's clock, for the distance to the next; zero
// leaves the distance out.
func (r *PlanRepeat) Summary(at time.Time) string {
	this := "this one " + r.localOccurrence()
	if r.Overridden {
		this += " (changed by its occurrence block)"
	}
	parts := []string{this}
	switch {
	case r.Next != nil && !at.IsZero():
		parts = append(parts, fmt.Sprintf("next %s (%s)", localTime(*r.Next), Relative(*r.Next, at)))
	case r.Next != nil:
		parts = append(parts, "next "+localTime(*r.Next))
	default:
		parts = append(parts, "no next one")
	}
	if s := r.RemainingText(); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (r *PlanRepeat) localOccurrence() string {
	t, err := time.Parse(time.RFC3339, r.Occurrence)
	if err != nil {
		return r.Occurrence
	}
	if loc, err := time.LoadLocation(r.Timezone); err == nil {
		t = t.In(loc)
	}
	return localTime(t)
}

// writeHumanRepeat adds the repeat lines of a change to the human form.
func writeHumanRepeat(field func(name, value string), c *PlanChange, at time.Time) {
	if c.Repeat == nil {
		return
	}
	field("repeat", printable(c.Repeat.Rule))
	field("occurs", printable(c.Repeat.Summary(at)))
}

// mdRepeat is a repeat's line in a markdown message's details; "" for
// any other message. The comment outlives the plan's clock, so it names
// moments only.
func mdRepeat(c *PlanChange) string {
	if c.Repeat == nil {
		return ""
	}
	return fmt.Sprintf("<p>Repeats %s: %s.</p>\n\n", htmlText(c.Repeat.Rule), htmlText(c.Repeat.Summary(time.Time{})))
}
