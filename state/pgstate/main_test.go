package pgstate

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/pgtest"
)

// helperEnv makes the test binary a lock holder for TestLockReleasedWhenHolderKilled
// instead of running tests: it takes the lock on the database named by the
// variable, says "locked" and waits to be killed.
const helperEnv = "HERALD_PGSTATE_LOCK_HOLDER"

func TestMain(m *testing.M) {
	if conn := os.Getenv(helperEnv); conn != "" {
		os.Exit(holdLock(conn))
	}
	if conn := os.Getenv(frozenWriterEnv); conn != "" {
		os.Exit(frozenWriter(conn))
	}
	os.Exit(pgtest.Main(m))
}

func holdLock(conn string) int {
	ctx := context.Background()
	b, err := Open(ctx, conn, "", WithOperation("lock holder helper"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := b.Lock(ctx, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("locked")
	// The parent kills this process; the hour only bounds a parent that
	// died first.
	time.Sleep(time.Hour)
	return 0
}
