package command

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/state"
)

// runStart is the clock the run tests start at: testdata/run/schedule's
// first message is due an hour later.
var runStart = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// fakeClock is run's clock in tests: Sleep returns at once, having moved
// the time on, so that hours of schedule run in an instant. Each sleep may
// first run a hook, which can change the world (the configuration, the
// lock) or interrupt the run by cancelling its context.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// during is called with the number of the sleep (from 1) and the
	// time it would end; it runs before the sleep is over.
	during func(n int, until time.Time)
	// stopAt interrupts the run (cancel) at the first sleep that would
	// go past it.
	stopAt time.Time
	cancel context.CancelFunc
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n, until := len(c.sleeps), c.now.Add(d)
	during := c.during
	c.mu.Unlock()
	if during != nil {
		during(n, until)
	}
	if !c.stopAt.IsZero() && until.After(c.stopAt) && c.cancel != nil {
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = until
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// runFixture is an apply fixture whose configuration is one of
// testdata/run, with a fake clock that the fake A1Base shares.
type runFixture struct {
	*applyFixture
	clock *fakeClock
}

func newRunFixture(t *testing.T, config string) *runFixture {
	t.Helper()
	clock := newFakeClock(runStart)
	api := a1sandbox.NewHandler(a1sandbox.WithClock(clock.Now))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	f := &runFixture{applyFixture: newApplyFixtureWith(t, api, srv.URL), clock: clock}
	f.useConfig(t, config)
	return f
}

// useConfig replaces the working directory's main.hcl with testdata/run's
// NAME/main.hcl.
func (f *runFixture) useConfig(t *testing.T, name string) {
	t.Helper()
	src, err := os.ReadFile(testdataDir(t, "run", name, "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "main.hcl"), src, 0o644))
}

// run runs herald run on the fake clock until it stops: interrupted by
// the clock at stopAt, or ended on its own.
func (f *runFixture) run(t *testing.T, stopAt time.Time, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.clock.cancel, f.clock.stopAt = cancel, stopAt
	return f.runCtx(t, ctx, func(e *Env) {
		e.Now, e.Sleep = f.clock.Now, f.clock.Sleep
	}, append([]string{"run"}, args...)...)
}

func (f *runFixture) statePath() string { return filepath.Join(f.dir, state.DefaultPath) }

// sentAt lists the fake's deliveries as "HH:MM text", in the order
// they arrived.
func sentAt(api *a1sandbox.API) []string {
	var out []string
	for _, s := range api.Sends() {
		out = append(out, s.Arrived.UTC().Format("15:04")+" "+s.Request.Content)
	}
	return out
}

func TestRunSendsEachMessageAtItsTime(t *testing.T) {
	f := newRunFixture(t, "schedule")
	r := f.run(t, runStart.Add(5*time.Hour+30*time.Minute), "-poll=1h")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	sends := sentAt(f.api)
	require.Len(t, sends, 4, "each message once")
	assert.Equal(t, "09:00 Standup at 09:15", sends[0])
	assert.ElementsMatch(t, []string{"10:30 Launch is live", "10:30 Launch is live: tell customers"}, sends[1:3])
	assert.Equal(t, "13:00 Wrap-up at 14:00", sends[3])

	// It sleeps until the next send_at, but never longer than -poll.
	assert.Equal(t, []time.Duration{
		time.Hour,        // 08:00 → 09:00: standup
		time.Hour,        // 09:00 → 10:00: the poll comes first
		30 * time.Minute, // 10:00 → 10:30: launch, launch_sales
		time.Hour,        // 10:30 → 11:30
		time.Hour,        // 11:30 → 12:30
		30 * time.Minute, // 12:30 → 13:00: wrapup
		time.Hour,        // nothing waiting: the poll; interrupted
	}, f.clock.Sleeps())

	snap := f.snapshot(t, state.DefaultPath)
	require.Len(t, snap.Records, 4)
	for addr, rec := range snap.Records {
		assert.Equal(t, state.StatusSent, rec.Status, addr)
		require.Len(t, rec.Attempts, 1, addr)
		assert.Equal(t, rec.SendAt, rec.Attempts[0].StartedAt, "%s was sent at its send_at", addr)
	}

	for _, want := range []string{
		"2026-12-01T08:00:00Z herald run started: reading the configuration at least every 1h0m0s, state herald.state.json\n",
		"2026-12-01T08:00:00Z config loaded: 4 messages waiting\n",
		"2026-12-01T08:00:00Z sleeping until 2026-12-01T09:00:00Z (message.standup)\n",
		"2026-12-01T09:00:00Z message.standup sent (attempt 1)\n",
		"2026-12-01T09:00:00Z sleeping until 2026-12-01T10:30:00Z (message.launch and 1 more)\n",
		"2026-12-01T10:30:00Z message.launch sent (attempt 1)\n",
		"2026-12-01T10:30:00Z message.launch_sales sent (attempt 1)\n",
		"2026-12-01T13:00:00Z message.wrapup sent (attempt 1)\n",
		"2026-12-01T13:00:00Z nothing waiting: reading the configuration again every 1h0m0s\n",
		"2026-12-01T13:00:00Z stopped: 4 sent, 0 failed, 0 expired, 0 unknown since the start\n",
	} {
		assert.Contains(t, r.stdout, want)
	}
	// A poll that finds nothing new is quiet.
	assert.Equal(t, 1, strings.Count(r.stdout, "sleeping until 2026-12-01T10:30:00Z"), r.stdout)
	assert.Equal(t, 1, strings.Count(r.stdout, "config loaded"), r.stdout)
	assert.Empty(t, r.stderr)
	assert.NoFileExists(t, f.statePath()+".journal", "every pass folds its journal")
}

func TestRunReloadsConfiguration(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.during = func(n int, until time.Time) {
		if n == 2 { // asleep after standup was sent, before 10:00
			f.useConfig(t, "changed")
		}
	}
	r := f.run(t, runStart.Add(6*time.Hour), "-poll=1h")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	// The change is read at 10:00, a poll after 09:00 (the configuration
	// it replaced had nothing due sooner): the new message, due 09:30, is
	// sent then, and the removed one never.
	assert.Equal(t, []string{
		"09:00 Standup at 09:15",
		"10:00 Reminder: launch checklist",
		"10:30 Launch is live: tell customers",
		"13:00 Wrap-up at 14:00",
	}, sentAt(f.api))
	assert.Contains(t, r.stdout, "2026-12-01T10:00:00Z config reloaded: 2 messages waiting\n")
	assert.Contains(t, r.stdout, "2026-12-01T10:00:00Z message.reminder sent (attempt 1)\n")
	assert.Contains(t, r.stdout, "2026-12-01T10:00:00Z sleeping until 2026-12-01T10:30:00Z (message.launch_sales)\n")
	assert.NotContains(t, r.stdout, "message.launch sent")
	assert.Equal(t, []time.Duration{time.Hour, time.Hour, 30 * time.Minute}, f.clock.Sleeps()[:3])
}

func TestRunHoldsNoLockWhileSleeping(t *testing.T) {
	f := newRunFixture(t, "schedule")
	locked := 0
	f.clock.during = func(n int, until time.Time) {
		other := state.OpenLocal(f.statePath())
		if assert.NoError(t, other.Lock(context.Background(), 0), "sleep %d: another process can take the lock", n) {
			locked++
		}
		assert.NoError(t, other.Close())
	}
	r := f.run(t, runStart.Add(6*time.Hour), "-poll=1h")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, len(f.clock.Sleeps()), locked)
	assert.Len(t, f.api.Sends(), 4)
}

func TestRunRetriesWhenTheLockIsHeld(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(time.Hour) // standup is due
	holder := state.OpenLocal(f.statePath())
	holder.SetOperation("herald apply")
	require.NoError(t, holder.Lock(context.Background(), 0))
	t.Cleanup(func() { holder.Close() })
	f.clock.during = func(n int, until time.Time) {
		if n == 1 {
			require.NoError(t, holder.Unlock())
		}
	}
	r := f.run(t, runStart.Add(2*time.Hour), "-poll=10m", "-lock-timeout=0")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z state is locked: "+f.statePath()+".lock is held by pid ")
	assert.Contains(t, r.stdout, "(herald apply, since ")
	assert.Contains(t, r.stdout, "; trying again at 2026-12-01T09:10:00Z\n")
	assert.Equal(t, []string{"09:10 Standup at 09:15"}, sentAt(f.api), "sent at the next wake, once")
	assert.Equal(t, 10*time.Minute, f.clock.Sleeps()[0])
}

func TestRunInterruptedWhileSleeping(t *testing.T) {
	f := newRunFixture(t, "schedule")
	r := f.run(t, runStart.Add(time.Minute), "-poll=1h")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []time.Duration{time.Hour}, f.clock.Sleeps())
	assert.Contains(t, r.stdout, "2026-12-01T08:00:00Z interrupt received")
	assert.Contains(t, r.stdout, "2026-12-01T08:00:00Z stopped: 0 sent, 0 failed, 0 expired, 0 unknown since the start\n")
	assert.Empty(t, f.api.Arrivals())
	assert.Empty(t, r.stderr)

	other := state.OpenLocal(f.statePath())
	assert.NoError(t, other.Lock(context.Background(), 0))
	assert.NoError(t, other.Close())
}

func TestRunInterruptedWhileSending(t *testing.T) {
	// testdata/apply/basic: three messages due at the start.
	f, g := newGatedFixture(t, 0)
	clock := newFakeClock(applyClock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-g.Held() // the first send is in flight
		cancel()
		g.Open()
	}()
	r := f.runCtx(t, ctx, func(e *Env) { e.Now, e.Sleep = clock.Now, clock.Sleep }, "run", "-parallelism=1")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "interrupt received: stopping; sends in flight finish and are recorded first")
	assert.Contains(t, r.stdout, "pass stopped: 1 sent, 0 failed, 0 expired, 0 unknown, 2 not started; the next run or apply carries on\n")
	assert.Contains(t, r.stdout, "stopped: 1 sent, 0 failed, 0 expired, 0 unknown since the start\n")
	assert.Empty(t, clock.Sleeps(), "an interrupted run does not sleep")

	// The send in flight finished and was recorded; nothing else started.
	require.Len(t, f.api.Sends(), 1)
	snap := f.snapshot(t, state.DefaultPath)
	require.Len(t, snap.Records, 1)
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusSent, rec.Status)
		assert.Equal(t, f.api.Sends()[0].Request.Content, map[string]string{
			"message.a": "First for eng", "message.b": "Second for eng", "message.c": "Only for sales",
		}[rec.Address])
	}
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".journal"))

	// The lock was released: apply sends the rest, once each.
	rest := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, rest.code, rest.stderr)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, contents(f.api))
}

