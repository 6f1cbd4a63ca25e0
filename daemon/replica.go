package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/daemon/service"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/backends"
)

// On the PostgreSQL backend, herald run is one of any number of replicas
// sharing the state: the one holding the state's lock (a session advisory
// lock) is active and sends; the others stand by, each polling for the
// lock on one connection of its own, and the first to get it takes over.
// The active replica keeps the lock across passes, on a connection of its
// own, and checks every lockCheckEvery that the connection still answers
// (within lockCheckTimeout). Every attempt is also fenced where it is
// journaled: the transaction that records it checks that this process's
// lock session still holds the lock and nobody took it since, so nothing
// leaves without a record however late the check above notices a loss.
// When the lock is lost (the check fails, or a record is refused), the
// pass is cancelled at once (nothing new starts; a request already
// written finishes, but one journaled and not yet written never is), and
// the replica stands by again. However late the loss is noticed, no
// request is written more than executor.SendBound after its attempt was
// journaled, so a replica frozen in between (SIGSTOP, a cgroup freezer, a
// paused VM) does not write it when it wakes.
//
// Takeover: PostgreSQL releases the lock as soon as it sees the holder's
// connection close, which is at once when the holder's process dies
// (kill -9 included: the kernel closes its socket). A standby polls every
// standbyPoll, waits takeoverGrace for requests the old holder had
// written to reach A1Base, and then, as apply does, looks the messages
// left without an outcome up in their threads before it sends anything.
// After a network cut, the server notices the silent lock connection
// through TCP keepalives, which herald sets on that connection to answer
// within pgstate.LockReleaseBound; the cut-off holder itself stops
// sending within lockCheckEvery + lockCheckTimeout.
const (
	lockCheckEvery   = time.Second
	lockCheckTimeout = 2 * time.Second
	standbyPoll      = 250 * time.Millisecond
	takeoverGrace    = time.Second
	// standbyRetry is how soon a replica tries the state again after it
	// could not reach it.
	standbyRetry = time.Second
)

// replica is run's hold on a PostgreSQL state, opened once and kept.
type replica struct {
	backend state.LockChecker
	active  bool
	// ctx lasts while this process is active; the watchdog cancels it,
	// with the reason, when the lock is lost.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// lock lasts while this process holds the lock and ends, with the
	// reason, only when the lock is lost or this active term ends: unlike
	// ctx, an interrupt does not end it. No request is written once it
	// has ended (executor.Options.Lock).
	lock   context.Context
	unlock context.CancelCauseFunc
	done   chan struct{}
}

// lockLostError ends a pass whose lock was lost.
type lockLostError struct{ cause error }

func (e *lockLostError) Error() string {
	return fmt.Sprintf("the state lock was lost (%v); standing by", e.cause)
}

func (e *lockLostError) Unwrap() error { return e.cause }

// useReplica reports whether run keeps cfg's state as a replica: a
// PostgreSQL backend, when Options.Replicas allows.
func (s *scheduler) useReplica(cfg *spec.Config) bool {
	return s.opts.Replicas && cfg.Backend != nil && cfg.Backend.Type == "postgres"
}

// openReplica opens the PostgreSQL state once.
func (s *scheduler) openReplica(ctx context.Context, cfg *spec.Config) (state.Backend, error) {
	if s.rep != nil {
		return s.rep.backend, nil
	}
	b, err := s.openShared(ctx, cfg)
	if err != nil {
		return nil, err
	}
	lc, ok := b.(state.LockChecker)
	if !ok {
		b.Close()
		return nil, fmt.Errorf("backend %q cannot be shared by replicas", cfg.Backend.Type)
	}
	s.rep = &replica{backend: lc}
	return b, nil
}

// openShared opens a PostgreSQL state to be shared by replicas.
func openShared(o *Options) func(context.Context, *spec.Config) (state.Backend, error) {
	return func(ctx context.Context, cfg *spec.Config) (state.Backend, error) {
		return backends.Open(ctx, cfg.Backend, backends.Options{Getenv: o.Accounts.Getenv, Operation: "herald run", LockPoll: standbyPoll})
	}
}

// activate waits until this process holds the lock: it stands by while
// another replica holds it, and tries again every standbyRetry while the
// state cannot be reached. It returns only with the lock, or ctx's error.
func (s *scheduler) activate(ctx context.Context) error {
	r := s.rep
	waited, unreachable := false, ""
	for {
		// The first try does not wait, so that a standby says so at once.
		wait := time.Minute
		if !waited {
			wait = 0
		}
		err := r.backend.Lock(ctx, wait)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var le *state.LockedError
		if errors.As(err, &le) {
			s.health.State(nil)
			if !waited || unreachable != "" {
				s.setRole(service.RoleStandby)
				s.events.StandingBy(le.Path, le.Holder)
			}
			waited, unreachable = true, ""
			continue
		}
		s.health.State(err)
		s.metrics.StateError()
		s.setRole(service.RoleStandby)
		if msg := err.Error(); msg != unreachable {
			s.events.StateUnreachable(err, standbyRetry)
			unreachable = msg
		}
		waited = true
		if err := sleepContext(ctx, standbyRetry); err != nil {
			return err
		}
	}
	s.health.State(nil)
	s.metrics.LockAcquired()
	r.active = true
	r.lock, r.unlock = context.WithCancelCause(context.WithoutCancel(ctx))
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	r.done = make(chan struct{})
	go s.watchLock(r)
	s.setRole(service.RoleActive)
	if waited {
		s.events.TookOver()
		// Requests the previous holder wrote may still be on their way;
		// looking its unknown messages up before they land would leave
		// them unknown.
		if err := sleepContext(r.ctx, takeoverGrace); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	} else {
		s.events.Active()
	}
	return nil
}

// watchLock checks the lock's connection until r's active term ends, and
// ends it when the lock is lost.
func (s *scheduler) watchLock(r *replica) {
	defer close(r.done)
	t := time.NewTicker(lockCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		if err := r.backend.CheckLock(r.ctx, lockCheckTimeout); err != nil {
			if r.ctx.Err() != nil {
				return
			}
			s.metrics.StateError()
			r.unlock(err)
			r.cancel(err)
			return
		}
	}
}

// lockLost reports whether the active term ended with the lock lost (or
// err says a record found it lost), and why.
func (s *scheduler) lockLost(err error) error {
	r := s.rep
	if r == nil || !r.active {
		return nil
	}
	if r.ctx.Err() != nil {
		return context.Cause(r.ctx)
	}
	if errors.Is(err, state.ErrLockLost) {
		return err
	}
	return nil
}

// demote ends the active term after the lock was lost: the replica
// forgets the lock and stands by again at the next wake.
func (s *scheduler) demote(cause error) {
	r := s.rep
	r.unlock(cause)
	r.cancel(cause)
	<-r.done
	_ = r.backend.Unlock()
	r.active = false
	s.setRole(service.RoleStandby)
	s.health.State(cause)
	s.events.LockLost(cause)
}

// closeReplica releases the lock, if held, and the connections.
func (s *scheduler) closeReplica() {
	r := s.rep
	if r == nil {
		return
	}
	if r.active {
		r.unlock(context.Canceled)
		r.cancel(context.Canceled)
		<-r.done
	}
	if err := r.backend.Close(); err != nil && !errors.Is(err, state.ErrLockLost) {
		s.events.ReleaseFailed(err)
	}
}

// setRole records the role for /readyz and /metrics.
func (s *scheduler) setRole(role service.Role) {
	s.health.SetRole(role)
	s.metrics.SetActive(role == service.RoleActive)
}
