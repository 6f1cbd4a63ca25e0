package command

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

// applyClock is the clock of the apply tests: a, b and c of
// testdata/apply/basic are due, "later" waits.
var applyClock = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// applyFixture is a working directory holding testdata/apply/basic and a
// fake A1Base whose base URL the environment points at.
type applyFixture struct {
	dir string
	api *a1sandbox.API
	url string
	env map[string]string
}

func newApplyFixture(t *testing.T) *applyFixture {
	t.Helper()
	api := a1sandbox.NewHandler(a1sandbox.WithClock(func() time.Time { return applyClock }))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return newApplyFixtureWith(t, api, srv.URL)
}

func newApplyFixtureWith(t *testing.T, api *a1sandbox.API, url string) *applyFixture {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(testdataDir(t, "apply", "basic", "main.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644))
	return &applyFixture{dir: dir, api: api, url: url, env: map[string]string{
		"A1BASE_BASE_URL":   url + "/v1",
		"A1BASE_API_KEY":    "key-9c1e",
		"A1BASE_API_SECRET": "secret-4d7a",
	}}
}

// run runs herald in the fixture's directory; edit adjusts the
// environment first.
func (f *applyFixture) run(t *testing.T, edit func(*Env), args ...string) result {
	t.Helper()
	return f.runCtx(t, context.Background(), edit, args...)
}

func (f *applyFixture) runCtx(t *testing.T, ctx context.Context, edit func(*Env), args ...string) result {
	t.Helper()
	var out, errOut testkit.SyncBuffer
	env := &Env{
		Dir:     f.dir,
		Stdin:   strings.NewReader(""),
		Stdout:  &out,
		Stderr:  &errOut,
		Getenv:  func(k string) string { return f.env[k] },
		Environ: func() []string { return nil },
		Now:     func() time.Time { return applyClock },
		Version: "1.2.3",
	}
	if edit != nil {
		edit(env)
	}
	code := Main(ctx, env, args)
	return result{code, out.String(), errOut.String()}
}

func (f *applyFixture) snapshot(t *testing.T, name string) *state.Snapshot {
	t.Helper()
	snap, err := state.OpenLocal(filepath.Join(f.dir, name)).Snapshot(context.Background())
	require.NoError(t, err)
	return snap
}

func statuses(snap *state.Snapshot) map[string]state.Status {
	out := map[string]state.Status{}
	for addr, r := range snap.Records {
		out[addr] = r.Status
	}
	return out
}

// contents lists what the fake received, sorted.
func contents(api *a1sandbox.API) []string {
	out := api.Contents()
	sort.Strings(out)
	return out
}

const at = "-at=2026-12-01T08:00:00Z"

func TestApplySendsAndRecords(t *testing.T) {
	f := newApplyFixture(t)
	r := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)

	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, contents(f.api))
	for _, s := range f.api.Sends() {
		assert.Equal(t, "acc_test", s.AccountID)
	}
	snap := f.snapshot(t, state.DefaultPath)
	assert.Equal(t, map[string]state.Status{"message.a": "sent", "message.b": "sent", "message.c": "sent"}, statuses(snap))
	a := snap.Records["message.a"]
	require.NotNil(t, a.Answer)
	assert.Equal(t, "t-eng", a.Answer.ChatGroupID)
	assert.Equal(t, "First for eng", a.Answer.Body)
	require.Len(t, a.Attempts, 1)
	assert.Equal(t, "delivered", a.Attempts[0].Outcome)

	assert.Contains(t, r.stdout, "Plan: 3 to send, 1 waiting.")
	assert.Contains(t, r.stdout, "message.a: sent (attempt 1)\n")
	assert.Contains(t, r.stdout, "Apply complete: 3 sent, 0 failed, 0 expired, 0 unknown.")
	// Groups send in send_at order.
	assert.Less(t, strings.Index(r.stdout, "message.a: sent"), strings.Index(r.stdout, "message.b: sent"))
	assert.NotContains(t, r.stdout+r.stderr, "secret-4d7a")
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".journal"), "the journal is folded")

	again := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, "Nothing to send or expire now.")
	assert.Len(t, f.api.Sends(), 3, "nothing is sent twice")
}

func TestApplyRefusesWithoutTerminal(t *testing.T) {
	f := newApplyFixture(t)
	r := f.run(t, nil, "apply", at)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "standard input is not a terminal")
	assert.Contains(t, r.stderr, "-auto-approve")
	assert.Empty(t, f.api.Arrivals(), "nothing is sent")
	assert.Empty(t, f.snapshot(t, state.DefaultPath).Records)

	// The lock was released.
	ok := f.run(t, nil, "apply", "-auto-approve", at)
	assert.Equal(t, 0, ok.code, ok.stderr)
}

