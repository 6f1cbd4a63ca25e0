package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/internal/pgtest"
	"github.com/heraldhq/herald/state"
	"github.com/heraldhq/herald/state/pgstate"
)

// importConfig adds to pgConfig two messages with the same text, as a
// daily script would have posted them.
const importConfig = pgConfig + `
message "standup_mon" {
  group   = group.eng
  send_at = "2026-12-01T06:00:00Z"
  text    = "Standup in 15 minutes"
}

message "standup_tue" {
  group   = group.eng
  send_at = "2026-12-01T06:30:00Z"
  text    = "Standup in 15 minutes"
}
`

func TestImportEndToEndLocal(t *testing.T) {
	testImportEndToEnd(t, "", func(t *testing.T, dir string) *state.Snapshot {
		snap, err := state.OpenLocal(filepath.Join(dir, state.DefaultPath)).Snapshot(context.Background())
		require.NoError(t, err)
		return snap
	})
}

func TestImportEndToEndPostgres(t *testing.T) {
	conn := pgtest.Start(t)
	testImportEndToEnd(t, pgBackendBlock(conn), func(t *testing.T, dir string) *state.Snapshot {
		b, err := pgstate.Open(context.Background(), conn, "")
		require.NoError(t, err)
		defer b.Close()
		snap, err := b.Snapshot(context.Background())
		require.NoError(t, err)
		return snap
	})
}

// testImportEndToEnd: a group with a history (the fake holds past posts),
// plan -generate-imports, the blocks written to a file, validate and plan,
// then apply sends only what was never sent; the CLI import then covers
// no match, -force, an address already in state and one that matches
// nothing.
func testImportEndToEnd(t *testing.T, backend string, snapshot func(*testing.T, string) *state.Snapshot) {
	srv, vars := pgFake(t)
	from := "+14155552671"
	srv.AddThreadMessage("t-eng", from, "Standup in 15 minutes", time.Date(2026, 12, 1, 6, 0, 3, 0, time.UTC))     // msg_1
	srv.AddThreadMessage("t-eng", from, "First for eng", time.Date(2026, 12, 1, 7, 0, 2, 0, time.UTC))             // msg_2
	srv.AddThreadMessage("t-eng", "+14155550199", "Second for eng", time.Date(2026, 12, 1, 7, 31, 0, 0, time.UTC)) // a member
	dir := t.TempDir()
	writeConfig(t, dir, importConfig+backend)

	r := runEnv(t, dir, map[string]string{}, "", "plan", "-generate-imports")
	require.Equal(t, 1, r.code, "reading threads needs credentials")
	require.Contains(t, r.stderr, "A1BASE_API_KEY")

	r = runEnv(t, dir, vars, "", "plan", "-generate-imports")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `# Found in the thread of group eng, sent 2026-12-01T06:00:03Z.
import {
  to = message.standup_mon
  id = "msg_1"
}

# Found in the thread of group eng, sent 2026-12-01T07:00:02Z.
import {
  to = message.a
  id = "msg_2"
}
`, r.stdout)
	require.Contains(t, r.stderr, "Found 2 of 5")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "imports.hcl"), []byte(r.stdout), 0o644))

	r = runEnv(t, dir, vars, "", "validate")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, map[string]int{"send": 3, "retry": 0, "import": 2, "wait": 1, "noop": 0, "drift": 0, "expire": 0, "unknown": 0, "orphan": 0}, planSummary(t, dir, vars))
	r = runEnv(t, dir, vars, "", "plan", "-no-color")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "~> message.a will be imported (recorded as sent, never sent)")
	require.Contains(t, r.stdout, "2 to import")
	r = runEnv(t, dir, vars, "", "plan", "-markdown")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "| import |")

	r = runEnv(t, dir, vars, "", "apply", "-auto-approve")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "message.a: found in its thread (message msg_2 of 2026-12-01T07:00:02Z): imported, recorded as sent")
	require.ElementsMatch(t, []string{"Second for eng", "Only for sales", "Standup in 15 minutes"}, srv.Contents(),
		"apply sends only what was never sent: the second standup, not the imported first")

	snap := snapshot(t, dir)
	a := snap.Records["message.a"]
	require.Equal(t, state.StatusSent, a.Status)
	require.Equal(t, state.ImportedFound, a.Imported)
	require.Equal(t, "msg_2", a.Answer.MessageID)
	require.Equal(t, "2026-12-01T07:00:02Z", a.Answer.DateCreated)
	require.Equal(t, "msg_1", snap.Records["message.standup_mon"].Answer.MessageID)
	require.Empty(t, snap.Records["message.standup_tue"].Imported, "sent by herald")

	// Applied, the import blocks do nothing and can stay.
	sum := planSummary(t, dir, vars)
	require.Equal(t, 0, sum["import"])
	require.Equal(t, 5, sum["noop"])

	// The command line.
	r = runEnv(t, dir, vars, "", "import", "message.later")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "message.later: not found in its thread's recent messages from +14155552671: not imported, nothing recorded")
	require.NotContains(t, snapshot(t, dir).Records, "message.later")
	r = runEnv(t, dir, vars, "", "import", "-force", "message.later")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, state.ImportedForced, snapshot(t, dir).Records["message.later"].Imported)
	r = runEnv(t, dir, vars, "", "import", "message.a")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "message.a is already in state as sent")
	r = runEnv(t, dir, vars, "", "import", "message.nope")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "message.nope matches no message in the configuration")

	// state list marks the imported records on a terminal, and prints
	// the bare addresses to a pipe.
	r = runEnv(t, dir, vars, "", "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "message.a\nmessage.b\nmessage.c\nmessage.later\nmessage.standup_mon\nmessage.standup_tue\n", r.stdout)
	r = runTerminal(t, dir, vars, "state", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "message.a  (imported)\nmessage.b\nmessage.c\nmessage.later  (imported without evidence)\nmessage.standup_mon  (imported)\nmessage.standup_tue\n", r.stdout)

	r = runEnv(t, dir, vars, "", "state", "show", "message.a")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "found in the thread's recent messages")
	require.Contains(t, r.stdout, "msg_2")
	r = runEnv(t, dir, vars, "", "state", "show", "message.later")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "without evidence")
	r = runEnv(t, dir, vars, "", "state", "show", "message.b")
	require.NotContains(t, r.stdout, "imported")
	require.Len(t, srv.Contents(), 3, "no import sent anything")
}