func TestRunAbortedBySecondInterrupt(t *testing.T) {
	f, g := newGatedFixture(t, 0)
	clock := newFakeClock(applyClock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	abort := make(chan struct{})
	go func() {
		<-g.Held()
		cancel()
		close(abort)
	}()
	r := f.runCtx(t, ctx, func(e *Env) {
		e.Now, e.Sleep, e.Abort = clock.Now, clock.Sleep, abort
	}, "run", "-parallelism=1")
	assert.Equal(t, 130, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "pass stopped: 0 sent, 0 failed, 0 expired, 1 unknown, 2 not started")
	snap := f.snapshot(t, state.DefaultPath)
	require.Len(t, snap.Records, 1)
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusUnknown, rec.Status)
	}
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".journal"))
}

func TestRunJSONLog(t *testing.T) {
	f := newRunFixture(t, "schedule")
	r := f.run(t, runStart.Add(4*time.Hour), "-poll=1h", "-json")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Empty(t, r.stderr)

	var types []string
	byType := map[string][]map[string]any{}
	for i, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "line %d: %s", i+1, line)
		typ, _ := e["type"].(string)
		require.NotEmpty(t, typ, "line %d", i+1)
		ts, _ := e["timestamp"].(string)
		_, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err, "line %d has a timestamp", i+1)
		types = append(types, typ)
		byType[typ] = append(byType[typ], e)
	}
	assert.Equal(t, "started", types[0])
	assert.Equal(t, "stopped", types[len(types)-1])
	assert.EqualValues(t, 3600, byType["started"][0]["poll_seconds"])
	assert.EqualValues(t, 4, byType["config_loaded"][0]["waiting"])
	require.Len(t, byType["send_result"], 3, "standup, launch and launch_sales by 12:00")
	first := byType["send_result"][0]
	assert.Equal(t, "message.standup", first["address"])
	assert.Equal(t, "sent", first["status"])
	assert.Equal(t, "2026-12-01T09:00:00Z", first["timestamp"])
	sleep := byType["sleep"][0]
	assert.Equal(t, "2026-12-01T09:00:00Z", sleep["wake_at"])
	assert.Equal(t, "2026-12-01T09:00:00Z", sleep["next_send_at"])
	assert.Equal(t, []any{"message.standup"}, sleep["next"])
	require.Len(t, byType["pass"], 2)
	assert.EqualValues(t, 2, byType["pass"][1]["summary"].(map[string]any)["sent"])
	assert.EqualValues(t, 3, byType["stopped"][0]["summary"].(map[string]any)["sent"])
}

