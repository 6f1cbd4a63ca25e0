package planner

import (
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// instanceIndex finds configured instances by address string.
type instanceIndex struct {
	list   []*spec.Instance
	addr   []string // list[i].Addr.String(), built once
	byAddr map[string]int
	// repeats names the repeat messages: their instances are marked
	// (spec.Instance.Repeat), and the configuration lists their rules even
	// when no occurrence is planned.
	repeats map[string]bool
}

func indexInstances(instances []*spec.Instance) *instanceIndex {
	idx := &instanceIndex{
		list:   make([]*spec.Instance, 0, len(instances)),
		addr:   make([]string, 0, len(instances)),
		byAddr: make(map[string]int, len(instances)),
	}
	for _, inst := range instances {
		if inst == nil {
			continue
		}
		s := inst.Addr.String()
		// Two instances under one address are a loader bug; the first one
		// owns the address's record so that neither is planned twice
		// against it by accident.
		if _, dup := idx.byAddr[s]; !dup {
			idx.byAddr[s] = len(idx.list)
		}
		idx.list = append(idx.list, inst)
		idx.addr = append(idx.addr, s)
		if inst.Repeat != nil {
			idx.markRepeat(spec.RepeatKey(inst.Addr))
		}
	}
	return idx
}

// markRepeat marks a repeat message by its spec.RepeatKey.
func (idx *instanceIndex) markRepeat(key string) {
	if idx.repeats == nil {
		idx.repeats = make(map[string]bool)
	}
	idx.repeats[key] = true
}

// moveIndex answers "where does a moved block send this address?".
type moveIndex struct {
	// exact maps a moved block's from address, as written, to its to.
	exact map[string]addrs.Message
	// blocks maps a message block's address to another for moved blocks
	// naming two whole blocks (neither address has a key): message.a["k"]
	// then moves to message.b["k"], or to module.m.message.b["k"].
	blocks map[string]addrs.Message
	count  int
}

func newMoveIndex(moves []*spec.Moved) moveIndex {
	mi := moveIndex{exact: make(map[string]addrs.Message, len(moves)), blocks: make(map[string]addrs.Message)}
	for _, m := range moves {
		if m == nil {
			continue
		}
		mi.count++
		// The loader rejects two moved blocks from one address; should one
		// slip through, the first declared wins.
		k := m.From.String()
		if _, dup := mi.exact[k]; !dup {
			mi.exact[k] = m.To
		}
		if !m.From.HasKey && !m.To.HasKey {
			if _, dup := mi.blocks[k]; !dup {
				mi.blocks[k] = m.To
			}
		}
	}
	return mi
}

// step applies the most specific moved block that matches a, if any.
func (mi moveIndex) step(a addrs.Message) (addrs.Message, bool) {
	if to, ok := mi.exact[a.String()]; ok {
		return to, true
	}
	if a.HasKey {
		if to, ok := mi.blocks[a.Block().String()]; ok {
			return addrs.WithKey(to.Name, a.Key).In(to.Module), true
		}
	}
	return a, false
}

// follow walks the chain of moved blocks from a record's address until it
// reaches a configured instance. It stops at the first configured address
// so that a record is never carried past an instance that exists: moving a
// configured address away is a configuration error, not a reason to lose
// track of what that instance sent. A walk uses each moved block at most
// once along a simple path, so count steps bound it even when moves form a
// cycle.
func (mi moveIndex) follow(a addrs.Message, idx *instanceIndex) (to addrs.Message, inst int, steps int) {
	cur := a
	for steps < mi.count {
		next, ok := mi.step(cur)
		if !ok {
			break
		}
		cur = next
		steps++
		if i, ok := idx.byAddr[cur.String()]; ok {
			return cur, i, steps
		}
	}
	return cur, -1, steps
}

// movedRecord is a record found for an instance through moved blocks.
type movedRecord struct {
	from   addrs.Message
	key    string
	record *state.Record
	steps  int
}

// orphanRecord is a record no instance claims.
type orphanRecord struct {
	addr   addrs.Message
	key    string
	record *state.Record
	reason string
}

type claims struct {
	moved   map[int]movedRecord // by instance position
	orphans []orphanRecord
}

// resolveRecords sorts the records that are not under a configured address
// into those moved to an instance and orphans. An instance's own record
// always wins over a moved one; among moved records the one fewest moves
// away wins, then the lowest address, so that the outcome does not depend
// on map order. An occurrence of a repeat message that the plan does not
// consider is neither (see pastOccurrence).
func resolveRecords(idx *instanceIndex, records map[string]*state.Record, moves []*spec.Moved) claims {
	var cl claims
	var loose []string
	for key, rec := range records {
		if rec == nil {
			continue
		}
		if _, ok := idx.byAddr[key]; !ok {
			loose = append(loose, key)
		}
	}
	if len(loose) == 0 {
		return cl
	}
	mi := newMoveIndex(moves)
	type lead struct {
		to    addrs.Message
		inst  int
		steps int
	}
	leads := make(map[string]lead, len(loose))
	parsed := make(map[string]addrs.Message, len(loose))
	unreadable := make(map[string]bool)
	for _, key := range loose {
		a, ok := parseAddr(key)
		if !ok {
			unreadable[key] = true
			continue
		}
		parsed[key] = a
		to, inst, steps := mi.follow(a, idx)
		leads[key] = lead{to, inst, steps}
		if inst < 0 {
			continue
		}
		cand := movedRecord{from: a, key: key, record: records[key], steps: steps}
		if cl.moved == nil {
			cl.moved = make(map[int]movedRecord)
		}
		prev, taken := cl.moved[inst]
		if !taken || cand.steps < prev.steps || (cand.steps == prev.steps && cand.key < prev.key) {
			cl.moved[inst] = cand
		}
	}
	// A moved record is not used when its destination has a record of its
	// own; the moved one then shows as an orphan.
	for inst := range cl.moved {
		if records[idx.addr[inst]] != nil {
			delete(cl.moved, inst)
		}
	}

	for _, key := range loose {
		rec := records[key]
		if unreadable[key] {
			cl.orphans = append(cl.orphans, orphanRecord{
				addr:   addrs.Message{Name: key},
				key:    key,
				record: rec,
				reason: "in state under an address herald cannot read (" + strconv.Quote(key) + "); no longer in configuration",
			})
			continue
		}
		a, l := parsed[key], leads[key]
		if l.inst >= 0 {
			if m, ok := cl.moved[l.inst]; ok && m.key == key {
				continue
			}
		}
		if pastOccurrence(a, idx) {
			continue
		}
		reason := "in state but no longer in configuration"
		switch {
		case l.inst >= 0 && records[idx.addr[l.inst]] != nil:
			reason += "; moved to " + l.to.String() + ", which has a record of its own"
		case l.inst >= 0:
			reason += "; moved to " + l.to.String() + ", which took the record of " + cl.moved[l.inst].from.String()
		case l.steps > 0:
			reason += "; moved to " + l.to.String() + ", which is not in configuration"
		}
		cl.orphans = append(cl.orphans, orphanRecord{addr: a, key: key, record: rec, reason: reason})
	}
	return cl
}

// pastOccurrence reports whether a record belongs to an occurrence of a
// repeat message other than the ones a plan considers (CONTRACT §2b): such
// records stay in state as the message's history and are neither listed
// nor orphans. An occurrence is known by its message, marked as a repeat
// message by the configuration, and its key, an RFC 3339 time. A record
// of the same message under any other key is an orphan like any other.
func pastOccurrence(a addrs.Message, idx *instanceIndex) bool {
	if !a.HasKey || !idx.repeats[spec.RepeatKey(a)] {
		return false
	}
	_, err := time.Parse(time.RFC3339, a.Key)
	return err == nil
}

// parseAddr reads a state record's address. Records are written by herald
// in the one printed form, so a direct reading suffices for almost all of
// them; anything else goes through the full parser.
func parseAddr(s string) (addrs.Message, bool) {
	if rest, ok := strings.CutPrefix(s, "message."); ok {
		name, key, hasKey := strings.Cut(rest, "[")
		var m addrs.Message
		switch {
		case !hasKey:
			m = addrs.NoKey(name)
		case strings.HasSuffix(key, "]"):
			if k, err := strconv.Unquote(key[:len(key)-1]); err == nil {
				m = addrs.WithKey(name, k)
			}
		}
		// The round trip rejects what the direct reading got wrong: HCL
		// escapes strconv does not know, odd names.
		if hclsyntax.ValidIdentifier(m.Name) && m.String() == s {
			return m, true
		}
	}
	m, err := addrs.ParseMessage(s)
	if err != nil {
		return addrs.Message{}, false
	}
	return m, true
}
