package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// New plans every instance of cfg against the records of snap at the clock
// at. Either input may be nil (no configuration, empty state). Addresses in
// opts that select nothing are ignored here; Validate reports them.
//
// The cost is O(n log n) in the number of instances and records: one map
// look-up per instance, one walk along the moved blocks per record that no
// instance owns, and one sort.
func New(cfg *spec.Config, snap *state.Snapshot, at time.Time, opts Options) *Plan {
	p := &Plan{At: at}
	var instances []*spec.Instance
	var moves []*spec.Moved
	if cfg != nil {
		p.ConfigHash, p.config = cfg.Hash, cfg
		instances = cfg.Instances
		moves = cfg.Moved
	}
	var records map[string]*state.Record
	if snap != nil {
		p.Lineage, p.Serial, records = snap.Lineage, snap.Serial, snap.Records
	}

	idx := indexInstances(instances)
	if cfg != nil {
		for key := range cfg.Repeats {
			idx.markRepeat(key)
		}
	}
	claims := resolveRecords(idx, records, moves)
	var imports map[string]*spec.Import
	if cfg != nil && len(cfg.Imports) > 0 {
		imports = make(map[string]*spec.Import, len(cfg.Imports))
		for _, im := range cfg.Imports {
			imports[im.To.String()] = im
		}
	}

	entries := make([]entry, 0, len(idx.list)+len(claims.orphans))
	for i, inst := range idx.list {
		c := &Change{Addr: inst.Addr, Instance: inst}
		if rec := records[idx.addr[i]]; rec != nil && idx.byAddr[idx.addr[i]] == i {
			c.Record = rec
		} else if m, ok := claims.moved[i]; ok {
			c.Record = m.record
			from := m.from
			c.MovedFrom = &from
		}
		c.Action, c.Reason = decide(inst, c.Record, at)
		if im := imports[idx.addr[i]]; im != nil {
			planImport(c, im)
		}
		entries = append(entries, entry{change: c, sendAt: inst.SendAt, addr: idx.addr[i]})
	}
	for _, o := range claims.orphans {
		c := &Change{Addr: o.addr, Action: Orphan, Record: o.record, Reason: o.reason}
		entries = append(entries, entry{change: c, sendAt: o.record.SendAt, addr: o.key, orphan: true})
	}

	markLikelyRenames(entries)
	if len(opts.Replace) > 0 {
		for _, e := range entries {
			applyReplace(e.change, opts.Replace, at)
		}
	}
	// Before -target and -exclude narrow the plan: an unknown outside the
	// targets, or excluded, still holds its thread.
	holdBehindUnknowns(entries, at)
	if len(opts.Targets) > 0 {
		entries = slices.DeleteFunc(entries, func(e entry) bool {
			return !selected(e.change.Addr, opts.Targets)
		})
	}
	if len(opts.Exclude) > 0 {
		n := len(entries)
		entries = slices.DeleteFunc(entries, func(e entry) bool {
			return selected(e.change.Addr, opts.Exclude)
		})
		p.Excluded = n - len(entries)
	}

	slices.SortFunc(entries, compareEntries)
	if cfg != nil && len(cfg.Repeats) > 0 {
		p.Skipped = skippedOccurrences(cfg, records, entries, at)
		slices.SortFunc(p.Skipped, func(a, b *Skipped) int { return cmp.Compare(a.Addr.String(), b.Addr.String()) })
	}
	p.Changes = make([]*Change, len(entries))
	for i, e := range entries {
		p.Changes[i] = e.change
	}
	p.Checks = checksOf(cfg, p.Changes)
	return p
}

// entry carries the sort key of a change, computed once: comparing address
// strings built on every comparison would dominate the plan at 100k
// instances.
type entry struct {
	change *Change
	sendAt time.Time
	addr   string
	orphan bool
}

func compareEntries(a, b entry) int {
	if a.orphan != b.orphan {
		if a.orphan {
			return 1
		}
		return -1
	}
	if !a.orphan {
		if c := a.sendAt.Compare(b.sendAt); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.addr, b.addr)
}

// selected reports whether any of the -target, -exclude or -replace
// addresses selects the address.
func selected(a addrs.Message, sel []addrs.Message) bool {
	for _, s := range sel {
		if a.Contains(s) {
			return true
		}
	}
	return false
}