func TestRunInvalidConfigurationAtStart(t *testing.T) {
	f := newRunFixture(t, "broken")
	r := f.run(t, runStart.Add(time.Hour))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `The argument "send_at" is required`)
	assert.Contains(t, r.stderr, "main.hcl line 11")
	assert.Empty(t, f.clock.Sleeps(), "run does not start")
	assert.NoFileExists(t, f.statePath()+".lock")
}

func TestRunInvalidConfigurationLater(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(30 * time.Minute)
	f.clock.during = func(n int, until time.Time) {
		switch n {
		case 1: // 08:30 → 08:45
			f.useConfig(t, "broken")
		case 3: // 09:00 → 09:15: invalid at two wakes, standup's among them
			f.useConfig(t, "changed")
		}
	}
	r := f.run(t, runStart.Add(2*time.Hour), "-poll=15m")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	// Nothing is sent while it is invalid; the errors are shown once.
	assert.Equal(t, 1, strings.Count(r.stderr, `The argument "send_at" is required`), r.stderr)
	assert.Contains(t, r.stdout, "2026-12-01T08:45:00Z configuration invalid (errors above): nothing is sent until it is fixed; reading it again at 2026-12-01T09:00:00Z\n")
	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z configuration still invalid (same errors): nothing is sent until it is fixed; reading it again at 2026-12-01T09:15:00Z\n")
	assert.NotContains(t, r.stdout, "nothing waiting", "while the configuration is invalid, run does not know")
	// The fixed configuration is picked up, its messages sent.
	assert.Contains(t, r.stdout, "2026-12-01T09:15:00Z config reloaded: 3 messages waiting\n")
	assert.Equal(t, []string{
		"09:15 Standup at 09:15",
		"09:30 Reminder: launch checklist",
	}, sentAt(f.api))
	assert.Equal(t, []time.Duration{15 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}, f.clock.Sleeps()[:4])
}

