package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/addrs"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

func TestNextWake(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	change := func(name string, action planner.Action, sendAt time.Time) *planner.Change {
		addr := addrs.Message{Name: name}
		return &planner.Change{Addr: addr, Action: action, Instance: &spec.Instance{Addr: addr, SendAt: sendAt}}
	}
	now := at(9, 0)
	tests := []struct {
		name     string
		plan     *planner.Plan
		wantWake time.Time
		wantNext []string
	}{
		{"no plan", nil, at(9, 15), nil},
		{"nothing waiting", &planner.Plan{Changes: []*planner.Change{change("a", planner.Noop, at(8, 0))}}, at(9, 15), nil},
		{"next sooner than the poll", &planner.Plan{Changes: []*planner.Change{
			change("late", planner.Wait, at(9, 10)), change("b", planner.Wait, at(9, 5)), change("a", planner.Wait, at(9, 5)),
		}}, at(9, 5), []string{"message.a", "message.b"}},
		{"the poll sooner", &planner.Plan{Changes: []*planner.Change{change("a", planner.Wait, at(11, 0))}}, at(9, 15), []string{"message.a"}},
		{"due during the pass", &planner.Plan{Changes: []*planner.Change{change("a", planner.Wait, at(8, 59))}}, at(8, 59), []string{"message.a"}},
		{"sends are not waits", &planner.Plan{Changes: []*planner.Change{change("a", planner.Send, at(9, 1))}}, at(9, 15), nil},
		{"a thread waiting for an unknown wakes when it settles", &planner.Plan{Changes: []*planner.Change{
			held(change("a", planner.Wait, at(8, 30)), at(9, 4)), change("b", planner.Wait, at(9, 10)),
		}}, at(9, 4), []string{"message.a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wake, _, next := nextWake(tt.plan, now, 15*time.Minute)
			assert.Equal(t, tt.wantWake, wake)
			sort.Strings(next)
			assert.Equal(t, tt.wantNext, next)
		})
	}
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// held is c, due, held until its thread's unknown settles at until.
func held(c *planner.Change, until time.Time) *planner.Change {
	c.Waits = &planner.ThreadWait{For: []addrs.Message{{Name: "lost"}}, Until: until}
	return c
}

func change(name string, action planner.Action) *planner.Change {
	addr := addrs.Message{Name: name}
	return &planner.Change{Addr: addr, Action: action, Instance: &spec.Instance{Addr: addr, SendAt: t0}}
}

func TestDueLeavesRetriesToTheirWait(t *testing.T) {
	s := newScheduler(&Options{Poll: time.Minute, Now: func() time.Time { return t0 }})
	plan := &planner.Plan{Changes: []*planner.Change{change("a", planner.Retry)}}
	assert.True(t, s.due(plan, t0), "a retry this run has not tried yet")
	s.noteFailures([]executor.Failure{{Addr: addrs.Message{Name: "a"}}})
	assert.False(t, s.due(plan, t0.Add(59*time.Second)))
	assert.True(t, s.due(plan, t0.Add(time.Minute)), "a poll interval after the first failure")

	var waits []time.Duration
	for range 9 {
		s.noteFailures([]executor.Failure{{Addr: addrs.Message{Name: "a"}}})
		waits = append(waits, s.retries["message.a"].wait)
	}
	assert.Equal(t, []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		time.Hour, time.Hour, time.Hour, time.Hour}, waits, "twice as long after each failure, up to an hour")

	plan = &planner.Plan{Changes: []*planner.Change{change("w", planner.Wait), change("n", planner.Noop)}}
	assert.False(t, s.due(plan, t0), "nothing to send")
	for _, a := range []planner.Action{planner.Send, planner.Expire} {
		assert.True(t, s.due(&planner.Plan{Changes: []*planner.Change{change("x", a)}}, t0), "%v", a)
	}
}

func TestLookUpDueOncePerSettle(t *testing.T) {
	s := newScheduler(&Options{Poll: time.Minute, Now: func() time.Time { return t0 }})
	c := change("u", planner.Unknown)
	c.Instance.Unknown.Settle = 10 * time.Minute
	c.Record = &state.Record{Status: state.StatusUnknown, Attempts: []state.Attempt{{Number: 1, StartedAt: t0}}}
	plan := &planner.Plan{Changes: []*planner.Change{c}}

	assert.True(t, s.due(plan, t0), "never looked up by this run")
	s.noteLookUps(plan, nil)
	assert.False(t, s.due(plan, t0.Add(time.Minute)), "looked up, and nothing settles before 09:10")
	assert.True(t, s.due(plan, t0.Add(10*time.Minute)), "settled since the last look-up")
	s.lookedUp["message.u"] = t0.Add(10 * time.Minute)
	assert.False(t, s.due(plan, t0.Add(time.Hour)), "looked up after it settled")

	c.Record.Status = state.StatusNotDelivered
	delete(s.lookedUp, "message.u")
	assert.False(t, s.due(plan, t0), "proven not delivered: nothing left to look up")
}

