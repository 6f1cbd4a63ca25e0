package command

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// TestMain stops the PostgreSQL server the tests of this package start
// through pgtest, and removes its files.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgConfig is the configuration of the PostgreSQL tests: three messages
// due at the tests' clock (2026-12-01T08:00:00Z) and one later.
const pgConfig = `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

group "sales" {
  thread_id = "t-sales"
  service   = "telegram"
}

message "a" {
  group   = group.eng
  send_at = "2026-12-01T07:00:00Z"
  text    = "First for eng"
}

message "b" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00+01:00"
  text    = "Second for eng"
}

message "c" {
  group   = group.sales
  send_at = "2026-12-01T07:00:00Z"
  text    = "Only for sales"
}

message "later" {
  group   = group.eng
  send_at = "2026-12-02T09:00:00Z"
  text    = "Not yet"
}
`

// pgCheckout is a working directory holding pgConfig and backend, as a
// team member's checkout of the same repository would.
func pgCheckout(t *testing.T, backend string) string {
	t.Helper()
	dir := t.TempDir()
	writeConfig(t, dir, pgConfig+backend)
	return dir
}

func pgBackendBlock(conn string, extra ...string) string {
	return fmt.Sprintf("\nbackend \"postgres\" {\n  conn_str = %q\n%s}\n", conn, strings.Join(extra, ""))
}

// pgFake is the fake A1Base and the environment that sends to it.
func pgFake(t *testing.T) (*a1sandbox.Server, map[string]string) {
	t.Helper()
	srv := a1sandbox.NewServer()
	t.Cleanup(srv.Close)
	return srv, map[string]string{
		"A1BASE_BASE_URL":   srv.URL + "/v1",
		"A1BASE_API_KEY":    "key",
		"A1BASE_API_SECRET": "secret",
	}
}