func TestRunOnce(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(150 * time.Minute) // 10:30
	r := f.run(t, time.Time{}, "-once")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Empty(t, f.clock.Sleeps())
	assert.ElementsMatch(t, []string{"10:30 Standup at 09:15", "10:30 Launch is live", "10:30 Launch is live: tell customers"}, sentAt(f.api))
	assert.Contains(t, r.stdout, "herald run: one pass, state herald.state.json\n")
	assert.Contains(t, r.stdout, "stopped: 3 sent, 0 failed, 0 expired, 0 unknown since the start\n")

	again := f.run(t, time.Time{}, "-once")
	require.Equal(t, 0, again.code, again.stderr)
	assert.Len(t, f.api.Sends(), 3, "nothing is sent twice")

	f.api.RejectThread("t-sales", http.StatusBadRequest, "thread is archived")
	f.clock.now = runStart.Add(5 * time.Hour)
	failed := f.run(t, time.Time{}, "-once")
	assert.Equal(t, 1, failed.code, "a failed send fails -once, as it fails apply")
	assert.Contains(t, failed.stdout, "message.wrapup failed: ")

	holder := state.OpenLocal(f.statePath())
	require.NoError(t, holder.Lock(context.Background(), 0))
	defer holder.Close()
	busy := f.run(t, time.Time{}, "-once", "-lock-timeout=0")
	assert.Equal(t, 1, busy.code)
	assert.Contains(t, busy.stderr, "state is locked")
}

