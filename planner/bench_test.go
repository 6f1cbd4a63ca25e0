package planner

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// benchWorld is n instances, all sent and unchanged: the steady state of a
// large configuration, where every plan is all noop. forEach puts them
// under one message name with n keys; otherwise each has a name of its own.
func benchWorld(n int, forEach bool) (*spec.Config, *state.Snapshot) {
	g := testGroups["eng"]
	instances := make([]*spec.Instance, n)
	records := make(map[string]*state.Record, n)
	for i := range n {
		a := addrs.NoKey(fmt.Sprintf("m%06d", i))
		if forEach {
			a = addrs.WithKey("report", fmt.Sprintf("team-%06d", i))
		}
		inst := &spec.Instance{
			Addr: a, Group: g, ThreadID: g.ThreadID, Service: g.Service, From: g.From,
			SendAt:       clock.Add(-time.Duration(n-i) * time.Minute),
			ExpiresAfter: 24 * time.Hour,
			Text:         fmt.Sprintf("Weekly report %d is ready: https://example.com/r/%d", i, i),
		}
		instances[i] = inst
		r := recordOf(inst, state.StatusSent)
		records[r.Address] = r
	}
	return configOf(instances), &state.Snapshot{Lineage: "bench", Serial: 1, Records: records}
}

func benchmarkPlan(b *testing.B, n int) {
	for _, form := range []struct {
		name    string
		forEach bool
	}{{"block", false}, {"for_each", true}} {
		b.Run(form.name, func(b *testing.B) {
			cfg, snap := benchWorld(n, form.forEach)
			b.ReportAllocs()
			start, ok := processCPU()
			b.ResetTimer()
			for b.Loop() {
				p := New(cfg, snap, clock, Options{})
				if len(p.Changes) != n || p.Changes[0].Action != Noop {
					b.Fatalf("unexpected plan: %d changes, first %s", len(p.Changes), p.Changes[0].Action)
				}
			}
			reportCPU(b, start, ok)
		})
	}
}

func BenchmarkPlan1k(b *testing.B)   { benchmarkPlan(b, 1_000) }
func BenchmarkPlan10k(b *testing.B)  { benchmarkPlan(b, 10_000) }
func BenchmarkPlan100k(b *testing.B) { benchmarkPlan(b, 100_000) }

// BenchmarkPlanFile10k is the saved-plan round trip: encode, decode, resolve.
func BenchmarkPlanFile10k(b *testing.B) {
	cfg, snap := benchWorld(10_000, true)
	p := New(cfg, snap, clock, Options{})
	b.ReportAllocs()
	start, ok := processCPU()
	b.ResetTimer()
	for b.Loop() {
		data, err := Encode(p, testPlanKey)
		if err != nil {
			b.Fatal(err)
		}
		sp, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sp.Resolve(cfg, testPlanKey); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, ok)
}

// reportCPU adds the process CPU time per operation (GC included) since
// start to the benchmark's figures.
func reportCPU(b *testing.B, start time.Duration, ok bool) {
	b.StopTimer()
	end, ok2 := processCPU()
	if ok && ok2 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}
