package reliability

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/heraldhq/herald/internal/clock"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// disruption is what a failover scenario does to the active replica.
type disruption int

const (
	// killActive kills the active replica with SIGKILL and starts a new
	// one in its place.
	killActive disruption = iota
	// cutLock terminates the active replica's lock connection with
	// pg_terminate_backend: its database connection is cut, the process
	// lives on.
	cutLock
	// restartDB restarts PostgreSQL itself, dropping every connection.
	restartDB
)

func (d disruption) String() string {
	return [...]string{"kill -9 of the active replica", "lock connection terminated", "PostgreSQL restarted"}[d]
}

// failoverCase is a schedule of messages sent by several `herald run`
// replicas sharing a PostgreSQL state, disrupted again and again.
type failoverCase struct {
	name     string
	replicas int
	n        int
	every    time.Duration
	what     disruption
	times    int
	// maxTakeover is the longest the lock may go without a holder after
	// a disruption.
	maxTakeover time.Duration
}

// FailoverFigures are what one failover scenario measured.
type FailoverFigures struct {
	Figures
	Replicas, Disruptions int
	// MidSend is how many disruptions came with a send request in flight.
	MidSend int
	// Recorded is how many delivered messages state holds as sent.
	Recorded int
	// LongestTakeover is the longest time from a disruption until a
	// replica held the lock again.
	LongestTakeover time.Duration
	// LongestGap is the longest time from a message's send_at to its
	// delivery among messages a failover held up: due before a second
	// after the lock was held again, and delivered after the disruption.
	// LongestGapAll is the longest among all messages.
	LongestGap, LongestGapAll time.Duration
}

var failovers []FailoverFigures

// TestFailover runs two and three `herald run` replicas on one PostgreSQL
// state with a few hundred messages due over about a minute, and kills the
// active one (kill -9) at random moments, cuts its lock connection, or
// restarts PostgreSQL. Every message must be delivered at most once, every
// delivery recorded, and a delivered message left unknown is a failure
// (the thread look-up answers, so the new active replica must have found
// it). The subtests run one at a time: they measure time.
func TestFailover(t *testing.T) {
	cases := []failoverCase{
		{name: "two replicas, kill -9", replicas: 2, n: size(300, 90), every: 200 * time.Millisecond, what: killActive, times: size(11, 4), maxTakeover: 10 * time.Second},
		{name: "three replicas, kill -9", replicas: 3, n: size(300, 90), every: 200 * time.Millisecond, what: killActive, times: size(11, 4), maxTakeover: 10 * time.Second},
		{name: "two replicas, lock connection cut", replicas: 2, n: size(150, 60), every: 200 * time.Millisecond, what: cutLock, times: size(4, 2), maxTakeover: 10 * time.Second},
		{name: "two replicas, PostgreSQL restarted", replicas: 2, n: size(150, 60), every: 200 * time.Millisecond, what: restartDB, times: size(2, 1), maxTakeover: 20 * time.Second},
	}
	for _, fc := range cases {
		t.Run(strings.ReplaceAll(fc.name, " ", "_"), func(t *testing.T) { failoverScenario(t, fc) })
	}
}

// replicaProc is one `herald run` replica.
type replicaProc struct {
	p    *Proc
	addr string // its -listen address, once it said it
}

var listeningRe = regexp.MustCompile(`type=listening addr=(\S+)`)

func (r *replicaProc) listenAddr() string {
	if r.addr == "" {
		if m := listeningRe.FindStringSubmatch(r.p.Stdout()); m != nil {
			r.addr = m[1]
		}
	}
	return r.addr
}

