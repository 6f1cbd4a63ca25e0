package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// TestClockSkew runs apply with -at earlier than the previous run's
// clock: what was sent stays sent and nothing is sent again; a later run
// sends the rest once.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	n := size(60, 30)
	cfg := Messages{N: n, Groups: 3, Start: base, Every: time.Minute, ExpiresAfter: "720h"}
	w := newWorkspace(t, FakeOptions{Seed: 9})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "9 time: -at earlier than the last run"}
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(2*n/3)))
	sent := w.Fake.Delivered()
	for _, back := range []time.Time{cfg.SendAt(n / 3), cfg.SendAt(0).Add(-time.Hour)} {
		res := mustRun(w, f, 0, "plan", "-json", at(back))
		if doc := readPlan(f, res); doc != nil && doc.Summary["send"]+doc.Summary["retry"] != 0 {
			f.Fail("plan at %s (before the last run) offers to send: %v", back, doc.Summary)
		}
		mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(back))
		if got := w.Fake.Delivered(); got != sent {
			f.Fail("apply at %s, before the last run, delivered %d more", back, got-sent)
		}
	}
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(cfg.SendAt(n)))
	snap := checkState(t, w, f)
	if got := statusCounts(snap)[state.StatusSent]; got != n || f.Deliveries != n {
		f.Fail("%d sent and %d delivered, want %d", got, f.Deliveries, n)
	}
	report(t, f)
}

// TestAnswerClockSkew loses the answer to a delivered send and looks it
// up with the fake's clock ahead of herald's and behind it. Within the
// skew herald allows for (executor.ClockSkew, 2 minutes) the delivery is
// found and recorded sent; beyond it, date_created lies outside the
// attempt's window, so it cannot be told from another send of the same
// text and stays unknown. Either way it is never sent again.
func TestAnswerClockSkew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		skew  time.Duration
		found bool
	}{
		{"fake 1m ahead", time.Minute, true},
		{"fake 1m behind", -time.Minute, true},
		{"fake 2h ahead", 2 * time.Hour, false},
		{"fake 2h behind", -2 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 6
			cfg := Messages{N: n, Groups: 1, Start: base, Every: time.Minute, ExpiresAfter: "720h"}
			runAt := cfg.SendAt(n)
			// The fake's clock runs from herald's -at, shifted by skew.
			start := time.Now()
			clock := func() time.Time { return runAt.Add(tc.skew).Add(time.Since(start)) }
			w := newWorkspace(t, FakeOptions{Seed: 10, Clock: clock})
			if err := w.WriteConfig(cfg.HCL()); err != nil {
				t.Fatal(err)
			}
			// The last message's answer is lost, so that no later send
			// pushes it out of the thread's five most recent.
			replies := make([]sandbox.Reply, n)
			replies[n-1] = sandbox.Reply{Lost: true}
			w.Fake.Script(replies...)
			f := &Figures{Scenario: "9 time: date_created " + tc.name}
			// herald looks the message up right after the lost answer:
			// found (the fake's clock is ahead), the apply succeeds;
			// not found, it stays unknown (exit 1) and the next apply
			// looks again and leaves it unknown.
			firstExit := 1
			if tc.found {
				firstExit = 0
			}
			mustRun(w, f, firstExit, "apply", "-auto-approve", "-no-color", at(runAt))
			mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", at(runAt))
			snap := checkState(t, w, f)
			want := state.StatusUnknown
			if tc.found {
				want = state.StatusSent
			}
			if r := snap.Records[Address(n-1)]; r == nil || r.Status != want {
				f.Fail("the message whose answer was lost is %+v, want %s", r, want)
			}
			if f.Deliveries != n {
				f.Fail("%d deliveries, want %d", f.Deliveries, n)
			}
			report(t, f)
		})
	}
}

