package planner

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// world is one random configuration, state, clock and options.
type world struct {
	cfg  *spec.Config
	snap *state.Snapshot
	at   time.Time
	opts Options
}

var (
	propNames = []string{"a", "b", "c", "d"}
	propKeys  = []string{"x", "y", "z"}
	propTexts = []string{"hello", "launch", "report"}
)

func randAddr(r *rand.Rand, names []string) addrs.Message {
	name := names[r.IntN(len(names))]
	if r.IntN(3) == 0 {
		return addrs.NoKey(name)
	}
	return addrs.WithKey(name, propKeys[r.IntN(len(propKeys))])
}

func randWorld(r *rand.Rand) world {
	at := clock.Add(time.Duration(r.IntN(48)-24) * time.Hour)
	instances, seen := randInstances(r, at)
	moved := randMoved(r, seen)
	records := randRecords(r, at, instances, seen)

	w := world{
		cfg:  &spec.Config{Groups: testGroups, Instances: instances, Moved: moved, Hash: fmt.Sprintf("sha256:%x", r.Uint64())},
		snap: &state.Snapshot{Lineage: "lineage-p", Serial: r.Uint64N(100), Records: records},
		at:   at,
	}
	if r.IntN(4) == 0 {
		w.opts.Targets = []addrs.Message{randAddr(r, append(propNames, "gone"))}
	}
	if r.IntN(4) == 0 {
		w.opts.Replace = []addrs.Message{randAddr(r, propNames)}
	}
	return w
}

// randMinutes is a random offset of up to span minutes either way.
func randMinutes(r *rand.Rand, span int) time.Duration {
	return time.Duration(r.IntN(2*span)-span) * time.Minute
}

// randInstances makes up to 13 configured instances with distinct
// addresses, which seen lists.
func randInstances(r *rand.Rand, at time.Time) ([]*spec.Instance, map[string]bool) {
	windows := []time.Duration{0, time.Hour, 6 * time.Hour, 24 * time.Hour}
	var instances []*spec.Instance
	seen := map[string]bool{}
	for range r.IntN(14) {
		a := randAddr(r, propNames)
		if seen[a.String()] {
			continue
		}
		seen[a.String()] = true
		g := testGroups[[]string{"eng", "sales"}[r.IntN(2)]]
		inst := &spec.Instance{
			Addr: a, Group: g, ThreadID: g.ThreadID, Service: g.Service, From: g.From,
			SendAt:       at.Add(randMinutes(r, 72*60)),
			ExpiresAfter: windows[r.IntN(len(windows))],
			Text:         propTexts[r.IntN(len(propTexts))],
		}
		if r.IntN(5) == 0 {
			inst.Text, inst.Media = "", &spec.Media{URL: "https://example.com/" + propTexts[r.IntN(3)], Type: "image"}
		}
		if r.IntN(5) == 0 {
			// Sensitive content is distinctive so the file check below can
			// look for it.
			inst.Sensitive = true
			if inst.Media != nil {
				inst.Media.URL = fmt.Sprintf("https://example.com/SECRET-%d", r.Int())
			} else {
				inst.Text = fmt.Sprintf("SECRET-%d", r.Int())
			}
		}
		instances = append(instances, inst)
	}
	return instances, seen
}

// randMoved makes up to three moved blocks. A moved block's source is
// never configured (the loader rejects that) but its destination usually
// is.
func randMoved(r *rand.Rand, seen map[string]bool) []*spec.Moved {
	var moved []*spec.Moved
	for range r.IntN(4) {
		from := randAddr(r, []string{"old", "older", "a", "b"})
		to := randAddr(r, propNames)
		if seen[from.String()] || from.HasKey != to.HasKey && r.IntN(2) == 0 {
			continue
		}
		if !from.HasKey && r.IntN(2) == 0 {
			to = addrs.NoKey(to.Name)
		}
		moved = append(moved, &spec.Moved{From: from, To: to})
	}
	return moved
}

