package pgstate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald/state"
)

// heldLock is the lock as held: a session-level advisory lock on a
// connection of its own, alive as long as that connection is.
type heldLock struct {
	conn       *pgx.Conn
	backendPID uint32
	generation int64
	// since is when the lock was taken, by the default clock (with its
	// monotonic reading).
	since time.Time
	// lost is set once CheckLock found the lock's connection dead (or too
	// slow to answer, and then closed it): from then on nothing is written.
	lost atomic.Bool
	// pinging serialises CheckLock's use of conn.
	pinging sync.Mutex
}

// lockName names the lock in messages.
func (b *Backend) lockName() string {
	return fmt.Sprintf("advisory lock %d on %s", lockKey("state", b.schema), b.describe)
}

// advisoryMatch selects the writer lock's row in pg_locks (as l): a bigint
// key shows as its high half in classid and its low half in objid, with
// objsubid 1, in the current database. hi and lo are the placeholders of
// the halves.
func advisoryMatch(hi, lo string) string {
	return `l.locktype = 'advisory' AND l.objsubid = 1
	AND l.classid::bigint = ` + hi + ` AND l.objid::bigint = ` + lo + `
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`
}

func (b *Backend) keyHalves() (int64, int64) {
	k := uint64(lockKey("state", b.schema))
	return int64(k >> 32), int64(k & 0xffffffff)
}

// Every write transaction marks itself as a writer for its lock session:
// it takes a shared transaction-level advisory lock whose key has
// writerClass as its high half and the lock session's backend pid as its
// low half. pg_locks then tells, for any session inside a write, which lock
// session it writes for, and so whether that session still holds the lock.
func (b *Backend) writerClass() int64 {
	return int64(uint64(lockKey("write", b.schema)) >> 32)
}

func (b *Backend) writerKey(lockPID uint32) int64 {
	return int64(uint64(b.writerClass())<<32 | uint64(lockPID))
}

// Lock takes the exclusive writer lock: pg_try_advisory_lock on a
// connection kept open until Unlock, so that PostgreSQL releases the lock
// when the holder's connection drops, whether the holder exited, was killed
// or lost its network. With timeout 0 it tries once; otherwise it polls until
// timeout has passed or ctx ends. When the lock is held elsewhere it returns
// a *state.LockedError whose Path names the lock and whose Holder is what
// the holder stored (pid, host, operation, since). Locking a Backend that
// already holds the lock does nothing.
//
// Having taken the lock, it stores the holder's note, increments the lock
// generation (which fences off a previous holder that lost the lock without
// knowing), and turns records left sending by an earlier run into unknown,
// which counts as this run's first change.
func (b *Backend) Lock(ctx context.Context, timeout time.Duration) error {
	b.gate.Lock()
	defer b.gate.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	if b.lock != nil {
		b.mu.Unlock()
		return nil
	}
	op := b.operation
	b.mu.Unlock()
	if op == "" {
		op = filepath.Base(os.Args[0])
	}

	conn, err := pgx.ConnectConfig(ctx, b.lockCfg)
	if err != nil {
		return b.fail("connecting to take the lock", err)
	}
	lk, err := b.acquire(ctx, conn, timeout)
	if err == nil {
		var interrupted bool
		interrupted, err = b.claim(ctx, lk, op)
		if err == nil {
			b.mu.Lock()
			b.lock = lk
			b.mu.Unlock()
			b.run.Lock()
			b.changed = interrupted
			b.run.Unlock()
			return nil
		}
	}
	_ = conn.Close(context.Background())
	var le *state.LockedError
	if errors.As(err, &le) {
		return err
	}
	return b.fail("taking the lock", err)
}

// LockTerm is the lock as this Backend holds it: its generation (every
// attempt recorded under it carries it, see state.Attempt.LockGeneration)
// and how long it has been held, by the monotonic clock. ok is false
// without the lock.
func (b *Backend) LockTerm() (generation int64, held time.Duration, ok bool) {
	b.mu.Lock()
	lk := b.lock
	b.mu.Unlock()
	if lk == nil {
		return 0, 0, false
	}
	return lk.generation, clock.Since(lk.since), true
}

