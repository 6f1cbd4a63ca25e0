package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const e2eClock = "2026-12-01T08:00:00Z"

// e2eDir copies the e2e configuration into a fresh directory and writes a
// state beside it whose records make every action of CONTRACT §4 appear.
func e2eDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(testdataDir(t, "plan", "e2e", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))

	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	hash := func(text string) string { return (&spec.Instance{Text: text}).ContentHash() }
	rec := func(addr, group, thread, service, from, text, sendAt string, status state.Status, outcome, lastErr string) *state.Record {
		sa := at(sendAt)
		done := sa.Add(time.Second)
		return &state.Record{
			Message: state.Message{Address: addr, Group: group, ThreadID: thread, Service: service, From: from, ContentHash: hash(text), SendAt: sa}, Status: status, LastError: lastErr, UpdatedAt: done,
			Attempts: []state.Attempt{{Number: 1, StartedAt: sa, FinishedAt: &done, Outcome: outcome, Error: lastErr}},
		}
	}
	eng := []string{"eng", "t-eng", "whatsapp", "+14155552671"}
	community := []string{"community", "t-community", "telegram", "+14155550000"}
	records := []*state.Record{
		rec("message.hello", eng[0], eng[1], eng[2], eng[3], "Hello", "2026-11-29T09:00:00Z", state.StatusSent, "delivered", ""),
		rec("message.agenda", community[0], community[1], community[2], community[3], "Agenda v1", "2026-11-30T09:00:00Z", state.StatusSent, "delivered", ""),
		rec("message.flaky", eng[0], eng[1], eng[2], eng[3], "Try again", "2026-12-01T07:00:00Z", state.StatusFailed, "transient", "HTTP 503: service unavailable"),
		rec("message.maybe", eng[0], eng[1], eng[2], eng[3], "Did it go?", "2026-12-01T05:00:00Z", state.StatusUnknown, "ambiguous", "no answer"),
		rec("message.retired", eng[0], eng[1], eng[2], eng[3], "Bye", "2026-11-20T09:00:00Z", state.StatusSent, "delivered", ""),
	}
	records[0].Answer = &state.Answer{ChatGroupID: "cg-1", Status: "sent", Body: "Hello", DateCreated: "2026-11-29T09:00:01Z"}
	snap := &state.Snapshot{Lineage: "e2e-lineage", Serial: 4, Records: map[string]*state.Record{}}
	for _, r := range records {
		snap.Records[r.Address] = r
	}
	b := state.OpenLocal(filepath.Join(dir, state.DefaultPath))
	ctx := context.Background()
	require.NoError(t, b.Lock(ctx, 0))
	require.NoError(t, b.Replace(ctx, snap))
	require.NoError(t, b.Close())
	return dir
}

func TestPlanEndToEnd(t *testing.T) {
	dir := e2eDir(t)

	human := runMain(t, dir, "", "plan", "-at="+e2eClock)
	require.Equal(t, 0, human.code, human.stderr)
	checkGolden(t, "plan/e2e/plan.out.txt", []byte(human.stdout))

	js := runMain(t, dir, "", "plan", "-at="+e2eClock, "-json")
	require.Equal(t, 0, js.code, js.stderr)
	assert.Empty(t, js.stderr)
	checkGolden(t, "plan/e2e/plan.out.json", []byte(js.stdout))

	md := runMain(t, dir, "", "plan", "-at="+e2eClock, "-markdown")
	require.Equal(t, 0, md.code, md.stderr)
	checkGolden(t, "plan/e2e/plan.out.md", []byte(md.stdout))

	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	actions := map[string]string{}
	for _, c := range doc.Changes {
		actions[c.Address] = c.Action
	}
	assert.Equal(t, map[string]string{
		"message.launch":              "send",
		"message.poster":              "send",
		"message.code":                "send",
		"message.flaky":               "retry",
		`message.report["eng"]`:       "wait",
		`message.report["community"]`: "wait",
		"message.late":                "expire",
		"message.agenda":              "drift",
		"message.maybe":               "unknown",
		"message.hello_new":           "noop",
		"message.retired":             "orphan",
	}, actions)
	assert.Equal(t, views.PlanSummary{Send: 3, Retry: 1, Wait: 2, Noop: 1, Drift: 1, Expire: 1, Unknown: 1, Orphan: 1}, doc.Summary)

	// The sensitive variable's value appears in no rendering.
	for _, out := range []string{human.stdout, js.stdout, md.stdout} {
		assert.NotContains(t, out, "4711")
	}
}