// randRecords makes the state's records: for most configured instances,
// and for addresses no instance owns.
func randRecords(r *rand.Rand, at time.Time, instances []*spec.Instance, seen map[string]bool) map[string]*state.Record {
	statuses := []state.Status{state.StatusSent, state.StatusSent, state.StatusFailed, state.StatusExpired, state.StatusUnknown, state.StatusSending, "bounced"}
	records := map[string]*state.Record{}
	addRecord := func(addr string, like *spec.Instance) {
		rec := recordOf(like, statuses[r.IntN(len(statuses))])
		rec.Address = addr
		if r.IntN(4) == 0 {
			rec.ContentHash = "sha256:other"
		}
		if r.IntN(4) == 0 {
			rec.Group = "marketing"
		}
		if r.IntN(4) == 0 {
			rec.SendAt = rec.SendAt.Add(randMinutes(r, 48*60))
		}
		if rec.Status == state.StatusFailed && r.IntN(2) == 0 {
			rec.Attempts = []state.Attempt{{Number: 1, StartedAt: at, Error: "boom"}}
			rec.LastError = "boom"
		}
		records[addr] = rec
	}
	for _, inst := range instances {
		if r.IntN(10) < 6 {
			addRecord(inst.Addr.String(), inst)
		}
	}
	// Records no instance owns: moved, renamed or removed messages, some
	// of them identical to a configured instance but for the address.
	for range r.IntN(5) {
		a := randAddr(r, []string{"old", "older", "gone", "a", "b"})
		if seen[a.String()] {
			continue
		}
		like := &spec.Instance{Addr: a, Group: testGroups["eng"], ThreadID: "t-eng", SendAt: at.Add(randMinutes(r, 72*60)), Text: "hello"}
		if len(instances) > 0 && r.IntN(2) == 0 {
			like = instances[r.IntN(len(instances))]
		}
		addRecord(a.String(), like)
	}
	return records
}

// apply does to a copy of the state what apply would do with the plan:
// a send or retry that succeeds leaves the instance sent as configured now,
// an expire leaves it expired; both under the instance's own address.
func applyEffects(p *Plan, snap *state.Snapshot) *state.Snapshot {
	next := &state.Snapshot{Lineage: snap.Lineage, Serial: snap.Serial + 1, Records: map[string]*state.Record{}}
	for k, v := range snap.Records {
		next.Records[k] = v
	}
	for _, c := range p.Changes {
		switch c.Action {
		case Send, Retry:
			next.Records[c.Addr.String()] = recordOf(c.Instance, state.StatusSent)
		case Expire:
			next.Records[c.Addr.String()] = recordOf(c.Instance, state.StatusExpired)
		}
	}
	return next
}