// recorder is Events that keeps what it is told, one line each.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *recorder) Listening(addr string) { r.add("listening") }
func (r *recorder) WebhookRefused(res WebhookResult) {
	r.add("webhook_refused %d %s", res.Status, res.Reason)
}
func (r *recorder) InboxFailed(err error) { r.add("inbox_failed %v", err) }
func (r *recorder) Started(s Start)       { r.add("started once=%v state=%s", s.Once, s.State) }
func (r *recorder) Sandbox(url, statePath string) {
	r.add("sandbox")
}
func (r *recorder) Diagnostics(w, e []byte) { r.add("diagnostics %q %q", w, e) }
func (r *recorder) ConfigLoaded(waiting int, reloaded bool) {
	r.add("config_loaded %d %v", waiting, reloaded)
}
func (r *recorder) ConfigInvalid(unchanged bool, _ time.Time) {
	r.add("config_invalid unchanged=%v", unchanged)
}
func (r *recorder) LockBusy(err error, _ time.Time)   { r.add("lock_busy") }
func (r *recorder) PassFailed(err error, _ time.Time) { r.add("error %v", err) }
func (r *recorder) Sleeping(s Sleep)                  { r.add("sleep %s", s.WakeAt.Format("15:04")) }
func (r *recorder) Interrupting()                     { r.add("interrupted") }
func (r *recorder) Aborting()                         { r.add("aborted") }
func (r *recorder) Stopped(t Totals)                  { r.add("stopped %+v", t) }
func (r *recorder) Active()                           { r.add("active") }
func (r *recorder) TookOver()                         { r.add("takeover") }
func (r *recorder) StandingBy(lock string, _ *state.LockInfo) {
	r.add("standby %s", lock)
}
func (r *recorder) StateUnreachable(err error, _ time.Duration) { r.add("state_unreachable %v", err) }
func (r *recorder) LockLost(err error)                          { r.add("lock_lost") }
func (r *recorder) ReleaseFailed(err error)                     { r.add("release_failed %v", err) }

// fixture is a run with the command's pieces faked: a configuration
// whose plan is plan(now), a local state, an Apply that records when it
// was called and answers with pass, and a clock that sleeps at once.
type fixture struct {
	mu     sync.Mutex
	now    time.Time
	sleeps int
	// stopAfter cancels the run after that many sleeps.
	stopAfter int
	cancel    context.CancelFunc
	plan      func(now time.Time) *planner.Plan
	load      func() error
	warnings  []byte
	pass      func(p Pass) (PassResult, error)
	applied   []string
	ev        *recorder
	opts      Options
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{now: t0, ev: &recorder{}, stopAfter: 1 << 30,
		plan: func(time.Time) *planner.Plan { return &planner.Plan{} },
		pass: func(p Pass) (PassResult, error) { return PassResult{Executed: true}, nil },
	}
	sandbox := accounts.NewSandbox(nil, nil)
	t.Cleanup(sandbox.Close)
	dir := t.TempDir()
	f.opts = Options{
		Poll: time.Minute, Sandbox: sandbox,
		Accounts: accounts.Env{Getenv: func(string) string { return "" }},
		Load: func() (*Loaded, error) {
			if f.load != nil {
				if err := f.load(); err != nil {
					return nil, err
				}
			}
			return &Loaded{
				Config: &spec.Config{Hash: "h"}, Warnings: f.warnings,
				Plan: func(context.Context, state.Backend) (*planner.Plan, error) {
					return f.plan(f.clock()), nil
				},
			}, nil
		},
		OpenState: func(context.Context, *spec.Config) (state.Backend, error) {
			return state.OpenLocal(filepath.Join(dir, "herald.state.json")), nil
		},
		DescribeState: func(state.Backend) string { return "herald.state.json" },
		Apply: func(ctx context.Context, p Pass) (PassResult, error) {
			f.mu.Lock()
			f.applied = append(f.applied, f.now.Format("15:04"))
			f.mu.Unlock()
			return f.pass(p)
		},
		Events: f.ev,
		Now:    f.clock,
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			f.now = f.now.Add(d)
			f.sleeps++
			if f.sleeps >= f.stopAfter && f.cancel != nil {
				f.cancel()
			}
			f.mu.Unlock()
			return ctx.Err()
		},
	}
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) run(t *testing.T) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	return Run(ctx, f.opts)
}

func TestRunOnceMakesOnePass(t *testing.T) {
	f := newFixture(t)
	f.opts.Once = true
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send), change("b", planner.Wait)}}
	}
	var got Pass
	f.pass = func(p Pass) (PassResult, error) {
		got = p
		return PassResult{Executed: true, Summary: executor.Summary{Sent: 1}}, nil
	}
	require.NoError(t, f.run(t))
	assert.Equal(t, []string{"09:00"}, f.applied)
	assert.False(t, got.KeepLock, "a local state is unlocked after each pass")
	assert.Nil(t, got.Lock)
	assert.NotNil(t, got.Client)
	assert.NotNil(t, got.Limiters)
	assert.Equal(t, []string{"started once=true state=herald.state.json", "sandbox", "config_loaded 1 false", "stopped {Sent:1 Failed:0 Expired:0 Unknown:0}"}, f.ev.list())

	f = newFixture(t)
	f.opts.Once = true
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	f.pass = func(p Pass) (PassResult, error) {
		return PassResult{Executed: true, Summary: executor.Summary{Failed: 1}}, nil
	}
	assert.ErrorIs(t, f.run(t), ErrReported, "-once exits 1 when a send failed")
}

