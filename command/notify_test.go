package command

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/command/views"
	"github.com/heraldhq/herald/internal/testkit"
	"github.com/heraldhq/herald/notify"
	"github.com/heraldhq/herald/operation"
	"github.com/heraldhq/herald/spec"
	"github.com/heraldhq/herald/state"
)

const notifyHCL = `
variable "ops_hook_url" {
  type      = string
  sensitive = true
}
variable "ops_hook_secret" {
  type      = string
  sensitive = true
}

notify "ops" {
  webhook {
    url    = var.ops_hook_url
    secret = var.ops_hook_secret
  }
  events = ["expired", "failed", "apply_summary"]
}

message "stale" {
  group   = group.eng
  send_at = "2026-11-28T07:00:00Z"
  text    = "Too late for anyone"
}
`

const notifySecret = "whsec-cmd-2f9a7c"

// hookReceiver is a fake webhook receiver on loopback that fails the
// first fail requests with 503.
type hookReceiver struct {
	mu   sync.Mutex
	fail int
	got  []*http.Request
	body [][]byte
	srv  *httptest.Server
}

func newHookReceiver(t *testing.T, fail int) *hookReceiver {
	h := &hookReceiver{fail: fail}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got = append(h.got, r)
		h.body = append(h.body, b)
		if len(h.got) <= h.fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) delivered() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for i, r := range h.got {
		if i >= h.fail {
			out[r.Header.Get(notify.HeaderEvent)] = r.Header.Get(notify.HeaderEventID)
		}
	}
	return out
}

func newNotifyFixture(t *testing.T, hookURL string) *applyFixture {
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(notifyHCL), 0o644))
	f.env["HERALD_VAR_ops_hook_url"] = hookURL
	f.env["HERALD_VAR_ops_hook_secret"] = notifySecret
	return f
}

// TestApplyNotifies: apply records an expired and a summary notification
// once its state is saved and delivers them, signed, after a 503.
func TestApplyNotifies(t *testing.T) {
	h := newHookReceiver(t, 1)
	f := newNotifyFixture(t, h.srv.URL+"/herald")
	var mu sync.Mutex
	slept := time.Duration(0)
	res := f.run(t, func(e *Env) {
		// A fake clock that sleeping moves on: the retry's backoff
		// passes at once.
		e.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return applyClock.Add(slept) }
		e.Sleep = func(_ context.Context, d time.Duration) error { mu.Lock(); defer mu.Unlock(); slept += d; return nil }
	}, "apply", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Notifications: 2 recorded, 2 delivered.")
	require.Contains(t, res.stdout, `Warning: notify "ops": answered 503`)
	got := h.delivered()
	require.Len(t, got, 2)
	require.Contains(t, got, "expired")
	require.Contains(t, got, "apply_summary")
	h.mu.Lock()
	for i, r := range h.got {
		require.True(t, notify.Verify(notifySecret, r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), h.body[i]))
		require.NotContains(t, string(h.body[i]), notifySecret)
		require.NotContains(t, string(h.body[i]), "Too late for anyone")
	}
	h.mu.Unlock()
	for _, out := range []string{res.stdout, res.stderr} {
		require.NotContains(t, out, notifySecret)
		require.NotContains(t, out, h.srv.URL)
	}
	// The state file and the outbox hold neither the secret nor the URL.
	for _, name := range []string{state.DefaultPath, state.DefaultPath + ".outbox"} {
		data, err := os.ReadFile(filepath.Join(f.dir, name))
		require.NoError(t, err)
		require.NotContains(t, string(data), notifySecret, name)
		require.NotContains(t, string(data), h.srv.URL, name)
	}
}