func TestApplyPrompt(t *testing.T) {
	tests := []struct {
		answer   string
		wantCode int
		wantSent int
	}{
		{"yes\n", 0, 3},
		{"  yes  \n", 0, 3},
		{"no\n", 1, 0},
		{"YES\n", 1, 0},
		{"", 1, 0},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			f := newApplyFixture(t)
			r := f.run(t, func(e *Env) {
				e.StdinIsTerminal = true
				e.Stdin = strings.NewReader(tt.answer)
			}, "apply", at)
			assert.Equal(t, tt.wantCode, r.code, r.stderr)
			assert.Contains(t, r.stdout, "Do you want to send these messages?\n  Only 'yes' will be accepted.\n\n  Enter a value: ")
			assert.Len(t, f.api.Sends(), tt.wantSent)
			if tt.wantCode != 0 {
				assert.Contains(t, r.stdout, "Apply cancelled.")
				assert.Empty(t, f.snapshot(t, state.DefaultPath).Records)
			}
		})
	}
}

func TestApplyNeedsCredentials(t *testing.T) {
	tests := []struct {
		name    string
		unset   []string
		want    string
		notWant string
	}{
		{"no key", []string{"A1BASE_API_KEY"}, "A1BASE_API_KEY is not set", ""},
		{"no secret", []string{"A1BASE_API_SECRET"}, "A1BASE_API_SECRET is not set", "key-9c1e"},
		{"neither", []string{"A1BASE_API_KEY", "A1BASE_API_SECRET"}, "A1BASE_API_KEY and A1BASE_API_SECRET are not set", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newApplyFixture(t)
			for _, k := range tt.unset {
				delete(f.env, k)
			}
			r := f.run(t, nil, "apply", "-auto-approve", at)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
			if tt.notWant != "" {
				assert.NotContains(t, r.stderr+r.stdout, tt.notWant)
			}
			assert.Empty(t, f.api.Arrivals())
			assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".lock"), "nothing was locked")
		})
	}
}

func TestApplyNeedsAccountID(t *testing.T) {
	f := newApplyFixture(t)
	cfg := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(src, []byte(`account_id = "acc_test"`), nil, 1), 0o644))

	r := f.run(t, nil, "apply", "-auto-approve", at)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "A1BASE_ACCOUNT_ID")
	assert.Empty(t, f.api.Arrivals())

	f.env["A1BASE_ACCOUNT_ID"] = "acc_env"
	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "acc_env", f.api.Sends()[0].AccountID)
}

func TestApplyPermanentFailure(t *testing.T) {
	f := newApplyFixture(t)
	f.api.RejectThread("t-sales", http.StatusBadRequest, "thread is archived")
	r := f.run(t, nil, "apply", "-auto-approve", at)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, []string{"First for eng", "Second for eng"}, contents(f.api))
	assert.Contains(t, r.stdout, "message.c: failed: ")
	assert.Contains(t, r.stdout, "thread is archived")
	assert.Contains(t, r.stdout, "Apply complete: 2 sent, 1 failed, 0 expired, 0 unknown.")
	snap := f.snapshot(t, state.DefaultPath)
	assert.Equal(t, state.StatusFailed, snap.Records["message.c"].Status)
	assert.Contains(t, snap.Records["message.c"].LastError, "thread is archived")
}

func TestApplyTransientFailureGivesUp(t *testing.T) {
	f := newApplyFixture(t)
	f.api.Script(
		a1sandbox.Reply{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}},
		a1sandbox.Reply{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}},
	)
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c", "-max-attempts=2")
	assert.Equal(t, 1, r.code)
	assert.Regexp(t, `message\.c: retrying in [0-9.]+m?s \(503 service unavailable\)`, r.stdout)
	assert.Contains(t, r.stdout, "message.c: failed: ")
	assert.Contains(t, r.stdout, "gave up after 2 attempts")
	assert.Equal(t, 1, strings.Count(r.stdout, "message.c: failed: "), "a failure is listed once as it happens")
}

func TestApplyFindsLostAnswerAtOnce(t *testing.T) {
	f := newApplyFixture(t)
	f.api.Script(a1sandbox.Reply{Lost: true})
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "message.c: unknown: ")
	assert.Contains(t, r.stdout, "message.c: found in its thread: recorded as sent")
	assert.Contains(t, r.stdout, "Apply complete: 1 sent, 0 failed, 0 expired, 0 unknown.")
	assert.Len(t, f.api.Sends(), 1)
	assert.Equal(t, state.StatusSent, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)
}

