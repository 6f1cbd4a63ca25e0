package reliability

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/internal/testhook"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// TestFrozenReplica: two `herald run` replicas share a PostgreSQL state.
// The active one journals an attempt and is frozen (SIGSTOP, a real
// stopped process) before it writes the request; its lock connection is
// dropped, as a server drops the silent connection of a paused host, and
// the other replica takes over. The frozen one stays stopped longer than
// unknown_settle, so the new active replica proves the message absent by
// a settled look-up: it sends it again under on_unknown = "resend", or
// keeps it not_delivered under "hold". Then the frozen replica is
// continued. It must not write its stale request: no duplicate, and no
// message recorded not_delivered that the API delivered.
func TestFrozenReplica(t *testing.T) {
	for _, policy := range []string{spec.OnUnknownResend, spec.OnUnknownHold} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			frozenReplica(t, policy)
		})
	}
}

// lockHolder is the OS pid and PostgreSQL backend pid of the process
// holding the state lock, as the holder's note and pg_locks agree.
func lockHolder(ctx context.Context, conn string) (osPID int, backendPID int32, ok bool) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(qctx, conn)
	if err != nil {
		return 0, 0, false
	}
	defer c.Close(ctx)
	err = c.QueryRow(qctx, `SELECT h.pid, h.backend_pid FROM herald.lock_holder h
WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = h.backend_pid AND l.locktype = 'advisory' AND l.granted)`).Scan(&osPID, &backendPID)
	return osPID, backendPID, err == nil
}

// stopped reports whether the process is stopped (by a signal).
func stopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, the state follows the
	// last parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'T' || s[i+2] == 't')
}

