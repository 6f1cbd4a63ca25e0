package daemon

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/daemon/service"
	"github.com/heraldhq/herald/executor"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// sharedState is a state shared by replicas, faked: Lock answers with
// lockErrs in turn (then takes the lock), and CheckLock with checkErr.
type sharedState struct {
	state.Backend
	mu       sync.Mutex
	lockErrs []error
	// blockWaits makes a Lock that is told to wait block until its
	// context ends, as one does while another replica keeps the lock.
	blockWaits bool
	checkErr   error
	unlocks    int
}

func (b *sharedState) Lock(ctx context.Context, wait time.Duration) error {
	b.mu.Lock()
	block := b.blockWaits && wait > 0
	var err error
	if len(b.lockErrs) > 0 {
		err, b.lockErrs = b.lockErrs[0], b.lockErrs[1:]
	}
	b.mu.Unlock()
	if block {
		<-ctx.Done()
		return &state.LockedError{Path: "pg", Cause: ctx.Err()}
	}
	return err
}

func (b *sharedState) Unlock() error {
	b.mu.Lock()
	b.unlocks++
	b.mu.Unlock()
	return nil
}

func (b *sharedState) CheckLock(ctx context.Context, timeout time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checkErr
}

func (b *sharedState) Close() error { return nil }

// replicaFixture is a fixture whose configuration names a PostgreSQL
// backend, shared as shared.
// Its run returns the role the replica ended in.
func replicaFixture(t *testing.T, shared *sharedState) (*fixture, func(ctx context.Context) (service.Role, error)) {
	f := newFixture(t)
	f.opts.Sandbox, f.opts.Replicas = nil, true
	f.opts.Accounts.Getenv = func(string) string { return "x" }
	inner := f.opts.Load
	f.opts.Load = func() (*Loaded, error) {
		l, err := inner()
		l.Config.Provider.AccountID = "acct"
		l.Config.Backend = &spec.Backend{Type: "postgres", ConnStr: "postgres://db"}
		return l, err
	}
	shared.Backend = must(f.opts.OpenState(context.Background(), nil))
	run := func(ctx context.Context) (service.Role, error) {
		o := f.opts
		o.Now = f.clock
		s := newScheduler(&o)
		s.openShared = func(context.Context, *spec.Config) (state.Backend, error) { return shared, nil }
		err := s.run(ctx)
		return s.health.Role(), err
	}
	return f, run
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestStandbyTakesOver: a replica stands by while another holds the
// lock, rides out an unreachable state, takes the lock over and keeps it
// across its passes.
func TestStandbyTakesOver(t *testing.T) {
	shared := &sharedState{lockErrs: []error{&state.LockedError{Path: "pg"}, &state.LockedError{Path: "pg"}, errors.New("connection refused"), nil}}
	f, run := replicaFixture(t, shared)
	f.stopAfter = 1
	f.plan = func(time.Time) *planner.Plan {
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	var pass Pass
	f.pass = func(p Pass) (PassResult, error) {
		pass = p
		return PassResult{Executed: true, Summary: executor.Summary{Sent: 1}}, nil
	}
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	role, err := run(ctx)
	require.NoError(t, err)
	assert.Equal(t, service.RoleActive, role)
	assert.GreaterOrEqual(t, time.Since(began), standbyRetry+takeoverGrace, "it waits out the retry and the takeover's grace")
	assert.Equal(t, []string{
		"started once=false state=herald.state.json", "standby pg", "state_unreachable connection refused", "takeover",
		"config_loaded 0 false", "sleep 09:01", "interrupted", "stopped {Sent:1 Failed:0 Expired:0 Unknown:0}",
	}, f.ev.list())
	assert.Equal(t, []string{"09:00"}, f.applied)
	assert.True(t, pass.KeepLock, "the active replica keeps the lock across passes")
	require.NotNil(t, pass.Lock)
	assert.ErrorIs(t, context.Cause(pass.Lock), context.Canceled, "the lock's term ends with the run")
}

// TestActiveReplicaStandsByWhenItLosesTheLock: the watchdog finds the lock
// lost, the pass's lock ends with the reason, and the replica stands by
// again.
func TestActiveReplicaStandsByWhenItLosesTheLock(t *testing.T) {
	shared := &sharedState{}
	f, run := replicaFixture(t, shared)
	lost := errors.New("the lock connection is gone")
	var pass Pass
	f.plan = func(time.Time) *planner.Plan {
		if pass.Lock != nil {
			return &planner.Plan{}
		}
		return &planner.Plan{Changes: []*planner.Change{change("a", planner.Send)}}
	}
	f.pass = func(p Pass) (PassResult, error) {
		pass = p
		shared.mu.Lock()
		shared.checkErr, shared.blockWaits = lost, true
		shared.lockErrs = []error{&state.LockedError{Path: "pg"}}
		shared.mu.Unlock()
		return PassResult{Executed: true, Summary: executor.Summary{Sent: 1}}, nil
	}
	// Sleeps take a little real time, so that the watchdog gets to look.
	f.opts.Sleep = func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		f.now = f.now.Add(d)
		f.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		// Stop once it stands by again.
		for ctx.Err() == nil && !slices.Contains(f.ev.list(), "standby pg") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	role, err := run(ctx)
	require.NoError(t, err)
	assert.Equal(t, service.RoleStandby, role)
	assert.Equal(t, []string{
		"started once=false state=herald.state.json", "active", "config_loaded 0 false", "sleep 09:01",
		"lock_lost", "standby pg", "interrupted", "stopped {Sent:1 Failed:0 Expired:0 Unknown:0}",
	}, f.ev.list())
	require.NotNil(t, pass.Lock)
	assert.ErrorIs(t, context.Cause(pass.Lock), lost, "the pass's lock ends with the reason")
	assert.Equal(t, 1, shared.unlocks, "the lost lock is forgotten")
}