// TestDaylightSaving sends messages whose send_at offsets straddle
// Berlin's daylight-saving changes: 01:30+01:00 and 03:30+02:00 on the
// spring day are an hour apart, and 02:30+02:00 and 02:30+01:00 on the
// autumn day are the repeated hour. Each must be due exactly at its
// instant and reach the group in send_at order.
func TestDaylightSaving(t *testing.T) {
	t.Parallel()
	times := []string{
		"2026-03-29T01:30:00+01:00", // 00:30Z
		"2026-03-29T03:30:00+02:00", // 01:30Z
		"2026-10-25T02:30:00+02:00", // 00:30Z
		"2026-10-25T02:30:00+01:00", // 01:30Z
	}
	var b strings.Builder
	b.WriteString("provider \"a1base\" {\n  account_id = \"acc_rel\"\n  from = \"+14155552671\"\n  expires_after = \"2h\"\n}\n")
	b.WriteString("group \"g0\" {\n  thread_id = \"" + ThreadID(0) + "\"\n}\n")
	// Declared out of order: the send order must come from send_at.
	for _, i := range []int{3, 1, 2, 0} {
		fmt.Fprintf(&b, "message \"d%d\" {\n  group = group.g0\n  send_at = %q\n  text = \"dst %d\"\n}\n", i, times[i], i)
	}
	w := newWorkspace(t, FakeOptions{Seed: 11})
	if err := w.WriteConfig(b.String()); err != nil {
		t.Fatal(err)
	}
	addrOf := func(content string) (string, bool) {
		var i int
		if _, err := fmt.Sscanf(content, "dst %d", &i); err != nil {
			return "", false
		}
		return fmt.Sprintf("message.d%d", i), true
	}
	f := &Figures{Scenario: "9 time: daylight-saving offsets"}
	steps := []struct {
		at   string
		want []string // texts delivered by this step, in order
	}{
		{"2026-03-29T00:29:59Z", nil},
		{"2026-03-29T00:30:00Z", []string{"dst 0"}},
		{"2026-03-29T01:29:59Z", nil},
		{"2026-03-29T01:30:00Z", []string{"dst 1"}},
		{"2026-10-25T00:29:59Z", nil},
		{"2026-10-25T01:30:00Z", []string{"dst 2", "dst 3"}},
	}
	for _, s := range steps {
		from := len(w.Fake.Sends())
		mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", "-at="+s.at)
		var got []string
		for _, r := range w.Fake.Sends()[from:] {
			got = append(got, r.Request.Content)
		}
		if strings.Join(got, ",") != strings.Join(s.want, ",") {
			f.Fail("apply at %s delivered %q, want %q", s.at, got, s.want)
		}
	}
	snap, err := ReadState(w.StatePath())
	if err != nil {
		f.Fail("reading state: %v", err)
	}
	Check(f, Deliveries(w.Fake.Sends()), snap, addrOf)
	report(t, f)
}

// TestLongOutage runs the first apply days after the messages were due:
// those past their expires_after are recorded expired and never sent,
// those within it are sent.
func TestLongOutage(t *testing.T) {
	t.Parallel()
	n := size(40, 16)
	// The generated messages expire 6h after they are due; "late" ones
	// allow ten days.
	cfg := Messages{N: n, Groups: 4, Start: base, Every: time.Minute, ExpiresAfter: "6h",
		Extra: `
message "late" {
  for_each = local.due
  group    = local.groups[each.value.g]
  send_at  = each.value.at
  expires_after = "240h"
  text     = "late ${each.key}"
}
`}
	w := newWorkspace(t, FakeOptions{Seed: 12})
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &Figures{Scenario: "9 time: apply after a 3-day outage"}
	outage := at(cfg.SendAt(n).Add(72 * time.Hour))
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", outage)
	mustRun(w, f, 0, "apply", "-auto-approve", "-no-color", outage)
	snap, err := ReadState(w.StatePath())
	if err != nil {
		f.Fail("reading state: %v", err)
	}
	addrOf := func(content string) (string, bool) {
		if key, ok := strings.CutPrefix(content, "late "); ok {
			return fmt.Sprintf("message.late[%q]", key), true
		}
		return AddrOf(content)
	}
	Check(f, Deliveries(w.Fake.Sends()), snap, addrOf)
	for i := 0; i < n; i++ {
		if r := snap.Records[Address(i)]; r == nil || r.Status != state.StatusExpired || len(r.Attempts) != 0 {
			f.Fail("%s, past its expires_after, is %+v; want expired with no attempt", Address(i), r)
		}
		late := fmt.Sprintf("message.late[%q]", Key(i))
		if r := snap.Records[late]; r == nil || r.Status != state.StatusSent {
			f.Fail("%s, within its expires_after, is %+v; want sent", late, r)
		}
	}
	if f.Deliveries != n {
		f.Fail("%d deliveries, want %d (only the messages within their expires_after)", f.Deliveries, n)
	}
	report(t, f)
}