// TestApplyNotifyAfterKill records without delivering (as a kill -9
// between the two would leave it: -notify-timeout=0 stops after the
// recording), and the next apply delivers with the same event id.
func TestApplyNotifyAfterKill(t *testing.T) {
	h := newHookReceiver(t, 0)
	f := newNotifyFixture(t, h.srv.URL+"/herald")
	res := f.run(t, nil, "apply", "-auto-approve", "-no-color", "-notify-timeout=0", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Notifications: 2 recorded, 0 delivered, 2 waiting for the next apply or run.")
	require.Empty(t, h.delivered())
	pending, err := state.OpenLocal(filepath.Join(f.dir, state.DefaultPath)).Pending(context.Background(), applyClock.Add(time.Hour), 0)
	require.NoError(t, err)
	ids := map[string]string{}
	for _, n := range pending {
		ids[n.Kind] = n.ID
	}

	res = f.run(t, nil, "apply", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Equal(t, ids, h.delivered(), "the next apply delivers the same events with the same ids")
}

// TestApplySandboxCapturesNotifications: with -sandbox nothing is sent;
// the notifications are printed and kept in a file.
func TestApplySandboxCapturesNotifications(t *testing.T) {
	h := newHookReceiver(t, 0)
	f := newNotifyFixture(t, h.srv.URL+"/herald")
	res := f.run(t, nil, "apply", "-sandbox", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Empty(t, h.delivered(), "the sandbox sent a notification")
	require.Contains(t, res.stdout, "sandbox notify ops (webhook) ← expired evt_")
	require.Contains(t, res.stdout, "Notifications: 2 recorded, 2 captured by the sandbox.")
	data, err := os.ReadFile(filepath.Join(f.dir, SandboxStatePath+sandboxNotificationsSuffix))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	var c views.CapturedNotification
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &c))
	require.Equal(t, "ops", c.Notify)
	require.NotContains(t, string(data), notifySecret)
	_, err = os.Stat(filepath.Join(f.dir, state.DefaultPath+".outbox"))
	require.True(t, os.IsNotExist(err), "the sandbox wrote the real state's outbox")
}

const runNotifyHCL = `
variable "ops_hook_url" {
  type      = string
  sensitive = true
}

notify "ops" {
  webhook { url = var.ops_hook_url }
  events  = ["apply_summary", "failed"]
}
`

// TestRunOnceNotifies: run -once records and delivers like apply.
func TestRunOnceNotifies(t *testing.T) {
	h := newHookReceiver(t, 0)
	f := newRunFixture(t, "schedule")
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(runNotifyHCL), 0o644))
	f.env["HERALD_VAR_ops_hook_url"] = h.srv.URL + "/hook"
	f.clock.now = runStart.Add(150 * time.Minute)
	r := f.run(t, time.Time{}, "-once")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, h.delivered(), "apply_summary")
	require.Contains(t, r.stdout, "notifications: 1 delivered")
}

// TestRunDeliversInTheBackground: a long-running run delivers what its
// pass recorded from its background deliverer; the run is stopped by the
// receiver once the notification arrived.
func TestRunDeliversInTheBackground(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHookReceiver(t, 0)
	inner := h.srv.Config.Handler
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		cancel()
	})
	f := newRunFixture(t, "schedule")
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(runNotifyHCL), 0o644))
	f.env["HERALD_VAR_ops_hook_url"] = h.srv.URL + "/hook"
	f.clock.now = runStart.Add(150 * time.Minute)
	done := make(chan result, 1)
	go func() {
		done <- f.runCtx(t, ctx, func(e *Env) {
			e.Now = f.clock.Now
			// The run sleeps on the fake clock, a little at a time, so that
			// the test's receiver stops it.
			e.Sleep = func(ctx context.Context, d time.Duration) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(5 * time.Millisecond):
				}
				return nil
			}
		}, "run", "-parallelism=1")
	}()
	select {
	case r := <-done:
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		require.Contains(t, h.delivered(), "apply_summary")
	case <-time.After(30 * time.Second):
		t.Fatal("run did not deliver its notification within 30s")
	}
}