func TestPlanOutThenShow(t *testing.T) {
	dir := e2eDir(t)
	planJSON := runMain(t, dir, "", "plan", "-at="+e2eClock, "-json")
	require.Equal(t, 0, planJSON.code, planJSON.stderr)

	out := runMain(t, dir, "", "plan", "-at="+e2eClock, "-out=saved.plan")
	require.Equal(t, 0, out.code, out.stderr)
	assert.Contains(t, out.stdout, "Saved the plan to saved.plan. To send exactly these messages, run:\n  herald apply saved.plan\n")
	fi, err := os.Stat(filepath.Join(dir, "saved.plan"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	raw, err := os.ReadFile(filepath.Join(dir, "saved.plan"))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "4711", "a saved plan holds no sensitive value")

	showJSON := runMain(t, dir, "", "show", "-json", "saved.plan")
	require.Equal(t, 0, showJSON.code, showJSON.stderr)
	assert.Equal(t, planJSON.stdout, showJSON.stdout, "show -json PLANFILE prints the plan -json document")

	// The human form is the plan's, without plan's closing hint.
	show := runMain(t, dir, "", "show", "saved.plan")
	require.Equal(t, 0, show.code, show.stderr)
	body, _, ok := strings.Cut(out.stdout, "\nSaved the plan to")
	require.True(t, ok)
	assert.Equal(t, body, show.stdout)

	showMD := runMain(t, dir, "", "show", "-markdown", "saved.plan")
	planMD := runMain(t, dir, "", "plan", "-at="+e2eClock, "-markdown")
	assert.Equal(t, planMD.stdout, showMD.stdout)

	bad := runMain(t, dir, "", "show", state.DefaultPath)
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stderr, "not a herald plan file")
	missing := runMain(t, dir, "", "show", "nope.plan")
	assert.Equal(t, 1, missing.code)
	assert.Contains(t, missing.stderr, "cannot read the plan file")
}

func TestPlanDetailedExitCode(t *testing.T) {
	dir := e2eDir(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"sends due", []string{"-at=" + e2eClock}, 2},
		{"plain exit without the flag", nil, 0},
		{"only a retry", []string{"-at=" + e2eClock, "-target=message.flaky"}, 2},
		{"only waiting", []string{"-at=" + e2eClock, "-target=message.report"}, 0},
		{"only drift", []string{"-at=" + e2eClock, "-target=message.agenda"}, 0},
		{"error", []string{"-at=yesterday"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"plan"}, tt.args...)
			if tt.name != "plain exit without the flag" {
				args = append(args, "-detailed-exitcode")
			} else {
				args = append(args, "-at="+e2eClock)
			}
			r := runMain(t, dir, "", args...)
			assert.Equal(t, tt.want, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		})
	}
}

func TestPlanErrors(t *testing.T) {
	dir := e2eDir(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad clock", []string{"-at=2026-12-01"}, "-at=2026-12-01: expected an RFC 3339 time"},
		{"bad target", []string{"-target=group.eng"}, `-target: invalid address "group.eng"`},
		{"unmatched target", []string{"-target=message.nope"}, "-target=message.nope matches no message"},
		{"json and markdown", []string{"-json", "-markdown"}, "-json and -markdown cannot be used together"},
		{"argument", []string{"extra"}, "plan takes no arguments"},
		{"unknown variable", []string{"-var=nope=1"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, dir, "", append([]string{"plan"}, tt.args...)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.wantErr)
			assert.Empty(t, r.stdout)
		})
	}

	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "main.hcl"), []byte("message \"x\" {\n  text = \n}\n"), 0o644))
	for _, args := range [][]string{{"plan"}, {"plan", "-json"}} {
		r := runMain(t, broken, "", args...)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "on main.hcl line 2", "diagnostics name the file and line")
		assert.Empty(t, r.stdout, "nothing on stdout for %v", args)
	}
}

// TestPlanNoState: a directory never applied plans from an empty state and
// leaves no state file behind.
func TestPlanNoState(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testdataDir(t, "plan", "e2e", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))
	r := runMain(t, dir, "", "plan", "-at="+e2eClock, "-lock-timeout=5s")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Plan: 6 to send, 2 waiting, 2 expired.")
	_, err = os.Stat(filepath.Join(dir, state.DefaultPath))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestPlanDoesNotTakeTheLock: plan reads while an apply holds the lock.