// checkInvariants holds for any plan.
func checkInvariants(t *testing.T, w world, p *Plan) {
	t.Helper()
	// Every selected instance has exactly one change, and it is that
	// instance's.
	want := map[string]*spec.Instance{}
	for _, inst := range w.cfg.Instances {
		if len(w.opts.Targets) == 0 || selected(inst.Addr, w.opts.Targets) {
			want[inst.Addr.String()] = inst
		}
	}
	got := map[string]*spec.Instance{}
	usedRecords := map[*state.Record]bool{}
	for _, c := range p.Changes {
		require.NotEmpty(t, c.Reason)
		if c.Record != nil {
			require.False(t, usedRecords[c.Record], "record %s used twice", c.Record.Address)
			usedRecords[c.Record] = true
		}
		if c.Action == Orphan {
			require.Nil(t, c.Instance)
			require.NotNil(t, c.Record)
			_, configured := want[c.Addr.String()]
			require.False(t, configured, "orphan %s is configured", c.Addr)
			continue
		}
		require.NotNil(t, c.Instance)
		_, dup := got[c.Addr.String()]
		require.False(t, dup, "%s planned twice", c.Addr)
		got[c.Addr.String()] = c.Instance
		require.Same(t, want[c.Addr.String()], c.Instance)
		// Nothing that may have been delivered is sent without -replace.
		if c.Action.Sends() && !c.Replace && c.Record != nil {
			require.Contains(t, []state.Status{state.StatusFailed, state.StatusExpired}, c.Record.Status, "%s: %s", c.Addr, c.Reason)
		}
		if c.Replace {
			require.True(t, selected(c.Addr, w.opts.Replace))
		}
	}
	require.Equal(t, len(want), len(got))
	// Without -target every record is accounted for (the generator makes
	// no repeat messages, whose old occurrences are left out).
	if len(w.opts.Targets) == 0 {
		require.Equal(t, len(w.snap.Records), len(usedRecords))
	}
	// Ordered by send_at then address, orphans last by address.
	require.True(t, slices.IsSortedFunc(p.Changes, func(a, b *Change) int {
		ea := entry{change: a, addr: a.Addr.String(), orphan: a.Action == Orphan}
		eb := entry{change: b, addr: b.Addr.String(), orphan: b.Action == Orphan}
		if a.Instance != nil {
			ea.sendAt = a.Instance.SendAt
		}
		if b.Instance != nil {
			eb.sendAt = b.Instance.SendAt
		}
		return compareEntries(ea, eb)
	}))
}

func TestPlanProperties(t *testing.T) {
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		w := randWorld(r)
		ok := t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			p := New(w.cfg, w.snap, w.at, w.opts)
			checkInvariants(t, w, p)

			// Planning is deterministic.
			require.Equal(t, summaryLines(p), summaryLines(New(w.cfg, w.snap, w.at, w.opts)))

			// After apply, planning again at the same clock finds nothing
			// left to send or expire, and everything applied is a noop.
			after := applyEffects(p, w.snap)
			w2 := w
			w2.snap, w2.opts.Replace = after, nil
			p2 := New(w.cfg, after, w.at, w2.opts)
			checkInvariants(t, w2, p2)
			for _, c := range p2.Changes {
				require.False(t, c.Action == Send || c.Action == Retry || c.Action == Expire, "after apply: %s %s: %s", c.Action, c.Addr, c.Reason)
				if before := changeByAddr(p, c.Addr.String()); before != nil && (before.Action.Sends() || before.Action == Expire) {
					require.Equal(t, Noop, c.Action, "%s was %s", c.Addr, before.Action)
				}
			}

			// The plan survives its file, and applies to what it was made
			// from.
			data, err := Encode(p, testPlanKey)
			require.NoError(t, err)
			for _, inst := range w.cfg.Instances {
				if inst.Sensitive {
					if inst.Media == nil {
						require.False(t, bytes.Contains(data, []byte(inst.Text)), "sensitive text in the plan file")
					} else {
						require.False(t, bytes.Contains(data, []byte(inst.Media.URL)), "sensitive URL in the plan file")
					}
				}
			}
			sp, err := Decode(data)
			require.NoError(t, err)
			require.NoError(t, sp.Check(w.cfg, w.snap, testPlanKey))
			resolved, err := sp.Resolve(w.cfg, testPlanKey)
			require.NoError(t, err)
			require.Equal(t, summaryLines(p), summaryLines(resolved))
			require.Equal(t, summaryLines(p), summaryLines(sp.Plan()))
			require.Error(t, sp.Check(w.cfg, after, testPlanKey))
		})
		if !ok {
			t.Logf("world: %+v", w)
			return
		}
	}
}

// summaryLines is every field of a plan a user sees, one line a change.
func summaryLines(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := fmt.Sprintf("%s %s %q replace=%v", c.Action, c.Addr, c.Reason, c.Replace)
		if c.MovedFrom != nil {
			s += " moved_from=" + c.MovedFrom.String()
		}
		if c.LikelyRenameOf != nil {
			s += " rename_of=" + c.LikelyRenameOf.String()
		}
		out = append(out, s)
	}
	return out
}