// TestRunBacksOffAFailingMessage: a message that keeps failing is tried
// a poll interval after its first failure, then twice as long after each
// further one, while the run wakes at every poll.
func TestRunBacksOffAFailingMessage(t *testing.T) {
	f := newFixture(t)
	f.stopAfter = 10
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Retry)}}
	}
	f.pass = func(p Pass) (PassResult, error) {
		plan := f.plan(f.clock())
		return PassResult{Plan: plan, Executed: true, Summary: executor.Summary{Failed: 1, Failures: []executor.Failure{{Addr: plan.Changes[0].Addr}}}}, nil
	}
	require.NoError(t, f.run(t))
	assert.Equal(t, []string{"09:00", "09:01", "09:03", "09:07"}, f.applied)
	ev := f.ev.list()
	assert.Equal(t, "interrupted", ev[len(ev)-2])
	assert.Equal(t, "stopped {Sent:0 Failed:4 Expired:0 Unknown:0}", ev[len(ev)-1])
}

func TestRunRidesOutAnInvalidConfiguration(t *testing.T) {
	f := newFixture(t)
	f.stopAfter = 5
	f.warnings = []byte("Warning: w\n")
	invalid := &InvalidConfig{Warnings: f.warnings, Errors: []byte("Error: bad\n")}
	f.load = func() error {
		switch f.clock().Sub(t0) {
		case 2 * time.Minute, 3 * time.Minute:
			return invalid
		}
		return nil
	}
	require.NoError(t, f.run(t))
	assert.Equal(t, []string{
		`diagnostics "Warning: w\n" ""`, "started once=false state=herald.state.json", "sandbox", "config_loaded 0 false", "sleep 09:01",
		`diagnostics "Warning: w\n" "Error: bad\n"`, "config_invalid unchanged=false",
		"config_invalid unchanged=true",
		`diagnostics "Warning: w\n" ""`, "config_loaded 0 true", "sleep 09:05",
		"interrupted", "stopped {Sent:0 Failed:0 Expired:0 Unknown:0}",
	}, f.ev.list())

	f = newFixture(t)
	f.load = func() error { return invalid }
	assert.ErrorIs(t, f.run(t), ErrReported, "invalid at the start")
}

func TestRunStopsOnASecondInterrupt(t *testing.T) {
	f := newFixture(t)
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	f.pass = func(p Pass) (PassResult, error) {
		f.cancel()
		return PassResult{Executed: true, Aborted: true, Summary: executor.Summary{Unknown: 1}}, errors.New("interrupted")
	}
	assert.ErrorIs(t, f.run(t), ErrAborted)
	ev := f.ev.list()
	assert.Equal(t, []string{"interrupted", "aborted", "stopped {Sent:0 Failed:0 Expired:0 Unknown:1}"}, ev[len(ev)-3:])
}

func TestRunReportsABusyLockAndTriesAgain(t *testing.T) {
	f := newFixture(t)
	f.stopAfter = 2
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	busy := true
	f.pass = func(p Pass) (PassResult, error) {
		if busy {
			busy = false
			return PassResult{}, &state.LockedError{Path: "herald.state.json.lock"}
		}
		return PassResult{Executed: true, Summary: executor.Summary{Sent: 1}}, nil
	}
	require.NoError(t, f.run(t))
	assert.Equal(t, []string{"09:00", "09:01"}, f.applied)
	assert.Contains(t, f.ev.list(), "lock_busy")

	f = newFixture(t)
	f.opts.Once = true
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	f.pass = func(p Pass) (PassResult, error) { return PassResult{}, &state.LockedError{Path: "x"} }
	var le *state.LockedError
	assert.ErrorAs(t, f.run(t), &le, "-once returns the busy lock")
}

func TestRunRefusesAnotherBackend(t *testing.T) {
	f := newFixture(t)
	f.opts.Sandbox = nil
	f.opts.Accounts.Getenv = func(k string) string { return "x" }
	f.stopAfter = 2
	loads := 0
	inner := f.opts.Load
	f.opts.Load = func() (*Loaded, error) {
		l, err := inner()
		l.Config.Provider.AccountID = "acct"
		if loads++; loads > 1 {
			l.Config.Backend = &spec.Backend{Type: "postgres", ConnStr: "postgres://elsewhere"}
		}
		return l, err
	}
	require.NoError(t, f.run(t))
	assert.Contains(t, strings.Join(f.ev.list(), "\n"), "error the configuration's backend block changed since herald run started")
}