func TestRunOnceExclude(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(150 * time.Minute) // 10:30
	r := f.run(t, time.Time{}, "-once", "-exclude=message.launch_sales")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.ElementsMatch(t, []string{"10:30 Standup at 09:15", "10:30 Launch is live"}, sentAt(f.api))

	r = f.run(t, time.Time{}, "-once", "-target=message.launch_sales", "-target=message.wrapup", "-exclude=message.wrapup")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.ElementsMatch(t, []string{"10:30 Standup at 09:15", "10:30 Launch is live", "10:30 Launch is live: tell customers"}, sentAt(f.api))
}

func TestRunSandbox(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.env = map[string]string{} // no credentials
	r := f.run(t, runStart.Add(2*time.Hour), "-sandbox", "-poll=1h")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "sandbox: sending to an in-process A1Base sandbox at http://")
	assert.Contains(t, r.stdout, `2026-12-01T09:00:00Z sandbox received → thread t-eng (whatsapp) from +14155552671: "Standup at 09:15"`)
	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z message.standup sent (attempt 1)\n")
	assert.Empty(t, f.api.Arrivals(), "the sandbox is in process")
	assert.NoFileExists(t, f.statePath())
	assert.Len(t, f.snapshot(t, SandboxStatePath).Records, 1)
	// The sandbox's threads are kept for import -sandbox and the next run.
	threads, err := os.ReadFile(filepath.Join(f.dir, "herald.sandbox.threads.json"))
	require.NoError(t, err)
	assert.Contains(t, string(threads), `"body": "Standup at 09:15"`)
}

func TestRunNeedsCredentials(t *testing.T) {
	f := newRunFixture(t, "schedule")
	delete(f.env, "A1BASE_API_SECRET")
	r := f.run(t, runStart.Add(time.Hour))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "A1BASE_API_SECRET is not set")
	assert.Empty(t, f.clock.Sleeps())
}

func TestRunLooksUnknownMessagesUpOnce(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(time.Hour)
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	r := f.run(t, runStart.Add(3*time.Hour), "-poll=15m", "-target=message.standup")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z message.standup unknown: ")
	assert.Contains(t, r.stdout, "not sent again unless herald apply -replace=message.standup")
	lookups := 0
	for _, a := range f.api.Arrivals() {
		if a.Method == http.MethodGet {
			lookups++
		}
	}
	assert.Equal(t, 2, lookups, "looked up right after the send and at the next wake, which settles it, then left alone")
	assert.Equal(t, 1, strings.Count(r.stdout, "message.standup: not delivered, proven by look-up at 2026-12-01T09:15:00Z read 0 messages"), r.stdout)
	assert.Len(t, f.api.Arrivals(), 3, "one send, two look-ups")
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-poll=0s"}, "-poll must be a positive duration"},
		{[]string{"-lock-timeout=-1s"}, "-lock-timeout must not be negative"},
		{[]string{"-parallelism=0"}, "-parallelism must be at least 1"},
		{[]string{"extra"}, `run takes no arguments, got "extra"`},
		{[]string{"-at=2026-12-01T09:00:00Z"}, "flag provided but not defined: -at"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			f := newRunFixture(t, "schedule")
			r := f.run(t, time.Time{}, tt.args...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Contains(t, r.stderr, "Usage: herald run [options]")
		})
	}
}