func TestApplyUnknownThenReconciled(t *testing.T) {
	f := newApplyFixture(t)
	// The answer is lost and the thread does not show the message yet.
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "message.c: unknown: ")
	assert.Contains(t, r.stdout, "Apply complete: 0 sent, 0 failed, 0 expired, 1 unknown.")
	assert.Contains(t, r.stdout, "herald apply -replace=message.c")
	assert.Equal(t, state.StatusUnknown, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)

	// It shows up in the thread later: the next apply finds it there and
	// does not send it again.
	f.api.AddThreadMessage("t-sales", "+14155552671", "Only for sales", applyClock)
	again := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	require.Equal(t, 0, again.code, again.stdout+again.stderr)
	assert.Contains(t, again.stdout, "message.c: found in its thread: recorded as sent")
	assert.Empty(t, f.api.Sends())
	assert.Equal(t, state.StatusSent, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)
}

func TestApplyReplaceResends(t *testing.T) {
	f := newApplyFixture(t)
	require.Equal(t, 0, f.run(t, nil, "apply", "-auto-approve", at).code)
	r := f.run(t, nil, "apply", "-auto-approve", at, "-replace=message.a")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Apply complete: 1 sent")
	assert.Equal(t, []string{"First for eng", "First for eng", "Only for sales", "Second for eng"}, contents(f.api))
	assert.Len(t, f.snapshot(t, state.DefaultPath).Records["message.a"].Attempts, 2)

	bad := f.run(t, nil, "apply", "-auto-approve", at, "-replace=message.nope")
	assert.Equal(t, 1, bad.code)
	assert.Contains(t, bad.stderr, "message.nope")
	assert.Len(t, f.api.Sends(), 4)
}

func TestApplyPlanFile(t *testing.T) {
	plan := func(t *testing.T, f *applyFixture) {
		t.Helper()
		r := f.run(t, nil, "plan", at, "-out=saved.plan")
		require.Equal(t, 0, r.code, r.stderr)
	}

	t.Run("fresh", func(t *testing.T) {
		f := newApplyFixture(t)
		plan(t, f)
		r := f.run(t, nil, "apply", "saved.plan")
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.NotContains(t, r.stdout, "Enter a value")
		assert.Len(t, f.api.Sends(), 3)
		assert.Contains(t, r.stdout, "Apply complete: 3 sent")
	})

	t.Run("applied twice", func(t *testing.T) {
		// Made from a state never written: its lineage is the plan's own,
		// and the first apply writes another. The second apply must say
		// what happened, not "lineage".
		f := newApplyFixture(t)
		plan(t, f)
		require.Equal(t, 0, f.run(t, nil, "apply", "saved.plan").code)
		r := f.run(t, nil, "apply", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "Error: this plan was already applied: the state moved on from it by exactly the outcomes of its sends (serial 0 then, 1 now); run herald plan for what is due now; nothing was sent")
		assert.NotContains(t, r.stderr, "lineage")
		assert.Len(t, f.api.Sends(), 3, "sent once")

		// Made from a written state, applied, then applied again.
		require.Equal(t, 0, f.run(t, nil, "plan", "-at=2026-12-02T09:30:00Z", "-out=later.plan").code)
		require.Equal(t, 0, f.run(t, nil, "apply", "later.plan").code)
		r = f.run(t, nil, "apply", "later.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "this plan was already applied")
		assert.Contains(t, r.stderr, "(serial 1 then, 2 now)")
	})

	t.Run("applied, then the state changed", func(t *testing.T) {
		f := newApplyFixture(t)
		plan(t, f)
		require.Equal(t, 0, f.run(t, nil, "apply", "saved.plan").code)
		require.Equal(t, 0, f.run(t, nil, "state", "rm", "message.a").code)
		r := f.run(t, nil, "apply", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "the saved plan is stale: the state changed since the plan was made (serial 0 then, 2 now; it may have been applied already)")
	})

	t.Run("configuration changed", func(t *testing.T) {
		f := newApplyFixture(t)
		plan(t, f)
		cfg := filepath.Join(f.dir, "main.hcl")
		src, err := os.ReadFile(cfg)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(cfg, bytes.Replace(src, []byte("Only for sales"), []byte("Only for sales!"), 1), 0o644))
		r := f.run(t, nil, "apply", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "the saved plan is stale")
		assert.Contains(t, r.stderr, "nothing was sent")
		assert.Empty(t, f.api.Arrivals())
	})

	t.Run("state changed", func(t *testing.T) {
		f := newApplyFixture(t)
		require.Equal(t, 0, f.run(t, nil, "apply", "-auto-approve", at, "-target=message.a").code)
		plan(t, f)
		require.Equal(t, 0, f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c").code)
		r := f.run(t, nil, "apply", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "the saved plan is stale: the state changed since the plan was made (serial 1 then, 2 now; it may have been applied already)")
		assert.Len(t, f.api.Sends(), 2, "only the earlier applies sent")
	})

	t.Run("flags that a plan file fixes", func(t *testing.T) {
		f := newApplyFixture(t)
		plan(t, f)
		r := f.run(t, nil, "apply", "-target=message.a", "-replace=message.b", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "-target, -replace cannot be used with a plan file")
		assert.Empty(t, f.api.Arrivals())

		r = f.run(t, nil, "apply", "-exclude=message.a", "saved.plan")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "-exclude cannot be used with a plan file")
		assert.Empty(t, f.api.Arrivals())
	})
}

