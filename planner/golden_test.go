package planner

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// render is the compact text form of a plan the golden files hold.
func render(p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "at %s, state %s serial %d, config %s\n", stamp(p.At), p.Lineage, p.Serial, p.ConfigHash)
	s := p.Summary()
	for _, a := range Actions {
		fmt.Fprintf(&b, "%s=%d ", a, s[a])
	}
	b.WriteString("\n\n")
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%-7s %-34s %s", c.Action, c.Addr, c.Reason)
		if c.Replace {
			b.WriteString(" [replace]")
		}
		if c.MovedFrom != nil {
			b.WriteString(" [moved from " + c.MovedFrom.String() + "]")
		}
		if c.LikelyRenameOf != nil {
			b.WriteString(" [rename of " + c.LikelyRenameOf.String() + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test ./planner -update if the change is intended:\n%s", path, diff)
	}
}

// matrix builds one instance per (timing × state) pair, named after both,
// with the record that state describes.
func matrix(t *testing.T) (*spec.Config, *state.Snapshot) {
	timings := []struct {
		name   string
		sendAt time.Time
	}{
		{"due", ago_(3 * time.Hour)},
		{"future", in(2 * time.Hour)},
		{"late", ago_(50 * time.Hour)},
	}
	// Each state builds the record from the instance as configured.
	states := []struct {
		name string
		rec  func(inst *spec.Instance) *state.Record
	}{
		{"none", nil},
		{"sent", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusSent, delivered(i.SendAt.Add(time.Minute)))
		}},
		{"sent_text", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusSent, func(r *state.Record) { r.ContentHash = "sha256:earlier" })
		}},
		{"sent_group", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusSent, func(r *state.Record) { r.Group, r.ThreadID = "sales", "t-sales" })
		}},
		{"sent_time", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusSent, func(r *state.Record) { r.SendAt = r.SendAt.Add(-24 * time.Hour) })
		}},
		{"failed", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusFailed, failedAttempts(2, "503 service unavailable"))
		}},
		{"failed_moved", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusFailed, failedAttempts(1, "429 too many requests"), func(r *state.Record) { r.SendAt = ago_(72 * time.Hour) })
		}},
		{"expired", func(i *spec.Instance) *state.Record { return rec(i, state.StatusExpired) }},
		{"expired_moved", func(i *spec.Instance) *state.Record {
			return rec(i, state.StatusExpired, func(r *state.Record) { r.SendAt = ago_(96 * time.Hour) })
		}},
		{"unknown", func(i *spec.Instance) *state.Record { return rec(i, state.StatusUnknown) }},
		{"sending", func(i *spec.Instance) *state.Record { return rec(i, state.StatusSending) }},
	}
	var instances []*spec.Instance
	var records []*state.Record
	for _, tm := range timings {
		for _, st := range states {
			inst := newInst(t, "message."+tm.name+"_"+st.name, tm.sendAt)
			instances = append(instances, inst)
			if st.rec != nil {
				records = append(records, st.rec(inst))
			}
		}
	}
	records = append(records,
		rec(newInst(t, `message.removed["eng"]`, ago_(10*time.Hour)), state.StatusSent),
		rec(newInst(t, "message.abandoned", ago_(30*time.Hour)), state.StatusFailed),
	)
	return configOf(instances), snapOf(records...)
}

func TestGoldenMatrix(t *testing.T) {
	cfg, snap := matrix(t)
	checkGolden(t, "matrix", render(New(cfg, snap, clock, Options{})))
}

func TestGoldenMatrixReplace(t *testing.T) {
	cfg, snap := matrix(t)
	var all []string
	for _, inst := range cfg.Instances {
		all = append(all, inst.Addr.String())
	}
	checkGolden(t, "matrix_replace", render(New(cfg, snap, clock, Options{Replace: addrList(t, all...)})))
}

func TestGoldenMatrixTargets(t *testing.T) {
	cfg, snap := matrix(t)
	opts := Options{Targets: addrList(t, "message.due_sent", "message.late_failed", "message.removed", "message.future_none")}
	checkGolden(t, "matrix_targets", render(New(cfg, snap, clock, opts)))
}

// TestGoldenRefactor: a configuration after a round of renames, some with
// moved blocks and some without.
func TestGoldenRefactor(t *testing.T) {
	due := ago_(2 * time.Hour)
	var instances []*spec.Instance
	var records []*state.Record
	for _, team := range []string{"eng", "sales", "ops"} {
		now := newInst(t, `message.weekly["`+team+`"]`, due, text("Weekly digest for "+team))
		instances = append(instances, now)
		if team != "ops" {
			// Sent while the block was called digest.
			records = append(records, rec(now, state.StatusSent, under(`message.digest["`+team+`"]`), delivered(due)))
		}
	}
	launch := newInst(t, "message.launch", in(3*time.Hour), text("Launch day!"))
	reminder := newInst(t, "message.reminder_v2", due, text("Reminder"))
	instances = append(instances, launch, reminder,
		newInst(t, "message.final", ago_(time.Hour), text("Final")))
	records = append(records,
		// launch was kickoff, then go_live: two moved blocks in a chain.
		rec(launch, state.StatusUnknown, under("message.kickoff")),
		// reminder was renamed without a moved block.
		rec(reminder, state.StatusSent, under("message.reminder")),
		// final was moved, but final already has a record of its own.
		rec(newInst(t, "message.final", ago_(time.Hour), text("Final")), state.StatusSent, under("message.last")),
		rec(newInst(t, "message.final", ago_(time.Hour), text("Final draft")), state.StatusSent),
	)
	cfg := configOf(instances,
		move(t, "message.digest", "message.weekly"),
		move(t, "message.kickoff", "message.go_live"),
		move(t, "message.go_live", "message.launch"),
		move(t, "message.last", "message.final"),
	)
	checkGolden(t, "refactor", render(New(cfg, snapOf(records...), clock, Options{})))
}