// decide chooses the action for a configured instance given what state
// holds for it (nil when nothing).
func decide(inst *spec.Instance, rec *state.Record, at time.Time) (Action, string) {
	if rec == nil {
		return fresh(inst, at)
	}
	switch rec.Status {
	case state.StatusSent:
		if diffs := differences(inst, rec); len(diffs) > 0 {
			return Drift, strings.Join(diffs, "; ")
		}
		if when := sentAt(rec); !when.IsZero() {
			return Noop, "sent " + stamp(when)
		}
		return Noop, "already sent"
	case state.StatusExpired:
		// An expired record was never sent. While its send_at stands it
		// stays expired whatever else changed: apply marked that moment as
		// missed. Moving send_at is how a user asks for another try, so the
		// instance is then planned as if state held nothing (and expires
		// again, recorded with the new send_at, if that moment has passed
		// too).
		if !inst.SendAt.Equal(rec.SendAt) {
			a, why := fresh(inst, at)
			return a, "send_at changed since it was recorded as expired; " + why
		}
		return Noop, "recorded as expired"
	case state.StatusFailed:
		failed := failure(rec)
		switch {
		case inst.SendAt.After(at):
			// Only reachable when send_at was moved after the failure.
			return Wait, "sends in " + ago(inst.SendAt.Sub(at)) + " (" + failed + ")"
		case at.After(inst.ExpiresAt()):
			return Expire, failed + "; " + pastWindow(inst, at)
		default:
			return Retry, failed + "; retry within window (" + ago(inst.ExpiresAt().Sub(at)) + " left)"
		}
	case state.StatusUnknown:
		return decideUnknown(inst, rec, at, "an earlier apply may have sent it (answer lost)")
	case state.StatusSending:
		return decideUnknown(inst, rec, at, "an earlier apply stopped while sending it (no answer recorded)")
	case state.StatusNotDelivered:
		return decideNotDelivered(inst, rec, at)
	default:
		// A status this herald does not know may hide a delivery: never
		// send on a guess.
		return Unknown, fmt.Sprintf("state records status %q; treated as unknown; -replace to resend", rec.Status)
	}
}

// planImport turns a change into an import when state holds nothing for
// it. Once state has a record (the import was applied, or the message was
// sent or attempted), the import block does nothing, as Terraform's does
// for a resource already in state: it can stay in the configuration.
func planImport(c *Change, im *spec.Import) {
	if c.Record != nil {
		c.Reason += "; import block has no effect: already in state"
		return
	}
	c.Action = Import
	c.ImportID = im.ID
	c.Reason = "import block: apply records it as already sent, without sending it, once the thread shows it"
	if im.ID != "" {
		c.Reason += " (thread message " + im.ID + ")"
	}
}

// fresh plans an instance as if it had never been attempted.
func fresh(inst *spec.Instance, at time.Time) (Action, string) {
	switch {
	case inst.SendAt.After(at):
		return Wait, "sends in " + ago(inst.SendAt.Sub(at))
	case at.After(inst.ExpiresAt()):
		return Expire, pastWindow(inst, at)
	case inst.SendAt.Equal(at):
		return Send, "due now, never sent"
	default:
		return Send, "due " + ago(at.Sub(inst.SendAt)) + " ago, never sent"
	}
}

func pastWindow(inst *spec.Instance, at time.Time) string {
	return "past its " + window(inst.ExpiresAfter) + " expiry window (due " + ago(at.Sub(inst.SendAt)) + " ago)"
}

// differences lists what changed between a sent record and the instance as
// configured now. Service and from are left out on purpose: the message was
// delivered to the same thread, and a different sending number does not
// make it a different message.
func differences(inst *spec.Instance, rec *state.Record) []string {
	var diffs []string
	if inst.ContentHash() != rec.ContentHash {
		what := "text"
		if inst.Media != nil {
			what = "media"
		}
		diffs = append(diffs, what+" changed since it was sent")
	}
	group := groupName(inst)
	switch {
	case groupLabel(group) != groupLabel(rec.Group):
		diffs = append(diffs, "group changed ("+rec.Group+" → "+group+")")
	case inst.ThreadID != rec.ThreadID:
		diffs = append(diffs, "thread_id changed ("+rec.ThreadID+" → "+inst.ThreadID+")")
	}
	if !inst.SendAt.Equal(rec.SendAt) {
		diffs = append(diffs, "send_at changed ("+stamp(rec.SendAt)+" → "+stamp(inst.SendAt)+")")
	}
	return diffs
}

// groupLabel is a group's name without the module it is declared in:
// "eng" for both eng and module.emea.group.eng. A message moved into a
// module together with its group (same label, same thread) is the same
// message; the thread_id comparison still sees a different destination.
func groupLabel(name string) string {
	if i := strings.LastIndex(name, ".group."); i >= 0 && strings.HasPrefix(name, "module.") {
		return name[i+len(".group."):]
	}
	return name
}

func groupName(inst *spec.Instance) string {
	if inst.Group == nil {
		return ""
	}
	return inst.Group.Name
}