// TestApplyExclude: apply -exclude sends everything due but the excluded,
// which stay unsent and unrecorded for a later apply.
func TestApplyExclude(t *testing.T) {
	f := newApplyFixture(t)
	r := f.run(t, nil, "apply", "-auto-approve", at, "-exclude=message.b")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Equal(t, []string{"First for eng", "Only for sales"}, contents(f.api))
	assert.Contains(t, r.stdout, "1 excluded by -exclude.")
	assert.Equal(t, map[string]state.Status{"message.a": state.StatusSent, "message.c": state.StatusSent}, statuses(f.snapshot(t, state.DefaultPath)))

	// With -target: the targets minus the excluded.
	r = f.run(t, nil, "apply", "-auto-approve", at, "-target=message.b", "-target=message.later", "-exclude=message.later")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, contents(f.api))

	// An -exclude that matches nothing sends nothing.
	r = f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-02T09:00:00Z", "-exclude=message.nope")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "-exclude=message.nope matches no message in the configuration or the state")
	assert.Len(t, f.api.Sends(), 3)

	// -replace of a message only -exclude leaves out is refused too.
	r = f.run(t, nil, "apply", "-auto-approve", at, "-replace=message.a", "-exclude=message.a")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "-replace=message.a matches only messages that -exclude leaves out")
	assert.Len(t, f.api.Sends(), 3)
}

func TestApplySandbox(t *testing.T) {
	f := newApplyFixture(t)
	f.env = map[string]string{} // no credentials, no account
	r := f.run(t, nil, "apply", "-sandbox", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `sandbox received → thread t-eng (whatsapp) from +14155552671: "First for eng"`)
	assert.Contains(t, r.stdout, `sandbox received → thread t-sales (telegram) from +14155552671: "Only for sales"`)
	assert.Contains(t, r.stdout, "Apply complete: 3 sent")
	assert.Empty(t, f.api.Arrivals(), "the sandbox is in process")

	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath))
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".lock"))
	assert.Len(t, f.snapshot(t, SandboxStatePath).Records, 3)

	// The real apply still sends everything: the sandbox marked nothing.
	f.env = newApplyFixtureWith(t, f.api, f.url).env
	real := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, real.code, real.stderr)
	assert.Len(t, f.api.Sends(), 3)

	custom := f.run(t, nil, "apply", "-sandbox", "-auto-approve", at, "-state=elsewhere.json")
	require.Equal(t, 0, custom.code, custom.stderr)
	assert.Len(t, f.snapshot(t, "elsewhere.json").Records, 3)
}

func TestApplyJSONStream(t *testing.T) {
	f := newApplyFixture(t)
	f.api.Script(a1sandbox.Reply{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"0"}}})
	r := f.run(t, nil, "apply", "-auto-approve", "-json", at, "-parallelism=1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)

	var types []string
	var summary map[string]any
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for i, line := range lines {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), "line %d: %s", i+1, line)
		typ, _ := e["type"].(string)
		types = append(types, typ)
		ts, _ := e["timestamp"].(string)
		_, err := time.Parse(time.RFC3339Nano, ts)
		assert.NoError(t, err, "line %d has a timestamp", i+1)
		switch typ {
		case "send_start", "send_result", "retry":
			assert.Regexp(t, `^message\.[abc]$`, e["address"])
			assert.NotZero(t, e["attempt"])
		case "summary":
			summary = e["summary"].(map[string]any)
		}
	}
	assert.Equal(t, "plan", types[0])
	assert.Equal(t, "summary", types[len(types)-1])
	assert.Contains(t, types, "retry")
	count := func(typ string) int {
		n := 0
		for _, t := range types {
			if t == typ {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 4, count("send_start"), "three messages, one retried")
	assert.Equal(t, 4, count("send_result"))
	require.NotNil(t, summary)
	assert.EqualValues(t, 3, summary["sent"])
	assert.EqualValues(t, 4, summary["attempts"])

	refused := f.run(t, nil, "apply", "-json", at)
	assert.Equal(t, 1, refused.code)
	assert.Contains(t, refused.stderr, "-json needs -auto-approve")
}

func TestApplyLockHeld(t *testing.T) {
	f := newApplyFixture(t)
	holder := state.OpenLocal(filepath.Join(f.dir, state.DefaultPath))
	holder.SetOperation("herald apply")
	require.NoError(t, holder.Lock(context.Background(), 0))
	t.Cleanup(func() { holder.Close() })

	r := f.run(t, nil, "apply", "-auto-approve", at)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "state is locked: "+filepath.Join(f.dir, state.DefaultPath+".lock"))
	assert.Contains(t, r.stderr, "herald apply")
	assert.Empty(t, f.api.Arrivals())

	require.NoError(t, holder.Unlock())
	r = f.run(t, nil, "apply", "-auto-approve", at)
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestApplyProgressBar(t *testing.T) {
	f := newApplyFixture(t)
	r := f.run(t, func(e *Env) { e.StderrIsTerminal = true }, "apply", "-auto-approve", at, "-no-color")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "sending (3 sent)")
	assert.Contains(t, r.stderr, "3/3")
	assert.NotContains(t, r.stdout, "sent (attempt", "no per-message lines beside the bar")
	assert.Contains(t, r.stdout, "Apply complete: 3 sent")
}

