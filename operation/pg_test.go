package operation

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/planner"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// terminateLockHolder ends the session that holds the state's advisory
// lock, as a database restart or a network cut would.
func terminateLockHolder(t *testing.T, connStr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, connStr)
	require.NoError(t, err)
	defer db.Close(ctx)
	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&n))
	require.Equal(t, 1, n, "one session holds the lock")
	// pg_terminate_backend only signals the session: the lock is gone
	// once it has ended.
	for {
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&n))
		if n == 0 {
			return
		}
		require.NoError(t, ctx.Err(), "the lock outlived its session")
		time.Sleep(10 * time.Millisecond)
	}
}

func TestApplyPostgres(t *testing.T) {
	connStr := pgtest.Start(t)
	ctx := context.Background()
	f := newFixture(t)
	open := func() state.Backend {
		b, err := pgstate.Open(ctx, connStr, "")
		require.NoError(t, err)
		return b
	}

	t.Run("sends due messages once", func(t *testing.T) {
		op := f.op(&recorder{})
		op.Backend = open()
		out, err := Apply(ctx, op)
		require.NoError(t, err)
		assert.Equal(t, 3, out.Result.Summary.Sent)

		again := f.op(&recorder{})
		again.Backend = open()
		out, err = Apply(ctx, again)
		require.NoError(t, err)
		assert.False(t, out.Executed)
		assert.Len(t, f.api.Sends(), 3, "nothing is sent twice")
	})
}

func TestApplyPostgresLockLostMidPass(t *testing.T) {
	connStr := pgtest.Start(t)
	ctx := context.Background()
	f := newFixture(t)
	b, err := pgstate.Open(ctx, connStr, "")
	require.NoError(t, err)

	lost := false
	r := &recorder{beforeSend: func(*planner.Change) {
		// The first send's attempt is journaled; the lock goes before
		// its outcome is.
		if !lost {
			lost = true
			terminateLockHolder(t, connStr)
		}
	}}
	op := f.op(r)
	op.Backend = b
	_, err = Apply(ctx, op)
	require.Error(t, err)
	assert.True(t, errors.Is(err, state.ErrLockLost), "error: %v", err)
	assert.LessOrEqual(t, len(f.api.Arrivals()), 1, "nothing is sent after the lock is lost")

	// The state is another process's to take, and what the lost pass
	// left without an outcome is unknown, not sent again blindly.
	check, err := pgstate.Open(ctx, connStr, "")
	require.NoError(t, err)
	defer check.Close()
	require.NoError(t, check.Lock(ctx, 10*time.Second))
	snap, err := check.Snapshot(ctx)
	require.NoError(t, err)
	require.Len(t, snap.Records, 1)
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusUnknown, rec.Status)
	}
}