// TestRunRecordsTakeover: a replica that takes the lock over records a
// takeover notification at its next pass, once.
func TestRunRecordsTakeover(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
notify "ops" {
  webhook { url = "https://ops.example/herald" }
  events  = ["takeover"]
}
`), 0o644))
	cfg, diags := spec.Load(dir, spec.LoadOptions{Getenv: func(string) string { return "" }})
	require.False(t, diags.HasErrors(), diags.Error())
	var out strings.Builder
	env := &Env{Dir: dir, Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Version: "1.2.3"}
	opts := &runOptions{}
	opts.StatePath = filepath.Join(dir, "replica.state.json")
	view := views.NewRun(views.RunLinesFormat, newView(env, true), func() time.Time { return applyClock })
	n := newRunNotifier(env, opts, view, func() time.Time { return applyClock })
	defer n.close()
	runEvents{Run: view, n: n}.TookOver()
	n.passed(context.Background(), cfg, operation.Outcome{}, nil)
	n.passed(context.Background(), cfg, operation.Outcome{}, nil)
	pending, err := state.OpenLocal(opts.StatePath).Pending(context.Background(), applyClock.Add(time.Hour), 0)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, "takeover", pending[0].Kind)
	require.Contains(t, out.String(), "notifications: 1 recorded")
}

// TestPlanShowsNotifications: plan says what an apply would notify, and
// names neither the URL nor the secret.
func TestPlanShowsNotifications(t *testing.T) {
	f := newNotifyFixture(t, "https://ops.example/herald?token=PLANTOKEN")
	res := f.run(t, nil, "plan", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Notifications: apply would notify ops of 1 expired, 1 apply_summary (and of any send that fails).\n")
	js := f.run(t, nil, "plan", "-json", at)
	require.Equal(t, 0, js.code, js.stderr)
	require.Contains(t, js.stdout, `"notifications": [
    {
      "notify": "ops",
      "events": {
        "apply_summary": 1,
        "expired": 1
      },
      "if_sends_fail": [
        "failed"
      ]
    }
  ]`)
	md := f.run(t, nil, "plan", "-markdown", at)
	require.Equal(t, 0, md.code, md.stderr)
	require.Contains(t, md.stdout, "Notifications: apply would notify ops of 1 expired, 1 apply\\_summary (and of any send that fails).\n")
	for _, s := range []string{"PLANTOKEN", notifySecret} {
		require.NotContains(t, res.stdout+res.stderr+js.stdout+md.stdout, s)
	}
}

// TestSandboxReceivesNotifications: herald sandbox takes the
// notifications of an apply pointed at it, checks their signature and
// keeps them in a file; a wrong secret is refused.
func TestSandboxReceivesNotifications(t *testing.T) {
	var out, errOut testkit.SyncBuffer
	kept := filepath.Join(t.TempDir(), "notifications.jsonl")
	env := &Env{
		Dir: t.TempDir(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" }, Now: time.Now,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, env, []string{"sandbox", "-listen=127.0.0.1:0", "-no-color", "-notify-secret=" + notifySecret, "-notifications=" + kept})
	}()
	m := waitFor(t, &out, done, regexp.MustCompile(`export A1BASE_BASE_URL=(http://127\.0\.0\.1:\d+)/v1\n`))

	f := newNotifyFixture(t, m[1]+"/notify/ops")
	f.env["A1BASE_BASE_URL"] = m[1] + "/v1"
	res := f.run(t, nil, "apply", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Notifications: 2 recorded, 2 delivered.")
	waitFor(t, &out, done, regexp.MustCompile(`sandbox notify ops \(webhook\) ← expired evt_\w+: .* \(signature verified\)`))
	data, err := os.ReadFile(kept)
	require.NoError(t, err)
	require.Len(t, strings.Split(strings.TrimSpace(string(data)), "\n"), 2)
	require.NotContains(t, string(data), notifySecret)

	// Another secret: refused, and left pending.
	g := newNotifyFixture(t, m[1]+"/notify/ops")
	g.env["A1BASE_BASE_URL"] = m[1] + "/v1"
	g.env["HERALD_VAR_ops_hook_secret"] = "not-the-secret"
	res = g.run(t, nil, "apply", "-auto-approve", "-no-color", "-notify-timeout=1s", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "answered 401 Unauthorized")
	require.Contains(t, res.stdout, "2 waiting for the next apply or run")
	cancel()
	require.Equal(t, 0, <-done)
}

// TestApplyNotifiesGroup: a group destination is sent through herald's
// own client, after the broadcasts, and is no broadcast: not in state,
// not in the summary.
func TestApplyNotifiesGroup(t *testing.T) {
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(`
group "organisers" {
  thread_id = "t-organisers"
}

notify "organisers" {
  group  = group.organisers
  events = ["expired", "apply_summary"]
}

message "stale" {
  group   = group.eng
  send_at = "2026-11-28T07:00:00Z"
  text    = "Too late for anyone"
}
`), 0o644))
	res := f.run(t, nil, "apply", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Apply complete: 3 sent, 0 failed, 1 expired, 0 unknown.")
	require.Contains(t, res.stdout, "Notifications: 2 recorded, 2 delivered.")
	var toOrganisers []string
	for _, s := range f.api.Sends() {
		if s.Request.ThreadID == "t-organisers" {
			toOrganisers = append(toOrganisers, s.Request.Content)
		}
	}
	require.Len(t, toOrganisers, 2)
	sortStrings(toOrganisers)
	require.True(t, strings.HasPrefix(toOrganisers[0], "[herald] apply_summary: herald apply: 3 sent, 0 failed, 0 unknown, 1 expired"), toOrganisers[0])
	require.True(t, strings.HasPrefix(toOrganisers[1], "[herald] expired: message.stale to group eng expired unsent"), toOrganisers[1])
	snap := f.snapshot(t, state.DefaultPath)
	for addr, r := range snap.Records {
		require.NotEqual(t, "t-organisers", r.ThreadID, "%s: a notification was recorded as a broadcast", addr)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestApplyNotifiesGroupWithNothingDue: an apply with nothing to send
// still delivers a group notification a previous apply left pending.
func TestApplyNotifiesGroupWithNothingDue(t *testing.T) {
	f := newApplyFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(`
group "organisers" {
  thread_id = "t-organisers"
}

notify "organisers" {
  group  = group.organisers
  events = ["apply_summary"]
}
`), 0o644))
	res := f.run(t, nil, "apply", "-auto-approve", "-no-color", "-notify-timeout=0", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "1 waiting for the next apply or run")
	res = f.run(t, nil, "apply", "-auto-approve", "-no-color", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Contains(t, res.stdout, "Notifications: 0 recorded, 1 delivered.")
	n := 0
	for _, s := range f.api.Sends() {
		if s.Request.ThreadID == "t-organisers" {
			n++
		}
	}
	require.Equal(t, 1, n)
}

// TestApplyJSONNotifications: -json ends with a notifications object.
func TestApplyJSONNotifications(t *testing.T) {
	h := newHookReceiver(t, 0)
	f := newNotifyFixture(t, h.srv.URL+"/herald")
	res := f.run(t, nil, "apply", "-auto-approve", "-json", at)
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var last struct {
		Type          string `json:"type"`
		Notifications struct {
			Recorded  int `json:"recorded"`
			Delivered int `json:"delivered"`
		} `json:"notifications"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	require.Equal(t, "notifications", last.Type)
	require.Equal(t, 2, last.Notifications.Recorded)
	require.Equal(t, 2, last.Notifications.Delivered)
	require.NotContains(t, res.stdout, notifySecret)
}

// TestRunSandboxCapturesNotifications: run -sandbox -once sends no
// notification and keeps what it would have sent.
func TestRunSandboxCapturesNotifications(t *testing.T) {
	h := newHookReceiver(t, 0)
	f := newRunFixture(t, "schedule")
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "notify.hcl"), []byte(runNotifyHCL), 0o644))
	f.env["HERALD_VAR_ops_hook_url"] = h.srv.URL + "/hook"
	f.clock.now = runStart.Add(150 * time.Minute)
	r := f.run(t, time.Time{}, "-once", "-sandbox")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Empty(t, h.delivered())
	require.Contains(t, r.stdout, "sandbox notify ops (webhook) ← apply_summary evt_")
	data, err := os.ReadFile(filepath.Join(f.dir, SandboxStatePath+sandboxNotificationsSuffix))
	require.NoError(t, err)
	require.Contains(t, string(data), `"event":"apply_summary"`)
}