func planSummary(t *testing.T, dir string, vars map[string]string) map[string]int {
	t.Helper()
	r := runEnv(t, dir, vars, "", "plan", "-json")
	require.Equal(t, 0, r.code, r.stderr)
	var doc struct {
		Summary map[string]int `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc), r.stdout)
	return doc.Summary
}

// Two checkouts with the same backend block share one state: what one
// applies, the other's plan sees, and neither keeps a local file.
func TestPostgresTwoCheckoutsShareState(t *testing.T) {
	conn := pgtest.Start(t)
	srv, vars := pgFake(t)
	a := pgCheckout(t, pgBackendBlock(conn))
	b := pgCheckout(t, pgBackendBlock(conn))

	r := runEnv(t, b, nil, "", "plan", "-detailed-exitcode")
	require.Equal(t, 2, r.code, r.stderr)
	empty := runEnv(t, b, nil, "", "show")
	require.Equal(t, 0, empty.code, empty.stderr)
	assert.Contains(t, empty.stdout, "The state is empty")

	r = runEnv(t, a, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.ElementsMatch(t, []string{"First for eng", "Second for eng", "Only for sales"}, srv.Contents())

	r = runEnv(t, b, nil, "", "plan", "-detailed-exitcode")
	assert.Equal(t, 0, r.code, "the other checkout sees the sends: %s", r.stdout+r.stderr)
	sum := planSummary(t, b, nil)
	assert.Equal(t, 3, sum["noop"])
	assert.Equal(t, 1, sum["wait"])
	assert.Equal(t, 0, sum["send"])

	r = runEnv(t, b, nil, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.a\nmessage.b\nmessage.c\n", r.stdout)
	r = runEnv(t, b, nil, "", "state", "show", "message.b")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sent")
	assert.Contains(t, r.stdout, "t-eng")

	r = runEnv(t, b, nil, "", "show")
	require.Equal(t, 0, r.code, r.stderr)
	u, err := url.Parse(conn)
	require.NoError(t, err)
	assert.Contains(t, r.stdout, "postgres://postgres@"+u.Host+u.Path+" (schema herald)")
	assert.Contains(t, r.stdout, "3 messages recorded.")
	js := runEnv(t, b, nil, "", "show", "-json")
	require.Equal(t, 0, js.code, js.stderr)
	var doc views.StateDocument
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
	assert.Len(t, doc.Records, 3)
	assert.NotZero(t, doc.Serial)

	// Applying from the other checkout sends nothing again.
	r = runEnv(t, b, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, srv.Sends(), 3)

	// state rm in one checkout is seen by the other's plan.
	r = runEnv(t, b, nil, "", "state", "rm", "message.c")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Removed 1 message from postgres://")
	sum = planSummary(t, a, nil)
	assert.Equal(t, 1, sum["send"])
	assert.Equal(t, 2, sum["noop"])

	for _, d := range []string{a, b} {
		assert.NoFileExists(t, filepath.Join(d, state.DefaultPath))
		assert.NoFileExists(t, filepath.Join(d, state.DefaultPath+".lock"))
	}
}

// A held lock is named, with what holds it, and -lock-timeout waits for it.
func TestPostgresStateLocked(t *testing.T) {
	conn := pgtest.Start(t)
	dir := pgCheckout(t, pgBackendBlock(conn))
	_, vars := pgFake(t)
	r := runEnv(t, dir, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	ctx := context.Background()
	holder, err := pgstate.Open(ctx, conn, "", pgstate.WithOperation("herald apply"))
	require.NoError(t, err)
	defer holder.Close()
	require.NoError(t, holder.Lock(ctx, 0))

	for _, args := range [][]string{
		{"state", "rm", "message.a"},
		{"state", "push", "pushed.json"},
		{"apply", "-auto-approve"},
	} {
		if args[1] == "push" {
			pulled := runEnv(t, dir, nil, "", "state", "pull")
			require.Equal(t, 0, pulled.code, pulled.stderr)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "pushed.json"), []byte(pulled.stdout), 0o600))
		}
		r := runEnv(t, dir, vars, "", args...)
		assert.Equal(t, 1, r.code, r.stdout)
		assert.Contains(t, r.stderr, "state is locked")
		assert.Contains(t, r.stderr, "advisory lock")
		assert.Contains(t, r.stderr, "herald apply")
	}
	// Reading needs no lock.
	r = runEnv(t, dir, nil, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.a\nmessage.b\nmessage.c\n", r.stdout)

	require.NoError(t, holder.Unlock())
	r = runEnv(t, dir, nil, "", "state", "rm", "message.a")
	require.Equal(t, 0, r.code, r.stderr)
}

// normalizeTimes gives snap's record times the form PostgreSQL returns
// them in: UTC, whole microseconds.
func normalizeTimes(snap *state.Snapshot) *state.Snapshot {
	out := snap.Clone()
	for _, r := range out.Records {
		r.SendAt = r.SendAt.UTC().Truncate(time.Microsecond)
		r.UpdatedAt = r.UpdatedAt.UTC().Truncate(time.Microsecond)
	}
	return out
}

func encodeState(t *testing.T, snap *state.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, state.Encode(&b, snap))
	return b.String()
}

// A team moves its state from the local file to PostgreSQL and back with
// pull and push, and nothing is lost or sent again on the way.
func TestPostgresPullPushRoundTrip(t *testing.T) {
	conn := pgtest.Start(t)
	srv, vars := pgFake(t)

	// A checkout that has used the local state file so far.
	local := pgCheckout(t, "")
	r := runEnv(t, local, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	file, err := os.ReadFile(filepath.Join(local, state.DefaultPath))
	require.NoError(t, err)
	pulled := runEnv(t, local, nil, "", "state", "pull")
	require.Equal(t, 0, pulled.code, pulled.stderr)
	require.Equal(t, string(file), pulled.stdout, "pull of the local backend is the state file")
	orig, err := state.Decode(bytes.NewReader(file))
	require.NoError(t, err)

	// The backend block is added; the new database takes the local state.
	writeConfig(t, local, pgConfig+pgBackendBlock(conn))
	r = runEnv(t, local, nil, "", "state", "push", state.DefaultPath)
	require.Equal(t, 0, r.code, r.stderr)
	fromPG := runEnv(t, local, nil, "", "state", "pull")
	require.Equal(t, 0, fromPG.code, fromPG.stderr)
	assert.Equal(t, encodeState(t, normalizeTimes(orig)), fromPG.stdout,
		"the same lineage, serial and records, times as PostgreSQL keeps them")
	sum := planSummary(t, local, nil)
	assert.Equal(t, 0, sum["send"], "nothing is sent again after the move")
	assert.Equal(t, 3, sum["noop"])

	// Another checkout sees the moved state.
	other := pgCheckout(t, pgBackendBlock(conn))
	r = runEnv(t, other, nil, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.a\nmessage.b\nmessage.c\n", r.stdout)

	// Older or foreign states are refused, unless forced.
	write := func(name string, s *state.Snapshot) {
		require.NoError(t, os.WriteFile(filepath.Join(local, name), []byte(encodeState(t, s)), 0o600))
	}
	older := orig.Clone()
	older.Serial--
	delete(older.Records, "message.a")
	write("older.json", older)
	foreign := orig.Clone()
	foreign.Lineage = state.NewLineage()
	foreign.Serial += 10
	write("foreign.json", foreign)
	u, err := url.Parse(conn)
	require.NoError(t, err)
	where := "postgres://postgres@" + u.Host + u.Path + " (schema herald)"
	r = runEnv(t, local, nil, "", "state", "push", "older.json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, fmt.Sprintf("refusing to push to %s: the pushed state has serial %d, older than the stored serial %d", where, older.Serial, orig.Serial))
	r = runEnv(t, local, nil, "", "state", "push", "foreign.json")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "they are different states; push with -force")
	unchanged := runEnv(t, local, nil, "", "state", "pull")
	assert.Equal(t, fromPG.stdout, unchanged.stdout, "refused pushes change nothing")

	r = runEnv(t, local, nil, "", "state", "push", "-force", "older.json")
	require.Equal(t, 0, r.code, r.stderr)
	forced := runEnv(t, local, nil, "", "state", "pull")
	got, err := state.Decode(strings.NewReader(forced.stdout))
	require.NoError(t, err)
	assert.Equal(t, orig.Serial+1, got.Serial, "a forced push still makes the serial newer")
	assert.NotContains(t, got.Records, "message.a")
	sum = planSummary(t, other, nil)
	assert.Equal(t, 1, sum["send"], "the forced state lost message.a's record, as asked")

	// And back: the full state again, then into a local file, byte for byte.
	full := orig.Clone()
	full.Serial = got.Serial
	write("full.json", full)
	r = runEnv(t, local, nil, "", "state", "push", "full.json")
	require.Equal(t, 0, r.code, r.stderr)
	back := runEnv(t, local, nil, "", "state", "pull")
	require.Equal(t, 0, back.code, back.stderr)
	writeConfig(t, local, pgConfig)
	require.NoError(t, os.Remove(filepath.Join(local, state.DefaultPath)))
	r = runEnv(t, local, nil, back.stdout, "state", "push", "-")
	require.Equal(t, 0, r.code, r.stderr)
	file, err = os.ReadFile(filepath.Join(local, state.DefaultPath))
	require.NoError(t, err)
	assert.Equal(t, back.stdout, string(file), "PostgreSQL to local file is byte-equal")
	again := runEnv(t, local, nil, "", "state", "pull")
	assert.Equal(t, back.stdout, again.stdout)

	r = runEnv(t, local, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Len(t, srv.Sends(), 3, "nothing was sent twice across the moves")
}

// Without conn_str, the PG* variables of herald's environment name the
// database; the password never shows.
func TestPostgresEnvironmentVariables(t *testing.T) {
	conn := pgtest.Start(t)
	u, err := url.Parse(conn)
	require.NoError(t, err)
	vars := map[string]string{
		"PGHOST":     u.Hostname(),
		"PGPORT":     u.Port(),
		"PGUSER":     u.User.Username(),
		"PGDATABASE": strings.TrimPrefix(u.Path, "/"),
		"PGSSLMODE":  "disable",
		// The test server trusts every connection; the password is only
		// there to be kept out of the output.
		"PGPASSWORD": "hunter2-in-env",
	}
	_, fake := pgFake(t)
	for k, v := range fake {
		vars[k] = v
	}
	dir := pgCheckout(t, "\nbackend \"postgres\" {\n}\n")
	r := runEnv(t, dir, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "hunter2")

	r = runEnv(t, dir, vars, "", "show")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "State: postgres://"+u.User.Username()+"@"+u.Host+u.Path+" (schema herald)")
	assert.NotContains(t, r.stdout, "hunter2")
	assert.NoFileExists(t, filepath.Join(dir, state.DefaultPath))

	// The same database through conn_str sees the same state.
	other := pgCheckout(t, pgBackendBlock(conn))
	r = runEnv(t, other, nil, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "message.a\nmessage.b\nmessage.c\n", r.stdout)

	// A database that does not exist is an error naming it, without
	// the password.
	vars["PGDATABASE"] = "no_such_db"
	r = runEnv(t, dir, vars, "", "state", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no_such_db")
	assert.NotContains(t, r.stderr, "hunter2")
}

// schema_name keeps states apart within one database.
func TestPostgresSchemaName(t *testing.T) {
	conn := pgtest.Start(t)
	_, vars := pgFake(t)
	teamA := pgCheckout(t, pgBackendBlock(conn, "  schema_name = \"team_a\"\n"))
	teamB := pgCheckout(t, pgBackendBlock(conn, "  schema_name = \"team_b\"\n"))

	r := runEnv(t, teamA, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, 3, planSummary(t, teamA, nil)["noop"])
	assert.Equal(t, 3, planSummary(t, teamB, nil)["send"], "team_b's state is its own")

	ctx := context.Background()
	c, err := pgx.Connect(ctx, conn)
	require.NoError(t, err)
	defer c.Close(ctx)
	var n int
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM team_a.messages").Scan(&n))
	assert.Equal(t, 3, n)
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM team_b.messages").Scan(&n))
	assert.Equal(t, 0, n)
	var herald bool
	require.NoError(t, c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'herald')").Scan(&herald))
	assert.False(t, herald, "no default schema was created")
}
