package reliability

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
)

// planDoc is the part of "plan -json" the suite reads.
type planDoc struct {
	Summary map[string]int `json:"summary"`
	Changes []struct {
		Address string `json:"address"`
		Action  string `json:"action"`
		Group   string `json:"group"`
	} `json:"changes"`
}

func readPlan(f *Figures, res Result) *planDoc {
	var doc planDoc
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
		f.Fail("plan -json printed no plan document: %v\n%s", err, res)
		return nil
	}
	return &doc
}

// TestPermanentErrors rejects every send to one group (404, as A1Base
// answers for a thread the agent is not in). The other groups must be
// sent, the reason shown, apply exit 1; the next plan offers the failed
// messages for retry, and once the group is accepted again they are sent,
// each once.
func TestPermanentErrors(t *testing.T) {
	t.Parallel()
	n := size(80, 40)
	const groups, rejected = 4, 2
	cfg := Messages{N: n, Groups: groups, Start: base, Every: time.Second, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 6})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	w.Fake.RejectThread(ThreadID(rejected), 0, "")
	f := &Figures{Scenario: "5 permanent errors (one group rejected)"}
	clock := at(cfg.SendAt(n))
	res := mustRun(w, f, 1, "apply", "-auto-approve", "-no-color", clock)
	if !strings.Contains(res.Stdout+res.Stderr, "Thread not found") {
		f.Fail("apply output does not show the API's reason (Thread not found):\n%s", res)
	}
	snap := checkState(t, w, f)
	if want := n - n/groups; f.Deliveries != want {
		f.Fail("%d deliveries; want %d (every group but the rejected one)", f.Deliveries, want)
	}
	for i := 0; i < n; i++ {
		r := snap.Records[Address(i)]
		want := state.StatusSent
		if i%groups == rejected {
			want = state.StatusFailed
		}
		if r == nil || r.Status != want {
			f.Fail("%s: record %+v, want status %s", Address(i), r, want)
		}
	}

	res = mustRun(w, f, 0, "plan", "-json", clock)
	if doc := readPlan(f, res); doc != nil {
		if doc.Summary["retry"] != n/groups {
			f.Fail("plan offers %d retries, want %d: %v", doc.Summary["retry"], n/groups, doc.Summary)
		}
		for _, c := range doc.Changes {
			if c.Action == "retry" && c.Group != "g2" {
				f.Fail("plan retries %s of group %s, which was delivered", c.Address, c.Group)
			}
		}
	}

	w.Fake.AcceptThread(ThreadID(rejected))
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", clock)
	snap = checkState(t, w, f)
	if got := statusCounts(snap)[state.StatusSent]; got != n || f.Deliveries != n {
		f.Fail("after the group was accepted: %d sent, %d delivered, want %d", got, f.Deliveries, n)
	}
	report(t, f)
}
