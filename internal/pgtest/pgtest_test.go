package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartGivesEachCallItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two calls returned the same database: %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("a table created in one test database is visible in another")
	}
	t.Logf("server start-up took %s", StartupTime())
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5/old?sslmode=disable": "postgres://u:p@h:5/new?sslmode=disable",
		"postgresql://h/":                        "postgresql://h/new",
		"host=h user=u dbname=old":               "host=h user=u dbname=old dbname=new",
	} {
		if got := withDatabase(in, "new"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
	}
	cfg, err := pgx.ParseConfig(withDatabase("host=h user=u dbname=old", "new"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "new" {
		t.Errorf("a later dbname does not win: database %q", cfg.Database)
	}
}

func TestDBNameIsValidAndUnique(t *testing.T) {
	long := "TestSomething/with spaces and/Ü/" + string(make([]byte, 100))
	a, b := dbName(long), dbName(long)
	if a == b {
		t.Fatalf("same name twice: %s", a)
	}
	if len(a) > 63 {
		t.Fatalf("name longer than 63 bytes: %q", a)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("name %q has %q", a, r)
		}
	}
}

func TestRestartKeepsDataAndDropsConnections(t *testing.T) {
	if os.Getenv(EnvConnStr) != "" {
		t.Skipf("%s names a server this test binary did not start, so it cannot restart it", EnvConnStr)
	}
	ctx := context.Background()
	conn := Start(t)
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	Restart(t)
	if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("a connection made before the restart still works")
	}
	c2, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatalf("connecting after the restart: %v", err)
	}
	defer c2.Close(ctx)
	var x int
	if err := c2.QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 7 {
		t.Fatalf("data after the restart: %d, %v", x, err)
	}
}
