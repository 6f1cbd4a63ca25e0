package reliability

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// Figures are what one scenario measured. Limits of 0 mean the scenario
// measured no rate window.
type Figures struct {
	Scenario string
	// Runs is how many herald processes the scenario ran.
	Runs int
	// Deliveries is how many sends the fake delivered.
	Deliveries int
	// Duplicates is how many deliveries repeated an earlier one (same
	// thread, same content). The guarantee: 0.
	Duplicates int
	// Unrecorded is how many deliveries state does not hold as sent or
	// unknown, with an attempt recorded. The guarantee: 0.
	Unrecorded int
	// UnknownsLeft is how many records are unknown at the end: sends
	// herald cannot tell were delivered. Allowed, and reported.
	UnknownsLeft int
	// UnknownsDelivered is how many of those the fake did deliver.
	UnknownsDelivered int
	// NotDelivered is how many records are proven not delivered and held
	// (on_unknown = "hold"); FalseAbsences how many of those the fake did
	// deliver (a broken proof).
	NotDelivered, FalseAbsences int
	// Resent is how many messages were delivered by a later attempt after
	// a look-up proved an earlier one absent; MaxResendDelay is the
	// longest time from such a message's first attempt to its delivering
	// one (herald's clock): how late the crash made it.
	Resent         int
	MaxResendDelay time.Duration
	// Expired is how many records ended expired.
	Expired int
	// DuplicatesExpected marks a scenario that measures duplicates rather
	// than forbids them (an API lagging longer than unknown_settle).
	DuplicatesExpected bool
	// AccountWindow and GroupWindow are the most send requests the fake
	// saw in any window of the limit's period, account-wide and for any
	// one thread; AccountLimit and GroupLimit are the configured N.
	AccountWindow, AccountLimit int
	GroupWindow, GroupLimit     int
	// Failures are the broken guarantees and failed expectations.
	Failures []string
}

// Fail notes a failure.
func (f *Figures) Fail(format string, args ...any) {
	f.Failures = append(f.Failures, fmt.Sprintf(format, args...))
}

// OK reports whether nothing failed.
func (f *Figures) OK() bool { return len(f.Failures) == 0 }

// Delivery is one delivered send, as the checker sees it.
type Delivery struct {
	ThreadID string
	Content  string
}

// Deliveries extracts the checker's view of the fake's sends.
func Deliveries(sends []sandbox.Received) []Delivery {
	out := make([]Delivery, len(sends))
	for i, s := range sends {
		out[i] = Delivery{ThreadID: s.Request.ThreadID, Content: s.Request.Content}
	}
	return out
}

// Check compares what the fake delivered with what state holds and fills
// f's deliveries, duplicates, unrecorded and unknowns, noting a failure for
// every duplicate and every unrecorded delivery. addrOf maps a delivered
// text to the address of the message that has it.
func Check(f *Figures, delivered []Delivery, snap *state.Snapshot, addrOf func(string) (string, bool)) {
	f.Deliveries = len(delivered)
	seen := map[Delivery]int{}
	deliveredAddr := map[string]bool{}
	for _, d := range delivered {
		seen[d]++
		if seen[d] == 2 && !f.DuplicatesExpected {
			f.Fail("delivered more than once: %q to %s", d.Content, d.ThreadID)
		}
		if seen[d] > 1 {
			f.Duplicates++
		}
		addr, ok := addrOf(d.Content)
		deliveredAddr[addr] = ok
		if !ok {
			f.Unrecorded++
			f.Fail("delivered a text no configured message has: %q", d.Content)
			continue
		}
		if why := unrecorded(snap, addr); why != "" {
			f.Unrecorded++
			f.Fail("%s was delivered but %s", addr, why)
		}
	}
	f.UnknownsLeft, f.UnknownsDelivered = 0, 0
	f.NotDelivered, f.FalseAbsences, f.Resent, f.MaxResendDelay, f.Expired = 0, 0, 0, 0, 0
	if snap != nil {
		for addr, r := range snap.Records {
			switch r.Status {
			case state.StatusUnknown, state.StatusSending:
				f.UnknownsLeft++
				if deliveredAddr[addr] {
					f.UnknownsDelivered++
				}
			case state.StatusNotDelivered:
				f.NotDelivered++
				if deliveredAddr[addr] {
					f.FalseAbsences++
				}
			case state.StatusExpired:
				f.Expired++
			case state.StatusSent:
				if d, ok := resendDelay(r); ok {
					f.Resent++
					f.MaxResendDelay = max(f.MaxResendDelay, d)
				}
			}
		}
	}
}

// resendDelay is, for a record delivered by an attempt made after a
// look-up proved an earlier attempt absent, the time from its first
// attempt to the delivering one.
func resendDelay(r *state.Record) (time.Duration, bool) {
	var first, absent *state.Attempt
	for i := range r.Attempts {
		a := &r.Attempts[i]
		if first == nil || a.Number < first.Number {
			first = a
		}
		if a.Outcome == state.OutcomeAbsent {
			absent = a
		}
	}
	last := r.LastAttempt()
	if absent == nil || last == nil || last.Number <= absent.Number {
		return 0, false
	}
	return last.StartedAt.Sub(first.StartedAt), true
}