func newGatedFixture(t *testing.T, pass int32) (*applyFixture, *a1sandbox.Gate) {
	t.Helper()
	api := a1sandbox.NewHandler(a1sandbox.WithClock(func() time.Time { return applyClock }))
	g := a1sandbox.NewGate(api, pass)
	srv := httptest.NewServer(g)
	t.Cleanup(func() { g.Open(); api.Close(); srv.Close() })
	return newApplyFixtureWith(t, api, srv.URL), g
}

func TestApplyInterrupted(t *testing.T) {
	f, g := newGatedFixture(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-g.Held()
		cancel()
		g.Open()
	}()
	r := f.runCtx(t, ctx, nil, "apply", "-auto-approve", at, "-parallelism=1")
	assert.Equal(t, 130, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "Interrupt received")
	assert.Contains(t, r.stdout, "Interrupted: 1 sent, 2 not started. Run apply again to continue.")
	snap := f.snapshot(t, state.DefaultPath)
	assert.Len(t, snap.Records, 1)
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusSent, rec.Status)
	}

	rest := f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, rest.code, rest.stderr)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, contents(f.api))
}

func TestApplyAborted(t *testing.T) {
	f, g := newGatedFixture(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	abort := make(chan struct{})
	go func() {
		<-g.Held()
		cancel()
		close(abort)
	}()
	r := f.runCtx(t, ctx, func(e *Env) { e.Abort = abort }, "apply", "-auto-approve", at, "-parallelism=1")
	assert.Equal(t, 130, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Aborted: 0 sent, 1 unknown, 2 not started.")
	snap := f.snapshot(t, state.DefaultPath)
	require.Len(t, snap.Records, 1)
	for _, rec := range snap.Records {
		assert.Equal(t, state.StatusUnknown, rec.Status)
	}
	assert.Empty(t, f.api.Sends(), "the held send never reached the fake")
	assert.NoFileExists(t, filepath.Join(f.dir, state.DefaultPath+".journal"))
}

// TestApplyRefusesForeignJournal: a journal left by a run on another state
// (another lineage) next to the state file stops apply before anything is
// sent; the journal and the state file stay byte for byte as they were, and
// the error says how to recover.
func TestApplyRefusesForeignJournal(t *testing.T) {
	f := newApplyFixture(t)
	// A state of its own, with one sent message.
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.a")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	statePath := filepath.Join(f.dir, state.DefaultPath)
	journalPath := statePath + ".journal"

	// Another state's run died with an attempt and its outcome in its
	// journal; its state file was then swapped for this one.
	other := filepath.Join(t.TempDir(), state.DefaultPath)
	ob := state.OpenLocal(other)
	require.NoError(t, ob.Lock(context.Background(), 0))
	for _, e := range []state.Event{
		{Kind: state.EventAttempt, Message: state.Message{Address: "message.c", ThreadID: "t-sales"}, Attempt: 1, At: applyClock},
		{Kind: state.EventOutcome, Message: state.Message{Address: "message.c", ThreadID: "t-sales"}, Attempt: 1, At: applyClock, Status: state.StatusSent, Outcome: "delivered"},
	} {
		require.NoError(t, ob.Record(context.Background(), e))
	}
	journal, err := os.ReadFile(other + ".journal")
	require.NoError(t, err)
	require.NoError(t, ob.Unlock())
	require.NoError(t, os.WriteFile(journalPath, journal, 0o600))
	stateBefore, err := os.ReadFile(statePath)
	require.NoError(t, err)
	sent := len(f.api.Sends())

	for _, args := range [][]string{{"apply", "-auto-approve", at}, {"plan", at}} {
		r = f.run(t, nil, args...)
		assert.Equal(t, 1, r.code, "%s: stdout:\n%s", args[0], r.stdout)
		assert.Contains(t, r.stderr, "belongs to another state", args[0])
		assert.Contains(t, r.stderr, "left unchanged", args[0])
		assert.Contains(t, r.stderr, "move the journal away", args[0])
		assert.Len(t, f.api.Sends(), sent, "%s sent with a foreign journal", args[0])
		got, err := os.ReadFile(journalPath)
		require.NoError(t, err)
		assert.Equal(t, journal, got, "%s changed the foreign journal", args[0])
		got, err = os.ReadFile(statePath)
		require.NoError(t, err)
		assert.Equal(t, stateBefore, got, "%s changed the state file", args[0])
	}

	// The way out the error names works: with the journal moved away,
	// apply goes on with this state's own records.
	require.NoError(t, os.Rename(journalPath, journalPath+".foreign"))
	r = f.run(t, nil, "apply", "-auto-approve", at)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, []string{"First for eng", "Only for sales", "Second for eng"}, contents(f.api))
}

// TestApplyGatewayErrorsAreNeverResent: a 502 or 504 may come from a
// gateway after A1Base processed the send, so herald does not retry it: the
// message is unknown until its thread shows it. Delivered, it is found and
// recorded as sent; not delivered, it stays unknown. Either way it reaches
// A1Base once, over any number of applies.
func TestApplyGatewayErrorsAreNeverResent(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status)+" after delivery", func(t *testing.T) {
			f := newApplyFixture(t)
			f.api.Script(a1sandbox.Reply{Status: status, Delivered: true})
			r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout, "message.c: unknown: ")
			assert.Contains(t, r.stdout, "message.c: found in its thread: recorded as sent")
			assert.NotContains(t, r.stdout, "retrying")
			rec := f.snapshot(t, state.DefaultPath).Records["message.c"]
			assert.Equal(t, state.StatusSent, rec.Status)
			assert.Len(t, rec.Attempts, 1)

			again := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
			require.Equal(t, 0, again.code, again.stdout+again.stderr)
			assert.Equal(t, []string{"Only for sales"}, contents(f.api), "delivered once")
			assert.Len(t, f.api.Arrivals(), 2, "one send and one look-up in all (the second apply has nothing to do)")
		})
		t.Run(http.StatusText(status)+" not delivered", func(t *testing.T) {
			f := newApplyFixture(t)
			f.api.Script(a1sandbox.Reply{Status: status})
			r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
			assert.Equal(t, 1, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout, "message.c: unknown: ")
			assert.Contains(t, r.stdout, "may or may not have been delivered")
			assert.Contains(t, r.stdout, "herald apply -replace=message.c")
			assert.NotContains(t, r.stdout, "retrying")
			for range 2 {
				again := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
				require.Equal(t, 0, again.code, again.stdout+again.stderr)
				assert.Contains(t, again.stdout, "message.c: not found in its thread (look-up at 2026-12-01T08:00:00Z read ")
				assert.Contains(t, again.stdout, "still unknown: too early to prove an absence")
				assert.Equal(t, state.StatusUnknown, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)
			}
			sends := 0
			for _, a := range f.api.Arrivals() {
				if a.Method == http.MethodPost {
					sends++
				}
			}
			assert.Equal(t, 1, sends, "an ambiguous gateway error is never sent again without -replace")
			assert.Empty(t, f.api.Sends())
		})
	}
}