// CheckLock checks that the lock's connection is alive: a round trip on
// it within timeout. When the round trip fails, the lock is taken as lost:
// the connection is closed (so that PostgreSQL releases the lock if it was
// only slow), every later write fails with a *state.LockLostError, and the
// error says why. Unlock (or Close) then forgets the lost lock, and Lock
// can take it again. Without the lock it returns state.ErrNotLocked.
func (b *Backend) CheckLock(ctx context.Context, timeout time.Duration) error {
	b.mu.Lock()
	lk := b.lock
	b.mu.Unlock()
	if lk == nil {
		return fmt.Errorf("%w: %s", state.ErrNotLocked, b.describe)
	}
	if lk.lost.Load() {
		return b.lostError(lk)
	}
	lk.pinging.Lock()
	defer lk.pinging.Unlock()
	if lk.lost.Load() {
		return b.lostError(lk)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var pid uint32
	err := lk.conn.QueryRow(pctx, "SELECT pg_backend_pid()").Scan(&pid)
	if err == nil && pid == lk.backendPID {
		return nil
	}
	if ctx.Err() != nil {
		// The caller gave up, which says nothing about the lock.
		return ctx.Err()
	}
	lk.lost.Store(true)
	cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
	_ = lk.conn.Close(cctx)
	ccancel()
	if err == nil {
		err = fmt.Errorf("the connection's backend pid changed from %d to %d", lk.backendPID, pid)
	}
	return &state.LockLostError{Where: b.describe, Cause: fmt.Errorf("its connection (PostgreSQL backend pid %d) did not answer within %s (%s); nothing more is written", lk.backendPID, timeout, b.scrub.text(err.Error()))}
}

func (b *Backend) lostError(lk *heldLock) error {
	return &state.LockLostError{Where: b.describe, Cause: fmt.Errorf("its connection (PostgreSQL backend pid %d) is gone; nothing more is written", lk.backendPID)}
}

// acquire polls pg_try_advisory_lock on conn.
func (b *Backend) acquire(ctx context.Context, conn *pgx.Conn, timeout time.Duration) (*heldLock, error) {
	key := lockKey("state", b.schema)
	start := clock.Now()
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
			if ctx.Err() != nil {
				return nil, b.lockedError(conn, clock.Since(start), ctx.Err())
			}
			return nil, err
		}
		if ok {
			return &heldLock{conn: conn, backendPID: conn.PgConn().PID(), since: clock.Now()}, nil
		}
		waited := clock.Since(start)
		if timeout <= 0 || waited >= timeout {
			return nil, b.lockedError(conn, waited, nil)
		}
		if b.onLockRetry != nil {
			b.onLockRetry()
		}
		t := time.NewTimer(min(b.opts.lockPoll, timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, b.lockedError(conn, clock.Since(start), ctx.Err())
		case <-t.C:
		}
	}
}

// Lock's claim runs with lock_timeout claimLockTimeout. When that passes,
// the claim ends the writes of earlier holders whose lock session is gone
// (endStaleWriters) and tries again, until it has waited claimWait for
// locks that are not herald's or that it may not end.
const (
	claimLockTimeout = time.Second
	defaultClaimWait = 30 * time.Second
)

// SQLSTATEs the claim handles.
const (
	codeLockNotAvailable      = "55P03"
	codeInsufficientPrivilege = "42501"
)

// claim writes the holder's note, fences off earlier holders and marks the
// sends earlier runs left in flight, in one transaction on the lock's
// connection. It reports whether any record changed.
//
// A write of an earlier holder may still be open: one that began before
// that holder's lock session was lost and whose process then froze, or
// whose network went silent, holds the states row FOR SHARE for as long as
// the server thinks its connection alive. The claim does not wait for it:
// it ends such writes, and only those (a session whose lock session still
// holds the lock is never ended, nor a session that is not herald's).
func (b *Backend) claim(ctx context.Context, lk *heldLock, op string) (bool, error) {
	start := clock.Now()
	var denied []int32
	for {
		changed, err := b.claimOnce(ctx, lk, op)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != codeLockNotAvailable || ctx.Err() != nil {
			return changed, err
		}
		_, d, err := b.endStaleWriters(ctx)
		if err != nil {
			return false, fmt.Errorf("ending the writes of an earlier holder: %w", err)
		}
		denied = d
		if clock.Since(start) >= b.opts.claimWait {
			return false, b.claimBlocked(ctx, lk, clock.Since(start), denied)
		}
	}
}