func TestPlanDoesNotTakeTheLock(t *testing.T) {
	dir := e2eDir(t)
	holder := state.OpenLocal(filepath.Join(dir, state.DefaultPath))
	require.NoError(t, holder.Lock(context.Background(), 0))
	defer holder.Close()
	r := runMain(t, dir, "", "plan", "-at="+e2eClock)
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestPlanStateFlag(t *testing.T) {
	dir := e2eDir(t)
	require.NoError(t, os.Rename(filepath.Join(dir, state.DefaultPath), filepath.Join(dir, "other.json")))
	r := runMain(t, dir, "", "plan", "-at="+e2eClock, "-state=other.json", "-json")
	require.Equal(t, 0, r.code, r.stderr)
	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	assert.Equal(t, 1, doc.Summary.Orphan, "the records of -state are used")
}

// TestPlanExclude: -exclude leaves messages out of the plan, says how many
// in the summary, and combines with -target as the targets minus the
// excluded.
func TestPlanExclude(t *testing.T) {
	dir := e2eDir(t)
	addresses := func(t *testing.T, out string) (map[string]string, int) {
		t.Helper()
		var doc views.PlanDocument
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		got := map[string]string{}
		for _, c := range doc.Changes {
			got[c.Address] = c.Action
		}
		return got, doc.Excluded
	}

	js := runMain(t, dir, "", "plan", "-at="+e2eClock, "-json", "-exclude=message.launch", "-exclude=message.report", "--exclude", "message.retired")
	require.Equal(t, 0, js.code, js.stderr)
	got, excluded := addresses(t, js.stdout)
	assert.Equal(t, 4, excluded, "launch, both report instances and the orphan")
	for _, a := range []string{"message.launch", `message.report["eng"]`, `message.report["community"]`, "message.retired"} {
		assert.NotContains(t, got, a)
	}
	assert.Equal(t, "send", got["message.poster"])
	assert.Contains(t, js.stdout, `"excluded": 4`)

	human := runMain(t, dir, "", "plan", "-at="+e2eClock, "-exclude=message.launch", "-exclude=message.report", "-exclude=message.retired")
	require.Equal(t, 0, human.code, human.stderr)
	assert.Contains(t, human.stdout, "\nPlan: 2 to send, 1 to retry, 1 unchanged, 1 drifted, 1 expired, 1 unknown. 4 excluded by -exclude.\n")
	changes, hint, _ := strings.Cut(human.stdout, "\nTo send ")
	assert.NotContains(t, changes, "message.launch")
	assert.Contains(t, hint, "herald apply -at=2026-12-01T08:00:00Z -exclude=message.launch -exclude=message.report -exclude=message.retired\n",
		"the hint repeats the plan's -exclude flags")

	md := runMain(t, dir, "", "plan", "-at="+e2eClock, "-markdown", "-exclude=message.launch")
	require.Equal(t, 0, md.code, md.stderr)
	assert.Contains(t, md.stdout, "1 excluded by -exclude.")

	// Without -exclude the document has no excluded key at all.
	plain := runMain(t, dir, "", "plan", "-at="+e2eClock, "-json")
	require.Equal(t, 0, plain.code, plain.stderr)
	assert.NotContains(t, plain.stdout, `"excluded"`)
	noExclude := runMain(t, dir, "", "plan", "-at="+e2eClock)
	assert.NotContains(t, noExclude.stdout, "excluded by -exclude")

	// -target and -exclude: the targets minus the excluded.
	both := runMain(t, dir, "", "plan", "-at="+e2eClock, "-json", "-target=message.report", "-target=message.launch", `-exclude=message.report["eng"]`)
	require.Equal(t, 0, both.code, both.stderr)
	got, excluded = addresses(t, both.stdout)
	assert.Equal(t, map[string]string{"message.launch": "send", `message.report["community"]`: "wait"}, got)
	assert.Equal(t, 1, excluded)

	// Everything excluded: nothing is due.
	all := runMain(t, dir, "", "plan", "-at="+e2eClock, "-target=message.launch", "-exclude=message.launch", "-detailed-exitcode")
	assert.Equal(t, 0, all.code, all.stderr)
	assert.Contains(t, all.stdout, "No changes. Nothing is due. 1 excluded by -exclude.\n")

	// A saved plan remembers how many it left out.
	out := runMain(t, dir, "", "plan", "-at="+e2eClock, "-out=saved.plan", "-exclude=message.launch")
	require.Equal(t, 0, out.code, out.stderr)
	show := runMain(t, dir, "", "show", "saved.plan")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "1 excluded by -exclude.")
	assert.NotContains(t, show.stdout, "message.launch")
}

func TestPlanExcludeErrors(t *testing.T) {
	dir := e2eDir(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad address", []string{"-exclude=group.eng"}, `-exclude: invalid address "group.eng"`},
		{"unmatched", []string{"-exclude=message.nope"}, "-exclude=message.nope matches no message in the configuration or the state"},
		{"unmatched key", []string{`-exclude=message.report["nope"]`}, `-exclude=message.report["nope"] matches no message in the configuration or the state`},
		{"outside the targets", []string{"-target=message.launch", "-exclude=message.poster"}, "-exclude=message.poster matches no message selected by -target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, dir, "", append([]string{"plan", "-at=" + e2eClock}, tt.args...)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.wantErr)
			assert.Empty(t, r.stdout)
		})
	}
}