// TestApplyMemberCopyIsNotTakenAsSent: a member of the group posts the
// message's exact text from their own number while herald's send of it is
// lost. Neither the look-up right after the lost answer nor the next
// apply's reconciliation takes the member's copy for herald's delivery.
func TestApplyMemberCopyIsNotTakenAsSent(t *testing.T) {
	f := newApplyFixture(t)
	f.api.AddThreadMessage("t-sales", "+19995550123", "Only for sales", applyClock)
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "message.c: unknown: ")
	assert.NotContains(t, r.stdout, "found in its thread")

	again := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
	require.Equal(t, 0, again.code, again.stdout+again.stderr)
	assert.Contains(t, again.stdout, "message.c: not found in its thread (look-up at 2026-12-01T08:00:00Z read ")
	assert.Contains(t, again.stdout, "still unknown: too early to prove an absence")
	assert.Equal(t, state.StatusUnknown, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)
	assert.Empty(t, f.api.Sends())
}

// TestApplySettlesUnknowns: an unknown send is looked up again by later
// applies; once a look-up made unknown_settle after the attempt proves it
// was not delivered, it is recorded so with the evidence, and then held
// (on_unknown = "hold", the default) or sent again ("resend"). Plan says
// which, and on what evidence; state show prints the evidence.
func TestApplySettlesUnknowns(t *testing.T) {
	for _, policy := range []string{"hold", "resend"} {
		t.Run(policy, func(t *testing.T) {
			f := newApplyFixture(t)
			if policy == "resend" {
				path := filepath.Join(f.dir, "main.hcl")
				src, err := os.ReadFile(path)
				require.NoError(t, err)
				src = bytes.Replace(src, []byte(`service   = "telegram"`), []byte("service   = \"telegram\"\n  on_unknown = \"resend\""), 1)
				require.NoError(t, os.WriteFile(path, src, 0o644))
			}
			f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
			r := f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c")
			require.Equal(t, 1, r.code, r.stdout+r.stderr)

			// Before the settle time: a look-up proves nothing, and says so.
			early := f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-01T08:02:00Z", "-target=message.c")
			require.Equal(t, 0, early.code, early.stdout+early.stderr)
			assert.Contains(t, early.stdout, "still unknown: too early to prove an absence")
			assert.Equal(t, state.StatusUnknown, f.snapshot(t, state.DefaultPath).Records["message.c"].Status)

			p := f.run(t, nil, "plan", "-json", "-at=2026-12-01T08:05:00Z", "-target=message.c")
			require.Equal(t, 0, p.code, p.stderr)
			var doc views.PlanDocument
			require.NoError(t, json.Unmarshal([]byte(p.stdout), &doc))
			require.Len(t, doc.Changes, 1)
			c := doc.Changes[0]
			assert.Equal(t, "unknown", c.Action)
			require.NotNil(t, c.Settlement)
			assert.Equal(t, state.StatusUnknown, c.Settlement.State)
			assert.Equal(t, policy, c.Settlement.OnUnknown)
			assert.Equal(t, policy == "resend", c.Settlement.Resend)
			assert.Equal(t, "5m0s", c.Settlement.UnknownSettle)
			require.NotNil(t, c.Settlement.LookUp)
			assert.Contains(t, c.Settlement.LookUp.Unsettled, "too early")
			assert.Contains(t, c.Reason, "on_unknown = "+policy)

			settled := f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-01T08:10:00Z", "-target=message.c")
			require.Equal(t, 0, settled.code, settled.stdout+settled.stderr)
			assert.Contains(t, settled.stdout, "message.c: not delivered, proven by look-up at 2026-12-01T08:10:00Z read 0 messages (the thread holds only these 0, fewer than a page of 5)")
			rec := f.snapshot(t, state.DefaultPath).Records["message.c"]
			require.NotEmpty(t, rec.Attempts)
			first := rec.Attempts[0]
			assert.Equal(t, state.OutcomeAbsent, first.Outcome)
			require.NotNil(t, first.LookUp)
			assert.Equal(t, time.Date(2026, 12, 1, 8, 10, 0, 0, time.UTC), first.LookUp.At)

			show := f.run(t, nil, "state", "show", "message.c")
			require.Equal(t, 0, show.code, show.stderr)
			assert.Contains(t, show.stdout, "look-up at 2026-12-01T08:10:00Z read 0 messages")
			assert.Contains(t, show.stdout, "covers the attempt: the thread holds only these 0, fewer than a page of 5")

			if policy == "hold" {
				assert.Equal(t, state.StatusNotDelivered, rec.Status)
				assert.Empty(t, f.api.Sends(), "held: nothing sent again")
				assert.Contains(t, settled.stdout, "on_unknown = hold: not sent again unless -replace=message.c")
				after := f.run(t, nil, "plan", "-at=2026-12-01T08:20:00Z", "-target=message.c")
				assert.Contains(t, after.stdout, "message.c was not delivered, proven by look-up (held: not resent)")
				assert.Contains(t, after.stdout, `check that thread "t-sales" shows no "Only for sales" from +14155552671 between 2026-12-01T07:58:00Z and 2026-12-01T08:02:00Z, then -replace=message.c sends it`)
				again := f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-01T08:30:00Z", "-target=message.c")
				require.Equal(t, 0, again.code, again.stdout+again.stderr)
				assert.Empty(t, f.api.Sends(), "a held absence is neither looked up nor sent again")
				replaced := f.run(t, nil, "apply", "-auto-approve", "-at=2026-12-01T08:30:00Z", "-replace=message.c", "-target=message.c")
				require.Equal(t, 0, replaced.code, replaced.stdout+replaced.stderr)
				assert.Equal(t, []string{"Only for sales"}, f.api.Contents())
				return
			}
			assert.Equal(t, state.StatusSent, rec.Status, "resent in the same apply")
			assert.Equal(t, []string{"Only for sales"}, f.api.Contents(), "sent once: the first attempt never arrived")
			assert.Len(t, rec.Attempts, 2)
		})
	}
}