func (b *Backend) claimOnce(ctx context.Context, lk *heldLock, op string) (bool, error) {
	host, _ := os.Hostname()
	var changed bool
	err := pgx.BeginFunc(ctx, lk.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", strconv.Itoa(int(claimLockTimeout/time.Millisecond))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, b.sql(`INSERT INTO {schema}.lock_holder (backend_pid, pid, host, operation, since)
VALUES (pg_backend_pid(), $1, $2, $3, date_trunc('second', now()))
ON CONFLICT (id) DO UPDATE SET backend_pid = EXCLUDED.backend_pid, pid = EXCLUDED.pid,
	host = EXCLUDED.host, operation = EXCLUDED.operation, since = EXCLUDED.since`), os.Getpid(), host, op); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, b.sql("UPDATE {schema}.states SET lock_generation = lock_generation + 1 RETURNING lock_generation")).Scan(&lk.generation); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errNoState
			}
			return err
		}
		rows, err := tx.Query(ctx, b.sql("SELECT "+recordColumns+" FROM {schema}.messages WHERE status = $1 FOR UPDATE"), string(state.StatusSending))
		if err != nil {
			return err
		}
		recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*state.Record, error) { return scanRecord(row) })
		if err != nil {
			return err
		}
		for _, r := range recs {
			if _, err := tx.Exec(ctx, b.sql("UPDATE {schema}.messages SET status = $2, last_error = $3 WHERE address = $1"),
				r.Address, string(state.StatusUnknown), state.InterruptedError(r)); err != nil {
				return err
			}
		}
		if len(recs) > 0 {
			changed = true
			_, err = tx.Exec(ctx, b.sql("UPDATE {schema}.states SET serial = serial + 1"))
		}
		return err
	})
	return changed, err
}

// staleWriters selects (from pg_locks as w) the sessions inside a write
// for a lock session that no longer holds the lock, other than this one.
// $1 is writerClass, $2 and $3 the lock key's halves.
var staleWriters = `FROM pg_locks w
WHERE w.locktype = 'advisory' AND w.objsubid = 1 AND w.granted AND w.classid::bigint = $1
	AND w.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND w.pid <> pg_backend_pid()
	AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.granted AND l.pid = w.objid::bigint AND ` + advisoryMatch("$2", "$3") + `)`

// endStaleWriters ends (pg_terminate_backend) the sessions inside a write
// of an earlier holder whose lock session no longer holds the lock: that
// holder can write nothing more, and its transaction, rolled back, stores
// nothing. It returns how many it ended, and the backend pids it was not
// allowed to end (pg_terminate_backend needs the same role or membership
// in pg_signal_backend).
func (b *Backend) endStaleWriters(ctx context.Context) (int, []int32, error) {
	hi, lo := b.keyHalves()
	rows, err := b.pool.Query(ctx, "SELECT DISTINCT w.pid "+staleWriters+" ORDER BY w.pid", b.writerClass(), hi, lo)
	if err != nil {
		return 0, nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0, nil, err
	}
	var ended int
	var denied []int32
	for _, pid := range pids {
		// Checked again as it is ended, in case it finished meanwhile.
		var ok bool
		err := b.pool.QueryRow(ctx, "SELECT pg_terminate_backend(w.pid) "+staleWriters+" AND w.pid = $4 LIMIT 1", b.writerClass(), hi, lo, pid).Scan(&ok)
		var pe *pgconn.PgError
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case errors.As(err, &pe) && pe.Code == codeInsufficientPrivilege:
			denied = append(denied, pid)
		case err != nil:
			return ended, denied, err
		case ok:
			ended++
		}
	}
	return ended, denied, nil
}

// claimBlocked says why the claim could not get the state's rows within
// claimWait: the sessions holding locks on the state's tables, and which of
// them herald was not allowed to end.
func (b *Backend) claimBlocked(ctx context.Context, lk *heldLock, waited time.Duration, denied []int32) error {
	var parts []string
	if len(denied) > 0 {
		var role string
		_ = b.pool.QueryRow(ctx, "SELECT current_user").Scan(&role)
		parts = append(parts, fmt.Sprintf("PostgreSQL backend pid %s: a write of an earlier holder whose lock is gone, which role %q may not end "+
			"(pg_terminate_backend needs the same role or membership in pg_signal_backend): connect every herald as the same role, "+
			"or GRANT pg_signal_backend TO %s", joinPIDs(denied), role, pgx.Identifier{role}.Sanitize()))
	}
	rows, err := b.pool.Query(ctx, b.sql(`SELECT DISTINCT a.pid, coalesce(a.usename, ''), a.application_name, coalesce(a.state, ''),
	coalesce(to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.mode <> 'AccessShareLock'
	AND l.relation IN ('{schema}.states'::regclass, '{schema}.messages'::regclass, '{schema}.lock_holder'::regclass)
	AND l.pid <> pg_backend_pid() AND l.pid <> $1 AND NOT (l.pid = ANY ($2))
	AND NOT EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = l.pid AND w.locktype = 'advisory' AND w.objsubid = 1 AND w.granted AND w.classid::bigint = $3)
ORDER BY a.pid`), int64(lk.backendPID), append([]int32{}, denied...), b.writerClass())
	if err == nil {
		type other struct {
			pid                       int32
			user, app, state, xactStr string
		}
		others, cerr := pgx.CollectRows(rows, func(row pgx.CollectableRow) (other, error) {
			var o other
			err := row.Scan(&o.pid, &o.user, &o.app, &o.state, &o.xactStr)
			return o, err
		})
		if cerr == nil {
			for _, o := range others {
				what := fmt.Sprintf("PostgreSQL backend pid %d (user %q, application %q, %s", o.pid, o.user, o.app, o.state)
				if o.xactStr != "" {
					what += ", in a transaction since " + o.xactStr
				}
				if strings.HasPrefix(o.app, "herald") {
					// A herald older than this one marks none of its writes.
					parts = append(parts, what+"), which is not a write herald can tell is its own (an older herald's?) and which it leaves alone: end its transaction, and upgrade every herald sharing this state")
					continue
				}
				parts = append(parts, what+"), which is not herald's and which herald leaves alone: end its transaction")
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "another session that holds them")
	}
	return fmt.Errorf("claiming the lock: waited %s for locks on the state's tables, held by %s", waited.Round(time.Second), strings.Join(parts, "; and by "))
}

func joinPIDs(pids []int32) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}

// lockedError describes who holds the lock, as far as the database knows:
// the holder's note when its backend still holds the lock (a note left by a
// holder that died is ignored).
func (b *Backend) lockedError(conn *pgx.Conn, waited time.Duration, cause error) *state.LockedError {
	le := &state.LockedError{Path: b.lockName(), Waited: waited, Cause: cause}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hi, lo := b.keyHalves()
	var (
		pid             int32
		host, operation string
		since           time.Time
	)
	err := conn.QueryRow(ctx, b.sql(`SELECT h.pid, h.host, h.operation, h.since
FROM pg_locks l JOIN {schema}.lock_holder h ON h.backend_pid = l.pid
WHERE l.granted AND `+advisoryMatch("$1", "$2")), hi, lo).Scan(&pid, &host, &operation, &since)
	if err == nil {
		le.Holder = &state.LockInfo{PID: int(pid), Host: host, Operation: operation, Since: since.UTC()}
	}
	return le
}

// fence fails with a *state.LockLostError unless lk is still the lock: its
// session still holds the advisory lock and nobody has taken the lock since. The
// states row is read FOR SHARE, so a new holder's claim (which updates it)
// waits until this transaction ends, and every write after that claim
// fails here. The same statement marks the transaction as a writer for
// lk's session (see writerKey), so that a new holder's claim can end it
// should it stall once lk's session is gone.
func (b *Backend) fence(ctx context.Context, tx pgx.Tx, lk *heldLock) error {
	hi, lo := b.keyHalves()
	var gen int64
	var held bool
	err := tx.QueryRow(ctx, b.sql(`SELECT s.lock_generation,
	EXISTS (SELECT 1 FROM pg_locks l WHERE l.granted AND l.pid = $3 AND `+advisoryMatch("$1", "$2")+`)
FROM {schema}.states s, (SELECT pg_advisory_xact_lock_shared($4)) w FOR SHARE OF s`), hi, lo, int64(lk.backendPID), b.writerKey(lk.backendPID)).Scan(&gen, &held)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errNoState
	case err != nil:
		return err
	case gen != lk.generation:
		return &state.LockLostError{Where: b.describe, Cause: errors.New("another process has taken it since; nothing was written")}
	case !held:
		return &state.LockLostError{Where: b.describe, Cause: fmt.Errorf("its connection (PostgreSQL backend pid %d) is gone, and with it the lock; nothing was written", lk.backendPID)}
	}
	return nil
}

// Unlock releases the lock and closes its connection. When that connection
// was already gone (and the lock with it) it says so. Unlocking a Backend
// that holds no lock does nothing.
func (b *Backend) Unlock() error {
	b.gate.Lock()
	defer b.gate.Unlock()
	return b.unlock()
}

// unlock is Unlock with gate held exclusively.
func (b *Backend) unlock() error {
	b.mu.Lock()
	lk := b.lock
	b.lock = nil
	b.mu.Unlock()
	if lk == nil {
		return nil
	}
	b.run.Lock()
	b.changed = false
	b.run.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.writeTimeout)
	defer cancel()
	lk.pinging.Lock()
	defer lk.pinging.Unlock()
	if lk.lost.Load() {
		// CheckLock closed its connection, and PostgreSQL released it.
		return b.lostError(lk)
	}
	defer lk.conn.Close(ctx)
	// Drop the note first, so that nobody reads a finished run as the
	// holder; if this fails the next holder overwrites it anyway.
	_, err := lk.conn.Exec(ctx, b.sql("DELETE FROM {schema}.lock_holder WHERE backend_pid = pg_backend_pid()"))
	if err == nil {
		var released bool
		err = lk.conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", lockKey("state", b.schema)).Scan(&released)
		if err == nil && !released {
			err = errors.New("the lock was not held")
		}
	}
	if err != nil {
		return b.fail("releasing the lock (backend pid "+strconv.Itoa(int(lk.backendPID))+")", err)
	}
	return nil
}
