package planner

import (
	"strings"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// MaxSkipped bounds Skipped.Count: an outage of a year under an
// every-minute rule would otherwise cost a walk over half a million
// occurrences on every plan. A count of MaxSkipped means "at least".
const MaxSkipped = spec.MaxRemaining

// Skipped is the occurrences of one repeat message that a plan passes
// over: those after the last occurrence herald knows of and before the
// latest one the plan considers. They are never sent and never recorded,
// so that an outage never floods a group; the plan reports them so that
// the gap does not go unseen.
//
// The last occurrence herald knows of is the latest of the message's
// occurrences that state holds a record of, whatever its status (sent,
// expired, failed, unknown). When state holds none, the count starts at
// the rule's from, which is included; a rule with no from and no record
// has missed nothing: it starts with the plan.
type Skipped struct {
	// Addr is the repeat message's block: message.standup.
	Addr addrs.Message
	// Count is how many occurrences were passed over, at most MaxSkipped
	// (which then means at least that many).
	Count int
	// First and Last are the earliest and the latest of them.
	First, Last time.Time
	// Timezone is the rule's zone, for showing the times.
	Timezone *time.Location
}

// AtLeast reports whether counting stopped at MaxSkipped.
func (s *Skipped) AtLeast() bool { return s.Count >= MaxSkipped }

// SkippedCount is the sum of the plan's skipped occurrences (each message's
// count capped at MaxSkipped).
func (p *Plan) SkippedCount() int {
	n := 0
	for _, s := range p.Skipped {
		n += s.Count
	}
	return n
}

// SkippedAtLeast reports whether any message's count stopped at
// MaxSkipped, so that SkippedCount is a lower bound.
func (p *Plan) SkippedAtLeast() bool {
	for _, s := range p.Skipped {
		if s.AtLeast() {
			return true
		}
	}
	return false
}

// skippedOccurrences finds, for each repeat message whose latest
// considered occurrence is among entries, the occurrences passed over
// before it. In the steady state (the occurrence before the latest is
// recorded, or the latest is) it costs two map look-ups per repeat
// message; otherwise one pass over the records' addresses, shared by all
// messages, and a walk of at most MaxSkipped occurrences per message.
func skippedOccurrences(cfg *spec.Config, records map[string]*state.Record, entries []entry, at time.Time) []*Skipped {
	type pending struct {
		block  string
		rule   *spec.Repeat
		latest time.Time
		prev   time.Time
		addr   addrs.Message
	}
	var todo []pending
	for _, e := range entries {
		c := e.change
		in := c.Instance
		if e.orphan || in == nil || in.Repeat == nil || in.SendAt.After(at) || c.Record != nil {
			continue
		}
		prev := in.Repeat.Prev
		if prev.IsZero() {
			continue
		}
		r := cfg.Repeats[spec.RepeatKey(c.Addr)]
		if r == nil {
			continue
		}
		block := c.Addr.Block()
		prevAddr := addrs.WithKey(block.Name, prev.In(r.Timezone).Format(time.RFC3339)).In(block.Module)
		if records[prevAddr.String()] != nil {
			continue
		}
		todo = append(todo, pending{block: block.String(), rule: r, latest: in.SendAt, prev: prev, addr: block})
	}
	if len(todo) == 0 {
		return nil
	}

	// The latest record of each message's occurrences, found by address:
	// an occurrence's address is its block's followed by [key].
	known := make(map[string]time.Time, len(todo))
	for _, t := range todo {
		known[t.block] = time.Time{}
	}
	for addr, rec := range records {
		i := strings.LastIndexByte(addr, '[')
		if i <= 0 || rec == nil {
			continue
		}
		last, ok := known[addr[:i]]
		if ok && rec.SendAt.After(last) {
			known[addr[:i]] = rec.SendAt
		}
	}

	var out []*Skipped
	for _, t := range todo {
		since := known[t.block]
		if !since.IsZero() && !since.Before(t.prev) {
			continue
		}
		n, first := t.rule.CountBetween(since, t.latest, MaxSkipped)
		if n == 0 {
			continue
		}
		out = append(out, &Skipped{Addr: t.addr, Count: n, First: first, Last: t.prev, Timezone: t.rule.Timezone})
	}
	return out
}
