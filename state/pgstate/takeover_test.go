package pgstate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/state"
	"github.com/jackc/pgx/v5"
)

// takeoverBound is the documented, tested bound for a takeover
// (docs/service.md, "How fast a takeover is"): from the moment the old holder's lock session is gone to
// the new holder holding the lock, claim included. The measured time is
// logged; it is about claimLockTimeout.
const takeoverBound = 10 * time.Second

// freezeInRecord starts b.Record(e) and returns once its transaction has
// passed the fence (holding the states row FOR SHARE) and stopped there, as
// a writer does whose process froze or whose network went silent mid-write.
// release lets the write go on; done gives Record's result.
func freezeInRecord(t *testing.T, b *Backend, e state.Event) (release func(), done <-chan error) {
	t.Helper()
	fenced, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.onFenced = func() {
		first := false
		once.Do(func() { first = true })
		if first {
			close(fenced)
			<-resume
		}
	}
	res := make(chan error, 1)
	go func() { res <- b.Record(context.Background(), e) }()
	select {
	case <-fenced:
	case err := <-res:
		t.Fatalf("Record ended before it froze: %v", err)
	}
	var ronce sync.Once
	release = func() { ronce.Do(func() { close(resume) }) }
	// Released before the Backend is closed: the frozen write holds its gate.
	t.Cleanup(release)
	return release, res
}

func terminate(t *testing.T, db *pgx.Conn, pid uint32) {
	t.Helper()
	var ok bool
	if err := db.QueryRow(context.Background(), "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating backend %d: %v %v", pid, ok, err)
	}
}

// idleInTransaction counts the sessions of this database left idle inside
// a transaction, other than db's own.
func idleInTransaction(t *testing.T, db *pgx.Conn) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The old holder froze inside its record transaction, and its lock
// session is gone (the server dropped it after a network cut, or a proxy
// restarted): its transaction still holds the states row FOR SHARE, on a
// pooled connection the server still sees alive. The new holder's claim
// must not wait for it.
func TestTakeoverPastAWriterFrozenInItsTransaction(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	record(t, a, attempt("message.a", 1, t0))
	release, done := freezeInRecord(t, a, outcome("message.a", 1, t0, state.StatusSent))
	db := admin(t, conn)
	terminate(t, db, a.lock.backendPID)

	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*takeoverBound)
	defer cancel()
	start := time.Now()
	err := b.Lock(ctx, time.Minute)
	took := time.Since(start)
	t.Logf("lock taken over past a writer frozen in its transaction in %s (bound %s)", took.Round(time.Millisecond), takeoverBound)
	if err != nil {
		t.Fatalf("Lock past a frozen writer: %v (after %s)", err, took.Round(time.Millisecond))
	}
	if took > takeoverBound {
		t.Errorf("takeover took %s, over the %s bound", took, takeoverBound)
	}
	if n := idleInTransaction(t, db); n != 0 {
		t.Errorf("%d sessions still idle in transaction after the takeover", n)
	}

	// The frozen writer wakes up: its transaction was ended, nothing of
	// it is stored, and the send it was recording is unknown.
	release()
	if err := <-done; err == nil {
		t.Error("the frozen writer's Record succeeded after the takeover")
	}
	r := snapshot(t, b).Records["message.a"]
	if r == nil || r.Status != state.StatusUnknown {
		t.Errorf("message.a after the takeover: %+v, want unknown", r)
	}
	record(t, b, outcome("message.a", 1, t0, state.StatusSent))
}