// unrecorded says why state does not account for a delivery of addr, or
// "" when it does: a record that says sent (or unknown, which never sends
// again by itself) with at least one attempt.
func unrecorded(snap *state.Snapshot, addr string) string {
	if snap == nil {
		return "there is no state"
	}
	r, ok := snap.Records[addr]
	switch {
	case !ok:
		return "state has no record of it"
	case len(r.Attempts) == 0:
		return fmt.Sprintf("its record (%s) has no attempt", r.Status)
	case r.Status != state.StatusSent && r.Status != state.StatusUnknown && r.Status != state.StatusSending:
		return fmt.Sprintf("its record says %s", r.Status)
	}
	return ""
}

// MaxWindow is the most times that fall in any window [t, t+period).
func MaxWindow(times []time.Time, period time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= period {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// busiest describes the busiest window: when it starts and the gaps
// between its arrivals, to tell a burst from transport jitter.
func busiest(times []time.Time, period time.Duration) string {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, bestLo, lo := 0, 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= period {
			lo++
		}
		if hi-lo+1 > best {
			best, bestLo = hi-lo+1, lo
		}
	}
	if best == 0 {
		return "no arrivals"
	}
	var gaps []string
	for i := bestLo + 1; i < bestLo+best; i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]).Round(100*time.Microsecond).String())
	}
	return fmt.Sprintf("from %s, first to last %s, gaps %s", ts[bestLo].Format("15:04:05.000000"),
		ts[bestLo+best-1].Sub(ts[bestLo]).Round(100*time.Microsecond), strings.Join(gaps, " "))
}

// SendArrivals are the moments send requests reached the fake, all of
// them and by thread. Every request counts, refused and retried ones too:
// a retry is a start.
func SendArrivals(arrivals []sandbox.Arrival) (all []time.Time, byThread map[string][]time.Time) {
	byThread = map[string][]time.Time{}
	for _, a := range arrivals {
		if a.Method != "POST" || !strings.HasSuffix(a.Path, "/send") {
			continue
		}
		all = append(all, a.Arrived)
		byThread[a.ThreadID] = append(byThread[a.ThreadID], a.Arrived)
	}
	return all, byThread
}

// CheckWindows measures the busiest windows of arrivals against the
// account limit (n per period) and the group limit, noting a failure for
// each that is exceeded. A limit with n 0 is not measured.
func CheckWindows(f *Figures, arrivals []sandbox.Arrival, accountN int, accountPer time.Duration, groupN int, groupPer time.Duration) {
	all, byThread := SendArrivals(arrivals)
	if accountN > 0 {
		w := MaxWindow(all, accountPer)
		f.AccountWindow, f.AccountLimit = max(f.AccountWindow, w), accountN
		if w > accountN {
			f.Fail("account rate limit %d/%s exceeded: %d sends arrived within one %s (%s)", accountN, accountPer, w, accountPer, busiest(all, accountPer))
		}
	}
	if groupN > 0 {
		f.GroupLimit = groupN
		threads := make([]string, 0, len(byThread))
		for t := range byThread {
			threads = append(threads, t)
		}
		sort.Strings(threads)
		for _, t := range threads {
			w := MaxWindow(byThread[t], groupPer)
			f.GroupWindow = max(f.GroupWindow, w)
			if w > groupN {
				f.Fail("group rate limit %d/%s exceeded in thread %s: %d sends arrived within one %s (%s)", groupN, groupPer, t, w, groupPer, busiest(byThread[t], groupPer))
			}
		}
	}
}

// Table renders figures as a fixed-width table.
func Table(rows []Figures) string {
	return renderTable(tableCells(rows))
}

// tableCells is Table's rows of cells, the heading first.
func tableCells(rows []Figures) [][]string {
	head := []string{"scenario", "runs", "deliveries", "duplicates", "unrecorded", "unknowns left (delivered)", "proven absent: held / resent (max delay)", "expired", "max window / limit", "result"}
	cells := [][]string{head}
	for _, f := range rows {
		window := "-"
		var parts []string
		if f.AccountLimit > 0 {
			parts = append(parts, fmt.Sprintf("account %d/%d", f.AccountWindow, f.AccountLimit))
		}
		if f.GroupLimit > 0 {
			parts = append(parts, fmt.Sprintf("group %d/%d", f.GroupWindow, f.GroupLimit))
		}
		if len(parts) > 0 {
			window = strings.Join(parts, ", ")
		}
		result := "ok"
		if !f.OK() {
			result = fmt.Sprintf("FAIL (%d)", len(f.Failures))
		}
		absent := "-"
		if f.NotDelivered+f.Resent > 0 {
			absent = fmt.Sprintf("%d / %d", f.NotDelivered, f.Resent)
			if f.Resent > 0 {
				absent += fmt.Sprintf(" (%s)", f.MaxResendDelay.Round(time.Second))
			}
		}
		cells = append(cells, []string{f.Scenario, fmt.Sprint(f.Runs), fmt.Sprint(f.Deliveries), fmt.Sprint(f.Duplicates),
			fmt.Sprint(f.Unrecorded), fmt.Sprintf("%d (%d)", f.UnknownsLeft, f.UnknownsDelivered), absent, fmt.Sprint(f.Expired), window, result})
	}
	return cells
}

// renderTable renders rows of cells, the first the heading, as a
// fixed-width table of |-separated columns.
func renderTable(cells [][]string) string {
	head := cells[0]
	widths := make([]int, len(head))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, c := range row {
			fmt.Fprintf(&b, " %-*s |", widths[i], c)
		}
		b.WriteString("\n")
	}
	line(cells[0])
	b.WriteString("|")
	for _, w := range widths {
		b.WriteString(strings.Repeat("-", w+2) + "|")
	}
	b.WriteString("\n")
	for _, row := range cells[1:] {
		line(row)
	}
	return b.String()
}
