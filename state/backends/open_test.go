package backends

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// TestMain runs the tests against a PostgreSQL server started through
// pgtest, and removes its files.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestConnString(t *testing.T) {
	tests := []struct {
		name    string
		connStr string
		vars    map[string]string
		want    string
	}{
		{"conn_str wins", "postgres://u@h/db", map[string]string{"PGHOST": "other"}, "postgres://u@h/db"},
		{"nothing set", "", nil, ""},
		{"PG variables", "", map[string]string{"PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "herald", "PGDATABASE": "ops", "PGSSLMODE": "require"},
			"dbname='ops' host='db.example' port='6543' sslmode='require' user='herald'"},
		{"quoted", "", map[string]string{"PGPASSWORD": `it's a \ secret`}, `password='it\'s a \\ secret'`},
		{"unrelated variables ignored", "", map[string]string{"HOME": "/root", "PGX": "1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.vars[k] }
			assert.Equal(t, tt.want, connString(getenv, tt.connStr))
		})
	}
}

// The settings herald builds from the environment reach the driver intact,
// quotes, spaces and backslashes included.
func TestConnStringParses(t *testing.T) {
	vars := map[string]string{
		"PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "o'brien",
		"PGPASSWORD": `p a\ss'word`, "PGDATABASE": "my db", "PGSSLMODE": "disable",
		"PGAPPNAME": "herald-ci", "PGCONNECT_TIMEOUT": "7",
	}
	cfg, err := pgconn.ParseConfig(connString(func(k string) string { return vars[k] }, ""))
	require.NoError(t, err)
	assert.Equal(t, "db.example", cfg.Host)
	assert.Equal(t, uint16(6543), cfg.Port)
	assert.Equal(t, "o'brien", cfg.User)
	assert.Equal(t, `p a\ss'word`, cfg.Password)
	assert.Equal(t, "my db", cfg.Database)
	assert.Equal(t, "herald-ci", cfg.RuntimeParams["application_name"])
	assert.Equal(t, 7*time.Second, cfg.ConnectTimeout)
	assert.Nil(t, cfg.TLSConfig)
}

func TestCheckConnStrURL(t *testing.T) {
	for s, bad := range map[string]bool{
		"postgres://u:p%40ss@h/db":         false,
		"postgres://u:p@ss@h/db":           true,
		"POSTGRESQL://u:a/b@h/db":          true,
		"postgres://h/db?password=p@ss":    false,
		"host=h password=p@ss":             false,
		"postgres://u@h/db#frag@x":         false,
		"postgresql://u:s3cr3t-pw@h:1/db?": false,
	} {
		err := checkConnStrURL(s)
		assert.Equal(t, bad, err != nil, "%s: %v", s, err)
		if err != nil {
			assert.NotContains(t, err.Error(), "ss@h")
		}
	}
}

func pgBlock(connStr, schema string) *spec.Backend {
	return &spec.Backend{Type: "postgres", ConnStr: connStr, SchemaName: schema,
		DeclRange: hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 3, Column: 1}, End: hcl.Pos{Line: 3, Column: 20}}}
}

func TestOpenLocal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	b, err := Open(context.Background(), nil, Options{LocalPath: path, StateFlag: "s.json", Operation: "herald test"})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, path, b.LocalPath())
	require.NoError(t, b.Lock(context.Background(), 0))

	other := state.OpenLocal(path)
	err = other.Lock(context.Background(), 0)
	var le *state.LockedError
	require.ErrorAs(t, err, &le)
	require.NotNil(t, le.Holder)
	assert.Equal(t, "herald test", le.Holder.Operation)
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, pgBlock("postgres://u:s3cr3t@h:1/db", ""), Options{StateFlag: "local.json"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `-state=local.json names a local state file, but the configuration stores state with backend "postgres" (declared at main.hcl:3,1-20)`)
	assert.NotContains(t, err.Error(), "s3cr3t")

	_, err = Open(ctx, pgBlock("postgres://u:s3@cr3t@h:1/db", ""), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `backend "postgres" (declared at main.hcl:3,1-20): the user name or password in conn_str holds an unencoded '@' or '/'`)
	assert.NotContains(t, err.Error(), "cr3t")

	_, err = Open(ctx, &spec.Backend{Type: "s3"}, Options{})
	assert.EqualError(t, err, `backend "s3" is not available in this build of herald; remove the backend block to use the local state file`)
}

// A database that cannot be reached is an error naming it without the
// password.
func TestOpenUnreachable(t *testing.T) {
	_, err := Open(context.Background(), pgBlock("postgres://herald:s3cr3t-pw@127.0.0.1:1/herald?sslmode=disable&connect_timeout=5", ""), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres://herald@127.0.0.1:1/herald (schema herald)")
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
}

// Without conn_str the PG* variables name the database; the backend
// opened holds its lock under the operation given, and can lose it.
func TestOpenPostgresFromEnvironment(t *testing.T) {
	conn := pgtest.Start(t)
	u, err := url.Parse(conn)
	require.NoError(t, err)
	vars := map[string]string{"PGHOST": u.Hostname(), "PGPORT": u.Port(), "PGDATABASE": u.Path[1:], "PGUSER": u.User.Username()}
	if p, ok := u.User.Password(); ok {
		vars["PGPASSWORD"] = p
	}
	for k, v := range u.Query() {
		if k == "host" {
			vars["PGHOST"] = v[0]
		}
	}
	ctx := context.Background()
	b, err := Open(ctx, pgBlock("", "env_schema"), Options{Getenv: func(k string) string { return vars[k] }, Operation: "herald run", LockPoll: 10 * time.Millisecond})
	require.NoError(t, err)
	defer b.Close()
	assert.Empty(t, b.LocalPath())
	assert.Contains(t, b.Describe(), "(schema env_schema)")
	lc, ok := b.(state.LockChecker)
	require.True(t, ok, "the PostgreSQL backend's lock can be lost")
	require.NoError(t, b.Lock(ctx, 0))
	require.NoError(t, lc.CheckLock(ctx, time.Second))

	other, err := Open(ctx, pgBlock(conn, "env_schema"), Options{})
	require.NoError(t, err)
	defer other.Close()
	err = other.Lock(ctx, 0)
	var le *state.LockedError
	require.ErrorAs(t, err, &le)
	require.NotNil(t, le.Holder)
	assert.Equal(t, "herald run", le.Holder.Operation)

	require.NoError(t, b.Unlock())
	assert.True(t, errors.Is(lc.CheckLock(ctx, time.Second), state.ErrNotLocked))
}