// sentAt is when a sent record was delivered, as best state knows: the
// delivered attempt's end, else the API's date, else the record's last
// update.
func sentAt(rec *state.Record) time.Time {
	for i := len(rec.Attempts) - 1; i >= 0; i-- {
		a := rec.Attempts[i]
		if a.Outcome != "delivered" {
			continue
		}
		if a.FinishedAt != nil {
			return *a.FinishedAt
		}
		return a.StartedAt
	}
	if rec.Answer != nil {
		if t, err := time.Parse(time.RFC3339, rec.Answer.DateCreated); err == nil {
			return t
		}
	}
	return rec.UpdatedAt
}

// failure describes a failed record's last attempt.
func failure(rec *state.Record) string {
	n := rec.LastAttemptNumber()
	if n == 0 {
		n = len(rec.Attempts)
	}
	s := "an earlier attempt failed"
	if n > 0 {
		s = fmt.Sprintf("attempt %d failed", n)
	}
	if rec.LastError != "" {
		s += ": " + rec.LastError
	}
	return s
}

// applyReplace turns a selected instance that is already sent, drifted,
// unknown, or recorded as expired while back inside its window, into a
// send. -replace answers "send it again", not "send it early" nor "send it
// however late": an instance that is not due yet, or is past its window,
// keeps its action and the reason says why -replace did nothing.
func applyReplace(c *Change, replace []addrs.Message, at time.Time) {
	if c.Instance == nil || !selected(c.Addr, replace) {
		return
	}
	late := at.After(c.Instance.ExpiresAt())
	switch {
	case c.Action == Send || c.Action == Retry:
		return
	case c.Action == Import:
		c.Reason += "; -replace has no effect: an import sends nothing"
		return
	case c.Instance.SendAt.After(at):
		c.Reason += "; -replace has no effect: not due yet"
		return
	case c.Action == Expire,
		c.Action == Noop && c.Record != nil && c.Record.Status == state.StatusExpired && late:
		c.Reason += "; -replace has no effect: past its expiry window"
		return
	}
	c.Action = Send
	c.Replace = true
	c.Reason = "replaced on request (-replace)"
}

// markLikelyRenames flags never-sent instances whose content, group and
// send_at equal those of an orphaned record that may have been delivered:
// most likely the message was renamed without a moved block, and applying
// would deliver it a second time. The action is left alone; the user
// decides (add a moved block, or accept the second send).
func markLikelyRenames(entries []entry) {
	type key struct {
		hash, group string
		sendAt      int64
	}
	var orphans map[key]entry
	for _, e := range entries {
		c := e.change
		if !e.orphan || !mayHaveBeenDelivered(c.Record.Status) {
			continue
		}
		if orphans == nil {
			orphans = make(map[key]entry)
		}
		k := key{c.Record.ContentHash, c.Record.Group, c.Record.SendAt.UnixNano()}
		if prev, ok := orphans[k]; !ok || e.addr < prev.addr {
			orphans[k] = e
		}
	}
	if orphans == nil {
		return
	}
	for _, e := range entries {
		c := e.change
		if e.orphan || (c.Action != Send && c.Action != Wait) {
			continue
		}
		k := key{c.Instance.ContentHash(), groupName(c.Instance), c.Instance.SendAt.UnixNano()}
		oe, ok := orphans[k]
		if !ok {
			continue
		}
		o := oe.change
		from := o.Addr
		c.LikelyRenameOf = &from
		c.Reason += "; looks like " + from.String() + " renamed without a moved block: would send again"
		if !strings.Contains(o.Reason, "looks renamed to") {
			o.Reason += "; looks renamed to " + c.Addr.String() + " without a moved block"
		}
	}
}

// mayHaveBeenDelivered is true of the statuses under which a record's
// message may have reached the group: only those make a second send a
// duplicate.
func mayHaveBeenDelivered(s state.Status) bool {
	switch s {
	case state.StatusFailed, state.StatusExpired, state.StatusNotDelivered:
		return false
	}
	return true
}

// stamp prints a moment the way reasons do: UTC, RFC 3339.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ago renders a distance in time roughly, as a person would say it: the
// largest unit and, when it helps, the next one ("3h", "1h30m", "2d", "45s").
func ago(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	case d < 24*time.Hour:
		return twoUnits(int64(d/time.Hour), "h", int64(d%time.Hour/time.Minute), "m")
	default:
		return twoUnits(int64(d/(24*time.Hour)), "d", int64(d%(24*time.Hour)/time.Hour), "h")
	}
}

func twoUnits(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return fmt.Sprintf("%d%s", a, ua)
	}
	return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
}

// window renders a configured duration exactly, without zero tails
// ("6h", "1h30m", "90s").
func window(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