func frozenReplica(t *testing.T, policy string) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("the frozen-replica scenario reads process states from /proc: %v", err)
	}
	ctx := context.Background()
	conn := pgtest.Start(t)
	w := newWorkspace(t, FakeOptions{Seed: 21, JitterMin: time.Millisecond, JitterMax: 5 * time.Millisecond})
	settle := spec.MinUnknownSettle
	const n = 12
	start := clock.Now().Add(4 * time.Second).Truncate(time.Second)
	cfg := Messages{N: n, Groups: 3, Start: start, Every: 500 * time.Millisecond, ExpiresAfter: "1h",
		OnUnknown: policy, UnknownSettle: settle.String(),
		Extra: fmt.Sprintf("\nbackend \"postgres\" {\n  conn_str = %q\n}\n", conn)}
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	const frozenIdx = 4
	frozenAddr := Address(frozenIdx)
	f := &FailoverFigures{Figures: Figures{Scenario: fmt.Sprintf("16 frozen replica: SIGSTOP after journaling (%s)", policy)}, Replicas: 2}
	defer func() {
		figuresMu.Lock()
		failovers = append(failovers, *f)
		figures = append(figures, f.Figures)
		figuresMu.Unlock()
	}()

	// Replica A stops itself right after journaling the attempt of
	// frozenAddr; replica B is an ordinary standby.
	hA := *w.Herald
	hA.Env = append(slices.Clone(w.Herald.Env), testhook.StopAfterAttemptEnv+"="+frozenAddr)
	var procs []*Proc
	startRun := func(h *Herald) *Proc {
		p, err := h.Start("run", "-no-color", "-poll=2s")
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		procs = append(procs, p)
		return p
	}
	defer func() {
		for _, p := range procs {
			if !isDone(p) {
				_ = p.Signal(syscall.SIGKILL)
				_ = p.Signal(syscall.SIGCONT)
				p.Wait(time.Minute)
			}
		}
	}()
	a := startRun(&hA)
	pidA := a.cmd.Process.Pid
	var bpidA int32
	for deadline := time.Now().Add(30 * time.Second); ; {
		if pid, bpid, ok := lockHolder(ctx, conn); ok && pid == pidA {
			bpidA = bpid
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica A did not take the lock within 30s:\n%s", a.Stdout())
		}
		time.Sleep(50 * time.Millisecond)
	}
	b := startRun(w.Herald)

	// A stops once it has journaled the attempt.
	for deadline := time.Now().Add(clock.Until(cfg.SendAt(frozenIdx)) + 30*time.Second); !stopped(pidA); {
		if time.Now().After(deadline) || isDone(a) {
			t.Fatalf("replica A did not stop after journaling %s:\n%s", frozenAddr, a.Stdout())
		}
		time.Sleep(20 * time.Millisecond)
	}
	frozeAt := time.Now()
	st, err := pgstate.Open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := st.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A reader without the lock sees an attempt in flight as unknown.
	if r := snap.Records[frozenAddr]; r == nil || r.LastAttempt() == nil || r.LastAttempt().FinishedAt != nil {
		t.Fatalf("replica A stopped, but %s is not journaled as in flight: %+v\nreplica A:\n%s\nreplica B:\n%s", frozenAddr, r, clip(a.Stdout()), clip(b.Stdout()))
	}
	f.Disruptions, f.MidSend = 1, 1

	// The server drops the frozen host's lock connection, as it would
	// once keepalives go unanswered; B takes over.
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	var done bool
	if err := c.QueryRow(ctx, "SELECT pg_terminate_backend($1)", bpidA).Scan(&done); err != nil || !done {
		t.Fatalf("terminating replica A's lock connection (backend pid %d): %v %v", bpidA, done, err)
	}
	c.Close(ctx)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if pid, _, ok := lockHolder(ctx, conn); ok && pid == b.cmd.Process.Pid {
			f.LongestTakeover = time.Since(frozeAt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B did not take the lock within a minute:\n%s", b.Stdout())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("replica A frozen after journaling %s; replica B took the lock %s later", frozenAddr, f.LongestTakeover.Round(time.Millisecond))

	// B proves the message absent once unknown_settle has passed since
	// the attempt: resent (resend) or held not_delivered (hold).
	want := state.StatusSent
	if policy == spec.OnUnknownHold {
		want = state.StatusNotDelivered
	}
	for deadline := time.Now().Add(settle + 90*time.Second); ; {
		if snap, err = st.Snapshot(ctx); err == nil {
			if r := snap.Records[frozenAddr]; r != nil && r.Status == want {
				break
			}
		}
		if time.Now().After(deadline) {
			r := snap.Records[frozenAddr]
			t.Fatalf("%s was not settled as %s by replica B within %s: %+v\n%s", frozenAddr, want, settle+90*time.Second, r, clip(b.Stdout()))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Frozen longer than the settle time, whatever the moment B's
	// look-up came.
	time.Sleep(time.Until(frozeAt.Add(settle + 5*time.Second)))
	held := time.Since(frozeAt)
	t.Logf("replica B settled %s as %s; replica A frozen for %s, now continued", frozenAddr, want, held.Round(time.Millisecond))

	// A wakes with its journaled request in hand and a lock it no longer
	// holds. Give it time to do whatever it would: notice the loss, stand by.
	_ = a.Signal(syscall.SIGCONT)
	lost := func() bool { return strings.Contains(a.Stdout(), "type=lock_lost") }
	for deadline := time.Now().Add(30 * time.Second); !lost() && !isDone(a) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !lost() {
		f.Fail("replica A did not log that it lost the lock after it was continued:\n%s", clip(a.Stdout()))
	}
	time.Sleep(3 * time.Second)
	// Every message is due; B sends the rest.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if snap, err = st.Snapshot(ctx); err == nil {
			counts := statusCounts(snap)
			if counts[state.StatusSent]+counts[state.StatusNotDelivered] == n {
				break
			}
		}
		if time.Now().After(deadline) {
			f.Fail("not every message was settled a minute after the frozen replica was continued: %v (%v)", statusCounts(snap), err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.Fake.WaitServed()
	for _, p := range procs {
		if isDone(p) {
			f.Fail("a replica exited on its own:\n%s", p.res)
			continue
		}
		_ = p.Signal(syscall.SIGTERM)
		res := p.Wait(time.Minute)
		noPanic(&f.Figures, res)
		if res.Code != 0 {
			f.Fail("a replica stopped by SIGTERM exited %d:\n%s", res.Code, res)
		}
	}
	if snap, err = st.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	sends := w.Fake.Sends()
	Check(&f.Figures, Deliveries(sends), snap, AddrOf)
	for _, r := range snap.Records {
		if r.Status == state.StatusSent {
			f.Recorded++
		}
	}
	if f.Recorded != f.Deliveries {
		f.Fail("%d deliveries but %d messages recorded as sent", f.Deliveries, f.Recorded)
	}
	frozenSends := 0
	for _, s := range sends {
		addr, _ := AddrOf(s.Request.Content)
		due := cfg.SendAt(0).Truncate(time.Second)
		if addr == frozenAddr {
			frozenSends++
			due = cfg.SendAt(frozenIdx).Truncate(time.Second)
			f.LongestGap = max(f.LongestGap, s.Arrived.Sub(due))
		}
		f.LongestGapAll = max(f.LongestGapAll, s.Arrived.Sub(due))
	}
	switch {
	case policy == spec.OnUnknownResend && (frozenSends != 1 || f.Resent != 1):
		f.Fail("%s was delivered %d times and resent %d times after its proven absence, want once each", frozenAddr, frozenSends, f.Resent)
	case policy == spec.OnUnknownHold && (frozenSends != 0 || f.NotDelivered != 1):
		f.Fail("%s was delivered %d times with %d messages held not_delivered, want none delivered and it held", frozenAddr, frozenSends, f.NotDelivered)
	}
	if f.FalseAbsences > 0 {
		f.Fail("%d messages recorded not_delivered were delivered", f.FalseAbsences)
	}
	for _, why := range f.Failures {
		t.Error(why)
	}
	t.Logf("%s: deliveries %d, duplicates %d, recorded %d, not delivered %d (delivered %d), resent %d, frozen for %s, takeover %s",
		f.Scenario, f.Deliveries, f.Duplicates, f.Recorded, f.NotDelivered, f.FalseAbsences, f.Resent, held.Round(time.Second), f.LongestTakeover.Round(time.Millisecond))
	if t.Failed() {
		t.Logf("replica A output:\n%s", clip(a.Stdout()))
		t.Logf("replica B output:\n%s", clip(b.Stdout()))
	}
}