// An import block whose message the thread does not show records nothing,
// sends nothing, and apply says so and fails; the CLI with -force then
// records it. Two messages with the same text each take their own thread
// message, the earliest the earliest, through the command line too.
func TestImportBlockNotFound(t *testing.T) {
	srv, vars := pgFake(t)
	from := "+14155552671"
	srv.AddThreadMessage("t-eng", from, "Standup in 15 minutes", time.Date(2026, 12, 1, 6, 30, 3, 0, time.UTC))
	dir := t.TempDir()
	writeConfig(t, dir, importConfig+`
import {
  to = message.c
}
`)
	r := runEnv(t, dir, vars, "", "apply", "-auto-approve", "-json")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	var sawImport bool
	for _, line := range splitLines(r.stdout) {
		var e struct {
			Type    string `json:"type"`
			Address string `json:"address"`
			Found   *bool  `json:"found"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		if e.Type == "imported" {
			sawImport = true
			require.Equal(t, "message.c", e.Address)
			require.False(t, *e.Found)
		}
	}
	require.True(t, sawImport, r.stdout)
	require.NotContains(t, srv.Contents(), "Only for sales", "an import block never sends")
	snap, err := state.OpenLocal(filepath.Join(dir, state.DefaultPath)).Snapshot(context.Background())
	require.NoError(t, err)
	require.NotContains(t, snap.Records, "message.c")

	// Two messages with the same text and one thread message: the
	// import takes it once.
	dir2 := t.TempDir()
	writeConfig(t, dir2, importConfig)
	srv2 := a1sandbox.NewServer()
	t.Cleanup(srv2.Close)
	vars2 := map[string]string{"A1BASE_BASE_URL": srv2.URL + "/v1", "A1BASE_API_KEY": "k", "A1BASE_API_SECRET": "s"}
	srv2.AddThreadMessage("t-eng", from, "Standup in 15 minutes", time.Date(2026, 12, 1, 6, 30, 3, 0, time.UTC)) // msg_1
	r = runEnv(t, dir2, vars2, "", "import", "message.standup_tue")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = runEnv(t, dir2, vars2, "", "import", "message.standup_mon")
	require.Equal(t, 1, r.code, "the one thread message is used once")
	snap, err = state.OpenLocal(filepath.Join(dir2, state.DefaultPath)).Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, "msg_1", snap.Records["message.standup_tue"].Answer.MessageID)
	require.NotContains(t, snap.Records, "message.standup_mon")
	require.Empty(t, srv2.Contents())
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestGenerateImportsDailyRepeatTakesNoOlderPost: the thread of a daily
// standup holds the post of two days before (the old script's, or herald's
// own); it is no evidence that today's occurrence went out, so no import
// block is written for it and apply sends it. A post of today's is
// imported; one of yesterday's, after the occurrence before, is not
// either.
func TestGenerateImportsDailyRepeatTakesNoOlderPost(t *testing.T) {
	const config = `
provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "standup" {
  group = group.eng
  repeat {
    cron     = "0 9 * * *"
    timezone = "UTC"
  }
  text = "Standup in 15 minutes"
}
`
	occurrence := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		posted time.Time
		found  bool
	}{
		{name: "two_days_before", posted: occurrence.Add(-48 * time.Hour)},
		{name: "the_day_before", posted: occurrence.Add(-24*time.Hour + 30*time.Second)},
		{name: "today", posted: occurrence.Add(20 * time.Second), found: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, vars := pgFake(t)
			srv.AddThreadMessage("t-eng", "+14155552671", "Standup in 15 minutes", tc.posted) // msg_1
			dir := t.TempDir()
			writeConfig(t, dir, config)
			r := runEnv(t, dir, vars, "", "plan", "-generate-imports", "-at=2026-12-03T09:05:00Z")
			require.Equal(t, 0, r.code, r.stderr)
			if !tc.found {
				require.Empty(t, r.stdout)
				require.Contains(t, r.stderr, "Found 0 of 1")
				return
			}
			require.Contains(t, r.stdout, `to = message.standup["2026-12-03T09:00:00Z"]`)
			require.Contains(t, r.stderr, "Found 1 of 1")
		})
	}
}

// TestImportHintsQuoteAddresses: the commands import suggests for a
// message with a key print the address shell-quoted, ready to paste.
func TestImportHintsQuoteAddresses(t *testing.T) {
	srv, vars := pgFake(t)
	dir := t.TempDir()
	writeConfig(t, dir, backendTestConfig+`
message "m" {
  for_each = toset(["a"])
  group    = group.eng
  send_at  = "2026-12-01T06:00:00Z"
  text     = "Keyed ${each.key}"
}
`)
	r := runEnv(t, dir, vars, "", "import", `message.m["a"]`)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, `not imported, nothing recorded (herald import -force 'message.m["a"]' records it without evidence)`)

	words := splitShell(t, `herald import -force 'message.m["a"]'`)
	r = runEnv(t, dir, vars, "", words[1:]...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = runEnv(t, dir, vars, "", "import", `message.m["a"]`)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `herald state show 'message.m["a"]' shows its record`)
	require.Empty(t, srv.Contents(), "import sends nothing")
}

// runTerminal is runEnv with stdout a terminal (NO_COLOR set, so that
// the output has no colour codes to compare).
func runTerminal(t *testing.T, dir string, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut strings.Builder
	env := &Env{
		Dir: dir, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		StdoutIsTerminal: true,
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return vars[k]
		},
		Environ: func() []string { return nil },
		Now:     func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) },
		Version: "1.2.3",
	}
	code := Main(context.Background(), env, args)
	return result{code, out.String(), errOut.String()}
}