func TestRunBacksOffFailedMessages(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(time.Hour) // standup is due
	f.api.RejectThread("t-eng", http.StatusBadRequest, "thread is archived")
	f.clock.during = func(n int, until time.Time) {
		if until.Equal(runStart.Add(130 * time.Minute)) {
			f.api.AcceptThread("t-eng")
		}
	}
	r := f.run(t, runStart.Add(3*time.Hour), "-poll=10m", "-target=message.standup")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	var tries []string
	for _, a := range f.api.Arrivals() {
		if a.Method == http.MethodPost {
			tries = append(tries, a.Arrived.UTC().Format("15:04")+" "+http.StatusText(a.Status))
		}
	}
	// Tried again a poll after failing, then twice as long after each
	// further failure, until A1Base takes it.
	assert.Equal(t, []string{"09:00 Bad Request", "09:10 Bad Request", "09:30 Bad Request", "10:10 OK"}, tries)
	assert.Equal(t, 3, strings.Count(r.stdout, "message.standup failed: "), r.stdout)
	assert.Contains(t, r.stdout, "2026-12-01T10:10:00Z message.standup sent (attempt 4)\n")
}

func TestRunRefusesAMovedState(t *testing.T) {
	f := newRunFixture(t, "schedule")
	cfg := filepath.Join(f.dir, "main.hcl")
	f.clock.during = func(n int, until time.Time) {
		switch n {
		case 1: // 08:00 → 09:00
			src, err := os.ReadFile(cfg)
			require.NoError(t, err)
			pg := "\nbackend \"postgres\" {\n  conn_str = \"postgres://herald:s3cret@db.invalid/herald\"\n}\n"
			require.NoError(t, os.WriteFile(cfg, append(src, pg...), 0o644))
		case 2: // 09:00 → 10:00
			f.useConfig(t, "schedule")
		}
	}
	r := f.run(t, runStart.Add(2*time.Hour+15*time.Minute), "-poll=1h")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "2026-12-01T09:00:00Z error: the configuration's backend block changed since herald run started; restart herald run to use the new state (nothing is sent until then); trying again at 2026-12-01T10:00:00Z\n")
	assert.NotContains(t, r.stdout+r.stderr, "s3cret")
	assert.Equal(t, []string{"10:00 Standup at 09:15"}, sentAt(f.api), "sent to the state it started with, once that is back")
}

func TestRunSendsRepeatOccurrences(t *testing.T) {
	f := newRunFixture(t, "repeat")
	r := f.run(t, runStart.Add(4*time.Hour+15*time.Minute), "-poll=1h")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{
		"08:30 Check the queue (08:30)",
		"09:30 Check the queue (09:30)",
		"10:30 Check the queue (10:30)",
		"11:30 Check the queue (11:30)",
	}, sentAt(f.api), "each occurrence at its time, once")
	assert.Equal(t, []time.Duration{30 * time.Minute, time.Hour, time.Hour, time.Hour, time.Hour}, f.clock.Sleeps())
	assert.Contains(t, r.stdout, `2026-12-01T08:30:00Z sleeping until 2026-12-01T09:30:00Z (message.hourly["2026-12-01T09:30:00Z"])`+"\n")
	assert.Contains(t, r.stdout, "2026-12-01T11:30:00Z nothing waiting")
}

// TestRunLooksUnknownMessagesUpOnceSettled: run does not take the lock for
// an unknown message again until a look-up can settle it (unknown_settle
// after the attempt), then settles it and leaves it alone.
func TestRunLooksUnknownMessagesUpOnceSettled(t *testing.T) {
	f := newRunFixture(t, "schedule")
	f.clock.now = runStart.Add(time.Hour)
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	r := f.run(t, runStart.Add(3*time.Hour), "-poll=2m", "-target=message.standup")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	var gets []time.Time
	for _, a := range f.api.Arrivals() {
		if a.Method == http.MethodGet {
			gets = append(gets, a.Arrived)
		}
	}
	require.Len(t, gets, 2, "right after the send, then once settled:\n%s", r.stdout)
	assert.Contains(t, r.stdout, "message.standup: not delivered, proven by look-up at 2026-12-01T09:06:00Z")
	assert.NotContains(t, r.stdout, "too early", "no pass is made for a look-up that cannot settle")
}
