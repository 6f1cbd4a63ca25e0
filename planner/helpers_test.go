package planner

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// clock is the planning time of most tests.
var clock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testPlanKey is the plan key saved plans in these tests are made with.
var testPlanKey = []byte("planner-test-plan-key-0123456789")

func ago_(d time.Duration) time.Time { return clock.Add(-d) }
func in(d time.Duration) time.Time   { return clock.Add(d) }

var testGroups = map[string]*spec.Group{
	"eng":   {Name: "eng", ThreadID: "t-eng", Service: "whatsapp", From: "+14155550000"},
	"sales": {Name: "sales", ThreadID: "t-sales", Service: "telegram", From: "+14155550001"},
}

func mustAddr(t testing.TB, s string) addrs.Message {
	t.Helper()
	a, err := addrs.ParseMessage(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type instOpt func(*spec.Instance)

func group(name string) instOpt {
	return func(i *spec.Instance) {
		g := testGroups[name]
		i.Group, i.ThreadID, i.Service, i.From = g, g.ThreadID, g.Service, g.From
	}
}

func text(s string) instOpt { return func(i *spec.Instance) { i.Text, i.Media = s, nil } }

func media(url, caption string) instOpt {
	return func(i *spec.Instance) {
		i.Text, i.Media = "", &spec.Media{URL: url, Type: "document", Caption: caption}
	}
}

func sensitive() instOpt { return func(i *spec.Instance) { i.Sensitive = true } }

func expiresAfter(d time.Duration) instOpt { return func(i *spec.Instance) { i.ExpiresAfter = d } }

// newInst builds an instance in group eng with a 6h window and a text of
// its own.
func newInst(t testing.TB, addr string, sendAt time.Time, opts ...instOpt) *spec.Instance {
	t.Helper()
	i := &spec.Instance{Addr: mustAddr(t, addr), SendAt: sendAt, ExpiresAfter: 6 * time.Hour, Text: "hello from " + addr}
	group("eng")(i)
	for _, o := range opts {
		o(i)
	}
	return i
}

// recordOf is the record apply would leave for inst with the given status.
func recordOf(inst *spec.Instance, status state.Status) *state.Record {
	return &state.Record{
		Message: state.Message{Address: inst.Addr.String(), Group: groupName(inst), ThreadID: inst.ThreadID, Service: inst.Service, From: inst.From, ContentHash: inst.ContentHash(), SendAt: inst.SendAt},
		Status:  status,
	}
}

type recOpt func(*state.Record)

func under(addr string) recOpt { return func(r *state.Record) { r.Address = addr } }

func delivered(at time.Time) recOpt {
	return func(r *state.Record) {
		r.Attempts = append(r.Attempts, state.Attempt{Number: len(r.Attempts) + 1, StartedAt: at.Add(-time.Second), FinishedAt: &at, Outcome: "delivered"})
		r.UpdatedAt = at
	}
}

func failedAttempts(n int, last string) recOpt {
	return func(r *state.Record) {
		for k := 1; k <= n; k++ {
			r.Attempts = append(r.Attempts, state.Attempt{Number: k, StartedAt: clock.Add(-time.Hour), Outcome: "permanent", Error: last})
		}
		r.LastError = last
	}
}

func rec(inst *spec.Instance, status state.Status, opts ...recOpt) *state.Record {
	r := recordOf(inst, status)
	for _, o := range opts {
		o(r)
	}
	return r
}

func configOf(instances []*spec.Instance, moved ...*spec.Moved) *spec.Config {
	return &spec.Config{Groups: testGroups, Instances: instances, Moved: moved, Hash: "sha256:config-1"}
}

func snapOf(records ...*state.Record) *state.Snapshot {
	s := &state.Snapshot{Lineage: "lineage-1", Serial: 7, Records: map[string]*state.Record{}}
	for _, r := range records {
		s.Records[r.Address] = r
	}
	return s
}

func move(t testing.TB, from, to string) *spec.Moved {
	return &spec.Moved{From: mustAddr(t, from), To: mustAddr(t, to)}
}

// changeByAddr finds a change by its printed address.
func changeByAddr(p *Plan, addr string) *Change {
	for _, c := range p.Changes {
		if c.Addr.String() == addr {
			return c
		}
	}
	return nil
}