// TestPlanShowsProvenAbsenceAsRetry: under on_unknown = "resend", a
// message proven not delivered is planned as a retry whose reason and
// settlement carry the evidence; past its expiry it expires instead.
func TestPlanShowsProvenAbsenceAsRetry(t *testing.T) {
	f := newApplyFixture(t)
	path := filepath.Join(f.dir, "main.hcl")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	src = bytes.Replace(src, []byte(`from       = "+14155552671"`), []byte("from       = \"+14155552671\"\n  on_unknown = \"resend\"\n  unknown_settle = \"3m\""), 1)
	require.NoError(t, os.WriteFile(path, src, 0o644))
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	require.Equal(t, 1, f.run(t, nil, "apply", "-auto-approve", at, "-target=message.c").code)
	// A saved plan applies what it showed: the look-up settles, the resend
	// waits for the next plan.
	require.Equal(t, 0, f.run(t, nil, "plan", "-out=p.plan", "-at=2026-12-01T08:04:00Z", "-target=message.c").code)
	r := f.run(t, func(e *Env) { e.Now = func() time.Time { return time.Date(2026, 12, 1, 8, 4, 0, 0, time.UTC) } }, "apply", "p.plan")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "not delivered, proven by look-up")
	assert.Empty(t, f.api.Sends())

	p := f.run(t, nil, "plan", "-json", "-at=2026-12-01T08:03:00Z", "-target=message.c")
	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(p.stdout), &doc))
	require.Len(t, doc.Changes, 1)
	c := doc.Changes[0]
	assert.Equal(t, "retry", c.Action)
	assert.Contains(t, c.Reason, "not delivered, proven by look-up at 2026-12-01T08:04:00Z read 0 messages")
	assert.Contains(t, c.Reason, "on_unknown = resend: sent again within window")
	require.NotNil(t, c.Settlement)
	assert.Equal(t, state.StatusNotDelivered, c.Settlement.State)
	assert.True(t, c.Settlement.Resend)
	assert.Equal(t, "3m0s", c.Settlement.UnknownSettle)
	require.NotNil(t, c.Settlement.LookUp)
	assert.Contains(t, c.Settlement.LookUp.Covered, "fewer than a page")
	human := f.run(t, nil, "plan", "-at=2026-12-01T08:05:00Z", "-target=message.c")
	assert.Contains(t, human.stdout, "message.c will be sent again (not delivered, proven by look-up)")

	late := f.run(t, nil, "plan", "-json", "-at=2026-12-03T08:00:00Z", "-target=message.c")
	require.NoError(t, json.Unmarshal([]byte(late.stdout), &doc))
	assert.Equal(t, "expire", doc.Changes[0].Action)
	assert.Contains(t, doc.Changes[0].Reason, "not delivered, proven by look-up")
}