// A writer of the holder that still holds the lock is never ended, however
// long it takes: nobody else gets the lock meanwhile, and its write goes
// through.
func TestFrozenWriterOfALiveHolderIsSpared(t *testing.T) {
	conn := newDB(t)
	a := openLocked(t, conn)
	release, done := freezeInRecord(t, a, attempt("message.a", 1, t0))
	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	le := lockedError(t, b.Lock(context.Background(), 2*time.Second))
	if le.Holder == nil || le.Holder.Operation == "" {
		t.Errorf("holder %+v, want the live holder named", le.Holder)
	}
	n, denied, err := b.endStaleWriters(context.Background())
	if err != nil || n != 0 || len(denied) != 0 {
		t.Errorf("endStaleWriters with the holder alive: ended %d, denied %v, %v; want none", n, denied, err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("the live holder's write: %v", err)
	}
	if r := snapshot(t, a).Records["message.a"]; r == nil || r.Status != state.StatusSending {
		t.Errorf("message.a: %+v, want the live holder's attempt", r)
	}
}

// A session that is not herald's (someone's psql) holding the state's rows
// is never ended: the claim gives up after its wait, naming it, and
// releases the lock so that it is not held by a process that cannot use it.
func TestClaimDoesNotEndOtherSessions(t *testing.T) {
	conn := newDB(t)
	open(t, conn) // creates the tables
	ctx := context.Background()
	db := admin(t, conn)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT * FROM herald.states FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	otherPID := db.PgConn().PID()

	b := open(t, conn)
	b.opts.claimWait = 2 * time.Second
	lctx, cancel := context.WithTimeout(ctx, 3*takeoverBound)
	defer cancel()
	err = b.Lock(lctx, 0)
	if err == nil {
		t.Fatal("Lock succeeded while another session holds the states row")
	}
	msg := err.Error()
	t.Logf("claim blocked by another session: %s", msg)
	for _, want := range []string{strconv.Itoa(int(otherPID)), "not herald's"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	// The other session lives on, and the lock was let go.
	if err := tx.Commit(ctx); err != nil {
		t.Errorf("the other session's transaction was ended: %v", err)
	}
	if err := b.Lock(lctx, 10*time.Second); err != nil {
		t.Errorf("Lock once the other session is done: %v", err)
	}
}

// withUser is conn with another user name.
func withUser(t *testing.T, conn, user string) string {
	t.Helper()
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// frozenWriterOfAnotherRole sets up a takeover between two roles: a holds
// the lock as one role, its write frozen in its transaction and its lock
// session ended; it returns a connection string for the other role (named
// roleB), which may write the state but not end a's sessions.
func frozenWriterOfAnotherRole(t *testing.T) (connB string, db *pgx.Conn, a *Backend, roleB string) {
	t.Helper()
	conn := newDB(t)
	ctx := context.Background()
	db = admin(t, conn)
	var dbname string
	if err := db.QueryRow(ctx, "SELECT current_database()").Scan(&dbname); err != nil {
		t.Fatal(err)
	}
	roleA, roleB := dbname+"_a", dbname+"_b"
	for _, r := range []string{roleA, roleB} {
		if _, err := db.Exec(ctx, "CREATE ROLE "+pgx.Identifier{r}.Sanitize()+" LOGIN"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "GRANT CREATE ON DATABASE "+pgx.Identifier{dbname}.Sanitize()+" TO "+pgx.Identifier{r}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	a = openLocked(t, withUser(t, conn, roleA))
	for _, q := range []string{"GRANT USAGE ON SCHEMA herald TO %s", "GRANT ALL ON ALL TABLES IN SCHEMA herald TO %s"} {
		if _, err := db.Exec(ctx, fmt.Sprintf(q, pgx.Identifier{roleB}.Sanitize())); err != nil {
			t.Fatal(err)
		}
	}
	release, done := freezeInRecord(t, a, attempt("message.a", 1, t0))
	t.Cleanup(func() { release(); <-done })
	terminate(t, db, a.lock.backendPID)
	return withUser(t, conn, roleB), db, a, roleB
}

// Without the permission, the claim waits for the server to end the
// frozen write (idle_in_transaction_session_timeout) and takes over then.
func TestClaimWaitsOutAWriterItMayNotEnd(t *testing.T) {
	conn, _, _, _ := frozenWriterOfAnotherRole(t)
	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*takeoverBound)
	defer cancel()
	start := time.Now()
	err := b.Lock(ctx, time.Minute)
	took := time.Since(start)
	t.Logf("lock taken over, the frozen write ended by the server, in %s (idle_in_transaction_session_timeout %s)", took.Round(time.Millisecond), idleInTransactionTimeout)
	if err != nil {
		t.Fatalf("Lock: %v (after %s)", err, took.Round(time.Millisecond))
	}
	if took > idleInTransactionTimeout+takeoverBound {
		t.Errorf("took %s, over %s + %s", took, idleInTransactionTimeout, takeoverBound)
	}
}

// Replicas that connect as different roles may not end each other's
// sessions unless the role is granted pg_signal_backend: the claim says so
// instead of failing obscurely or hanging.
func TestClaimWithoutPermissionToEndAWriter(t *testing.T) {
	conn, db, _, roleB := frozenWriterOfAnotherRole(t)
	ctx := context.Background()
	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	b.opts.claimWait = 2 * time.Second
	lctx, cancel := context.WithTimeout(ctx, 3*takeoverBound)
	defer cancel()
	err := b.Lock(lctx, time.Minute)
	if err == nil {
		t.Fatal("Lock succeeded without ending the frozen writer")
	}
	msg := err.Error()
	t.Logf("claim without permission: %s", msg)
	for _, want := range []string{"pg_signal_backend", roleB} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	// With the grant, the same takeover goes through.
	if _, err := db.Exec(ctx, "GRANT pg_signal_backend TO "+pgx.Identifier{roleB}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(lctx, time.Minute); err != nil {
		t.Fatalf("Lock with pg_signal_backend: %v", err)
	}
}

// showSettings reads settings with SHOW on c.
func showSettings(t *testing.T, c *pgx.Conn, names ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, n := range names {
		var v string
		if err := c.QueryRow(context.Background(), "SHOW "+n).Scan(&v); err != nil {
			t.Fatalf("SHOW %s: %v", n, err)
		}
		got[n] = v
	}
	return got
}

// Every connection herald opens, pooled or the lock's, has the server drop
// it within seconds once its client goes silent, and ends a transaction
// left idle.
func TestConnectionsCarryKeepalivesAndTimeouts(t *testing.T) {
	conn := newDB(t)
	b := openLocked(t, conn)
	want := map[string]string{
		"tcp_keepalives_idle":                 "2",
		"tcp_keepalives_interval":             "1",
		"tcp_keepalives_count":                "3",
		"tcp_user_timeout":                    "5000",
		"idle_in_transaction_session_timeout": "10s",
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	pc, err := b.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Release()
	for what, c := range map[string]*pgx.Conn{"pooled": pc.Conn(), "lock": b.lock.conn} {
		got := showSettings(t, c, names...)
		for n, w := range want {
			if got[n] != w {
				t.Errorf("%s connection: %s = %q, want %q", what, n, got[n], w)
			}
		}
		checkClientKeepalives(t, what, c)
	}

	// A setting the connection string gives is left as given.
	given := open(t, conn+"&idle_in_transaction_session_timeout=60000&options=-c%20tcp_keepalives_idle%3D30")
	gc, err := given.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Release()
	got := showSettings(t, gc.Conn(), "idle_in_transaction_session_timeout", "tcp_keepalives_idle", "tcp_keepalives_count")
	if w := map[string]string{"idle_in_transaction_session_timeout": "1min", "tcp_keepalives_idle": "30", "tcp_keepalives_count": "3"}; !maps.Equal(got, w) {
		t.Errorf("with settings in the connection string: %v, want %v", got, w)
	}
}

// frozenWriterEnv makes the test binary a holder that freezes inside its
// record transaction (see frozenWriter).
const frozenWriterEnv = "HERALD_PGSTATE_FROZEN_WRITER"

// frozenWriter takes the lock on conn, records an attempt, and starts
// recording its outcome; once that transaction is past its fence it says
// "fenced LOCKPID" and waits, to be stopped with SIGSTOP.
func frozenWriter(conn string) int {
	ctx := context.Background()
	b, err := Open(ctx, conn, "", WithOperation("frozen writer helper"))
	if err == nil {
		err = b.Lock(ctx, 0)
	}
	if err == nil {
		err = b.Record(ctx, attempt("message.a", 1, t0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	b.onFenced = func() {
		fmt.Printf("fenced %d\n", b.lock.backendPID)
		// The parent stops, then kills this process; the hour only
		// bounds a parent that died first.
		time.Sleep(time.Hour)
	}
	_ = b.Record(ctx, outcome("message.a", 1, t0, state.StatusSent))
	return 0
}

// A real herald process stopped (SIGSTOP) in the middle of its record
// transaction keeps its sockets open: the kernel still answers for them,
// so keepalives alone do not end that transaction. Once its lock session
// is gone, the new holder takes over within the bound all the same.
func TestTakeoverPastAStoppedProcessMidTransaction(t *testing.T) {
	conn := newDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), frozenWriterEnv+"="+conn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	var lockPID uint32
	if _, serr := fmt.Sscanf(line, "fenced %d\n", &lockPID); err != nil || serr != nil {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	db := admin(t, conn)
	terminate(t, db, lockPID)

	b := open(t, conn, WithLockPoll(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*takeoverBound)
	defer cancel()
	start := time.Now()
	err = b.Lock(ctx, time.Minute)
	took := time.Since(start)
	t.Logf("lock taken over from a stopped process mid-transaction in %s (bound %s)", took.Round(time.Millisecond), takeoverBound)
	if err != nil {
		t.Fatalf("Lock past a stopped process: %v (after %s)", err, took.Round(time.Millisecond))
	}
	if took > takeoverBound {
		t.Errorf("takeover took %s, over the %s bound", took, takeoverBound)
	}
	if r := snapshot(t, b).Records["message.a"]; r == nil || r.Status != state.StatusUnknown {
		t.Errorf("message.a after the takeover: %+v, want unknown", r)
	}
	if n := idleInTransaction(t, db); n != 0 {
		t.Errorf("%d sessions still idle in transaction after the takeover", n)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := b.Lock(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("ran out of time")
	}
}