func failoverScenario(t *testing.T, fc failoverCase) {
	conn := pgtest.Start(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	// Sends take a while, so that a disruption can catch one in flight.
	w := newWorkspace(t, FakeOptions{Seed: 13, JitterMin: 10 * time.Millisecond, JitterMax: 40 * time.Millisecond})
	// Replicas need a moment to start; the schedule begins after it.
	// Times of the schedule are on herald's clock, which test builds may
	// shift.
	start := clock.Now().Add(3 * time.Second).Truncate(time.Second)
	cfg := Messages{N: fc.n, Groups: 6, Start: start, Every: fc.every, ExpiresAfter: "1h",
		Extra: fmt.Sprintf("\nbackend \"postgres\" {\n  conn_str = %q\n}\n", conn)}
	if err := w.WriteConfig(cfg.HCL()); err != nil {
		t.Fatal(err)
	}
	f := &FailoverFigures{Figures: Figures{Scenario: "10 failover: " + fc.name}, Replicas: fc.replicas}
	defer func() {
		figuresMu.Lock()
		failovers = append(failovers, *f)
		figures = append(figures, f.Figures)
		figuresMu.Unlock()
	}()

	var procs []*replicaProc
	startReplica := func() {
		p, err := w.Herald.Start("run", "-no-color", "-poll=5s", "-listen=127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.Runs++
		procs = append(procs, &replicaProc{p: p})
	}
	defer func() {
		for _, r := range procs {
			if !isDone(r.p) {
				_ = r.p.Signal(syscall.SIGKILL)
				r.p.Wait(time.Minute)
			}
		}
	}()
	for range fc.replicas {
		startReplica()
	}

	ctx := context.Background()
	holder := func() (osPID int, backendPID int32, ok bool) {
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
	waitHolder := func(not int32, limit time.Duration) (int, int32, time.Duration, bool) {
		began := time.Now()
		for time.Since(began) < limit {
			if pid, bpid, ok := holder(); ok && bpid != not {
				return pid, bpid, time.Since(began), true
			}
			time.Sleep(50 * time.Millisecond)
		}
		return 0, 0, time.Since(began), false
	}
	if _, _, _, ok := waitHolder(-1, 30*time.Second); !ok {
		t.Fatalf("no replica took the lock within 30s:\n%s", procs[0].p.Stdout())
	}
	checkRoles(t, f, procs)

	// Disruptions at random moments spread over the schedule.
	window := cfg.SendAt(fc.n-1).Sub(start) - 2*time.Second
	slot := window / time.Duration(fc.times)
	type failover struct{ from, to time.Time }
	var windows []failover
	scraped := false
	for i := range fc.times {
		at := start.Add(time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot))))
		time.Sleep(clock.Until(at))
		if !scraped && fc.what == killActive {
			// Before the first kill the first active replica has made
			// every send, once it has made one.
			for deadline := time.Now().Add(10 * time.Second); w.Fake.Delivered() == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			scrapeMetrics(t, f, procs)
			scraped = true
		}
		// Every other disruption, and every restart of the database,
		// waits for a moment with a send request in flight: mid-pass,
		// between an attempt's record and its outcome's.
		midSend := i%2 == 1 || fc.what == restartDB
		if midSend {
			for deadline := time.Now().Add(3 * time.Second); w.Fake.inflight.Load() == 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			midSend = w.Fake.inflight.Load() > 0
		}
		// A loaded machine can make the look-up itself time out: it is
		// tried for a while before the lock counts as held by nobody.
		pid, bpid, _, ok := waitHolder(-1, 10*time.Second)
		if !ok {
			f.Fail("disruption %d: no replica holds the lock", i+1)
			continue
		}
		lostBefore := map[int]int{}
		for _, r := range procs {
			lostBefore[r.p.cmd.Process.Pid] = strings.Count(r.p.Stdout(), "type=lock_lost")
		}
		began := clock.Now()
		switch fc.what {
		case killActive:
			for _, r := range procs {
				if r.p.cmd.Process.Pid == pid && !isDone(r.p) {
					_ = r.p.Signal(syscall.SIGKILL)
					r.p.Wait(time.Minute)
				}
			}
			startReplica()
		case cutLock:
			c, err := pgx.Connect(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			var done bool
			if err := c.QueryRow(ctx, "SELECT pg_terminate_backend($1)", bpid).Scan(&done); err != nil || !done {
				f.Fail("terminating the lock connection (backend pid %d): %v %v", bpid, done, err)
			}
			c.Close(ctx)
		case restartDB:
			pgtest.Restart(t)
		}
		f.Disruptions++
		_, _, _, ok = waitHolder(bpid, 60*time.Second)
		took := clock.Since(began) // from the disruption, restart included
		if !ok {
			f.Fail("disruption %d (%s): no replica took the lock within a minute", i+1, fc.what)
			continue
		}
		if fc.what == cutLock {
			// The cut-off replica noticed, stopped and stands by (or took
			// the lock back); it did not die.
			for _, r := range procs {
				if r.p.cmd.Process.Pid != pid {
					continue
				}
				lost := func() bool { return strings.Count(r.p.Stdout(), "type=lock_lost") > lostBefore[pid] }
				deadline := time.Now().Add(10 * time.Second)
				for !lost() && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				switch {
				case isDone(r.p):
					f.Fail("disruption %d: the replica whose lock connection was cut exited:\n%s", i+1, r.p.res)
				case !lost():
					f.Fail("disruption %d: the replica whose lock connection was cut did not log that it lost the lock:\n%s", i+1, clip(r.p.Stdout()))
				}
			}
		}
		f.LongestTakeover = max(f.LongestTakeover, took)
		if took > fc.maxTakeover {
			f.Fail("disruption %d (%s): the lock was taken again only after %s (bound %s)", i+1, fc.what, took.Round(time.Millisecond), fc.maxTakeover)
		}
		if midSend {
			f.MidSend++
		}
		t.Logf("disruption %d (%s) at %s (a send in flight: %v): lock held again after %s", i+1, fc.what, began.Format("15:04:05.000"), midSend, took.Round(time.Millisecond))
		windows = append(windows, failover{from: began, to: began.Add(took + time.Second)})
	}

	// Every message is due by now; the survivors send what is left and
	// look up what the disrupted ones left without an outcome.
	b, err := pgstate.Open(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var snap *state.Snapshot
	deadline := time.Now().Add(clock.Until(cfg.SendAt(fc.n-1)) + 30*time.Second)
	for {
		if snap, err = b.Snapshot(ctx); err == nil {
			counts := statusCounts(snap)
			if counts[state.StatusSent]+counts[state.StatusUnknown] == fc.n && counts[state.StatusSending] == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			f.Fail("not every message was sent or unknown 30s after the last was due: %v (%v)", statusCounts(snap), err)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// One more pass of the survivors' at least: a poll.
	time.Sleep(time.Second)
	w.Fake.WaitServed()
	for _, r := range procs {
		if isDone(r.p) {
			continue
		}
		_ = r.p.Signal(syscall.SIGTERM)
		res := r.p.Wait(time.Minute)
		noPanic(&f.Figures, res)
		if res.Code != 0 {
			f.Fail("a replica stopped by SIGTERM exited %d:\n%s", res.Code, res)
		}
	}
	if snap, err = b.Snapshot(ctx); err != nil {
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
	if f.UnknownsDelivered > 0 {
		f.Fail("%d delivered messages are still unknown after the survivors' passes: the look-up should have found them", f.UnknownsDelivered)
	}
	for _, s := range sends {
		addr, ok := AddrOf(s.Request.Content)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(addr, `message.m["`), `"]`))
		if err != nil {
			t.Fatalf("address %s: %v", addr, err)
		}
		// The configuration has send_at to the second.
		due := cfg.SendAt(i).Truncate(time.Second)
		gap := s.Arrived.Sub(due)
		f.LongestGapAll = max(f.LongestGapAll, gap)
		for _, fw := range windows {
			// Due before the lock was held again (and the grace after
			// it), and not yet delivered when the disruption came.
			if due.Before(fw.to) && s.Arrived.After(fw.from) {
				f.LongestGap = max(f.LongestGap, gap)
			}
		}
	}
	for _, why := range f.Failures {
		t.Error(why)
	}
	t.Logf("%s: %d disruptions, deliveries %d, duplicates %d, recorded %d, unknowns left %d (%d delivered), longest takeover %s, longest gap in a failover %s (overall %s)",
		f.Scenario, f.Disruptions, f.Deliveries, f.Duplicates, f.Recorded, f.UnknownsLeft, f.UnknownsDelivered,
		f.LongestTakeover.Round(time.Millisecond), f.LongestGap.Round(time.Millisecond), f.LongestGapAll.Round(time.Millisecond))
	if t.Failed() {
		for i, r := range procs {
			t.Logf("replica %d output:\n%s", i, clip(r.p.Stdout()))
		}
	}
}

// get fetches a replica's endpoint.
func get(addr, path string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// checkRoles asks every replica's /readyz: exactly one is active, the
// others stand by, all ready; /healthz answers ok.
func checkRoles(t *testing.T, f *FailoverFigures, procs []*replicaProc) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		active, standby, other := 0, 0, []string{}
		for _, r := range procs {
			addr := r.listenAddr()
			if addr == "" {
				other = append(other, "no listen address yet")
				continue
			}
			if code, body, err := get(addr, "/healthz"); err != nil || code != 200 || body != "ok\n" {
				other = append(other, fmt.Sprintf("/healthz: %d %q %v", code, body, err))
				continue
			}
			code, body, err := get(addr, "/readyz")
			switch {
			case err == nil && code == 200 && body == "active\n":
				active++
			case err == nil && code == 200 && body == "standby\n":
				standby++
			default:
				other = append(other, fmt.Sprintf("/readyz: %d %q %v", code, body, err))
			}
		}
		if active == 1 && standby == len(procs)-1 {
			return
		}
		if time.Now().After(deadline) {
			f.Fail("replica roles: %d active, %d standing by, others: %v", active, standby, other)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrapeMetrics reads every replica's /metrics with the Prometheus text
// parser: the active one says so and has sent, the others say they stand by.
func scrapeMetrics(t *testing.T, f *FailoverFigures, procs []*replicaProc) {
	actives := 0
	for _, r := range procs {
		if isDone(r.p) || r.listenAddr() == "" {
			continue
		}
		code, body, err := get(r.listenAddr(), "/metrics")
		if err != nil || code != 200 {
			f.Fail("/metrics: %d %v", code, err)
			continue
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			f.Fail("/metrics does not parse: %v", err)
			continue
		}
		for _, name := range []string{"herald_sends_total", "herald_attempts_total", "herald_retries_total", "herald_unknown_total",
			"herald_expired_total", "herald_rate_limit_waits_total", "herald_pass_duration_seconds",
			"herald_next_send_at_timestamp_seconds", "herald_replica_active", "herald_state_backend_errors_total"} {
			if fams[name] == nil {
				f.Fail("/metrics has no %s", name)
			}
		}
		if fams["herald_replica_active"] == nil || fams["herald_attempts_total"] == nil {
			continue
		}
		if fams["herald_replica_active"].GetMetric()[0].GetGauge().GetValue() == 1 {
			actives++
			if n := fams["herald_attempts_total"].GetMetric()[0].GetCounter().GetValue(); n < 1 {
				f.Fail("the active replica's herald_attempts_total is %g after sends began", n)
			}
			if next := fams["herald_next_send_at_timestamp_seconds"].GetMetric()[0].GetGauge().GetValue(); next < float64(clock.Now().Add(-time.Minute).Unix()) {
				f.Fail("the active replica's herald_next_send_at_timestamp_seconds is %g while messages wait", next)
			}
		}
	}
	if actives != 1 {
		f.Fail("%d replicas report herald_replica_active 1, want 1", actives)
	}
}

// FailoverTable renders the failover figures.
func FailoverTable(rows []FailoverFigures) string {
	return renderTable(failoverCells(rows))
}

// failoverCells is FailoverTable's rows of cells, the heading first.
func failoverCells(rows []FailoverFigures) [][]string {
	head := []string{"scenario", "replicas", "disruptions (a send in flight)", "delivered", "duplicates", "recorded", "unknown left (delivered)", "longest takeover", "longest send_at→delivery in a failover", "result"}
	cells := [][]string{head}
	for _, f := range rows {
		result := "ok"
		if !f.OK() {
			result = fmt.Sprintf("FAIL (%d)", len(f.Failures))
		}
		cells = append(cells, []string{strings.TrimPrefix(f.Scenario, "10 failover: "), fmt.Sprint(f.Replicas), fmt.Sprintf("%d (%d)", f.Disruptions, f.MidSend),
			fmt.Sprint(f.Deliveries), fmt.Sprint(f.Duplicates), fmt.Sprint(f.Recorded),
			fmt.Sprintf("%d (%d)", f.UnknownsLeft, f.UnknownsDelivered),
			f.LongestTakeover.Round(10 * time.Millisecond).String(), f.LongestGap.Round(10 * time.Millisecond).String(), result})
	}
	return cells
}