// TestApplyThreadWaitsForItsUnknown: a send whose answer is lost and that
// the thread does not show holds the rest of its thread, in the run and
// in every plan, until its unknown_settle has passed; then the look-up
// settles it and the thread sends again.
func TestApplyThreadWaitsForItsUnknown(t *testing.T) {
	f := newApplyFixture(t)
	f.api.Script(a1sandbox.Reply{Lost: true, Undelivered: true})
	eng := []string{"-target=message.a", "-target=message.b"}
	r := f.run(t, nil, append([]string{"apply", "-auto-approve", at}, eng...)...)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "Apply complete: 0 sent, 0 failed, 0 expired, 1 unknown, 1 waiting.")
	assert.Contains(t, r.stdout, "message.b: not sent: message.a became unknown earlier in its thread")
	assert.Empty(t, contents(f.api), "message.a was not delivered, and message.b not sent")
	snap := f.snapshot(t, state.DefaultPath)
	assert.Equal(t, state.StatusUnknown, snap.Records["message.a"].Status)
	assert.Nil(t, snap.Records["message.b"], "a held message is not recorded")

	// Before the settle time, plans hold it and say until when; apply
	// sends nothing to the thread.
	p := f.run(t, nil, "plan", "-json", "-at=2026-12-01T08:02:00Z", "-target=message.b")
	require.Equal(t, 0, p.code, p.stderr)
	var doc views.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(p.stdout), &doc))
	require.Len(t, doc.Changes, 1)
	c := doc.Changes[0]
	assert.Equal(t, "wait", c.Action)
	assert.Equal(t, []string{"message.a"}, c.WaitsFor)
	require.NotNil(t, c.WaitsUntil)
	settles := c.WaitsUntil
	assert.WithinDuration(t, applyClock.Add(spec.DefaultUnknownSettle), *settles, 2*time.Second)
	assert.Contains(t, c.Reason, "waits for message.a to settle, until "+settles.Format(time.RFC3339))
	early := f.run(t, nil, append([]string{"apply", "-auto-approve", "-at=2026-12-01T08:02:00Z"}, eng...)...)
	assert.Empty(t, contents(f.api), early.stdout)
	assert.Contains(t, early.stdout, "Nothing to send or expire now.")

	// After it: the look-up proves message.a absent (held, on_unknown =
	// hold) and the thread goes on.
	later := f.run(t, nil, append([]string{"apply", "-auto-approve", "-at=2026-12-01T08:10:00Z"}, eng...)...)
	assert.Contains(t, later.stdout, "message.b: sent")
	assert.Equal(t, []string{"Second for eng"}, contents(f.api))
	snap = f.snapshot(t, state.DefaultPath)
	assert.Equal(t, state.StatusNotDelivered, snap.Records["message.a"].Status)
	assert.Equal(t, state.StatusSent, snap.Records["message.b"].Status)
}
